package localstack

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"time"
)

// Interpreted runtimes (runtime_python.go, runtime_node.go) run on the host's
// interpreter. The host's interpreter version is used whatever the function's
// runtime says, and the handler's dependencies must be in its package or
// installed on the host.

// lookInterpreter finds name on PATH and checks that it runs.
func lookInterpreter(name string) (string, bool) {
	p, err := exec.LookPath(name)
	if err != nil || !works(p) {
		return "", false
	}
	return p, true
}

// interpreterFor finds interp for runtime, or says why it cannot run here.
func interpreterFor(runtime, interp string) (string, string) {
	path, err := exec.LookPath(interp)
	if err == nil && !works(path) {
		err = fmt.Errorf("%s does not run", path)
	}
	if err != nil {
		return "", fmt.Sprintf("runtime %s needs %s on this machine's PATH", runtime, interp)
	}
	return path, ""
}

// writeLoop writes a runtime loop script into root once and returns its path.
func writeLoop(root, file, script string) (string, error) {
	loop := filepath.Join(root, file)
	if _, err := os.Stat(loop); err != nil {
		if err := os.WriteFile(loop, []byte(script), 0o644); err != nil {
			return "", err
		}
	}
	return loop, nil
}

var interpWorks sync.Map // path → bool

// works reports whether the interpreter at path starts (checked once).
func works(path string) bool {
	if v, ok := interpWorks.Load(path); ok {
		return v.(bool)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ok := exec.CommandContext(ctx, path, "--version").Run() == nil
	interpWorks.Store(path, ok)
	return ok
}
