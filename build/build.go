package build

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/evanw/esbuild/pkg/api"
)

// Function is what the build needs to know about one function block.
type Function struct {
	Addr         string // "function.api", for messages
	Runtime      string // as written in the spec: go, provided.al2023, python3.12, nodejs20.x …
	Source       string // absolute path of the source folder
	Handler      string // as written; "" for go/provided
	Architecture string // arm64 (default when "") or x86_64
	Bundle       Bundle // Node bundling, Python dependency install
	// Debug builds for a debugger (evdeploy dev --debug): Go without
	// optimisations or inlining (-gcflags=all=-N -l), with its DWARF and the
	// sources' real paths (no -s -w, no -trimpath); a Node bundle with its
	// source map.
	Debug bool
}

// Bundle is how a Node function is bundled, and whether dependencies are
// installed (the spec's `bundle` attribute or block).
type Bundle struct {
	// Off (bundle = false) packages the folder as it is: no esbuild, no
	// npm ci, no pip install.
	Off bool
	// External are the module patterns left out of a bundle; nil means
	// DefaultExternal (the AWS SDK v3), an empty list bundles everything.
	External []string
	// SourceMap adds a linked source map (module.js.map) to the bundle.
	SourceMap bool
}

// Artifact is a built package.
type Artifact struct {
	Addr string
	Path string // the zip, inside the build cache
	Size int64
	// SHA256 is base64(sha256(zip)) in standard encoding: exactly what Lambda
	// reports as CodeSha256, so the engine can compare without downloading.
	SHA256 string
	Hex    string // the same digest in hex, for people
	Cached bool   // true when no build happened: the inputs' hash was already built
	// Runtime and Handler are what to deploy: a "go" function is deployed as
	// provided.al2023 with handler bootstrap.
	Runtime string
	Handler string
	// Warnings are problems the package would have at runtime (dependencies
	// declared but not vendored); the caller shows them. Cached builds repeat them.
	Warnings []string
}

// DirectUploadLimit is the largest zip Lambda accepts inline (ZipFile); a
// bigger package must be uploaded through S3.
const DirectUploadLimit = 50 << 20

// NeedsBucket reports whether a must go through an artifacts bucket.
func (a *Artifact) NeedsBucket() bool { return a.Size > DirectUploadLimit }

// Builder builds functions into a per-project cache.
type Builder struct {
	Dir       string // project folder; the cache is Dir/.evdeploy/build
	GoCmd     string // the go command; "go" when empty
	NpmCmd    string // the npm command; "npm" when empty
	PythonCmd string // the Python that runs pip; "python3" when empty
	// Incremental keeps an esbuild context per bundled function, so that
	// rebuilding after an edit re-parses only what changed (for a long-lived
	// process such as evdeploy dev; call Close when done). Bundles are the
	// same bytes either way.
	Incremental bool
	// Log, when set, receives progress lines (printf-style); warnings are not
	// logged but returned in Artifact.Warnings.
	Log func(format string, args ...any)

	mu       sync.Mutex
	goenv    map[string]map[string]string // goEnv's memo
	folders  map[string]*lockedDir        // folderLock's locks
	installs atomic.Int64                 // dependency installs run (Installs)
	esbuild  map[string]api.BuildContext  // Incremental's contexts
}

type lockedDir struct{ sync.Mutex }

// GoRuntime is the Lambda runtime a "go" function is deployed on.
const GoRuntime = "provided.al2023"

// goBuildFlags are the flags of every Go build, also part of the cache key.
var goBuildFlags = []string{"-trimpath", "-buildvcs=false", "-ldflags=-s -w", "-tags", "lambda.norpc"}

// goDebugBuildFlags replace goBuildFlags for Function.Debug.
var goDebugBuildFlags = []string{"-buildvcs=false", "-gcflags=all=-N -l", "-tags", "lambda.norpc"}

// CacheDir is where b keeps artifacts.
func (b *Builder) CacheDir() string { return filepath.Join(b.Dir, ".evdeploy", "build") }

func (b *Builder) logf(format string, args ...any) {
	if b.Log != nil {
		b.Log(format, args...)
	}
}

func (b *Builder) goCmd() string {
	if b.GoCmd == "" {
		return "go"
	}
	return b.GoCmd
}

