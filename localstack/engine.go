package localstack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/sivchari/kumo"
)

// HealthPath is where the embedded engine describes itself.
const HealthPath = "/_evdeploy/health"

// EngineInfo is the embedded engine's health document.
type EngineInfo struct {
	Kind          string    `json:"kind"` // always KindEmbedded
	Engine        string    `json:"engine"`
	EngineVersion string    `json:"engine_version"`
	Version       string    `json:"version"` // evdeploy's
	PID           int       `json:"pid"`
	Started       time.Time `json:"started"`
	Endpoint      string    `json:"endpoint"`
	// Functions maps each function the engine has seen deployed to whether
	// its handler runs ("running (pid N)") or why not; absent when the
	// engine does not run functions.
	Functions map[string]string `json:"functions,omitempty"`
}

// ServeOptions tune Serve.
type ServeOptions struct {
	// Version is evdeploy's version, reported by the health endpoint.
	Version string
	// Ready, when set, is called with the endpoint once the listener is open.
	Ready func(endpoint string)
	// Logger receives one line per start/stop and proxy failures (nil: stderr).
	Logger *log.Logger
	// RunFunctions makes the engine execute deployed functions whose
	// bootstrap runs on this machine (see runner).
	RunFunctions bool
}

// Serve runs the embedded engine in this process until ctx is done: kumo
// (which can only listen on a random port) behind a reverse proxy on addr
// (default 127.0.0.1:4566), plus HealthPath.
func Serve(ctx context.Context, addr string, opts ServeOptions) error {
	if addr == "" {
		addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(DefaultPort))
	}
	lg := opts.Logger
	if lg == nil {
		lg = log.New(os.Stderr, "", log.LstdFlags)
	}
	// Listen before starting kumo so a busy port fails at once.
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("embedded engine: %w", err)
	}
	srv := kumo.NewServer()
	defer srv.Close()
	backend, err := url.Parse(srv.URL)
	if err != nil {
		ln.Close()
		return err
	}
	endpoint := "http://" + ln.Addr().String()
	stopSelfCalls, err := routeSelfCalls(srv.URL, endpoint)
	if err != nil {
		ln.Close()
		return err
	}
	defer stopSelfCalls()
	info := EngineInfo{
		Kind: KindEmbedded, Engine: "kumo", EngineVersion: kumo.Version,
		Version: opts.Version, PID: os.Getpid(), Started: time.Now().UTC().Truncate(time.Second),
		Endpoint: endpoint,
	}

	proxy := httputil.NewSingleHostReverseProxy(backend)
	// Flush at once: the Lambda Runtime API long-polls through this proxy.
	proxy.FlushInterval = -1
	// The default keeps 2 idle connections per host: an apply with 10
	// workers would open and close connections all the time.
	proxy.Transport = &http.Transport{
		Proxy:               nil,
		MaxIdleConns:        128,
		MaxIdleConnsPerHost: 128,
		IdleConnTimeout:     90 * time.Second,
	}
	proxy.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
		lg.Printf("proxy %s %s: %v", r.Method, r.URL.Path, err)
		w.WriteHeader(http.StatusBadGateway)
	}
	var handler http.Handler = proxy
	var run *runner
	if opts.RunFunctions {
		run, err = newRunner(srv.URL, endpoint, lg)
		if err != nil {
			ln.Close()
			return err
		}
		defer run.close()
		defer gateInvokes(run.awaitReady)()
		handler = run.wrap(proxy)
	}
	handler = (&fidelity{endpoint: endpoint}).wrap(handler)
	handler = newSecretTags().wrap(handler)
	ev := newEvents(newKumoClient(srv.URL), lg)
	// EventBridge invokes functions asynchronously: through the engine's
	// front, so the function's async settings (retries, destinations) apply.
	front := newKumoClient(endpoint)
	ev.d.front = &front
	if run != nil {
		ev.d.ready = run.awaitReady
	}
	handler = ev.wrap(handler)
	// EventBridge archives and replays (kumo has neither).
	handler = newArchives(ev, os.Getenv("KUMO_DATA_DIR")).wrap(handler)
	// Lambda versions and aliases (kumo has neither): below the async
	// layer, so each asynchronous attempt on an alias picks its version.
	versions, stopVersions := newVersionStore(handler, srv.URL, run, os.Getenv("KUMO_DATA_DIR"), lg)
	defer stopVersions()
	handler = versions
	schedCtx, stopSchedules := context.WithCancel(ctx)
	defer stopSchedules()
	go ev.runSchedules(schedCtx)
	// EventBridge Pipes from SQS queues (kumo stores pipes, never runs them).
	go newPipes(ev.kc, ev.d, lg).run(schedCtx, time.Second)
	// Async invocation settings and destinations (kumo has neither).
	async := newAsyncInvokes(handler, endpoint, srv.URL, lg)
	defer async.close()
	handler = async
	// CloudWatch: metrics as functions run, alarms evaluated (cloudwatch.go).
	handler = newInvocationMetrics(handler)
	cw := newCloudWatch(handler, front, os.Getenv("KUMO_DATA_DIR"), lg)
	handler = cw
	go cw.run(schedCtx)
	go queueSampler(schedCtx, ev.kc, cw.watchedQueues, 2*time.Second)
	// Custom domains: kumo has no /v2/domainnames (domains.go).
	handler = newDomains(handler, endpoint, os.Getenv("KUMO_DATA_DIR"), lg)
	mux := http.NewServeMux()
	mux.HandleFunc(HealthPath, func(w http.ResponseWriter, r *http.Request) {
		doc := info
		if run != nil {
			doc.Functions = run.functions()
			for n := range doc.Functions {
				if _, _, hidden := versions.hiddenOf(n); hidden {
					delete(doc.Functions, n) // a published version's runner
				}
			}
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(doc)
	})
	if run != nil {
		mux.HandleFunc(DebugPath, run.serveDebug)
	}
	mux.Handle("/", handler)
	// HTTP/2 without TLS too: the JS SDK's Kinesis client speaks only HTTP/2
	// (prior knowledge on an http:// endpoint) and fails on an HTTP/1 server.
	protos := new(http.Protocols)
	protos.SetHTTP1(true)
	protos.SetUnencryptedHTTP2(true)
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 30 * time.Second, Protocols: protos}

	done := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
		case <-done:
			return
		}
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := hs.Shutdown(sctx); err != nil {
			hs.Close()
		}
	}()
	lg.Printf("evdeploy embedded engine (kumo %s) listening on %s, pid %d", kumo.Version, endpoint, info.PID)
	if opts.Ready != nil {
		opts.Ready(endpoint)
	}
	err = hs.Serve(ln)
	close(done)
	if os.Getenv("KUMO_DATA_DIR") != "" {
		// kumo writes changed state to its data folder once a second and
		// offers no flush: let the last changes reach the disk.
		time.Sleep(1200 * time.Millisecond)
	}
	if errors.Is(err, http.ErrServerClosed) {
		lg.Printf("evdeploy embedded engine stopped")
		return nil
	}
	return err
}

