package aws

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
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

// TestReleaseTripped checks what rolls a release back against kumo's
// CloudWatch: a watched alarm forced into ALARM trips, one in OK does not, a
// watched alarm that does not exist is an error (a typo would watch
// nothing). (Lambda versions are not on kumo: the whole release runs in
// TestE2EReleaseMoto; moto's CloudWatch does not speak the Go SDK's CBOR.)
func TestReleaseTripped(t *testing.T) {
	ctx := testContext(t)
	c := newClients(testConfig(t))
	h := newLambdaAlias(c)
	ok, bad := uniqueName("rel-ok"), uniqueName("rel-bad")
	for _, name := range []string{ok, bad} {
		_, err := h.cw.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{
			AlarmName: aws.String(name), Namespace: aws.String("AWS/Lambda"), MetricName: aws.String("Errors"),
			Statistic: cwtypes.StatisticSum, Period: aws.Int32(60), EvaluationPeriods: aws.Int32(1),
			Threshold: aws.Float64(1), ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanOrEqualToThreshold,
		})
		if err != nil {
			t.Fatalf("PutMetricAlarm: %v", err)
		}
		t.Cleanup(func() {
			_, _ = h.cw.DeleteAlarms(context.Background(), &cloudwatch.DeleteAlarmsInput{AlarmNames: []string{name}})
		})
	}
	set := func(name string, s cwtypes.StateValue) {
		t.Helper()
		if _, err := h.cw.SetAlarmState(ctx, &cloudwatch.SetAlarmStateInput{AlarmName: aws.String(name), StateValue: s, StateReason: aws.String("test")}); err != nil {
			t.Fatalf("SetAlarmState: %v", err)
		}
	}
	set(ok, cwtypes.StateValueOk)
	set(bad, cwtypes.StateValueOk)
	desired := planner.Attrs{"alarms": []any{ok, bad}}
	if why, err := h.tripped(ctx, "fn", "live", "2", desired, nil); err != nil || why != "" {
		t.Fatalf("both alarms OK: tripped = %q, %v; want nothing", why, err)
	}
	set(bad, cwtypes.StateValueAlarm)
	why, err := h.tripped(ctx, "fn", "live", "2", desired, nil)
	if err != nil || why != "alarm "+bad+" is in ALARM" {
		t.Errorf("an alarm in ALARM: tripped = %q, %v", why, err)
	}
	if _, err := h.tripped(ctx, "fn", "live", "2", planner.Attrs{"alarms": []any{ok, "no-such-alarm"}}, nil); err == nil || !strings.Contains(err.Error(), "no-such-alarm") {
		t.Errorf("a missing alarm: err = %v, want it named", err)
	}
}
