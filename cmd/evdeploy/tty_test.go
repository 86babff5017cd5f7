package main

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/creack/pty"
)

// ptyRun runs the evdeploy binary with a pseudo-terminal as its stdin, stdout
// and stderr, as a user at a terminal would, and returns everything it wrote
// (terminal line endings included) and its exit code.
func ptyRun(t *testing.T, env []string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(evdeployBinary(t), args...)
	cmd.Env = append(os.Environ(), env...)
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: 120})
	if err != nil {
		t.Fatalf("pty: %v", err)
	}
	defer f.Close()
	var out bytes.Buffer
	// Reading the master ends with EIO once the child has exited and closed
	// the terminal (Linux), or EOF elsewhere.
	if _, err := io.Copy(&out, f); err != nil && !errors.Is(err, syscall.EIO) {
		t.Fatalf("reading the terminal: %v", err)
	}
	err = cmd.Wait()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), code
}

// At a terminal evdeploy colours diagnostics and plans; NO_COLOR and
// --no-color leave no escape code in any command's output.
func TestNoColorAtTerminal(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bad := t.TempDir()
	if err := os.WriteFile(filepath.Join(bad, "evdeploy.evd.hcl"), []byte("app \"x\" {}\n\nqueue \"q\" {\n  visibility_timeout = \"forever\"\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	good := smallProject(t)
	unformatted := t.TempDir()
	if err := os.WriteFile(filepath.Join(unformatted, "evdeploy.evd.hcl"), []byte("app \"x\" {}\nqueue \"q\" {\nvisibility_timeout=\"30s\"\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// The coloured run proves the terminal is seen as one: without it the
	// NO_COLOR runs below would pass for the wrong reason.
	out, _ := ptyRun(t, []string{"NO_COLOR="}, "validate", "-C", bad)
	if !strings.Contains(out, "\x1b[") {
		t.Fatalf("validate at a terminal printed no colour; is the pty a terminal?\n%q", out)
	}
	commands := [][]string{
		{"validate", "-C", bad},
		{"validate", "-C", good},
		{"fmt", "--check", "--diff", "-C", unformatted},
		{"init", "--list"},
		{"version"},
		{"--help"},
		{"apply", "--help"},
		{"state", "list", "-C", good},
		{"graph", "-C", good},
		{"graph", "--format", "svg", "-C", good},
		{"output", "-C", good},
		{"plan", "-C", good, "--target", "aws", "--region", "us-east-1", "--profile", "evdeploy-no-such-profile"},
	}
	for _, args := range commands {
		for _, how := range []struct {
			env  []string
			args []string
		}{{[]string{"NO_COLOR=1"}, args}, {[]string{"NO_COLOR="}, append([]string{"--no-color"}, args...)}} {
			out, _ := ptyRun(t, how.env, how.args...)
			if i := strings.Index(out, "\x1b"); i >= 0 {
				t.Errorf("%v evdeploy %s: escape code in the output at byte %d:\n%q", how.env, strings.Join(how.args, " "), i, out)
			}
		}
	}
}
