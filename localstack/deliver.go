package localstack

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
)

// Delivery is how the engine hands an event to a target when kumo does not
// (EventBridge rules and schedules, events.go). One abstraction for every
// kind of target, named by its ARN, so that new routes (a schedule to a
// topic, a rule to a stream or another bus) are a Target away.

// DestKind says what receives a delivered event.
type DestKind string

const (
	DestFunction DestKind = "function" // asynchronous Lambda invoke
	DestQueue    DestKind = "queue"    // SQS SendMessage
	DestTopic    DestKind = "topic"    // SNS Publish
	DestStream   DestKind = "stream"   // Kinesis PutRecord
	DestBus      DestKind = "bus"      // EventBridge PutEvents (the rules of that bus apply)
)

// Dest is a delivery destination.
type Dest struct {
	Kind   DestKind
	ARN    string
	Region string
	Name   string // function, queue, topic, stream or bus name
}

// DestOf classifies an ARN.
func DestOf(arn string) (Dest, error) {
	p := strings.SplitN(arn, ":", 6)
	if len(p) != 6 || p[0] != "arn" {
		return Dest{}, fmt.Errorf("%q is not an ARN", arn)
	}
	t := Dest{ARN: arn, Region: p[3]}
	res := p[5]
	switch p[2] {
	case "lambda":
		t.Kind, t.Name = DestFunction, functionName(arn)
	case "sqs":
		t.Kind, t.Name = DestQueue, res
	case "sns":
		t.Kind, t.Name = DestTopic, res
	case "kinesis":
		t.Kind, t.Name = DestStream, strings.TrimPrefix(res, "stream/")
	case "events":
		if !strings.HasPrefix(res, "event-bus/") {
			return Dest{}, fmt.Errorf("%s: an EventBridge target must be an event bus", arn)
		}
		t.Kind, t.Name = DestBus, strings.TrimPrefix(res, "event-bus/")
	default:
		return Dest{}, fmt.Errorf("%s: the embedded engine does not deliver to %s", arn, p[2])
	}
	if t.Name == "" {
		return Dest{}, fmt.Errorf("%q names no resource", arn)
	}
	return t, nil
}

// Message is what is delivered: the payload, plus what some kinds need.
type Message struct {
	Body []byte
	// PartitionKey for streams (default: a hash of the body's length and
	// first bytes is not needed: AWS uses a random key, "evdeploy" here).
	PartitionKey string
	// GroupID for FIFO queues.
	GroupID string
	// Subject for topics.
	Subject string
}

// deliverer sends messages to targets through kumo's own APIs.
type deliverer struct {
	kc kumoClient
	// putEvents publishes an event on a bus with the engine's rules applied
	// (events.publish); nil means bus targets are refused.
	putEvents func(ctx context.Context, region, bus string, entry json.RawMessage) error
	// ready, when set, holds a function delivery until its handler polls.
	ready func(ctx context.Context, name string)
	// front, when set, is the engine's own endpoint: function deliveries go
	// through it (and its asynchronous invocation layer) rather than to kumo.
	front *kumoClient

	mu        sync.Mutex
	queueURLs map[string]string // by queue ARN
}