// StartOptions configure Start.
type StartOptions struct {
	Port     int    // default LocalPort(os.Getenv)
	StateDir string // default StateDir(os.Getenv)
	// Executable is the evdeploy binary to run (default os.Executable()); it
	// is run as `<exe> local serve --port N`.
	Executable string
	Version    string        // evdeploy's version, recorded
	Timeout    time.Duration // how long to wait for the engine to answer (default 30s)
	// Fresh starts the engine empty: what earlier runs deployed (kept in
	// the state folder's engine-data) is deleted first.
	Fresh bool
}

// DataDir is where the embedded engine keeps what is deployed to it across
// restarts: kumo's KUMO_DATA_DIR plus the functions' code.
func DataDir(stateDir string) string { return filepath.Join(stateDir, "engine-data") }

// Start launches the embedded engine as a detached evdeploy process (its own
// session, so it outlives the caller and the terminal), waits until it
// answers, and records it. With an engine already recorded and healthy it
// starts nothing and returns that record with AlreadyRunning set.
func Start(ctx context.Context, opts StartOptions) (*Record, error) {
	if opts.Port == 0 {
		p, err := LocalPort(nil)
		if err != nil {
			return nil, err
		}
		opts.Port = p
	}
	if opts.StateDir == "" {
		d, err := StateDir(nil)
		if err != nil {
			return nil, err
		}
		opts.StateDir = d
	}
	if opts.Timeout == 0 {
		opts.Timeout = 30 * time.Second
	}
	if opts.Executable == "" {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("embedded engine: cannot find evdeploy's own binary: %w", err)
		}
		opts.Executable = exe
	}
	unlock, err := lockState(opts.StateDir)
	if err != nil {
		return nil, err
	}
	defer unlock()

	if rec, err := liveRecord(ctx, opts.StateDir); err != nil {
		return nil, err
	} else if rec != nil {
		rec.AlreadyRunning = true
		return rec, nil
	}

	endpoint := fmt.Sprintf("http://127.0.0.1:%d", opts.Port)
	// Something else on the port (a LocalStack, a foreground `local serve`)
	// would make the child fail to listen; say what it is instead.
	pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	st, perr := Probe(pctx, endpoint)
	cancel()
	if perr == nil {
		return nil, fmt.Errorf("port %d is already served by %s: use it with --target local --endpoint %s, or choose another --port", opts.Port, st.Describe(), endpoint)
	}

	logPath := filepath.Join(opts.StateDir, logFile)
	lf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer lf.Close()
	logStart, _ := lf.Seek(0, io.SeekEnd)
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		return nil, err
	}
	defer devnull.Close()

	// Not CommandContext: the engine must outlive ctx and this process.
	dataDir := DataDir(opts.StateDir)
	if opts.Fresh {
		if err := os.RemoveAll(dataDir); err != nil {
			return nil, fmt.Errorf("embedded engine: --fresh: %w", err)
		}
	}
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return nil, err
	}
	cmd := exec.Command(opts.Executable, "local", "serve", "--port", strconv.Itoa(opts.Port))
	// kumo reads KUMO_DATA_DIR when its packages initialise: it must be in
	// the engine process's environment from the start.
	cmd.Env = append(os.Environ(), "KUMO_DATA_DIR="+dataDir)
	cmd.Stdin = devnull
	cmd.Stdout = lf
	cmd.Stderr = lf
	cmd.Dir = "/"
	cmd.SysProcAttr = detachedAttr()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("embedded engine: start %s: %w", opts.Executable, err)
	}
	pid := cmd.Process.Pid
	exited := make(chan error, 1)
	// Reap the child if it dies while this process lives (tests, or a failed
	// start); otherwise it becomes init's once we exit.
	go func() { exited <- cmd.Wait() }()

	fail := func(why string) error {
		_ = killPID(pid)
		return fmt.Errorf("embedded engine did not start: %s\n%s", why, logTail(logPath, logStart, 15))
	}
	deadline := time.NewTimer(opts.Timeout)
	defer deadline.Stop()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-exited:
			return nil, fmt.Errorf("embedded engine exited at once (%v); its log %s says:\n%s", err, logPath, logTail(logPath, logStart, 15))
		case <-ctx.Done():
			return nil, fail(ctx.Err().Error())
		case <-deadline.C:
			return nil, fail(fmt.Sprintf("no answer at %s%s within %s", endpoint, HealthPath, opts.Timeout))
		case <-tick.C:
		}
		info, err := engineInfo(ctx, endpoint)
		if err != nil || info.PID != pid {
			continue
		}
		rec := &Record{
			Kind: KindEmbedded, Endpoint: endpoint, PID: pid, Log: logPath,
			Started: info.Started, Version: opts.Version, EngineVersion: info.EngineVersion,
		}
		if err := writeRecord(opts.StateDir, rec); err != nil {
			_ = terminatePID(pid)
			return nil, err
		}
		return rec, nil
	}
}

