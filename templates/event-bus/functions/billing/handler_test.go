package main

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"
)

type memTopic struct {
	notices []Notice
	err     error
}

func (m *memTopic) Publish(_ context.Context, n Notice) error {
	if m.err != nil {
		return m.err
	}
	m.notices = append(m.notices, n)
	return nil
}

const order = `{"order_id":"o-1","customer":"Ada","email":"ada@example.com","priority":"standard",
 "lines":[{"sku":"lamp","quantity":2,"price_cents":1250},{"sku":"bulb","quantity":3,"price_cents":5}],
 "total_cents":1,"placed_at":"2026-11-26T21:00:00Z"}`

func TestHandle(t *testing.T) {
	invoice := Notice{Kind: "invoice", OrderID: "o-1", To: "ada@example.com",
		Subject: "Invoice for order o-1: 25.15",
		Body: "Invoice for order o-1\n\n" +
			"lamp                    2 ×      12.50 =      25.00\n" +
			"bulb                    3 ×       0.05 =       0.15\n" +
			"\nTotal: 25.15\nDue:   2026-12-10\n"}
	tests := []struct {
		name    string
		ev      events.EventBridgeEvent
		pubErr  error
		wantErr bool
		want    []Notice
	}{
		{name: "invoice published", ev: events.EventBridgeEvent{ID: "e", DetailType: "OrderPlaced", Detail: json.RawMessage(order)}, want: []Notice{invoice}},
		{name: "other detail-type", ev: events.EventBridgeEvent{ID: "e", DetailType: "OrderShipped", Detail: json.RawMessage(order)}, wantErr: true},
		{name: "detail without lines", ev: events.EventBridgeEvent{ID: "e", DetailType: "OrderPlaced", Detail: json.RawMessage(`{"order_id":"o","email":"a@b"}`)}, wantErr: true},
		{name: "publish fails: retried by EventBridge", ev: events.EventBridgeEvent{ID: "e", DetailType: "OrderPlaced", Detail: json.RawMessage(order)}, pubErr: errors.New("throttled"), wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			topic := &memTopic{err: tt.pubErr}
			err := (&Handler{Topic: topic}).Handle(context.Background(), tt.ev)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Handle error = %v, want error: %v", err, tt.wantErr)
			}
			if d := cmp.Diff(tt.want, topic.notices); d != "" {
				t.Errorf("notices (-want +got):\n%s", d)
			}
		})
	}
}

func TestPublishInput(t *testing.T) {
	in := publishInput("arn:t", Notice{Kind: "invoice", OrderID: "o-1", To: "a@b", Subject: "s", Body: "b"})
	got := map[string]string{"arn": *in.TopicArn, "subject": *in.Subject, "message": *in.Message}
	for k, v := range in.MessageAttributes {
		got["attr."+k] = *v.DataType + ":" + *v.StringValue
	}
	want := map[string]string{"arn": "arn:t", "subject": "s", "message": "b",
		"attr.kind": "String:invoice", "attr.to": "String:a@b", "attr.order_id": "String:o-1"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("publish input (-want +got):\n%s", d)
	}
}
