package build

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/evdeploy/evdeploy/internal/pkgfixture"
)

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// tsFunction writes pkgfixture's TypeScript function (handler.ts importing
// the npm package tiny-shout from a local tarball, with its lockfile).
func tsFunction(tb testing.TB, dir string) {
	tb.Helper()
	if err := pkgfixture.TSFunction(dir); err != nil {
		tb.Fatal(err)
	}
}

func needNpm(tb testing.TB) {
	tb.Helper()
	if _, err := exec.LookPath("npm"); err != nil {
		tb.Skip("npm is not on PATH")
	}
}

// zipFiles reads a zip into name → content.
func zipFiles(tb testing.TB, path string) map[string]string {
	tb.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer zr.Close()
	out := map[string]string{}
	for _, f := range zr.File {
		r, err := f.Open()
		if err != nil {
			tb.Fatal(err)
		}
		b, err := io.ReadAll(r)
		r.Close()
		if err != nil {
			tb.Fatal(err)
		}
		out[f.Name] = string(b)
	}
	return out
}

// TestBundleTypeScript: a TypeScript handler importing an npm package is
// installed (npm ci, once), bundled and tree-shaken into handler.js; the
// bundle is byte-identical from two folders; an edit rebuilds without
// reinstalling; nothing changed is a cache hit with no install; a changed
// lockfile installs again.
func TestBundleTypeScript(t *testing.T) {
	needNpm(t)
	t.Parallel()
	ctx := context.Background()
	var blobs [][]byte
	var dirs []string
	var builders []*Builder
	var paths []string
	for i := range 2 {
		dir := filepath.Join(t.TempDir(), fmt.Sprintf("checkout-%d", i), "fn")
		tsFunction(t, dir)
		b := &Builder{Dir: t.TempDir()}
		a, err := b.Build(ctx, Function{Addr: "function.greet", Runtime: "nodejs20.x", Source: dir, Handler: "handler.handler"})
		if err != nil {
			t.Fatal(err)
		}
		if a.Cached || b.Installs() != 1 {
			t.Fatalf("first build: cached=%v installs=%d; want a build with one npm ci", a.Cached, b.Installs())
		}
		data, err := os.ReadFile(a.Path)
		if err != nil {
			t.Fatal(err)
		}
		files := zipFiles(t, a.Path)
		if diff := cmp.Diff([]string{"handler.js"}, sortedKeys(files)); diff != "" {
			t.Errorf("zip entries (-want +got):\n%s", diff)
		}
		js := files["handler.js"]
		for _, want := range []string{"toUpperCase", "module.exports", "node_modules/tiny-shout/index.js"} {
			if !strings.Contains(js, want) {
				t.Errorf("bundle lacks %q:\n%s", want, js)
			}
		}
		for _, bad := range []string{"tree-shaken away", dir, "interface Event", "require(\"tiny-shout\")"} {
			if strings.Contains(js, bad) {
				t.Errorf("bundle contains %q:\n%s", bad, js)
			}
		}
		blobs = append(blobs, data)
		paths = append(paths, a.Path)
		dirs = append(dirs, dir)
		builders = append(builders, b)
	}
	if !bytes.Equal(blobs[0], blobs[1]) {
		t.Fatalf("bundles from two folders differ:\n%v\n---\n%v", zipFiles(t, paths[0]), zipFiles(t, paths[1]))
	}

	b, dir := builders[0], dirs[0]
	fn := Function{Addr: "function.greet", Runtime: "nodejs20.x", Source: dir, Handler: "handler.handler"}
	a, err := b.Build(ctx, fn)
	if err != nil || !a.Cached || b.Installs() != 1 {
		t.Fatalf("unchanged: cached=%v installs=%d err=%v; want a cache hit and no install", a != nil && a.Cached, b.Installs(), err)
	}
	// A fresh Builder (a new evdeploy process) finds node_modules up to date.
	b2 := &Builder{Dir: b.Dir}
	if a, err := b2.Build(ctx, fn); err != nil || !a.Cached || b2.Installs() != 0 {
		t.Fatalf("new process, unchanged: cached=%v installs=%d err=%v", a != nil && a.Cached, b2.Installs(), err)
	}

	src := filepath.Join(dir, "handler.ts")
	edited := strings.Replace(readString(t, src), `"hello "`, `"bye "`, 1)
	if err := os.WriteFile(src, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	a, err = b.Build(ctx, fn)
	if err != nil || a.Cached || b.Installs() != 1 {
		t.Fatalf("after an edit: cached=%v installs=%d err=%v; want a rebuild without install", a != nil && a.Cached, b.Installs(), err)
	}
	if js := zipFiles(t, a.Path)["handler.js"]; !strings.Contains(js, `"bye "`) {
		t.Errorf("the edit is not in the bundle:\n%s", js)
	}

	// The lockfile moves on (tiny-shout upgraded) while node_modules still
	// holds the old version: npm ci runs again, and the bundle has the new code.
	if err := pkgfixture.TSFunctionWith(dir, "1.1.0", "!!"); err != nil {
		t.Fatal(err)
	}
	a, err = b.Build(ctx, fn)
	if err != nil || a.Cached || b.Installs() != 2 {
		t.Fatalf("lockfile upgraded: cached=%v installs=%d err=%v; want npm ci again and a rebuild", a != nil && a.Cached, b.Installs(), err)
	}
	if js := zipFiles(t, a.Path)["handler.js"]; !strings.Contains(js, `"!!"`) {
		t.Errorf("the upgraded dependency is not in the bundle:\n%s", js)
	}
	// node_modules removed: installed again.
	if err := os.RemoveAll(filepath.Join(dir, "node_modules")); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Build(ctx, fn); err != nil || b.Installs() != 3 {
		t.Fatalf("node_modules removed: installs=%d err=%v; want npm ci again", b.Installs(), err)
	}
}

func readString(tb testing.TB, p string) string {
	tb.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

// TestBundleErrors: what a user gets wrong reads as one clear error.
func TestBundleErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		files tree
		fn    Function
		want  []string // substrings of the error
	}{
		{
			name:  "broken import",
			files: tree{"handler.ts": "import { nope } from \"./missing\";\n\nexport const handler = async () => nope();\n"},
			want:  []string{"function.fn: bundling handler.ts failed:\nhandler.ts:1:22: Could not resolve \"./missing\""},
		},
		{
			name:  "syntax error",
			files: tree{"lib/index.mjs": "export const handler = async () => {\n  return { ok: true ;\n};\n"},
			fn:    Function{Handler: "lib/index.handler"},
			want:  []string{"function.fn: bundling lib/index.mjs failed:\nlib/index.mjs:2:21: Expected \"}\" but found \";\""},
		},
		{
			name: "missing lockfile",
			files: tree{"index.js": "exports.handler = async () => require(\"left-pad\")(\"x\", 3);\n",
				"package.json": `{"dependencies": {"left-pad": "^1.3.0", "uuid": "^9"}}`},
			want: []string{"function.fn: package.json depends on left-pad, uuid, but ", " has no package-lock.json (and no node_modules): run `npm install` there"},
		},
		{
			name:  "no handler module",
			files: tree{"main.ts": "export const handler = 1;\n"},
			want:  []string{`function.fn: handler "index.handler": no index.ts, .mts, .js, .mjs or .cjs in `},
		},
		{
			name:  "the AWS SDK bundled on request, but not installed",
			files: tree{"index.mjs": "import { S3Client } from \"@aws-sdk/client-s3\";\nexport const handler = async () => typeof S3Client;\n"},
			fn:    Function{Bundle: Bundle{External: []string{}}},
			want:  []string{"index.mjs:1:26: Could not resolve \"@aws-sdk/client-s3\"", "You can mark the path \"@aws-sdk/client-s3\" as external"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			c.files.write(t, dir, 0o644, 0o755, time.Now())
			fn := c.fn
			fn.Addr, fn.Runtime, fn.Source = "function.fn", "nodejs20.x", dir
			if fn.Handler == "" {
				fn.Handler = "index.handler"
				if _, err := os.Stat(filepath.Join(dir, "handler.ts")); err == nil {
					fn.Handler = "handler.handler"
				}
			}
			_, err := (&Builder{Dir: t.TempDir()}).Build(context.Background(), fn)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
		})
	}
}

