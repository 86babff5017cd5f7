package localstack

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Asynchronous invocations as Lambda runs them. kumo does not implement the
// event invoke configuration API (404) and drops the outcome of an
// asynchronous invocation, so the engine:
//   - serves Put/Update/Get/Delete/ListFunctionEventInvokeConfig(s) itself,
//     keeping each function's retries, maximum event age and destinations;
//   - runs an asynchronous invocation of a function that has a configuration
//     itself: it answers 202 at once, invokes the function synchronously
//     (through the runner, like any invoke), retries a failure up to
//     MaximumRetryAttempts times, then sends Lambda's invocation record to
//     the OnFailure or OnSuccess destination through the engine's own front
//     door, so a bus destination's rules apply as for any PutEvents.
// Functions without a configuration keep kumo's behaviour.

const eventInvokeConfigPrefix = "/2019-09-25/functions/"

// AsyncRetryDelays are the waits before the first and second retry. Lambda
// waits about one and two minutes; the engine, for a local loop, seconds.
var AsyncRetryDelays = []time.Duration{time.Second, 2 * time.Second}

type invokeConfig struct {
	FunctionArn              string             `json:"FunctionArn"`
	MaximumRetryAttempts     *int               `json:"MaximumRetryAttempts,omitempty"`
	MaximumEventAgeInSeconds *int               `json:"MaximumEventAgeInSeconds,omitempty"`
	DestinationConfig        *destinationConfig `json:"DestinationConfig,omitempty"`
	LastModified             float64            `json:"LastModified"`
}

type destinationConfig struct {
	OnSuccess *destination `json:"OnSuccess,omitempty"`
	OnFailure *destination `json:"OnFailure,omitempty"`
}

type destination struct {
	Destination string `json:"Destination,omitempty"`
}

type asyncInvokes struct {
	next     http.Handler // the engine below this layer: invokes go through it
	front    string       // the engine's own endpoint, for destination deliveries
	kumoURL  string
	client   *http.Client
	lg       *log.Logger
	delays   []time.Duration
	mu       sync.Mutex
	configs  map[string]*invokeConfig // by function name
	inflight sync.WaitGroup
}

func newAsyncInvokes(next http.Handler, front, kumoURL string, lg *log.Logger) *asyncInvokes {
	return &asyncInvokes{
		next: next, front: front, kumoURL: kumoURL, lg: lg, delays: AsyncRetryDelays,
		// Its own transport: never http.DefaultTransport, which the engine
		// may wrap to route kumo's self-calls.
		client:  &http.Client{Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 16}, Timeout: 60 * time.Second},
		configs: map[string]*invokeConfig{},
	}
}

// close waits for invocations in flight (bounded by their own timeouts).
func (a *asyncInvokes) close() { a.inflight.Wait() }

func (a *asyncInvokes) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	p := req.URL.Path
	switch {
	case strings.HasPrefix(p, eventInvokeConfigPrefix) && strings.Contains(p, "/event-invoke-config"):
		a.serveConfig(w, req)
		return
	case req.Method == http.MethodPost && strings.HasPrefix(p, lambdaPrefix+"/") && strings.HasSuffix(p, "/invocations") &&
		req.Header.Get("X-Amz-Invocation-Type") == "Event":
		// fn:live too: the alias's version is picked below (versions.go).
		name, _ := splitQualifier(mustUnescape(strings.TrimSuffix(strings.TrimPrefix(p, lambdaPrefix+"/"), "/invocations")))
		a.mu.Lock()
		cfg := a.configs[name]
		a.mu.Unlock()
		if cfg != nil {
			a.invokeAsync(w, req, name, cfg)
			return
		}
	case req.Method == http.MethodDelete && strings.HasPrefix(p, lambdaPrefix+"/") && !req.URL.Query().Has("Qualifier"):
		// A deleted function takes its configuration with it.
		if rest := strings.Trim(strings.TrimPrefix(p, lambdaPrefix+"/"), "/"); rest != "" && !strings.Contains(rest, "/") {
			a.mu.Lock()
			delete(a.configs, functionName(mustUnescape(rest)))
			a.mu.Unlock()
		}
	}
	a.next.ServeHTTP(w, req)
}

