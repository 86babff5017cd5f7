package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for a process writing and a test reading.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

const devHandler = `def handler(event, context):
    print("handling %s")
    return {"statusCode": 200, "body": "%s"}
`

const devNodeHandler = `exports.handler = async () => {
  console.log("handling %s");
  return { statusCode: 200, body: "%s" };
};
`

// TestDev: `evdeploy dev` (a real process) on a one-function HTTP app and an
// engine on a free port serves v1 and streams the handler's line; an edit of
// the handler is live without a restart; `logs` prints the handler's line;
// Ctrl-C ends dev with exit 0 and leaves the engine up.
func TestDev(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	for _, rt := range []struct{ name, interp, runtime, file, handler string }{
		{"python", "python3", "python3.12", "web/main.py", devHandler},
		{"node", "node", "nodejs20.x", "web/main.js", devNodeHandler},
	} {
		t.Run(rt.name, func(t *testing.T) {
			if _, err := exec.LookPath(rt.interp); err != nil {
				t.Skip("needs " + rt.interp)
			}
			testDev(t, rt.runtime, rt.file, rt.handler)
		})
	}
}

func testDev(t *testing.T, runtime, file, handler string) {
	_, port := localTestEnv(t)
	dir := t.TempDir()
	write := func(name, content string) {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("evdeploy.evd.hcl", `app "devapp" {
  region = "us-east-1"
}

function "web" {
  runtime = "`+runtime+`"
  source  = "./web"
  handler = "main.handler"
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
`)
	write(file, fmt.Sprintf(handler, "v1", "v1"))

	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	var out, errOut syncBuffer
	cmd := exec.Command(exe, "dev", "-C", dir, "--port", fmt.Sprint(port))
	cmd.Stdout, cmd.Stderr = &out, &errOut
	cmd.Env = append(os.Environ(), "NO_COLOR=1")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() { _ = cmd.Process.Kill() })

	waitFor := func(what string, d time.Duration, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(d)
		for !ok() {
			select {
			case err := <-exited:
				t.Fatalf("dev exited (%v) while waiting for %s\nstdout:\n%s\nstderr:\n%s", err, what, out.String(), errOut.String())
			default:
			}
			if time.Now().After(deadline) {
				t.Fatalf("no %s within %s\nstdout:\n%s\nstderr:\n%s\nengine log:\n%s", what, d, out.String(), errOut.String(), engineLog(t))
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	waitFor("watching", 120*time.Second, func() bool { return strings.Contains(errOut.String(), "dev: watching") })
	m := regexp.MustCompile(`url = http://([a-z0-9-]+)\.execute-api\.localhost:(\d+)`).FindStringSubmatch(out.String())
	if m == nil || m[2] != fmt.Sprint(port) {
		t.Fatalf("no url output on port %d:\n%s", port, out.String())
	}
	get := func() string {
		req, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("http://127.0.0.1:%d/hello", port), nil)
		req.Host = fmt.Sprintf("%s.execute-api.localhost:%d", m[1], port)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	waitFor("v1 served", 30*time.Second, func() bool { return get() == "v1" })
	waitFor("the handler's line in dev's output", 15*time.Second, func() bool {
		return regexp.MustCompile(`(?m)^web \| \S+ .*handling v1$`).MatchString(out.String())
	})

	edited := time.Now()
	write(file, fmt.Sprintf(handler, "v2", "v2"))
	waitFor("v2 served", 30*time.Second, func() bool { return get() == "v2" })
	t.Logf("save-to-live: %s (%s, one function; timings are not asserted)", time.Since(edited).Round(time.Millisecond), runtime)
	if !strings.Contains(errOut.String(), "dev: changed: ") {
		t.Errorf("dev did not report the change:\n%s", errOut.String())
	}

	code, logs, logsErr := runLocal(t, "logs", "web", "-C", dir, "--target", "local")
	if code != 0 || !strings.Contains(logs, "handling v1") || !strings.Contains(logs, "START RequestId: ") {
		t.Errorf("logs web: exit %d\n%s%s", code, logs, logsErr)
	}

	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("dev after Ctrl-C: %v (want exit 0)\nstderr:\n%s", err, errOut.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("dev still running 10 s after Ctrl-C\nstderr:\n%s", errOut.String())
	}
	// The engine stays up for the next run, also once the engine's watchdog
	// (the re-exec init in local_test.go) has looked at its parent, which
	// dev's exit changed.
	time.Sleep(reexecWatch + 300*time.Millisecond)
	if code, out, _ := runLocal(t, "local", "status"); code != 0 {
		t.Errorf("the engine is gone after dev exited:\n%s\nengine log:\n%s", out, engineLog(t))
	}
}
