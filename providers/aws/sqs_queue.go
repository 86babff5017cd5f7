package aws

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/evdeploy/evdeploy/planner"
)

// sqsQueueAPI is the part of the SQS API the queue handler uses.
type sqsQueueAPI interface {
	GetQueueUrl(context.Context, *sqs.GetQueueUrlInput, ...func(*sqs.Options)) (*sqs.GetQueueUrlOutput, error)
	CreateQueue(context.Context, *sqs.CreateQueueInput, ...func(*sqs.Options)) (*sqs.CreateQueueOutput, error)
	GetQueueAttributes(context.Context, *sqs.GetQueueAttributesInput, ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error)
	SetQueueAttributes(context.Context, *sqs.SetQueueAttributesInput, ...func(*sqs.Options)) (*sqs.SetQueueAttributesOutput, error)
	ListQueueTags(context.Context, *sqs.ListQueueTagsInput, ...func(*sqs.Options)) (*sqs.ListQueueTagsOutput, error)
	TagQueue(context.Context, *sqs.TagQueueInput, ...func(*sqs.Options)) (*sqs.TagQueueOutput, error)
	UntagQueue(context.Context, *sqs.UntagQueueInput, ...func(*sqs.Options)) (*sqs.UntagQueueOutput, error)
	DeleteQueue(context.Context, *sqs.DeleteQueueInput, ...func(*sqs.Options)) (*sqs.DeleteQueueOutput, error)
}

// sqsQueue manages aws_sqs_queue; its physical id is the queue URL.
type sqsQueue struct{ api sqsQueueAPI }

func newSQSQueue(c *clients) *sqsQueue { return &sqsQueue{api: c.sqs} }

func (*sqsQueue) Schema() planner.Schema {
	return planner.Schema{
		Type:      "aws_sqs_queue",
		ForceNew:  []string{"name", "fifo"},
		Computed:  []string{"arn", "url"},
		HoldsData: true,
	}
}

// isQueueNotFound matches a missing queue. SQS's JSON protocol reports it as
// QueueDoesNotExist; the query-compatible code (and what kumo sends, as an
// untyped API error) is AWS.SimpleQueueService.NonExistentQueue.
func isQueueNotFound(err error) bool {
	var nf *sqstypes.QueueDoesNotExist
	return errors.As(err, &nf) || hasCode(err, "AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist")
}

// queue attributes evdeploy manages: attribute name → SQS attribute.
var sqsIntAttrs = []struct {
	attr string
	name sqstypes.QueueAttributeName
}{
	{"visibility_timeout", sqstypes.QueueAttributeNameVisibilityTimeout},
	{"message_retention", sqstypes.QueueAttributeNameMessageRetentionPeriod},
	{"delay", sqstypes.QueueAttributeNameDelaySeconds},
}

// canonicalRedrive renders a redrive policy canonically with a numeric
// maxReceiveCount: SQS has returned it both as a number and as a string.
func canonicalRedrive(doc string) (string, error) {
	if strings.TrimSpace(doc) == "" {
		return "", nil
	}
	var m map[string]any
	d := json.NewDecoder(strings.NewReader(doc))
	d.UseNumber()
	if err := d.Decode(&m); err != nil {
		return "", fmt.Errorf("invalid redrive policy: %w", err)
	}
	if s, ok := m["maxReceiveCount"].(string); ok {
		if _, err := strconv.ParseInt(s, 10, 64); err == nil {
			m["maxReceiveCount"] = json.Number(s)
		}
	}
	b, err := json.Marshal(m)
	if err != nil {
		return "", err
	}
	return canonicalJSON(string(b))
}

// queueName is the last path element of a queue URL.
func queueName(url string) string { return url[strings.LastIndex(url, "/")+1:] }

func (h *sqsQueue) Read(ctx context.Context, id string, _ planner.Attrs) (planner.Attrs, bool, error) {
	out, err := h.api.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(id), AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameAll},
	})
	if isQueueNotFound(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, classify(err)
	}
	a := planner.Attrs{"name": queueName(id), "url": id}
	attrs := out.Attributes
	if v := attrs[string(sqstypes.QueueAttributeNameQueueArn)]; v != "" {
		a["arn"] = v
	}
	// A standard queue has no FifoQueue attribute: that is the service
	// saying it is not FIFO (a queue imported with `evdeploy import` has no
	// last applied value to fall back on).
	a["fifo"] = attrs[string(sqstypes.QueueAttributeNameFifoQueue)] == "true"
	for _, ia := range sqsIntAttrs {
		if v, ok := attrs[string(ia.name)]; ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return nil, false, fmt.Errorf("queue %s: attribute %s=%q is not a number", id, ia.name, v)
			}
			a[ia.attr] = n
		}
	}
	if v := attrs[string(sqstypes.QueueAttributeNameRedrivePolicy)]; v != "" {
		if c, err := canonicalRedrive(v); err == nil {
			a["redrive_policy"] = c
		} else {
			a["redrive_policy"] = v
		}
	}
	tags, err := h.api.ListQueueTags(ctx, &sqs.ListQueueTagsInput{QueueUrl: aws.String(id)})
	if isQueueNotFound(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, classify(err)
	}
	setMap(a, "tags", tags.Tags)
	return a, true, nil
}