// TestBundleShapes: module kind, output name, externals and source maps.
func TestBundleShapes(t *testing.T) {
	t.Parallel()
	sdk := "import { S3Client } from \"@aws-sdk/client-s3\";\nexport const handler = async () => typeof S3Client;\n"
	cases := []struct {
		name    string
		files   tree
		fn      Function
		entries []string
		has     map[string][]string // entry → substrings
		hasNot  map[string][]string
	}{
		{
			name:    "ts is CommonJS without type module",
			files:   tree{"index.ts": sdk},
			entries: []string{"index.js"},
			has:     map[string][]string{"index.js": {`require("@aws-sdk/client-s3")`, "module.exports"}},
		},
		{
			name:    "ts is ESM with type module",
			files:   tree{"index.ts": sdk, "package.json": `{"type": "module"}`},
			entries: []string{"index.mjs"},
			has:     map[string][]string{"index.mjs": {`from "@aws-sdk/client-s3"`, "export {", "createRequire"}},
		},
		{
			name:    "mts in a subfolder",
			files:   tree{"src/app.mts": "export const handler = async (): Promise<number> => 1;\n"},
			fn:      Function{Handler: "src/app.handler"},
			entries: []string{"src/app.mjs"},
		},
		{
			name:    "cjs",
			files:   tree{"index.cjs": "exports.handler = async () => 1;\n"},
			entries: []string{"index.js"},
		},
		{
			name:    "source map",
			files:   tree{"index.ts": "export const handler = async (): Promise<number> => 1;\n"},
			fn:      Function{Bundle: Bundle{SourceMap: true}},
			entries: []string{"index.js", "index.js.map"},
			has:     map[string][]string{"index.js": {"//# sourceMappingURL=index.js.map"}, "index.js.map": {`"sources": ["index.ts"]`, "Promise<number>"}},
		},
		{
			name:    "other externals",
			files:   tree{"index.ts": "import x from \"sharp\";\nexport const handler = async () => x;\n"},
			fn:      Function{Bundle: Bundle{External: []string{"sharp"}}},
			entries: []string{"index.js"},
			has:     map[string][]string{"index.js": {`require("sharp")`}},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			c.files.write(t, dir, 0o644, 0o755, time.Now())
			fn := c.fn
			fn.Addr, fn.Runtime, fn.Source = "function.fn", "nodejs22.x", dir
			if fn.Handler == "" {
				fn.Handler = "index.handler"
			}
			a, err := (&Builder{Dir: t.TempDir()}).Build(context.Background(), fn)
			if err != nil {
				t.Fatal(err)
			}
			files := zipFiles(t, a.Path)
			if diff := cmp.Diff(c.entries, sortedKeys(files)); diff != "" {
				t.Errorf("entries (-want +got):\n%s", diff)
			}
			for name, subs := range c.has {
				for _, s := range subs {
					if !strings.Contains(files[name], s) {
						t.Errorf("%s lacks %q:\n%s", name, s, files[name])
					}
				}
			}
			for name, body := range files {
				if strings.Contains(body, dir) {
					t.Errorf("%s names the build folder %s:\n%s", name, dir, body)
				}
			}
		})
	}
}

