package aws

import (
	"errors"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/google/go-cmp/cmp"

	"github.com/evdeploy/evdeploy/internal/motoserver"
	"github.com/evdeploy/evdeploy/planner"
)

func TestEventBridgeTargetLifecycle(t *testing.T) {
	ctx := testContext(t)
	c := newClients(testConfig(t))
	h := newEventBridgeTarget(c)
	rules := newEventBridgeRule(c)
	bus := testBus(ctx, t, c)
	rule := uniqueName("rule")
	ruleID, _, err := rules.Create(ctx, planner.Attrs{"bus": bus, "name": rule, "event_pattern": `{"source":["shop"]}`})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rules.Delete(ctx, ruleID, nil) })

	id := bus + "/" + rule + "/fn"
	if _, exists, err := h.Read(ctx, id, nil); err != nil || exists {
		t.Fatalf("Read before Create = %v, %v", exists, err)
	}
	desired := planner.Attrs{
		"bus": bus, "rule": rule, "target_id": "fn",
		"arn":   "arn:aws:lambda:us-east-1:000000000000:function:a",
		"input": `{ "b": 1, "a": "x" }`,
	}
	gotID, created, err := h.Create(ctx, desired)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if gotID != id {
		t.Errorf("id = %q, want %q", gotID, id)
	}
	want := desired.Norm()
	want["input"] = `{"a":"x","b":1}` // canonical JSON
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

	// In place: another function, no constant input.
	update := planner.Attrs{"bus": bus, "rule": rule, "target_id": "fn", "arn": "arn:aws:lambda:us-east-1:000000000000:function:b"}
	got = assertUpdated(t, ctx, h, id, got, update, update.Norm())

	for _, a := range []string{"bus", "rule", "target_id"} {
		if !slices.Contains(h.Schema().ForceNew, a) {
			t.Errorf("%s is not ForceNew", a)
		}
	}
	assertDeletedForGood(t, ctx, h, id, got)
	// Once the rule is gone too, the target reads as gone and deletes cleanly.
	if err := rules.Delete(ctx, ruleID, nil); err != nil {
		t.Fatal(err)
	}
	if _, exists, err := h.Read(ctx, id, nil); err != nil || exists {
		t.Errorf("Read with the rule gone = %v, %v", exists, err)
	}
	if err := h.Delete(ctx, id, nil); err != nil {
		t.Errorf("Delete with the rule gone: %v", err)
	}
}

func TestEventBridgeTargetErrors(t *testing.T) {
	ctx := testContext(t)
	c := newClients(testConfig(t))
	h := newEventBridgeTarget(c)
	rules := newEventBridgeRule(c)
	bus := testBus(ctx, t, c)
	rule := uniqueName("rule")
	ruleID, _, err := rules.Create(ctx, planner.Attrs{"bus": bus, "name": rule, "event_pattern": `{"source":["shop"]}`})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rules.Delete(ctx, ruleID, nil) })
	target := planner.Attrs{"bus": bus, "rule": rule, "target_id": "t1", "arn": "arn:aws:sqs:us-east-1:000000000000:q"}
	if _, _, err := h.Create(ctx, target); err != nil {
		t.Fatal(err)
	}
	if _, _, err := h.Create(ctx, target); !errors.Is(err, planner.ErrAlreadyExists) {
		t.Errorf("Create of an existing target id = %v, want ErrAlreadyExists", err)
	}

	bad := []struct {
		name  string
		attrs planner.Attrs
	}{
		{"malformed ARN", planner.Attrs{"bus": bus, "rule": rule, "target_id": "t2", "arn": "not-an-arn"}},
		{"malformed input", planner.Attrs{"bus": bus, "rule": rule, "target_id": "t3", "arn": "arn:aws:sqs:us-east-1:000000000000:q", "input": "{"}},
	}
	for _, tt := range bad {
		_, _, err := h.Create(ctx, tt.attrs)
		if err == nil || errors.Is(err, planner.ErrThrottled) {
			t.Errorf("%s: Create = %v, want a non-retryable error", tt.name, err)
		}
	}
	for _, id := range []string{"a/b", "a//c", "/b/c", "a/b/"} {
		if _, _, err := h.Read(ctx, id, nil); err == nil {
			t.Errorf("Read(%q) of a malformed id succeeded", id)
		}
	}

	p := newFaultProxy(t)
	h = newEventBridgeTarget(newClients(p.config(t)))
	p.throttleNext("ListTargetsByRule", 1)
	if _, _, err := h.Read(ctx, bus+"/"+rule+"/t1", nil); !errors.Is(err, planner.ErrThrottled) {
		t.Errorf("throttled ListTargetsByRule = %v, want ErrThrottled", err)
	}
}

