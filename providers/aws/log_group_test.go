package aws

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/evdeploy/evdeploy/planner"
)

func TestLogGroupLifecycle(t *testing.T) {
	ctx := testContext(t)
	h := newLogGroup(newClients(testConfig(t)))
	name := "/aws/lambda/" + uniqueName("fn")
	// A group sharing the name as a prefix must not be mistaken for it.
	other, _, err := h.Create(ctx, planner.Attrs{"name": name + "-other"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Delete(ctx, other, nil) })
	if _, exists, err := h.Read(ctx, name, nil); err != nil || exists {
		t.Fatalf("Read before Create = %v, %v", exists, err)
	}

	id, created, err := h.Create(ctx, planner.Attrs{"name": name, "retention_days": int64(14), "tags": map[string]any{"evdeploy:app": "demo", "team": "a"}})
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	arn := created.String("arn")
	if !strings.HasPrefix(arn, "arn:aws:logs:us-east-1:") || !strings.HasSuffix(arn, ":log-group:"+name) {
		t.Errorf("arn = %q, want a log-group ARN without the trailing :*", arn)
	}
	want := planner.Attrs{"name": name, "retention_days": int64(14), "tags": map[string]any{"evdeploy:app": "demo", "team": "a"}, "arn": arn}
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

	tests := []struct {
		name    string
		desired planner.Attrs
	}{
		{"retention and tags", planner.Attrs{"name": name, "retention_days": int64(30), "tags": map[string]any{"evdeploy:app": "demo", "env": "dev"}}},
		{"no retention", planner.Attrs{"name": name, "tags": map[string]any{"evdeploy:app": "demo", "env": "dev"}}},
	}
	for _, tt := range tests {
		after, err := h.Update(ctx, id, got, tt.desired)
		if err != nil {
			t.Fatalf("%s: Update: %v", tt.name, err)
		}
		want := tt.desired.Norm()
		want["arn"] = arn
		if d := cmp.Diff(want, after); d != "" {
			t.Errorf("%s: after Update (-want +got):\n%s", tt.name, d)
		}
		got = after
	}

	if !slices.Contains(h.Schema().ForceNew, "name") {
		t.Errorf("name is not ForceNew")
	}
	assertDeletedForGood(t, ctx, h, id, nil)
}

func TestLogGroupErrors(t *testing.T) {
	ctx := testContext(t)
	h := newLogGroup(newClients(testConfig(t)))
	name := "/aws/lambda/" + uniqueName("fn")
	if _, _, err := h.Create(ctx, planner.Attrs{"name": name}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Delete(ctx, name, nil) })
	if _, _, err := h.Create(ctx, planner.Attrs{"name": name}); !errors.Is(err, planner.ErrAlreadyExists) {
		t.Errorf("Create of an existing group = %v, want ErrAlreadyExists", err)
	}
	// 7 days is valid, 8 is not: a validation error is not retryable.
	_, err := h.Update(ctx, name, planner.Attrs{"name": name}, planner.Attrs{"name": name, "retention_days": int64(8)})
	if err == nil {
		t.Logf("%s gap: PutRetentionPolicy accepts a retention (8 days) AWS rejects", emulatorName(t))
	} else if errors.Is(err, planner.ErrThrottled) || errors.Is(err, planner.ErrPropagating) {
		t.Errorf("invalid retention classified as retryable: %v", err)
	}

	p := newFaultProxy(t)
	h = newLogGroup(newClients(p.config(t)))
	p.throttleNext("CreateLogGroup", 1)
	if _, _, err := h.Create(ctx, planner.Attrs{"name": "/aws/lambda/" + uniqueName("fn")}); !errors.Is(err, planner.ErrThrottled) {
		t.Errorf("throttled CreateLogGroup = %v, want ErrThrottled", err)
	}
	p.throttleNext("DescribeLogGroups", 1)
	if _, _, err := h.Read(ctx, name, nil); !errors.Is(err, planner.ErrThrottled) {
		t.Errorf("throttled DescribeLogGroups = %v, want ErrThrottled", err)
	}
}

// Prefetch lists the groups of many ids in one paginated call; each Read then
// answers the same as a Read of its own, and once: a later Read describes.
func TestLogGroupPrefetch(t *testing.T) {
	ctx := testContext(t)
	h := newLogGroup(newClients(testConfig(t)))
	base := "/aws/lambda/" + uniqueName("pf") + "-"
	var ids []string
	for _, n := range []string{"a", "b", "c"} {
		id, _, err := h.Create(ctx, planner.Attrs{"name": base + n, "retention_days": int64(7), "tags": map[string]any{"evdeploy:app": "demo"}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { h.Delete(ctx, id, nil) })
		ids = append(ids, id)
	}
	// Read on its own, for comparison.
	want := map[string]planner.Attrs{}
	for _, id := range ids {
		got, exists, err := h.Read(ctx, id, nil)
		if err != nil || !exists {
			t.Fatalf("Read %s = %v, %v", id, exists, err)
		}
		want[id] = got
	}
	missing := base + "gone"
	if err := h.Prefetch(ctx, append(slices.Clone(ids), missing)); err != nil {
		t.Fatal(err)
	}
	if len(h.prefetched) != 4 || h.prefetched[missing] != nil {
		t.Fatalf("prefetched %v, want the 3 groups and the missing one as absent", h.prefetched)
	}
	for _, id := range ids {
		got, exists, err := h.Read(ctx, id, nil)
		if err != nil || !exists {
			t.Fatalf("prefetched Read %s = %v, %v", id, exists, err)
		}
		if d := cmp.Diff(want[id], got); d != "" {
			t.Errorf("prefetched Read %s (-alone +prefetched):\n%s", id, d)
		}
	}
	if _, exists, err := h.Read(ctx, missing, nil); err != nil || exists {
		t.Errorf("prefetched Read of a missing group = %v, %v", exists, err)
	}
	if len(h.prefetched) != 0 {
		t.Errorf("entries left after one Read each: %v", h.prefetched)
	}
	// Used once: a group deleted since is seen gone by the next Read.
	if err := h.Delete(ctx, ids[0], nil); err != nil {
		t.Fatal(err)
	}
	if _, exists, err := h.Read(ctx, ids[0], nil); err != nil || exists {
		t.Errorf("Read after the prefetched entry was used = %v, %v; want a fresh describe", exists, err)
	}
}
