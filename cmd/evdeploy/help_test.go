package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// Every command a user can reach says what it does and shows how to use it.
// A new command without them fails here: give its cobra.Command a Short (one
// line), a Long (what it does, when to use it) and an Example (indented
// "  evdeploy …" lines a user can paste).
func TestHelpHasDescriptionAndExample(t *testing.T) {
	f := &Factory{IO: &IOStreams{Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}}, Global: &GlobalOptions{}}
	root := newRootCmd(f)
	// cobra adds `completion` only when the command runs; add it now so it is
	// checked like the rest.
	root.InitDefaultCompletionCmd()
	var walk func(c *cobra.Command)
	n := 0
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			walk(sub)
		}
		if c.Hidden || c.Name() == "help" {
			return
		}
		n++
		path := c.CommandPath()
		var missing []string
		if strings.TrimSpace(c.Short) == "" {
			missing = append(missing, "Short (a one-line description)")
		}
		if strings.TrimSpace(c.Long) == "" {
			missing = append(missing, "Long (what it does and when to use it)")
		}
		if !strings.Contains(c.Example, "evdeploy ") {
			missing = append(missing, `Example (at least one indented "  evdeploy …" line)`)
		}
		if len(missing) > 0 {
			t.Errorf("`%s --help` lacks %s: set them on its cobra.Command (see cmd/evdeploy/init.go for the shape)",
				path, strings.Join(missing, " and "))
		}
	}
	walk(root)
	if n < 10 {
		t.Fatalf("walked only %d commands", n)
	}
}
