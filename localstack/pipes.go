package localstack

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// EventBridge Pipes on the embedded engine. kumo stores pipes but never runs
// them, so the engine polls each RUNNING pipe whose source is an SQS queue:
// it receives up to the pipe's batch size, keeps the records its filter
// matches (matched, as Pipes does, against the record with a JSON body
// parsed), delivers each to the target through the same delivery as
// EventBridge targets (deliver.go), and deletes the batch from the queue —
// filtered-out records too, as Pipes does. A delivery that fails leaves its
// record in the queue, to come back after the visibility timeout.
// Kinesis and DynamoDB stream sources are not run yet.

type pipeDesc struct {
	Name             string `json:"Name"`
	Arn              string `json:"Arn"`
	Source           string `json:"Source"`
	Target           string `json:"Target"`
	CurrentState     string `json:"CurrentState"`
	SourceParameters *struct {
		FilterCriteria *struct {
			Filters []struct{ Pattern string } `json:"Filters"`
		} `json:"FilterCriteria"`
		SqsQueueParameters *struct{ BatchSize int } `json:"SqsQueueParameters"`
	} `json:"SourceParameters"`
	TargetParameters *struct {
		SqsQueueParameters      *struct{ MessageGroupId string } `json:"SqsQueueParameters"`
		KinesisStreamParameters *struct{ PartitionKey string }   `json:"KinesisStreamParameters"`
	} `json:"TargetParameters"`
}

type pipeRunner struct {
	kc kumoClient
	d  *deliverer
	lg *log.Logger

	mu      sync.Mutex
	running map[string]context.CancelFunc // by pipe name+source+target
}

func newPipes(kc kumoClient, d *deliverer, lg *log.Logger) *pipeRunner {
	return &pipeRunner{kc: kc, d: d, lg: lg, running: map[string]context.CancelFunc{}}
}

// run reconciles the pollers with kumo's pipes every interval until ctx is
// done.
func (p *pipeRunner) run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			p.mu.Lock()
			for _, cancel := range p.running {
				cancel()
			}
			p.mu.Unlock()
			return
		case <-t.C:
		}
		if err := p.sync(ctx); err != nil && ctx.Err() == nil {
			p.lg.Printf("pipes: %v", err)
		}
	}
}

func (p *pipeRunner) sync(ctx context.Context) error {
	b, _, err := p.kc.call(ctx, http.MethodGet, "/v1/pipes", "pipes", "", nil)
	if err != nil {
		return err
	}
	var list struct{ Pipes []pipeDesc }
	if err := json.Unmarshal(b, &list); err != nil {
		return fmt.Errorf("ListPipes: %w", err)
	}
	want := map[string]pipeDesc{}
	for _, s := range list.Pipes {
		if s.CurrentState != "RUNNING" || !strings.HasPrefix(s.Source, "arn:aws:sqs:") {
			continue
		}
		want[s.Name+"|"+s.Source+"|"+s.Target] = s
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for key, cancel := range p.running {
		if _, ok := want[key]; !ok {
			cancel()
			delete(p.running, key)
		}
	}
	for key, s := range want {
		if _, ok := p.running[key]; ok {
			continue
		}
		pctx, cancel := context.WithCancel(ctx)
		p.running[key] = cancel
		go p.poll(pctx, s.Name)
	}
	return nil
}

// describe reads a pipe's parameters (ListPipes has only the summary).
func (p *pipeRunner) describe(ctx context.Context, name string) (*pipeDesc, error) {
	b, _, err := p.kc.call(ctx, http.MethodGet, "/v1/pipes/"+url.PathEscape(name), "pipes", "", nil)
	if err != nil {
		return nil, err
	}
	var d pipeDesc
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, fmt.Errorf("DescribePipe %s: %w", name, err)
	}
	return &d, nil
}

// poll drains one pipe until ctx is done. The parameters are read again for
// every batch, so an update applies at once.
func (p *pipeRunner) poll(ctx context.Context, name string) {
	var qurl string
	for ctx.Err() == nil {
		d, err := p.describe(ctx, name)
		if err != nil {
			if ctx.Err() == nil {
				p.lg.Printf("pipe %s: %v", name, err)
			}
			sleepCtx(ctx, time.Second)
			continue
		}
		src, err := DestOf(d.Source)
		if err != nil {
			p.lg.Printf("pipe %s: source: %v", name, err)
			return
		}
		if qurl == "" {
			if qurl, err = p.d.queueURL(ctx, src); err != nil {
				p.lg.Printf("pipe %s: %v", name, err)
				sleepCtx(ctx, time.Second)
				continue
			}
		}
		n, err := p.batch(ctx, d, src, qurl)
		if err != nil && ctx.Err() == nil {
			p.lg.Printf("pipe %s: %v", name, err)
		}
		if n == 0 || err != nil {
			sleepCtx(ctx, 200*time.Millisecond)
		}
	}
}

