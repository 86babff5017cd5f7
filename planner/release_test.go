package planner

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestRelease checks the plan's words and steps for a change of a live
// alias: a first version, each strategy, and a rollout a killed apply left.
func TestRelease(t *testing.T) {
	alias := ResourceAddr{Block: "function.api", Type: TypeAlias, Name: "live"}
	after := func(strategy string, percent, wait int64) Attrs {
		return Attrs{"strategy": strategy, "percent": percent, "wait_seconds": wait}
	}
	before := Attrs{"function_version": "7", "latest_version": "7"}
	cases := []struct {
		name  string
		c     *Change
		line  string
		steps []ReleaseStep
	}{
		{"first", &Change{Addr: alias, Action: Create, After: after("canary", 10, 300)},
			"release v1 (first version)", []ReleaseStep{{Percent: 100}}},
		{"canary", &Change{Addr: alias, Action: Update, Before: before, After: after("canary", 10, 300)},
			"release v7 → v8 (canary 10% for 5m)", []ReleaseStep{{10, 300}, {100, 0}}},
		{"linear", &Change{Addr: alias, Action: Update, Before: before, After: after("linear", 40, 90)},
			"release v7 → v8 (linear 40% every 1m30s)", []ReleaseStep{{40, 90}, {80, 90}, {100, 0}}},
		{"all at once", &Change{Addr: alias, Action: Update, Before: before, After: after("all-at-once", 0, 0)},
			"release v7 → v8 (all at once)", []ReleaseStep{{100, 0}}},
		{"after a rollback", &Change{Addr: alias, Action: Update,
			Before: Attrs{"function_version": "6", "latest_version": "7", "latest_release_key": "k7"},
			After:  Attrs{"strategy": "canary", "percent": int64(10), "wait_seconds": int64(300), "release_key": "k7"}},
			"release v6 → v7 (canary 10% for 5m)", []ReleaseStep{{10, 300}, {100, 0}}},
		{"resume", &Change{Addr: alias, Action: Update,
			Before: Attrs{"function_version": "7", "latest_version": "9", "rollout": map[string]any{"stable": "7", "candidate": "9"}},
			After:  after("canary", 50, 20)},
			"resume release v7 → v9 (canary 50% for 20s)", []ReleaseStep{{50, 20}, {100, 0}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := Release(c.c)
			if r == nil {
				t.Fatal("not a release")
			}
			if got := r.Line(); got != c.line {
				t.Errorf("line = %q, want %q", got, c.line)
			}
			if d := cmp.Diff(c.steps, r.Steps); d != "" {
				t.Errorf("steps (-want +got):\n%s", d)
			}
		})
	}
	if Release(&Change{Addr: ResourceAddr{Type: TypeFunction}, Action: Update}) != nil {
		t.Error("a function change is not a release")
	}
}
