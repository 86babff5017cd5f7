package flow

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
)

// The SVG is laid out here: columns by rank, left to right; within a column,
// nodes ordered to follow their sources (a few barycentre sweeps) so edges
// cross little; edges are cubic curves, labels on a white ground moved off
// each other and off the nodes. Text is monospace so its width is known
// without a font engine (0.6 em per character).
const (
	fontID     = 12.0 // node name
	fontDetail = 10.0 // node detail line
	fontLabel  = 10.0 // edge label
	charW      = 0.6  // em per monospace character
	nodeH      = 40.0
	rowGap     = 26.0
	margin     = 24.0
	titleH     = 56.0
	legendH    = 44.0
	minGap     = 110.0
)

type box struct{ x, y, w, h float64 }

func (a box) overlaps(b box) bool {
	return a.x < b.x+b.w && b.x < a.x+a.w && a.y < b.y+b.h && b.y < a.y+a.h
}

func textW(s string, size float64) float64 { return float64(len([]rune(s))) * size * charW }

// item is one slot of a column: a node, or a lane that an edge spanning
// several columns passes through (so it never runs behind a node).
type item struct {
	id   string
	node *Node
	h    float64
}

const (
	laneH   = 12.0
	portGap = 18.0
)

// layout places nodes and lanes; paths are each edge's points, left to right.
type layout struct {
	cols                 [][]*item
	colW                 []float64
	gap                  []float64
	pos                  map[string]box // by item id
	colOf                map[string]int
	lanes                map[*Edge][]string // the lane items an edge passes through
	inY                  map[*Edge]float64  // where an edge meets its destination
	outY                 map[*Edge]float64  // where it leaves its source
	width, height, bodyH float64
}

func newLayout(g *Graph) *layout {
	l := &layout{pos: map[string]box{}, colOf: map[string]int{}, lanes: map[*Edge][]string{}}
	for i, col := range g.Columns() {
		var c []*item
		for _, n := range col {
			c = append(c, &item{id: n.ID, node: n, h: nodeH})
			l.colOf[n.ID] = i
		}
		l.cols = append(l.cols, c)
	}
	nbrs := map[string][]string{}
	link := func(a, b string) {
		nbrs[a] = append(nbrs[a], b)
		nbrs[b] = append(nbrs[b], a)
	}
	for ei, e := range g.Edges {
		i, ok1 := l.colOf[e.From]
		j, ok2 := l.colOf[e.To]
		if !ok1 || !ok2 || e.Kind == Grant {
			continue // grants point back; the events decide the order
		}
		prev := e.From
		for c := i + 1; c < j; c++ {
			id := fmt.Sprintf("lane %d %d", ei, c)
			l.cols[c] = append(l.cols[c], &item{id: id, h: laneH})
			l.lanes[e] = append(l.lanes[e], id)
			l.colOf[id] = c
			link(prev, id)
			prev = id
		}
		link(prev, e.To)
	}
	l.order(nbrs)

	// A node with several events arriving (or leaving) is tall enough to
	// give each its own port, so every label sits on its own line.
	in, out := map[string]int{}, map[string]int{}
	for _, e := range g.Edges {
		if e.Kind != Grant && l.colOf[e.To] > l.colOf[e.From] {
			in[e.To]++
			out[e.From]++
		}
	}
	for _, col := range l.cols {
		for _, it := range col {
			if it.node != nil {
				it.h = max(nodeH, float64(max(in[it.id], out[it.id]))*portGap+8)
			}
		}
	}

	l.colW = make([]float64, len(l.cols))
	l.gap = make([]float64, len(l.cols))
	for i, col := range l.cols {
		l.gap[i] = minGap
		for _, it := range col {
			if it.node != nil {
				l.colW[i] = max(l.colW[i], textW(it.node.ID, fontID)+24, textW(it.node.Detail, fontDetail)+24)
			}
		}
	}
	// A label sits in the gap before its edge's destination: make it fit.
	for _, e := range g.Edges {
		if j, ok := l.colOf[e.To]; ok && j > 0 && e.Kind != Grant {
			l.gap[j-1] = max(l.gap[j-1], textW(e.Label, fontLabel)+56)
		}
	}
	for _, col := range l.cols {
		h := -rowGap
		for _, it := range col {
			h += it.h + rowGap
		}
		l.bodyH = max(l.bodyH, h)
	}
	x := margin
	for i, col := range l.cols {
		h := -rowGap
		for _, it := range col {
			h += it.h + rowGap
		}
		y := titleH + (l.bodyH-h)/2
		for _, it := range col {
			l.pos[it.id] = box{x, y, l.colW[i], it.h}
			y += it.h + rowGap
		}
		x += l.colW[i] + l.gap[i]
	}
	l.width = 400
	if len(l.cols) > 0 {
		l.width = x - l.gap[len(l.gap)-1] + margin
	}
	l.height = titleH + l.bodyH + 40 + legendH
	l.ports(g)
	return l
}

