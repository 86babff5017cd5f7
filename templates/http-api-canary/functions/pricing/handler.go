package main

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/aws/aws-lambda-go/events"
)

// catalog is the price list in cents. A real service would read it from a
// table; it is code here so a release of a price change is a code change.
var catalog = map[string]int64{
	"lamp": 2500,
	"bulb": 350,
	"desk": 18900,
}

// tiers are the volume discounts: the first whose minimum the quantity
// reaches applies.
var tiers = []struct {
	min     int
	percent int64
}{{100, 15}, {10, 5}}

// maxQuantity bounds a quote: larger orders go through sales.
const maxQuantity = 10000

// Quote is the answer to GET /quote/{sku}.
type Quote struct {
	SKU             string `json:"sku"`
	Quantity        int    `json:"quantity"`
	UnitCents       int64  `json:"unit_cents"`
	DiscountPercent int64  `json:"discount_percent"`
	TotalCents      int64  `json:"total_cents"`
	// Version is the function version that answered ("$LATEST" outside an
	// alias): during a canary, some answers name the new one.
	Version string `json:"version"`
}

// Handler serves GET /quote/{sku}?quantity=N.
type Handler struct {
	Catalog map[string]int64
	Version string
}

// Handle answers 200 with a quote, 400 for a bad quantity and 404 for an
// unknown product. It never returns an error: an error is a 500 for the
// caller and counts against the release (max_errors, the alarm).
func (h *Handler) Handle(_ context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	sku := req.PathParameters["sku"]
	unit, ok := h.Catalog[sku]
	if !ok {
		return reply(http.StatusNotFound, map[string]string{"error": "no product " + strconv.Quote(sku)}), nil
	}
	qty := 1
	if s := req.QueryStringParameters["quantity"]; s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxQuantity {
			return reply(http.StatusBadRequest, map[string]string{"error": "quantity must be a whole number from 1 to " + strconv.Itoa(maxQuantity)}), nil
		}
		qty = n
	}
	return reply(http.StatusOK, quote(sku, unit, qty, h.Version)), nil
}

func quote(sku string, unit int64, qty int, version string) Quote {
	q := Quote{SKU: sku, Quantity: qty, UnitCents: unit, Version: version}
	for _, t := range tiers {
		if qty >= t.min {
			q.DiscountPercent = t.percent
			break
		}
	}
	gross := unit * int64(qty)
	q.TotalCents = gross - gross*q.DiscountPercent/100
	return q
}

func reply(status int, v any) events.APIGatewayV2HTTPResponse {
	b, _ := json.Marshal(v) // quotes and maps of strings always marshal
	return events.APIGatewayV2HTTPResponse{
		StatusCode: status,
		Headers:    map[string]string{"Content-Type": "application/json"},
		Body:       string(b),
	}
}