// queueAttributes renders the desired attributes in SQS's string form.
func queueAttributes(desired planner.Attrs) (map[string]string, error) {
	out := map[string]string{}
	for _, ia := range sqsIntAttrs {
		if desired.Has(ia.attr) {
			out[string(ia.name)] = strconv.FormatInt(desired.Int(ia.attr), 10)
		}
	}
	rp, err := canonicalRedrive(desired.String("redrive_policy"))
	if err != nil {
		return nil, err
	}
	// An empty RedrivePolicy removes the dead-letter queue on update.
	out[string(sqstypes.QueueAttributeNameRedrivePolicy)] = rp
	return out, nil
}

func (h *sqsQueue) Create(ctx context.Context, desired planner.Attrs) (string, planner.Attrs, error) {
	name := desired.String("name")
	fifo := desired.Bool("fifo")
	// AWS requires exactly this pairing; kumo accepts a ".fifo" standard queue.
	if fifo != strings.HasSuffix(name, ".fifo") {
		return "", nil, fmt.Errorf("queue %s: a FIFO queue's name ends in .fifo and only a FIFO queue's does (fifo=%v)", name, fifo)
	}
	// CreateQueue returns the existing queue when the attributes match (and
	// kumo even when they differ), so look first: never adopt silently.
	if out, err := h.api.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(name)}); err == nil {
		return "", nil, fmt.Errorf("queue %s (%s): %w", name, aws.ToString(out.QueueUrl), planner.ErrAlreadyExists)
	} else if !isQueueNotFound(err) {
		return "", nil, classify(err)
	}
	attrs, err := queueAttributes(desired)
	if err != nil {
		return "", nil, err
	}
	if attrs[string(sqstypes.QueueAttributeNameRedrivePolicy)] == "" {
		delete(attrs, string(sqstypes.QueueAttributeNameRedrivePolicy))
	}
	if fifo {
		attrs[string(sqstypes.QueueAttributeNameFifoQueue)] = "true"
	}
	in := &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs}
	if tags := desired.StringMap("tags"); len(tags) > 0 {
		in.Tags = tags
	}
	out, err := h.api.CreateQueue(ctx, in)
	if err != nil {
		var exists *sqstypes.QueueNameExists
		if errors.As(err, &exists) || hasCode(err, "QueueAlreadyExists") {
			return "", nil, fmt.Errorf("queue %s: %w", name, errors.Join(planner.ErrAlreadyExists, err))
		}
		return "", nil, classify(err)
	}
	url := aws.ToString(out.QueueUrl)
	actual, exists, err := h.Read(ctx, url, desired)
	if err != nil {
		return "", nil, err
	}
	if !exists {
		return "", nil, fmt.Errorf("queue %s not found right after creating it", url)
	}
	return url, actual, nil
}

func (h *sqsQueue) Update(ctx context.Context, id string, prior, desired planner.Attrs) (planner.Attrs, error) {
	want, err := queueAttributes(desired)
	if err != nil {
		return nil, err
	}
	have, err := queueAttributes(prior)
	if err != nil {
		have = map[string]string{}
	}
	changed := map[string]string{}
	for k, v := range want {
		if old, ok := have[k]; !ok || old != v {
			changed[k] = v
		}
	}
	if len(changed) > 0 {
		if _, err := h.api.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: aws.String(id), Attributes: changed}); err != nil {
			return nil, classify(err)
		}
	}
	set, remove := tagDiff(prior.StringMap("tags"), desired.StringMap("tags"))
	if len(set) > 0 {
		if _, err := h.api.TagQueue(ctx, &sqs.TagQueueInput{QueueUrl: aws.String(id), Tags: set}); err != nil {
			return nil, classify(err)
		}
	}
	if len(remove) > 0 {
		if _, err := h.api.UntagQueue(ctx, &sqs.UntagQueueInput{QueueUrl: aws.String(id), TagKeys: remove}); err != nil {
			return nil, classify(err)
		}
	}
	actual, exists, err := h.Read(ctx, id, desired)
	if err != nil {
		return nil, err
	}
	if !exists {
		return nil, fmt.Errorf("queue %s disappeared during update", id)
	}
	return actual, nil
}

func (h *sqsQueue) Delete(ctx context.Context, id string, _ planner.Attrs) error {
	_, err := h.api.DeleteQueue(ctx, &sqs.DeleteQueueInput{QueueUrl: aws.String(id)})
	if err != nil && !isQueueNotFound(err) {
		return classify(err)
	}
	return nil
}

// Find looks a queue up by its name: its id (the URL) is the service's to
// assign, so an interrupted create is found this way and adopted.
func (h *sqsQueue) Find(ctx context.Context, desired planner.Attrs) (string, planner.Attrs, bool, error) {
	name := desired.String("name")
	if name == "" {
		return "", nil, false, nil
	}
	out, err := h.api.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(name)})
	if isQueueNotFound(err) {
		return "", nil, false, nil
	}
	if err != nil {
		return "", nil, false, classify(err)
	}
	url := aws.ToString(out.QueueUrl)
	actual, found, err := h.Read(ctx, url, nil)
	if err != nil || !found {
		return "", nil, false, err
	}
	return url, actual, true, nil
}

var _ planner.Finder = (*sqsQueue)(nil)
