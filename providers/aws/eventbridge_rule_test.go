package aws

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/google/go-cmp/cmp"

	"github.com/evdeploy/evdeploy/planner"
)

// testBus creates a custom bus deleted with the test.
func testBus(ctx context.Context, t *testing.T, c *clients) string {
	t.Helper()
	h := newEventBridgeBus(c)
	name, _, err := h.Create(ctx, planner.Attrs{"name": uniqueName("bus")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Delete(ctx, name, nil) })
	return name
}

func TestEventBridgeRuleLifecycle(t *testing.T) {
	ctx := testContext(t)
	c := newClients(testConfig(t))
	h := newEventBridgeRule(c)
	custom := testBus(ctx, t, c)

	tests := []struct {
		name            string
		create, update  planner.Attrs
		wantID, wantArn string // wantArn: the ARN's suffix
	}{
		{
			name: "pattern on a custom bus",
			create: planner.Attrs{
				"bus": custom, "event_pattern": `{"detail-type":["OrderPlaced"],"source":["shop"]}`,
				"state": "ENABLED", "description": "orders", "tags": map[string]any{"evdeploy:app": "demo"},
			},
			update: planner.Attrs{
				"bus": custom, "event_pattern": `{"source":["shop","shop2"]}`,
				"state": "DISABLED", "description": "orders v2", "tags": map[string]any{"evdeploy:app": "demo", "evdeploy:stage": "dev"},
			},
			wantArn: ":rule/" + custom + "/",
		},
		{
			name:    "schedule on the default bus",
			create:  planner.Attrs{"bus": "default", "schedule_expression": "rate(5 minutes)", "state": "ENABLED"},
			update:  planner.Attrs{"bus": "default", "schedule_expression": "cron(0 12 * * ? *)", "state": "ENABLED", "description": "noon"},
			wantArn: ":rule/",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := uniqueName("rule")
			tt.create["name"], tt.update["name"] = name, name
			bus := tt.create.String("bus")
			id := bus + "/" + name
			if _, exists, err := h.Read(ctx, id, nil); err != nil || exists {
				t.Fatalf("Read before Create = %v, %v", exists, err)
			}
			gotID, created, err := h.Create(ctx, tt.create)
			if err != nil {
				t.Fatalf("Create: %v", err)
			}
			if gotID != id {
				t.Errorf("id = %q, want %q", gotID, id)
			}
			arn := created.String("arn")
			if !strings.HasPrefix(arn, "arn:aws:events:us-east-1:") || !strings.Contains(arn, tt.wantArn) || !strings.HasSuffix(arn, "/"+name) {
				t.Errorf("arn = %q, want a rule ARN containing %q", arn, tt.wantArn)
			}
			want := tt.create.Norm()
			want["arn"] = arn
			if d := cmp.Diff(want, created); d != "" {
				t.Errorf("Create (-want +got):\n%s", d)
			}
			got, exists, err := h.Read(ctx, id, nil)
			if err != nil || !exists {
				t.Fatalf("Read = %v, %v", exists, err)
			}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("Read (-want +got):\n%s", d)
			}

			want = tt.update.Norm()
			want["arn"] = arn
			got = assertUpdated(t, ctx, h, id, got, tt.update, want)

			assertDeletedForGood(t, ctx, h, id, got)
		})
	}
	for _, a := range []string{"name", "bus"} {
		if !slices.Contains(h.Schema().ForceNew, a) {
			t.Errorf("%s is not ForceNew", a)
		}
	}
}

