package planner

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/evdeploy/evdeploy/state"
)

// update rewrites the golden files: go test ./planner -update.
var update = flag.Bool("update", false, "rewrite golden files")

// renderCase builds a plan from a hand-made desired graph and a state made by
// applying the base app to the fake cloud, then tampering with the cloud.
type renderCase struct {
	name    string
	desired func() *Desired
	tamper  func(fc *fakeCloud)
	destroy bool
	fresh   bool // plan against empty state
	// crash edits the state after the base apply (an interrupted apply).
	crash func(st *fakeState)
	// upstream are the other apps' outputs that changed (set by the CLI).
	upstream []*UpstreamChange
}

func renderCases() []renderCase {
	return []renderCase{
		{name: "create", fresh: true, desired: func() *Desired { return appDesired(128) }},
		{name: "no-changes", desired: func() *Desired { return appDesired(128) }},
		{name: "mixed", desired: func() *Desired {
			d := appDesired(256)
			var keep []*DesiredResource
			for _, r := range d.Resources {
				switch r.Addr {
				case storeA:
					r.Attrs["size"] = int64(2)
				case mappingA, queueA:
					continue
				case funcA:
					delete(r.Attrs["environment"].(map[string]any), "QUEUE")
				}
				keep = append(keep, r)
			}
			d.Resources = keep
			// A new block: a bucket holding data, and a new resource in an
			// existing block.
			d.Outputs = []*DesiredOutput{
				{Name: "bucket", Value: Ref{Resource: addr("bucket.uploads", "fake_store"), Attr: "arn"}},
				tableOutput(), tokenOutput(),
			}
			d.Resources = append(d.Resources,
				res(addr("bucket.uploads", "fake_store"), Attrs{"name": "shop-dev-uploads", "size": int64(5)}),
				res(ResourceAddr{Block: "function.api", Type: "fake_role", Name: "extra"}, Attrs{"name": "shop-dev-api-extra", "policy": Ref{Resource: roleA, Attr: "arn"}}),
			)
			out := desiredOf(d.Resources...)
			out.Outputs = d.Outputs
			return out
		}, upstream: []*UpstreamChange{
			{Name: "app_outputs.core.bus_name", Before: "core-dev-events", After: "core-dev-events2"},
			{Name: "app_outputs.core.token", Before: "old", After: "new", Sensitive: true},
		}},
		{name: "drift", desired: func() *Desired { return appDesired(128) }, tamper: func(fc *fakeCloud) {
			fc.mu.Lock()
			delete(fc.resources["fake_queue"], "shop-dev-orders")
			fc.resources["fake_func"]["shop-dev-api"]["memory"] = int64(1024)
			fc.mu.Unlock()
		}},
		{name: "destroy", destroy: true},
		{name: "adopt", desired: func() *Desired { return appDesired(128) }, crash: func(st *fakeState) {
			// Killed after creating the queue, before recording it; and an
			// intent whose create never happened, for a block since removed.
			_ = st.Remove(queueA.String())
			_ = st.AddIntent(state.Intent{Addr: queueA.String(), Block: queueA.Block, Type: queueA.Type, Name: "shop-dev-orders",
				Attrs: map[string]any{"name": "shop-dev-orders", "visibility": int64(60)}})
			_ = st.AddIntent(state.Intent{Addr: "queue.old/fake_queue.main", Block: "queue.old", Type: "fake_queue", Name: "shop-dev-old"})
		}},
	}
}

func buildRenderPlan(t *testing.T, rc renderCase) *Plan {
	t.Helper()
	var (
		fc  *fakeCloud
		st  *fakeState
		reg Registry
	)
	if rc.fresh {
		fc = newFakeCloud(&recorder{})
		reg = fc.registry()
		st = newFakeState(&recorder{}, nil)
	} else {
		fc, st, reg = deployed(t, appDesired(128))
	}
	if rc.tamper != nil {
		rc.tamper(fc)
	}
	if rc.crash != nil {
		rc.crash(st)
	}
	doc := st.snapshot()
	if !rc.fresh {
		// What the CLI recorded after the base apply.
		doc.Outputs = map[string]state.Output{
			"queue_url": {Value: "https://queue/shop-dev-orders"},
			"table":     {Value: "table=arn:fake:fake_store:shop-dev-orders-t"},
			"token":     {Value: "s3cret", Sensitive: true},
		}
	}
	if rc.destroy {
		p := PlanDestroy(doc)
		p.FlagDataLoss(reg)
		return p
	}
	d := rc.desired()
	if d.Outputs == nil {
		d.Outputs = []*DesiredOutput{{Name: "queue_url", Value: Ref{Resource: queueA, Attr: "url"}}, tableOutput(), tokenOutput()}
	}
	p := mustPlan(t, d, doc, reg, true)
	p.Upstream = rc.upstream
	return p
}