// batch moves one batch from the source queue to the target.
func (p *pipeRunner) batch(ctx context.Context, d *pipeDesc, src Dest, qurl string) (int, error) {
	size := 10
	if sp := d.SourceParameters; sp != nil && sp.SqsQueueParameters != nil && sp.SqsQueueParameters.BatchSize > 0 {
		size = min(sp.SqsQueueParameters.BatchSize, 10)
	}
	b, _, err := p.kc.call(ctx, http.MethodPost, "/", "sqs", "AmazonSQS.ReceiveMessage", map[string]any{
		"QueueUrl": qurl, "MaxNumberOfMessages": size, "WaitTimeSeconds": 0,
		"AttributeNames": []string{"All"}, "MessageAttributeNames": []string{"All"},
	})
	if err != nil {
		return 0, err
	}
	var out struct {
		Messages []struct {
			MessageId, ReceiptHandle, Body, MD5OfBody string
			Attributes                                map[string]string
			MessageAttributes                         map[string]any
		}
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return 0, fmt.Errorf("ReceiveMessage: %w", err)
	}
	target, err := DestOf(d.Target)
	if err != nil {
		return 0, err
	}
	var patterns []string
	if sp := d.SourceParameters; sp != nil && sp.FilterCriteria != nil {
		for _, f := range sp.FilterCriteria.Filters {
			patterns = append(patterns, f.Pattern)
		}
	}
	m := Message{}
	if tp := d.TargetParameters; tp != nil {
		if tp.SqsQueueParameters != nil {
			m.GroupID = tp.SqsQueueParameters.MessageGroupId
		}
		if tp.KinesisStreamParameters != nil {
			m.PartitionKey = tp.KinesisStreamParameters.PartitionKey
		}
	}
	for _, msg := range out.Messages {
		rec := map[string]any{
			"messageId": msg.MessageId, "receiptHandle": msg.ReceiptHandle, "body": msg.Body,
			"attributes": msg.Attributes, "messageAttributes": msg.MessageAttributes, "md5OfBody": msg.MD5OfBody,
			"eventSource": "aws:sqs", "eventSourceARN": d.Source, "awsRegion": src.Region,
		}
		ok, err := pipeFilter(patterns, rec)
		if err != nil {
			return 0, err
		}
		if ok {
			if err := p.deliver(ctx, d, target, m, rec); err != nil {
				p.lg.Printf("pipe %s: %v", d.Name, err)
				continue // back after the visibility timeout
			}
		}
		if _, _, err := p.kc.call(ctx, http.MethodPost, "/", "sqs", "AmazonSQS.DeleteMessage",
			map[string]any{"QueueUrl": qurl, "ReceiptHandle": msg.ReceiptHandle}); err != nil {
			return 0, err
		}
	}
	return len(out.Messages), nil
}

// pipeFilter reports whether rec passes any of the patterns (none: all
// pass). A JSON body is matched as JSON, as Pipes does.
func pipeFilter(patterns []string, rec map[string]any) (bool, error) {
	if len(patterns) == 0 {
		return true, nil
	}
	doc := map[string]any{}
	for k, v := range rec {
		doc[k] = v
	}
	if s, ok := rec["body"].(string); ok {
		var body any
		if json.Unmarshal([]byte(s), &body) == nil {
			doc["body"] = body
		}
	}
	// Match on the JSON form (numbers as float64), as EventBridge does.
	raw, _ := json.Marshal(doc)
	var norm map[string]any
	_ = json.Unmarshal(raw, &norm)
	for _, pat := range patterns {
		ok, err := matchPattern(pat, norm)
		if err != nil {
			return false, fmt.Errorf("filter %s: %w", pat, err)
		}
		if ok {
			return true, nil
		}
	}
	return false, nil
}

// deliver sends one record to the pipe's target: an event bus gets it as an
// event's detail (source "Pipe <name>", detail-type "Event from aws:sqs");
// other targets get the record's JSON.
func (p *pipeRunner) deliver(ctx context.Context, d *pipeDesc, target Dest, m Message, rec map[string]any) error {
	body, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	if target.Kind == DestBus {
		ev, _ := json.Marshal(map[string]any{
			"version": "0", "detail-type": "Event from aws:sqs", "source": "Pipe " + d.Name,
			"account": localAccount, "time": time.Now().UTC().Format("2006-01-02T15:04:05Z"), "region": target.Region,
			"resources": []string{d.Arn}, "detail": rec,
		})
		body = ev
	}
	m.Body = body
	return p.d.Deliver(ctx, target, m)
}
