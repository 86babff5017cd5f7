package main

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// Entry is one audit record: what changed, where and when.
type Entry struct {
	EventID   string   // the stream record's id: the audit table's key
	Operation string   // INSERT, MODIFY or REMOVE
	Table     string   // source table name, from the stream ARN
	Keys      string   // the changed item's key, as JSON
	OldImage  string   // JSON, "" for INSERT
	NewImage  string   // JSON, "" for REMOVE
	Changed   []string // attribute names whose value changed, sorted
	At        string   // when the change happened, RFC 3339
	Sequence  string   // stream sequence number
}

// AuditLog is where entries go.
type AuditLog interface {
	// Write stores the entries; writing an entry twice stores it once.
	Write(ctx context.Context, entries []Entry) error
}

// Handler turns stream records into audit entries.
type Handler struct {
	Audit AuditLog
}

// Handle writes one entry per record. A failed write fails the whole batch:
// Lambda retries it from the same position, and because entries are keyed by
// event id the records already written are simply overwritten.
func (h *Handler) Handle(ctx context.Context, ev events.DynamoDBEvent) error {
	entries := make([]Entry, 0, len(ev.Records))
	for _, r := range ev.Records {
		e, err := ToEntry(r)
		if err != nil {
			return fmt.Errorf("record %s: %w", r.EventID, err)
		}
		entries = append(entries, e)
	}
	if len(entries) == 0 {
		return nil
	}
	return h.Audit.Write(ctx, entries)
}

// ToEntry converts one stream record.
func ToEntry(r events.DynamoDBEventRecord) (Entry, error) {
	e := Entry{
		EventID:   r.EventID,
		Operation: r.EventName,
		Table:     tableName(r.EventSourceArn),
		At:        r.Change.ApproximateCreationDateTime.UTC().Format(time.RFC3339),
		Sequence:  r.Change.SequenceNumber,
	}
	var err error
	if e.Keys, err = imageJSON(r.Change.Keys); err != nil {
		return e, err
	}
	if e.OldImage, err = imageJSON(r.Change.OldImage); err != nil {
		return e, err
	}
	if e.NewImage, err = imageJSON(r.Change.NewImage); err != nil {
		return e, err
	}
	e.Changed = changed(r.Change.OldImage, r.Change.NewImage)
	return e, nil
}

// tableName extracts "orders" from
// arn:aws:dynamodb:us-east-1:123456789012:table/orders/stream/2026-11-26T21:00:00.000.
func tableName(streamARN string) string {
	_, rest, ok := strings.Cut(streamARN, ":table/")
	if !ok {
		return ""
	}
	name, _, _ := strings.Cut(rest, "/")
	return name
}

func imageJSON(img map[string]events.DynamoDBAttributeValue) (string, error) {
	if len(img) == 0 {
		return "", nil
	}
	m := make(map[string]any, len(img))
	for k, v := range img {
		p, err := Plain(v)
		if err != nil {
			return "", fmt.Errorf("attribute %s: %w", k, err)
		}
		m[k] = p
	}
	b, err := json.Marshal(m) // maps marshal with sorted keys: stable output
	return string(b), err
}

// changed lists the attributes added, removed or modified between two images.
func changed(old, new map[string]events.DynamoDBAttributeValue) []string {
	out := []string{}
	for k, nv := range new {
		ov, ok := old[k]
		if !ok || !sameValue(ov, nv) {
			out = append(out, k)
		}
	}
	for k := range old {
		if _, ok := new[k]; !ok {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

func sameValue(a, b events.DynamoDBAttributeValue) bool {
	pa, errA := Plain(a)
	pb, errB := Plain(b)
	if errA != nil || errB != nil {
		return false
	}
	ja, _ := json.Marshal(pa)
	jb, _ := json.Marshal(pb)
	return string(ja) == string(jb)
}

// Plain converts a stream attribute value into a JSON-friendly Go value.
// Numbers stay json.Number so that no precision is lost.
func Plain(v events.DynamoDBAttributeValue) (any, error) {
	switch v.DataType() {
	case events.DataTypeString:
		return v.String(), nil
	case events.DataTypeNumber:
		if _, err := strconv.ParseFloat(v.Number(), 64); err != nil {
			return nil, fmt.Errorf("bad number %q", v.Number())
		}
		return json.Number(v.Number()), nil
	case events.DataTypeBoolean:
		return v.Boolean(), nil
	case events.DataTypeNull:
		return nil, nil
	case events.DataTypeBinary:
		return v.Binary(), nil // []byte marshals as base64
	case events.DataTypeStringSet:
		return v.StringSet(), nil
	case events.DataTypeNumberSet:
		ns := []json.Number{}
		for _, n := range v.NumberSet() {
			ns = append(ns, json.Number(n))
		}
		return ns, nil
	case events.DataTypeBinarySet:
		return v.BinarySet(), nil
	case events.DataTypeList:
		out := []any{}
		for _, e := range v.List() {
			p, err := Plain(e)
			if err != nil {
				return nil, err
			}
			out = append(out, p)
		}
		return out, nil
	case events.DataTypeMap:
		out := map[string]any{}
		for k, e := range v.Map() {
			p, err := Plain(e)
			if err != nil {
				return nil, err
			}
			out[k] = p
		}
		return out, nil
	}
	return nil, fmt.Errorf("unsupported attribute type %v", v.DataType())
}
