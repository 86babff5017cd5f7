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

type memCounters struct {
	added   []Count
	failFor map[string]bool
}

func (m *memCounters) Add(_ context.Context, c Count) error {
	if m.failFor[c.Page] {
		return errors.New("ProvisionedThroughputExceededException")
	}
	m.added = append(m.added, c)
	return nil
}

// batch makes records with sequence numbers 1, 2, 3… from their data.
func batch(data ...string) events.KinesisEvent {
	var ev events.KinesisEvent
	for i, d := range data {
		var r events.KinesisEventRecord
		r.Kinesis.Data = []byte(d)
		r.Kinesis.SequenceNumber = string(rune('1' + i))
		r.Kinesis.ApproximateArrivalTimestamp = events.SecondsEpochTime{Time: time.Date(2026, 11, 26, 20, 0, 0, 0, time.UTC)}
		ev.Records = append(ev.Records, r)
	}
	return ev
}

func TestHandle(t *testing.T) {
	ev := batch(
		`{"page":"/home","user":"u1","at":"2026-11-26T21:00:00Z"}`,
		`{"page":"/cart","user":"u1","at":"2026-11-26T21:00:05Z"}`,
		`not json`,
		`{"page":"/home","user":"u2","at":"2026-11-26T21:00:09Z"}`,
		`{"user":"u3"}`,
		`{"page":"/help","user":"u3"}`,
	)
	home := Count{Page: "/home", Views: 2, LastSeen: time.Date(2026, 11, 26, 21, 0, 9, 0, time.UTC)}
	cart := Count{Page: "/cart", Views: 1, LastSeen: time.Date(2026, 11, 26, 21, 0, 5, 0, time.UTC)}
	help := Count{Page: "/help", Views: 1, LastSeen: time.Date(2026, 11, 26, 20, 0, 0, 0, time.UTC)} // arrival time
	tests := []struct {
		name         string
		failFor      map[string]bool
		wantAdded    []Count
		wantFailures []events.KinesisBatchItemFailure
	}{
		{
			name:         "every page written",
			wantAdded:    []Count{home, cart, help},
			wantFailures: []events.KinesisBatchItemFailure{},
		},
		{
			name:         "resume from the first record of the failed page",
			failFor:      map[string]bool{"/help": true},
			wantAdded:    []Count{home, cart},
			wantFailures: []events.KinesisBatchItemFailure{{ItemIdentifier: "6"}},
		},
		{
			name:         "several failures: resume from the earliest",
			failFor:      map[string]bool{"/help": true, "/cart": true},
			wantAdded:    []Count{home},
			wantFailures: []events.KinesisBatchItemFailure{{ItemIdentifier: "2"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &memCounters{failFor: tt.failFor}
			got, err := (&Handler{Counters: m}).Handle(context.Background(), ev)
			if err != nil {
				t.Fatalf("Handle: %v", err)
			}
			if d := cmp.Diff(tt.wantFailures, got.BatchItemFailures); d != "" {
				t.Errorf("failures (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tt.wantAdded, m.added); d != "" {
				t.Errorf("added (-want +got):\n%s", d)
			}
		})
	}
}

func TestHandleOnlyInvalidRecords(t *testing.T) {
	m := &memCounters{}
	got, err := (&Handler{Counters: m}).Handle(context.Background(), batch(`[]`, `{"page":""}`))
	if err != nil || len(got.BatchItemFailures) != 0 || len(m.added) != 0 {
		t.Errorf("Handle = %+v, %v, added %v; want no failures, no writes", got, err, m.added)
	}
}

func TestUpdateInput(t *testing.T) {
	in := updateInput("views", Count{Page: "/home", Views: 3, LastSeen: time.Date(2026, 11, 26, 21, 0, 0, 0, time.UTC)})
	got := map[string]string{
		"table": *in.TableName,
		"key":   in.Key["page"].(*types.AttributeValueMemberS).Value,
		"expr":  *in.UpdateExpression,
		":n":    in.ExpressionAttributeValues[":n"].(*types.AttributeValueMemberN).Value,
		":t":    in.ExpressionAttributeValues[":t"].(*types.AttributeValueMemberS).Value,
	}
	want := map[string]string{"table": "views", "key": "/home", "expr": "ADD #views :n SET #last = :t", ":n": "3", ":t": "2026-11-26T21:00:00Z"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("update input (-want +got):\n%s", d)
	}
}
