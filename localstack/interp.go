package localstack

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Interpreted runtimes (runtime_python.go, runtime_node.go) run on the host's
// interpreter, of the runtime's version when there is one (below); the
// handler's dependencies must be in its package or installed on the host.

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

// Runtime versions. A function runs on the interpreter of its runtime's
// version when the machine has one: on PATH (python3.12; node if its
// version matches), else in a version manager's layout (pyenv's
// versions/3.12.*/bin, nvm's versions/node/v22.*/bin, volta's
// tools/image/node/22.*/bin), newest patch first. Otherwise the engine uses
// the default interpreter and says so once (takeInterpreterNote).

// versionOf is what path --version prints ("Python 3.12.1", "v22.3.0"),
// checked once; "" when it does not run.
func versionOf(path string) string {
	if v, ok := interpVersions.Load(path); ok {
		return v.(string)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, "--version").CombinedOutput()
	v := ""
	if err == nil {
		v = strings.TrimSpace(string(out))
	}
	interpVersions.Store(path, v)
	return v
}

var interpVersions sync.Map // path → version

// versionDirs lists dir's entries that start with prefix, newest first.
func versionDirs(dir, prefix string) []string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), prefix) {
			out = append(out, e.Name())
		}
	}
	sort.Slice(out, func(i, j int) bool { return versionLess(out[j], out[i]) })
	return out
}

// versionLess compares dotted versions numerically (3.12.10 > 3.12.9).
func versionLess(a, b string) bool {
	pa, pb := strings.Split(strings.TrimPrefix(a, "v"), "."), strings.Split(strings.TrimPrefix(b, "v"), ".")
	for i := 0; i < len(pa) && i < len(pb); i++ {
		na, ea := strconv.Atoi(pa[i])
		nb, eb := strconv.Atoi(pb[i])
		if ea != nil || eb != nil {
			if pa[i] != pb[i] {
				return pa[i] < pb[i]
			}
			continue
		}
		if na != nb {
			return na < nb
		}
	}
	return len(pa) < len(pb)
}

func homeDir(env, def string) string {
	if d := os.Getenv(env); d != "" {
		return d
	}
	h, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	return filepath.Join(h, def)
}

// exactInterpreter finds the interpreter of runtime's version
// (python3.12, nodejs22.x), or "".
func exactInterpreter(runtime string) string {
	switch {
	case strings.HasPrefix(runtime, "python3."):
		if p, ok := lookInterpreter(runtime); ok {
			return p
		}
		minor := strings.TrimPrefix(runtime, "python")
		root := homeDir("PYENV_ROOT", ".pyenv")
		for _, v := range versionDirs(filepath.Join(root, "versions"), minor+".") {
			p := filepath.Join(root, "versions", v, "bin", runtime)
			if versionOf(p) != "" {
				return p
			}
		}
	case strings.HasPrefix(runtime, "nodejs"):
		major := strings.TrimSuffix(strings.TrimPrefix(runtime, "nodejs"), ".x")
		if p, err := exec.LookPath("node"); err == nil && strings.HasPrefix(versionOf(p), "v"+major+".") {
			return p
		}
		nvm := homeDir("NVM_DIR", ".nvm")
		for _, v := range versionDirs(filepath.Join(nvm, "versions", "node"), "v"+major+".") {
			if p := filepath.Join(nvm, "versions", "node", v, "bin", "node"); versionOf(p) != "" {
				return p
			}
		}
		volta := homeDir("VOLTA_HOME", ".volta")
		for _, v := range versionDirs(filepath.Join(volta, "tools", "image", "node"), major+".") {
			if p := filepath.Join(volta, "tools", "image", "node", v, "bin", "node"); versionOf(p) != "" {
				return p
			}
		}
	}
	return ""
}

var interpNotes sync.Map // runtime → said

// takeInterpreterNote says, the first time only, that runtime runs on
// another version's interpreter (path).
func takeInterpreterNote(runtime, path string) string {
	if _, said := interpNotes.LoadOrStore(runtime, true); said {
		return ""
	}
	return fmt.Sprintf("runtime %s: no interpreter of that version found (PATH, pyenv, nvm, volta); using %s (%s) instead", runtime, path, versionOf(path))
}

// Interpreter is one runtime's interpreter as the engine would pick it.
type Interpreter struct {
	Runtime string `json:"runtime"`
	Path    string `json:"path,omitempty"`
	Version string `json:"version,omitempty"`
	Exact   bool   `json:"exact"` // of the runtime's version (else the default one)
}

// Interpreters lists the interpreters the engine finds on this machine for
// the Python and Node.js runtimes Lambda supports.
func Interpreters() []Interpreter {
	var out []Interpreter
	for _, rt := range []string{"python3.11", "python3.12", "python3.13", "nodejs20.x", "nodejs22.x"} {
		in := Interpreter{Runtime: rt}
		if p := exactInterpreter(rt); p != "" {
			in.Path, in.Exact = p, true
		} else {
			def := "node"
			if strings.HasPrefix(rt, "python") {
				def = "python3"
			}
			if p, err := exec.LookPath(def); err == nil && works(p) {
				in.Path = p
			}
		}
		if in.Path != "" {
			in.Version = versionOf(in.Path)
		}
		out = append(out, in)
	}
	return out
}
