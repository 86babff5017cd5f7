package build

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

// isGoFunction reports whether fn is built with the Go toolchain: runtime "go",
// or a provided.* runtime whose folder holds Go code (otherwise a provided.*
// folder is zipped as it is, with its own bootstrap).
func isGoFunction(fn Function) (bool, error) {
	if fn.Runtime == "go" {
		return true, nil
	}
	if !strings.HasPrefix(fn.Runtime, "provided") {
		return false, nil
	}
	ents, err := os.ReadDir(fn.Source)
	if err != nil {
		return false, err
	}
	for _, e := range ents {
		n := e.Name()
		if !e.IsDir() && strings.HasSuffix(n, ".go") && !strings.HasSuffix(n, "_test.go") {
			return true, nil
		}
	}
	return false, nil
}

// goArch maps a Lambda architecture to GOARCH.
func goArch(arch string) string {
	if arch == "x86_64" {
		return "amd64"
	}
	return "arm64"
}

// goEnvKeys are the toolchain settings that can change a binary; their values
// are part of the cache key.
var goEnvKeys = []string{"GOVERSION", "GOMODCACHE", "GOROOT", "GOWORK", "GOFLAGS", "GOEXPERIMENT", "GOAMD64", "GOARM64", "GOTOOLCHAIN"}

// goPackage is the part of `go list -json` the cache key needs.
type goPackage struct {
	Dir        string
	ImportPath string
	Name       string
	Standard   bool
	DepOnly    bool
	GoFiles    []string
	SFiles     []string
	HFiles     []string
	SysoFiles  []string
	EmbedFiles []string
	Module     *goModule
	Error      *struct{ Err string }
}

type goModule struct {
	Path    string
	Version string
	Main    bool
	Dir     string
	GoMod   string
	Replace *goModule
}

