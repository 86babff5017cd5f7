package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"
)

// snsEvent is a delivery as Lambda passes it: two messages, the second
// without a recipient.
const snsEvent = `{"Records":[
 {"EventSource":"aws:sns","Sns":{"MessageId":"m-1","TopicArn":"arn:aws:sns:us-east-1:1:notifications",
  "Subject":"Invoice for order o-1: 25.15","Message":"Total: 25.15\n",
  "MessageAttributes":{"kind":{"Type":"String","Value":"invoice"},"to":{"Type":"String","Value":"ada@example.com"},"order_id":{"Type":"String","Value":"o-1"}}}},
 {"EventSource":"aws:sns","Sns":{"MessageId":"m-2","Message":"?","MessageAttributes":{"kind":{"Type":"String","Value":"invoice"}}}}
]}`

type memSender struct {
	sent []Email
	err  error
}

func (m *memSender) Send(_ context.Context, e Email) error {
	if m.err != nil {
		return m.err
	}
	m.sent = append(m.sent, e)
	return nil
}

func TestHandle(t *testing.T) {
	var ev events.SNSEvent
	if err := json.Unmarshal([]byte(snsEvent), &ev); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		sendErr error
		wantErr bool
		want    []Email
	}{
		{
			name: "deliverable messages sent, the rest dropped",
			want: []Email{{MessageID: "m-1", From: "orders@example.com", To: "ada@example.com", Kind: "invoice",
				Subject: "Invoice for order o-1: 25.15",
				Body:    "Total: 25.15\n\n-- \nYou receive this invoice because you ordered from us.\n"}},
		},
		{name: "a send failure fails the invocation", sendErr: errors.New("throttled"), wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &memSender{err: tt.sendErr}
			err := (&Handler{Sender: s, From: "orders@example.com"}).Handle(context.Background(), ev)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Handle error = %v, want error: %v", err, tt.wantErr)
			}
			if d := cmp.Diff(tt.want, s.sent); d != "" {
				t.Errorf("sent (-want +got):\n%s", d)
			}
		})
	}
}

func TestRenderDefaultSubject(t *testing.T) {
	m := events.SNSEntity{MessageID: "m", Message: "hi", MessageAttributes: map[string]any{
		"to": map[string]any{"Type": "String", "Value": "a@b"}, "order_id": map[string]any{"Type": "String", "Value": "o-7"}}}
	e, err := Render(m, "f@x")
	if err != nil {
		t.Fatal(err)
	}
	if want := "A message about your order o-7"; e.Subject != want {
		t.Errorf("subject = %q, want %q", e.Subject, want)
	}
}

func TestLogSender(t *testing.T) {
	var buf bytes.Buffer
	if err := (&logSender{out: log.New(&buf, "", 0)}).Send(context.Background(), Email{MessageID: "m", To: "a@b"}); err != nil {
		t.Fatal(err)
	}
	want := `{"message_id":"m","from":"","to":"a@b","subject":"","body":"","kind":""}` + "\n"
	if buf.String() != want {
		t.Errorf("logged %q, want %q", buf.String(), want)
	}
}
