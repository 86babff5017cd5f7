package localstack

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// kumo's services deliver to each other by calling kumo over HTTP: S3 and SNS
// → Lambda, EventBridge → Lambda and SQS, API Gateway → Lambda. The address
// they call is http://localhost:4566, hard-coded or read from KUMO_HOST /
// KUMO_PORT in the services' package init() — before evdeploy runs a line,
// and the same for every engine on the machine. Served on another port, an
// engine's events would reach whatever listens on 4566: nothing, or another
// engine. All those calls go through http.DefaultTransport, so the engine
// wraps it: a call to kumo's own address is sent to this process's kumo
// (every kumo server in a process shares one state, so any live one will do).
//
// EventBridge's own deliveries are dropped there: the engine delivers events
// itself (events.go), because kumo's delivery ignores a target's constant
// input, matches every event to a schedule-only rule, and knows no SNS,
// Kinesis or event bus targets.

var selfCalls struct {
	mu        sync.Mutex
	installed bool
	kumos     []*url.URL // live kumo servers of this process, newest last
	fronts    []*url.URL // their engines' own endpoints, in the same order
	// gates hold an invoke until the function's handler is ready (one per
	// engine that runs functions: runner.awaitReady).
	gates []*func(ctx context.Context, name string)
}

// gateInvokes makes kumo's self-calls to Invoke wait with gate until the
// returned function is called.
func gateInvokes(gate func(ctx context.Context, name string)) func() {
	selfCalls.mu.Lock()
	defer selfCalls.mu.Unlock()
	g := &gate
	selfCalls.gates = append(selfCalls.gates, g)
	return func() {
		selfCalls.mu.Lock()
		defer selfCalls.mu.Unlock()
		for i, x := range selfCalls.gates {
			if x == g {
				selfCalls.gates = append(selfCalls.gates[:i], selfCalls.gates[i+1:]...)
				break
			}
		}
	}
}

func awaitGates(ctx context.Context, name string) {
	selfCalls.mu.Lock()
	gates := append([]*func(context.Context, string){}, selfCalls.gates...)
	selfCalls.mu.Unlock()
	for _, g := range gates {
		(*g)(ctx, name)
	}
}

// routeSelfCalls makes kumo's self-calls reach kumoURL until the returned
// function is called.
func routeSelfCalls(kumoURL, frontURL string) (stop func(), err error) {
	u, err := url.Parse(kumoURL)
	if err != nil {
		return nil, err
	}
	fr, err := url.Parse(frontURL)
	if err != nil {
		return nil, err
	}
	selfCalls.mu.Lock()
	defer selfCalls.mu.Unlock()
	if !selfCalls.installed {
		http.DefaultTransport = &selfCallTransport{base: http.DefaultTransport}
		selfCalls.installed = true
	}
	selfCalls.kumos = append(selfCalls.kumos, u)
	selfCalls.fronts = append(selfCalls.fronts, fr)
	return func() {
		selfCalls.mu.Lock()
		defer selfCalls.mu.Unlock()
		for i, k := range selfCalls.kumos {
			if k == u {
				selfCalls.kumos = append(selfCalls.kumos[:i], selfCalls.kumos[i+1:]...)
				selfCalls.fronts = append(selfCalls.fronts[:i], selfCalls.fronts[i+1:]...)
				break
			}
		}
	}, nil
}

// currentKumo returns the newest live kumo and its engine's endpoint.
func currentKumo() (kumo, front *url.URL) {
	selfCalls.mu.Lock()
	defer selfCalls.mu.Unlock()
	if n := len(selfCalls.kumos); n > 0 {
		return selfCalls.kumos[n-1], selfCalls.fronts[n-1]
	}
	return nil, nil
}

type selfCallTransport struct{ base http.RoundTripper }

// isSelfCall recognises a request kumo sends to itself: to its default
// address, or signed with the scope kumo's internal calls use.
func isSelfCall(req *http.Request) bool {
	switch req.URL.Host {
	case "localhost:4566", "127.0.0.1:4566":
		return true
	}
	return strings.Contains(req.Header.Get("Authorization"), "Credential=kumo/19700101/")
}

