package aws

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"

	"github.com/evdeploy/evdeploy/planner"
)

// snsTopicAPI is the part of the SNS API the topic handler uses.
type snsTopicAPI interface {
	CreateTopic(context.Context, *sns.CreateTopicInput, ...func(*sns.Options)) (*sns.CreateTopicOutput, error)
	GetTopicAttributes(context.Context, *sns.GetTopicAttributesInput, ...func(*sns.Options)) (*sns.GetTopicAttributesOutput, error)
	ListTagsForResource(context.Context, *sns.ListTagsForResourceInput, ...func(*sns.Options)) (*sns.ListTagsForResourceOutput, error)
	TagResource(context.Context, *sns.TagResourceInput, ...func(*sns.Options)) (*sns.TagResourceOutput, error)
	UntagResource(context.Context, *sns.UntagResourceInput, ...func(*sns.Options)) (*sns.UntagResourceOutput, error)
	DeleteTopic(context.Context, *sns.DeleteTopicInput, ...func(*sns.Options)) (*sns.DeleteTopicOutput, error)
}

// snsTopic manages aws_sns_topic; its physical id is the topic ARN.
type snsTopic struct {
	api snsTopicAPI
	// caller gives the account and partition, to derive a topic's ARN
	// before it exists.
	caller func(context.Context) (account, partition string, err error)
	region string
}

func newSNSTopic(c *clients) *snsTopic {
	return &snsTopic{api: c.sns, caller: c.callerIdentity, region: c.cfg.Region}
}

func (*snsTopic) Schema() planner.Schema {
	return planner.Schema{
		Type:     "aws_sns_topic",
		ForceNew: []string{"name", "fifo"},
		Computed: []string{"arn"},
	}
}

// isSNSNotFound matches SNS's NotFound (topics, subscriptions).
func isSNSNotFound(err error) bool {
	var nf *snstypes.NotFoundException
	return errors.As(err, &nf) || hasCode(err, "NotFound")
}

func (h *snsTopic) Read(ctx context.Context, id string, _ planner.Attrs) (planner.Attrs, bool, error) {
	out, err := h.api.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: aws.String(id)})
	if isSNSNotFound(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, classify(err)
	}
	a := planner.Attrs{"name": id[strings.LastIndex(id, ":")+1:], "arn": id}
	if v := out.Attributes["TopicArn"]; v != "" {
		a["arn"] = v
	}
	// Standard topics have no FifoTopic attribute: false is left out.
	if out.Attributes["FifoTopic"] == "true" {
		a["fifo"] = true
	}
	tags, err := h.api.ListTagsForResource(ctx, &sns.ListTagsForResourceInput{ResourceArn: aws.String(id)})
	if isSNSNotFound(err) || hasCode(err, "ResourceNotFound") {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, classify(err)
	}
	m := map[string]string{}
	for _, t := range tags.Tags {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	setMap(a, "tags", m)
	return a, true, nil
}

func snsTags(m map[string]string) []snstypes.Tag {
	var out []snstypes.Tag
	for k, v := range m {
		out = append(out, snstypes.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	return out
}

func (h *snsTopic) Create(ctx context.Context, desired planner.Attrs) (string, planner.Attrs, error) {
	name := desired.String("name")
	fifo := desired.Bool("fifo")
	if fifo != strings.HasSuffix(name, ".fifo") {
		return "", nil, fmt.Errorf("topic %s: a FIFO topic's name ends in .fifo and only a FIFO topic's does (fifo=%v)", name, fifo)
	}
	// CreateTopic returns an existing topic of that name as if it made it, so
	// look first: evdeploy never adopts a topic it has no record of.
	account, partition, err := h.caller(ctx)
	if err != nil {
		return "", nil, err
	}
	arn := fmt.Sprintf("arn:%s:sns:%s:%s:%s", partition, h.region, account, name)
	if _, exists, err := h.Read(ctx, arn, nil); err != nil {
		return "", nil, err
	} else if exists {
		return "", nil, fmt.Errorf("topic %s: %w", arn, planner.ErrAlreadyExists)
	}
	in := &sns.CreateTopicInput{Name: aws.String(name), Tags: snsTags(desired.StringMap("tags"))}
	if fifo {
		in.Attributes = map[string]string{"FifoTopic": "true"}
	}
	out, err := h.api.CreateTopic(ctx, in)
	if err != nil {
		return "", nil, classify(err)
	}
	id := aws.ToString(out.TopicArn)
	actual, exists, err := h.Read(ctx, id, desired)
	if err != nil {
		return "", nil, err
	}
	if !exists {
		return "", nil, fmt.Errorf("topic %s not found right after creating it", id)
	}
	return id, actual, nil
}

func (h *snsTopic) Update(ctx context.Context, id string, prior, desired planner.Attrs) (planner.Attrs, error) {
	set, remove := tagDiff(prior.StringMap("tags"), desired.StringMap("tags"))
	if len(set) > 0 {
		if _, err := h.api.TagResource(ctx, &sns.TagResourceInput{ResourceArn: aws.String(id), Tags: snsTags(set)}); err != nil {
			return nil, classify(err)
		}
	}
	if len(remove) > 0 {
		if _, err := h.api.UntagResource(ctx, &sns.UntagResourceInput{ResourceArn: aws.String(id), TagKeys: remove}); err != nil {
			return nil, classify(err)
		}
	}
	actual, exists, err := h.Read(ctx, id, desired)
	if err != nil {
		return nil, err
	}
	if !exists {
		return nil, fmt.Errorf("topic %s disappeared during update", id)
	}
	return actual, nil
}

func (h *snsTopic) Delete(ctx context.Context, id string, _ planner.Attrs) error {
	_, err := h.api.DeleteTopic(ctx, &sns.DeleteTopicInput{TopicArn: aws.String(id)})
	if err != nil && !isSNSNotFound(err) {
		return classify(err)
	}
	return nil
}
