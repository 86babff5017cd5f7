package aws

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"

	"github.com/evdeploy/evdeploy/planner"
)

// archiveAPI is the part of the EventBridge API the archive handler uses.
type archiveAPI interface {
	CreateArchive(context.Context, *eventbridge.CreateArchiveInput, ...func(*eventbridge.Options)) (*eventbridge.CreateArchiveOutput, error)
	DescribeArchive(context.Context, *eventbridge.DescribeArchiveInput, ...func(*eventbridge.Options)) (*eventbridge.DescribeArchiveOutput, error)
	UpdateArchive(context.Context, *eventbridge.UpdateArchiveInput, ...func(*eventbridge.Options)) (*eventbridge.UpdateArchiveOutput, error)
	DeleteArchive(context.Context, *eventbridge.DeleteArchiveInput, ...func(*eventbridge.Options)) (*eventbridge.DeleteArchiveOutput, error)
}

// eventBridgeArchive manages aws_eventbridge_archive: a bus's archive, id =
// name. Archives carry no tags; a name already taken is never adopted
// (CreateArchive fails with ResourceAlreadyExistsException).
type eventBridgeArchive struct{ api archiveAPI }

func newEventBridgeArchive(c *clients) planner.Handler { return &eventBridgeArchive{api: c.events} }

func (h *eventBridgeArchive) Schema() planner.Schema {
	return planner.Schema{
		Type:     planner.TypeArchive,
		ForceNew: []string{"name", "event_source_arn"},
		Computed: []string{"arn"},
		// The archived events are the app's data.
		HoldsData: true,
	}
}

func (h *eventBridgeArchive) Read(ctx context.Context, id string, _ planner.Attrs) (planner.Attrs, bool, error) {
	out, err := h.api.DescribeArchive(ctx, &eventbridge.DescribeArchiveInput{ArchiveName: aws.String(id)})
	if hasCode(err, "ResourceNotFoundException") {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, classify(err)
	}
	a := planner.Attrs{"name": aws.ToString(out.ArchiveName), "arn": aws.ToString(out.ArchiveArn),
		"event_source_arn": aws.ToString(out.EventSourceArn)}
	if out.RetentionDays != nil {
		a["retention_days"] = int64(*out.RetentionDays)
	}
	if out.Description != nil {
		a["description"] = *out.Description
	}
	return a, true, nil
}

func (h *eventBridgeArchive) Create(ctx context.Context, desired planner.Attrs) (string, planner.Attrs, error) {
	name := desired.String("name")
	_, err := h.api.CreateArchive(ctx, &eventbridge.CreateArchiveInput{
		ArchiveName: aws.String(name), EventSourceArn: aws.String(desired.String("event_source_arn")),
		RetentionDays: aws.Int32(int32(desired.Int("retention_days"))), Description: aws.String(desired.String("description")),
	})
	if hasCode(err, "ResourceAlreadyExistsException") {
		return "", nil, fmt.Errorf("archive %s: %w", name, planner.ErrAlreadyExists)
	}
	if err != nil {
		return "", nil, classify(err)
	}
	actual, err := h.settled(ctx, name)
	if err != nil {
		return "", nil, err
	}
	return name, actual, nil
}

// settled waits until the archive has left CREATING/UPDATING (seconds).
func (h *eventBridgeArchive) settled(ctx context.Context, name string) (planner.Attrs, error) {
	for i := 0; ; i++ {
		out, err := h.api.DescribeArchive(ctx, &eventbridge.DescribeArchiveInput{ArchiveName: aws.String(name)})
		if err != nil {
			return nil, classify(err)
		}
		if s := string(out.State); (s != "CREATING" && s != "UPDATING") || i == 60 {
			if s == "CREATE_FAILED" || s == "UPDATE_FAILED" {
				return nil, fmt.Errorf("archive %s: %s: %s", name, s, aws.ToString(out.StateReason))
			}
			actual, _, err := h.Read(ctx, name, nil)
			return actual, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

func (h *eventBridgeArchive) Update(ctx context.Context, id string, _, desired planner.Attrs) (planner.Attrs, error) {
	if _, err := h.api.UpdateArchive(ctx, &eventbridge.UpdateArchiveInput{ArchiveName: aws.String(id),
		RetentionDays: aws.Int32(int32(desired.Int("retention_days"))), Description: aws.String(desired.String("description"))}); err != nil {
		return nil, classify(err)
	}
	return h.settled(ctx, id)
}

func (h *eventBridgeArchive) Delete(ctx context.Context, id string, _ planner.Attrs) error {
	_, err := h.api.DeleteArchive(ctx, &eventbridge.DeleteArchiveInput{ArchiveName: aws.String(id)})
	if err != nil && !hasCode(err, "ResourceNotFoundException") {
		return classify(err)
	}
	return nil
}
