package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// paymentTerms is how long a customer has to pay an invoice.
const paymentTerms = 14 * 24 * time.Hour

// Order is the detail of an OrderPlaced event, as the orders app writes it.
type Order struct {
	OrderID    string    `json:"order_id"`
	Customer   string    `json:"customer"`
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

// Invoice is one record of the ledger.
type Invoice struct {
	OrderID     string
	Customer    string
	AmountCents int64
	Due         string // YYYY-MM-DD
	EventID     string // the OrderPlaced event it was made from
}

// Ledger keeps invoices.
type Ledger interface {
	// Add writes an invoice; ErrAlreadyBilled when the order has one.
	Add(ctx context.Context, inv Invoice) error
}

// ErrAlreadyBilled is Add's answer for an order that has an invoice.
var ErrAlreadyBilled = errors.New("order already billed")

// Handler consumes OrderPlaced events.
type Handler struct {
	Ledger Ledger
}

// Handle bills the order of one event. EventBridge delivers at least once,
// so an order that already has an invoice is not billed again. An error
// makes EventBridge retry the delivery (with backoff, for up to 24 hours by
// default).
func (h *Handler) Handle(ctx context.Context, ev events.EventBridgeEvent) error {
	if ev.DetailType != "OrderPlaced" {
		return fmt.Errorf("event %s: unexpected detail-type %q", ev.ID, ev.DetailType)
	}
	var o Order
	if err := json.Unmarshal(ev.Detail, &o); err != nil {
		return fmt.Errorf("event %s: %w", ev.ID, err)
	}
	inv, err := invoice(o, ev.ID)
	if err != nil {
		return fmt.Errorf("event %s: %w", ev.ID, err)
	}
	if err := h.Ledger.Add(ctx, inv); err != nil && !errors.Is(err, ErrAlreadyBilled) {
		return fmt.Errorf("event %s: order %s: %w", ev.ID, o.OrderID, err)
	}
	return nil
}

// invoice bills an order. The amount is recomputed from the lines rather
// than trusted from the event.
func invoice(o Order, eventID string) (Invoice, error) {
	if o.OrderID == "" || len(o.Lines) == 0 || o.PlacedAt.IsZero() {
		return Invoice{}, errors.New("order needs an id, a time and at least one line")
	}
	var total int64
	for _, l := range o.Lines {
		total += int64(l.Quantity) * l.PriceCents
	}
	return Invoice{
		OrderID:     o.OrderID,
		Customer:    o.Customer,
		AmountCents: total,
		Due:         o.PlacedAt.Add(paymentTerms).UTC().Format("2006-01-02"),
		EventID:     eventID,
	}, nil
}