func tableOutput() *DesiredOutput {
	tref := Ref{Resource: storeA, Attr: "arn"}
	return &DesiredOutput{Name: "table", Value: &Expr{Refs: []Ref{tref}, Text: "table.orders.arn",
		Eval: func(m map[Ref]any) (any, error) { return "table=" + m[tref].(string), nil }}}
}

func tokenOutput() *DesiredOutput {
	return &DesiredOutput{Name: "token", Value: "s3cret", Sensitive: true}
}

func checkGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./planner -update to create it)", err)
	}
	if d := cmp.Diff(string(want), string(got)); d != "" {
		t.Errorf("%s differs (-want +got):\n%s", path, d)
	}
}

func TestRenderGolden(t *testing.T) {
	for _, rc := range renderCases() {
		t.Run(rc.name, func(t *testing.T) {
			p := buildRenderPlan(t, rc)
			for _, v := range []struct {
				ext  string
				opts RenderOptions
			}{
				{"txt", RenderOptions{}},
				{"detail.txt", RenderOptions{Detail: true}},
			} {
				var buf bytes.Buffer
				if err := Render(&buf, p, v.opts); err != nil {
					t.Fatal(err)
				}
				checkGolden(t, filepath.Join("testdata", "plan", rc.name+"."+v.ext+".golden"), buf.Bytes())
				// Rendering is deterministic.
				var again bytes.Buffer
				if err := Render(&again, buildRenderPlan(t, rc), v.opts); err != nil {
					t.Fatal(err)
				}
				if again.String() != buf.String() {
					t.Errorf("%s rendering differs between two identical plans", v.ext)
				}
			}
			var js bytes.Buffer
			if err := RenderJSON(&js, p); err != nil {
				t.Fatal(err)
			}
			checkGolden(t, filepath.Join("testdata", "plan", rc.name+".json.golden"), js.Bytes())
		})
	}
}

func TestRenderColor(t *testing.T) {
	p := buildRenderPlan(t, renderCases()[2])
	var plain, color bytes.Buffer
	if err := Render(&plain, p, RenderOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := Render(&color, p, RenderOptions{Color: true}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(plain.String(), "\x1b[") {
		t.Error("colour escape codes without Color")
	}
	if !strings.Contains(color.String(), ansiBoldRed+"! DATA LOSS") || !strings.Contains(color.String(), ansiMagenta+"±"+ansiReset+" table.orders") {
		t.Errorf("coloured output lacks colours:\n%q", color.String())
	}
	stripped := strings.NewReplacer(ansiReset, "", ansiBold, "", ansiRed, "", ansiGreen, "", ansiYellow, "", ansiMagenta, "", ansiBoldRed, "").Replace(color.String())
	if stripped != plain.String() {
		t.Errorf("colour changes the text:\n%s\nvs\n%s", stripped, plain.String())
	}
}

func TestPlanFileRoundTripAndFreshness(t *testing.T) {
	fc, st, reg := deployed(t, appDesired(128))
	_ = fc
	d := buildRenderPlanDesired()
	doc := st.snapshot()
	p := mustPlan(t, d, doc, reg, true)
	p.Upstream = []*UpstreamChange{{Name: "app_outputs.core.n", Before: int64(1), After: []any{"a"}}, {Name: "app_outputs.core.s", Sensitive: true}}
	path := filepath.Join(t.TempDir(), "tfplan")
	if err := SavePlanFile(path, p, "hash-1"); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("plan file mode = %v, %v", fi.Mode(), err)
	}
	pf, err := LoadPlanFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// What was loaded is the plan that was saved, unknowns included.
	if err := SameChanges(p, pf.Plan); err != nil {
		t.Errorf("loaded plan differs from saved: %v", err)
	}
	if d := cmp.Diff(p.Upstream, pf.Plan.Upstream); d != "" {
		t.Errorf("upstream changes of the loaded plan (-saved +loaded):\n%s", d)
	}
	var a, b bytes.Buffer
	_ = Render(&a, p, RenderOptions{Detail: true})
	_ = Render(&b, pf.Plan, RenderOptions{Detail: true})
	if d := cmp.Diff(a.String(), b.String()); d != "" {
		t.Errorf("rendering of the loaded plan differs (-saved +loaded):\n%s", d)
	}
	if err := pf.CheckFresh(doc, "hash-1"); err != nil {
		t.Errorf("fresh plan refused: %v", err)
	}

	tests := map[string]struct {
		doc  func() *state.Document
		hash string
		want string
	}{
		"state changed": {
			doc:  func() *state.Document { c := *doc; c.Serial++; return &c },
			hash: "hash-1",
			want: "saved plan is stale: the state changed since it was made (serial 10, now 11); run plan again",
		},
		"other state": {
			doc:  func() *state.Document { c := *doc; c.Lineage = "other"; return &c },
			hash: "hash-1",
			want: `saved plan is stale: it was made against a different state (lineage "lin-1", now "other"); run plan again`,
		},
		"spec changed": {
			doc:  func() *state.Document { return doc },
			hash: "hash-2",
			want: "saved plan is stale: the spec, variables, stage, target, code or what it read from other apps and existing resources changed since it was made; run plan again",
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			err := pf.CheckFresh(tt.doc(), tt.hash)
			if err == nil || err.Error() != tt.want {
				t.Errorf("err = %v\nwant  %s", err, tt.want)
			}
		})
	}

	// Re-planning after the world drifted is refused by SameChanges.
	fc.mu.Lock()
	delete(fc.resources["fake_role"], "shop-dev-api-role")
	fc.mu.Unlock()
	again := mustPlan(t, d, doc, reg, true)
	err = SameChanges(pf.Plan, again)
	if err == nil || !errors.Is(err, ErrStalePlan) || !strings.Contains(err.Error(), "\n  function.api/fake_role.main: saved plan: no-op, now: create") {
		t.Errorf("SameChanges = %v", err)
	}
	fc.put("fake_role", "shop-dev-api-role", Attrs{"name": "shop-dev-api-role", "policy": `{"Statement":[]}`, "arn": "arn:fake:fake_role:shop-dev-api-role"})
	if _, err := Apply(context.Background(), pf.Plan, d, reg, st, ApplyOptions{AllowDataLoss: true}); err != nil {
		t.Errorf("applying the loaded plan: %v", err)
	}
}

