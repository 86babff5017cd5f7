package build

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// pipFormatVersion is part of every install's key; bump it when the install
// command or the clean-up after it changes.
const pipFormatVersion = "evdeploy-pip/1"

// pythonPlatforms are the wheel platform tags Lambda's Linux accepts for a
// runtime and architecture: manylinux2014 (glibc 2.17, which pip widens to
// manylinux2010 and manylinux1) everywhere, and manylinux_2_28 too on the
// runtimes built on Amazon Linux 2023 (python3.12 and later, glibc 2.34),
// since more and more packages publish only those wheels.
func pythonPlatforms(rt, arch string) []string {
	a := "aarch64"
	if arch == "x86_64" {
		a = "x86_64"
	}
	out := []string{"manylinux2014_" + a}
	var minor int
	if _, err := fmt.Sscanf(pythonVersion(rt), "3.%d", &minor); err == nil && minor >= 12 {
		out = append(out, "manylinux_2_28_"+a)
	}
	return out
}

// pythonVersion is "3.12" for runtime python3.12.
func pythonVersion(rt string) string { return strings.TrimPrefix(rt, "python") }

// planPython zips the folder with its requirements.txt installed: pip
// installs wheels for Lambda's platform, architecture and Python version into
// a cached folder keyed by PythonDepsKey, and the package is the folder's
// files plus the installed ones (the folder's own file wins where both have a
// path). With no requirements.txt, or when every requirement is already
// vendored in the folder (pip install -t . by hand), nothing is installed.
func (b *Builder) planPython(ctx context.Context, fn Function, arch string) (plan, error) {
	files, err := collectFiles(fn.Source)
	if err != nil {
		return plan{}, err
	}
	if len(files) == 0 {
		return plan{}, fmt.Errorf("source folder %s has no files to package", fn.Source)
	}
	reqPath := filepath.Join(fn.Source, "requirements.txt")
	if _, err := os.Stat(reqPath); os.IsNotExist(err) {
		return planZip(fn, arch)
	}
	if missing, err := pythonWarnings(fn, files); err != nil {
		return plan{}, err
	} else if len(missing) == 0 && !hasOptions(reqPath) {
		return planZip(fn, arch) // vendored by hand, or no requirement at all
	}
	depsKey, err := PythonDepsKey(fn.Source, fn.Runtime, arch)
	if err != nil {
		return plan{}, err
	}
	k := newKey("zip", fn.Runtime, arch)
	k.add("pydeps", depsKey) // the installed folder is immutable under its key
	for _, f := range files {
		if err := k.file(f.Rel, f.Abs, f.Exec); err != nil {
			return plan{}, err
		}
	}
	// Installing (or finding the install) and walking it happen only when the
	// package is not in the build cache already.
	out := &produced{}
	return plan{
		kind: "zip", key: k.sum(), inputs: len(files), out: out,
		produce: func(ctx context.Context, _ string) ([]zipEntry, error) {
			depsDir, err := b.pipInstall(ctx, fn, arch, depsKey)
			if err != nil {
				return nil, err
			}
			deps, err := collectFiles(depsDir)
			if err != nil {
				return nil, err
			}
			all := append([]sourceFile(nil), files...)
			have := make(map[string]bool, len(files))
			for _, f := range files {
				have[f.Rel] = true
			}
			for _, f := range deps {
				if !have[f.Rel] {
					all = append(all, f)
				}
			}
			sort.Slice(all, func(i, j int) bool { return all[i].Rel < all[j].Rel })
			if out.warnings, err = dependencyWarnings(fn, arch, all); err != nil {
				return nil, err
			}
			entries := make([]zipEntry, len(all))
			for i, f := range all {
				entries[i] = zipEntry{Name: f.Rel, Path: f.Abs, Exec: f.Exec}
			}
			return entries, nil
		},
	}, nil
}

// hasOptions reports whether a requirements file has option lines (-r, -e,
// --find-links …) or URLs, which the vendoring check cannot judge: such a
// file is always installed.
func hasOptions(reqPath string) bool {
	data, err := os.ReadFile(reqPath)
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "-") || strings.Contains(line, "://") || strings.HasPrefix(line, ".") || strings.HasPrefix(line, "/") {
			return true
		}
	}
	return false
}

// PythonDepsKey is the key of a requirements install: the requirements file,
// the platform, architecture and Python version, and the content of every
// local file or folder the requirements name (a wheel, a package folder, a
// --find-links folder), so a team's own package rebuilt under the same
// version is installed again.
func PythonDepsKey(src, rt, arch string) (string, error) {
	reqPath := filepath.Join(src, "requirements.txt")
	data, err := os.ReadFile(reqPath)
	if err != nil {
		return "", err
	}
	k := newKey(pipFormatVersion, rt, arch)
	k.add(strings.Join(pythonPlatforms(rt, arch), ","), pythonVersion(rt), string(data))
	for _, p := range localRequirementPaths(src, data) {
		abs := filepath.Join(src, p)
		err := filepath.WalkDir(abs, func(q string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if n := d.Name(); n == "__pycache__" || n == ".git" || n == "build" || strings.HasSuffix(n, ".egg-info") {
					return filepath.SkipDir
				}
				return nil
			}
			rel, _ := filepath.Rel(src, q)
			return k.file(filepath.ToSlash(rel), q, false)
		})
		if err != nil && !os.IsNotExist(err) {
			return "", err
		}
	}
	return k.sum(), nil
}