// manifest sits beside each cached zip; it is what a cache hit returns.
type manifest struct {
	Addr         string   `json:"addr"`
	Runtime      string   `json:"runtime"`
	Architecture string   `json:"architecture"`
	Kind         string   `json:"kind"` // go | zip | bundle
	Size         int64    `json:"size"`
	SHA256       string   `json:"sha256"`
	Hex          string   `json:"hex"`
	Inputs       int      `json:"inputs"` // files hashed into the key
	GoVersion    string   `json:"go_version,omitempty"`
	Warnings     []string `json:"warnings,omitempty"`
	// Extra are inputs found only by building (a bundle's imports from
	// outside its folder): path relative to the source → sha256 hex. A
	// cache hit requires them unchanged.
	Extra map[string]string `json:"extra,omitempty"`
}

// Build packages fn, or returns the cached package when its inputs' hash has
// been built before. Errors name fn.Addr.
func (b *Builder) Build(ctx context.Context, fn Function) (*Artifact, error) {
	a, err := b.build(ctx, fn)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", fn.Addr, err)
	}
	return a, nil
}

func (b *Builder) build(ctx context.Context, fn Function) (*Artifact, error) {
	arch := fn.Architecture
	if arch == "" {
		arch = "arm64"
	}
	if arch != "arm64" && arch != "x86_64" {
		return nil, fmt.Errorf("architecture must be arm64 or x86_64, not %q", fn.Architecture)
	}
	if fn.Runtime == "" {
		return nil, errors.New("runtime is empty")
	}
	if !filepath.IsAbs(fn.Source) {
		return nil, fmt.Errorf("source %q is not an absolute path", fn.Source)
	}
	if info, err := os.Stat(fn.Source); err != nil {
		if os.IsNotExist(err) {
			return nil, fmt.Errorf("source folder %s does not exist", fn.Source)
		}
		return nil, err
	} else if !info.IsDir() {
		return nil, fmt.Errorf("source %s is not a folder", fn.Source)
	}

	if fn.Debug && strings.HasPrefix(fn.Runtime, "nodejs") {
		fn.Bundle.SourceMap = true
	}
	isGo, err := isGoFunction(fn)
	if err != nil {
		return nil, err
	}
	var p plan
	switch {
	case isGo:
		p, err = b.planGo(ctx, fn, arch)
	case strings.HasPrefix(fn.Runtime, "nodejs") && !fn.Bundle.Off:
		p, err = b.planNode(ctx, fn, arch)
	case strings.HasPrefix(fn.Runtime, "python") && !fn.Bundle.Off:
		p, err = b.planPython(ctx, fn, arch)
	default:
		p, err = planZip(fn, arch)
	}
	if err != nil {
		return nil, err
	}

	dir := filepath.Join(b.CacheDir(), functionName(fn.Addr))
	zipPath := filepath.Join(dir, p.key+".zip")
	manPath := filepath.Join(dir, p.key+".json")
	if m, ok := readManifest(manPath, zipPath); ok && extraUnchanged(fn.Source, m.Extra) {
		now := time.Now()
		os.Chtimes(manPath, now, now) // pruneCache keeps the most recently used
		b.logf("%s: cached %s", fn.Addr, m.Hex[:12])
		return artifact(fn, m, zipPath, true), nil
	}

	b.logf("building %s (%s, %s)", fn.Addr, fn.Runtime, arch)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	tmp := ""
	if p.needsTmp {
		if tmp, err = os.MkdirTemp(dir, ".tmp-"); err != nil {
			return nil, err
		}
		defer os.RemoveAll(tmp)
	}
	entries, err := p.produce(ctx, tmp)
	if err != nil {
		return nil, err
	}
	zf, err := os.CreateTemp(dir, ".tmp-*.zip")
	if err != nil {
		return nil, err
	}
	defer os.Remove(zf.Name()) // after a successful rename, a no-op
	h := sha256.New()
	cw := &countWriter{w: io.MultiWriter(zf, h)}
	err = writeZip(cw, entries)
	if cerr := zf.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("writing zip: %w", err)
	}
	sum := h.Sum(nil)
	m := manifest{
		Addr: fn.Addr, Runtime: fn.Runtime, Architecture: arch, Kind: p.kind,
		Size: cw.n, SHA256: base64.StdEncoding.EncodeToString(sum), Hex: hex.EncodeToString(sum),
		Inputs: p.inputs, GoVersion: p.goVersion, Warnings: p.warnings,
	}
	if p.out != nil {
		m.Warnings = append(m.Warnings, p.out.warnings...)
		m.Extra = p.out.extra
	}
	// The zip lands before its manifest, so a manifest always describes a
	// complete zip; both renames are atomic.
	if err := os.Rename(zf.Name(), zipPath); err != nil {
		return nil, err
	}
	if err := writeManifest(manPath, m); err != nil {
		return nil, err
	}
	pruneCache(dir, p.key, keepArtifacts)
	return artifact(fn, m, zipPath, false), nil
}

