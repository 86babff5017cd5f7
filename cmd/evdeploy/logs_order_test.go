package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// What issue 22's "logs prints every traceback in order, 20 times out of 20"
// runs: a Python and a Node function that print many lines and then fail
// with a traceback, deployed by `dev` to an engine; each is invoked 20
// times with `evdeploy invoke`, and after every invocation `evdeploy logs`
// must show each invocation so far as one intact block, in order: START,
// the lines, the traceback (one event, Lambda's /var/task paths, nothing
// between its lines), END, REPORT. At the end the lines `dev` printed hold
// the same blocks.

const orderPyHandler = `def helper(n):
    raise ValueError("failed %d" % n)


def handler(event, context):
    n = event["n"]
    for i in range(100):
        print("py %d line %03d" % (n, i))
    helper(n)
`

const orderJSHandler = `function helper(n) {
  throw new Error("failed " + n);
}

exports.handler = async (event) => {
  for (let i = 0; i < 100; i++) console.log("js %d line %s", event.n, String(i).padStart(3, "0"));
  try {
    helper(event.n);
  } catch (e) {
    console.error(e);
    throw e;
  }
};
`

const orderSpec = `app "logorder" {
  region = "us-east-1"
}

function "py" {
  runtime = "python3.12"
  source  = "./py"
  handler = "app.handler"
}

function "js" {
  runtime = "nodejs20.x"
  source  = "./js"
  handler = "index.handler"
}
`

const orderRuns, orderLines = 20, 100