// liveRecord returns the recorded engine if it is alive and answers; a stale
// record (dead process, nothing answering) is removed and nil returned.
func liveRecord(ctx context.Context, dir string) (*Record, error) {
	rec, err := ReadRecord(dir)
	if err != nil || rec == nil {
		return nil, err
	}
	if recordHealthy(ctx, rec) {
		return rec, nil
	}
	if rec.Kind == KindEmbedded && processAlive(rec.PID) && isOurEngine(rec.PID) {
		// Alive but not answering (starting, or hung): not ours to discard.
		return nil, fmt.Errorf("the recorded embedded engine (pid %d, %s) is running but does not answer; stop it with `evdeploy local down`", rec.PID, rec.Endpoint)
	}
	if rec.Kind == KindLocalStack {
		// The container may be gone or still booting; leave the record to `local down`.
		return nil, nil
	}
	return nil, removeRecord(dir)
}

// recordHealthy reports whether the recorded engine answers at its endpoint.
func recordHealthy(ctx context.Context, rec *Record) bool {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	switch rec.Kind {
	case KindEmbedded:
		info, err := engineInfo(ctx, rec.Endpoint)
		return err == nil && info.PID == rec.PID
	case KindLocalStack:
		_, err := localStackHealth(ctx, rec.Endpoint)
		return err == nil
	}
	return false
}

