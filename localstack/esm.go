package localstack

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Event source mappings for the embedded engine. kumo stores mappings but
// never polls them; the runner does for the functions it runs. Streams are in
// streams.go; SQS queues are polled here:
// receive a batch, invoke the function synchronously with Lambda's SQS event,
// delete the batch when the function succeeds (on failure the messages come
// back after their visibility timeout, and the queue's redrive policy applies).

// mapping is the part of an event source mapping the runner needs.
type mapping struct {
	UUID           string `json:"UUID"`
	EventSourceArn string `json:"EventSourceArn"`
	FunctionArn    string `json:"FunctionArn"`
	BatchSize      int    `json:"BatchSize"`
	State          string `json:"State"`
	// ReportBatchItemFailures: delete only what the function does not name
	// in batchItemFailures (kept by the engine, versions.go: kumo drops it).
	reportFailures bool
}

type poller struct {
	m      mapping
	cancel context.CancelFunc
}

// watchMappings reconciles the SQS pollers with kumo's mappings every
// interval until ctx is done.
func (r *runner) watchMappings(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		ms, err := r.listMappings(ctx)
		if err != nil {
			if ctx.Err() == nil {
				r.lg.Printf("event source mappings: %v", err)
			}
			continue
		}
		r.syncPollers(ctx, ms)
	}
}

func (r *runner) listMappings(ctx context.Context) ([]mapping, error) {
	var all []mapping
	marker := ""
	for page := 0; page < 50; page++ {
		path := "/2015-03-31/event-source-mappings/"
		if marker != "" {
			path += "?Marker=" + marker
		}
		b, _, err := r.call(ctx, http.MethodGet, path, "lambda", "", nil)
		if err != nil {
			return nil, err
		}
		var out struct {
			EventSourceMappings []mapping `json:"EventSourceMappings"`
			NextMarker          string    `json:"NextMarker"`
		}
		if err := json.Unmarshal(b, &out); err != nil {
			return nil, fmt.Errorf("ListEventSourceMappings: %w", err)
		}
		for _, m := range out.EventSourceMappings {
			m.FunctionArn = mappingFunction(m.UUID, m.FunctionArn) // fn:live (versions.go)
			m.reportFailures = mappingReportsFailures(m.UUID)
			all = append(all, m)
		}
		if out.NextMarker == "" || out.NextMarker == marker {
			break
		}
		marker = out.NextMarker
	}
	return all, nil
}

// syncPollers starts a poller for each enabled SQS, Kinesis or DynamoDB
// stream mapping whose function has a running handler, and stops the others.
func (r *runner) syncPollers(ctx context.Context, ms []mapping) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return
	}
	want := map[string]mapping{}
	for _, m := range ms {
		if _, isStream := streamKindOf(m.EventSourceArn); !isStream && !strings.HasPrefix(m.EventSourceArn, "arn:aws:sqs:") {
			continue
		}
		switch m.State {
		case "Disabled", "Disabling", "Deleting":
			continue
		}
		fn := r.fns[functionName(m.FunctionArn)]
		if fn == nil || fn.cmd == nil {
			continue // nothing would run the events: leave the messages queued
		}
		want[m.UUID] = m
	}
	for id, p := range r.pollers {
		if w, ok := want[id]; !ok || w.EventSourceArn != p.m.EventSourceArn || w.FunctionArn != p.m.FunctionArn || w.BatchSize != p.m.BatchSize || w.reportFailures != p.m.reportFailures {
			p.cancel()
			delete(r.pollers, id)
			r.lg.Printf("event source mapping %s: stopped polling %s", id, p.m.EventSourceArn)
		}
	}
	for id, m := range want {
		if _, ok := r.pollers[id]; ok {
			continue
		}
		pctx, cancel := context.WithCancel(ctx)
		r.pollers[id] = &poller{m: m, cancel: cancel}
		r.lg.Printf("event source mapping %s: polling %s for function %s", id, m.EventSourceArn, functionName(m.FunctionArn))
		if kind, ok := streamKindOf(m.EventSourceArn); ok {
			go r.pollStream(pctx, m, kind)
		} else {
			go r.pollSQS(pctx, m)
		}
	}
}

// sqsMessage is a message as SQS's JSON protocol returns it.
type sqsMessage struct {
	MessageID         string            `json:"MessageId"`
	ReceiptHandle     string            `json:"ReceiptHandle"`
	MD5OfBody         string            `json:"MD5OfBody"`
	Body              string            `json:"Body"`
	Attributes        map[string]string `json:"Attributes"`
	MessageAttributes map[string]struct {
		StringValue string `json:"StringValue"`
		BinaryValue []byte `json:"BinaryValue"`
		DataType    string `json:"DataType"`
	} `json:"MessageAttributes"`
}

// sqsRecord is one record of Lambda's SQS event.
type sqsRecord struct {
	MessageID         string            `json:"messageId"`
	ReceiptHandle     string            `json:"receiptHandle"`
	Body              string            `json:"body"`
	Attributes        map[string]string `json:"attributes"`
	MessageAttributes map[string]any    `json:"messageAttributes"`
	MD5OfBody         string            `json:"md5OfBody"`
	EventSource       string            `json:"eventSource"`
	EventSourceARN    string            `json:"eventSourceARN"`
	AWSRegion         string            `json:"awsRegion"`
}

