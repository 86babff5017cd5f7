package aws

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/evdeploy/evdeploy/planner"
)

// sqsQueuePolicyAPI is the part of the SQS API the queue policy handler uses.
type sqsQueuePolicyAPI interface {
	GetQueueAttributes(context.Context, *sqs.GetQueueAttributesInput, ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error)
	SetQueueAttributes(context.Context, *sqs.SetQueueAttributesInput, ...func(*sqs.Options)) (*sqs.SetQueueAttributesOutput, error)
}

// sqsQueuePolicy manages aws_sqs_queue_policy, id = the queue's URL. The
// document is wholly evdeploy's (one statement per route delivering into the
// queue); a statement someone else adds shows as drift and is removed by the
// next apply.
type sqsQueuePolicy struct{ api sqsQueuePolicyAPI }

func newSQSQueuePolicy(c *clients) *sqsQueuePolicy { return &sqsQueuePolicy{api: c.sqs} }

func (*sqsQueuePolicy) Schema() planner.Schema {
	return planner.Schema{Type: "aws_sqs_queue_policy", ForceNew: []string{"queue_url"}}
}

func (h *sqsQueuePolicy) Read(ctx context.Context, id string, prior planner.Attrs) (planner.Attrs, bool, error) {
	out, err := h.api.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(id), AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNamePolicy},
	})
	if isQueueNotFound(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, classify(err)
	}
	doc := out.Attributes[string(sqstypes.QueueAttributeNamePolicy)]
	if prior.Bool("shared") {
		// Only evdeploy's statements are this resource; "shared" is
		// evdeploy's setting, never reported, so the applied value stays.
		ours := ourStatements(doc, policySids(prior.String("policy")))
		if ours == "" {
			return nil, false, nil
		}
		return planner.Attrs{"queue_url": id, "policy": ours}, true, nil
	}
	if doc == "" {
		return nil, false, nil // the queue has no policy: ours is gone
	}
	return planner.Attrs{"queue_url": id, "policy": mustCanonicalJSON(doc)}, true, nil
}

func (h *sqsQueuePolicy) put(ctx context.Context, desired planner.Attrs, drop map[string]bool) (planner.Attrs, error) {
	url := desired.String("queue_url")
	doc, err := canonicalJSON(desired.String("policy"))
	if err != nil || doc == "" {
		return nil, fmt.Errorf("policy of queue %s is not a JSON document: %v", url, err)
	}
	write := doc
	if desired.Bool("shared") {
		if write, err = h.merged(ctx, url, doc, drop); err != nil {
			return nil, err
		}
	}
	if _, err := h.api.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{
		QueueUrl: aws.String(url), Attributes: map[string]string{string(sqstypes.QueueAttributeNamePolicy): write},
	}); err != nil {
		return nil, classify(err)
	}
	attrs := planner.Attrs{"queue_url": url, "policy": doc}
	if desired.Bool("shared") {
		attrs["shared"] = true
	}
	return attrs, nil
}

// merged re-reads the queue's policy just before a write and returns it with
// the statements in drop replaced by ours ("" removes ours entirely).
func (h *sqsQueuePolicy) merged(ctx context.Context, url, ours string, drop map[string]bool) (string, error) {
	out, err := h.api.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(url), AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNamePolicy},
	})
	if err != nil {
		return "", classify(err)
	}
	doc, err := mergePolicy(out.Attributes[string(sqstypes.QueueAttributeNamePolicy)], ours, drop)
	if err != nil {
		return "", fmt.Errorf("policy of queue %s: %w", url, err)
	}
	return doc, nil
}

func (h *sqsQueuePolicy) Create(ctx context.Context, desired planner.Attrs) (string, planner.Attrs, error) {
	attrs, err := h.put(ctx, desired, policySids(desired.String("policy")))
	if err != nil {
		return "", nil, err
	}
	return desired.String("queue_url"), attrs, nil
}

func (h *sqsQueuePolicy) Update(ctx context.Context, _ string, prior, desired planner.Attrs) (planner.Attrs, error) {
	return h.put(ctx, desired, sharedDrop(prior, desired))
}

func (h *sqsQueuePolicy) Delete(ctx context.Context, id string, prior planner.Attrs) error {
	doc := ""
	if prior.Bool("shared") {
		var err error
		doc, err = h.merged(ctx, id, "", policySids(prior.String("policy")))
		if isQueueNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
	}
	_, err := h.api.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{
		QueueUrl: aws.String(id), Attributes: map[string]string{string(sqstypes.QueueAttributeNamePolicy): doc},
	})
	if err != nil && !isQueueNotFound(err) {
		return classify(err)
	}
	return nil
}

var _ planner.Finder = (*sqsQueuePolicy)(nil)

// Find looks the policy up on the desired queue (its id is the queue's URL,
// known only once the queue exists), so an interrupted create is adopted.
func (h *sqsQueuePolicy) Find(ctx context.Context, desired planner.Attrs) (string, planner.Attrs, bool, error) {
	url := desired.String("queue_url")
	actual, exists, err := h.Read(ctx, url, desired)
	if err != nil || !exists {
		return "", nil, false, err
	}
	return url, actual, true, nil
}
