package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// Order is the detail of an OrderPlaced event: the contract between this app
// and the apps that react to it (billing decodes the same JSON).
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

// Bus publishes events; checkout does not know who consumes them.
type Bus interface {
	// Publish puts one event and returns its id.
	Publish(ctx context.Context, detailType string, detail []byte) (string, error)
}

// Handler serves POST /orders.
type Handler struct {
	Bus   Bus
	NewID func() string
	Now   func() time.Time
}

// Handle validates the order, publishes OrderPlaced and answers 202: the
// order is accepted, billing does its work asynchronously.
func (h *Handler) Handle(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	var in Order
	dec := json.NewDecoder(strings.NewReader(req.Body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return reply(http.StatusBadRequest, map[string]string{"error": "body must be an order: " + err.Error()}), nil
	}
	if msg := validate(&in); msg != "" {
		return reply(http.StatusBadRequest, map[string]string{"error": msg}), nil
	}
	in.OrderID = h.NewID()
	in.PlacedAt = h.Now().UTC().Truncate(time.Second)
	in.TotalCents = 0
	for _, l := range in.Lines {
		in.TotalCents += int64(l.Quantity) * l.PriceCents
	}
	detail, err := json.Marshal(in)
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	id, err := h.Bus.Publish(ctx, "OrderPlaced", detail)
	if err != nil {
		log.Printf("publish order %s: %v", in.OrderID, err)
		return reply(http.StatusBadGateway, map[string]string{"error": "could not publish the order, try again"}), nil
	}
	return reply(http.StatusAccepted, map[string]any{"order_id": in.OrderID, "event_id": id, "total_cents": in.TotalCents}), nil
}

// validate checks an incoming order; it returns a message for the caller, or "".
func validate(o *Order) string {
	o.Customer = strings.TrimSpace(o.Customer)
	switch {
	case o.Customer == "":
		return "customer is required"
	case len(o.Lines) == 0:
		return "an order needs at least one line"
	}
	for i, l := range o.Lines {
		if l.SKU == "" || l.Quantity <= 0 || l.PriceCents < 0 {
			return fmt.Sprintf("line %d needs a sku, a positive quantity and a price ≥ 0", i+1)
		}
	}
	return ""
}

func reply(status int, v any) events.APIGatewayV2HTTPResponse {
	b, _ := json.Marshal(v) // maps of strings and numbers always marshal
	return events.APIGatewayV2HTTPResponse{
		StatusCode: status,
		Headers:    map[string]string{"Content-Type": "application/json"},
		Body:       string(b),
	}
}
