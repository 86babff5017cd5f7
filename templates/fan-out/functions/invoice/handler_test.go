package main

import (
	"context"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"
)

type memStore struct{ saved []Result }

func (s *memStore) Save(_ context.Context, r Result) error {
	s.saved = append(s.saved, r)
	return nil
}

func TestHandle(t *testing.T) {
	store := &memStore{}
	h := &Handler{Results: store}
	ev := events.SQSEvent{Records: []events.SQSMessage{
		{MessageId: "m1", Body: `{"Type":"Notification","MessageId":"sns-1","Message":"{\"order_id\":\"o-1\",\"total_cents\":1299}"}`},
		{MessageId: "m2", Body: `{"order_id":"o-2"}`}, // raw: not from this route
		{MessageId: "m3", Body: `{"Type":"Notification","MessageId":"sns-3","Message":"{}"}`},
	}}
	resp, err := h.Handle(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	want := []events.SQSBatchItemFailure{{ItemIdentifier: "m2"}, {ItemIdentifier: "m3"}}
	if d := cmp.Diff(want, resp.BatchItemFailures); d != "" {
		t.Errorf("failures (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]Result{{ID: "invoice#o-1", OrderID: "o-1", TotalCents: 1299, MessageID: "sns-1"}}, store.saved); d != "" {
		t.Errorf("saved (-want +got):\n%s", d)
	}
}
