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

// Lambda's Python runtimes ship the AWS SDK (boto3 and what it imports) in
// /var/runtime, after the function's own folder on sys.path: a handler that
// imports boto3 without packaging it works there. An interpreter of the
// runtime's exact version (pyenv's python3.12, say) often has no boto3 while
// the machine's default python3 does; the engine then lends the default's
// copy, in a folder of links appended to sys.path, so what runs on Lambda
// runs here, and a boto3 the function packages itself still wins.

// pySDKModules is what boto3 needs at import time; all are pure Python.
var pySDKModules = []string{"boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six"}

var (
	pyImports  sync.Map // interpreter path + "\x00" + module → bool
	pySDKOnce  sync.Once
	pySDKPaths map[string]string // module → file or folder, from the default python3
)

// pythonSDKDir returns a folder under root to append to sys.path so that
// interp can import boto3, or "" when interp has boto3 already or the
// machine has none to lend.
func pythonSDKDir(interp, root string) string {
	if hasBoto3(interp) {
		return ""
	}
	pySDKOnce.Do(func() { pySDKPaths = defaultSDKPaths() })
	if len(pySDKPaths) == 0 {
		return ""
	}
	srcs := make([]string, 0, len(pySDKPaths))
	for _, src := range pySDKPaths {
		srcs = append(srcs, src)
	}
	dir := filepath.Join(root, "python-sdk")
	if linkModules(dir, srcs) != nil {
		return ""
	}
	return dir
}

// hasBoto3 asks once per interpreter: the answer decides every launch.
func hasBoto3(interp string) bool { return canImport(interp, "boto3", true, 20*time.Second) }

// canImport reports whether interp can import module. A yes is remembered;
// a no only when rememberNo (otherwise it is asked again next time, so that
// installing the module needs no engine restart).
func canImport(interp, module string, rememberNo bool, timeout time.Duration) bool {
	key := interp + "\x00" + module
	if v, ok := pyImports.Load(key); ok {
		return v.(bool)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	ok := exec.CommandContext(ctx, interp, "-c", "import "+module).Run() == nil
	if ok || rememberNo {
		pyImports.Store(key, ok)
	}
	return ok
}

// linkModules makes dir a folder of links to srcs (module files or
// folders), for a lent sys.path entry; links already there are kept.
func linkModules(dir string, srcs []string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, src := range srcs {
		link := filepath.Join(dir, filepath.Base(src))
		if _, err := os.Lstat(link); err == nil {
			continue
		}
		if err := os.Symlink(src, link); err != nil && !os.IsExist(err) {
			return err
		}
	}
	return nil
}

// defaultSDKPaths asks the default python3 where boto3 and its imports live.
func defaultSDKPaths() map[string]string {
	path, ok := lookInterpreter("python3")
	if !ok || !hasBoto3(path) {
		return nil
	}
	script := "import importlib, os\n" +
		"for m in " + pyList(pySDKModules) + ":\n" +
		"    try:\n" +
		"        f = importlib.import_module(m).__file__\n" +
		"    except Exception:\n" +
		"        continue\n" +
		"    print(m, os.path.dirname(f) if os.path.basename(f) == '__init__.py' else f)\n"
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, "-c", script).Output()
	if err != nil {
		return nil
	}
	paths := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if mod, p, ok := strings.Cut(line, " "); ok && p != "" {
			paths[mod] = p
		}
	}
	return paths
}

func pyList(names []string) string {
	return "['" + strings.Join(names, "', '") + "']"
}
