package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/rpc"
	"net/rpc/jsonrpc"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/evdeploy/evdeploy/localstack"
)

// devProc is an `evdeploy dev` process of a test.
type devProc struct {
	t           *testing.T
	cmd         *exec.Cmd
	out, errOut syncBuffer
	exited      chan error
	exitErr     error
	done        bool
}

func startDev(t *testing.T, args ...string) *devProc {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	d := &devProc{t: t, exited: make(chan error, 1)}
	d.cmd = exec.Command(exe, append([]string{"dev"}, args...)...)
	d.cmd.Stdout, d.cmd.Stderr = &d.out, &d.errOut
	d.cmd.Env = append(os.Environ(), "NO_COLOR=1")
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { d.exited <- d.cmd.Wait() }()
	t.Cleanup(func() { _ = d.cmd.Process.Kill() })
	return d
}

// waitFor polls ok until d; it fails the test if dev exits meanwhile.
func (d *devProc) waitFor(what string, dur time.Duration, ok func() bool) {
	d.t.Helper()
	deadline := time.Now().Add(dur)
	for !ok() {
		if !d.done {
			select {
			case err := <-d.exited:
				d.done, d.exitErr = true, err
				if !ok() {
					d.t.Fatalf("dev exited (%v) while waiting for %s\nstdout:\n%s\nstderr:\n%s\nengine log:\n%s", err, what, d.out.String(), d.errOut.String(), engineLog(d.t))
				}
				return
			default:
			}
		}
		if time.Now().After(deadline) {
			d.t.Fatalf("no %s within %s\nstdout:\n%s\nstderr:\n%s\nengine log:\n%s", what, dur, d.out.String(), d.errOut.String(), engineLog(d.t))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// exit waits for dev to end by itself and returns its error.
func (d *devProc) exit(dur time.Duration) error {
	d.t.Helper()
	if d.done {
		return d.exitErr
	}
	select {
	case err := <-d.exited:
		d.done, d.exitErr = true, err
		return err
	case <-time.After(dur):
		d.t.Fatalf("dev still running after %s\nstderr:\n%s", dur, d.errOut.String())
	}
	return nil
}

// stop sends Ctrl-C and waits for a clean exit.
func (d *devProc) stop() {
	d.t.Helper()
	if err := d.cmd.Process.Signal(syscall.SIGINT); err != nil {
		d.t.Fatal(err)
	}
	if err := d.exit(30 * time.Second); err != nil {
		d.t.Errorf("dev after Ctrl-C: %v (want exit 0)\nstderr:\n%s", err, d.errOut.String())
	}
}

// get requests path on the app's API, the way a browser would reach it.
func apiGet(port int, apiID, path string) (int, string, error) {
	req, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("http://127.0.0.1:%d%s", port, path), nil)
	req.Host = fmt.Sprintf("%s.execute-api.localhost:%d", apiID, port)
	resp, err := (&http.Client{Timeout: 60 * time.Second}).Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), nil
}

// debugProject writes a one-function HTTP app; file's content is the handler.
func debugProject(t *testing.T, app, runtimeLine, file, handler string) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"evdeploy.evd.hcl": `app "` + app + `" {
  region = "us-east-1"
}

function "web" {
` + runtimeLine + `
  source  = "./web"
}

api "site" {}

trigger "hello" {
  function = function.web
  http {
    api   = api.site
    route = "GET /hello"
  }
}

output "url" {
  value = api.site.url
}
`,
		file: handler,
	}
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// lineOf is the 1-based line of the first line of text holding s.
func lineOf(t *testing.T, text, s string) int {
	t.Helper()
	for i, l := range strings.Split(text, "\n") {
		if strings.Contains(l, s) {
			return i + 1
		}
	}
	t.Fatalf("no %q in\n%s", s, text)
	return 0
}

var apiURL = regexp.MustCompile(`url = http://([a-z0-9-]+)\.execute-api\.localhost:(\d+)`)

const debugNodeHandler = `exports.handler = async (event) => {
  const greeting = "hello from node";
  console.log("handling", greeting);
  return { statusCode: 200, body: greeting };
};
`

