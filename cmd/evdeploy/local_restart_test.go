package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"
)

// TestLocalRestartKeepsApp: `local down` then `local up` brings back what was
// deployed (kumo's data folder plus the engine's store of function code): a
// re-plan is clean and the HTTP route is served by the function again.
// `local up --fresh` starts empty.
func TestLocalRestartKeepsApp(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("needs python3")
	}
	_, port := localTestEnv(t)
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "web"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "evdeploy.evd.hcl"), []byte(`app "restart" {
  region = "us-east-1"
}

function "web" {
  runtime = "python3.12"
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
`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "web", "main.py"), []byte(fmt.Sprintf(devHandler, "kept", "kept")), 0o644); err != nil {
		t.Fatal(err)
	}
	mustRun := func(want int, args ...string) string {
		t.Helper()
		code, out, errOut := runLocal(t, args...)
		if code != want {
			t.Fatalf("%v: exit %d, want %d\n%s%s\nengine log:\n%s", args, code, want, out, errOut, engineLog(t))
		}
		return out
	}
	mustRun(0, "local", "up")
	out := mustRun(0, "apply", "--auto-approve", "-C", dir, "--target", "local")
	m := regexp.MustCompile(`url = http://([a-z0-9-]+)\.execute-api`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no url output:\n%s", out)
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

	mustRun(0, "local", "down")
	mustRun(0, "local", "up")
	mustRun(0, "plan", "--detailed-exitcode", "-C", dir, "--target", "local")
	deadline := time.Now().Add(30 * time.Second)
	for got := get(); got != "kept"; got = get() {
		if time.Now().After(deadline) {
			t.Fatalf("after a restart the route answers %q, want %q\nengine log:\n%s", got, "kept", engineLog(t))
		}
		time.Sleep(200 * time.Millisecond)
	}

	mustRun(0, "local", "down")
	mustRun(0, "local", "up", "--fresh")
	mustRun(2, "plan", "--detailed-exitcode", "-C", dir, "--target", "local")
}
