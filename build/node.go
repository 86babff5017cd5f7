package build

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strings"

	"github.com/evanw/esbuild/pkg/api"
)

// DefaultExternal is what a bundle leaves out when the spec does not say
// (bundle { external = [...] }): the AWS SDK v3, which Node 18+ runtimes
// provide.
var DefaultExternal = []string{"@aws-sdk/*"}

// nodeEntryExts are the handler module's extensions a bundle starts from, in
// order of preference (TypeScript first: a compiled .js beside it is stale
// output, not the source).
var nodeEntryExts = []string{".ts", ".mts", ".cts", ".js", ".mjs", ".cjs"}

// esmBanner gives an ES module bundle a require(), so that CommonJS
// dependencies that require() Node's built-ins keep working once bundled
// into ESM (esbuild cannot turn those calls into imports).
const esmBanner = "import { createRequire as __evdeployCreateRequire } from 'node:module';\nconst require = __evdeployCreateRequire(import.meta.url);"

// nodeEntry finds the handler's module in src: for handler "lib/index.handler"
// the first of lib/index.ts, .mts, .cts, .js, .mjs, .cjs that exists.
func nodeEntry(src, handler string) (string, error) {
	i := strings.LastIndex(handler, ".")
	if i <= 0 {
		return "", fmt.Errorf("handler %q is not module.function", handler)
	}
	module := handler[:i]
	for _, ext := range nodeEntryExts {
		rel := module + ext
		if st, err := os.Stat(filepath.Join(src, filepath.FromSlash(rel))); err == nil && st.Mode().IsRegular() {
			return rel, nil
		}
	}
	return "", fmt.Errorf("handler %q: no %s.ts, .mts, .js, .mjs or .cjs in %s", handler, module, src)
}

// nodeFormat is the module kind of the bundle: .mjs/.mts are ES modules,
// .cjs/.cts CommonJS, and .js/.ts follow package.json's "type", as Node does.
// The output file is named so that Lambda loads it as that kind without a
// package.json: module.mjs for ESM, module.js for CommonJS.
func nodeFormat(src, entry string) (api.Format, string, error) {
	module := strings.TrimSuffix(entry, path.Ext(entry))
	switch path.Ext(entry) {
	case ".mjs", ".mts":
		return api.FormatESModule, module + ".mjs", nil
	case ".cjs", ".cts":
		return api.FormatCommonJS, module + ".js", nil
	}
	data, err := os.ReadFile(filepath.Join(src, "package.json"))
	if err != nil && !os.IsNotExist(err) {
		return 0, "", err
	}
	if err == nil {
		var pkg struct {
			Type string `json:"type"`
		}
		if err := json.Unmarshal(data, &pkg); err != nil {
			return 0, "", fmt.Errorf("%s: %w", filepath.Join(src, "package.json"), err)
		}
		if pkg.Type == "module" {
			return api.FormatESModule, module + ".mjs", nil
		}
	}
	return api.FormatCommonJS, module + ".js", nil
}

// nodeVersion is the Node major version of a nodejsNN.x runtime.
func nodeVersion(rt string) string {
	v := strings.TrimSuffix(strings.TrimPrefix(rt, "nodejs"), ".x")
	if v == "" {
		return "18"
	}
	return v
}

// esbuildVersion is the esbuild module this binary was built with: part of
// every bundle's cache key, since another esbuild may emit other bytes.
var esbuildVersion = func() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == "github.com/evanw/esbuild" {
				if d.Replace != nil {
					return d.Replace.Path + "@" + d.Replace.Version
				}
				return d.Version
			}
		}
	}
	return "unknown"
}()

// nodeLockMarkers are the files a package manager leaves in node_modules to
// describe what it installed; their content stands for node_modules in a
// bundle's cache key (hashing thousands of dependency files on every build
// would cost more than the bundle).
var nodeLockMarkers = []string{".package-lock.json", ".modules.yaml", ".yarn-state.yml", ".yarn-integrity"}

