package aws

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/evdeploy/evdeploy/planner"
)

// routePolicy is a resource policy as lowering writes it: one statement for
// a service delivering from sourceArn.
func routePolicy(sid, service, action, resource, sourceArn string) string {
	return `{"Statement":[{"Action":"` + action + `","Condition":{"ArnEquals":{"aws:SourceArn":"` + sourceArn +
		`"}},"Effect":"Allow","Principal":{"Service":"` + service + `"},"Resource":"` + resource +
		`","Sid":"` + sid + `"}],"Version":"2012-10-17"}`
}

func TestSQSQueuePolicyLifecycle(t *testing.T) {
	ctx := testContext(t)
	c := newClients(testConfig(t))
	queues, h := newSQSQueue(c), newSQSQueuePolicy(c)
	url, q, err := queues.Create(ctx, planner.Attrs{"name": uniqueName("sink")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { queues.Delete(planner.WithAllowDataLoss(ctx), url, nil) })
	arn := q.String("arn")

	if _, exists, err := h.Read(ctx, url, nil); err != nil || exists {
		t.Fatalf("Read before Create = %v, %v", exists, err)
	}
	desired := planner.Attrs{"queue_url": url, "policy": routePolicy("evdeploy-route-a", "sns.amazonaws.com", "sqs:SendMessage", arn, "arn:aws:sns:us-east-1:000000000000:orders")}
	id, created, err := h.Create(ctx, desired)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if id != url {
		t.Errorf("id = %q, want the queue URL %q", id, url)
	}
	if d := cmp.Diff(desired, created); d != "" {
		t.Errorf("Create (-want +got):\n%s", d)
	}
	got, exists, err := h.Read(ctx, id, created)
	if err != nil || !exists {
		t.Fatalf("Read = %v, %v", exists, err)
	}
	if d := cmp.Diff(desired, got); d != "" {
		t.Errorf("Read (-want +got):\n%s", d)
	}

	// A route replaced: the whole document is rewritten.
	next := planner.Attrs{"queue_url": url, "policy": routePolicy("evdeploy-route-b", "events.amazonaws.com", "sqs:SendMessage", arn, "arn:aws:events:us-east-1:000000000000:rule/r")}
	after, err := h.Update(ctx, id, got, next)
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	if d := cmp.Diff(next, after); d != "" {
		t.Errorf("Update (-want +got):\n%s", d)
	}

	// A statement written by someone else is drift: Read reports it.
	foreign := routePolicy("someone-else", "sns.amazonaws.com", "sqs:SendMessage", arn, "arn:aws:sns:us-east-1:000000000000:other")
	if _, err := h.put(ctx, planner.Attrs{"queue_url": url, "policy": foreign}, nil); err != nil {
		t.Fatal(err)
	}
	got, _, err = h.Read(ctx, id, after)
	if err != nil {
		t.Fatal(err)
	}
	if planner.Equal(got["policy"], next["policy"]) {
		t.Errorf("a foreign policy read back as ours: %v", got["policy"])
	}

	assertDeletedForGood(t, ctx, h, id, after)
	// The queue is still there: only its policy went.
	if _, exists, err := queues.Read(ctx, url, nil); err != nil || !exists {
		t.Errorf("queue after policy Delete = %v, %v", exists, err)
	}
	// Deleting the policy of a queue that is gone succeeds.
	if err := queues.Delete(planner.WithAllowDataLoss(ctx), url, nil); err != nil {
		t.Fatal(err)
	}
	if err := h.Delete(ctx, id, after); err != nil {
		t.Errorf("Delete with the queue gone: %v", err)
	}
}
