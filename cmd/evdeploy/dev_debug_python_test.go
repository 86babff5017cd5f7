package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

const debugPythonHandler = `def handler(event, context):
    greeting = "hello from python"
    print("handling", greeting)
    return {"statusCode": 200, "body": greeting}
`

// devDebugPython (in TestDevDebug, on its engine): a Python function under
// debugpy, lent from another python3 on PATH when the function's interpreter
// has none (Debian's python3-debugpy, which .ci/run installs). A Debug
// Adapter Protocol client attaches with the pathMappings dev prints and sets
// a breakpoint on the handler's source file: an HTTP request stops there,
// unanswered, and continue answers it.
func devDebugPython(t *testing.T, port int, runtime string) {
	dir := debugProject(t, "dbgpy", `  runtime = "`+runtime+`"
  handler = "main.handler"
  timeout = "2s"`, "web/main.py", debugPythonHandler)
	dport := freePort(t)
	d := startDev(t, "-C", dir, "--port", fmt.Sprint(port), "--debug", fmt.Sprintf("web=%d", dport))
	d.waitFor("watching", 120*time.Second, func() bool { return strings.Contains(d.errOut.String(), "dev: watching") })
	m := apiURL.FindStringSubmatch(d.out.String())
	if m == nil {
		t.Fatalf("no url output:\n%s", d.out.String())
	}
	roots := regexp.MustCompile(`"type": "debugpy", "request": "attach".*"pathMappings": \[\{"localRoot": "([^"]+)", "remoteRoot": "([^"]+)"\}\]`).FindStringSubmatch(d.errOut.String())
	if roots == nil {
		t.Fatalf("dev printed no VS Code debugpy attach configuration:\n%s", d.errOut.String())
	}
	file := filepath.Join(dir, "web", "main.py")
	if roots[1] != filepath.Join(dir, "web") {
		t.Errorf("localRoot %q, want the function's source folder %q", roots[1], filepath.Join(dir, "web"))
	}
	line := lineOf(t, debugPythonHandler, `print("handling"`)
	// Where the interpreter has no debugpy of its own, the engine lent one:
	// links to debugpy and what it imports, not a whole site folder.
	if exec.Command(runtime, "-c", "import debugpy").Run() != nil {
		lent := filepath.Join(filepath.Dir(filepath.Dir(roots[2])), "python-debugpy")
		ents, err := os.ReadDir(lent)
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		if err != nil || !slices.Contains(names, "debugpy") || len(names) > 5 {
			t.Errorf("lent debugpy folder %s: %v %v, want a few links, debugpy among them", lent, names, err)
		}
	}

	dap := dialDAP(t, dport)
	dap.call("initialize", map[string]any{"clientID": "evdeploy-test", "adapterID": "debugpy", "pathFormat": "path", "linesStartAt1": true, "columnsStartAt1": true})
	attach := dap.send("attach", map[string]any{"justMyCode": true, "pathMappings": []map[string]string{{"localRoot": roots[1], "remoteRoot": roots[2]}}})
	dap.wait("the initialized event", 30*time.Second, func(m dapMsg) bool { return m.Type == "event" && m.Event == "initialized" })
	var bps struct {
		Breakpoints []struct {
			Verified bool `json:"verified"`
			Line     int  `json:"line"`
		} `json:"breakpoints"`
	}
	dap.decode(dap.call("setBreakpoints", map[string]any{"source": map[string]any{"path": file}, "breakpoints": []map[string]int{{"line": line}}}), &bps)
	if len(bps.Breakpoints) != 1 || !bps.Breakpoints[0].Verified || bps.Breakpoints[0].Line != line {
		t.Fatalf("setBreakpoints at %s:%d: %+v, want one verified breakpoint there", file, line, bps)
	}
	dap.call("configurationDone", nil)
	dap.response(attach, 30*time.Second)

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
	var stopped struct {
		Reason   string `json:"reason"`
		ThreadID int    `json:"threadId"`
	}
	dap.decode(dap.wait("a stopped event", 60*time.Second, func(m dapMsg) bool { return m.Type == "event" && m.Event == "stopped" }), &stopped)
	if stopped.Reason != "breakpoint" {
		t.Errorf("stopped for %q, want breakpoint", stopped.Reason)
	}
	var st struct {
		StackFrames []struct {
			Name   string `json:"name"`
			Line   int    `json:"line"`
			Source struct {
				Path string `json:"path"`
			} `json:"source"`
		} `json:"stackFrames"`
	}
	dap.decode(dap.call("stackTrace", map[string]any{"threadId": stopped.ThreadID}), &st)
	if len(st.StackFrames) == 0 || st.StackFrames[0].Source.Path != file || st.StackFrames[0].Line != line || st.StackFrames[0].Name != "handler" {
		t.Fatalf("stopped at %+v, want handler at %s:%d", st.StackFrames, file, line)
	}
	// Held past the spec's 2s timeout: the engine ends no debugged invocation.
	select {
	case a := <-answered:
		t.Fatalf("the request was answered while the handler was stopped: %+v\nengine log:\n%s", a, engineLog(t))
	case <-time.After(2500 * time.Millisecond):
	}
	dap.call("continue", map[string]any{"threadId": stopped.ThreadID})
	select {
	case a := <-answered:
		if a.err != nil || a.code != 200 || a.body != "hello from python" {
			t.Fatalf("after continuing: %d %q %v, want 200 %q", a.code, a.body, a.err, "hello from python")
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no answer 30s after continuing")
	}
	dap.call("disconnect", map[string]any{"terminateDebuggee": false})
	dap.conn.Close()
	d.stop()
}

// TestDevDebugNoDebugpy: with no debugpy for the function's interpreter and
// none on PATH to lend, dev --debug says how to install it, and the function
// still serves without its debugger. Its engine runs with a PATH holding only
// that interpreter as python3.
func TestDevDebugNoDebugpy(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	out, err := exec.Command("python3", "-c", "import sys; print(sys.executable)").Output()
	if err != nil {
		t.Skip("needs python3")
	}
	py := strings.TrimSpace(string(out))
	if exec.Command(py, "-c", "import debugpy").Run() == nil {
		t.Skip("python3 has debugpy itself: this case checks the error without it")
	}
	bin := t.TempDir()
	if err := os.Symlink(py, filepath.Join(bin, "python3")); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin)
	t.Setenv("PYENV_ROOT", t.TempDir()) // python3.11 is then the python3 above
	_, port := localTestEnv(t)
	if code, out, errOut := runLocal(t, "local", "up"); code != 0 {
		t.Fatalf("local up: exit %d\n%s%s", code, out, errOut)
	}
	dir := debugProject(t, "dbgpy", `  runtime = "python3.11"
  handler = "main.handler"`, "web/main.py", "def handler(event, context):\n    return {\"statusCode\": 200, \"body\": \"py\"}\n")
	d := startDev(t, "-C", dir, "--port", fmt.Sprint(port), "--debug", "web")
	err = d.exit(120 * time.Second)
	want := regexp.MustCompile(`--debug web: function \S+: debugpy is not installed for ` + regexp.QuoteMeta(filepath.Join(bin, "python3")) + `\S*: pip install debugpy`)
	if err == nil || !want.MatchString(d.errOut.String()) {
		t.Fatalf("dev --debug of a Python function without debugpy: %v, want an error matching %s:\n%s", err, want, d.errOut.String())
	}
	// Nothing lost: it runs without its debugger.
	m := apiURL.FindStringSubmatch(d.out.String())
	if m == nil {
		t.Fatalf("no url output:\n%s", d.out.String())
	}
	var c int
	var b string
	d.waitFor("the function serving without its debugger", 30*time.Second, func() bool {
		c, b, err = apiGet(port, m[1], "/hello")
		return err == nil && c == 200 && b == "py"
	})
}