// planNode bundles a Node or TypeScript handler with esbuild: the handler's
// module is the entry, dependencies are resolved from the folder's
// node_modules (installed first with npm ci when package-lock.json says they
// are missing or out of date), and the zip holds the bundle (and its source
// map) only.
//
// Cache key: the bundle settings and esbuild's version; every file of the
// folder except node_modules/ (after ignore rules: sources, package.json,
// lockfiles); and the package manager's record of node_modules (its hidden
// lockfile). Files imported from outside the folder are recorded after the
// build and checked on every cache hit (see manifest.Extra).
func (b *Builder) planNode(ctx context.Context, fn Function, arch string) (plan, error) {
	entry, err := nodeEntry(fn.Source, fn.Handler)
	if err != nil {
		return plan{}, err
	}
	format, outName, err := nodeFormat(fn.Source, entry)
	if err != nil {
		return plan{}, err
	}
	if err := b.npmInstall(ctx, fn); err != nil {
		return plan{}, err
	}
	files, err := collectFilesSkip(fn.Source, func(rel string) bool { return rel == "node_modules" })
	if err != nil {
		return plan{}, err
	}
	external := fn.Bundle.External
	if external == nil {
		external = DefaultExternal
	}
	k := newKey("bundle", fn.Runtime, arch)
	k.add("esbuild", esbuildVersion, "entry", entry, "out", outName, fmt.Sprint("format", int(format)),
		fmt.Sprint("sourcemap", fn.Bundle.SourceMap), "external", fmt.Sprint(len(external)))
	k.add(external...)
	for _, f := range files {
		if err := k.file(f.Rel, f.Abs, f.Exec); err != nil {
			return plan{}, err
		}
	}
	for _, m := range nodeLockMarkers {
		p := filepath.Join(fn.Source, "node_modules", m)
		if _, err := os.Stat(p); err == nil {
			if err := k.file("node_modules/"+m, p, false); err != nil {
				return plan{}, err
			}
		}
	}
	out := &produced{}
	return plan{
		kind: "bundle", key: k.sum(), inputs: len(files), out: out,
		produce: func(ctx context.Context, _ string) ([]zipEntry, error) {
			entries, warnings, extra, err := b.bundle(fn, entry, outName, format, external)
			if err != nil {
				return nil, err
			}
			out.warnings, out.extra = warnings, extra
			return entries, nil
		},
	}, nil
}

// bundle runs esbuild in-process. Paths in the output (comments naming each
// module, source map sources) are relative to the source folder, so the bytes
// do not depend on where the folder is.
func (b *Builder) bundle(fn Function, entry, outName string, format api.Format, external []string) ([]zipEntry, []string, map[string]string, error) {
	opts := api.BuildOptions{
		EntryPoints:    []string{entry},
		AbsWorkingDir:  fn.Source,
		Outfile:        filepath.Join(fn.Source, filepath.FromSlash(outName)),
		AllowOverwrite: true, // nothing is written (Write is false); the entry may be index.js itself
		Write:          false,
		Bundle:         true,
		Platform:       api.PlatformNode,
		Format:         format,
		Engines:        []api.Engine{{Name: api.EngineNode, Version: nodeVersion(fn.Runtime)}},
		TreeShaking:    api.TreeShakingTrue,
		External:       external,
		Metafile:       true,
		LogLevel:       api.LogLevelSilent,
		Charset:        api.CharsetUTF8,
	}
	if format == api.FormatESModule {
		opts.Banner = map[string]string{"js": esmBanner}
	}
	if fn.Bundle.SourceMap {
		opts.Sourcemap = api.SourceMapLinked
		opts.SourcesContent = api.SourcesContentInclude
	}
	res, err := b.runEsbuild(fn.Source+"\x00"+entry, opts)
	if err != nil {
		return nil, nil, nil, err
	}
	if len(res.Errors) > 0 {
		var lines []string
		for _, m := range res.Errors {
			lines = append(lines, esbuildMessage(m))
		}
		return nil, nil, nil, fmt.Errorf("bundling %s failed:\n%s", entry, strings.Join(lines, "\n"))
	}
	var warnings []string
	for _, m := range res.Warnings {
		// Dependencies' own warnings (a require() esbuild cannot follow in
		// some library) are not the user's to fix; theirs are.
		if m.Location != nil && strings.Contains("/"+filepath.ToSlash(m.Location.File), "/node_modules/") {
			continue
		}
		warnings = append(warnings, fn.Addr+": "+esbuildMessage(m))
	}
	var entries []zipEntry
	for _, of := range res.OutputFiles {
		rel, err := filepath.Rel(fn.Source, of.Path)
		if err != nil || strings.HasPrefix(rel, "..") {
			return nil, nil, nil, fmt.Errorf("esbuild wrote %s outside the package", of.Path)
		}
		entries = append(entries, zipEntry{Name: filepath.ToSlash(rel), Data: of.Contents})
	}
	extra, err := outsideInputs(fn.Source, res.Metafile)
	if err != nil {
		return nil, nil, nil, err
	}
	return entries, warnings, extra, nil
}

