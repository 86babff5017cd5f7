package aws

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/evdeploy/evdeploy/planner"
)

func TestSNSTopicLifecycle(t *testing.T) {
	ctx := testContext(t)
	h := newSNSTopic(newClients(testConfig(t)))
	name := uniqueName("events")
	id, created, err := h.Create(ctx, planner.Attrs{"name": name, "tags": map[string]any{"evdeploy:app": "demo", "team": "a"}})
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if !strings.HasPrefix(id, "arn:aws:sns:us-east-1:") || !strings.HasSuffix(id, ":"+name) {
		t.Errorf("id = %q, want the topic ARN", id)
	}
	want := planner.Attrs{"name": name, "tags": map[string]any{"evdeploy:app": "demo", "team": "a"}, "arn": id}
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

	next := planner.Attrs{"name": name, "tags": map[string]any{"evdeploy:app": "demo", "env": "dev"}}
	after, err := h.Update(ctx, id, got, next)
	var de *smithy.DeserializationError
	switch {
	case errors.As(err, &de):
		// kumo gap: SNS TagResource/UntagResource answer with an empty body
		// the SDK's JSON protocol cannot deserialize.
		t.Logf("kumo gap: SNS TagResource response: %v", err)
	case err != nil:
		t.Fatalf("Update: %v", err)
	default:
		want["tags"] = next["tags"]
		if d := cmp.Diff(want, after); d != "" {
			t.Errorf("after Update (-want +got):\n%s", d)
		}
	}

	if s := h.Schema(); !slices.Contains(s.ForceNew, "name") || !slices.Contains(s.ForceNew, "fifo") {
		t.Errorf("name and fifo must be ForceNew: %+v", s)
	}
	assertDeletedForGood(t, ctx, h, id, nil)
	// Replacement as a FIFO topic.
	fid, fattrs, err := h.Create(ctx, planner.Attrs{"name": name + ".fifo", "fifo": true})
	if err != nil {
		t.Fatalf("Create FIFO: %v", err)
	}
	if !fattrs.Bool("fifo") {
		t.Errorf("FIFO topic reads back %v", fattrs)
	}
	if err := h.Delete(ctx, fid, nil); err != nil {
		t.Fatal(err)
	}
}

func TestSNSTopicErrors(t *testing.T) {
	ctx := testContext(t)
	h := newSNSTopic(newClients(testConfig(t)))
	name := uniqueName("events")
	id, _, err := h.Create(ctx, planner.Attrs{"name": name})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Delete(ctx, id, nil) })
	if _, _, err := h.Create(ctx, planner.Attrs{"name": name}); !errors.Is(err, planner.ErrAlreadyExists) {
		t.Errorf("Create of an existing topic = %v, want ErrAlreadyExists", err)
	}
	if _, _, err := h.Create(ctx, planner.Attrs{"name": uniqueName("t"), "fifo": true}); err == nil || errors.Is(err, planner.ErrThrottled) {
		t.Errorf("FIFO topic without .fifo = %v, want a non-retryable error", err)
	}
	if _, exists, err := h.Read(ctx, id+"-missing", nil); err != nil || exists {
		t.Errorf("Read of a missing topic = %v, %v", exists, err)
	}

	p := newFaultProxy(t)
	h = newSNSTopic(newClients(p.config(t)))
	p.throttleNext("GetTopicAttributes", 1)
	if _, _, err := h.Read(ctx, id, nil); !errors.Is(err, planner.ErrThrottled) {
		t.Errorf("throttled GetTopicAttributes = %v, want ErrThrottled", err)
	}
	p.throttleNext("CreateTopic", 1)
	if _, _, err := h.Create(ctx, planner.Attrs{"name": uniqueName("t")}); !errors.Is(err, planner.ErrThrottled) {
		t.Errorf("throttled CreateTopic = %v, want ErrThrottled", err)
	}
}
