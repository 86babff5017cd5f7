package localstack

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
)

// API Gateway in front of a failing function. Lambda documents: "If the
// function runs but returns an error ... API Gateway returns a 502", body
// {"message": "Internal server error"} (HTTP APIs word it "Internal Server
// Error"). kumo answers an HTTP API's request with the function's error
// document and 200. The engine tags each execute-api request with a header;
// kumo copies request headers into the proxy event it invokes the function
// with, so the invoke (sent through the engine's front, selfcall.go) names
// its API request; a function error on it turns the API's answer into 502.

const apiCallHeader = "X-Evdeploy-Api-Call"

type apiCall struct {
	failed bool
	v2     bool
}

type apiCalls struct {
	mu    sync.Mutex
	calls map[string]*apiCall
}

func isExecuteAPI(req *http.Request) bool {
	host, _, err := net.SplitHostPort(req.Host)
	if err != nil {
		host = req.Host
	}
	return strings.Contains(host, ".execute-api.")
}

// serveAPI passes an execute-api request on, answering 502 if the function
// behind it failed.
func (r *runner) serveAPI(w http.ResponseWriter, req *http.Request, next http.Handler) {
	tag := newRequestID()
	call := &apiCall{}
	r.api.mu.Lock()
	if r.api.calls == nil {
		r.api.calls = map[string]*apiCall{}
	}
	r.api.calls[tag] = call
	r.api.mu.Unlock()
	defer func() {
		r.api.mu.Lock()
		delete(r.api.calls, tag)
		r.api.mu.Unlock()
	}()
	req.Header.Set(apiCallHeader, tag)
	buf := &bufferedResponse{header: http.Header{}}
	next.ServeHTTP(buf, req)
	r.api.mu.Lock()
	failed, v2 := call.failed, call.v2
	r.api.mu.Unlock()
	if failed {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadGateway)
		if v2 {
			_, _ = w.Write([]byte(`{"message":"Internal Server Error"}`))
		} else {
			_, _ = w.Write([]byte(`{"message": "Internal server error"}`))
		}
		return
	}
	buf.send(w)
}

// watch looks for an API request's tag in an invoke's event, takes it out
// (the function sees the request as sent) and returns a writer that marks
// the API request failed when the invoke answers with a function error.
func (c *apiCalls) watch(w http.ResponseWriter, req *http.Request) http.ResponseWriter {
	c.mu.Lock()
	n := len(c.calls)
	c.mu.Unlock()
	if n == 0 || req.Body == nil {
		return w
	}
	body, err := io.ReadAll(req.Body)
	req.Body = io.NopCloser(bytes.NewReader(body))
	if err != nil || !bytes.Contains(body, []byte(apiCallHeader)) {
		return w
	}
	var ev map[string]any
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	if d.Decode(&ev) != nil {
		return w
	}
	tag := ""
	for _, k := range []string{"headers", "multiValueHeaders"} {
		if h, ok := ev[k].(map[string]any); ok {
			for hk, v := range h {
				if strings.EqualFold(hk, apiCallHeader) {
					if s, ok := v.(string); ok {
						tag = s
					} else if l, ok := v.([]any); ok && len(l) > 0 {
						tag, _ = l[0].(string)
					}
					delete(h, hk)
				}
			}
		}
	}
	c.mu.Lock()
	call := c.calls[tag]
	if call != nil {
		call.v2 = ev["version"] == "2.0"
	}
	c.mu.Unlock()
	if call == nil {
		return w
	}
	if b, err := json.Marshal(ev); err == nil {
		req.Body = io.NopCloser(bytes.NewReader(b))
		req.ContentLength = int64(len(b))
	}
	return &apiInvokeWriter{ResponseWriter: w, mark: func() {
		c.mu.Lock()
		call.failed = true
		c.mu.Unlock()
	}}
}

// apiInvokeWriter sees an invoke's answer on its way back to kumo.
type apiInvokeWriter struct {
	http.ResponseWriter
	mark func()
	seen bool
}

func (w *apiInvokeWriter) WriteHeader(code int) {
	if !w.seen {
		w.seen = true
		if w.Header().Get("X-Amz-Function-Error") != "" {
			w.mark()
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *apiInvokeWriter) Write(b []byte) (int, error) {
	if !w.seen {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}
