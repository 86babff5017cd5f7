package localstack

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"debug/elf"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// runner executes deployed functions for the embedded engine. kumo implements
// the Lambda Runtime API but starts nothing; the runner watches the Lambda
// control-plane calls that pass through the engine's proxy (create, update
// code or configuration, delete) and keeps one handler process per function
// polling kumo at AWS_LAMBDA_RUNTIME_API=<kumo>/_runtime/<name>.
//
// It also polls the SQS, Kinesis and DynamoDB stream event source mappings of
// the functions it runs (esm.go, streams.go).
//
// It runs provided.* (and go1.x) packages whose executable is built for this
// OS and architecture, and python3.* and nodejs* handlers on the host's
// interpreter (interp.go). Other functions are deployed but not executed; the
// health document says why.
type runner struct {
	kumoClient
	kumoURL  string // kumo's own URL (the runtime API and control-plane reads)
	endpoint string // the engine's endpoint, given to functions as AWS_ENDPOINT_URL
	root     string // unpacked code lives here
	lg       *log.Logger

	client *http.Client
	stop   context.CancelFunc // ends the mapping watcher and the pollers

	mu      sync.Mutex
	fns     map[string]*fnRun
	pollers map[string]*poller // by event source mapping UUID

	checkpoints checkpoints // stream progress, kept across poller restarts
	closed      bool

	store    string               // where deployed code is kept across restarts ("" = not kept)
	logs     *logShipper          // handlers' output into CloudWatch Logs
	requests map[string]time.Time // invocations in flight, by request id (REPORT's duration)
}

type fnRun struct {
	name   string
	region string
	zip    []byte
	conf   lambdaConf
	gen    int       // bumped on every (re)start so a stale exit is ignored
	cmd    *exec.Cmd // nil when not running
	done   chan struct{}
	status string // for the health document
	quick  int    // consecutive exits shortly after start
	// ready is closed once the running handler has polled the Runtime API:
	// kumo drops asynchronous invokes (and fails synchronous ones) sent
	// before that, so the engine holds them until then (awaitReady).
	ready     chan struct{}
	readyOnce *sync.Once
	stream    string // the CloudWatch Logs stream of the running process
}

// lambdaConf is the part of a function's configuration the runner needs, as
// GetFunction returns it.
type lambdaConf struct {
	FunctionName  string   `json:"FunctionName"`
	Runtime       string   `json:"Runtime"`
	Handler       string   `json:"Handler"`
	Architectures []string `json:"Architectures"`
	Timeout       int      `json:"Timeout"`
	MemorySize    int      `json:"MemorySize"`
	Environment   *struct {
		Variables map[string]string `json:"Variables"`
	} `json:"Environment"`
}

func newRunner(kumoURL, endpoint string, lg *log.Logger) (*runner, error) {
	root, err := os.MkdirTemp("", "evdeploy-functions-")
	if err != nil {
		return nil, err
	}
	ctx, stop := context.WithCancel(context.Background())
	r := &runner{
		kumoClient: newKumoClient(kumoURL),
		kumoURL:    kumoURL, endpoint: endpoint, root: root, lg: lg, stop: stop,
		client: &http.Client{Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 32}},
		fns:    map[string]*fnRun{}, pollers: map[string]*poller{},
		requests: map[string]time.Time{},
	}
	r.logs = newLogShipper(r.kumoClient, lg)
	if dir := os.Getenv("KUMO_DATA_DIR"); dir != "" {
		// kumo keeps its resources there; the code it does not serve back
		// is kept beside them, so a restarted engine runs its functions.
		r.store = filepath.Join(dir, "evdeploy-functions")
		r.checkpoints.load(filepath.Join(dir, "evdeploy-stream-checkpoints.json"))
		r.restore(ctx)
	}
	go r.logs.run(ctx, 200*time.Millisecond)
	go r.watchMappings(ctx, time.Second)
	return r, nil
}

// storedFunction is what the runner keeps of a function besides its code.
type storedFunction struct {
	Region string `json:"region"`
}

// keep writes fn's code and region to the store.
func (r *runner) keep(fn *fnRun) {
	if r.store == "" || fn.zip == nil {
		return
	}
	if err := os.MkdirAll(r.store, 0o755); err != nil {
		r.lg.Printf("function %s: keeping its code: %v", fn.name, err)
		return
	}
	meta, _ := json.Marshal(storedFunction{Region: fn.region})
	base := filepath.Join(r.store, url.PathEscape(fn.name))
	for _, f := range []struct {
		path string
		b    []byte
	}{{base + ".zip", fn.zip}, {base + ".json", meta}} {
		tmp := f.path + ".tmp"
		if err := os.WriteFile(tmp, f.b, 0o644); err != nil {
			r.lg.Printf("function %s: keeping its code: %v", fn.name, err)
			return
		}
		if err := os.Rename(tmp, f.path); err != nil {
			r.lg.Printf("function %s: keeping its code: %v", fn.name, err)
			return
		}
	}
}