// ports spreads the edges arriving at (and leaving) each node over its side,
// in the order of where they come from (go to), so they do not cross there.
func (l *layout) ports(g *Graph) {
	l.inY, l.outY = map[*Edge]float64{}, map[*Edge]float64{}
	ins, outs := map[string][]*Edge{}, map[string][]*Edge{}
	for _, e := range g.Edges {
		if e.Kind != Grant && l.colOf[e.To] > l.colOf[e.From] {
			ins[e.To] = append(ins[e.To], e)
			outs[e.From] = append(outs[e.From], e)
		}
	}
	centre := func(id string) float64 { p := l.pos[id]; return p.y + p.h/2 }
	spread := func(id string, es []*Edge, other func(*Edge) float64, into map[*Edge]float64) {
		sort.SliceStable(es, func(i, j int) bool { return other(es[i]) < other(es[j]) })
		p := l.pos[id]
		top := p.y + p.h/2 - float64(len(es)-1)*portGap/2
		for i, e := range es {
			into[e] = top + float64(i)*portGap
		}
	}
	for id, es := range ins {
		spread(id, es, func(e *Edge) float64 {
			if ln := l.lanes[e]; len(ln) > 0 {
				return centre(ln[len(ln)-1])
			}
			return centre(e.From)
		}, l.inY)
	}
	for id, es := range outs {
		spread(id, es, func(e *Edge) float64 {
			if ln := l.lanes[e]; len(ln) > 0 {
				return centre(ln[0])
			}
			return centre(e.To)
		}, l.outY)
	}
}

// order sorts each column by the mean position of the items it is linked to
// in the neighbouring columns (barycentre sweeps, right then left), so a
// function sits beside its source and lanes do not cross.
func (l *layout) order(nbrs map[string][]string) {
	idx := map[string]float64{}
	set := func() {
		for _, col := range l.cols {
			for i, it := range col {
				idx[it.id] = float64(i) - float64(len(col)-1)/2
			}
		}
	}
	set()
	sweep := func(c int) {
		col := l.cols[c]
		bary := map[string]float64{}
		for _, it := range col {
			sum, k := 0.0, 0
			for _, m := range nbrs[it.id] {
				if l.colOf[m] != c {
					sum += idx[m]
					k++
				}
			}
			bary[it.id] = idx[it.id]
			if k > 0 {
				bary[it.id] = sum / float64(k)
			}
		}
		sort.SliceStable(col, func(i, j int) bool { return bary[col[i].id] < bary[col[j].id] })
		set()
	}
	for range 6 {
		for c := 1; c < len(l.cols); c++ {
			sweep(c)
		}
		for c := len(l.cols) - 2; c >= 0; c-- {
			sweep(c)
		}
	}
}

// path is an edge's SVG path data and the point where its label goes: for
// an edge drawn left to right, the end of its last leg, just before the
// arrowhead (the caller right-aligns the label there); else the middle.
func (l *layout) path(e *Edge) (d string, mid [2]float64, atEnd bool) {
	from, to := l.pos[e.From], l.pos[e.To]
	if l.colOf[e.To] <= l.colOf[e.From] {
		p0, p1, p2, p3 := curve(from, to, e.Kind)
		return fmt.Sprintf("M%.1f,%.1f C%.1f,%.1f %.1f,%.1f %.1f,%.1f", p0[0], p0[1], p1[0], p1[1], p2[0], p2[1], p3[0], p3[1]),
			bezierMid(p0, p1, p2, p3), false
	}
	off := 0.0
	if e.Kind == Grant {
		off = 8 // beside, not on, the event edges between the same nodes
	}
	var b strings.Builder
	y0, ok := l.outY[e]
	if !ok {
		y0 = from.y + from.h/2 + off
	}
	y1, ok := l.inY[e]
	if !ok {
		y1 = to.y + to.h/2 + off
	}
	x, y := from.x+from.w, y0
	fmt.Fprintf(&b, "M%.1f,%.1f", x, y)
	leg := func(x2, y2 float64) {
		dx := (x2 - x) / 2
		fmt.Fprintf(&b, " C%.1f,%.1f %.1f,%.1f %.1f,%.1f", x+dx, y, x2-dx, y2, x2, y2)
		mid = bezierMid([2]float64{x, y}, [2]float64{x + dx, y}, [2]float64{x2 - dx, y2}, [2]float64{x2, y2})
		x, y = x2, y2
	}
	for _, id := range l.lanes[e] {
		p := l.pos[id]
		leg(p.x, p.y+p.h/2)
		x = p.x + p.w
		fmt.Fprintf(&b, " L%.1f,%.1f", x, y)
	}
	leg(to.x-2, y1)
	if e.Kind == Grant {
		return b.String(), mid, false
	}
	return b.String(), [2]float64{to.x - 12, y1}, true
}

