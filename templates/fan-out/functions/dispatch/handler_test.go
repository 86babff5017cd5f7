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
		{MessageId: "m1", Body: `{"order_id":"o-1","total_cents":500}`},
		{MessageId: "m2", Body: `not json`},
		{MessageId: "m3", Body: `{"customer":"ada"}`},
	}}
	resp, err := h.Handle(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	want := []events.SQSBatchItemFailure{{ItemIdentifier: "m2"}, {ItemIdentifier: "m3"}}
	if d := cmp.Diff(want, resp.BatchItemFailures); d != "" {
		t.Errorf("failures (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]Result{{ID: "dispatch#o-1", OrderID: "o-1", TotalCents: 500, MessageID: "m1"}}, store.saved); d != "" {
		t.Errorf("saved (-want +got):\n%s", d)
	}
}
