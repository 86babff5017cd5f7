package main

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/google/go-cmp/cmp"
)

type published struct{ DetailType, Detail string }

type memBus struct {
	events []published
	err    error
}

func (m *memBus) Publish(_ context.Context, detailType string, detail []byte) (string, error) {
	if m.err != nil {
		return "", m.err
	}
	m.events = append(m.events, published{detailType, string(detail)})
	return "ev-1", nil
}

func TestHandle(t *testing.T) {
	tests := []struct {
		name       string
		body       string
		busErr     error
		wantStatus int
		wantBody   string
		wantEvents []published
	}{
		{
			name:       "order published; a client's total is ignored",
			body:       `{"customer":" Ada ","total_cents":1,"lines":[{"sku":"lamp","quantity":2,"price_cents":1250}]}`,
			wantStatus: 202,
			wantBody:   `{"event_id":"ev-1","order_id":"o-1","total_cents":2500}`,
			wantEvents: []published{{"OrderPlaced", `{"order_id":"o-1","customer":"Ada","lines":[{"sku":"lamp","quantity":2,"price_cents":1250}],"total_cents":2500,"placed_at":"2026-11-26T21:00:00Z"}`}},
		},
		{
			name:       "unknown field",
			body:       `{"customer":"Bo","priority":"now","lines":[{"sku":"x","quantity":1,"price_cents":99}]}`,
			wantStatus: 400,
			wantBody:   `{"error":"body must be an order: json: unknown field \"priority\""}`,
		},
		{
			name:       "no customer",
			body:       `{"customer":" ","lines":[{"sku":"x","quantity":1,"price_cents":99}]}`,
			wantStatus: 400,
			wantBody:   `{"error":"customer is required"}`,
		},
		{
			name:       "no lines",
			body:       `{"customer":"Bo"}`,
			wantStatus: 400,
			wantBody:   `{"error":"an order needs at least one line"}`,
		},
		{
			name:       "bad line",
			body:       `{"customer":"Bo","lines":[{"sku":"x","quantity":-1,"price_cents":99}]}`,
			wantStatus: 400,
			wantBody:   `{"error":"line 1 needs a sku, a positive quantity and a price ≥ 0"}`,
		},
		{
			name:       "bus failure",
			body:       `{"customer":"Bo","lines":[{"sku":"x","quantity":1,"price_cents":99}]}`,
			busErr:     errors.New("ThrottlingException"),
			wantStatus: 502,
			wantBody:   `{"error":"could not publish the order, try again"}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bus := &memBus{err: tt.busErr}
			h := &Handler{Bus: bus, NewID: func() string { return "o-1" },
				Now: func() time.Time { return time.Date(2026, 11, 26, 21, 0, 0, 42, time.UTC) }}
			got, err := h.Handle(context.Background(), events.APIGatewayV2HTTPRequest{RouteKey: "POST /orders", Body: tt.body})
			if err != nil {
				t.Fatalf("Handle: %v", err)
			}
			if got.StatusCode != tt.wantStatus || got.Body != tt.wantBody {
				t.Errorf("response = %d %s, want %d %s", got.StatusCode, got.Body, tt.wantStatus, tt.wantBody)
			}
			if d := cmp.Diff(tt.wantEvents, bus.events); d != "" {
				t.Errorf("published (-want +got):\n%s", d)
			}
		})
	}
}

// fakePutEvents answers PutEvents with out and records the input.
type fakePutEvents struct {
	in  *eventbridge.PutEventsInput
	out *eventbridge.PutEventsOutput
}

func (f *fakePutEvents) PutEvents(_ context.Context, in *eventbridge.PutEventsInput, _ ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error) {
	f.in = in
	return f.out, nil
}

func TestEventBusPublish(t *testing.T) {
	tests := []struct {
		name    string
		out     *eventbridge.PutEventsOutput
		wantID  string
		wantErr string
	}{
		{name: "accepted", out: &eventbridge.PutEventsOutput{Entries: []types.PutEventsResultEntry{{EventId: aws.String("e-9")}}}, wantID: "e-9"},
		{name: "entry rejected", out: &eventbridge.PutEventsOutput{FailedEntryCount: 1, Entries: []types.PutEventsResultEntry{{
			ErrorCode: aws.String("InternalFailure"), ErrorMessage: aws.String("try again")}}},
			wantErr: "event rejected: InternalFailure: try again"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakePutEvents{out: tt.out}
			id, err := (&eventBus{client: f, bus: "b", source: "s"}).Publish(context.Background(), "OrderPlaced", []byte(`{}`))
			if id != tt.wantID || (err == nil) != (tt.wantErr == "") || (err != nil && err.Error() != tt.wantErr) {
				t.Errorf("Publish = %q, %v; want %q, %q", id, err, tt.wantID, tt.wantErr)
			}
			e := f.in.Entries[0]
			if got := []string{*e.EventBusName, *e.Source, *e.DetailType, *e.Detail}; !cmp.Equal(got, []string{"b", "s", "OrderPlaced", "{}"}) {
				t.Errorf("entry = %v", got)
			}
		})
	}
}