// planGo cross-compiles the main package in fn.Source. The working directory
// is the source folder, so the go.mod that governs it is used whether the
// folder is a package of a bigger module or a module of its own.
//
// Cache key: the toolchain settings (goEnvKeys), the build flags, and, for
// every package the main package depends on (`go list -deps`): the content of
// its Go, assembly and embedded files when it lives outside the module cache
// (the main module, local replaces, vendor/), or its module path@version when
// it lives in the module cache (immutable, and verified by go.sum), plus every
// involved go.mod and go.sum (and go.work). Files of the module that the main
// package does not import do not trigger a rebuild.
func (b *Builder) planGo(ctx context.Context, fn Function, arch string) (plan, error) {
	env := append(os.Environ(), "GOOS=linux", "GOARCH="+goArch(arch), "CGO_ENABLED=0")
	goenv, err := b.goEnv(ctx, fn.Source, arch, env)
	if err != nil {
		return plan{}, err
	}
	out, err := b.runGo(ctx, fn.Source, env, "list", "-e", "-deps", "-tags", "lambda.norpc",
		"-json=Dir,ImportPath,Name,Standard,DepOnly,GoFiles,SFiles,HFiles,SysoFiles,EmbedFiles,Module,Error", ".")
	if err != nil {
		return plan{}, err
	}
	var pkgs []goPackage
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p goPackage
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return plan{}, fmt.Errorf("go list: %w", err)
		}
		pkgs = append(pkgs, p)
	}
	var root *goPackage
	for i := range pkgs {
		if !pkgs[i].DepOnly {
			root = &pkgs[i]
		}
	}
	if root == nil {
		return plan{}, fmt.Errorf("go list found no package in %s", fn.Source)
	}
	// A package with errors goes on to go build, whose compiler output says
	// more than go list does.
	if root.Error == nil && root.Name != "main" {
		return plan{}, fmt.Errorf("%s holds Go package %q; a Go function's source must be a main package", fn.Source, root.Name)
	}

	k := newKey("go", fn.Runtime, arch)
	flags := goBuildFlags
	k.add(flags...)
	if fn.Debug {
		flags = goDebugBuildFlags
		// Without -trimpath the binary names the sources where they are.
		k.add("debug", fn.Source)
		k.add(flags...)
	}
	for _, key := range goEnvKeys {
		k.add(key, goenv[key])
	}
	modCache := goenv["GOMODCACHE"]
	base := fn.Source // paths in the key are relative to the main module's root
	if root.Module != nil && root.Module.Dir != "" {
		base = root.Module.Dir
	}
	rel := func(p string) string {
		if r, err := filepath.Rel(base, p); err == nil {
			return filepath.ToSlash(r)
		}
		return p
	}
	inputs := 0
	modFiles := map[string]bool{}
	sort.Slice(pkgs, func(i, j int) bool { return pkgs[i].ImportPath < pkgs[j].ImportPath })
	for _, p := range pkgs {
		switch {
		case p.Standard:
			k.add("std", p.ImportPath) // its content is GOVERSION's
		case modCache != "" && strings.HasPrefix(p.Dir, modCache+string(filepath.Separator)):
			m := p.Module
			if m == nil {
				k.add("mod", p.ImportPath, p.Dir)
				continue
			}
			if m.Replace != nil {
				m = m.Replace
			}
			k.add("mod", p.ImportPath, m.Path+"@"+m.Version)
		default:
			k.add("pkg", p.ImportPath)
			var names []string
			for _, list := range [][]string{p.GoFiles, p.SFiles, p.HFiles, p.SysoFiles, p.EmbedFiles} {
				names = append(names, list...)
			}
			sort.Strings(names)
			for _, n := range names {
				abs := filepath.Join(p.Dir, n)
				if err := k.file(rel(abs), abs, false); err != nil {
					return plan{}, err
				}
				inputs++
			}
			if m := p.Module; m != nil {
				if m.Replace != nil {
					m = m.Replace
				}
				if m.GoMod != "" {
					modFiles[m.GoMod] = true
					modFiles[filepath.Join(filepath.Dir(m.GoMod), "go.sum")] = true
				}
			}
		}
	}
	if w := goenv["GOWORK"]; w != "" && w != "off" {
		modFiles[w] = true
		modFiles[w+".sum"] = true
	}
	var mods []string
	for m := range modFiles {
		mods = append(mods, m)
	}
	sort.Strings(mods)
	for _, m := range mods {
		if _, err := os.Stat(m); os.IsNotExist(err) {
			k.add("absent", rel(m))
			continue
		}
		if err := k.file(rel(m), m, false); err != nil {
			return plan{}, err
		}
		inputs++
	}

	return plan{
		kind: "go", key: k.sum(), inputs: inputs, goVersion: goenv["GOVERSION"], needsTmp: true,
		produce: func(ctx context.Context, tmp string) ([]zipEntry, error) {
			bin := filepath.Join(tmp, "bootstrap")
			args := append([]string{"build"}, flags...)
			args = append(args, "-o", bin, ".")
			if _, err := b.runGo(ctx, fn.Source, env, args...); err != nil {
				return nil, err
			}
			return []zipEntry{{Name: "bootstrap", Path: bin, Exec: true}}, nil
		},
	}, nil
}

// goEnv returns the goEnvKeys values for building in dir. They are the same
// for every folder of one module (go env reads the environment, the go env
// file and go.work found from the module), so they are asked once per module
// root and architecture.
func (b *Builder) goEnv(ctx context.Context, dir, arch string, env []string) (map[string]string, error) {
	key := arch + "\x00" + moduleRoot(dir)
	b.mu.Lock()
	cached, ok := b.goenv[key]
	b.mu.Unlock()
	if ok {
		return cached, nil
	}
	out, err := b.runGo(ctx, dir, env, append([]string{"env", "-json"}, goEnvKeys...)...)
	if err != nil {
		return nil, err
	}
	var goenv map[string]string
	if err := json.Unmarshal(out, &goenv); err != nil {
		return nil, fmt.Errorf("go env: %w", err)
	}
	b.mu.Lock()
	if b.goenv == nil {
		b.goenv = map[string]map[string]string{}
	}
	b.goenv[key] = goenv
	b.mu.Unlock()
	return goenv, nil
}

// moduleRoot is the nearest folder at or above dir holding a go.mod, or dir.
func moduleRoot(dir string) string {
	for d := dir; ; {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
		parent := filepath.Dir(d)
		if parent == d {
			return dir
		}
		d = parent
	}
}

// runGo runs the go command in dir and returns its standard output; on failure
// the error carries everything the command printed, compiler errors included.
func (b *Builder) runGo(ctx context.Context, dir string, env []string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, b.goCmd(), args...)
	cmd.Dir = dir
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = strings.TrimSpace(stdout.String())
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("go %s failed in %s: %v\n%s", args[0], dir, err, msg)
	}
	return stdout.Bytes(), nil
}