func mustUnescape(s string) string {
	if u, err := url.PathUnescape(s); err == nil {
		return u
	}
	return s
}

func lambdaError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("X-Amzn-Errortype", code)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"Type": "User", "message": msg})
}

// serveConfig answers the event invoke configuration API.
func (a *asyncInvokes) serveConfig(w http.ResponseWriter, req *http.Request) {
	rest := strings.TrimPrefix(req.URL.Path, eventInvokeConfigPrefix)
	fn, tail, _ := strings.Cut(rest, "/")
	name, _ := splitQualifier(mustUnescape(fn)) // fn:live: configs are kept per function
	arn, ok := a.functionArn(req.Context(), name)
	if !ok {
		lambdaError(w, http.StatusNotFound, "ResourceNotFoundException", "Function not found: "+name)
		return
	}
	if tail == "event-invoke-config/list" && req.Method == http.MethodGet {
		a.mu.Lock()
		var list []*invokeConfig
		if c := a.configs[name]; c != nil {
			list = append(list, c)
		}
		a.mu.Unlock()
		writeJSON(w, map[string]any{"FunctionEventInvokeConfigs": list})
		return
	}
	if tail != "event-invoke-config" {
		lambdaError(w, http.StatusNotFound, "ResourceNotFoundException", "unknown path "+req.URL.Path)
		return
	}
	switch req.Method {
	case http.MethodGet:
		a.mu.Lock()
		c := a.configs[name]
		a.mu.Unlock()
		if c == nil {
			lambdaError(w, http.StatusNotFound, "ResourceNotFoundException", "The function "+arn+" doesn't have an EventInvokeConfig")
			return
		}
		writeJSON(w, c)
	case http.MethodDelete:
		a.mu.Lock()
		_, had := a.configs[name]
		delete(a.configs, name)
		a.mu.Unlock()
		if !had {
			lambdaError(w, http.StatusNotFound, "ResourceNotFoundException", "The function "+arn+" doesn't have an EventInvokeConfig")
			return
		}
		w.WriteHeader(http.StatusNoContent)
	case http.MethodPut, http.MethodPost:
		var in invokeConfig
		if err := json.NewDecoder(req.Body).Decode(&in); err != nil {
			lambdaError(w, http.StatusBadRequest, "InvalidParameterValueException", "invalid request: "+err.Error())
			return
		}
		if r := in.MaximumRetryAttempts; r != nil && (*r < 0 || *r > 2) {
			lambdaError(w, http.StatusBadRequest, "InvalidParameterValueException", "MaximumRetryAttempts must be between 0 and 2")
			return
		}
		if m := in.MaximumEventAgeInSeconds; m != nil && (*m < 60 || *m > 21600) {
			lambdaError(w, http.StatusBadRequest, "InvalidParameterValueException", "MaximumEventAgeInSeconds must be between 60 and 21600")
			return
		}
		a.mu.Lock()
		c := &invokeConfig{}
		if old := a.configs[name]; old != nil && req.Method == http.MethodPost {
			*c = *old // Update changes only what it names
		}
		if in.MaximumRetryAttempts != nil || req.Method == http.MethodPut {
			c.MaximumRetryAttempts = in.MaximumRetryAttempts
		}
		if in.MaximumEventAgeInSeconds != nil || req.Method == http.MethodPut {
			c.MaximumEventAgeInSeconds = in.MaximumEventAgeInSeconds
		}
		if in.DestinationConfig != nil || req.Method == http.MethodPut {
			c.DestinationConfig = in.DestinationConfig
		}
		// The configuration's qualifier: an alias's (versions.go) or $LATEST.
		_, q := splitQualifier(mustUnescape(fn))
		c.FunctionArn = arn + ":" + cmp.Or(req.URL.Query().Get("Qualifier"), q, "$LATEST")
		c.LastModified = float64(time.Now().UnixMilli()) / 1000
		a.configs[name] = c
		a.mu.Unlock()
		writeJSON(w, c)
	default:
		lambdaError(w, http.StatusMethodNotAllowed, "InvalidParameterValueException", req.Method+" not supported")
	}
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// functionArn asks kumo for the function, so configurations exist only for
// functions that do.
func (a *asyncInvokes) functionArn(ctx context.Context, name string) (string, bool) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.kumoURL+lambdaPrefix+"/"+url.PathEscape(name), nil)
	if err != nil {
		return "", false
	}
	req.Header.Set("Authorization", authHeader("lambda"))
	resp, err := a.client.Do(req)
	if err != nil {
		return "", false
	}
	defer resp.Body.Close()
	var out struct{ Configuration struct{ FunctionArn string } }
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&out) != nil || out.Configuration.FunctionArn == "" {
		return "", false
	}
	return out.Configuration.FunctionArn, true
}

