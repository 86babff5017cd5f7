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

// The Lambda API as the runner sees it pass through the engine's proxy: the
// control-plane calls it follows (create, update, delete), the handlers'
// Runtime API calls (next, response, error) that frame an invocation, and
// the invokes it holds until a starting handler is ready.

const lambdaPrefix = "/2015-03-31/functions"

// lambdaOp classifies a request: "create", "code", "config", "delete" or ""
// (not one the runner follows), and the function name in the path.
func lambdaOp(method, path string) (op, name string) {
	if !strings.HasPrefix(path, lambdaPrefix) {
		return "", ""
	}
	rest := strings.Trim(strings.TrimPrefix(path, lambdaPrefix), "/")
	parts := strings.Split(rest, "/")
	switch {
	case method == http.MethodPost && rest == "":
		return "create", ""
	case method == http.MethodPut && len(parts) == 2 && parts[1] == "code":
		return "code", functionName(parts[0])
	case method == http.MethodPut && len(parts) == 2 && parts[1] == "configuration":
		return "config", functionName(parts[0])
	case method == http.MethodDelete && len(parts) == 1 && parts[0] != "":
		return "delete", functionName(parts[0])
	}
	return "", ""
}

// functionName accepts a name or an ARN (arn:aws:lambda:r:a:function:name[:q]).
func functionName(s string) string {
	if strings.HasPrefix(s, "arn:") {
		p := strings.Split(s, ":")
		if len(p) >= 7 {
			return p[6]
		}
	}
	return s
}

// bufferedResponse holds a control-plane answer until the runner has acted
// on it, so that a client that invokes right after its deploy call returns
// finds the new handler (or no handler, after a delete).
type bufferedResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *bufferedResponse) Header() http.Header { return b.header }
func (b *bufferedResponse) WriteHeader(code int) {
	if b.status == 0 {
		b.status = code
	}
}
func (b *bufferedResponse) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	return b.body.Write(p)
}

// send passes the held answer on to w (200 when next set no status).
func (b *bufferedResponse) send(w http.ResponseWriter) {
	for k, v := range b.header {
		w.Header()[k] = v
	}
	if b.status == 0 {
		b.status = http.StatusOK
	}
	w.WriteHeader(b.status)
	_, _ = w.Write(b.body.Bytes())
}

// serveBuffered reads req's body (and gives next a copy), and holds next's
// answer for the caller to act on and send; a body that cannot be read is
// answered 400 and ok is false.
func serveBuffered(w http.ResponseWriter, req *http.Request, next http.Handler) (body []byte, buf *bufferedResponse, ok bool) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return nil, nil, false
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	buf = &bufferedResponse{header: http.Header{}}
	next.ServeHTTP(buf, req)
	return body, buf, true
}

// wrap follows successful Lambda control-plane calls on their way to next.
func (r *runner) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if name, ok := runtimeNext(req.URL.Path); ok {
			r.polled(name)
			next.ServeHTTP(&nextWriter{ResponseWriter: w, onHeader: func(h http.Header) {
				if id := h.Get("Lambda-Runtime-Aws-Request-Id"); id != "" {
					r.invocationStarted(name, id)
				}
			}}, req)
			return
		}
		if name, id, ok := runtimeDone(req.Method, req.URL.Path); ok {
			report, ok := r.invocationFinishing(name, id)
			if !ok {
				// The engine ended it (out of memory): the post is dropped.
				w.WriteHeader(http.StatusAccepted)
				_, _ = w.Write([]byte(`{"status":"OK"}`))
				return
			}
			next.ServeHTTP(w, req)
			report()
			return
		}
		if name, ok := runtimeInitError(req.Method, req.URL.Path); ok {
			body, _ := io.ReadAll(req.Body)
			req.Body = io.NopCloser(bytes.NewReader(body))
			r.initError(name, body, req.Header.Get("Lambda-Runtime-Function-Error-Type"))
			next.ServeHTTP(w, req)
			return
		}
		if isExecuteAPI(req) {
			r.serveAPI(w, req, next)
			return
		}
		if name, ok := invokePath(req.Method, req.URL.Path); ok {
			w = r.api.watch(w, req)
			r.awaitReady(req.Context(), name)
			if r.answerInitFailure(w, req, name) {
				return
			}
			next.ServeHTTP(w, req)
			return
		}
		op, name := lambdaOp(req.Method, req.URL.Path)
		if op == "" {
			next.ServeHTTP(w, req)
			return
		}
		body, buf, ok := serveBuffered(w, req, next)
		if !ok {
			return
		}
		if buf.status == 0 {
			buf.status = http.StatusOK
		}
		if buf.status >= 200 && buf.status <= 299 {
			// The client may hang up meanwhile: keep going.
			ctx, cancel := context.WithTimeout(context.WithoutCancel(req.Context()), 30*time.Second)
			if err := r.follow(req.WithContext(ctx), op, name, body); err != nil {
				r.lg.Printf("function runner: %v", err)
			}
			cancel()
		}
		buf.send(w)
	})
}

