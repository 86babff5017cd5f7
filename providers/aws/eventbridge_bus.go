package aws

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/evdeploy/evdeploy/planner"
)

// eventBusAPI is the part of the EventBridge API the bus handler uses.
type eventBusAPI interface {
	CreateEventBus(context.Context, *eventbridge.CreateEventBusInput, ...func(*eventbridge.Options)) (*eventbridge.CreateEventBusOutput, error)
	DescribeEventBus(context.Context, *eventbridge.DescribeEventBusInput, ...func(*eventbridge.Options)) (*eventbridge.DescribeEventBusOutput, error)
	DeleteEventBus(context.Context, *eventbridge.DeleteEventBusInput, ...func(*eventbridge.Options)) (*eventbridge.DeleteEventBusOutput, error)
	eventBridgeTagAPI
}

// eventBridgeTagAPI is EventBridge's tagging API, shared by buses and rules.
type eventBridgeTagAPI interface {
	ListTagsForResource(context.Context, *eventbridge.ListTagsForResourceInput, ...func(*eventbridge.Options)) (*eventbridge.ListTagsForResourceOutput, error)
	TagResource(context.Context, *eventbridge.TagResourceInput, ...func(*eventbridge.Options)) (*eventbridge.TagResourceOutput, error)
	UntagResource(context.Context, *eventbridge.UntagResourceInput, ...func(*eventbridge.Options)) (*eventbridge.UntagResourceOutput, error)
}

// eventBridgeBus manages aws_eventbridge_bus: a custom event bus, id = name.
type eventBridgeBus struct{ api eventBusAPI }

func newEventBridgeBus(c *clients) planner.Handler { return &eventBridgeBus{api: c.events} }

func (h *eventBridgeBus) Schema() planner.Schema {
	return planner.Schema{
		Type:     "aws_eventbridge_bus",
		ForceNew: []string{"name"},
		Computed: []string{"arn"},
		// Some endpoints (kumo) drop the tags passed with CreateEventBus;
		// TagResource follows it.
		TagsAfterCreate: true,
	}
}

func (h *eventBridgeBus) Read(ctx context.Context, id string, _ planner.Attrs) (planner.Attrs, bool, error) {
	out, err := h.api.DescribeEventBus(ctx, &eventbridge.DescribeEventBusInput{Name: aws.String(id)})
	if hasCode(err, "ResourceNotFoundException") {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, classify(err)
	}
	arn := aws.ToString(out.Arn)
	attrs := planner.Attrs{"name": aws.ToString(out.Name), "arn": arn}
	tags, err := eventBridgeTags(ctx, h.api, arn)
	if hasCode(err, "ResourceNotFoundException") {
		return nil, false, nil // deleted between the two calls
	}
	if err != nil {
		return nil, false, err
	}
	// Exactly what ListTagsForResource reports: echoing desired tags here would
	// hide a bus whose tags were changed (or never applied) from the planner.
	setMap(attrs, "tags", tags)
	return attrs, true, nil
}