func (r *runner) forget(name string) {
	if r.store == "" {
		return
	}
	base := filepath.Join(r.store, url.PathEscape(name))
	os.Remove(base + ".zip")
	os.Remove(base + ".json")
}

// restore starts the functions kept in the store that kumo still has.
func (r *runner) restore(ctx context.Context) {
	entries, err := os.ReadDir(r.store)
	if err != nil {
		return
	}
	for _, e := range entries {
		esc, ok := strings.CutSuffix(e.Name(), ".zip")
		if !ok {
			continue
		}
		name, err := url.PathUnescape(esc)
		if err != nil {
			continue
		}
		base := filepath.Join(r.store, esc)
		zipBytes, err := os.ReadFile(base + ".zip")
		if err != nil {
			continue
		}
		var meta storedFunction
		if b, err := os.ReadFile(base + ".json"); err == nil {
			_ = json.Unmarshal(b, &meta)
		}
		b, _, err := r.call(ctx, http.MethodGet, lambdaPrefix+"/"+url.PathEscape(name), "lambda", "", nil)
		if err != nil {
			r.lg.Printf("function %s: kept code but the function is gone (%v): forgotten", name, err)
			r.forget(name)
			continue
		}
		var got struct {
			Configuration lambdaConf `json:"Configuration"`
		}
		if err := json.Unmarshal(b, &got); err != nil {
			continue
		}
		if meta.Region == "" {
			meta.Region = "us-east-1"
		}
		r.mu.Lock()
		fn := &fnRun{name: name, zip: zipBytes, conf: got.Configuration, region: meta.Region}
		r.fns[name] = fn
		r.restartLocked(fn)
		r.mu.Unlock()
		r.lg.Printf("function %s: restored from the engine's store", name)
	}
}

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
			next.ServeHTTP(w, req)
			r.invocationDone(name, id)
			return
		}
		if name, ok := invokePath(req.Method, req.URL.Path); ok {
			r.awaitReady(req.Context(), name)
			next.ServeHTTP(w, req)
			return
		}
		op, name := lambdaOp(req.Method, req.URL.Path)
		if op == "" {
			next.ServeHTTP(w, req)
			return
		}
		body, err := io.ReadAll(req.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
		buf := &bufferedResponse{header: http.Header{}}
		next.ServeHTTP(buf, req)
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
		for k, v := range buf.header {
			w.Header()[k] = v
		}
		w.WriteHeader(buf.status)
		_, _ = w.Write(buf.body.Bytes())
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

// fnLine writes one line of fn's log: the engine log and CloudWatch Logs.
func (r *runner) fnLine(name, line string) {
	r.mu.Lock()
	stream := ""
	if fn := r.fns[name]; fn != nil {
		stream = fn.stream
	}
	r.mu.Unlock()
	r.lg.Print("[" + name + "] " + line)
	if stream != "" {
		r.logs.add(name, stream, line)
	}
}

func (r *runner) invocationStarted(name, id string) {
	r.mu.Lock()
	r.requests[id] = time.Now()
	r.mu.Unlock()
	r.fnLine(name, "START RequestId: "+id+" Version: $LATEST")
}

func (r *runner) invocationDone(name, id string) {
	r.mu.Lock()
	started, ok := r.requests[id]
	delete(r.requests, id)
	mem := 0
	if fn := r.fns[name]; fn != nil {
		mem = fn.conf.MemorySize
	}
	r.mu.Unlock()
	if !ok {
		return
	}
	r.fnLine(name, "END RequestId: "+id)
	d := float64(time.Since(started).Microseconds()) / 1000
	r.fnLine(name, fmt.Sprintf("REPORT RequestId: %s\tDuration: %.2f ms\tMemory Size: %d MB", id, d, mem))
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

func (r *runner) remove(name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if fn := r.fns[name]; fn != nil {
		delete(r.fns, name)
		r.forget(name)
		stopFn(fn)
		os.RemoveAll(filepath.Join(r.root, name))
		r.lg.Printf("function %s: deleted; handler stopped", name)
	}
}

// restartLocked stops fn's process, unpacks its code and starts it again.
// r.mu is held.
func (r *runner) restartLocked(fn *fnRun) {
	stopFn(fn)
	fn.gen++
	if fn.zip == nil {
		fn.status = "not run: its code was not seen by this engine (deployed before it started?)"
		return
	}
	dir := filepath.Join(r.root, fn.name, strconv.Itoa(fn.gen))
	os.RemoveAll(filepath.Join(r.root, fn.name))
	if err := unzip(fn.zip, dir); err != nil {
		fn.status = "not run: " + err.Error()
		r.lg.Printf("function %s: %s", fn.name, fn.status)
		return
	}
	argv, why := launcher(fn.conf, dir, r.root)
	if argv == nil {
		fn.status = "not run: " + why
		r.lg.Printf("function %s: %s", fn.name, fn.status)
		return
	}
	// The Runtime API through the engine's front, so it sees the first poll.
	host := strings.TrimPrefix(r.endpoint, "http://")
	path := os.Getenv("PATH")
	if path == "" {
		path = "/usr/local/bin:/usr/bin:/bin"
	}
	env := []string{
		// The engine's PATH and HOME: interpreters (and version managers' shims) live there.
		"PATH=" + path,
		"HOME=" + os.Getenv("HOME"),
		"TZ=:UTC",
		"LAMBDA_TASK_ROOT=" + dir,
		"_HANDLER=" + fn.conf.Handler,
		"AWS_LAMBDA_RUNTIME_API=" + host + "/_runtime/" + fn.name,
		"AWS_LAMBDA_FUNCTION_NAME=" + fn.name,
		"AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=" + strconv.Itoa(fn.conf.MemorySize),
		"AWS_REGION=" + fn.region,
		"AWS_DEFAULT_REGION=" + fn.region,
		"AWS_ACCESS_KEY_ID=test",
		"AWS_SECRET_ACCESS_KEY=test",
		"AWS_ENDPOINT_URL=" + r.endpoint,
	}
	if fn.conf.Environment != nil {
		keys := make([]string, 0, len(fn.conf.Environment.Variables))
		for k := range fn.conf.Environment.Variables {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			env = append(env, k+"="+fn.conf.Environment.Variables[k])
		}
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = env
	// Own process group (stop kills helpers too); on Linux, die with the engine.
	cmd.SysProcAttr = handlerAttr()
	stream := newStreamName()
	out := &lineLogger{line: func(l string) {
		r.lg.Print("[" + fn.name + "] " + l)
		r.logs.add(fn.name, stream, l)
	}}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		fn.status = "not run: " + err.Error()
		r.lg.Printf("function %s: %s", fn.name, fn.status)
		return
	}
	fn.cmd, fn.done = cmd, make(chan struct{})
	fn.ready, fn.readyOnce = make(chan struct{}), &sync.Once{}
	fn.stream = stream
	fn.status = fmt.Sprintf("running (pid %d)", cmd.Process.Pid)
	r.lg.Printf("function %s: started %s (%s), pid %d", fn.name, fn.conf.Runtime, filepath.Base(argv[len(argv)-1]), cmd.Process.Pid)
	gen, done, started := fn.gen, fn.done, time.Now()
	go func() {
		err := cmd.Wait()
		out.flush()
		close(done)
		r.exited(fn, gen, started, err)
	}()
}

// exited restarts a handler that died on its own, unless it keeps dying.
func (r *runner) exited(fn *fnRun, gen int, started time.Time, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed || fn.gen != gen || r.fns[fn.name] != fn {
		return // stopped on purpose
	}
	fn.cmd = nil
	if time.Since(started) < 5*time.Second {
		fn.quick++
	} else {
		fn.quick = 0
	}
	if fn.quick >= 3 {
		fn.status = fmt.Sprintf("not run: exited %d times in a row at start (%v)", fn.quick, err)
		r.lg.Printf("function %s: %s; not restarted until it is deployed again", fn.name, fn.status)
		return
	}
	r.lg.Printf("function %s: handler exited (%v); restarting", fn.name, err)
	time.AfterFunc(time.Duration(fn.quick)*500*time.Millisecond, func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		if !r.closed && fn.gen == gen && r.fns[fn.name] == fn {
			r.restartLocked(fn)
		}
	})
}

// stopFn ends fn's process (its whole group): SIGTERM, then SIGKILL.
func stopFn(fn *fnRun) {
	if fn.cmd == nil {
		return
	}
	cmd, done := fn.cmd, fn.done
	fn.cmd = nil
	fn.gen++ // the exit that follows is intended
	pgid := cmd.Process.Pid
	_ = terminateGroup(pgid)
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		_ = killGroup(pgid)
		<-done
	}
}