// runtimeNext recognises a handler's poll for its next invocation.
func runtimeNext(path string) (string, bool) {
	rest, ok := strings.CutPrefix(path, "/_runtime/")
	if !ok {
		return "", false
	}
	name, tail, _ := strings.Cut(rest, "/")
	return name, tail == "2018-06-01/runtime/invocation/next"
}

// runtimeDone recognises a handler posting an invocation's response or error.
func runtimeDone(method, path string) (name, id string, ok bool) {
	rest, found := strings.CutPrefix(path, "/_runtime/")
	if !found || method != http.MethodPost {
		return "", "", false
	}
	p := strings.Split(rest, "/")
	// name/2018-06-01/runtime/invocation/ID/response|error
	if len(p) != 6 || p[3] != "invocation" || p[5] != "response" && p[5] != "error" {
		return "", "", false
	}
	return p[0], p[4], true
}

// nextWriter sees the headers of a runtime "next" answer on their way out.
type nextWriter struct {
	http.ResponseWriter
	onHeader func(http.Header)
	seen     bool
}

func (w *nextWriter) WriteHeader(code int) {
	if !w.seen {
		w.seen = true
		w.onHeader(w.Header())
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *nextWriter) Write(b []byte) (int, error) {
	if !w.seen {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

func (w *nextWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *nextWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// invokePath recognises an Invoke request.
func invokePath(method, path string) (string, bool) {
	rest, ok := strings.CutPrefix(path, lambdaPrefix+"/")
	if !ok || method != http.MethodPost {
		return "", false
	}
	name, tail, _ := strings.Cut(rest, "/")
	if tail != "invocations" {
		return "", false
	}
	if n, err := url.PathUnescape(name); err == nil {
		name = n
	}
	return functionName(name), true
}

// polled marks name's handler ready shortly after its first poll has gone
// on to kumo (which then queues invocations for it).
func (r *runner) polled(name string) {
	r.mu.Lock()
	fn := r.fns[name]
	var once *sync.Once
	var ch chan struct{}
	if fn != nil && fn.readyOnce != nil {
		once, ch = fn.readyOnce, fn.ready
		if !fn.polled && fn.cmd != nil {
			fn.polled, fn.reportInit = true, true
			fn.initDur = time.Since(fn.startedAt)
		}
	}
	r.mu.Unlock()
	if once != nil {
		time.AfterFunc(50*time.Millisecond, func() { once.Do(func() { close(ch) }) })
	}
}

// readyWait bounds how long an invoke waits for a starting handler.
const readyWait = 30 * time.Second

// awaitReady holds an invoke of a function the runner is starting until its
// handler polls (at most readyWait); for other functions it returns at once.
func (r *runner) awaitReady(ctx context.Context, name string) {
	r.mu.Lock()
	fn := r.fns[name]
	var ch chan struct{}
	if fn != nil && fn.cmd != nil {
		ch = fn.ready
	}
	r.mu.Unlock()
	if ch == nil {
		return
	}
	t := time.NewTimer(readyWait)
	defer t.Stop()
	select {
	case <-ch:
	case <-ctx.Done():
	case <-t.C:
	}
}

// follow brings the function's process in line with what was just deployed.
func (r *runner) follow(req *http.Request, op, name string, body []byte) error {
	var in struct {
		FunctionName string `json:"FunctionName"`
		Code         *struct {
			ZipFile  []byte `json:"ZipFile"`
			S3Bucket string `json:"S3Bucket"`
			S3Key    string `json:"S3Key"`
		} `json:"Code"`
		ZipFile  []byte `json:"ZipFile"`
		S3Bucket string `json:"S3Bucket"`
		S3Key    string `json:"S3Key"`
	}
	if op != "delete" {
		if err := json.Unmarshal(body, &in); err != nil {
			return fmt.Errorf("reading the %s request: %w", op, err)
		}
	}
	if op == "create" {
		name = functionName(in.FunctionName)
		if name == "" {
			return fmt.Errorf("create request names no function")
		}
		if in.Code != nil {
			in.ZipFile, in.S3Bucket, in.S3Key = in.Code.ZipFile, in.Code.S3Bucket, in.Code.S3Key
		}
	}
	if op == "delete" {
		r.remove(name)
		return nil
	}
	var zipBytes []byte
	switch {
	case len(in.ZipFile) > 0:
		zipBytes = in.ZipFile
	case in.S3Bucket != "" && in.S3Key != "":
		b, err := r.get(req, "/"+in.S3Bucket+"/"+strings.TrimPrefix(in.S3Key, "/"))
		if err != nil {
			return fmt.Errorf("%s: code s3://%s/%s: %w", name, in.S3Bucket, in.S3Key, err)
		}
		zipBytes = b
	}
	b, err := r.get(req, lambdaPrefix+"/"+url.PathEscape(name))
	if err != nil {
		return fmt.Errorf("%s: reading its configuration: %w", name, err)
	}
	var got struct {
		Configuration lambdaConf `json:"Configuration"`
	}
	if err := json.Unmarshal(b, &got); err != nil {
		return fmt.Errorf("%s: reading its configuration: %w", name, err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil
	}
	fn := r.fns[name]
	if fn == nil {
		fn = &fnRun{name: name}
		r.fns[name] = fn
	}
	if zipBytes != nil {
		fn.zip = zipBytes
	}
	fn.conf = got.Configuration
	fn.region = signingRegion(req)
	r.keep(fn)
	fn.quick = 0
	r.restartLocked(fn)
	return nil
}

// get reads path from kumo, signed like the request that triggered it (kumo
// does not check signatures, but routes some services by them).
func (r *runner) get(req *http.Request, path string) ([]byte, error) {
	out, err := http.NewRequestWithContext(req.Context(), http.MethodGet, r.kumoURL+path, nil)
	if err != nil {
		return nil, err
	}
	if a := req.Header.Get("Authorization"); a != "" && !strings.HasPrefix(path, lambdaPrefix) {
		// An S3 read: sign it as S3 so kumo routes it there.
		out.Header.Set("Authorization", strings.Replace(a, "/lambda/", "/s3/", 1))
	} else if a != "" {
		out.Header.Set("Authorization", a)
	}
	resp, err := r.client.Do(out)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", path, resp.Status)
	}
	return b, nil
}

// signingRegion is the region in a SigV4 Authorization header's scope.
func signingRegion(req *http.Request) string {
	a := req.Header.Get("Authorization")
	if i := strings.Index(a, "Credential="); i >= 0 {
		p := strings.Split(strings.SplitN(a[i+len("Credential="):], ",", 2)[0], "/")
		if len(p) >= 3 && p[2] != "" {
			return p[2]
		}
	}
	return "us-east-1"
}