// A rule left with a target (an interrupted apply) is still deleted, and its
// targets with it: AWS refuses DeleteRule while targets remain.
func TestEventBridgeRuleDeleteRemovesTargets(t *testing.T) {
	ctx := testContext(t)
	c := newClients(testConfig(t))
	h := newEventBridgeRule(c)
	bus := testBus(ctx, t, c)
	name := uniqueName("rule")
	id, _, err := h.Create(ctx, planner.Attrs{"bus": bus, "name": name, "event_pattern": `{"source":["x"]}`})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.events.PutTargets(ctx, &eventbridge.PutTargetsInput{
		Rule: aws.String(name), EventBusName: aws.String(bus),
		Targets: []ebtypes.Target{{Id: aws.String("left"), Arn: aws.String("arn:aws:sqs:us-east-1:000000000000:q")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Delete(ctx, id, nil); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, exists, err := h.Read(ctx, id, nil); err != nil || exists {
		t.Fatalf("Read after Delete = %v, %v", exists, err)
	}
	// Recreated under the same name, the rule has no stale target.
	if _, _, err := h.Create(ctx, planner.Attrs{"bus": bus, "name": name, "event_pattern": `{"source":["x"]}`}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Delete(ctx, id, nil) })
	out, err := c.events.ListTargetsByRule(ctx, &eventbridge.ListTargetsByRuleInput{Rule: aws.String(name), EventBusName: aws.String(bus)})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Targets) != 0 {
		t.Errorf("recreated rule has targets %v", out.Targets)
	}
}

func TestEventBridgeRuleErrors(t *testing.T) {
	ctx := testContext(t)
	c := newClients(testConfig(t))
	h := newEventBridgeRule(c)
	bus := testBus(ctx, t, c)
	rule := planner.Attrs{"bus": bus, "name": uniqueName("rule"), "event_pattern": `{"source":["x"]}`}
	id, _, err := h.Create(ctx, rule)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Delete(ctx, id, nil) })
	if _, _, err := h.Create(ctx, rule); !errors.Is(err, planner.ErrAlreadyExists) {
		t.Errorf("Create of an existing rule = %v, want ErrAlreadyExists", err)
	}

	bad := []struct {
		name  string
		attrs planner.Attrs
	}{
		{"malformed pattern", planner.Attrs{"bus": bus, "name": uniqueName("rule"), "event_pattern": `{"source":`}},
		{"neither pattern nor schedule", planner.Attrs{"bus": bus, "name": uniqueName("rule")}},
		{"missing bus", planner.Attrs{"bus": uniqueName("nobus"), "name": uniqueName("rule"), "event_pattern": `{"source":["x"]}`}},
	}
	for _, tt := range bad {
		_, _, err := h.Create(ctx, tt.attrs)
		if err == nil || errors.Is(err, planner.ErrThrottled) {
			t.Errorf("%s: Create = %v, want a non-retryable error", tt.name, err)
		}
	}
	if _, _, err := h.Read(ctx, "no-slash", nil); err == nil {
		t.Errorf("Read of a malformed id succeeded")
	}

	p := newFaultProxy(t)
	h = newEventBridgeRule(newClients(p.config(t)))
	p.throttleNext("PutRule", 1)
	if _, _, err := h.Create(ctx, planner.Attrs{"bus": bus, "name": uniqueName("rule"), "event_pattern": `{"source":["x"]}`}); !errors.Is(err, planner.ErrThrottled) {
		t.Errorf("throttled PutRule = %v, want ErrThrottled", err)
	}
}

// A rule disabled outside evdeploy reads as DISABLED.
func TestEventBridgeRuleDrift(t *testing.T) {
	ctx := testContext(t)
	c := newClients(testConfig(t))
	h := newEventBridgeRule(c)
	bus := testBus(ctx, t, c)
	name := uniqueName("rule")
	id, _, err := h.Create(ctx, planner.Attrs{"bus": bus, "name": name, "event_pattern": `{"source":["x"]}`, "state": "ENABLED"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Delete(ctx, id, nil) })
	if _, err := c.events.PutRule(ctx, &eventbridge.PutRuleInput{
		Name: aws.String(name), EventBusName: aws.String(bus), EventPattern: aws.String(`{"source":["y"]}`), State: ebtypes.RuleStateDisabled,
	}); err != nil {
		t.Fatal(err)
	}
	got, _, err := h.Read(ctx, id, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got.String("state") != "DISABLED" || got.String("event_pattern") != `{"source":["y"]}` {
		t.Errorf("after an outside change Read = %v, want DISABLED with the new pattern", got)
	}
}