func authHeader(service string) string {
	return "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/" + service + "/aws4_request, SignedHeaders=host, Signature=0"
}

// invokeAsync accepts the event (202, as Lambda does) and runs it in the
// background.
func (a *asyncInvokes) invokeAsync(w http.ResponseWriter, req *http.Request, name string, cfg *invokeConfig) {
	payload, err := io.ReadAll(req.Body)
	if err != nil {
		lambdaError(w, http.StatusBadRequest, "InvalidRequestContentException", err.Error())
		return
	}
	id := requestID()
	w.Header().Set("X-Amz-Request-Id", id)
	w.WriteHeader(http.StatusAccepted)
	a.inflight.Add(1)
	go func() {
		defer a.inflight.Done()
		a.run(name, id, req.URL.Path, req.Header.Get("Authorization"), payload, *cfg)
	}()
}

func requestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// outcome is one synchronous attempt's result.
type outcome struct {
	status        int
	functionError string
	payload       []byte
	version       string // the version run (an alias's pick, versions.go)
}

func (o outcome) failed() bool { return o.status != http.StatusOK || o.functionError != "" }

// run invokes the function until it succeeds or its retries and age run out,
// then sends the record to the matching destination.
func (a *asyncInvokes) run(name, id, path, auth string, payload []byte, cfg invokeConfig) {
	retries := 2
	if cfg.MaximumRetryAttempts != nil {
		retries = *cfg.MaximumRetryAttempts
	}
	maxAge := 6 * time.Hour
	if cfg.MaximumEventAgeInSeconds != nil {
		maxAge = time.Duration(*cfg.MaximumEventAgeInSeconds) * time.Second
	}
	start := time.Now()
	var last outcome
	attempts := 0
	condition := "RetriesExhausted"
	for attempts <= retries {
		if attempts > 0 {
			d := a.delays[min(attempts-1, len(a.delays)-1)]
			if time.Since(start)+d > maxAge {
				condition = "EventAgeExceeded"
				break
			}
			time.Sleep(d)
		}
		attempts++
		last = a.invokeOnce(path, auth, payload)
		if !last.failed() {
			condition = "Success"
			break
		}
	}
	var dst *destination
	if dc := cfg.DestinationConfig; dc != nil {
		if condition == "Success" {
			dst = dc.OnSuccess
		} else {
			dst = dc.OnFailure
		}
	}
	if condition != "Success" {
		a.lg.Printf("async invoke %s (%s): %s after %d attempts", name, id, condition, attempts)
		recordAsyncDropped(name)
	}
	if dst == nil || dst.Destination == "" {
		return
	}
	rec := invocationRecord(cfg.FunctionArn, id, condition, attempts, payload, last)
	if err := a.deliver(dst.Destination, condition == "Success", rec); err != nil {
		a.lg.Printf("async invoke %s (%s): destination %s: %v", name, id, dst.Destination, err)
	}
}

// invokeOnce runs one synchronous invocation through the engine below.
func (a *asyncInvokes) invokeOnce(path, auth string, payload []byte) outcome {
	req, err := http.NewRequest(http.MethodPost, path, bytes.NewReader(payload))
	if err != nil {
		return outcome{status: http.StatusInternalServerError, functionError: "Unhandled", payload: []byte(err.Error())}
	}
	req.Header.Set("X-Amz-Invocation-Type", "RequestResponse")
	req.Header.Set("Content-Type", "application/json")
	if auth == "" {
		auth = authHeader("lambda")
	}
	req.Header.Set("Authorization", auth)
	buf := &bufferedResponse{header: http.Header{}}
	a.next.ServeHTTP(buf, req)
	if buf.status == 0 {
		buf.status = http.StatusOK
	}
	return outcome{status: buf.status, functionError: buf.header.Get("X-Amz-Function-Error"), payload: buf.body.Bytes(),
		version: buf.header.Get("X-Amz-Executed-Version")}
}

