package main

import (
	"testing"

	"github.com/google/go-cmp/cmp"
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
