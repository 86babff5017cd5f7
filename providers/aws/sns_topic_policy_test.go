package aws

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/google/go-cmp/cmp"

	"github.com/evdeploy/evdeploy/planner"
)

func TestSNSTopicPolicyLifecycle(t *testing.T) {
	ctx := testContext(t)
	c := newClients(testConfig(t))
	topics, h := newSNSTopic(c), newSNSTopicPolicy(c)
	arn, _, err := topics.Create(ctx, planner.Attrs{"name": uniqueName("alerts")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { topics.Delete(ctx, arn, nil) })

	// A new topic has SNS's default policy, which is not ours.
	if _, exists, err := h.Read(ctx, arn, nil); err != nil || exists {
		t.Fatalf("Read before Create = %v, %v", exists, err)
	}
	desired := planner.Attrs{"topic_arn": arn, "policy": routePolicy("evdeploy-route-a", "s3.amazonaws.com", "sns:Publish", arn, "arn:aws:s3:::uploads")}
	id, created, err := h.Create(ctx, desired)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if id != arn {
		t.Errorf("id = %q, want the topic ARN", id)
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
	next := planner.Attrs{"topic_arn": arn, "policy": routePolicy("evdeploy-route-b", "events.amazonaws.com", "sns:Publish", arn, "arn:aws:events:us-east-1:000000000000:rule/tick")}
	after, err := h.Update(ctx, id, got, next)
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	if got, _, _ := h.Read(ctx, id, after); !planner.Equal(got, next) {
		t.Errorf("Read after Update = %v, want %v", got, next)
	}
	assertDeletedForGood(t, ctx, h, id, after)
	// Deleting put SNS's default back, so the topic stays usable by its owner.
	out, err := c.sns.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: aws.String(arn)})
	if err != nil {
		t.Fatal(err)
	}
	if p := out.Attributes["Policy"]; !planner.Equal(mustCanonicalJSON(p), mustCanonicalJSON(defaultTopicPolicy(arn))) {
		t.Errorf("policy after Delete = %s, want the default", p)
	}
}
