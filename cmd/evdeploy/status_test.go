package main

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestRenderStatus(t *testing.T) {
	n := func(v int64) *int64 { return &v }
	f := func(v float64) *float64 { return &v }
	st := &Status{App: "shop", Stage: "dev", Time: time.Date(2026, 12, 7, 17, 0, 0, 0, time.UTC),
		Queues: []QueueStatus{
			{Address: "queue.orders", Name: "shop-dev-orders", Depth: n(4), InFlight: n(1), DLQ: "shop-dev-orders-dlq", DLQDepth: n(3)},
			{Address: "queue.plain", Name: "shop-dev-plain", Depth: n(0), InFlight: n(0), OldestAgeS: n(0)},
			{Address: "queue.new", NotDeployed: true},
		},
		Triggers: []TriggerStatus{
			{Address: "trigger.orders", Source: "queue", Function: "function.worker"},
			{Address: "trigger.clicks", Source: "kinesis", Function: "function.clicks", IteratorAgeMS: f(1500)},
		},
		Functions: []FunctionStatus{
			{Address: "function.worker", Name: "shop-dev-worker", Invocations: f(12), Errors: f(9), Throttles: f(0)},
			{Address: "function.api", Name: "shop-dev-api", Invocations: f(40), Errors: f(0), Throttles: f(0), Release: "live → v3 (shifting: 4=0.1)"},
		},
		Alarms: []AlarmStatus{{Address: "queue.orders.dlq_depth", Metric: "queue.orders.dlq_depth", State: "ALARM"}},
	}
	var b strings.Builder
	renderStatus(&b, st)
	want := `shop (stage dev) at 2026-12-07T17:00:00Z

QUEUE         DEPTH  IN FLIGHT  OLDEST  DLQ DEPTH
queue.orders  4      1          -       3  ← evdeploy messages orders --dlq
queue.plain   0      0          0s      -
queue.new     -      -          -       -  (not deployed)

STREAM TRIGGER  FUNCTION         ITERATOR AGE
trigger.clicks  function.clicks  1500ms

FUNCTION (last 5m)  INVOCATIONS  ERRORS  THROTTLES  RELEASE
function.worker     12           9       0          -
function.api        40           0       0          live → v3 (shifting: 4=0.1)

ALARM                   METRIC                  STATE
queue.orders.dlq_depth  queue.orders.dlq_depth  ALARM
`
	if d := cmp.Diff(want, b.String()); d != "" {
		t.Errorf("status (-want +got):\n%s", d)
	}
}

func TestParseWhen(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Time
		err  bool
	}{
		{"2026-12-07T10:30:00Z", time.Date(2026, 12, 7, 10, 30, 0, 0, time.UTC), false},
		{"2026-12-06", time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC), false},
		{"2h", now.Add(-2 * time.Hour), false},
		{"1d ago", now.Add(-24 * time.Hour), false},
		{"now", now, false},
		{"yesterday", time.Time{}, true},
	}
	for _, tt := range tests {
		got, err := parseWhen(tt.in, now)
		if (err != nil) != tt.err || !got.Equal(tt.want) {
			t.Errorf("parseWhen(%q) = %v, %v; want %v (error %v)", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestResolveBlock(t *testing.T) {
	for in, want := range map[string]string{"orders": "queue.orders", "queue.orders": "queue.orders", "bus.orders": "error"} {
		got, err := resolveBlock(in, "queue")
		s := got.String()
		if err != nil {
			s = "error"
		}
		if s != want {
			t.Errorf("resolveBlock(%q) = %s (%v), want %s", in, s, err, want)
		}
	}
}
