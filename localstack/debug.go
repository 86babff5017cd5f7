package localstack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Debugging a function (`evdeploy dev --debug FUNCTION[=PORT]`): the engine
// runs that function's process under its runtime's debugger (lambdaRuntime.
// debug), listening on 127.0.0.1:PORT, until the debugging is ended. While
// it is debugged the engine neither times an invocation out nor ends it for
// its memory (a breakpoint holds the handler, and the debugger's own memory
// is not the function's), so the process is kept between invocations; the
// code is unpacked into a folder that stays the same across redeploys
// (DebugSession.Root), so a debugger's path mapping keeps working.

// DebugPath starts (POST, a DebugRequest) or ends (DELETE ?function=NAME)
// the debugging of a function on the embedded engine.
const DebugPath = "/_evdeploy/debug"

// DebugRequest asks the engine to debug a function.
type DebugRequest struct {
	Function string `json:"function"` // the deployed function's name
	Port     int    `json:"port"`     // where its debugger listens, on 127.0.0.1
}

// DebugSession is the engine's answer: the debugger listens.
type DebugSession struct {
	Function string `json:"function"`
	Runtime  string `json:"runtime"`
	Port     int    `json:"port"`
	PID      int    `json:"pid"`
	// Root is the folder the function's code runs from (LAMBDA_TASK_ROOT),
	// the same for as long as it is debugged: a debugger's remoteRoot.
	Root string `json:"root"`
}

// debugReadyWait bounds how long the engine waits for a debugger to listen.
const debugReadyWait = 30 * time.Second

// serveDebug answers DebugPath.
func (r *runner) serveDebug(w http.ResponseWriter, req *http.Request) {
	fail := func(code int, err error) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
	}
	switch req.Method {
	case http.MethodPost:
		var in DebugRequest
		if err := json.NewDecoder(req.Body).Decode(&in); err != nil {
			fail(http.StatusBadRequest, fmt.Errorf("reading the debug request: %w", err))
			return
		}
		s, code, err := r.startDebug(req.Context(), in)
		if err != nil {
			fail(code, err)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(s)
	case http.MethodDelete:
		name := req.URL.Query().Get("function")
		was, err := r.endDebug(name)
		if err != nil {
			fail(http.StatusNotFound, err)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]bool{"was_debugged": was})
	default:
		fail(http.StatusMethodNotAllowed, fmt.Errorf("%s %s: use POST or DELETE", req.Method, DebugPath))
	}
}

// startDebug restarts in.Function's process under its debugger and waits
// until the debugger listens.
func (r *runner) startDebug(ctx context.Context, in DebugRequest) (*DebugSession, int, error) {
	if in.Port <= 0 || in.Port > 65535 {
		return nil, http.StatusBadRequest, fmt.Errorf("debug port %d: want 1-65535", in.Port)
	}
	r.mu.Lock()
	fn := r.fns[in.Function]
	if fn == nil {
		r.mu.Unlock()
		return nil, http.StatusNotFound, fmt.Errorf("function %s is not deployed on this engine", in.Function)
	}
	for _, o := range r.fns {
		if o != fn && o.debugPort == in.Port {
			r.mu.Unlock()
			return nil, http.StatusConflict, fmt.Errorf("port %d is in use: function %s is debugged there", in.Port, o.name)
		}
	}
	if fn.debugPort != in.Port {
		// The port must be free before the process that held the function
		// is stopped: a busy port loses nothing.
		if err := portFree(in.Port); err != nil {
			r.mu.Unlock()
			return nil, http.StatusConflict, err
		}
	}
	if runtimeFor(fn.conf.Runtime) == nil {
		r.mu.Unlock()
		return nil, http.StatusBadRequest, fmt.Errorf("function %s: runtime %s is not run by the embedded engine, so it cannot be debugged", fn.name, fn.conf.Runtime)
	}
	fn.debugPort = in.Port
	fn.quick = 0
	r.restartLocked(fn)
	if fn.cmd == nil {
		status := fn.status
		fn.debugPort = 0
		r.restartLocked(fn)
		r.mu.Unlock()
		return nil, http.StatusBadRequest, fmt.Errorf("function %s: %s", in.Function, strings.TrimPrefix(status, "not run: "))
	}
	s := &DebugSession{Function: fn.name, Runtime: fn.conf.Runtime, Port: in.Port, PID: fn.cmd.Process.Pid, Root: debugDir(r.root, fn.name)}
	done, ready := fn.done, fn.ready
	r.mu.Unlock()
	r.lg.Printf("function %s: debugged (%s) on 127.0.0.1:%d", s.Function, s.Runtime, s.Port)

	deadline := time.Now().Add(debugReadyWait)
	for {
		// Ready once the debugger listens and the process under it has
		// polled the Runtime API. Delve (--continue) starts the process
		// after it listens; a client that halts before then would see the
		// start-up continue resume the process after its own breakpoint.
		if debuggerListens(in.Port) {
			select {
			case <-ready:
				select {
				case <-done:
				default:
					return s, http.StatusOK, nil
				}
			default:
			}
		}
		select {
		case <-done:
			_, _ = r.endDebug(in.Function)
			return nil, http.StatusBadGateway, fmt.Errorf("function %s: its process under the debugger ended before the debugger listened on port %d (the engine log, or `evdeploy logs`, says why)", in.Function, in.Port)
		case <-ctx.Done():
			return nil, http.StatusGatewayTimeout, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			_, _ = r.endDebug(in.Function)
			return nil, http.StatusGatewayTimeout, fmt.Errorf("function %s: no debugger listened on port %d within %s", in.Function, in.Port, debugReadyWait)
		}
	}
}

