package flow

import (
	"fmt"
	"io"
	"strings"
)

// Formats are the drawings Write knows.
var Formats = []string{"text", "mermaid", "dot", "svg"}

// Write draws g in format: text, mermaid, dot or svg.
func Write(w io.Writer, g *Graph, format string) error {
	switch format {
	case "text":
		return Text(w, g)
	case "mermaid":
		return Mermaid(w, g)
	case "dot":
		return DOT(w, g)
	case "svg":
		return SVG(w, g)
	}
	return fmt.Errorf("unknown format %q: use one of %s", format, strings.Join(Formats, ", "))
}

// arrows are the text drawing's arrow per edge kind.
var arrows = map[EdgeKind]string{Trigger: "──▶", Route: "══▶", Async: "┈┈▶", Grant: "··▶"}

// Text draws the graph for a terminal: the columns, then every edge grouped
// by kind, aligned.
func Text(w io.Writer, g *Graph) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: event flow, left to right\n\n", g.App)
	for i, col := range g.Columns() {
		ids := make([]string, len(col))
		for j, n := range col {
			ids[j] = n.ID
		}
		fmt.Fprintf(&b, "  %d %-22s %s\n", i+1, ColumnTitle(col), strings.Join(ids, ", "))
	}
	width := 0
	for _, e := range g.Edges {
		width = max(width, len(e.From))
	}
	titles := map[EdgeKind]string{
		Trigger: "Triggers (source ──▶ function)",
		Route:   "Routes (router ══▶ router)",
		Async:   "Async destinations (function ┈┈▶ destination)",
		Grant:   "Grants, from uses (function ··▶ what it may write to)",
	}
	for _, k := range []EdgeKind{Trigger, Route, Async, Grant} {
		first := true
		for _, e := range g.Edges {
			if e.Kind != k {
				continue
			}
			if first {
				fmt.Fprintf(&b, "\n%s\n", titles[k])
				first = false
			}
			label := ""
			if e.Label != "" {
				label = "  [" + e.Label + "]"
			}
			fmt.Fprintf(&b, "  %-*s %s %s%s\n", width, e.From, arrows[k], e.To, label)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
