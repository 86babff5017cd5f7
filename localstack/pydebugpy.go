package localstack

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// `dev --debug` of a Python function runs its loop under debugpy. The
// function's interpreter (pyenv's python3.12, say) often has no debugpy
// while another python3 on PATH does (Debian's python3-debugpy lives in
// /usr/lib/python3/dist-packages, for /usr/bin/python3). As with boto3
// (pysdk.go), the engine then lends that copy: a folder of links to debugpy
// and to the modules it imports from beside it (Debian unbundles pydevd's
// bytecode), never the whole site folder, appended to the debugged
// process's sys.path only.

// debugpyLender is the folder debugpy was found in and what to link from it.
type debugpyLender struct {
	from  string   // the python3 that has debugpy
	paths []string // debugpy's folder and its imports' files or folders
}

var debugpyLenders sync.Map // PATH → *debugpyLender

// debugpyDir returns a folder to put on interp's sys.path so that it can
// import debugpy: "" when interp has debugpy itself; an error when no
// python3 on PATH has one to lend.
func debugpyDir(interp, root string) (string, error) {
	if hasDebugpy(interp) {
		return "", nil
	}
	// Only a lender found is remembered: one installed after an error is
	// found on the next try, without restarting the engine.
	var lender *debugpyLender
	if v, ok := debugpyLenders.Load(os.Getenv("PATH")); ok {
		lender = v.(*debugpyLender)
	} else if lender = findDebugpyLender(); lender != nil {
		debugpyLenders.Store(os.Getenv("PATH"), lender)
	}
	if lender == nil {
		return "", errNoDebugpy(interp)
	}
	dir := filepath.Join(root, "python-debugpy")
	if err := linkModules(dir, lender.paths); err != nil {
		return "", err
	}
	return dir, nil
}

// findDebugpyLender asks each python3 on PATH (pyenv's shim, then
// /usr/bin/python3, …) in turn; the first with debugpy lends it.
func findDebugpyLender() *debugpyLender {
	seen := map[string]bool{}
	for _, d := range filepath.SplitList(os.Getenv("PATH")) {
		p := filepath.Join(d, "python3")
		real, err := filepath.EvalSymlinks(p)
		if err != nil || seen[real] {
			continue
		}
		seen[real] = true
		if !works(p) || !hasDebugpy(p) {
			continue
		}
		if paths := debugpyPaths(p); len(paths) > 0 {
			return &debugpyLender{from: p, paths: paths}
		}
	}
	return nil
}

// debugpyPaths lists debugpy's folder and the top-level modules that
// importing its server pulls from the same site folder (not those the
// interpreter had loaded before, such as a .pth file's).
func debugpyPaths(python string) []string {
	const script = `import os, sys
before = set(sys.modules)
import debugpy, debugpy.server.api
site = os.path.dirname(os.path.dirname(os.path.abspath(debugpy.__file__)))
out = {os.path.dirname(os.path.abspath(debugpy.__file__))}
for name, m in list(sys.modules.items()):
    f = getattr(m, "__file__", None)
    if name in before or not f or not os.path.abspath(f).startswith(site + os.sep):
        continue
    out.add(os.path.join(site, os.path.relpath(os.path.abspath(f), site).split(os.sep)[0]))
print("\n".join(sorted(out)))
`
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, python, "-c", script)
	cmd.Env = append(os.Environ(), "PYDEVD_DISABLE_FILE_VALIDATION=1")
	out, err := cmd.Output()
	if err != nil {
		return nil
	}
	var paths []string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if l != "" {
			paths = append(paths, l)
		}
	}
	return paths
}

// debugpyShim runs debugpy's command line as `-m debugpy` would, after
// appending the lent folder (its first argument) to sys.path.
const debugpyShim = `import runpy, sys; sys.path.append(sys.argv.pop(1)); runpy.run_module("debugpy", run_name="__main__", alter_sys=True)`