func (h *eventBridgeBus) Create(ctx context.Context, desired planner.Attrs) (string, planner.Attrs, error) {
	name := desired.String("name")
	// Tags go with the create (so a bus whose create answer was lost already
	// carries the ownership tags evdeploy adopts it by) and again with
	// TagResource, because some endpoints (kumo) drop tags passed at creation.
	var createTags []ebtypes.Tag
	for k, v := range desired.StringMap("tags") {
		createTags = append(createTags, ebtypes.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	// A bus that is there before the create is a collision. Its tags may
	// come only with TagResource below, so a collision found by the SDK's
	// retry of CreateEventBus (the first answer lost) cannot be told from
	// someone else's bus by its tags: looking first tells them apart.
	_, err := h.api.DescribeEventBus(ctx, &eventbridge.DescribeEventBusInput{Name: aws.String(name)})
	if err == nil {
		return "", nil, fmt.Errorf("event bus %q: %w", name, planner.ErrAlreadyExists)
	}
	if !hasCode(err, "ResourceNotFoundException") {
		return "", nil, classify(err)
	}
	id, actual, err := h.create(ctx, name, desired, createTags)
	if err != nil && !errors.Is(err, planner.ErrAlreadyExists) {
		// The name was free: the bus may be this call's (ErrCreateSent).
		err = fmt.Errorf("event bus %q: %w", name, errors.Join(planner.ErrCreateSent, err))
	}
	return id, actual, err
}

// create makes the bus Create found absent, then tags it.
func (h *eventBridgeBus) create(ctx context.Context, name string, desired planner.Attrs, createTags []ebtypes.Tag) (string, planner.Attrs, error) {
	var arn string
	out, err := h.api.CreateEventBus(ctx, &eventbridge.CreateEventBusInput{Name: aws.String(name), Tags: createTags})
	switch {
	case hasCode(err, "ResourceAlreadyExistsException"):
		// Absent a moment ago: this is the bus the lost attempt made.
		cur, err := h.api.DescribeEventBus(ctx, &eventbridge.DescribeEventBusInput{Name: aws.String(name)})
		if err != nil {
			return "", nil, classify(err)
		}
		arn = aws.ToString(cur.Arn)
	case err != nil:
		return "", nil, classify(err)
	default:
		arn = aws.ToString(out.EventBusArn)
	}
	if err := syncEventBridgeTags(ctx, h.api, arn, nil, desired.StringMap("tags")); err != nil {
		return name, nil, err
	}
	actual := planner.Attrs{"name": name, "arn": arn}
	setMap(actual, "tags", desired.StringMap("tags"))
	return name, actual, nil
}

func (h *eventBridgeBus) Update(ctx context.Context, id string, prior, desired planner.Attrs) (planner.Attrs, error) {
	arn, err := priorARN(ctx, h, id, prior, "event bus")
	if err != nil {
		return nil, err
	}
	if err := syncEventBridgeTags(ctx, h.api, arn, prior.StringMap("tags"), desired.StringMap("tags")); err != nil {
		return nil, err
	}
	actual := planner.Attrs{"name": id, "arn": arn}
	setMap(actual, "tags", desired.StringMap("tags"))
	return actual, nil
}

func (h *eventBridgeBus) Delete(ctx context.Context, id string, _ planner.Attrs) error {
	_, err := h.api.DeleteEventBus(ctx, &eventbridge.DeleteEventBusInput{Name: aws.String(id)})
	if err != nil && !hasCode(err, "ResourceNotFoundException") {
		return classify(err)
	}
	return nil
}

// eventBridgeTags lists a bus's or rule's tags.
func eventBridgeTags(ctx context.Context, api eventBridgeTagAPI, arn string) (map[string]string, error) {
	out, err := api.ListTagsForResource(ctx, &eventbridge.ListTagsForResourceInput{ResourceARN: aws.String(arn)})
	if err != nil {
		return nil, classify(err)
	}
	tags := make(map[string]string, len(out.Tags))
	for _, t := range out.Tags {
		tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return tags, nil
}

// syncEventBridgeTags moves a resource's tags from prior to desired.
func syncEventBridgeTags(ctx context.Context, api eventBridgeTagAPI, arn string, prior, desired map[string]string) error {
	set, remove := tagDiff(prior, desired)
	if len(remove) > 0 {
		if _, err := api.UntagResource(ctx, &eventbridge.UntagResourceInput{ResourceARN: aws.String(arn), TagKeys: remove}); err != nil {
			return classify(err)
		}
	}
	if len(set) > 0 {
		tags := make([]ebtypes.Tag, 0, len(set))
		for k, v := range set {
			tags = append(tags, ebtypes.Tag{Key: aws.String(k), Value: aws.String(v)})
		}
		if _, err := api.TagResource(ctx, &eventbridge.TagResourceInput{ResourceARN: aws.String(arn), Tags: tags}); err != nil {
			return classify(err)
		}
	}
	return nil
}
