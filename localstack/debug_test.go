package localstack

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

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
	// A python3 on PATH that has debugpy: it names debugpy's folder and
	// what debugpy imports from beside it (Debian's layout).
	lender := t.TempDir()
	if err := os.WriteFile(filepath.Join(lender, "python3"), []byte("#!/bin/sh\ncase \"$2\" in *debugpy.server*) echo /site/bytecode; echo /site/debugpy;; esac\nexit 0\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	loop := filepath.Join(root, "python-runtime.py")
	lent := filepath.Join(root, "python-debugpy")
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
			want: []string{withDebugpy, "-u", "-Xfrozen_modules=off", "-m", "debugpy", "--listen", "127.0.0.1:9229", "/x/python-runtime.py", "/x/sdk"}},
		{name: "python-debugpy-lent", rt: pythonRuntime{}, argv: []string{withoutDebugpy, "-u", loop, "/x/sdk"}, path: empty + string(filepath.ListSeparator) + lender,
			want: []string{withoutDebugpy, "-u", "-Xfrozen_modules=off", "-c", debugpyShim, lent, "--listen", "127.0.0.1:9229", loop, "/x/sdk"}},
		{name: "python-without-debugpy", rt: pythonRuntime{}, argv: []string{withoutDebugpy, "-u", "/x/python-runtime.py"}, path: empty,
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
			if c.name == "python-debugpy-lent" {
				// Only debugpy and what it imports are lent, as links.
				var links []string
				for _, n := range []string{"bytecode", "debugpy"} {
					l, err := os.Readlink(filepath.Join(lent, n))
					if err != nil {
						t.Fatal(err)
					}
					links = append(links, l)
				}
				if d := cmp.Diff([]string{"/site/bytecode", "/site/debugpy"}, links); d != "" {
					t.Errorf("lent links (-want +got):\n%s", d)
				}
				if ents, _ := os.ReadDir(lent); len(ents) != 2 {
					t.Errorf("lent folder holds %d entries, want 2", len(ents))
				}
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

// TestRuntimeDebugListens: readiness sees a listener without connecting to
// it (debugpy's adapter exits when a client hangs up), and no listener once
// it is closed.
func TestRuntimeDebugListens(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	accepted := make(chan struct{}, 1)
	go func() {
		if c, err := ln.Accept(); err == nil {
			c.Close()
			accepted <- struct{}{}
		}
	}()
	if !debuggerListens(port) {
		t.Fatalf("port %d listens, debuggerListens says no", port)
	}
	if _, known := procListens(port); known {
		select {
		case <-accepted:
			t.Error("the probe connected to the debugger's port")
		case <-time.After(200 * time.Millisecond):
		}
	}
	ln.Close()
	if debuggerListens(port) {
		t.Errorf("port %d closed, debuggerListens says it listens", port)
	}
}