// TestBundleIncremental: an Incremental Builder (esbuild contexts kept
// between builds) gives the bytes a one-shot build gives, edit after edit.
func TestBundleIncremental(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	tree{
		"index.ts":  "import { answer } from \"./lib\";\nexport const handler = async () => answer();\n",
		"lib.ts":    "export const answer = (): number => 41;\n",
		"unused.ts": "export const x = 1;\n",
	}.write(t, dir, 0o644, 0o755, time.Now())
	fn := Function{Addr: "function.fn", Runtime: "nodejs20.x", Source: dir, Handler: "index.handler"}
	inc := &Builder{Dir: t.TempDir(), Incremental: true}
	defer inc.Close()
	for i, lib := range []string{"", "export const answer = (): number => 42;\n", "export const answer = (): number => 43;\n"} {
		if lib != "" {
			if err := os.WriteFile(filepath.Join(dir, "lib.ts"), []byte(lib), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		a, err := inc.Build(ctx, fn)
		if err != nil {
			t.Fatal(err)
		}
		one, err := (&Builder{Dir: t.TempDir()}).Build(ctx, fn)
		if err != nil {
			t.Fatal(err)
		}
		if a.SHA256 != one.SHA256 {
			t.Errorf("build %d: incremental %s, one-shot %s", i, a.SHA256, one.SHA256)
		}
		if want := fmt.Sprint(41 + i); !strings.Contains(zipFiles(t, a.Path)["index.js"], want) {
			t.Errorf("build %d: the bundle lacks %s", i, want)
		}
	}
}

// TestBundleOutsideFolder: a bundle that imports code from outside its
// folder (a monorepo's shared module) is rebuilt when that code changes,
// although only the folder is in the cache key.
func TestBundleOutsideFolder(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	root := t.TempDir()
	tree{
		"fn/index.ts":     "import { greet } from \"../shared/greet\";\nexport const handler = async () => greet(\"x\");\n",
		"shared/greet.ts": "export const greet = (n: string): string => \"hello \" + n;\n",
	}.write(t, root, 0o644, 0o755, time.Now())
	fn := Function{Addr: "function.fn", Runtime: "nodejs20.x", Source: filepath.Join(root, "fn"), Handler: "index.handler"}
	b := &Builder{Dir: t.TempDir()}
	if _, err := b.Build(ctx, fn); err != nil {
		t.Fatal(err)
	}
	if a, err := b.Build(ctx, fn); err != nil || !a.Cached {
		t.Fatalf("unchanged: cached=%v err=%v", a != nil && a.Cached, err)
	}
	if err := os.WriteFile(filepath.Join(root, "shared/greet.ts"), []byte("export const greet = (n: string): string => \"bye \" + n;\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	a, err := b.Build(ctx, fn)
	if err != nil || a.Cached {
		t.Fatalf("shared code edited: cached=%v err=%v; want a rebuild", a != nil && a.Cached, err)
	}
	if js := zipFiles(t, a.Path)["index.js"]; !strings.Contains(js, `"bye "`) || !strings.Contains(js, "// ../shared/greet.ts") {
		t.Errorf("the edit is not in the bundle:\n%s", js)
	}
}
