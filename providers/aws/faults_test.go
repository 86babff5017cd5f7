package aws

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// faultProxy sits between a handler and kumo and answers chosen operations
// with a throttling error in the shape of the caller's protocol, so tests see
// how handlers classify errors kumo itself never returns.
type faultProxy struct {
	srv *httptest.Server

	mu     sync.Mutex
	faults map[string][]fault // operation name → errors to answer its next requests with
	seen   []string           // every operation that reached the proxy
}

// fault is one injected error response.
type fault struct {
	status  int
	code    string
	message string
}

// newFaultProxy starts a proxy to the shared emulator, closed with the test.
func newFaultProxy(t *testing.T) *faultProxy {
	t.Helper()
	target, err := url.Parse(emulatorFor(t))
	if err != nil {
		t.Fatal(err)
	}
	p := &faultProxy{faults: map[string][]fault{}}
	rp := httputil.NewSingleHostReverseProxy(target)
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		op := operation(r)
		p.mu.Lock()
		p.seen = append(p.seen, op)
		var f *fault
		if q := p.faults[op]; len(q) > 0 {
			f, p.faults[op] = &q[0], q[1:]
		}
		p.mu.Unlock()
		if f != nil {
			writeFault(w, r, *f)
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(p.srv.Close)
	return p
}

// throttleNext makes the next n calls of op fail with the throttling error
// of the call's protocol.
func (p *faultProxy) throttleNext(op string, n int) {
	for range n {
		p.failNext(op, 0, "", "Rate exceeded")
	}
}

// failNext makes the next call of op fail with an API error; status 0 and
// code "" mean the protocol's throttling error.
func (p *faultProxy) failNext(op string, status int, code, message string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.faults[op] = append(p.faults[op], fault{status, code, message})
}

// calls returns the operations that reached the proxy since the last call.
func (p *faultProxy) calls() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	seen := p.seen
	p.seen = nil
	return seen
}

// config is testConfig aimed at the proxy, with the SDK's own retries off so
// the test sees the handler's classification of the first failure.
func (p *faultProxy) config(t testing.TB) aws.Config {
	cfg := testConfig(t)
	cfg.BaseEndpoint = aws.String(p.srv.URL)
	cfg.RetryMaxAttempts = 1
	return cfg
}

// operation names the API operation of a request: the X-Amz-Target suffix
// (JSON protocols), the Action form field (query protocol), or the method and
// path (REST protocols such as Lambda's).
func operation(r *http.Request) string {
	if t := r.Header.Get("X-Amz-Target"); t != "" {
		return t[strings.LastIndex(t, ".")+1:]
	}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		if v, err := url.ParseQuery(string(body)); err == nil {
			return v.Get("Action")
		}
	}
	return r.Method + " " + r.URL.Path
}

// writeFault answers with f in the error shape of the request's protocol.
func writeFault(w http.ResponseWriter, r *http.Request, f fault) {
	jsonMsg, _ := json.Marshal(f.message)
	switch {
	case r.Header.Get("X-Amz-Target") != "": // AWS JSON 1.0/1.1 (SQS, SNS, Logs…)
		code, status := or(f.code, "ThrottlingException"), orInt(f.status, http.StatusBadRequest)
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"__type":%q,"message":%s}`, code, jsonMsg)
	case strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded"): // query (IAM)
		code, status := or(f.code, "Throttling"), orInt(f.status, http.StatusBadRequest)
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(status)
		var msg bytes.Buffer
		xml.EscapeText(&msg, []byte(f.message))
		fmt.Fprintf(w, `<ErrorResponse><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>fault</RequestId></ErrorResponse>`, code, msg.String())
	default: // REST-JSON (Lambda)
		code, status := or(f.code, "TooManyRequestsException"), orInt(f.status, http.StatusTooManyRequests)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Amzn-ErrorType", code)
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"Type":"User","message":%s}`, jsonMsg)
	}
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func orInt(n, def int) int {
	if n == 0 {
		return def
	}
	return n
}
