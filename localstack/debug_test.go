package localstack

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestRuntimeDebug: each runtime's debugger command line, and the errors
// when the debugger is not installed. The interpreters and dlv here are
// stand-in scripts: what is checked is how the engine finds and calls them
// (TestDevDebug in cmd/evdeploy runs the real debuggers).
func TestRuntimeDebug(t *testing.T) {
	bin := t.TempDir()
	script := func(name, body string) string {
		p := filepath.Join(bin, name)
		if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	withDebugpy := script("python-with-debugpy", "exit 0")       // `-c "import debugpy"` succeeds
	withoutDebugpy := script("python-without-debugpy", "exit 1") // ... fails
	dlv := script("dlv", "exit 0")
	empty := t.TempDir()

	for _, c := range []struct {
		name    string
		rt      lambdaRuntime
		argv    []string
		path    string // PATH while debug runs
		want    []string
		wantErr string
	}{
		{name: "node", rt: nodeRuntime{}, argv: []string{"/usr/bin/node", "/x/node-runtime.js"},
			want: []string{"/usr/bin/node", "--inspect=127.0.0.1:9229", "/x/node-runtime.js"}},
		{name: "python", rt: pythonRuntime{}, argv: []string{withDebugpy, "-u", "/x/python-runtime.py", "/x/sdk"},
			want: []string{withDebugpy, "-u", "-m", "debugpy", "--listen", "127.0.0.1:9229", "/x/python-runtime.py", "/x/sdk"}},
		{name: "python-without-debugpy", rt: pythonRuntime{}, argv: []string{withoutDebugpy, "-u", "/x/python-runtime.py"},
			wantErr: "debugpy is not installed for " + withoutDebugpy + ": pip install debugpy"},
		{name: "go", rt: providedRuntime{}, argv: []string{"/x/bootstrap"}, path: bin,
			want: []string{dlv, "exec", "--headless", "--api-version=2", "--accept-multiclient", "--continue", "--listen=127.0.0.1:9229", "/x/bootstrap"}},
		{name: "go-args", rt: providedRuntime{}, argv: []string{"/x/bootstrap", "-v"}, path: bin,
			want: []string{dlv, "exec", "--headless", "--api-version=2", "--accept-multiclient", "--continue", "--listen=127.0.0.1:9229", "/x/bootstrap", "--", "-v"}},
		{name: "go-without-dlv", rt: providedRuntime{}, argv: []string{"/x/bootstrap"}, path: empty,
			wantErr: "Delve (dlv) is not installed (not on PATH, nor in GOBIN, GOPATH/bin or ~/go/bin): go install github.com/go-delve/delve/cmd/dlv@v1.27.2"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.path != "" {
				t.Setenv("PATH", c.path)
				t.Setenv("GOBIN", "")
				t.Setenv("GOPATH", "")
				t.Setenv("HOME", empty)
			}
			got, err := c.rt.debug(lambdaConf{}, c.argv, 9229)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("debug = %q, %v; want the error %q", got, err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(c.want, got); d != "" {
				t.Errorf("debug command (-want +got):\n%s", d)
			}
		})
	}
}

// TestPortFree: a port something listens on is refused, with the port named.
func TestPortFree(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	if err := portFree(port); err == nil || !strings.Contains(err.Error(), "is in use (pick another with FUNCTION=PORT)") {
		t.Errorf("portFree(%d) of a busy port = %v", port, err)
	}
	ln.Close()
	if err := portFree(port); err != nil {
		t.Errorf("portFree(%d) once closed = %v", port, err)
	}
}
