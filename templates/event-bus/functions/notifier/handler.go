package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

// Email is a rendered notification.
type Email struct {
	MessageID string `json:"message_id"` // the SNS message id: a key for deduplication
	From      string `json:"from"`
	To        string `json:"to"`
	Subject   string `json:"subject"`
	Body      string `json:"body"`
	Kind      string `json:"kind"`
}

// Sender delivers an email.
type Sender interface {
	Send(ctx context.Context, e Email) error
}

// Handler consumes SNS notifications.
type Handler struct {
	Sender Sender
	From   string
}

// Handle delivers every record. SNS invokes Lambda asynchronously, so an
// error makes Lambda retry the whole invocation; notices that can never be
// delivered (no recipient) are logged and dropped instead.
func (h *Handler) Handle(ctx context.Context, ev events.SNSEvent) error {
	for _, r := range ev.Records {
		e, err := Render(r.SNS, h.From)
		if err != nil {
			log.Printf("dropping message %s: %v", r.SNS.MessageID, err)
			continue
		}
		if err := h.Sender.Send(ctx, e); err != nil {
			return fmt.Errorf("message %s: %w", r.SNS.MessageID, err)
		}
	}
	return nil
}

// Render turns one SNS message into an email.
func Render(m events.SNSEntity, from string) (Email, error) {
	to := attr(m, "to")
	if !strings.Contains(to, "@") {
		return Email{}, fmt.Errorf("no recipient (message attribute \"to\" is %q)", to)
	}
	kind := attr(m, "kind")
	subject := m.Subject
	if subject == "" {
		subject = "A message about your order " + attr(m, "order_id")
	}
	return Email{
		MessageID: m.MessageID,
		From:      from,
		To:        to,
		Subject:   subject,
		Body:      strings.TrimRight(m.Message, "\n") + "\n\n-- \nYou receive this " + orDefault(kind, "notice") + " because you ordered from us.\n",
		Kind:      kind,
	}, nil
}

// attr reads a String message attribute, which Lambda delivers as
// {"Type": "String", "Value": "..."}.
func attr(m events.SNSEntity, name string) string {
	a, ok := m.MessageAttributes[name].(map[string]any)
	if !ok {
		return ""
	}
	v, _ := a["Value"].(string)
	return v
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// logSender writes each email as one JSON line.
type logSender struct{ out *log.Logger }

func (l *logSender) Send(_ context.Context, e Email) error {
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	l.out.Println(string(b))
	return nil
}
