package main

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/go-cmp/cmp"
)

// memOrders records saves; failFor makes saving that order id fail.
type memOrders struct {
	saved   []Record
	failFor string
}

func (m *memOrders) Save(_ context.Context, r Record) error {
	if r.OrderID == m.failFor {
		return errors.New("ProvisionedThroughputExceededException")
	}
	m.saved = append(m.saved, r)
	return nil
}

func TestHandle(t *testing.T) {
	at := time.Date(2026, 11, 26, 21, 0, 0, 0, time.UTC)
	good := `{"order_id":"o-1","customer":"ada","lines":[{"sku":"lamp","quantity":2,"price_cents":1250},{"sku":"bulb","quantity":1,"price_cents":300}]}`
	tests := []struct {
		name         string
		bodies       []string
		failFor      string
		wantFailures []string // message ids
		wantSaved    []Record
	}{
		{
			name:   "one good order",
			bodies: []string{good},
			wantSaved: []Record{{OrderID: "o-1", Customer: "ada", Items: 3, TotalCents: 2800, Status: "accepted",
				AcceptedAt: "2026-11-26T21:00:00Z", MessageID: "m0"}},
		},
		{
			name: "invalid messages fail alone",
			bodies: []string{
				`not json`,
				good,
				`{"order_id":"o-2","customer":"bob","lines":[]}`,
				`{"order_id":"o-3","customer":"cy","lines":[{"sku":"x","quantity":0,"price_cents":1}]}`,
				`{"order_id":"o-4","customer":"di","lines":[{"sku":"x","quantity":1,"price_cents":1}],"extra":1}`,
				`{"customer":"ed","lines":[{"sku":"x","quantity":1,"price_cents":1}]}`,
			},
			wantFailures: []string{"m0", "m2", "m3", "m4", "m5"},
			wantSaved: []Record{{OrderID: "o-1", Customer: "ada", Items: 3, TotalCents: 2800, Status: "accepted",
				AcceptedAt: "2026-11-26T21:00:00Z", MessageID: "m1"}},
		},
		{
			name:         "a store failure fails only that message",
			bodies:       []string{good, `{"order_id":"o-9","customer":"zed","lines":[{"sku":"x","quantity":1,"price_cents":5}]}`},
			failFor:      "o-1",
			wantFailures: []string{"m0"},
			wantSaved: []Record{{OrderID: "o-9", Customer: "zed", Items: 1, TotalCents: 5, Status: "accepted",
				AcceptedAt: "2026-11-26T21:00:00Z", MessageID: "m1"}},
		},
		{
			name:   "empty batch",
			bodies: nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ev events.SQSEvent
			for i, b := range tt.bodies {
				ev.Records = append(ev.Records, events.SQSMessage{MessageId: "m" + string(rune('0'+i)), Body: b})
			}
			store := &memOrders{failFor: tt.failFor}
			h := &Handler{Orders: store, Now: func() time.Time { return at }}
			got, err := h.Handle(context.Background(), ev)
			if err != nil {
				t.Fatalf("Handle: %v", err)
			}
			var gotIDs []string
			for _, f := range got.BatchItemFailures {
				gotIDs = append(gotIDs, f.ItemIdentifier)
			}
			if d := cmp.Diff(tt.wantFailures, gotIDs); d != "" {
				t.Errorf("batch item failures (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tt.wantSaved, store.saved); d != "" {
				t.Errorf("saved (-want +got):\n%s", d)
			}
		})
	}
}

func TestRecordItem(t *testing.T) {
	got := recordItem(Record{OrderID: "o-1", Customer: "ada", Items: 3, TotalCents: 2800, Status: "accepted", AcceptedAt: "t", MessageID: "m"})
	want := map[string]string{"order_id": "o-1", "customer": "ada", "items": "3", "total_cents": "2800", "status": "accepted", "accepted_at": "t", "message_id": "m"}
	plain := map[string]string{}
	for k, v := range got {
		switch v := v.(type) {
		case *types.AttributeValueMemberS:
			plain[k] = v.Value
		case *types.AttributeValueMemberN:
			plain[k] = v.Value
		}
	}
	if d := cmp.Diff(want, plain); d != "" {
		t.Errorf("item (-want +got):\n%s", d)
	}
}