// endDebug runs name's process without its debugger again; it reports
// whether it was debugged.
func (r *runner) endDebug(name string) (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	fn := r.fns[name]
	if fn == nil {
		return false, fmt.Errorf("function %s is not deployed on this engine", name)
	}
	if fn.debugPort == 0 {
		return false, nil
	}
	fn.debugPort = 0
	fn.quick = 0
	r.restartLocked(fn)
	r.lg.Printf("function %s: no longer debugged", name)
	return true, nil
}

// debugDir is where a debugged function's code is unpacked: the same
// folder across redeploys (a debugger's remoteRoot).
func debugDir(root, name string) string { return filepath.Join(root, name, "debug") }

// portFree says whether 127.0.0.1:port can be listened on.
func portFree(port int) error {
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return fmt.Errorf("port %d is in use (pick another with FUNCTION=PORT): %w", port, err)
	}
	return ln.Close()
}

// delveInstall is how to get Delve, named by the error when it is missing.
const delveInstall = "go install github.com/go-delve/delve/cmd/dlv@v1.27.2"

// findDelve finds dlv on PATH, else where `go install` puts it.
func findDelve() (string, error) {
	if p, err := exec.LookPath("dlv"); err == nil {
		return p, nil
	}
	var dirs []string
	if d := os.Getenv("GOBIN"); d != "" {
		dirs = append(dirs, d)
	}
	if d := os.Getenv("GOPATH"); d != "" {
		for _, p := range filepath.SplitList(d) {
			dirs = append(dirs, filepath.Join(p, "bin"))
		}
	}
	if h, err := os.UserHomeDir(); err == nil {
		dirs = append(dirs, filepath.Join(h, "go", "bin"))
	}
	for _, d := range dirs {
		p := filepath.Join(d, "dlv")
		if st, err := os.Stat(p); err == nil && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("Delve (dlv) is not installed (not on PATH, nor in GOBIN, GOPATH/bin or ~/go/bin): %s", delveInstall)
}

// StartDebug asks the engine at endpoint to debug function on port.
func StartDebug(ctx context.Context, endpoint, function string, port int) (*DebugSession, error) {
	body, _ := json.Marshal(DebugRequest{Function: function, Port: port})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(endpoint, "/")+DebugPath, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	b, err := debugCall(req)
	if err != nil {
		return nil, err
	}
	var s DebugSession
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("the engine's debug answer: %w", err)
	}
	return &s, nil
}

// EndDebug asks the engine at endpoint to run function without its
// debugger; it reports whether the function was debugged.
func EndDebug(ctx context.Context, endpoint, function string) (bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, strings.TrimSuffix(endpoint, "/")+DebugPath+"?function="+url.QueryEscape(function), nil)
	if err != nil {
		return false, err
	}
	b, err := debugCall(req)
	if err != nil {
		return false, err
	}
	var out struct {
		WasDebugged bool `json:"was_debugged"`
	}
	_ = json.Unmarshal(b, &out)
	return out.WasDebugged, nil
}

func debugCall(req *http.Request) ([]byte, error) {
	resp, err := (&http.Client{Transport: &http.Transport{Proxy: nil}}).Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 == 2 {
		return b, nil
	}
	var e struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(b, &e) == nil && e.Error != "" {
		return nil, errors.New(e.Error)
	}
	if resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusMethodNotAllowed {
		return nil, fmt.Errorf("the engine does not debug functions (%s): restart it with this evdeploy (`evdeploy local down`)", resp.Status)
	}
	return nil, fmt.Errorf("%s %s: %s", req.Method, DebugPath, resp.Status)
}

// debugAddr is where a debugger listens: on this machine only.
func debugAddr(port int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) }

func errNoDebugpy(interp string) error {
	return fmt.Errorf("debugpy is not installed for %s: pip install debugpy (for that interpreter: %s -m pip install debugpy)", interp, interp)
}

// hasDebugpy reports whether interp can import debugpy (a yes is asked
// once; a no again each time, so that installing it needs no engine restart).
func hasDebugpy(interp string) bool { return canImport(interp, "debugpy", false, 10*time.Second) }
