package main

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/go-cmp/cmp"
)

type memLedger struct {
	invoices map[string]Invoice
	err      error
}

func (m *memLedger) Add(_ context.Context, inv Invoice) error {
	if m.err != nil {
		return m.err
	}
	if _, ok := m.invoices[inv.OrderID]; ok {
		return ErrAlreadyBilled
	}
	m.invoices[inv.OrderID] = inv
	return nil
}

const order = `{"order_id":"o-1","customer":"Ada",
 "lines":[{"sku":"lamp","quantity":2,"price_cents":1250},{"sku":"bulb","quantity":3,"price_cents":5}],
 "total_cents":1,"placed_at":"2026-11-26T21:00:00Z"}`

func TestHandle(t *testing.T) {
	billed := Invoice{OrderID: "o-1", Customer: "Ada", AmountCents: 2515, Due: "2026-12-10", EventID: "e-1"}
	placed := func(id string) events.EventBridgeEvent {
		return events.EventBridgeEvent{ID: id, DetailType: "OrderPlaced", Detail: json.RawMessage(order)}
	}
	tests := []struct {
		name     string
		events   []events.EventBridgeEvent
		storeErr error
		wantErr  bool
		want     map[string]Invoice
	}{
		{name: "invoice written, amount from the lines", events: []events.EventBridgeEvent{placed("e-1")}, want: map[string]Invoice{"o-1": billed}},
		{name: "a redelivered event bills once", events: []events.EventBridgeEvent{placed("e-1"), placed("e-1")}, want: map[string]Invoice{"o-1": billed}},
		{name: "other detail-type", events: []events.EventBridgeEvent{{ID: "e", DetailType: "OrderShipped", Detail: json.RawMessage(order)}}, wantErr: true, want: map[string]Invoice{}},
		{name: "detail without lines", events: []events.EventBridgeEvent{{ID: "e", DetailType: "OrderPlaced", Detail: json.RawMessage(`{"order_id":"o","placed_at":"2026-11-26T21:00:00Z"}`)}}, wantErr: true, want: map[string]Invoice{}},
		{name: "ledger fails: retried by EventBridge", events: []events.EventBridgeEvent{placed("e-1")}, storeErr: errors.New("throttled"), wantErr: true, want: map[string]Invoice{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ledger := &memLedger{invoices: map[string]Invoice{}, err: tt.storeErr}
			var err error
			for _, ev := range tt.events {
				err = errors.Join(err, (&Handler{Ledger: ledger}).Handle(context.Background(), ev))
			}
			if (err != nil) != tt.wantErr {
				t.Fatalf("Handle error = %v, want error: %v", err, tt.wantErr)
			}
			if d := cmp.Diff(tt.want, ledger.invoices); d != "" {
				t.Errorf("invoices (-want +got):\n%s", d)
			}
		})
	}
}

// fakePutItem answers PutItem with err and records the input.
type fakePutItem struct {
	in  *dynamodb.PutItemInput
	err error
}

func (f *fakePutItem) PutItem(_ context.Context, in *dynamodb.PutItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	f.in = in
	return &dynamodb.PutItemOutput{}, f.err
}

func TestDynamoLedger(t *testing.T) {
	inv := Invoice{OrderID: "o-1", Customer: "Ada", AmountCents: 2515, Due: "2026-12-10", EventID: "e-1"}
	tests := []struct {
		name    string
		err     error
		wantErr error
	}{
		{name: "written"},
		{name: "condition failed: already billed", err: &types.ConditionalCheckFailedException{}, wantErr: ErrAlreadyBilled},
		{name: "other error passed on", err: errors.New("throttled")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakePutItem{err: tt.err}
			err := (&dynamoLedger{client: f, table: "ledger"}).Add(context.Background(), inv)
			want := tt.wantErr
			if want == nil {
				want = tt.err
			}
			if !errors.Is(err, want) && !(err == nil && want == nil) {
				t.Errorf("Add = %v, want %v", err, want)
			}
			if got := *f.in.ConditionExpression; got != "attribute_not_exists(order_id)" {
				t.Errorf("condition = %q", got)
			}
			item := map[string]string{}
			for k, v := range f.in.Item {
				switch v := v.(type) {
				case *types.AttributeValueMemberS:
					item[k] = "S:" + v.Value
				case *types.AttributeValueMemberN:
					item[k] = "N:" + v.Value
				}
			}
			wantItem := map[string]string{"order_id": "S:o-1", "customer": "S:Ada", "amount_cents": "N:2515", "due": "S:2026-12-10", "event_id": "S:e-1"}
			if d := cmp.Diff(wantItem, item); d != "" || *f.in.TableName != "ledger" {
				t.Errorf("PutItem into %s (-want +got):\n%s", *f.in.TableName, d)
			}
		})
	}
}