// localRequirementPaths are the tokens of a requirements file that name
// existing local paths (relative to the folder pip runs in, the source).
func localRequirementPaths(src string, data []byte) []string {
	var out []string
	seen := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := sc.Text()
		if i := strings.Index(line, " #"); i >= 0 {
			line = line[:i]
		}
		for _, tok := range strings.Fields(strings.ReplaceAll(line, "=", " ")) {
			tok = strings.TrimPrefix(tok, "file:")
			if tok == "" || strings.HasPrefix(tok, "-") || seen[tok] {
				continue
			}
			p := tok
			if !filepath.IsAbs(p) {
				p = filepath.Join(src, p)
			}
			if _, err := os.Stat(p); err == nil && (strings.ContainsAny(tok, "/\\") || strings.HasSuffix(tok, ".whl") || strings.HasSuffix(tok, ".txt")) {
				seen[tok] = true
				out = append(out, tok)
			}
		}
	}
	sort.Strings(out)
	return out
}

var (
	noDistribution = regexp.MustCompile(`No matching distribution found for (\S+)`)
	offline        = regexp.MustCompile(`NewConnectionError|Max retries exceeded|Temporary failure in name resolution|Network is unreachable`)
)

// lastLines is the last n lines of s.
func lastLines(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// pipInstall installs fn's requirements.txt into
// <project>/.evdeploy/deps/python/<key>, unless that folder exists already: an
// install is complete when it is there (it is renamed into place), so
// unchanged requirements are never installed again.
func (b *Builder) pipInstall(ctx context.Context, fn Function, arch, key string) (string, error) {
	root := filepath.Join(b.Dir, ".evdeploy", "deps", "python")
	dir := filepath.Join(root, key)
	mu := b.folderLock(dir)
	mu.Lock()
	defer mu.Unlock()
	if st, err := os.Stat(dir); err == nil && st.IsDir() {
		return dir, nil
	}
	py := b.PythonCmd
	if py == "" {
		py = "python3"
	}
	if _, err := exec.LookPath(py); err != nil {
		return "", fmt.Errorf("requirements.txt needs pip to install, and %s is not on PATH (install Python 3, or set bundle = false and vendor the dependencies yourself)", py)
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp(root, ".tmp-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	platforms, version := pythonPlatforms(fn.Runtime, arch), pythonVersion(fn.Runtime)
	platform := platforms[0]
	if len(platforms) > 1 {
		platform += " (or " + strings.Join(platforms[1:], ", ") + ")"
	}
	b.logf("%s: installing requirements.txt for %s, CPython %s", fn.Addr, platform, version)
	b.installs.Add(1)
	target := filepath.Join(tmp, "t")
	args := []string{"-m", "pip", "install",
		"--disable-pip-version-check", "--no-input", "--no-compile", "--quiet", "--only-binary=:all:"}
	for _, p := range platforms {
		args = append(args, "--platform", p)
	}
	args = append(args, "--python-version", version, "--implementation", "cp", "--target", target, "-r", "requirements.txt")
	cmd := exec.CommandContext(ctx, py, args...)
	cmd.Dir = fn.Source
	cmd.Env = append(os.Environ(), "PIP_ROOT_USER_ACTION=ignore", "PYTHONDONTWRITEBYTECODE=1")
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		msg := strings.TrimSpace(out.String())
		if offline.MatchString(msg) {
			return "", fmt.Errorf("pip install -r requirements.txt could not reach the package index from %s (offline, or a proxy is needed?); point it at local wheels with --no-index --find-links DIR in requirements.txt, or vendor the dependencies and set bundle = false. pip said:\n%s", fn.Source, lastLines(msg, 4))
		}
		if m := noDistribution.FindStringSubmatch(msg); m != nil {
			return "", fmt.Errorf("requirements.txt: no wheel of %s for %s, CPython %s (Lambda's platform for architecture %s); use a version that publishes such a wheel, or build one. pip said:\n%s",
				m[1], platform, version, arch, msg)
		}
		return "", fmt.Errorf("pip install -r requirements.txt failed in %s: %v\n%s", fn.Source, err, msg)
	}
	if err := cleanInstall(target); err != nil {
		return "", err
	}
	if err := os.Rename(target, dir); err != nil {
		return "", err
	}
	return dir, nil
}

// cleanInstall removes what pip leaves that does not belong in a package or
// would make it depend on the build machine: bytecode caches, console scripts
// (bin/, whose #! lines name this machine's Python) and direct_url.json
// (which records the absolute path of a local wheel or folder).
func cleanInstall(dir string) error {
	if err := os.RemoveAll(filepath.Join(dir, "bin")); err != nil {
		return err
	}
	var remove []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		switch {
		case d.IsDir() && d.Name() == "__pycache__":
			remove = append(remove, p)
			return filepath.SkipDir
		case !d.IsDir() && (strings.HasSuffix(p, ".pyc") || (d.Name() == "direct_url.json" && strings.HasSuffix(filepath.Dir(p), ".dist-info"))):
			remove = append(remove, p)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, p := range remove {
		if err := os.RemoveAll(p); err != nil {
			return err
		}
		if filepath.Base(p) == "direct_url.json" {
			if err := dropRecordLine(filepath.Join(filepath.Dir(p), "RECORD"), filepath.Base(filepath.Dir(p))+"/direct_url.json,"); err != nil {
				return err
			}
		}
	}
	return nil
}

// dropRecordLine removes the line starting with prefix from a dist-info
// RECORD (which lists each installed file with its hash: the removed
// direct_url.json's hash would differ from one machine to the next).
func dropRecordLine(record, prefix string) error {
	data, err := os.ReadFile(record)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	var kept []string
	for _, line := range strings.SplitAfter(string(data), "\n") {
		if !strings.HasPrefix(line, prefix) {
			kept = append(kept, line)
		}
	}
	return os.WriteFile(record, []byte(strings.Join(kept, "")), 0o644)
}
