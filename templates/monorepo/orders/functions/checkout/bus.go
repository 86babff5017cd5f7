package main

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
)

// putEventsAPI is the one EventBridge call the producer makes.
type putEventsAPI interface {
	PutEvents(ctx context.Context, in *eventbridge.PutEventsInput, optFns ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error)
}

type eventBus struct {
	client putEventsAPI
	bus    string
	source string
}

// Publish puts one event. PutEvents succeeds as a call even when an entry is
// rejected, so the entry's own result is checked too.
func (b *eventBus) Publish(ctx context.Context, detailType string, detail []byte) (string, error) {
	out, err := b.client.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []types.PutEventsRequestEntry{{
		EventBusName: aws.String(b.bus),
		Source:       aws.String(b.source),
		DetailType:   aws.String(detailType),
		Detail:       aws.String(string(detail)),
	}}})
	if err != nil {
		return "", err
	}
	if len(out.Entries) != 1 {
		return "", fmt.Errorf("PutEvents returned %d entries for 1", len(out.Entries))
	}
	if e := out.Entries[0]; e.ErrorCode != nil {
		return "", fmt.Errorf("event rejected: %s: %s", aws.ToString(e.ErrorCode), aws.ToString(e.ErrorMessage))
	}
	return aws.ToString(out.Entries[0].EventId), nil
}
