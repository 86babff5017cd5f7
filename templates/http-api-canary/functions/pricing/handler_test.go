package main

import (
	"context"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

func TestHandle(t *testing.T) {
	tests := []struct {
		name       string
		sku, qty   string
		wantStatus int
		wantBody   string
	}{
		{"one by default", "lamp", "", 200, `{"sku":"lamp","quantity":1,"unit_cents":2500,"discount_percent":0,"total_cents":2500,"version":"7"}`},
		{"below the first tier", "bulb", "9", 200, `{"sku":"bulb","quantity":9,"unit_cents":350,"discount_percent":0,"total_cents":3150,"version":"7"}`},
		{"10 or more: 5% off", "bulb", "10", 200, `{"sku":"bulb","quantity":10,"unit_cents":350,"discount_percent":5,"total_cents":3325,"version":"7"}`},
		{"100 or more: 15% off", "desk", "100", 200, `{"sku":"desk","quantity":100,"unit_cents":18900,"discount_percent":15,"total_cents":1606500,"version":"7"}`},
		{"unknown product", "sofa", "", 404, `{"error":"no product \"sofa\""}`},
		{"zero", "lamp", "0", 400, `{"error":"quantity must be a whole number from 1 to 10000"}`},
		{"not a number", "lamp", "3.5", 400, `{"error":"quantity must be a whole number from 1 to 10000"}`},
		{"too many", "lamp", "10001", 400, `{"error":"quantity must be a whole number from 1 to 10000"}`},
	}
	h := &Handler{Catalog: catalog, Version: "7"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := events.APIGatewayV2HTTPRequest{RouteKey: "GET /quote/{sku}", PathParameters: map[string]string{"sku": tt.sku}}
			if tt.qty != "" {
				req.QueryStringParameters = map[string]string{"quantity": tt.qty}
			}
			got, err := h.Handle(context.Background(), req)
			if err != nil {
				t.Fatalf("Handle: %v", err)
			}
			if got.StatusCode != tt.wantStatus || got.Body != tt.wantBody {
				t.Errorf("response = %d %s, want %d %s", got.StatusCode, got.Body, tt.wantStatus, tt.wantBody)
			}
		})
	}
}