// A Debug Adapter Protocol client: Content-Length framed JSON over TCP.
type dapMsg struct {
	Seq        int             `json:"seq"`
	Type       string          `json:"type"`
	Command    string          `json:"command"`
	Event      string          `json:"event"`
	RequestSeq int             `json:"request_seq"`
	Success    bool            `json:"success"`
	Message    string          `json:"message"`
	Body       json.RawMessage `json:"body"`
}

type dapClient struct {
	t       *testing.T
	conn    net.Conn
	seq     int
	msgs    chan dapMsg
	pending []dapMsg
}

func dialDAP(t *testing.T, port int) *dapClient {
	t.Helper()
	conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	c := &dapClient{t: t, conn: conn, msgs: make(chan dapMsg, 256)}
	go func() {
		defer close(c.msgs)
		r := bufio.NewReader(conn)
		for {
			n := -1
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				l = strings.TrimSpace(l)
				if l == "" {
					break
				}
				if v, ok := strings.CutPrefix(l, "Content-Length:"); ok {
					n, _ = strconv.Atoi(strings.TrimSpace(v))
				}
			}
			if n < 0 {
				return
			}
			b := make([]byte, n)
			if _, err := io.ReadFull(r, b); err != nil {
				return
			}
			var m dapMsg
			if json.Unmarshal(b, &m) == nil {
				c.msgs <- m
			}
		}
	}()
	return c
}

func (c *dapClient) send(command string, args any) int {
	c.t.Helper()
	c.seq++
	msg := map[string]any{"seq": c.seq, "type": "request", "command": command}
	if args != nil {
		msg["arguments"] = args
	}
	b, _ := json.Marshal(msg)
	if _, err := fmt.Fprintf(c.conn, "Content-Length: %d\r\n\r\n%s", len(b), b); err != nil {
		c.t.Fatalf("DAP %s: %v", command, err)
	}
	return c.seq
}

// wait returns the first message ok accepts, keeping the others for later.
func (c *dapClient) wait(what string, dur time.Duration, ok func(dapMsg) bool) dapMsg {
	c.t.Helper()
	for i, m := range c.pending {
		if ok(m) {
			c.pending = append(c.pending[:i:i], c.pending[i+1:]...)
			return m
		}
	}
	deadline := time.After(dur)
	for {
		select {
		case m, open := <-c.msgs:
			if !open {
				c.t.Fatalf("DAP connection closed while waiting for %s\nengine log:\n%s", what, engineLog(c.t))
			}
			if ok(m) {
				return m
			}
			c.pending = append(c.pending, m)
		case <-deadline:
			c.t.Fatalf("no DAP %s within %s\nengine log:\n%s", what, dur, engineLog(c.t))
		}
	}
}

func (c *dapClient) response(seq int, dur time.Duration) dapMsg {
	c.t.Helper()
	m := c.wait(fmt.Sprintf("response to request %d", seq), dur, func(m dapMsg) bool { return m.Type == "response" && m.RequestSeq == seq })
	if !m.Success {
		c.t.Fatalf("DAP %s failed: %s %s", m.Command, m.Message, m.Body)
	}
	return m
}

func (c *dapClient) call(command string, args any) dapMsg {
	c.t.Helper()
	return c.response(c.send(command, args), 30*time.Second)
}

func (c *dapClient) decode(m dapMsg, v any) {
	c.t.Helper()
	if err := json.Unmarshal(m.Body, v); err != nil {
		c.t.Fatalf("DAP %s%s body %s: %v", m.Command, m.Event, m.Body, err)
	}
}