// BuildAll builds fns with at most parallelism builds at a time (NumCPU when
// <= 0). Functions that differ only in their address (same source folder,
// runtime, handler and build settings) share one build and one package: the
// first of them is built, the others get a copy of its Artifact under their
// own address. Artifacts come back in the order of fns, nil where that
// function failed; the error joins every failure, each naming its function.
func (b *Builder) BuildAll(ctx context.Context, fns []Function, parallelism int) ([]*Artifact, error) {
	if parallelism <= 0 {
		parallelism = runtime.NumCPU()
	}
	// groups[i] lists the indexes of fns sharing the build of fns[groups[i][0]].
	var groups [][]int
	byKey := map[string]int{}
	for i, fn := range fns {
		k := buildKey(fn)
		if g, ok := byKey[k]; ok {
			groups[g] = append(groups[g], i)
			continue
		}
		byKey[k] = len(groups)
		groups = append(groups, []int{i})
	}
	out := make([]*Artifact, len(fns))
	errs := make([]error, len(fns))
	sem := make(chan struct{}, parallelism)
	var wg sync.WaitGroup
	for _, g := range groups {
		wg.Add(1)
		go func() {
			defer wg.Done()
			first := fns[g[0]]
			var a *Artifact
			var err error
			select {
			case sem <- struct{}{}:
				a, err = b.Build(ctx, first)
				<-sem
			case <-ctx.Done():
				err = fmt.Errorf("%s: %w", first.Addr, ctx.Err())
			}
			for _, i := range g {
				switch {
				case err != nil && i == g[0]:
					errs[i] = err
				case err != nil:
					errs[i] = fmt.Errorf("%s: shares the build of %s, which failed", fns[i].Addr, first.Addr)
				default:
					c := *a
					c.Addr = fns[i].Addr
					c.Warnings = slices.Clone(a.Warnings)
					out[i] = &c
				}
			}
		}()
	}
	wg.Wait()
	return out, errors.Join(errs...)
}

// buildKey is what decides a function's package: everything but its address.
// New build settings in Function take part without a change here.
func buildKey(fn Function) string {
	fn.Addr = ""
	data, err := json.Marshal(fn)
	if err != nil { // cannot happen for a struct of plain fields
		panic(err)
	}
	return string(data)
}

// plan is how one function becomes zip entries, and the key of its inputs.
type plan struct {
	kind      string // go | zip
	key       string // hex sha256 of every input
	inputs    int
	goVersion string
	warnings  []string
	needsTmp  bool // produce needs a scratch folder
	produce   func(ctx context.Context, tmp string) ([]zipEntry, error)
	out       *produced // what produce learnt, when it can learn anything
}

// produced is what a build finds out only by building: warnings and inputs
// outside the key (see manifest.Extra).
type produced struct {
	warnings []string
	extra    map[string]string
}

// extraUnchanged reports whether the recorded extra inputs still hash alike.
func extraUnchanged(src string, extra map[string]string) bool {
	for rel, want := range extra {
		if got, err := fileSHA(filepath.Join(src, filepath.FromSlash(rel))); err != nil || got != want {
			return false
		}
	}
	return true
}