// close stops every handler and removes the unpacked code.
func (r *runner) close() {
	r.stop()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
	for _, p := range r.pollers {
		p.cancel()
	}
	for _, fn := range r.fns {
		stopFn(fn)
	}
	r.fns = map[string]*fnRun{}
	os.RemoveAll(r.root)
}

// functions reports each function's state for the health document.
func (r *runner) functions() map[string]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := make(map[string]string, len(r.fns))
	for n, fn := range r.fns {
		m[n] = fn.status
	}
	return m
}

// launcher returns the command that runs conf's handler from dir (root holds
// the interpreted runtimes' loops), or says why nothing can run it here.
func launcher(conf lambdaConf, dir, root string) ([]string, string) {
	var exe string
	switch {
	case strings.HasPrefix(conf.Runtime, "provided"):
		exe = filepath.Join(dir, "bootstrap")
	case conf.Runtime == "go1.x":
		exe = filepath.Join(dir, conf.Handler)
	default:
		argv, why := interpreted(conf.Runtime, root)
		if argv == nil && why == "" {
			why = fmt.Sprintf("runtime %s is not executed by the embedded engine (provided.*, python3.* and nodejs* are; use LocalStack to run it)", conf.Runtime)
		}
		return argv, why
	}
	st, err := os.Stat(exe)
	if err != nil {
		return nil, fmt.Sprintf("no %s in the package", filepath.Base(exe))
	}
	if st.Mode()&0o111 == 0 {
		return nil, fmt.Sprintf("%s is not executable", filepath.Base(exe))
	}
	if err := runsHere(exe); err != nil {
		return nil, err.Error()
	}
	return []string{exe}, ""
}

