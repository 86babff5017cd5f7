package aws

import (
	"bytes"
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

	mu       sync.Mutex
	throttle map[string]int // operation name → requests still to throttle
	seen     []string       // every operation that reached the proxy
}

// newFaultProxy starts a proxy to the shared emulator, closed with the test.
func newFaultProxy(t *testing.T) *faultProxy {
	t.Helper()
	target, err := url.Parse(emulatorURL)
	if err != nil {
		t.Fatal(err)
	}
	p := &faultProxy{throttle: map[string]int{}}
	rp := httputil.NewSingleHostReverseProxy(target)
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		op := operation(r)
		p.mu.Lock()
		p.seen = append(p.seen, op)
		n := p.throttle[op]
		if n > 0 {
			p.throttle[op] = n - 1
		}
		p.mu.Unlock()
		if n > 0 {
			writeThrottle(w, r)
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(p.srv.Close)
	return p
}

// throttleNext makes the next n calls of op fail with throttling.
func (p *faultProxy) throttleNext(op string, n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.throttle[op] = n
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

// writeThrottle answers with the throttling error each protocol uses.
func writeThrottle(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Header.Get("X-Amz-Target") != "": // AWS JSON 1.0/1.1 (SQS, Logs…)
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"__type":"ThrottlingException","message":"Rate exceeded"}`)
	case strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded"): // query (IAM, SNS)
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>fault</RequestId></ErrorResponse>`)
	default: // REST-JSON (Lambda)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Amzn-ErrorType", "TooManyRequestsException")
		w.WriteHeader(http.StatusTooManyRequests)
		io.WriteString(w, `{"Type":"User","message":"Rate exceeded"}`)
	}
}