const debugGoHandler = `package main

import (
	"context"
	"fmt"

	"github.com/aws/aws-lambda-go/lambda"
)

func handler(ctx context.Context, event map[string]any) (map[string]any, error) {
	greeting := "hello from go"
	fmt.Println("handling", greeting)
	return map[string]any{"statusCode": 200, "body": greeting}, nil
}

func main() { lambda.Start(handler) }
`

// TestDevDebug: `evdeploy dev --debug` on one shared engine. A Node function
// under the inspector: a Chrome DevTools protocol client sets a breakpoint
// on the handler's line, an HTTP request to the API stops there, resuming
// answers it. A Go function under Delve: the same through Delve's JSON-RPC.
// A Python function under debugpy: the same through the Debug Adapter
// Protocol (devDebugPython; TestDevDebugNoDebugpy has the error without it).
// Bad input (unknown function, a function given twice, a port in use) is a
// clear error.
func TestDevDebug(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	_, port := localTestEnv(t)
	if code, out, errOut := runLocal(t, "local", "up"); code != 0 {
		t.Fatalf("local up: exit %d\n%s%s", code, out, errOut)
	}
	endpoint := fmt.Sprintf("http://127.0.0.1:%d", port)

	t.Run("bad-input", func(t *testing.T) {
		dir := debugProject(t, "dbgnode", `  runtime = "nodejs20.x"
  handler = "main.handler"`, "web/main.js", debugNodeHandler)
		for _, c := range []struct {
			args []string
			want string
		}{
			{[]string{"--debug", "nope"}, `--debug nope: no function "nope" in app dbgnode (its functions: web)`},
			{[]string{"--debug", "web", "--debug", "web=9300"}, "--debug web=9300: function web is already debugged by another --debug; give it once"},
			{[]string{"--debug", "web=http"}, "--debug web=http: the port must be a number from 1 to 65535"},
		} {
			code, _, errOut := runLocal(t, append([]string{"dev", "-C", dir}, c.args...)...)
			if code == 0 || !strings.Contains(errOut, c.want) {
				t.Errorf("dev %v: exit %d, want an error with %q:\n%s", c.args, code, c.want, errOut)
			}
		}
		if _, err := localstack.StartDebug(t.Context(), endpoint, "dbg-none", 9301); err == nil || !strings.Contains(err.Error(), "function dbg-none is not deployed on this engine") {
			t.Errorf("debugging an unknown function on the engine: %v", err)
		}
	})

	t.Run("node", func(t *testing.T) {
		if _, err := exec.LookPath("node"); err != nil {
			t.Skip("needs node")
		}
		dir := debugProject(t, "dbgnode", `  runtime = "nodejs20.x"
  handler = "main.handler"
  timeout = "2s"`, "web/main.js", debugNodeHandler)

		// A busy port is refused, after the apply, with nothing lost.
		busy, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		busyPort := busy.Addr().(*net.TCPAddr).Port
		d := startDev(t, "-C", dir, "--port", fmt.Sprint(port), "--debug", fmt.Sprintf("web=%d", busyPort))
		if err := d.exit(120 * time.Second); err == nil || !strings.Contains(d.errOut.String(), fmt.Sprintf("--debug web: port %d is in use", busyPort)) {
			t.Fatalf("dev --debug on a busy port: %v, want the error naming the port:\n%s", err, d.errOut.String())
		}
		busy.Close()

		dport := freePort(t)
		d = startDev(t, "-C", dir, "--port", fmt.Sprint(port), "--debug", fmt.Sprintf("web=%d", dport))
		d.waitFor("watching", 120*time.Second, func() bool { return strings.Contains(d.errOut.String(), "dev: watching") })
		m := apiURL.FindStringSubmatch(d.out.String())
		if m == nil {
			t.Fatalf("no url output:\n%s", d.out.String())
		}
		root := regexp.MustCompile(`"remoteRoot": "([^"]+)"`).FindStringSubmatch(d.errOut.String())
		if root == nil || !strings.Contains(d.errOut.String(), `"type": "node", "request": "attach"`) {
			t.Fatalf("dev printed no VS Code attach configuration:\n%s", d.errOut.String())
		}

		// Deployed with Lambda's longest timeout, so that kumo does not end
		// an invocation a breakpoint holds.
		if !strings.Contains(d.errOut.String(), "deployed with a 15m timeout") {
			t.Errorf("dev did not say the timeout is raised:\n%s", d.errOut.String())
		}
		if got := functionTimeout(t, endpoint, filepath.Base(filepath.Dir(root[1]))); got != 900 {
			t.Errorf("the debugged function's Timeout is %d, want 900", got)
		}

		// The deployed bundle and its source map, where the process runs.
		bundle, err := os.ReadFile(filepath.Join(root[1], "main.js"))
		if err != nil {
			t.Fatal(err)
		}
		smap, err := os.ReadFile(filepath.Join(root[1], "main.js.map"))
		if err != nil {
			t.Fatalf("no source map beside the debugged bundle: %v", err)
		}
		genLine := lineOf(t, string(bundle), `console.log("handling"`) - 1 // 0-based, as CDP counts
		src, srcLine, err := sourceMapLine(smap, genLine)
		if err != nil || src != "main.js" || srcLine != lineOf(t, debugNodeHandler, `console.log("handling"`) {
			t.Fatalf("the bundle's line %d maps to %s:%d (%v), want the handler's console.log line in main.js", genLine, src, srcLine, err)
		}

		cdp, err := dialCDP(fmt.Sprintf("127.0.0.1:%d", dport))
		if err != nil {
			t.Fatalf("attaching to the inspector: %v\nstderr:\n%s", err, d.errOut.String())
		}
		defer cdp.Close()
		if err := cdp.call("Debugger.enable", map[string]any{}, nil); err != nil {
			t.Fatal(err)
		}
		var bp struct {
			BreakpointID string `json:"breakpointId"`
			Locations    []struct {
				ScriptID string `json:"scriptId"`
			} `json:"locations"`
		}
		script := regexp.QuoteMeta(filepath.Join(root[1], "main.js"))
		if err := cdp.call("Debugger.setBreakpointByUrl", map[string]any{"urlRegex": script + "$", "lineNumber": genLine}, &bp); err != nil {
			t.Fatal(err)
		}
		if len(bp.Locations) != 1 {
			t.Fatalf("breakpoint at %s:%d resolved to %d locations, want 1 (the loaded handler)", script, genLine, len(bp.Locations))
		}

		// Twice on one process: the first hold outlasts the spec's 2s timeout.
		type answer struct {
			code int
			body string
			err  error
		}
		for _, hold := range []time.Duration{2500 * time.Millisecond, 300 * time.Millisecond} {
			answered := make(chan answer, 1)
			go func() {
				c, b, err := apiGet(port, m[1], "/hello")
				answered <- answer{c, b, err}
			}()
			params, err := cdp.event("Debugger.paused", 30*time.Second)
			if err != nil {
				t.Fatalf("%v\nengine log:\n%s", err, engineLog(t))
			}
			var paused struct {
				HitBreakpoints []string `json:"hitBreakpoints"`
				CallFrames     []struct {
					Location struct {
						ScriptID   string `json:"scriptId"`
						LineNumber int    `json:"lineNumber"`
					} `json:"location"`
				} `json:"callFrames"`
			}
			if err := json.Unmarshal(params, &paused); err != nil {
				t.Fatal(err)
			}
			if len(paused.CallFrames) == 0 || paused.CallFrames[0].Location.ScriptID != bp.Locations[0].ScriptID ||
				paused.CallFrames[0].Location.LineNumber != genLine || len(paused.HitBreakpoints) != 1 || paused.HitBreakpoints[0] != bp.BreakpointID {
				t.Fatalf("paused at %s, want %s:%d by breakpoint %s", params, filepath.Join(root[1], "main.js"), genLine, bp.BreakpointID)
			}
			select {
			case a := <-answered:
				t.Fatalf("the request was answered while the handler was paused: %+v", a)
			case <-time.After(hold):
			}
			if err := cdp.call("Debugger.resume", map[string]any{}, nil); err != nil {
				t.Fatal(err)
			}
			select {
			case a := <-answered:
				if a.err != nil || a.code != 200 || a.body != "hello from node" {
					t.Fatalf("after resuming (held %s): %d %q %v, want 200 %q\nengine log:\n%s", hold, a.code, a.body, a.err, "hello from node", engineLog(t))
				}
			case <-time.After(30 * time.Second):
				t.Fatal("no answer 30s after resuming")
			}
		}

		// A saved edit: the new process runs under the inspector again, from
		// the same folder (a debugger's remoteRoot stays right).
		cdp.Close()
		if err := os.WriteFile(filepath.Join(dir, "web", "main.js"), []byte(strings.Replace(debugNodeHandler, "hello from node", "hello again", 1)), 0o644); err != nil {
			t.Fatal(err)
		}
		d.waitFor("the edit served", 60*time.Second, func() bool {
			_, b, _ := apiGet(port, m[1], "/hello")
			return b == "hello again"
		})
		if b, err := os.ReadFile(filepath.Join(root[1], "main.js")); err != nil || !strings.Contains(string(b), "hello again") {
			t.Errorf("the edited bundle is not in the debugged folder %s: %v", root[1], err)
		}
		cdp, err = dialCDP(fmt.Sprintf("127.0.0.1:%d", dport))
		if err != nil {
			t.Fatalf("the redeployed function is not under the inspector: %v", err)
		}
		cdp.Close()
		d.stop()
		if !strings.Contains(d.errOut.String(), "dev: web runs without its debugger again") {
			t.Errorf("dev did not end the debugging on exit:\n%s", d.errOut.String())
		}
		// The function still serves, without its inspector.
		if c, b, err := apiGet(port, m[1], "/hello"); err != nil || c != 200 || b != "hello again" {
			t.Errorf("after dev exited: %d %q %v", c, b, err)
		}
		if c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", dport), time.Second); err == nil {
			c.Close()
			t.Errorf("the inspector still listens on %d after dev exited", dport)
		}

		// A dev --debug killed without a chance to clean up: the next dev
		// runs the function without its debugger.
		d = startDev(t, "-C", dir, "--port", fmt.Sprint(port), "--debug", fmt.Sprintf("web=%d", dport))
		d.waitFor("watching", 120*time.Second, func() bool { return strings.Contains(d.errOut.String(), "dev: watching") })
		_ = d.cmd.Process.Kill()
		_ = d.exit(10 * time.Second)
		d = startDev(t, "-C", dir, "--port", fmt.Sprint(port))
		d.waitFor("watching", 120*time.Second, func() bool { return strings.Contains(d.errOut.String(), "dev: watching") })
		if !strings.Contains(d.errOut.String(), "dev: web was still under its debugger") {
			t.Errorf("dev did not end the debugging left behind:\n%s", d.errOut.String())
		}
		if h := engineHealth(t, endpoint); strings.Contains(h.Functions["dbgnode-dev-web"], "debugger") {
			t.Errorf("still debugged after dev without --debug: %q", h.Functions["dbgnode-dev-web"])
		}
		d.stop()
	})

	t.Run("go", func(t *testing.T) {
		arch := map[string]string{"amd64": "x86_64", "arm64": "arm64"}[runtime.GOARCH]
		dir := debugProject(t, "dbggo", `  runtime = "go"
  architecture = "`+arch+`"`, "web/main.go", debugGoHandler)
		for _, f := range []string{"go.mod", "go.sum"} {
			b, err := os.ReadFile(filepath.Join("../..", f))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		dport := freePort(t)
		d := startDev(t, "-C", dir, "--port", fmt.Sprint(port), "--debug", fmt.Sprintf("web=%d", dport))
		d.waitFor("watching", 180*time.Second, func() bool { return strings.Contains(d.errOut.String(), "dev: watching") })
		m := apiURL.FindStringSubmatch(d.out.String())
		if m == nil {
			t.Fatalf("no url output:\n%s", d.out.String())
		}
		if !strings.Contains(d.errOut.String(), fmt.Sprintf("`dlv connect 127.0.0.1:%d`", dport)) {
			t.Errorf("dev did not say how to attach:\n%s", d.errOut.String())
		}
		if h := engineHealth(t, endpoint); !strings.Contains(h.Functions["dbggo-dev-web"], fmt.Sprintf("under its debugger on 127.0.0.1:%d", dport)) {
			t.Errorf("the engine's health document does not say the function is debugged: %q", h.Functions)
		}

		conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", dport), 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		dlv := jsonrpc.NewClient(conn)
		defer dlv.Close()
		var st dlvCommandOut
		if err := dlvCall(dlv, "RPCServer.Command", dlvCommand{Name: "halt"}, &st); err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(dir, "web", "main.go")
		line := lineOf(t, debugGoHandler, `fmt.Println("handling"`)
		var bp struct {
			Breakpoint dlvBreakpoint
		}
		if err := dlvCall(dlv, "RPCServer.CreateBreakpoint", map[string]any{"Breakpoint": map[string]any{"file": file, "line": line}}, &bp); err != nil {
			t.Fatalf("setting a breakpoint at %s:%d: %v", file, line, err)
		}
		if bp.Breakpoint.FunctionName != "main.handler" {
			t.Errorf("breakpoint in %q, want main.handler", bp.Breakpoint.FunctionName)
		}
		cont := func() chan error {
			ch := make(chan error, 1)
			go func() {
				var out dlvCommandOut
				err := dlvCall(dlv, "RPCServer.Command", dlvCommand{Name: "continue"}, &out)
				st = out
				ch <- err
			}()
			return ch
		}
		stopped := cont()
		type answer struct {
			code int
			body string
			err  error
		}
		answered := make(chan answer, 1)
		go func() {
			c, b, err := apiGet(port, m[1], "/hello")
			answered <- answer{c, b, err}
		}()
		select {
		case err := <-stopped:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(60 * time.Second):
			t.Fatalf("the breakpoint was not hit within 60s\nengine log:\n%s", engineLog(t))
		}
		th := st.State.CurrentThread
		if th == nil || th.Breakpoint == nil || th.Breakpoint.ID != bp.Breakpoint.ID || th.File != file || th.Line != line {
			b, _ := json.Marshal(st.State)
			t.Fatalf("stopped at %s, want %s:%d by breakpoint %d", b, file, line, bp.Breakpoint.ID)
		}
		select {
		case a := <-answered:
			t.Fatalf("the request was answered while the handler was stopped: %+v\nengine log:\n%s", a, engineLog(t))
		case <-time.After(500 * time.Millisecond):
		}
		cont()
		select {
		case a := <-answered:
			if a.err != nil || a.code != 200 || a.body != "hello from go" {
				t.Fatalf("after continuing: %d %q %v, want 200 %q", a.code, a.body, a.err, "hello from go")
			}
		case <-time.After(30 * time.Second):
			t.Fatal("no answer 30s after continuing")
		}
		dlv.Close()
		d.stop()
	})

	for _, rt := range []string{"python3.11", "python3.12", "python3.13"} {
		t.Run(rt, func(t *testing.T) { devDebugPython(t, port, rt) })
	}
}

