package aws

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/evdeploy/evdeploy/planner"
)

// TestReleaseWeights: the candidate's share at each step of each strategy.
func TestReleaseWeights(t *testing.T) {
	cases := []struct {
		strategy string
		percent  int64
		want     []float64
	}{
		{"canary", 10, []float64{0.1}},
		{"linear", 40, []float64{0.4, 0.8}},
		{"linear", 50, []float64{0.5}},
		{"linear", 33, []float64{0.33, 0.66, 0.99}},
		{"all-at-once", 0, nil},
	}
	for _, c := range cases {
		got := releaseWeights(planner.Attrs{"strategy": c.strategy, "percent": c.percent})
		if d := cmp.Diff(c.want, got); d != "" {
			t.Errorf("%s %d%% (-want +got):\n%s", c.strategy, c.percent, d)
		}
	}
}

// TestReleaseRouting: what is refused before Lambda is called ($LATEST, a
// weight outside 0–1), which moto would accept.
func TestReleaseRouting(t *testing.T) {
	for _, c := range []struct {
		version string
		weight  float64
		ok      bool
	}{
		{"8", 0.1, true},
		{"8", 0, true},
		{"8", 1, true},
		{"$LATEST", 0.1, false},
		{"8", 1.5, false},
		{"8", -0.1, false},
	} {
		rc, err := routing(c.version, c.weight)
		if (err == nil) != c.ok {
			t.Errorf("routing(%q, %g): err = %v, want ok=%v", c.version, c.weight, err, c.ok)
			continue
		}
		if err == nil && len(rc.AdditionalVersionWeights) != 1 {
			t.Errorf("routing(%q, %g) = %v, want one version", c.version, c.weight, rc.AdditionalVersionWeights)
		}
	}
	for _, c := range []struct{ in, name, qual string }{
		{"fn", "fn", ""}, {"fn:live", "fn", "live"}, {"arn:aws:lambda:us-east-1:1:function:fn", "arn:aws:lambda:us-east-1:1:function:fn", ""},
	} {
		n, q := splitQualifier(c.in)
		got := ""
		if q != nil {
			got = *q
		}
		if n != c.name || got != c.qual {
			t.Errorf("splitQualifier(%q) = %q, %q; want %q, %q", c.in, n, got, c.name, c.qual)
		}
	}
}