func TestLogsTracebacksInOrder(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	for _, interp := range []string{"python3", "node"} {
		if _, err := exec.LookPath(interp); err != nil {
			t.Skip("needs " + interp)
		}
	}
	_, port := localTestEnv(t)
	dir := t.TempDir()
	for name, content := range map[string]string{"evdeploy.evd.hcl": orderSpec, "py/app.py": orderPyHandler, "js/index.js": orderJSHandler} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	var out, errOut syncBuffer
	dev := exec.Command(exe, "dev", "-C", dir, "--port", fmt.Sprint(port))
	dev.Stdout, dev.Stderr = &out, &errOut
	dev.Env = append(os.Environ(), "NO_COLOR=1")
	if err := dev.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- dev.Wait() }()
	t.Cleanup(func() { _ = dev.Process.Kill() })
	waitDev := func(what string, d time.Duration, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(d)
		for !ok() {
			select {
			case err := <-exited:
				t.Fatalf("dev exited (%v) while waiting for %s\nstderr:\n%s", err, what, errOut.String())
			default:
			}
			if time.Now().After(deadline) {
				t.Fatalf("no %s within %s\nstdout:\n%s\nstderr:\n%s\nengine log:\n%s", what, d, out.String(), errOut.String(), engineLog(t))
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	waitDev("watching", 120*time.Second, func() bool { return strings.Contains(errOut.String(), "dev: watching") })

	fns := []struct {
		name  string
		check func(n int, lines []string) ([]string, error)
	}{{"py", pyBlock}, {"js", jsBlock}}
	for n := range orderRuns {
		for _, fn := range fns {
			code, stdout, stderr := runLocal(t, "invoke", fn.name, "-C", dir, "--target", "local", "--payload", fmt.Sprintf(`{"n":%d}`, n))
			if code != 1 || !strings.Contains(stdout+stderr, fmt.Sprintf("failed %d", n)) {
				t.Fatalf("invoke %s %d: exit %d, want 1 with its error\n%s%s", fn.name, n, code, stdout, stderr)
			}
			// The log is shipped a moment after the invocation: wait for its
			// REPORT, then read it all again.
			var lines []string
			deadline := time.Now().Add(15 * time.Second)
			for {
				code, logs, logsErr := runLocal(t, "logs", fn.name, "-C", dir, "--target", "local", "--since", "1h")
				if code != 0 {
					t.Fatalf("logs %s: exit %d\n%s", fn.name, code, logsErr)
				}
				lines = logLines(logs, "")
				if countPrefix(lines, "REPORT RequestId: ") > n || time.Now().After(deadline) {
					break
				}
				time.Sleep(100 * time.Millisecond)
			}
			if err := checkBlocks(lines, n+1, fn.check); err != nil {
				t.Fatalf("after invocation %d of %s, `evdeploy logs %s`: %v\n%s", n, fn.name, fn.name, err, strings.Join(lines, "\n"))
			}
		}
	}

	// dev printed the same blocks, each function's lines behind its name.
	for _, fn := range fns {
		var lines []string
		waitDev(fn.name+"'s last REPORT in dev's output", 15*time.Second, func() bool {
			lines = logLines(out.String(), fn.name+" | ")
			return countPrefix(lines, "REPORT RequestId: ") >= orderRuns
		})
		if err := checkBlocks(lines, orderRuns, fn.check); err != nil {
			t.Errorf("dev's lines of %s: %v\n%s", fn.name, err, strings.Join(lines, "\n"))
		}
	}
	if err := dev.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		t.Errorf("dev still runs 10 s after Ctrl-C")
	}
}

var (
	logTime   = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z `)
	requestID = `[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`
	otherTail = regexp.MustCompile(`^[\w-]+ *\| \d{4}-\d\d-\d\dT`) // dev's line of another function
	startLine = regexp.MustCompile(`^START RequestId: (` + requestID + `) Version: \$LATEST$`)
)

// logLines returns the messages' lines of what `logs` (or dev, whose lines
// of one function start with prefix) printed, without the event times: an
// event's first line starts with its time, the lines after it are its own
// and come back marked with cont, so a block check sees where events end.
// With a prefix, a continuation line belongs to the event before it.
func logLines(out, prefix string) []string {
	var lines []string
	mine := prefix == ""
	for _, l := range strings.Split(out, "\n") {
		if prefix != "" {
			if rest, ok := strings.CutPrefix(l, prefix); ok {
				l, mine = rest, true
			} else if otherTail.MatchString(l) {
				mine = false // another function's event
			}
		}
		if !mine {
			continue
		}
		if m := logTime.FindString(l); m != "" {
			l = l[len(m):]
		} else if l != "" {
			l = cont + l
		}
		lines = append(lines, l)
	}
	for len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

// cont marks a line that continues the event of the line before it.
const cont = "+ "

func countPrefix(lines []string, p string) int {
	n := 0
	for _, l := range lines {
		if strings.HasPrefix(l, p) {
			n++
		}
	}
	return n
}

// checkBlocks checks that lines are exactly runs invocation blocks, in
// order: START, what check accepts for invocation n, END and REPORT of the
// same request.
func checkBlocks(lines []string, runs int, check func(n int, lines []string) ([]string, error)) error {
	for n := range runs {
		if len(lines) == 0 {
			return fmt.Errorf("invocation %d: no START", n)
		}
		m := startLine.FindStringSubmatch(lines[0])
		if m == nil {
			return fmt.Errorf("invocation %d: %q where its START belongs", n, lines[0])
		}
		id := m[1]
		rest, err := check(n, lines[1:])
		if err != nil {
			return fmt.Errorf("invocation %d (%s): %w", n, id, err)
		}
		if len(rest) < 2 || rest[0] != "END RequestId: "+id || !strings.HasPrefix(rest[1], "REPORT RequestId: "+id+"\tDuration: ") {
			return fmt.Errorf("invocation %d (%s): %q where its END and REPORT belong", n, id, rest[:min(2, len(rest))])
		}
		if (n == 0) != strings.Contains(rest[1], "\tInit Duration: ") {
			return fmt.Errorf("invocation %d: REPORT %q (Init Duration on the first, cold, invocation only)", n, rest[1])
		}
		lines = rest[2:]
	}
	if len(lines) > 0 {
		return fmt.Errorf("%d lines after the last invocation's REPORT: %q", len(lines), lines)
	}
	return nil
}

// pyBlock: the printed lines, then awslambdaric's error event: "[ERROR]
// T: m", "Traceback (most recent call last):" and the frames (indented
// with no-break spaces, so CloudWatch keeps them), handler first.
func pyBlock(n int, lines []string) ([]string, error) {
	for i := range orderLines {
		if want := fmt.Sprintf("py %d line %03d", n, i); i >= len(lines) || lines[i] != want {
			return nil, fmt.Errorf("line %d: want %q, got %q", i, want, at(lines, i))
		}
	}
	lines = lines[orderLines:]
	head := []string{fmt.Sprintf("[ERROR] ValueError: failed %d", n), cont + "Traceback (most recent call last):"}
	for i, want := range head {
		if at(lines, i) != want {
			return nil, fmt.Errorf("traceback line %d: want %q, got %q", i, want, at(lines, i))
		}
	}
	lines = lines[len(head):]
	frames := 0
	for frames < len(lines) && strings.HasPrefix(lines[frames], cont+"\u00a0") {
		frames++
	}
	trace := strings.Join(lines[:frames], "\n")
	want := []string{`File "/var/task/app.py", line 9, in handler`, "helper(n)", `File "/var/task/app.py", line 2, in helper`, `raise ValueError("failed %d" % n)`}
	pos := 0
	for _, w := range want {
		i := strings.Index(trace[pos:], w)
		if i < 0 {
			return nil, fmt.Errorf("traceback %q: no %q after the frames before it", trace, w)
		}
		pos += i + len(w)
	}
	return lines[frames:], nil
}

// jsBlock: the console.log lines ("time\tid\tINFO\tmessage"), the error
// console.error printed (one event: its stack lines follow it), then the
// runtime's "Invoke Error" event with the error as JSON.
func jsBlock(n int, lines []string) ([]string, error) {
	field := func(l string) (level, msg string) {
		p := strings.SplitN(l, "\t", 4)
		if len(p) != 4 || !logTime.MatchString(p[0]+" ") {
			return "", l
		}
		return p[2], p[3]
	}
	for i := range orderLines {
		want := fmt.Sprintf("js %d line %03d", n, i)
		if lvl, msg := field(at(lines, i)); lvl != "INFO" || msg != want {
			return nil, fmt.Errorf("line %d: want INFO %q, got %q", i, want, at(lines, i))
		}
	}
	lines = lines[orderLines:]
	if lvl, msg := field(at(lines, 0)); lvl != "ERROR" || msg != fmt.Sprintf("Error: failed %d", n) {
		return nil, fmt.Errorf("want console.error's \"Error: failed %d\", got %q", n, at(lines, 0))
	}
	stack := 1
	for stack < len(lines) && strings.HasPrefix(lines[stack], cont+"    at ") {
		stack++
	}
	trace := strings.Join(lines[1:stack], "\n")
	// (Line numbers are the bundle's: evdeploy bundles Node functions.)
	if !strings.Contains(trace, "at helper (/var/task/index.js:") || !strings.Contains(trace, "at exports.handler (/var/task/index.js:") || strings.Contains(trace, "evdeploy-functions-") {
		return nil, fmt.Errorf("console.error's stack %q: want the handler's frames in /var/task/index.js, and no engine folder", trace)
	}
	lines = lines[stack:]
	lvl, msg := field(at(lines, 0))
	doc, ok := strings.CutPrefix(msg, "Invoke Error \t")
	var e struct {
		ErrorType    string   `json:"errorType"`
		ErrorMessage string   `json:"errorMessage"`
		Stack        []string `json:"stack"`
	}
	if lvl != "ERROR" || !ok || json.Unmarshal([]byte(doc), &e) != nil || e.ErrorType != "Error" || e.ErrorMessage != fmt.Sprintf("failed %d", n) ||
		len(e.Stack) < 3 || !strings.Contains(e.Stack[1], "at helper (/var/task/index.js:") {
		return nil, fmt.Errorf("want the Invoke Error event of Error \"failed %d\" with its stack in /var/task, got %q", n, at(lines, 0))
	}
	return lines[1:], nil
}

func at(lines []string, i int) string {
	if i < len(lines) {
		return lines[i]
	}
	return "(nothing)"
}
