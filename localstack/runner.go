package localstack

import (
	"context"
	"log"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
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

	store string      // where deployed code is kept across restarts ("" = not kept)
	logs  *logShipper // handlers' output into CloudWatch Logs
	api   apiCalls    // API Gateway requests in flight (apigw.go)
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
	stream    string   // the CloudWatch Logs stream of the running process
	logw      *os.File // the write end of the process's output pipe (fnLine)
	debugPort int      // its process runs under its debugger, listening there (debug.go)

	// The invocation lifecycle (invoke.go).
	startedAt  time.Time // when the process started (Init Duration)
	polled     bool      // the process has asked for its first invocation
	initDur    time.Duration
	reportInit bool        // the next REPORT carries Init Duration
	inflight   *invocation // the invocation the process works on
	// initFailed: the process ended before its first poll (or could not
	// start): invokes are answered with initErr, as Lambda answers them.
	initFailed bool
	initErr    []byte // the error document the runtime posted to init/error
	initType   string
	initExit   string // how the process ended, when it posted nothing
	initPhase  string // "invoke" when an invoke runs the init again (INIT_REPORT's Phase), else "init"
	nextPhase  string // the initPhase of the next start
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
		closeLog(fn)
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
