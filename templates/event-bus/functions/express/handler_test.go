package main

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"
)

type memTopic struct{ notices []Notice }

func (m *memTopic) Publish(_ context.Context, n Notice) error {
	m.notices = append(m.notices, n)
	return nil
}

func TestHandle(t *testing.T) {
	tests := []struct {
		name    string
		detail  string
		wantErr bool
		want    []Notice
	}{
		{
			name:   "express order before the cutoff ships today",
			detail: `{"order_id":"o-1","email":"ada@example.com","priority":"express","lines":[{"sku":"lamp","quantity":2,"price_cents":1}],"placed_at":"2026-11-26T09:30:00Z"}`,
			want: []Notice{{Kind: "dispatch", OrderID: "o-1", To: "ada@example.com", Subject: "Order o-1 ships Thu 26 Nov",
				Body: "Your express order o-1 (2 × lamp) leaves our warehouse on Thursday 26 November.\n"}},
		},
		{
			name:    "a standard order is a routing mistake",
			detail:  `{"order_id":"o-2","email":"a@b","priority":"standard","lines":[],"placed_at":"2026-11-26T09:30:00Z"}`,
			wantErr: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			topic := &memTopic{}
			err := (&Handler{Topic: topic}).Handle(context.Background(), events.EventBridgeEvent{ID: "e", DetailType: "OrderPlaced", Detail: json.RawMessage(tt.detail)})
			if (err != nil) != tt.wantErr {
				t.Fatalf("Handle error = %v, want error: %v", err, tt.wantErr)
			}
			if d := cmp.Diff(tt.want, topic.notices); d != "" {
				t.Errorf("notices (-want +got):\n%s", d)
			}
		})
	}
}

func TestShipDate(t *testing.T) {
	day := func(d, h int) time.Time { return time.Date(2026, 11, d, h, 0, 0, 0, time.UTC) }
	tests := []struct {
		placed time.Time
		want   time.Time
	}{
		{day(26, 9), day(26, 0)},  // Thursday morning: same day
		{day(26, 15), day(27, 0)}, // Thursday at the cutoff: Friday
		{day(27, 16), day(30, 0)}, // Friday afternoon: Monday
		{day(28, 10), day(30, 0)}, // Saturday: Monday
		{day(29, 23), day(30, 0)}, // Sunday night: Monday
	}
	for _, tt := range tests {
		if got := ShipDate(tt.placed); !got.Equal(tt.want) {
			t.Errorf("ShipDate(%s) = %s, want %s", tt.placed, got, tt.want)
		}
	}
}
