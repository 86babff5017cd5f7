package apicalls

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Operation names the API operation of a request: the X-Amz-Target suffix for
// JSON protocols, the Action parameter for query protocols, and for REST
// protocols (Lambda, S3, API Gateway) "Get<path>" for GET/HEAD or
// "<METHOD> <path>" otherwise.
func Operation(r *http.Request, body []byte) string {
	if t := r.Header.Get("X-Amz-Target"); t != "" {
		return t[strings.LastIndex(t, ".")+1:]
	}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		if v, err := url.ParseQuery(string(body)); err == nil && v.Get("Action") != "" {
			return v.Get("Action")
		}
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		return "Get" + r.URL.Path
	}
	return r.Method + " " + r.URL.Path
}

// IsRead reports whether an operation only reads: Get*, Describe*, List*,
// Head*. Everything else counts as a write.
func IsRead(op string) bool {
	for _, p := range []string{"Get", "Describe", "List", "Head"} {
		if strings.HasPrefix(op, p) {
			return true
		}
	}
	return false
}

// ReadBody reads a request's body and puts it back, for Operation.
func ReadBody(r *http.Request) []byte {
	if r.Body == nil {
		return nil
	}
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	return body
}

// Counter is a reverse proxy that counts the calls passing through it.
type Counter struct {
	URL string // the proxy's base URL: give it to evdeploy as --endpoint

	// Latency, when set before the first request, delays every call by that
	// much, so a benchmark can see how an apply behaves at AWS-like
	// round-trip times (the emulator answers in microseconds).
	Latency time.Duration
	// Quotas, when set before the first request, throttles calls beyond
	// each API's rate the way AWS does (quota.go). A throttled call is
	// counted by Quotas, not as a call, and also takes Latency.
	Quotas *Quotas

	srv    *httptest.Server
	mu     sync.Mutex
	reads  int
	writes []string
	ops    map[string]int
	bytes  map[string]int64 // request body bytes by operation
}

// NewCounter starts a counting proxy in front of target. Close it when done.
func NewCounter(target string) *Counter {
	u, err := url.Parse(target)
	if err != nil {
		panic(err)
	}
	c := &Counter{}
	proxy := httputil.NewSingleHostReverseProxy(u)
	c.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body := ReadBody(r)
		op := Operation(r, body)
		if c.Quotas != nil {
			svc := SigningName(r)
			if _, ok := c.Quotas.admit(svc, APIName(svc, r, op)); !ok {
				if c.Latency > 0 {
					time.Sleep(c.Latency)
				}
				writeThrottle(w, svc)
				return
			}
		}
		c.mu.Lock()
		if c.ops == nil {
			c.ops = map[string]int{}
		}
		c.ops[op]++
		if c.bytes == nil {
			c.bytes = map[string]int64{}
		}
		c.bytes[op] += int64(len(body))
		if IsRead(op) {
			c.reads++
		} else {
			c.writes = append(c.writes, op)
		}
		c.mu.Unlock()
		if c.Latency > 0 {
			time.Sleep(c.Latency)
		}
		proxy.ServeHTTP(w, r)
	}))
	c.URL = c.srv.URL
	return c
}

// Reset returns the calls counted since the last Reset and starts again.
func (c *Counter) Reset() (reads int, writes []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	reads, writes = c.reads, c.writes
	c.reads, c.writes, c.ops, c.bytes = 0, nil, nil, nil
	return reads, writes
}

// Bytes returns the request body bytes of each operation counted since the
// last Reset ("PUT /bucket/key" for S3 uploads).
func (c *Counter) Bytes() map[string]int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int64, len(c.bytes))
	for k, v := range c.bytes {
		out[k] = v
	}
	return out
}

// Ops returns how many calls of each operation were counted since the last
// Reset.
func (c *Counter) Ops() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int, len(c.ops))
	for k, v := range c.ops {
		out[k] = v
	}
	return out
}

// Close stops the proxy.
func (c *Counter) Close() { c.srv.Close() }
