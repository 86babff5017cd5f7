package aws

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/evdeploy/evdeploy/planner"
)

func TestKinesisStreamLifecycle(t *testing.T) {
	ctx := testContext(t)
	h := newKinesisStream(newClients(testConfig(t)))
	name := uniqueName("stream")
	if _, exists, err := h.Read(ctx, name, nil); err != nil || exists {
		t.Fatalf("Read before Create = %v, %v", exists, err)
	}
	tags := map[string]any{"evdeploy:app": "demo", "team": "a"}
	desired := planner.Attrs{"name": name, "stream_mode": "PROVISIONED", "shard_count": int64(2), "retention_hours": int64(24), "tags": tags}
	id, created, err := h.Create(ctx, desired)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if id != name {
		t.Errorf("id = %q, want %q", id, name)
	}
	arn := created.String("arn")
	if !strings.HasPrefix(arn, "arn:aws:kinesis:us-east-1:") || !strings.HasSuffix(arn, ":stream/"+name) {
		t.Errorf("arn = %q, want a stream ARN", arn)
	}
	want := desired.Norm()
	want["arn"] = arn
	if d := cmp.Diff(want, created); d != "" {
		t.Errorf("Create (-want +got):\n%s", d)
	}
	got, exists, err := h.Read(ctx, id, nil)
	if err != nil || !exists {
		t.Fatalf("Read = %v, %v", exists, err)
	}
	if !got.Has("tags") {
		// kumo gap: ListTagsForStream is unsupported (InvalidAction) and
		// CreateStream drops Tags, so tags are not reported.
		t.Logf("%s gap: stream tags are not reported", emulatorName(t))
		delete(want, "tags")
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Read (-want +got):\n%s", d)
	}

	// In place: retention and tags. kumo gap: IncreaseStreamRetentionPeriod,
	// AddTagsToStream and UpdateShardCount are unsupported (InvalidAction), so
	// the update fails there; the read-back is checked only where it works.
	update := planner.Attrs{"name": name, "stream_mode": "PROVISIONED", "shard_count": int64(2), "retention_hours": int64(48), "tags": map[string]any{"evdeploy:app": "demo"}}
	after, err := h.Update(ctx, id, created, update)
	switch {
	case unsupportedOperation(err):
		t.Logf("kumo gap: %v", err)
	case err != nil:
		t.Fatalf("Update: %v", err)
	default:
		want := update.Norm()
		want["arn"] = arn
		if d := cmp.Diff(want, after); d != "" {
			t.Errorf("Update (-want +got):\n%s", d)
		}
	}

	if s := h.Schema(); !slices.Contains(s.ForceNew, "name") || !s.HoldsData {
		t.Errorf("schema %+v: want name ForceNew and HoldsData", s)
	}
	assertDeletedForGood(t, ctx, h, id, got)
}

func TestKinesisStreamOnDemand(t *testing.T) {
	ctx := testContext(t)
	h := newKinesisStream(newClients(testConfig(t)))
	desired := planner.Attrs{"name": uniqueName("stream"), "stream_mode": "ON_DEMAND", "retention_hours": int64(24)}
	id, created, err := h.Create(ctx, desired)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Delete(ctx, id, nil) })
	want := desired.Norm()
	want["arn"] = created.String("arn")
	got, _, err := h.Read(ctx, id, nil)
	if err != nil {
		t.Fatal(err)
	}
	// On demand: no shard_count is reported (Kinesis manages the shards).
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Read (-want +got):\n%s", d)
	}
}

func TestKinesisStreamErrors(t *testing.T) {
	ctx := testContext(t)
	h := newKinesisStream(newClients(testConfig(t)))
	stream := planner.Attrs{"name": uniqueName("stream"), "stream_mode": "PROVISIONED", "shard_count": int64(1), "retention_hours": int64(24)}
	id, _, err := h.Create(ctx, stream)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Delete(ctx, id, nil) })
	if _, _, err := h.Create(ctx, stream); !errors.Is(err, planner.ErrAlreadyExists) {
		t.Errorf("Create of an existing stream = %v, want ErrAlreadyExists", err)
	}
	bad := []struct {
		name  string
		attrs planner.Attrs
	}{
		{"invalid name", planner.Attrs{"name": "bad name!", "stream_mode": "ON_DEMAND"}},
		{"unknown mode", planner.Attrs{"name": uniqueName("stream"), "stream_mode": "FAST"}},
		{"no shards", planner.Attrs{"name": uniqueName("stream"), "stream_mode": "PROVISIONED"}},
	}
	for _, tt := range bad {
		_, _, err := h.Create(ctx, tt.attrs)
		switch {
		case err == nil && tt.name == "invalid name" && gap(t, "moto", "CreateStream accepts a name outside [a-zA-Z0-9_.-]+ (AWS: ValidationException)"):
			h.Delete(ctx, tt.attrs.String("name"), nil)
		case err == nil || errors.Is(err, planner.ErrThrottled):
			t.Errorf("%s: Create = %v, want a non-retryable error", tt.name, err)
		}
	}

	p := newFaultProxy(t)
	h = newKinesisStream(newClients(p.config(t)))
	p.throttleNext("CreateStream", 1)
	if _, _, err := h.Create(ctx, planner.Attrs{"name": uniqueName("stream"), "stream_mode": "ON_DEMAND"}); !errors.Is(err, planner.ErrThrottled) {
		t.Errorf("throttled CreateStream = %v, want ErrThrottled", err)
	}
	p.throttleNext("DescribeStreamSummary", 1)
	if _, _, err := h.Read(ctx, id, nil); !errors.Is(err, planner.ErrThrottled) {
		t.Errorf("throttled DescribeStreamSummary = %v, want ErrThrottled", err)
	}
}