// isOurEngine guards against pid reuse: on Linux the process must be an
// evdeploy `local serve`.
func isOurEngine(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return true // no /proc: trust the record
	}
	args := strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
	for i := 0; i+1 < len(args); i++ {
		if args[i] == "local" && args[i+1] == "serve" {
			return true
		}
	}
	return false
}

// ErrNotRunning is returned by Stop when no engine is recorded.
var ErrNotRunning = errors.New("no local engine is recorded")

// StopOptions configure Stop.
type StopOptions struct {
	StateDir string        // default StateDir(os.Getenv)
	Grace    time.Duration // SIGTERM → SIGKILL (default 10s)
}

// Stop stops what Start or StartLocalStack recorded — gracefully (SIGTERM, or
// docker stop), then by force — and removes the record. It returns the record
// it acted on, or ErrNotRunning.
func Stop(ctx context.Context, opts StopOptions) (*Record, error) {
	if opts.StateDir == "" {
		d, err := StateDir(nil)
		if err != nil {
			return nil, err
		}
		opts.StateDir = d
	}
	if opts.Grace == 0 {
		opts.Grace = 10 * time.Second
	}
	unlock, err := lockState(opts.StateDir)
	if err != nil {
		return nil, err
	}
	defer unlock()
	rec, err := ReadRecord(opts.StateDir)
	if err != nil {
		return nil, err
	}
	if rec == nil {
		return nil, ErrNotRunning
	}
	switch rec.Kind {
	case KindEmbedded:
		if err := stopProcess(ctx, rec.PID, opts.Grace); err != nil {
			return rec, err
		}
	case KindLocalStack:
		if err := stopContainer(ctx, "docker", rec.Container, opts.Grace); err != nil {
			return rec, err
		}
	default:
		return rec, fmt.Errorf("%s: unknown engine kind %q", filepath.Join(opts.StateDir, recordFile), rec.Kind)
	}
	return rec, removeRecord(opts.StateDir)
}

func stopProcess(ctx context.Context, pid int, grace time.Duration) error {
	if !processAlive(pid) || !isOurEngine(pid) {
		return nil // already gone (or the pid now belongs to someone else)
	}
	if err := terminatePID(pid); err != nil && !errors.Is(err, errNoProcess) {
		return fmt.Errorf("stop engine pid %d: %w", pid, err)
	}
	if waitGone(ctx, pid, grace) {
		return nil
	}
	if err := killPID(pid); err != nil && !errors.Is(err, errNoProcess) {
		return fmt.Errorf("kill engine pid %d: %w", pid, err)
	}
	if !waitGone(ctx, pid, 5*time.Second) {
		return fmt.Errorf("engine pid %d survived SIGKILL", pid)
	}
	return nil
}

func waitGone(ctx context.Context, pid int, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if !processAlive(pid) {
			return true
		}
		select {
		case <-ctx.Done():
			return !processAlive(pid)
		case <-time.After(50 * time.Millisecond):
		}
	}
	return !processAlive(pid)
}

// engineInfo reads the embedded engine's health document.
func engineInfo(ctx context.Context, endpoint string) (*EngineInfo, error) {
	var info EngineInfo
	// Bounded: a program on the port that accepts and never answers must not
	// hang `local up` (its start loop polls until its own deadline).
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := getJSON(ctx, endpoint+HealthPath, &info); err != nil {
		return nil, err
	}
	if info.Kind != KindEmbedded {
		return nil, fmt.Errorf("%s%s: not an evdeploy engine", endpoint, HealthPath)
	}
	return &info, nil
}

// logTail returns the last n lines written to path since offset, indented.
func logTail(path string, offset int64, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "  (no log: " + err.Error() + ")"
	}
	if offset > 0 && offset <= int64(len(b)) {
		b = b[offset:]
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	var out bytes.Buffer
	for _, l := range lines {
		out.WriteString("  | " + l + "\n")
	}
	return strings.TrimRight(out.String(), "\n")
}