func (r *runner) pollSQS(ctx context.Context, m mapping) {
	// arn:aws:sqs:region:account:name
	p := strings.Split(m.EventSourceArn, ":")
	if len(p) != 6 {
		r.lg.Printf("event source mapping %s: %s is not a queue ARN", m.UUID, m.EventSourceArn)
		return
	}
	region, account, queue := p[3], p[4], p[5]
	fn := functionName(m.FunctionArn)
	batch := m.BatchSize
	if batch <= 0 || batch > 10 {
		batch = 10 // one ReceiveMessage returns at most 10
	}
	var queueURL string
	for queueURL == "" {
		b, _, err := r.call(ctx, http.MethodPost, "/", "sqs", "AmazonSQS.GetQueueUrl",
			map[string]any{"QueueName": queue, "QueueOwnerAWSAccountId": account})
		if err == nil {
			var out struct{ QueueUrl string }
			if json.Unmarshal(b, &out) == nil {
				queueURL = out.QueueUrl
			}
		}
		if queueURL == "" && !sleepCtx(ctx, time.Second) {
			return
		}
	}
	for ctx.Err() == nil {
		b, _, err := r.call(ctx, http.MethodPost, "/", "sqs", "AmazonSQS.ReceiveMessage", map[string]any{
			"QueueUrl": queueURL, "MaxNumberOfMessages": batch, "WaitTimeSeconds": 1,
			"AttributeNames": []string{"All"}, "MessageAttributeNames": []string{"All"},
		})
		var out struct{ Messages []sqsMessage }
		if err == nil {
			err = json.Unmarshal(b, &out)
		}
		if err != nil {
			if ctx.Err() == nil {
				r.lg.Printf("event source mapping %s: receive from %s: %v", m.UUID, queue, err)
			}
			sleepCtx(ctx, time.Second)
			continue
		}
		if len(out.Messages) == 0 {
			// kumo may answer at once instead of waiting: do not spin.
			sleepCtx(ctx, 200*time.Millisecond)
			continue
		}
		records := make([]sqsRecord, len(out.Messages))
		for i, msg := range out.Messages {
			attrs := map[string]any{}
			for k, v := range msg.MessageAttributes {
				a := map[string]any{"dataType": v.DataType, "stringListValues": []string{}, "binaryListValues": []string{}}
				if v.StringValue != "" {
					a["stringValue"] = v.StringValue
				}
				if v.BinaryValue != nil {
					a["binaryValue"] = v.BinaryValue
				}
				attrs[k] = a
			}
			if msg.Attributes == nil {
				msg.Attributes = map[string]string{}
			}
			records[i] = sqsRecord{
				MessageID: msg.MessageID, ReceiptHandle: msg.ReceiptHandle, Body: msg.Body,
				Attributes: msg.Attributes, MessageAttributes: attrs, MD5OfBody: msg.MD5OfBody,
				EventSource: "aws:sqs", EventSourceARN: m.EventSourceArn, AWSRegion: region,
			}
		}
		event, _ := json.Marshal(map[string]any{"Records": records})
		resp, hdr, err := r.invokeMapped(ctx, m.FunctionArn, event)
		if err == nil && hdr.Get("X-Amz-Function-Error") != "" {
			err = fmt.Errorf("function error: %s", bytes.TrimSpace(resp))
		}
		if err != nil {
			if ctx.Err() == nil {
				r.lg.Printf("event source mapping %s: %d message(s) from %s not processed by %s (they return after the visibility timeout): %v", m.UUID, len(records), queue, fn, err)
			}
			sleepCtx(ctx, time.Second)
			continue
		}
		failed := map[string]bool{}
		if m.reportFailures {
			if failed, err = batchItemFailures(resp, records); err != nil {
				r.lg.Printf("event source mapping %s: %d message(s) from %s not processed by %s (they return after the visibility timeout): %v", m.UUID, len(records), queue, fn, err)
				sleepCtx(ctx, time.Second)
				continue
			}
			if len(failed) > 0 {
				r.lg.Printf("event source mapping %s: %d of %d message(s) from %s reported failed by %s (they return after the visibility timeout)", m.UUID, len(failed), len(records), queue, fn)
			}
		}
		entries := make([]map[string]string, 0, len(out.Messages))
		for i, msg := range out.Messages {
			if !failed[msg.MessageID] {
				entries = append(entries, map[string]string{"Id": fmt.Sprint(i), "ReceiptHandle": msg.ReceiptHandle})
			}
		}
		if len(entries) == 0 {
			continue
		}
		if _, _, err := r.call(ctx, http.MethodPost, "/", "sqs", "AmazonSQS.DeleteMessageBatch",
			map[string]any{"QueueUrl": queueURL, "Entries": entries}); err != nil && ctx.Err() == nil {
			r.lg.Printf("event source mapping %s: delete processed messages from %s: %v", m.UUID, queue, err)
		}
	}
}

// batchItemFailures reads a partial batch response as Lambda does: no
// response, or no or an empty batchItemFailures, is a complete success;
// invalid JSON, or an itemIdentifier that is empty or not a message of the
// batch, fails the whole batch (an error).
func batchItemFailures(resp []byte, records []sqsRecord) (map[string]bool, error) {
	failed := map[string]bool{}
	body := bytes.TrimSpace(resp)
	if len(body) == 0 || string(body) == "null" {
		return failed, nil
	}
	var out struct {
		BatchItemFailures []struct {
			ItemIdentifier *string `json:"itemIdentifier"`
		} `json:"batchItemFailures"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		return nil, fmt.Errorf("the partial batch response is not valid JSON (the whole batch failed): %w", err)
	}
	inBatch := map[string]bool{}
	for _, rec := range records {
		inBatch[rec.MessageID] = true
	}
	for _, f := range out.BatchItemFailures {
		if f.ItemIdentifier == nil || !inBatch[*f.ItemIdentifier] {
			return nil, fmt.Errorf("the partial batch response names an itemIdentifier that is not a message of the batch (the whole batch failed)")
		}
		failed[*f.ItemIdentifier] = true
	}
	return failed, nil
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	select {
	case <-ctx.Done():
		return false
	case <-time.After(d):
		return true
	}
}