// Deliver hands m to t.
func (d *deliverer) Deliver(ctx context.Context, t Dest, m Message) error {
	var err error
	switch t.Kind {
	case DestFunction:
		if d.ready != nil {
			d.ready(ctx, t.Name)
		}
		via := d.kc
		if d.front != nil {
			via = *d.front
		}
		_, _, err = via.do(ctx, http.MethodPost, lambdaPrefix+"/"+url.PathEscape(qualifiedName(t.ARN))+"/invocations", "lambda",
			map[string]string{"X-Amz-Invocation-Type": "Event", "Content-Type": "application/json"}, m.Body)
	case DestQueue:
		var qurl string
		if qurl, err = d.queueURL(ctx, t); err == nil {
			in := map[string]any{"QueueUrl": qurl, "MessageBody": string(m.Body)}
			if m.GroupID != "" {
				in["MessageGroupId"] = m.GroupID
			}
			_, _, err = d.kc.call(ctx, http.MethodPost, "/", "sqs", "AmazonSQS.SendMessage", in)
		}
	case DestTopic:
		form := url.Values{"Action": {"Publish"}, "Version": {"2010-03-31"}, "TopicArn": {t.ARN}, "Message": {string(m.Body)}}
		if m.Subject != "" {
			form.Set("Subject", m.Subject)
		}
		if m.GroupID != "" {
			form.Set("MessageGroupId", m.GroupID)
		}
		_, _, err = d.kc.do(ctx, http.MethodPost, "/", "sns",
			map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, []byte(form.Encode()))
	case DestStream:
		key := m.PartitionKey
		if key == "" {
			key = "evdeploy"
		}
		_, _, err = d.kc.call(ctx, http.MethodPost, "/", "kinesis", "Kinesis_20131202.PutRecord", map[string]any{
			"StreamARN": t.ARN, "StreamName": t.Name, "PartitionKey": key, "Data": base64.StdEncoding.EncodeToString(m.Body),
		})
	case DestBus:
		if d.putEvents == nil {
			return fmt.Errorf("%s: event bus targets are not delivered here", t.ARN)
		}
		err = d.putEvents(ctx, t.Region, t.Name, m.Body)
	default:
		err = fmt.Errorf("unknown target kind %q", t.Kind)
	}
	if err != nil {
		return fmt.Errorf("deliver to %s %s: %w", t.Kind, t.ARN, err)
	}
	return nil
}

func (d *deliverer) queueURL(ctx context.Context, t Dest) (string, error) {
	d.mu.Lock()
	u := d.queueURLs[t.ARN]
	d.mu.Unlock()
	if u != "" {
		return u, nil
	}
	account := strings.Split(t.ARN, ":")[4]
	b, _, err := d.kc.call(ctx, http.MethodPost, "/", "sqs", "AmazonSQS.GetQueueUrl",
		map[string]any{"QueueName": t.Name, "QueueOwnerAWSAccountId": account})
	if err != nil {
		return "", err
	}
	var out struct{ QueueUrl string }
	if err := json.Unmarshal(b, &out); err != nil || out.QueueUrl == "" {
		return "", fmt.Errorf("GetQueueUrl %s: %s", t.Name, b)
	}
	d.mu.Lock()
	if d.queueURLs == nil {
		d.queueURLs = map[string]string{}
	}
	d.queueURLs[t.ARN] = out.QueueUrl
	d.mu.Unlock()
	return out.QueueUrl, nil
}

// kumoClient sends the engine's own requests straight to kumo (never through
// http.DefaultTransport, which routeSelfCalls wraps).
type kumoClient struct {
	url    string
	client *http.Client
}

func newKumoClient(kumoURL string) kumoClient {
	return kumoClient{url: kumoURL, client: &http.Client{Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 32}}}
}

// call sends a JSON request. target selects the JSON protocol
// (X-Amz-Target); the Authorization header only names the service, which
// kumo uses to route (it checks no signature).
func (k kumoClient) call(ctx context.Context, method, path, service, target string, body any) ([]byte, http.Header, error) {
	var b []byte
	if body != nil {
		var err error
		if b, err = json.Marshal(body); err != nil {
			return nil, nil, err
		}
	}
	hdr := map[string]string{}
	if target != "" {
		hdr["X-Amz-Target"] = target
		hdr["Content-Type"] = "application/x-amz-json-1.0"
		if strings.HasPrefix(target, "Kinesis_") || strings.HasPrefix(target, "AWSEvents.") || strings.HasPrefix(target, "Logs_") {
			hdr["Content-Type"] = "application/x-amz-json-1.1"
		}
	} else if body != nil {
		hdr["Content-Type"] = "application/json"
	}
	return k.do(ctx, method, path, service, hdr, b)
}

// do sends one request to kumo and returns a 2xx answer's body.
func (k kumoClient) do(ctx context.Context, method, path, service string, hdr map[string]string, body []byte) ([]byte, http.Header, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, k.url+path, rd)
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/"+service+"/aws4_request, SignedHeaders=host, Signature=0")
	for h, v := range hdr {
		req.Header.Set(h, v)
	}
	resp, err := k.client.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, nil, err
	}
	if resp.StatusCode/100 != 2 {
		return nil, nil, fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, bytes.TrimSpace(b))
	}
	return b, resp.Header, nil
}