func bezierMid(p0, p1, p2, p3 [2]float64) [2]float64 {
	return [2]float64{(p0[0] + 3*p1[0] + 3*p2[0] + p3[0]) / 8, (p0[1] + 3*p1[1] + 3*p2[1] + p3[1]) / 8}
}

// SVG draws the graph as a self-contained SVG document (no external fonts,
// scripts or images).
func SVG(w io.Writer, g *Graph) error {
	l := newLayout(g)
	width, height := l.width, l.height

	var b bytes.Buffer
	fmt.Fprintf(&b, `<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" font-family="DejaVu Sans Mono, Menlo, Consolas, monospace">
`, width, height, width, height)
	fmt.Fprintf(&b, "<title>%s: event flow</title>\n", esc(g.App))
	b.WriteString("<defs>\n")
	for _, k := range []EdgeKind{Trigger, Route, Async, Grant} {
		es := edgeStyles[k]
		fill := es.color
		if k == Grant {
			fill = "#ffffff"
		}
		fmt.Fprintf(&b, `  <marker id="arrow-%s" viewBox="0 0 10 10" refX="9" refY="5" markerUnits="userSpaceOnUse" markerWidth="10" markerHeight="10" orient="auto-start-reverse"><path d="M0,1 L10,5 L0,9 z" fill="%s" stroke="%s"/></marker>
`, k, fill, es.color)
	}
	b.WriteString("</defs>\n")
	fmt.Fprintf(&b, `<rect x="0" y="0" width="%.0f" height="%.0f" fill="#ffffff"/>
`, width, height)
	fmt.Fprintf(&b, `<text x="%.0f" y="24" font-size="15" font-weight="bold" fill="#222">%s — event flow</text>
`, margin, esc(g.App))
	x := margin
	for i, col := range l.cols {
		var nodes []*Node
		for _, it := range col {
			if it.node != nil {
				nodes = append(nodes, it.node)
			}
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="46" font-size="11" fill="#777">%s</text>
`, x, esc(strings.ToUpper(ColumnTitle(nodes))))
		x += l.colW[i] + l.gap[i]
	}

	// Edges first, so nodes and labels sit on top of them.
	var placed []box
	for _, n := range g.Nodes {
		placed = append(placed, l.pos[n.ID])
	}
	type label struct {
		at   box
		text string
		k    EdgeKind
	}
	var labels []label
	for _, e := range g.Edges {
		if _, ok := l.pos[e.From]; !ok {
			continue
		}
		if _, ok := l.pos[e.To]; !ok {
			continue
		}
		d, mid, atEnd := l.path(e)
		es := edgeStyles[e.Kind]
		dash := ""
		if es.dash != "" {
			dash = fmt.Sprintf(` stroke-dasharray="%s"`, es.dash)
		}
		fmt.Fprintf(&b, `<path d="%s" fill="none" stroke="%s" stroke-width="%.1f"%s marker-end="url(#arrow-%s)"><title>%s</title></path>
`, d, es.color, es.width, dash, e.Kind, esc(e.Via+": "+e.From+" → "+e.To))
		if e.Label == "" {
			continue
		}
		// The label sits on the middle of the last leg, moved up or down
		// until it is clear of the nodes and of the labels already placed.
		lw, lh := textW(e.Label, fontLabel)+8, fontLabel+6
		if atEnd {
			mid[0] -= lw / 2
		}
		at := box{mid[0] - lw/2, mid[1] - lh/2, lw, lh}
		for tries := 0; tries < 40 && collides(at, placed); tries++ {
			step := float64(tries/2+1) * (lh/2 + 1)
			if tries%2 == 1 {
				step = -step
			}
			at.y = mid[1] - lh/2 + step
		}
		placed = append(placed, at)
		labels = append(labels, label{at, e.Label, e.Kind})
	}
	for _, n := range g.Nodes {
		p := l.pos[n.ID]
		st := styles[n.Kind]
		rx := 4.0
		switch n.Kind {
		case "function":
			rx = 12
		case "schedule":
			rx = 20
		}
		fmt.Fprintf(&b, `<g><title>%s</title><rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" rx="%.0f" fill="%s" stroke="%s" stroke-width="1.5"/>`,
			esc(n.ID+" ("+n.Detail+")"), p.x, p.y, p.w, p.h, rx, st.fill, st.stroke)
		cy := p.y + p.h/2
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="%.0f" fill="#111" text-anchor="middle">%s</text>`,
			p.x+p.w/2, cy-3, fontID, esc(n.ID))
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="%.0f" fill="#555" text-anchor="middle">%s</text></g>
`, p.x+p.w/2, cy+11, fontDetail, esc(n.Detail))
	}
	for _, lb := range labels {
		es := edgeStyles[lb.k]
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" rx="3" fill="#ffffff" fill-opacity="0.9"/><text x="%.1f" y="%.1f" font-size="%.0f" fill="%s" text-anchor="middle">%s</text>
`, lb.at.x, lb.at.y, lb.at.w, lb.at.h, lb.at.x+lb.at.w/2, lb.at.y+lb.at.h-4.5, fontLabel, es.color, esc(lb.text))
	}
	// Legend.
	ly := height - legendH + 18
	lx := margin
	for _, it := range []struct {
		k    EdgeKind
		text string
	}{{Trigger, "trigger"}, {Route, "route / dead letter"}, {Async, "async destination"}, {Grant, "grant (uses)"}} {
		es := edgeStyles[it.k]
		dash := ""
		if es.dash != "" {
			dash = fmt.Sprintf(` stroke-dasharray="%s"`, es.dash)
		}
		fmt.Fprintf(&b, `<path d="M%.1f,%.1f L%.1f,%.1f" stroke="%s" stroke-width="%.1f"%s marker-end="url(#arrow-%s)"/><text x="%.1f" y="%.1f" font-size="11" fill="#333">%s</text>
`, lx, ly, lx+36, ly, es.color, es.width, dash, it.k, lx+44, ly+4, esc(it.text))
		lx += 44 + textW(it.text, 11) + 28
	}
	b.WriteString("</svg>\n")
	_, err := w.Write(b.Bytes())
	return err
}

func collides(a box, placed []box) bool {
	for _, p := range placed {
		if a.overlaps(p) {
			return true
		}
	}
	return false
}

// curve returns the control points of an edge from one node box to another:
// left to right between columns; a grant (which points back at what the
// function writes to) leaves the function's bottom-left and swings below.
func curve(from, to box, k EdgeKind) (p0, p1, p2, p3 [2]float64) {
	if to.x > from.x {
		p0 = [2]float64{from.x + from.w, from.y + from.h/2}
		p3 = [2]float64{to.x - 2, to.y + to.h/2}
		if k == Grant {
			p0[1] += 8
			p3[1] += 8
		}
		dx := (p3[0] - p0[0]) / 2
		return p0, [2]float64{p0[0] + dx, p0[1]}, [2]float64{p3[0] - dx, p3[1]}, p3
	}
	if to.x == from.x { // same column: bow out to the right
		p0 = [2]float64{from.x + from.w, from.y + from.h/2}
		p3 = [2]float64{to.x + to.w + 2, to.y + to.h/2}
		bow := 40 + math.Abs(p3[1]-p0[1])/4
		return p0, [2]float64{p0[0] + bow, p0[1]}, [2]float64{p3[0] + bow, p3[1]}, p3
	}
	// Backwards: from the left side of the source to the right side of the
	// target, sagging so it does not lie on the forward edges.
	p0 = [2]float64{from.x, from.y + from.h/2 + 10}
	p3 = [2]float64{to.x + to.w + 2, to.y + to.h/2 + 10}
	dx := (p0[0] - p3[0]) / 3
	sag := 18.0
	return p0, [2]float64{p0[0] - dx, p0[1] + sag}, [2]float64{p3[0] + dx, p3[1] + sag}, p3
}

func esc(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}
