package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// Order is the message producers send.
type Order struct {
	OrderID  string `json:"order_id"`
	Customer string `json:"customer"`
	Lines    []Line `json:"lines"`
}

// Line is one product in an order.
type Line struct {
	SKU        string `json:"sku"`
	Quantity   int    `json:"quantity"`
	PriceCents int64  `json:"price_cents"`
}

// Record is what the worker stores for an accepted order.
type Record struct {
	OrderID    string
	Customer   string
	Items      int
	TotalCents int64
	Status     string
	AcceptedAt string
	MessageID  string
}

// OrderStore is the part of DynamoDB the handler needs.
type OrderStore interface {
	// Save stores r, replacing a record with the same order id: a message
	// delivered twice (SQS is at-least-once) writes the same record twice.
	Save(ctx context.Context, r Record) error
}

// Handler processes a batch of SQS messages.
type Handler struct {
	Orders OrderStore
	Now    func() time.Time
}

// errInvalid marks messages that will never succeed; they are reported as
// failures too, so that after max_receives they land in the dead-letter queue
// where someone can look at them, instead of disappearing.
var errInvalid = errors.New("invalid order")

// Handle processes every message and reports the ones that failed, so Lambda
// deletes the rest from the queue. It returns an error only when it cannot
// report per message.
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
	o, err := parseOrder(m.Body)
	if err != nil {
		return err
	}
	r := Record{
		OrderID:    o.OrderID,
		Customer:   o.Customer,
		Status:     "accepted",
		AcceptedAt: h.Now().UTC().Format(time.RFC3339),
		MessageID:  m.MessageId,
	}
	for _, l := range o.Lines {
		r.Items += l.Quantity
		r.TotalCents += int64(l.Quantity) * l.PriceCents
	}
	if err := h.Orders.Save(ctx, r); err != nil {
		return fmt.Errorf("save order %s: %w", o.OrderID, err)
	}
	return nil
}

// parseOrder decodes and checks a message body.
func parseOrder(body string) (Order, error) {
	var o Order
	dec := json.NewDecoder(strings.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&o); err != nil {
		return o, fmt.Errorf("%w: %v", errInvalid, err)
	}
	switch {
	case o.OrderID == "":
		return o, fmt.Errorf("%w: order_id is required", errInvalid)
	case o.Customer == "":
		return o, fmt.Errorf("%w: customer is required", errInvalid)
	case len(o.Lines) == 0:
		return o, fmt.Errorf("%w: an order needs at least one line", errInvalid)
	}
	for i, l := range o.Lines {
		if l.SKU == "" || l.Quantity <= 0 || l.PriceCents < 0 {
			return o, fmt.Errorf("%w: line %d needs a sku, a positive quantity and a price ≥ 0", errInvalid, i+1)
		}
	}
	return o, nil
}