// planZip zips the folder as it is (Python, Node, and provided.* runtimes
// without Go code).
func planZip(fn Function, arch string) (plan, error) {
	files, err := collectFiles(fn.Source)
	if err != nil {
		return plan{}, err
	}
	if len(files) == 0 {
		return plan{}, fmt.Errorf("source folder %s has no files to package", fn.Source)
	}
	warnings, err := dependencyWarnings(fn, arch, files)
	if err != nil {
		return plan{}, err
	}
	k := newKey("zip", fn.Runtime, arch)
	for _, f := range files {
		if err := k.file(f.Rel, f.Abs, f.Exec); err != nil {
			return plan{}, err
		}
	}
	return plan{
		kind: "zip", key: k.sum(), inputs: len(files), warnings: warnings,
		produce: func(context.Context, string) ([]zipEntry, error) {
			entries := make([]zipEntry, len(files))
			for i, f := range files {
				entries[i] = zipEntry{Name: f.Rel, Path: f.Abs, Exec: f.Exec}
			}
			return entries, nil
		},
	}, nil
}

// cacheKey hashes a build's inputs as a sequence of length-prefixed fields, so
// that no two different input lists hash alike.
type cacheKey struct{ h hash.Hash }

func newKey(kind, rt, arch string) *cacheKey {
	k := &cacheKey{h: sha256.New()}
	k.add(formatVersion, kind, rt, arch)
	return k
}

func (k *cacheKey) add(fields ...string) {
	for _, f := range fields {
		fmt.Fprintf(k.h, "%d:%s;", len(f), f)
	}
}

// file adds a file's path, mode class and content.
func (k *cacheKey) file(rel, abs string, exec bool) error {
	f, err := os.Open(abs)
	if err != nil {
		return err
	}
	defer f.Close()
	ch := sha256.New()
	if _, err := io.Copy(ch, f); err != nil {
		return err
	}
	mode := "f"
	if exec {
		mode = "x"
	}
	k.add("file", rel, mode, hex.EncodeToString(ch.Sum(nil)))
	return nil
}

func (k *cacheKey) sum() string { return hex.EncodeToString(k.h.Sum(nil)) }

// functionName is the cache folder of a function: its name without "function.".
func functionName(addr string) string {
	name := strings.TrimPrefix(addr, "function.")
	name = strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == 0 {
			return '_'
		}
		return r
	}, name)
	if name == "" || name == "." || name == ".." {
		name = "_"
	}
	return name
}

func artifact(fn Function, m manifest, zipPath string, cached bool) *Artifact {
	a := &Artifact{
		Addr: fn.Addr, Path: zipPath, Size: m.Size, SHA256: m.SHA256, Hex: m.Hex,
		Cached: cached, Runtime: fn.Runtime, Handler: fn.Handler, Warnings: m.Warnings,
	}
	if fn.Runtime == "go" {
		a.Runtime = GoRuntime
	}
	if fn.Runtime == "go" || strings.HasPrefix(fn.Runtime, "provided") {
		a.Handler = "bootstrap"
	}
	return a
}

func readManifest(manPath, zipPath string) (manifest, bool) {
	data, err := os.ReadFile(manPath)
	if err != nil {
		return manifest{}, false
	}
	var m manifest
	if json.Unmarshal(data, &m) != nil || m.SHA256 == "" || len(m.Hex) != sha256.Size*2 {
		return manifest{}, false
	}
	// A zip truncated or replaced behind our back is rebuilt.
	if info, err := os.Stat(zipPath); err != nil || info.Size() != m.Size {
		return manifest{}, false
	}
	return m, true
}

func writeManifest(path string, m manifest) error {
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(data, '\n'), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// keepArtifacts is how many builds of one function the cache keeps, so that
// switching back and forth (an architecture, a branch) does not rebuild.
const keepArtifacts = 4

// pruneCache removes all but the newest keep artifacts of a function.
func pruneCache(dir, current string, keep int) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	type built struct {
		key string
		mod int64
	}
	var all []built
	for _, e := range ents {
		// Scratch files of a build that was killed.
		if strings.HasPrefix(e.Name(), ".tmp-") {
			if info, err := e.Info(); err == nil && time.Since(info.ModTime()) > time.Hour {
				os.RemoveAll(filepath.Join(dir, e.Name()))
			}
			continue
		}
		key, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok || key == current {
			continue
		}
		if info, err := e.Info(); err == nil {
			all = append(all, built{key, info.ModTime().UnixNano()})
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].mod > all[j].mod })
	for i, old := range all {
		if i < keep-1 {
			continue
		}
		os.Remove(filepath.Join(dir, old.key+".json"))
		os.Remove(filepath.Join(dir, old.key+".zip"))
	}
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
