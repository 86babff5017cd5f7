package motoserver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// InstallHint is the command that installs the moto version the suite is
// written against.
const InstallHint = "pip install 'moto[server]==5.2.1'"

// EnvURL names the environment variable that points the tests at a moto
// server already running (its base URL) instead of starting one.
const EnvURL = "EVDEPLOY_MOTO_URL"

// Region is the region Config uses; moto serves every region from one server.
const Region = "us-east-1"

// startTimeout bounds the wait for a fresh server to answer. It starts in
// about a second on an idle machine; a loaded 2-core CI box is much slower.
const startTimeout = 60 * time.Second

var (
	mu      sync.Mutex
	started bool // a start was attempted; its outcome is in cur or startErr
	cur     *server
	// startErr is kept so every later test fails with the same cause rather
	// than each paying for another failed start.
	startErr error
)

type server struct {
	url  string
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
	logs *tail
}

// URL returns the base URL of this test process's moto server, starting it on
// the first call. It fails t (never skips) when moto_server cannot be run.
func URL(t testing.TB) string {
	t.Helper()
	u, err := ensure()
	if err != nil {
		t.Fatalf("moto: %v", err)
	}
	return u
}

// Config returns an aws.Config aimed at the moto server with test
// credentials, starting the server if needed.
func Config(t testing.TB) aws.Config {
	t.Helper()
	return aws.Config{
		Region:       Region,
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String(URL(t)),
	}
}

// Reset wipes every resource of the server (POST /moto-api/reset). Only for
// a package whose tests own the server alone and run one at a time.
func Reset(t testing.TB) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, URL(t)+"/moto-api/reset", nil)
	if err != nil {
		t.Fatalf("moto reset: %v", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("moto reset: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("moto reset: %s", resp.Status)
	}
}

// Main runs the tests and then stops the server:
//
//	func TestMain(m *testing.M) { os.Exit(motoserver.Main(m)) }
func Main(m *testing.M) int {
	code := m.Run()
	Stop()
	return code
}

// Stop kills the server and its process group and waits for it to exit. It
// is safe to call when no server was started, and more than once; a later
// URL starts a fresh server.
func Stop() {
	mu.Lock()
	s := cur
	cur, started, startErr = nil, false, nil
	mu.Unlock()
	if s != nil {
		s.kill()
	}
}

func ensure() (string, error) {
	mu.Lock()
	defer mu.Unlock()
	if started {
		if startErr != nil {
			return "", startErr
		}
		return cur.url, nil
	}
	started = true
	if u := os.Getenv(EnvURL); u != "" {
		cur = &server{url: u}
		return u, nil
	}
	cur, startErr = start()
	if startErr != nil {
		return "", startErr
	}
	return cur.url, nil
}

// start runs moto_server on a free port. Picking the port and binding it are
// two steps, so another process may take it in between: then moto exits at
// once and start tries another port.
func start() (*server, error) {
	bin, err := exec.LookPath("moto_server")
	if err != nil {
		return nil, fmt.Errorf("moto_server is not on PATH: install it with %s (Python 3), then rerun the tests", InstallHint)
	}
	var last error
	for range 3 {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		s, err := launch(bin, port)
		if err == nil {
			return s, nil
		}
		last = err
	}
	return nil, last
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func launch(bin string, port int) (*server, error) {
	s := &server{
		url:  "http://127.0.0.1:" + strconv.Itoa(port),
		done: make(chan struct{}),
		logs: &tail{max: 8 << 10},
	}
	s.cmd = exec.Command(bin, "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	// moto logs one line per request; only the tail is kept, for the error
	// when it fails to start.
	s.cmd.Stdout = s.logs
	s.cmd.Stderr = s.logs
	s.cmd.Env = append(os.Environ(),
		// Credentials and region for moto's own clients; never real ones.
		"AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_DEFAULT_REGION="+Region,
		// AWS-managed policies exist on AWS (a function's managed_policies
		// names them); moto has them only when asked.
		"MOTO_IAM_LOAD_MANAGED_POLICIES=true",
		// A DNS-validated certificate is ISSUED after this many seconds
		// (moto's default 60); the tests wait for issue like any apply.
		"MOTO_ACM_VALIDATION_WAIT=0",
	)
	s.cmd.SysProcAttr = sysProcAttr()

	// The parent-death signal (Linux) fires when the thread that started the
	// child exits, not the process. Start and wait from one goroutine locked
	// to its thread, so that thread lives exactly as long as the server.
	startErr := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if err := s.cmd.Start(); err != nil {
			startErr <- err
			close(s.done)
			return
		}
		startErr <- nil
		_ = s.cmd.Wait()
		close(s.done)
	}()
	if err := <-startErr; err != nil {
		return nil, fmt.Errorf("starting %s: %w (install moto with %s)", bin, err, InstallHint)
	}

	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	if err := s.waitReady(ctx); err != nil {
		s.kill()
		return nil, fmt.Errorf("moto_server on port %d: %w\n--- its output ---\n%s", port, err, s.logs.String())
	}
	return s, nil
}

// waitReady polls the server until it answers HTTP, it exits, or ctx ends.
func (s *server) waitReady(ctx context.Context) error {
	client := &http.Client{Timeout: 2 * time.Second}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.url+"/moto-api/", nil)
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			return nil
		}
		select {
		case <-s.done:
			return errors.New("exited before answering")
		case <-ctx.Done():
			return fmt.Errorf("no answer within %s", startTimeout)
		case <-tick.C:
		}
	}
}

func (s *server) kill() {
	if s.cmd == nil || s.cmd.Process == nil {
		return // an external server (EnvURL) is not ours to stop
	}
	killGroup(s.cmd.Process)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
	}
}

// tail keeps the last max bytes written to it.
type tail struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (w *tail) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	if over := len(w.buf) - w.max; over > 0 {
		w.buf = append(w.buf[:0], w.buf[over:]...)
	}
	return len(p), nil
}

func (w *tail) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return string(w.buf)
}
