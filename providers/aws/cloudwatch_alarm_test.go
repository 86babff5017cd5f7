package aws

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/evdeploy/evdeploy/planner"
)

func alarmAttrs(name string) planner.Attrs {
	return planner.Attrs{
		"name":                name,
		"description":         "evdeploy: queue.orders.dlq_depth (shop, stage dev)",
		"namespace":           "AWS/SQS",
		"metric_name":         "ApproximateNumberOfMessagesVisible",
		"statistic":           "Maximum",
		"extended_statistic":  nil,
		"dimensions":          map[string]any{"QueueName": "shop-dev-orders-dlq"},
		"period":              int64(60),
		"evaluation_periods":  int64(1),
		"threshold":           int64(1),
		"comparison_operator": "GreaterThanOrEqualToThreshold",
		"treat_missing_data":  "notBreaching",
		"alarm_actions":       []any{"arn:aws:sns:us-east-1:000000000000:shop-dev-ops"},
		"ok_actions":          []any{"arn:aws:sns:us-east-1:000000000000:shop-dev-ops"},
		"tags":                map[string]any{"evdeploy:app": "shop", "team": "a"},
	}
}

// TestMetricAlarmLifecycle: create, read back equal, update in place (a
// percentile instead of a statistic, new tags), refuse to overwrite an alarm
// it did not make, delete for good. On kumo (the Go SDK's CBOR); moto's
// CloudWatch does not answer CBOR (docs/testing.md).
func TestMetricAlarmLifecycle(t *testing.T) {
	ctx := testContext(t)
	h := newMetricAlarm(newClients(testConfig(t)))
	name := uniqueName("alarm")
	if _, exists, err := h.Read(ctx, name, nil); err != nil || exists {
		t.Fatalf("Read before Create = %v, %v", exists, err)
	}
	desired := alarmAttrs(name)
	id, created, err := h.Create(ctx, desired)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	arn := created.String("arn")
	if !strings.HasPrefix(arn, "arn:aws:cloudwatch:") || !strings.HasSuffix(arn, ":alarm:"+name) {
		t.Errorf("arn = %q", arn)
	}
	want := desired.Norm()
	want["arn"] = arn
	check := func(what string, want, got planner.Attrs) {
		t.Helper()
		// kumo gap: TreatMissingData and ExtendedStatistic are not stored;
		// what a read does not return is not drift, so leave them out.
		for _, k := range []string{"treat_missing_data", "extended_statistic", "statistic"} {
			if _, ok := got[k]; !ok {
				t.Logf("kumo gap: DescribeAlarms does not return %s", k)
				delete(want, k)
			}
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("%s (-want +got):\n%s", what, d)
		}
	}
	check("Create", want.Norm(), created)
	got, exists, err := h.Read(ctx, id, nil)
	if err != nil || !exists {
		t.Fatalf("Read = %v, %v", exists, err)
	}
	check("Read", want.Norm(), got)

	if _, _, err := h.Create(ctx, desired); !errors.Is(err, planner.ErrAlreadyExists) {
		t.Errorf("Create of an existing alarm = %v, want ErrAlreadyExists", err)
	}

	next := alarmAttrs(name)
	next["namespace"], next["metric_name"] = "AWS/Lambda", "Duration"
	next["statistic"], next["extended_statistic"] = nil, "p99"
	next["dimensions"] = map[string]any{"FunctionName": "shop-dev-api"}
	next["period"], next["evaluation_periods"], next["threshold"] = int64(10), int64(3), 2500.5
	next["ok_actions"] = []any{}
	next["tags"] = map[string]any{"evdeploy:app": "shop", "env": "dev"}
	after, err := h.Update(ctx, id, got, next)
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	want = next.Norm()
	want["arn"] = arn
	check("Update", want, after)
	assertDeletedForGood(t, ctx, h, id, after)
}