// A target repointed outside evdeploy reads with its new ARN.
func TestEventBridgeTargetDrift(t *testing.T) {
	ctx := testContext(t)
	c := newClients(testConfig(t))
	h := newEventBridgeTarget(c)
	rules := newEventBridgeRule(c)
	bus := testBus(ctx, t, c)
	rule := uniqueName("rule")
	ruleID, _, err := rules.Create(ctx, planner.Attrs{"bus": bus, "name": rule, "event_pattern": `{"source":["shop"]}`})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rules.Delete(ctx, ruleID, nil) })
	id, _, err := h.Create(ctx, planner.Attrs{"bus": bus, "rule": rule, "target_id": "fn", "arn": fnArnA})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.events.PutTargets(ctx, &eventbridge.PutTargetsInput{
		Rule: aws.String(rule), EventBusName: aws.String(bus),
		Targets: []ebtypes.Target{{Id: aws.String("fn"), Arn: aws.String(fnArnB), Input: aws.String(`{"x":1}`)}},
	}); err != nil {
		t.Fatal(err)
	}
	got, _, err := h.Read(ctx, id, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := planner.Attrs{"bus": bus, "rule": rule, "target_id": "fn", "arn": fnArnB, "input": `{"x":1}`}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Read after an outside change (-want +got):\n%s", d)
	}
}

// TestEventBridgeTargetRouteSettings: the settings routes use — a role for a
// stream target, a message group for a FIFO queue — are written, read back
// and removed, on both emulators.
func TestEventBridgeTargetRouteSettings(t *testing.T) {
	for _, emu := range []struct {
		name string
		cfg  func(t *testing.T) aws.Config
	}{
		{"kumo", func(t *testing.T) aws.Config { return testConfig(t) }},
		{"moto", func(t *testing.T) aws.Config { return motoserver.Config(t) }},
	} {
		t.Run(emu.name, func(t *testing.T) {
			ctx := testContext(t)
			c := newClients(emu.cfg(t))
			h, rules := newEventBridgeTarget(c), newEventBridgeRule(c)
			bus := testBus(ctx, t, c)
			rule := uniqueName("rule")
			ruleID, _, err := rules.Create(ctx, planner.Attrs{"bus": bus, "name": rule, "event_pattern": `{"source":["ops"]}`})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { rules.Delete(ctx, ruleID, nil) })
			role := testRoleARN(t, c)
			for _, desired := range []planner.Attrs{
				{"bus": bus, "rule": rule, "target_id": "stream", "arn": "arn:aws:kinesis:us-east-1:000000000000:stream/archive", "role_arn": role},
				{"bus": bus, "rule": rule, "target_id": "fifo", "arn": "arn:aws:sqs:us-east-1:000000000000:ordered.fifo", "sqs_message_group_id": "ops"},
			} {
				id, created, err := h.Create(ctx, desired)
				if err != nil {
					t.Fatalf("Create %v: %v", desired, err)
				}
				if d := cmp.Diff(desired, created); d != "" {
					t.Errorf("Create (-want +got):\n%s", d)
				}
				got, exists, err := h.Read(ctx, id, created)
				if err != nil || !exists {
					t.Fatalf("Read = %v, %v", exists, err)
				}
				want := desired.Norm()
				if _, ok := got["sqs_message_group_id"]; !ok && emu.name == "kumo" {
					// Read leaves it out, so the planner keeps the applied value.
					t.Log("kumo gap: ListTargetsByRule drops SqsParameters")
					delete(want, "sqs_message_group_id")
				}
				if d := cmp.Diff(want, got); d != "" {
					t.Errorf("Read (-want +got):\n%s", d)
				}
				assertDeletedForGood(t, ctx, h, id, got)
			}
		})
	}
}
