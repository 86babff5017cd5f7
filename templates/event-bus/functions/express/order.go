package main

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// Order is the detail of an OrderPlaced event, as the producer writes it.
type Order struct {
	OrderID    string    `json:"order_id"`
	Customer   string    `json:"customer"`
	Email      string    `json:"email"`
	Priority   string    `json:"priority"`
	Lines      []Line    `json:"lines"`
	TotalCents int64     `json:"total_cents"`
	PlacedAt   time.Time `json:"placed_at"`
}

// Line is one product in an order.
type Line struct {
	SKU        string `json:"sku"`
	Quantity   int    `json:"quantity"`
	PriceCents int64  `json:"price_cents"`
}

// Notice is what goes to the notifications topic.
type Notice struct {
	Kind    string
	OrderID string
	To      string
	Subject string
	Body    string
}

// Topic is where notices go.
type Topic interface {
	Publish(ctx context.Context, n Notice) error
}

// Handler consumes OrderPlaced events.
type Handler struct {
	Topic Topic
}

// Handle turns the event into a notice and publishes it. An error makes
// EventBridge retry the delivery (with backoff, for up to 24 hours by default).
func (h *Handler) Handle(ctx context.Context, ev events.EventBridgeEvent) error {
	if ev.DetailType != "OrderPlaced" {
		return fmt.Errorf("event %s: unexpected detail-type %q", ev.ID, ev.DetailType)
	}
	var o Order
	if err := json.Unmarshal(ev.Detail, &o); err != nil {
		return fmt.Errorf("event %s: %w", ev.ID, err)
	}
	n, err := notice(o)
	if err != nil {
		return fmt.Errorf("event %s: %w", ev.ID, err)
	}
	return h.Topic.Publish(ctx, n)
}

func money(cents int64) string { return fmt.Sprintf("%d.%02d", cents/100, cents%100) }