// Delve's JSON-RPC (API v2) types, the fields the test reads.
type dlvCommand struct {
	Name string `json:"name"`
}

type dlvBreakpoint struct {
	ID           int    `json:"id"`
	File         string `json:"file"`
	Line         int    `json:"line"`
	FunctionName string `json:"functionName"`
}

type dlvCommandOut struct {
	State struct {
		Running       bool
		Exited        bool `json:"exited"`
		CurrentThread *struct {
			File       string         `json:"file"`
			Line       int            `json:"line"`
			Breakpoint *dlvBreakpoint `json:"breakPoint"`
		} `json:"currentThread"`
	}
}

func dlvCall(c *rpc.Client, method string, args, reply any) error {
	call := c.Go(method, args, reply, make(chan *rpc.Call, 1))
	select {
	case <-call.Done:
		return call.Error
	case <-time.After(60 * time.Second):
		return fmt.Errorf("%s: no answer within 60s", method)
	}
}

// functionTimeout reads a function's Timeout from the engine.
func functionTimeout(t *testing.T, endpoint, name string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, endpoint+"/2015-03-31/functions/"+name+"/configuration", nil)
	// kumo routes by the signature's service; it checks no signature.
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/lambda/aws4_request, SignedHeaders=host, Signature=0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var c struct{ Timeout int }
	if err := json.NewDecoder(resp.Body).Decode(&c); err != nil {
		t.Fatalf("GetFunctionConfiguration %s: %s: %v", name, resp.Status, err)
	}
	return c.Timeout
}

func engineHealth(t *testing.T, endpoint string) localstack.EngineInfo {
	t.Helper()
	resp, err := http.Get(endpoint + localstack.HealthPath)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var info localstack.EngineInfo
	if err := json.NewDecoder(resp.Body).Decode(&info); err != nil {
		t.Fatal(err)
	}
	return info
}