// runEsbuild builds opts once, or, when the Builder is Incremental, through
// an esbuild context kept per function folder and entry: a rebuild after an
// edit re-parses only the changed files (dependencies stay parsed).
func (b *Builder) runEsbuild(id string, opts api.BuildOptions) (api.BuildResult, error) {
	if !b.Incremental {
		return api.Build(opts), nil
	}
	// The options are part of the context's identity: the same folder and
	// entry with other settings (or a format change) is another context.
	key := id + "\x00" + fmt.Sprintf("%v %v %v %v", opts.Format, opts.External, opts.Sourcemap, opts.Engines)
	b.mu.Lock()
	if b.esbuild == nil {
		b.esbuild = map[string]api.BuildContext{}
	}
	ctx := b.esbuild[key]
	b.mu.Unlock()
	if ctx == nil {
		c, cerr := api.Context(opts)
		if cerr != nil {
			return api.BuildResult{}, fmt.Errorf("esbuild: %v", cerr)
		}
		b.mu.Lock()
		if prev := b.esbuild[key]; prev != nil {
			c.Dispose()
			c = prev
		} else {
			b.esbuild[key] = c
		}
		b.mu.Unlock()
		ctx = c
	}
	return ctx.Rebuild(), nil
}

// Close releases what an Incremental Builder keeps between builds.
func (b *Builder) Close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for k, c := range b.esbuild {
		c.Dispose()
		delete(b.esbuild, k)
	}
}

// esbuildMessage is "file:line:col: text", then esbuild's notes (what to do
// about an unresolved import, say), indented.
func esbuildMessage(m api.Message) string {
	var b strings.Builder
	if l := m.Location; l != nil {
		fmt.Fprintf(&b, "%s:%d:%d: ", l.File, l.Line, l.Column+1)
	}
	b.WriteString(m.Text)
	for _, n := range m.Notes {
		if n.Text == "" {
			continue
		}
		b.WriteString("\n  ")
		if l := n.Location; l != nil {
			fmt.Fprintf(&b, "%s:%d:%d: ", l.File, l.Line, l.Column+1)
		}
		b.WriteString(strings.TrimSuffix(n.Text, ":"))
	}
	return b.String()
}

// outsideInputs lists, with their content hashes, the bundle's inputs that
// lie outside the source folder and outside any node_modules (a monorepo's
// shared code imported as ../lib/x.ts): they are not in the cache key, which
// is computed before bundling, so a cache hit checks them instead.
func outsideInputs(src, metafile string) (map[string]string, error) {
	var meta struct {
		Inputs map[string]json.RawMessage `json:"inputs"`
	}
	if err := json.Unmarshal([]byte(metafile), &meta); err != nil {
		return nil, fmt.Errorf("esbuild metafile: %w", err)
	}
	var out map[string]string
	for in := range meta.Inputs {
		if !strings.HasPrefix(in, "../") || strings.Contains("/"+in, "/node_modules/") || strings.Contains(in, ":") {
			continue
		}
		sum, err := fileSHA(filepath.Join(src, filepath.FromSlash(in)))
		if err != nil {
			return nil, err
		}
		if out == nil {
			out = map[string]string{}
		}
		out[in] = sum
	}
	return out, nil
}

func fileSHA(p string) (string, error) {
	data, err := os.ReadFile(p)
	if err != nil {
		return "", err
	}
	s := sha256.Sum256(data)
	return hex.EncodeToString(s[:]), nil
}

