package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"

	"github.com/aws/aws-lambda-go/events"
)

// Order is what producers publish to the topic.
type Order struct {
	OrderID    string `json:"order_id"`
	Customer   string `json:"customer"`
	TotalCents int64  `json:"total_cents"`
}

// Result is what the worker stores: one per order and worker.
type Result struct {
	ID         string // "invoice#<order id>"
	OrderID    string
	TotalCents int64
	MessageID  string
}

// ResultStore is the part of DynamoDB the handler needs.
type ResultStore interface {
	Save(ctx context.Context, r Result) error
}

// Handler bills every order the billing queue delivers.
type Handler struct{ Results ResultStore }

// Handle processes the batch and reports the messages that failed, so only
// those come back (and, after three receives, go to the dead-letter queue).
func (h *Handler) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	resp := events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{}}
	for _, m := range ev.Records {
		if err := h.process(ctx, m); err != nil {
			log.Printf("message %s: %v", m.MessageId, err)
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: m.MessageId})
		}
	}
	return resp, nil
}

func (h *Handler) process(ctx context.Context, m events.SQSMessage) error {
	// Without raw delivery SNS wraps the published message in its envelope.
	var env events.SNSEntity
	if err := json.Unmarshal([]byte(m.Body), &env); err != nil || env.Type != "Notification" {
		return fmt.Errorf("not an SNS notification: %s", m.Body)
	}
	var o Order
	if err := json.Unmarshal([]byte(env.Message), &o); err != nil {
		return fmt.Errorf("order: %w", err)
	}
	if o.OrderID == "" {
		return errors.New("order_id is required")
	}
	return h.Results.Save(ctx, Result{ID: "invoice#" + o.OrderID, OrderID: o.OrderID, TotalCents: o.TotalCents, MessageID: env.MessageID})
}
