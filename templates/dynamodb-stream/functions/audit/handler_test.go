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
	"github.com/google/go-cmp/cmp/cmpopts"
)

// streamEvent is a batch as Lambda delivers it: an insert, a modify, a remove.
const streamEvent = `{"Records":[
 {"eventID":"e1","eventName":"INSERT","eventSourceARN":"arn:aws:dynamodb:us-east-1:123456789012:table/shop-dev-orders/stream/2026-11-26T21:00:00.000",
  "dynamodb":{"ApproximateCreationDateTime":1795726800,"SequenceNumber":"100","StreamViewType":"NEW_AND_OLD_IMAGES",
   "Keys":{"order_id":{"S":"o-1"}},
   "NewImage":{"order_id":{"S":"o-1"},"total":{"N":"12.50"},"tags":{"SS":["gift"]}}}},
 {"eventID":"e2","eventName":"MODIFY","eventSourceARN":"arn:aws:dynamodb:us-east-1:123456789012:table/shop-dev-orders/stream/2026-11-26T21:00:00.000",
  "dynamodb":{"ApproximateCreationDateTime":1795726860,"SequenceNumber":"200","StreamViewType":"NEW_AND_OLD_IMAGES",
   "Keys":{"order_id":{"S":"o-1"}},
   "OldImage":{"order_id":{"S":"o-1"},"total":{"N":"12.50"},"tags":{"SS":["gift"]}},
   "NewImage":{"order_id":{"S":"o-1"},"total":{"N":"12.50"},"status":{"S":"paid"},"meta":{"M":{"n":{"L":[{"N":"1"},{"BOOL":true},{"NULL":true}]}}}}}},
 {"eventID":"e3","eventName":"REMOVE","eventSourceARN":"arn:aws:dynamodb:us-east-1:123456789012:table/shop-dev-orders/stream/2026-11-26T21:00:00.000",
  "dynamodb":{"ApproximateCreationDateTime":1795726920,"SequenceNumber":"300","StreamViewType":"NEW_AND_OLD_IMAGES",
   "Keys":{"order_id":{"S":"o-1"}},
   "OldImage":{"order_id":{"S":"o-1"}}}}
]}`

type memAudit struct {
	entries []Entry
	err     error
}

func (m *memAudit) Write(_ context.Context, es []Entry) error {
	if m.err != nil {
		return m.err
	}
	m.entries = append(m.entries, es...)
	return nil
}

func TestHandle(t *testing.T) {
	var ev events.DynamoDBEvent
	if err := json.Unmarshal([]byte(streamEvent), &ev); err != nil {
		t.Fatal(err)
	}
	want := []Entry{
		{EventID: "e1", Operation: "INSERT", Table: "shop-dev-orders", Keys: `{"order_id":"o-1"}`,
			NewImage: `{"order_id":"o-1","tags":["gift"],"total":12.50}`,
			Changed:  []string{"order_id", "tags", "total"}, At: "2026-11-26T21:00:00Z", Sequence: "100"},
		{EventID: "e2", Operation: "MODIFY", Table: "shop-dev-orders", Keys: `{"order_id":"o-1"}`,
			OldImage: `{"order_id":"o-1","tags":["gift"],"total":12.50}`,
			NewImage: `{"meta":{"n":[1,true,null]},"order_id":"o-1","status":"paid","total":12.50}`,
			Changed:  []string{"meta", "status", "tags"}, At: "2026-11-26T21:01:00Z", Sequence: "200"},
		{EventID: "e3", Operation: "REMOVE", Table: "shop-dev-orders", Keys: `{"order_id":"o-1"}`,
			OldImage: `{"order_id":"o-1"}`,
			Changed:  []string{"order_id"}, At: "2026-11-26T21:02:00Z", Sequence: "300"},
	}
	tests := []struct {
		name     string
		writeErr error
		wantErr  bool
		want     []Entry
	}{
		{name: "all records audited", want: want},
		{name: "a failed write fails the batch", writeErr: errors.New("throttled"), wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := &memAudit{err: tt.writeErr}
			err := (&Handler{Audit: a}).Handle(context.Background(), ev)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Handle error = %v, want error: %v", err, tt.wantErr)
			}
			if d := cmp.Diff(tt.want, a.entries); d != "" {
				t.Errorf("entries (-want +got):\n%s", d)
			}
		})
	}
}

func TestTableName(t *testing.T) {
	for in, want := range map[string]string{
		"arn:aws:dynamodb:us-east-1:1:table/orders/stream/2026-01-01T00:00:00.000": "orders",
		"arn:aws:dynamodb:us-east-1:1:table/orders":                                "orders",
		"garbage": "",
	} {
		if got := tableName(in); got != want {
			t.Errorf("tableName(%q) = %q, want %q", in, got, want)
		}
	}
}

// fakeBatch answers BatchWriteItem, leaving the first `unprocessed` rounds'
// last item unprocessed, as DynamoDB does under throttling.
type fakeBatch struct {
	unprocessed int
	calls       int
	stored      []string
}

func (f *fakeBatch) BatchWriteItem(_ context.Context, in *dynamodb.BatchWriteItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	f.calls++
	out := &dynamodb.BatchWriteItemOutput{}
	for table, reqs := range in.RequestItems {
		if len(reqs) > 25 {
			return nil, errors.New("too many items")
		}
		if f.unprocessed > 0 {
			f.unprocessed--
			out.UnprocessedItems = map[string][]types.WriteRequest{table: reqs[len(reqs)-1:]}
			reqs = reqs[:len(reqs)-1]
		}
		for _, r := range reqs {
			f.stored = append(f.stored, r.PutRequest.Item["event_id"].(*types.AttributeValueMemberS).Value)
		}
	}
	return out, nil
}

func TestDynamoAuditWrite(t *testing.T) {
	entries := make([]Entry, 30)
	var ids []string
	for i := range entries {
		entries[i] = Entry{EventID: string(rune('A' + i))}
		ids = append(ids, entries[i].EventID)
	}
	tests := []struct {
		name        string
		unprocessed int
		wantErr     bool
		wantCalls   int
	}{
		{name: "two chunks", wantCalls: 2},
		{name: "unprocessed items are resubmitted", unprocessed: 2, wantCalls: 4},
		{name: "gives up after five rounds", unprocessed: 100, wantErr: true, wantCalls: 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeBatch{unprocessed: tt.unprocessed}
			err := (&dynamoAudit{client: f, table: "audit"}).Write(context.Background(), entries)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Write error = %v, want error: %v", err, tt.wantErr)
			}
			if f.calls != tt.wantCalls {
				t.Errorf("calls = %d, want %d", f.calls, tt.wantCalls)
			}
			if !tt.wantErr {
				if d := cmp.Diff(ids, f.stored, cmpopts.SortSlices(func(a, b string) bool { return a < b })); d != "" {
					t.Errorf("stored (-want +got):\n%s", d)
				}
			}
		})
	}
}
