package flow

import (
	"fmt"
	"io"
	"strings"
)

// mermaidID makes a node ID safe as a Mermaid identifier.
func mermaidID(id string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '_'
	}, id)
}

// mermaidText quotes a label: Mermaid takes "…" strings, with #quot; for a
// quote inside.
func mermaidText(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, "#quot;") + `"`
}

// mermaidShape wraps a label in the node shape for its kind.
func mermaidShape(n *Node) string {
	label := mermaidText(n.ID + "<br/><small>" + n.Detail + "</small>")
	switch n.Kind {
	case "function":
		return "(" + label + ")"
	case "queue", "stream":
		return "[[" + label + "]]"
	case "topic", "bus":
		return "{{" + label + "}}"
	case "table", "bucket":
		return "[(" + label + ")]"
	case "schedule":
		return "([" + label + "])"
	}
	return "[" + label + "]"
}

// Mermaid draws a flowchart for READMEs (GitHub renders it): one subgraph
// per column, left to right; triggers solid, routes thick, async dotted,
// grants dotted and grey.
func Mermaid(w io.Writer, g *Graph) error {
	var b strings.Builder
	b.WriteString("flowchart LR\n")
	for i, col := range g.Columns() {
		fmt.Fprintf(&b, "  subgraph c%d [%s]\n", i+1, mermaidText(ColumnTitle(col)))
		b.WriteString("    direction TB\n")
		for _, n := range col {
			fmt.Fprintf(&b, "    %s%s\n", mermaidID(n.ID), mermaidShape(n))
		}
		b.WriteString("  end\n")
	}
	arrow := map[EdgeKind]string{Trigger: "-->", Route: "==>", Async: "-.->", Grant: "-.->"}
	var grants, async []int
	for i, e := range g.Edges {
		l := ""
		if e.Label != "" {
			l = "|" + mermaidText(e.Label) + "|"
		}
		fmt.Fprintf(&b, "  %s %s%s %s\n", mermaidID(e.From), arrow[e.Kind], l, mermaidID(e.To))
		switch e.Kind {
		case Grant:
			grants = append(grants, i)
		case Async:
			async = append(async, i)
		}
	}
	linkStyle := func(idx []int, style string) {
		if len(idx) == 0 {
			return
		}
		s := make([]string, len(idx))
		for i, n := range idx {
			s[i] = fmt.Sprint(n)
		}
		fmt.Fprintf(&b, "  linkStyle %s %s\n", strings.Join(s, ","), style)
	}
	linkStyle(async, "stroke:#d9822b,color:#d9822b")
	linkStyle(grants, "stroke:#888,color:#666")
	_, err := io.WriteString(w, b.String())
	return err
}
