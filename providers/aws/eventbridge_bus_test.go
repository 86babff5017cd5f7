package aws

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/evdeploy/evdeploy/planner"
)

func TestEventBridgeBusLifecycle(t *testing.T) {
	ctx := testContext(t)
	h := newEventBridgeBus(newClients(testConfig(t)))
	name := uniqueName("bus")
	if _, exists, err := h.Read(ctx, name, nil); err != nil || exists {
		t.Fatalf("Read before Create = %v, %v", exists, err)
	}

	tags := map[string]any{"evdeploy:app": "demo", "evdeploy:stage": "dev", "team": "a"}
	id, created, err := h.Create(ctx, planner.Attrs{"name": name, "tags": tags})
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if id != name {
		t.Errorf("id = %q, want %q", id, name)
	}
	arn := created.String("arn")
	if !strings.HasPrefix(arn, "arn:aws:events:us-east-1:") || !strings.HasSuffix(arn, ":event-bus/"+name) {
		t.Errorf("arn = %q, want an event-bus ARN", arn)
	}
	want := planner.Attrs{"name": name, "tags": tags, "arn": arn}
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

	// In place: one tag changed, one removed, one added.
	desired := planner.Attrs{"name": name, "tags": map[string]any{"evdeploy:app": "demo", "evdeploy:stage": "prod", "owner": "b"}}
	want = desired.Norm()
	want["arn"] = arn
	got = assertUpdated(t, ctx, h, id, got, desired, want)

	if !slices.Contains(h.Schema().ForceNew, "name") {
		t.Errorf("name is not ForceNew")
	}
	assertDeletedForGood(t, ctx, h, id, got)
}

func TestEventBridgeBusErrors(t *testing.T) {
	ctx := testContext(t)
	h := newEventBridgeBus(newClients(testConfig(t)))
	name := uniqueName("bus")
	if _, _, err := h.Create(ctx, planner.Attrs{"name": name}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Delete(ctx, name, nil) })
	if _, _, err := h.Create(ctx, planner.Attrs{"name": name}); !errors.Is(err, planner.ErrAlreadyExists) {
		t.Errorf("Create of an existing bus = %v, want ErrAlreadyExists", err)
	}
	// The default bus cannot be deleted: a validation error, not retryable.
	if err := h.Delete(ctx, "default", nil); err == nil || errors.Is(err, planner.ErrThrottled) {
		t.Errorf("Delete(default) = %v, want a non-retryable error", err)
	}

	p := newFaultProxy(t)
	h = newEventBridgeBus(newClients(p.config(t)))
	p.throttleNext("CreateEventBus", 1)
	if _, _, err := h.Create(ctx, planner.Attrs{"name": uniqueName("bus")}); !errors.Is(err, planner.ErrThrottled) {
		t.Errorf("throttled CreateEventBus = %v, want ErrThrottled", err)
	}
	p.throttleNext("DescribeEventBus", 1)
	if _, _, err := h.Read(ctx, name, nil); !errors.Is(err, planner.ErrThrottled) {
		t.Errorf("throttled DescribeEventBus = %v, want ErrThrottled", err)
	}
}

// A tag changed outside evdeploy shows in Read, so the planner sees drift.
func TestEventBridgeBusDrift(t *testing.T) {
	ctx := testContext(t)
	c := newClients(testConfig(t))
	h := newEventBridgeBus(c)
	name, created, err := h.Create(ctx, planner.Attrs{"name": uniqueName("bus"), "tags": map[string]any{"evdeploy:app": "demo"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Delete(ctx, name, nil) })
	if err := syncEventBridgeTags(ctx, c.events, created.String("arn"), map[string]string{"evdeploy:app": "demo"}, map[string]string{"evdeploy:app": "other"}); err != nil {
		t.Fatal(err)
	}
	got, _, err := h.Read(ctx, name, nil)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(map[string]any{"evdeploy:app": "other"}, got["tags"]); d != "" {
		t.Errorf("tags after an outside change (-want +got):\n%s", d)
	}
}