func buildRenderPlanDesired() *Desired { return renderCases()[2].desired() }

func TestLoadPlanFileRejects(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"garbage": "not json",
		"format":  `{"format":"something-else","plan":{}}`,
		"version": `{"format":"evdeploy-plan","plan":{"format_version":"2.0"}}`,
	} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadPlanFile(path); err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: err = %v, want an error naming the file", name, err)
		}
	}
}

func TestAttrTransitionShort(t *testing.T) {
	long := strings.Repeat("x", 80)
	tests := []struct {
		d    attrDiff
		want string
	}{
		{attrDiff{path: "memory", before: int64(128), after: int64(256), hasBefore: true, hasAfter: true}, "128 → 256"},
		{attrDiff{path: "policy", before: long, after: Unknown{}, hasBefore: true, hasAfter: true}, "(…) → (known after apply)"},
		{attrDiff{path: "policy", before: "a", after: long, hasBefore: true, hasAfter: true}, `"a" → (…)`},
		{attrDiff{path: "policy", before: long, after: long + "y", hasBefore: true, hasAfter: true}, "changed (see --detail)"},
		{attrDiff{path: "tags.team", after: "x", hasAfter: true}, `(none) → "x"`},
	}
	for _, tt := range tests {
		if got := tt.d.transition(shortWidth); got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.d.path, got, tt.want)
		}
	}
	if got := (attrDiff{before: long, after: "b", hasBefore: true, hasAfter: true}).transition(0); got != strconvQuote(long)+` → "b"` {
		t.Errorf("detail view truncates: %q", got)
	}
}

func strconvQuote(s string) string { return `"` + s + `"` }

func TestOutputsOnlyChange(t *testing.T) {
	_, st, reg := deployed(t, appDesired(128))
	d := appDesired(128)
	d.Outputs = []*DesiredOutput{{Name: "queue_url", Value: Ref{Resource: queueA, Attr: "url"}}}
	p := mustPlan(t, d, st.snapshot(), reg, true)
	if p.HasChanges() || !p.OutputsChange() {
		t.Fatalf("HasChanges %v, OutputsChange %v", p.HasChanges(), p.OutputsChange())
	}
	var buf bytes.Buffer
	if err := Render(&buf, p, RenderOptions{}); err != nil {
		t.Fatal(err)
	}
	want := "Outputs:\n  + queue_url = \"https://queue/shop-dev-orders\"\n\nNo resource changes. Apply records the new output values.\n"
	if d := cmp.Diff(want, buf.String()); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	// Apply evaluates the same value.
	res, err := Apply(context.Background(), p, d, reg, st, ApplyOptions{})
	if err != nil || res.Outputs["queue_url"].Value != "https://queue/shop-dev-orders" {
		t.Errorf("outputs %v, %v", res.Outputs, err)
	}
}