// invocationRecord is what Lambda sends a destination.
func invocationRecord(fnArn, id, condition string, attempts int, payload []byte, last outcome) []byte {
	rec := map[string]any{
		"version":   "1.0",
		"timestamp": time.Now().UTC().Format("2006-01-02T15:04:05.000Z"),
		"requestContext": map[string]any{
			"requestId": id, "functionArn": fnArn, "condition": condition, "approximateInvokeCount": attempts,
		},
		"requestPayload":  jsonOrString(payload),
		"responseContext": map[string]any{"statusCode": last.status, "executedVersion": cmp.Or(last.version, "$LATEST")},
		"responsePayload": jsonOrString(last.payload),
	}
	if last.functionError != "" {
		rec["responseContext"].(map[string]any)["functionError"] = last.functionError
	}
	b, _ := json.Marshal(rec)
	return b
}

func jsonOrString(b []byte) any {
	var v any
	if json.Unmarshal(b, &v) == nil {
		return v
	}
	return string(b)
}

// deliver sends the record to a destination ARN through the engine's front
// door, as any client would.
func (a *asyncInvokes) deliver(arn string, success bool, rec []byte) error {
	p := strings.SplitN(arn, ":", 6)
	if len(p) != 6 || p[0] != "arn" {
		return fmt.Errorf("%q is not an ARN", arn)
	}
	switch p[2] {
	case "sqs":
		qurl, err := a.queueURL(p[5], p[4])
		if err != nil {
			return err
		}
		_, err = a.call("sqs", "AmazonSQS.SendMessage", "application/x-amz-json-1.0", map[string]any{"QueueUrl": qurl, "MessageBody": string(rec)})
		return err
	case "sns":
		form := url.Values{"Action": {"Publish"}, "Version": {"2010-03-31"}, "TopicArn": {arn}, "Message": {string(rec)}}
		return a.send(http.MethodPost, "/", "sns", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, []byte(form.Encode()))
	case "events":
		dt := "Lambda Function Invocation Result - Failure"
		if success {
			dt = "Lambda Function Invocation Result - Success"
		}
		_, err := a.call("events", "AWSEvents.PutEvents", "application/x-amz-json-1.1", map[string]any{"Entries": []map[string]any{{
			"Source": "lambda", "DetailType": dt, "Detail": string(rec), "EventBusName": arn,
		}}})
		return err
	case "lambda":
		return a.send(http.MethodPost, lambdaPrefix+"/"+url.PathEscape(qualifiedName(arn))+"/invocations", "lambda",
			map[string]string{"X-Amz-Invocation-Type": "Event", "Content-Type": "application/json"}, rec)
	}
	return fmt.Errorf("%s: Lambda destinations are queues, topics, buses and functions", arn)
}

func (a *asyncInvokes) queueURL(name, account string) (string, error) {
	b, err := a.call("sqs", "AmazonSQS.GetQueueUrl", "application/x-amz-json-1.0", map[string]any{"QueueName": name, "QueueOwnerAWSAccountId": account})
	if err != nil {
		return "", err
	}
	var out struct{ QueueUrl string }
	if err := json.Unmarshal(b, &out); err != nil || out.QueueUrl == "" {
		return "", fmt.Errorf("GetQueueUrl %s: %s", name, b)
	}
	return out.QueueUrl, nil
}

func (a *asyncInvokes) call(service, target, contentType string, body any) ([]byte, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	var out []byte
	err = a.sendInto(&out, http.MethodPost, "/", service, map[string]string{"X-Amz-Target": target, "Content-Type": contentType}, b)
	return out, err
}

func (a *asyncInvokes) send(method, path, service string, hdr map[string]string, body []byte) error {
	return a.sendInto(nil, method, path, service, hdr, body)
}

func (a *asyncInvokes) sendInto(out *[]byte, method, path, service string, hdr map[string]string, body []byte) error {
	req, err := http.NewRequest(method, a.front+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", authHeader(service))
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := a.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %s: %s", service, method, resp.Status, bytes.TrimSpace(b))
	}
	if out != nil {
		*out = b
	}
	return nil
}