// npmInstall makes the folder's node_modules match its package-lock.json:
// `npm ci --omit=dev` runs when node_modules is missing or describes other
// packages than the lockfile, and never when it matches (so an unchanged
// lockfile is never reinstalled). Without a lockfile nothing is installed;
// dependencies declared in package.json but absent from node_modules are an
// error, since installing without a lockfile would not be reproducible.
func (b *Builder) npmInstall(ctx context.Context, fn Function) error {
	mu := b.folderLock(fn.Source)
	mu.Lock()
	defer mu.Unlock()

	lockPath := filepath.Join(fn.Source, "package-lock.json")
	lock, err := os.ReadFile(lockPath)
	if os.IsNotExist(err) {
		return missingLockfile(fn.Source)
	}
	if err != nil {
		return err
	}
	want, err := lockPackages(lock, false)
	if err != nil {
		return fmt.Errorf("%s: %w", lockPath, err)
	}
	if len(want) == 0 {
		return nil
	}
	hidden, err := os.ReadFile(filepath.Join(fn.Source, "node_modules", ".package-lock.json"))
	if err == nil {
		have, err := lockPackages(hidden, true)
		if err == nil && covers(have, want) {
			return nil
		}
	}
	npm := b.NpmCmd
	if npm == "" {
		npm = "npm"
	}
	if _, err := exec.LookPath(npm); err != nil {
		return fmt.Errorf("node_modules in %s is missing or does not match package-lock.json, and npm is not on PATH to install it (install Node.js, or run `npm ci` there yourself)", fn.Source)
	}
	b.logf("%s: installing npm dependencies (npm ci --omit=dev) in %s", fn.Addr, fn.Source)
	b.installs.Add(1)
	cmd := exec.CommandContext(ctx, npm, "ci", "--omit=dev", "--no-audit", "--no-fund", "--loglevel=error")
	cmd.Dir = fn.Source
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("npm ci failed in %s: %v\n%s", fn.Source, err, strings.TrimSpace(out.String()))
	}
	return nil
}

// missingLockfile is nil when a folder without package-lock.json needs no
// install: package.json declares no dependencies, or node_modules is there
// (put by the user, yarn or pnpm; esbuild resolves from it as it is).
func missingLockfile(src string) error {
	data, err := os.ReadFile(filepath.Join(src, "package.json"))
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	var pkg struct {
		Dependencies map[string]string `json:"dependencies"`
	}
	if err := json.Unmarshal(data, &pkg); err != nil {
		return fmt.Errorf("%s: %w", filepath.Join(src, "package.json"), err)
	}
	if len(pkg.Dependencies) == 0 {
		return nil
	}
	if st, err := os.Stat(filepath.Join(src, "node_modules")); err == nil && st.IsDir() {
		return nil
	}
	names := make([]string, 0, len(pkg.Dependencies))
	for n := range pkg.Dependencies {
		names = append(names, n)
	}
	sort.Strings(names)
	return fmt.Errorf("package.json depends on %s, but %s has no package-lock.json (and no node_modules): run `npm install` there to create the lockfile. evdeploy installs only from a lockfile (npm ci), so that every build gets the same versions",
		listSome(names), src)
}

// lockPackages reads a package-lock.json (v2/v3) or npm's hidden lockfile
// (node_modules/.package-lock.json) into installed path → version. From a
// lockfile, only what `npm ci --omit=dev` installs on every platform counts:
// dev and optional packages are left out (optional ones are often for
// another OS or CPU and never installed here).
func lockPackages(data []byte, hidden bool) (map[string]string, error) {
	var lf struct {
		LockfileVersion int `json:"lockfileVersion"`
		Packages        map[string]struct {
			Version  string `json:"version"`
			Resolved string `json:"resolved"`
			Link     bool   `json:"link"`
			Dev      bool   `json:"dev"`
			Optional bool   `json:"optional"`
		} `json:"packages"`
	}
	if err := json.Unmarshal(data, &lf); err != nil {
		return nil, err
	}
	if !hidden && lf.LockfileVersion < 2 {
		return nil, fmt.Errorf("lockfileVersion %d is too old (npm 6); run `npm install` with npm 7 or later to upgrade it", lf.LockfileVersion)
	}
	out := map[string]string{}
	for p, e := range lf.Packages {
		if !strings.HasPrefix(p, "node_modules/") && !strings.Contains(p, "/node_modules/") {
			continue // the root package, or a workspace folder
		}
		if !hidden && (e.Dev || e.Optional) {
			continue
		}
		v := e.Version
		if e.Link {
			v = "link:" + e.Resolved
		}
		out[p] = v
	}
	return out, nil
}

// covers reports whether every package in want is installed at its version.
func covers(have, want map[string]string) bool {
	for p, v := range want {
		if have[p] != v {
			return false
		}
	}
	return true
}

// Installs counts dependency installs (npm ci, pip install) this Builder ran:
// a cache that works keeps it at zero when nothing changed.
func (b *Builder) Installs() int64 { return b.installs.Load() }

// folderLock serialises installs in one folder: two functions sharing a
// source folder must not run npm ci in it at the same time.
func (b *Builder) folderLock(dir string) *lockedDir {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.folders == nil {
		b.folders = map[string]*lockedDir{}
	}
	l := b.folders[dir]
	if l == nil {
		l = &lockedDir{}
		b.folders[dir] = l
	}
	return l
}
