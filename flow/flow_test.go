package flow

import (
	"bytes"
	"encoding/xml"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2"

	"github.com/evdeploy/evdeploy/internal/speccorpus"
	"github.com/evdeploy/evdeploy/spec"
)

var update = flag.Bool("update", false, "rewrite golden files")

func load(t *testing.T, dir string) *spec.App {
	t.Helper()
	app, files, diags := spec.Load(dir, spec.Options{Stage: "dev", Getenv: func(string) string { return "" }})
	if diags.HasErrors() {
		var b bytes.Buffer
		_ = hcl.NewDiagnosticTextWriter(&b, files, 100, false).WriteDiagnostics(diags)
		t.Fatal(b.String())
	}
	return app
}

var exts = map[string]string{"text": "txt", "mermaid": "mmd", "dot": "dot", "svg": "svg"}

// Every format of every example app is compared with its golden file
// (go test ./flow -update rewrites them; review the diff, and look at the SVG).
func TestGolden(t *testing.T) {
	apps := map[string]string{"shop": "../examples/shop", "fabric": "testdata/fabric", "routes": speccorpus.App(t, "routes")}
	for name, dir := range apps {
		g := FromApp(load(t, dir))
		for _, format := range Formats {
			t.Run(name+"/"+format, func(t *testing.T) {
				var b bytes.Buffer
				if err := Write(&b, g, format); err != nil {
					t.Fatal(err)
				}
				golden := filepath.Join("testdata", name+"."+exts[format])
				if *update {
					if err := os.WriteFile(golden, b.Bytes(), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("%v (run go test ./flow -update)", err)
				}
				if d := cmp.Diff(string(want), b.String()); d != "" {
					t.Errorf("%s differs from %s (-want +got):\n%s", format, golden, d)
				}
			})
		}
	}
}

// The shop example has an edge for each trigger and each uses grant, labelled,
// and the dead-letter redrive; the mermaid drawing has one line per edge.
func TestShopEdges(t *testing.T) {
	app := load(t, "../examples/shop")
	g := FromApp(app)
	type key struct{ from, to, kind string }
	got := map[key]string{}
	for _, e := range g.Edges {
		got[key{e.From, e.To, e.Kind.String()}] = e.Label
	}
	want := map[key]string{
		{"api.public", "function.api", "trigger"}:            "POST /orders",
		{"queue.orders", "function.worker", "trigger"}:       "batch 10",
		{"bucket.uploads", "function.resize", "trigger"}:     "created in/*.jpg",
		{"table.orders", "function.audit", "trigger"}:        "stream, latest",
		{"schedule.nightly", "function.report", "trigger"}:   "cron(0 2 * * ? *)",
		{"stream.clickstream", "function.clicks", "trigger"}: "trim_horizon, batch 100",
		{"bus.events", "function.audit", "trigger"}:          "detail-type=OrderPlaced source=shop.orders",
		{"topic.alerts", "function.audit", "trigger"}:        "",
		{"queue.orders", "queue.orders-dlq", "route"}:        "after 5 receives",
		{"function.api", "queue.orders", "grant"}:            "send",
		{"function.worker", "table.orders", "grant"}:         "write",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("edges (-want +got):\n%s", d)
	}
	if len(app.Triggers) != 8 {
		t.Fatalf("the shop has %d triggers; update this test", len(app.Triggers))
	}
	var b bytes.Buffer
	if err := Mermaid(&b, g); err != nil {
		t.Fatal(err)
	}
	lines := 0
	for _, l := range strings.Split(b.String(), "\n") {
		if strings.Contains(l, "-->") || strings.Contains(l, "==>") || strings.Contains(l, "-.->") {
			lines++
		}
	}
	if lines != len(g.Edges) {
		t.Errorf("mermaid has %d edge lines for %d edges:\n%s", lines, len(g.Edges), b.String())
	}
	// Left to right by role: every event goes rightwards.
	for _, e := range g.Edges {
		if e.Kind != Grant && g.Node(e.To).Rank <= g.Node(e.From).Rank {
			t.Errorf("%s → %s goes from column %d to %d", e.From, e.To, g.Node(e.From).Rank, g.Node(e.To).Rank)
		}
	}
}

// The SVG is one well-formed XML document whose root is an svg element in
// the SVG namespace, with no external reference.
func TestSVGIsValidXML(t *testing.T) {
	for _, dir := range []string{"../examples/shop", "testdata/fabric", speccorpus.App(t, "routes")} {
		var b bytes.Buffer
		if err := SVG(&b, FromApp(load(t, dir))); err != nil {
			t.Fatal(err)
		}
		dec := xml.NewDecoder(&b)
		var root *xml.StartElement
		elements := 0
		for {
			tok, err := dec.Token()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s: not well-formed XML: %v", dir, err)
			}
			if se, ok := tok.(xml.StartElement); ok {
				elements++
				if root == nil {
					root = &se
				}
				for _, a := range se.Attr {
					if a.Name.Local == "href" || strings.Contains(a.Value, "http://") && a.Name.Local != "xmlns" {
						t.Errorf("%s: external reference %s=%q", dir, a.Name.Local, a.Value)
					}
				}
			}
		}
		if root == nil || root.Name.Local != "svg" || root.Name.Space != "http://www.w3.org/2000/svg" {
			t.Fatalf("%s: root element %v", dir, root)
		}
		if elements < 20 {
			t.Errorf("%s: only %d elements", dir, elements)
		}
	}
}

func TestUnknownFormat(t *testing.T) {
	err := Write(io.Discard, &Graph{}, "png")
	if err == nil || !strings.Contains(err.Error(), "text, mermaid, dot, svg") {
		t.Errorf("err = %v", err)
	}
}

// Every route block is one route edge from its source to its `to`, and every
// async destination one async edge from the function.
func TestRouteAndAsyncEdges(t *testing.T) {
	app := load(t, speccorpus.App(t, "routes"))
	g := FromApp(app)
	via := map[string]*Edge{}
	for _, e := range g.Edges {
		via[e.Via+" "+e.To] = e
	}
	if len(app.Routes) < 10 {
		t.Fatalf("only %d routes loaded", len(app.Routes))
	}
	for _, r := range app.Routes {
		e := via[r.Addr.String()+" "+r.To.String()]
		if e == nil || e.Kind != Route {
			t.Errorf("%s: no route edge to %s", r.Addr, r.To)
			continue
		}
		if src := r.SourceAddr(); !src.IsZero() && e.From != src.String() {
			t.Errorf("%s: edge from %s, want %s", r.Addr, e.From, src)
		}
	}
	for _, want := range []string{"function.risky queue.failed", "function.risky bus.ops"} {
		if e := via[want]; e == nil || e.Kind != Async {
			t.Errorf("no async edge %s", want)
		}
	}
}