func (t *selfCallTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	k, front := currentKumo()
	if k == nil || !isSelfCall(req) {
		return t.base.RoundTrip(req)
	}
	accepted := &http.Response{
		StatusCode: http.StatusAccepted, Status: "202 Accepted", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{}, Body: io.NopCloser(strings.NewReader("{}")), Request: req,
	}
	drop, err := fromEventBridge(req)
	if err != nil {
		return nil, err
	}
	if drop {
		return accepted, nil
	}
	out := req.Clone(req.Context())
	out.URL.Scheme, out.URL.Host = k.Scheme, k.Host
	out.Host = ""
	name, isInvoke := invokePath(req.Method, req.URL.Path)
	if !isInvoke {
		return t.base.RoundTrip(out)
	}
	if req.Header.Get("X-Amz-Invocation-Type") != "Event" {
		// Through the engine's front too: it answers as Lambda does where
		// kumo does not (init errors; API Gateway's 502, apigw.go).
		awaitGates(req.Context(), name)
		out.URL.Scheme, out.URL.Host = front.Scheme, front.Host
		return t.base.RoundTrip(out)
	}
	// An asynchronous invoke (S3, SNS) is accepted at once, as Lambda does;
	// it goes through the engine's front, so the function's async settings
	// (retries, destinations) apply, and waits for a starting handler in the
	// background (kumo's caller gives up after 5 s, a Python handler with
	// boto3 may take longer to start).
	out.URL.Scheme, out.URL.Host = front.Scheme, front.Host
	out = out.WithContext(context.WithoutCancel(req.Context()))
	go func() {
		ctx, cancel := context.WithTimeout(out.Context(), readyWait+10*time.Second)
		defer cancel()
		awaitGates(ctx, name)
		resp, err := t.base.RoundTrip(out.WithContext(ctx))
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}()
	return accepted, nil
}

// fromEventBridge reports whether a self-call is one of kumo's EventBridge
// deliveries: an SQS SendMessage (S3 and SNS reach SQS in-process, only
// EventBridge goes over HTTP), or an asynchronous invoke whose payload is
// not an S3 or SNS notification (the only other asynchronous callers). The
// body of the calls that go on is restored, S3 notifications corrected.
func fromEventBridge(req *http.Request) (bool, error) {
	if req.Header.Get("X-Amz-Target") == "AmazonSQS.SendMessage" {
		return true, nil
	}
	if req.Header.Get("X-Amz-Invocation-Type") != "Event" || req.Body == nil {
		return false, nil
	}
	b, err := io.ReadAll(req.Body)
	req.Body.Close()
	if err != nil {
		return false, err
	}
	var n struct {
		Records []map[string]any `json:"Records"`
	}
	drop := true
	if json.Unmarshal(b, &n) == nil && len(n.Records) > 0 {
		switch {
		case n.Records[0]["EventSource"] == "aws:sns":
			drop = false
		case n.Records[0]["eventSource"] == "aws:s3":
			drop = false
			for _, r := range n.Records {
				fixS3Record(r)
			}
			if fixed, err := json.Marshal(n); err == nil {
				b = fixed
			}
		}
	}
	req.Body = io.NopCloser(bytes.NewReader(b))
	req.ContentLength = int64(len(b))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	return drop, nil
}

// fixS3Record brings a kumo S3 notification record to AWS's documented
// shape: eventName without the "s3:" prefix (ObjectCreated:Put), the key
// URL-encoded as S3 does it ("/" kept, space as "+"; kumo also encodes "/",
// so handlers that decode the key found no object), and the fields kumo
// leaves out.
func fixS3Record(r map[string]any) {
	if n, ok := r["eventName"].(string); ok {
		r["eventName"] = strings.TrimPrefix(n, "s3:")
	}
	if t, ok := r["eventTime"].(string); ok && !strings.Contains(t, ".") {
		r["eventTime"] = strings.TrimSuffix(t, "Z") + ".000Z"
	}
	if _, ok := r["requestParameters"]; !ok {
		r["requestParameters"] = map[string]any{"sourceIPAddress": "127.0.0.1"}
	}
	if _, ok := r["responseElements"]; !ok {
		r["responseElements"] = map[string]any{"x-amz-request-id": "EVDEPLOYLOCAL", "x-amz-id-2": "EVDEPLOYLOCAL"}
	}
	s3, _ := r["s3"].(map[string]any)
	obj, _ := s3["object"].(map[string]any)
	if k, ok := obj["key"].(string); ok {
		if raw, err := url.QueryUnescape(k); err == nil {
			obj["key"] = strings.ReplaceAll(url.QueryEscape(raw), "%2F", "/")
		}
		if _, ok := obj["sequencer"]; !ok {
			obj["sequencer"] = fmt.Sprintf("%016X", time.Now().UnixNano())
		}
	}
}
