package main

import (
	"fmt"
	"io"
)

// printInterpreters lists, under `local status` of an embedded engine, the
// interpreter it runs each Python and Node.js runtime with on this machine.
func printInterpreters(w io.Writer, rep *localStatusReport) {
	if len(rep.Interpreters) == 0 {
		return // no embedded engine answered
	}
	fmt.Fprintln(w, "\nfunction interpreters on this machine (embedded engine):")
	for _, in := range rep.Interpreters {
		switch {
		case in.Path == "":
			fmt.Fprintf(w, "  %-12s none found\n", in.Runtime)
		case in.Exact:
			fmt.Fprintf(w, "  %-12s %s (%s)\n", in.Runtime, in.Path, in.Version)
		default:
			fmt.Fprintf(w, "  %-12s %s (%s; not of this version: none found on PATH, pyenv, nvm, volta)\n", in.Runtime, in.Path, in.Version)
		}
	}
}