// runsHere checks that an ELF executable is for this machine. Scripts and
// other formats are left to exec to judge.
func runsHere(path string) error {
	f, err := elf.Open(path)
	if err != nil {
		var fe *elf.FormatError
		if errors.As(err, &fe) {
			return nil // not ELF (a #! script?)
		}
		return err
	}
	defer f.Close()
	if runtime.GOOS != "linux" {
		return fmt.Errorf("%s is a Linux executable and this engine runs on %s", filepath.Base(path), runtime.GOOS)
	}
	want := map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64, "386": elf.EM_386, "arm": elf.EM_ARM}[runtime.GOARCH]
	if f.Machine != want {
		arch := map[elf.Machine]string{elf.EM_X86_64: "x86_64", elf.EM_AARCH64: "arm64"}[f.Machine]
		if arch == "" {
			arch = f.Machine.String()
		}
		return fmt.Errorf("%s is built for %s and this machine is %s (build it with architecture = %q to run it here)",
			filepath.Base(path), arch, runtime.GOARCH, map[string]string{"amd64": "x86_64", "arm64": "arm64"}[runtime.GOARCH])
	}
	return nil
}

// unzip extracts a deployment package into dir, keeping file modes and
// refusing paths that leave dir.
func unzip(b []byte, dir string) error {
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return fmt.Errorf("the package is not a zip: %w", err)
	}
	for _, f := range zr.File {
		p := filepath.Join(dir, f.Name)
		if !strings.HasPrefix(p, filepath.Clean(dir)+string(os.PathSeparator)) {
			return fmt.Errorf("the package has a path outside its root: %s", f.Name)
		}
		if f.FileInfo().IsDir() {
			if err := os.MkdirAll(p, 0o755); err != nil {
				return err
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		mode := f.Mode().Perm()
		if mode == 0 {
			mode = 0o644
		}
		rc, err := f.Open()
		if err != nil {
			return err
		}
		w, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode|0o200)
		if err != nil {
			rc.Close()
			return err
		}
		_, err = io.Copy(w, rc)
		rc.Close()
		if cerr := w.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// lineLogger writes a handler's output to the engine log, line by line.
type lineLogger struct {
	mu   sync.Mutex
	line func(string)
	buf  []byte
}

func (l *lineLogger) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, p...)
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			break
		}
		l.line(string(l.buf[:i]))
		l.buf = l.buf[i+1:]
	}
	return len(p), nil
}

func (l *lineLogger) flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.buf) > 0 {
		sc := bufio.NewScanner(bytes.NewReader(l.buf))
		for sc.Scan() {
			l.line(sc.Text())
		}
		l.buf = nil
	}
}
