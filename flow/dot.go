package flow

import (
	"fmt"
	"io"
	"strconv"
	"strings"
)

// DOT draws the graph in Graphviz's language (dot -Tpng), left to right with
// one rank per column.
func DOT(w io.Writer, g *Graph) error {
	var b strings.Builder
	fmt.Fprintf(&b, "digraph %s {\n", strconv.Quote(g.App))
	b.WriteString("  rankdir=LR;\n  node [fontname=\"Helvetica\", fontsize=11, style=filled];\n  edge [fontname=\"Helvetica\", fontsize=9];\n")
	for i, col := range g.Columns() {
		fmt.Fprintf(&b, "  subgraph c%d {\n    rank=same;\n", i+1)
		for _, n := range col {
			st := styles[n.Kind]
			fmt.Fprintf(&b, "    %s [label=%s, shape=%s, fillcolor=%q, color=%q];\n",
				strconv.Quote(n.ID), strconv.Quote(n.ID+"\n"+n.Detail), st.dotShape, st.fill, st.stroke)
		}
		b.WriteString("  }\n")
	}
	for _, e := range g.Edges {
		es := edgeStyles[e.Kind]
		fmt.Fprintf(&b, "  %s -> %s [label=%s, style=%s, color=%q, fontcolor=%q%s];\n",
			strconv.Quote(e.From), strconv.Quote(e.To), strconv.Quote(e.Label), es.dotStyle, es.color, es.color, es.dotExtra)
	}
	b.WriteString("}\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// nodeStyle and edgeStyle are shared by the DOT and SVG drawings.
type nodeStyle struct {
	fill, stroke, dotShape string
}

var styles = map[string]nodeStyle{
	"api":      {"#e8f0fe", "#3b6fd8", "box"},
	"bucket":   {"#e6f4ea", "#2e8b57", "cylinder"},
	"table":    {"#e6f4ea", "#2e8b57", "cylinder"},
	"schedule": {"#fff4e5", "#d9822b", "box"},
	"topic":    {"#f3e8fd", "#8e44ad", "hexagon"},
	"bus":      {"#f3e8fd", "#8e44ad", "hexagon"},
	"queue":    {"#fdecea", "#c0392b", "box"},
	"stream":   {"#fdecea", "#c0392b", "box"},
	"function": {"#fff8e1", "#b8860b", "box"},
}

type edgeStyle struct {
	color, dotStyle, dotExtra, dash string
	width                           float64
}

var edgeStyles = map[EdgeKind]edgeStyle{
	Trigger: {color: "#333333", dotStyle: "solid", width: 1.5},
	Route:   {color: "#8e44ad", dotStyle: "bold", width: 2.5},
	Async:   {color: "#d9822b", dotStyle: "dashed", dash: "6 4", width: 1.5},
	Grant:   {color: "#8a8a8a", dotStyle: "dotted", dotExtra: ", arrowhead=empty", dash: "2 3", width: 1.2},
}
