package aws

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/evdeploy/evdeploy/planner"
)

// snsSubscriptionAPI is the part of the SNS API the subscription handler uses.
type snsSubscriptionAPI interface {
	Subscribe(context.Context, *sns.SubscribeInput, ...func(*sns.Options)) (*sns.SubscribeOutput, error)
	GetSubscriptionAttributes(context.Context, *sns.GetSubscriptionAttributesInput, ...func(*sns.Options)) (*sns.GetSubscriptionAttributesOutput, error)
	SetSubscriptionAttributes(context.Context, *sns.SetSubscriptionAttributesInput, ...func(*sns.Options)) (*sns.SetSubscriptionAttributesOutput, error)
	ListSubscriptionsByTopic(context.Context, *sns.ListSubscriptionsByTopicInput, ...func(*sns.Options)) (*sns.ListSubscriptionsByTopicOutput, error)
	Unsubscribe(context.Context, *sns.UnsubscribeInput, ...func(*sns.Options)) (*sns.UnsubscribeOutput, error)
}

// snsSubscription manages aws_sns_subscription; its physical id is the
// subscription ARN, which only the service knows, hence Find.
type snsSubscription struct{ api snsSubscriptionAPI }

var _ planner.Finder = (*snsSubscription)(nil)

func newSNSSubscription(c *clients) *snsSubscription { return &snsSubscription{api: c.sns} }

func (*snsSubscription) Schema() planner.Schema {
	return planner.Schema{
		Type:     "aws_sns_subscription",
		ForceNew: []string{"topic_arn", "protocol", "endpoint"},
		Computed: []string{"arn"},
	}
}

func (h *snsSubscription) Read(ctx context.Context, id string, _ planner.Attrs) (planner.Attrs, bool, error) {
	out, err := h.api.GetSubscriptionAttributes(ctx, &sns.GetSubscriptionAttributesInput{SubscriptionArn: aws.String(id)})
	if isSNSNotFound(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, classify(err)
	}
	at := out.Attributes
	a := planner.Attrs{
		"topic_arn": at["TopicArn"],
		"protocol":  at["Protocol"],
		"endpoint":  at["Endpoint"],
		"arn":       id,
	}
	if v := at["FilterPolicy"]; v != "" {
		a["filter_policy"] = mustCanonicalJSON(v)
	}
	// Absent and "false" mean the same: false is left out.
	if at["RawMessageDelivery"] == "true" {
		a["raw_message_delivery"] = true
	}
	return a, true, nil
}

// Find looks up the topic's subscription with the desired protocol and
// endpoint (SNS allows one per pair), so an interrupted create is adopted.
func (h *snsSubscription) Find(ctx context.Context, desired planner.Attrs) (string, planner.Attrs, bool, error) {
	p := sns.NewListSubscriptionsByTopicPaginator(h.api, &sns.ListSubscriptionsByTopicInput{TopicArn: aws.String(desired.String("topic_arn"))})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if isSNSNotFound(err) {
			return "", nil, false, nil
		}
		if err != nil {
			return "", nil, false, classify(err)
		}
		for _, s := range page.Subscriptions {
			arn := aws.ToString(s.SubscriptionArn)
			// Pending subscriptions (http/email) have no ARN yet.
			if !strings.HasPrefix(arn, "arn:") ||
				aws.ToString(s.Protocol) != desired.String("protocol") || aws.ToString(s.Endpoint) != desired.String("endpoint") {
				continue
			}
			actual, exists, err := h.Read(ctx, arn, desired)
			if err != nil || !exists {
				return "", nil, false, err
			}
			return arn, actual, true, nil
		}
	}
	return "", nil, false, nil
}

// subscriptionAttributes renders the settable attributes in SNS's string form.
func subscriptionAttributes(a planner.Attrs) (map[string]string, error) {
	fp, err := canonicalJSON(a.String("filter_policy"))
	if err != nil {
		return nil, fmt.Errorf("filter_policy: %w", err)
	}
	out := map[string]string{"FilterPolicy": fp}
	// RawMessageDelivery applies to sqs (and http) endpoints only; SNS rejects
	// it for lambda.
	if a.String("protocol") == "sqs" {
		out["RawMessageDelivery"] = fmt.Sprint(a.Bool("raw_message_delivery"))
	}
	return out, nil
}

func (h *snsSubscription) Create(ctx context.Context, desired planner.Attrs) (string, planner.Attrs, error) {
	// Subscribe returns the existing subscription for the same topic, protocol
	// and endpoint as if it made it; look first so it is never adopted silently.
	if id, _, found, err := h.Find(ctx, desired); err != nil {
		return "", nil, err
	} else if found {
		return "", nil, fmt.Errorf("subscription %s: %w", id, planner.ErrAlreadyExists)
	}
	attrs, err := subscriptionAttributes(desired)
	if err != nil {
		return "", nil, err
	}
	if attrs["FilterPolicy"] == "" {
		delete(attrs, "FilterPolicy")
	}
	if attrs["RawMessageDelivery"] == "false" {
		delete(attrs, "RawMessageDelivery")
	}
	out, err := h.api.Subscribe(ctx, &sns.SubscribeInput{
		TopicArn:              aws.String(desired.String("topic_arn")),
		Protocol:              aws.String(desired.String("protocol")),
		Endpoint:              aws.String(desired.String("endpoint")),
		Attributes:            attrs,
		ReturnSubscriptionArn: true,
	})
	if err != nil {
		return "", nil, classify(err)
	}
	id := aws.ToString(out.SubscriptionArn)
	actual, exists, err := h.Read(ctx, id, desired)
	if err != nil {
		return "", nil, err
	}
	if !exists {
		return "", nil, fmt.Errorf("subscription %s not found right after creating it", id)
	}
	return id, actual, nil
}

func (h *snsSubscription) Update(ctx context.Context, id string, prior, desired planner.Attrs) (planner.Attrs, error) {
	want, err := subscriptionAttributes(desired)
	if err != nil {
		return nil, err
	}
	have, err := subscriptionAttributes(prior)
	if err != nil {
		have = map[string]string{}
	}
	for _, name := range []string{"FilterPolicy", "RawMessageDelivery"} {
		v, ok := want[name]
		if !ok || v == have[name] {
			continue
		}
		// An empty FilterPolicy removes the filter.
		if _, err := h.api.SetSubscriptionAttributes(ctx, &sns.SetSubscriptionAttributesInput{
			SubscriptionArn: aws.String(id), AttributeName: aws.String(name), AttributeValue: aws.String(v),
		}); err != nil {
			return nil, classify(err)
		}
	}
	actual, exists, err := h.Read(ctx, id, desired)
	if err != nil {
		return nil, err
	}
	if !exists {
		return nil, fmt.Errorf("subscription %s disappeared during update", id)
	}
	return actual, nil
}

func (h *snsSubscription) Delete(ctx context.Context, id string, _ planner.Attrs) error {
	_, err := h.api.Unsubscribe(ctx, &sns.UnsubscribeInput{SubscriptionArn: aws.String(id)})
	if err != nil && !isSNSNotFound(err) {
		return classify(err)
	}
	return nil
}
