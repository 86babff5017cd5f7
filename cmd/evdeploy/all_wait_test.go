package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/evdeploy/evdeploy/planner"
	"github.com/evdeploy/evdeploy/spec"
	"github.com/evdeploy/evdeploy/state"
)

// TestWaitsForUpstream: within plan --all, an app whose unapplied upstreams
// are all apps of the run waits for them; an upstream outside the run, or a
// plain plan, stays the "apply it first" error.
func TestWaitsForUpstream(t *testing.T) {
	core := unappliedApp{dir: "/m/core", text: "app_outputs.core (../core, stage dev)"}
	other := unappliedApp{dir: "/elsewhere/auth", text: "app_outputs.auth (../../elsewhere/auth, stage dev)"}
	run := map[string]bool{"/m/core": true, "/m/orders": true}
	tests := []struct {
		name      string
		unapplied []unappliedApp
		planAll   map[string]bool
		want      []string // nil: no wait
	}{
		{name: "upstream in the run", unapplied: []unappliedApp{core}, planAll: run, want: []string{core.text}},
		{name: "nothing unapplied", planAll: run},
		{name: "plain plan", unapplied: []unappliedApp{core}},
		{name: "one upstream outside the run", unapplied: []unappliedApp{core, other}, planAll: run},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := waitsForUpstream(&external{unapplied: tt.unapplied}, &engineOptions{planAll: tt.planAll})
			var got []string
			if w, ok := err.(*upstreamNotApplied); ok {
				got = w.apps
			} else if err != nil {
				t.Fatalf("error %v", err)
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("waits for (-want +got):\n%s", d)
			}
		})
	}
}

// TestOtherRegionUses: a trigger or route that would add to a resource made
// elsewhere in another region is a plan error at its block; a reference or
// grant is not, nor the same use in the app's region.
func TestOtherRegionUses(t *testing.T) {
	dir := t.TempDir()
	writeTestFile(t, filepath.Join(dir, "evdeploy.evd.hcl"), `app "x" {}

bus "org" {
  existing = "arn:aws:events:eu-west-1:123456789012:event-bus/org"
}

function "f" {
  runtime = "python3.12"
  source  = "./f"
  handler = "main.handler"
  environment = { BUS = bus.org.arn }
  uses = [bus.org.put]
}

trigger "t" {
  function = function.f
  event {
    bus     = bus.org
    pattern = { source = ["a"] }
  }
}
`)
	writeTestFile(t, filepath.Join(dir, "f", "main.py"), "def handler(e, c):\n    return None\n")
	app, _, diags := spec.Load(dir, spec.Options{Stage: "dev", Getenv: func(string) string { return "" }})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	bus := spec.Addr{Kind: spec.KindBus, Name: "org"}
	arn := "arn:aws:events:eu-west-1:123456789012:event-bus/org"
	got := otherRegionUses(app, bus, arn, "us-east-1")
	if len(got) != 1 || got[0].Subject.Start.Line != 15 || !strings.Contains(got[0].Detail, "trigger.t uses bus.org") || !strings.Contains(got[0].Detail, "in eu-west-1; this app deploys to us-east-1") {
		t.Errorf("another region: %v", got)
	}
	if got := otherRegionUses(app, bus, arn, "eu-west-1"); len(got) != 0 {
		t.Errorf("the app's region: %v", got)
	}
	if got := otherRegionUses(app, bus, "org", "us-east-1"); len(got) != 0 {
		t.Errorf("a name (the app's region): %v", got)
	}
}

// TestUpstreamChanges: the upstream outputs whose value differs from the one
// recorded at the last apply, by name, decoded; a sensitive one without its
// values, in the plan and in the text printed.
func TestUpstreamChanges(t *testing.T) {
	s := &session{
		external: &external{
			consumed:  map[string]any{"app_outputs.core.a": "new", "app_outputs.core.n": int64(2), "app_outputs.core.same": "x", "app_outputs.core.tok": "s3cret2", "app_outputs.core.fresh": "y"},
			sensitive: map[string]bool{"app_outputs.core.tok": true},
		},
		doc: &state.Document{Inputs: map[string]string{"app_outputs.core.a": `"old"`, "app_outputs.core.n": `1`, "app_outputs.core.same": `"x"`, "app_outputs.core.tok": `"s3cret1"`}},
	}
	got := s.upstreamChanges()
	want := []*planner.UpstreamChange{
		{Name: "app_outputs.core.a", Before: "old", After: "new"},
		{Name: "app_outputs.core.n", Before: int64(1), After: int64(2)},
		{Name: "app_outputs.core.tok", Sensitive: true},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("upstream changes (-want +got):\n%s", d)
	}
	var out bytes.Buffer
	printUpstreamChanges(&Factory{IO: &IOStreams{Out: &out}}, &planner.Plan{Upstream: got}, &engineOptions{})
	wantText := "\nUpstream outputs changed since the last apply:\n  app_outputs.core.a: \"old\" → \"new\"\n  app_outputs.core.n: 1 → 2\n  app_outputs.core.tok: (sensitive value changed)\n"
	if d := cmp.Diff(wantText, out.String()); d != "" {
		t.Errorf("text (-want +got):\n%s", d)
	}
	if strings.Contains(out.String(), "s3cret") {
		t.Error("a sensitive value was printed")
	}
}
