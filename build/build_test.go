package build

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"debug/dwarf"
	"debug/elf"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// tree is a folder's content: relative path → content. A path ending in "*"
// is written executable (the "*" is dropped).
type tree map[string]string

// write materialises t under dir with the given permission bits for plain and
// executable files and the given mtime.
func (t tree) write(tb testing.TB, dir string, fileMode, execMode os.FileMode, mtime time.Time) {
	tb.Helper()
	for name, content := range t {
		mode := fileMode
		if n, ok := strings.CutSuffix(name, "*"); ok {
			name, mode = n, execMode
		}
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			tb.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil { // WriteFile's mode is subject to umask
			tb.Fatal(err)
		}
		if err := os.Chtimes(p, mtime, mtime); err != nil {
			tb.Fatal(err)
		}
	}
}

// zipListing describes a zip's entries as "name mode method".
func zipListing(tb testing.TB, path string) []string {
	tb.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer zr.Close()
	var out []string
	for _, f := range zr.File {
		out = append(out, f.Name+" "+f.Mode().String())
	}
	return out
}

var pyFixture = tree{
	"handler.py":               "import lib.util\n\ndef handler(event, context):\n    return lib.util.answer()\n",
	"lib/__init__.py":          "",
	"lib/util.py":              "def answer():\n    return 42\n" + strings.Repeat("# padding so deflate has work\n", 40),
	"bin/tool*":                "#!/bin/sh\necho tool\n",
	"data/config.json":         `{"a": 1}`,
	"tests/test_handler.py":    "def test(): pass\n",
	"test_top.py":              "def test(): pass\n",
	"lib/util_test.py":         "def test(): pass\n",
	"__pycache__/handler.pyc":  "\x00\x01",
	"lib/__pycache__/u.pyc":    "\x00\x01",
	"stray.pyc":                "\x00",
	".git/HEAD":                "ref: refs/heads/main\n",
	".DS_Store":                "junk",
	".evdeploy/build/x/y.zip":  "old",
	"node_modules/.cache/a.js": "cache",
}

// TestDeterministicZip: the same source in two checkouts with different
// mtimes, permission bits and umask packs to identical bytes.
func TestDeterministicZip(t *testing.T) {
	// Not parallel: it changes the process umask.
	var dirs []string
	for i, c := range []struct {
		umask     int
		file, exe os.FileMode
		mtime     time.Time
	}{
		{umask: 0o022, file: 0o644, exe: 0o755, mtime: time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)},
		{umask: 0o077, file: 0o600, exe: 0o700, mtime: time.Date(2026, 11, 26, 21, 0, 0, 0, time.Local)},
	} {
		old := syscall.Umask(c.umask)
		dir := filepath.Join(t.TempDir(), "checkout", string(rune('a'+i)))
		pyFixture.write(t, dir, c.file, c.exe, c.mtime)
		syscall.Umask(old)
		dirs = append(dirs, dir)
	}
	var arts []*Artifact
	var blobs [][]byte
	for _, dir := range dirs {
		b := &Builder{Dir: t.TempDir()}
		a, err := b.Build(context.Background(), Function{Addr: "function.resize", Runtime: "python3.12", Source: dir, Handler: "handler.handler"})
		if err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(a.Path)
		if err != nil {
			t.Fatal(err)
		}
		arts = append(arts, a)
		blobs = append(blobs, data)
	}
	if !bytes.Equal(blobs[0], blobs[1]) {
		t.Fatalf("zips differ: %d vs %d bytes", len(blobs[0]), len(blobs[1]))
	}
	if arts[0].SHA256 != arts[1].SHA256 || arts[0].Hex != arts[1].Hex {
		t.Fatalf("hashes differ: %s vs %s", arts[0].SHA256, arts[1].SHA256)
	}
	sum := sha256.Sum256(blobs[0])
	if want := base64.StdEncoding.EncodeToString(sum[:]); arts[0].SHA256 != want {
		t.Errorf("SHA256 = %s, want base64(sha256(zip)) = %s", arts[0].SHA256, want)
	}
	if arts[0].Size != int64(len(blobs[0])) {
		t.Errorf("Size = %d, want %d", arts[0].Size, len(blobs[0]))
	}

	// The content: sorted, tests and caches gone, modes normalised.
	want := []string{
		"bin/tool -rwxr-xr-x",
		"data/config.json -rw-r--r--",
		"handler.py -rw-r--r--",
		"lib/__init__.py -rw-r--r--",
		"lib/util.py -rw-r--r--",
	}
	if diff := cmp.Diff(want, zipListing(t, arts[0].Path)); diff != "" {
		t.Errorf("entries (-want +got):\n%s", diff)
	}

	// The headers carry nothing machine-specific.
	zr, err := zip.NewReader(bytes.NewReader(blobs[0]), int64(len(blobs[0])))
	if err != nil {
		t.Fatal(err)
	}
	epoch := time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, f := range zr.File {
		if !f.Modified.Equal(epoch) {
			t.Errorf("%s: modified %v, want %v", f.Name, f.Modified, epoch)
		}
		if len(f.Extra) != 0 {
			t.Errorf("%s: extra field %x", f.Name, f.Extra)
		}
		if f.Flags&0x8 != 0 {
			t.Errorf("%s: has a data descriptor", f.Name)
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(io.Discard, rc); err != nil { // checks the CRC
			t.Errorf("%s: %v", f.Name, err)
		}
		rc.Close()
	}
	if m := zr.File[len(zr.File)-1]; m.Name != "lib/util.py" || m.Method != zip.Deflate {
		t.Errorf("lib/util.py: method %d, want deflate", m.Method)
	}
}

func TestIgnoreRules(t *testing.T) {
	t.Parallel()
	files := tree{
		"index.js":                   "",
		"index.test.js":              "",
		"lib/a.js":                   "",
		"lib/a.test.js":              "",
		"__tests__/x.js":             "",
		"docs/readme.md":             "",
		"docs/api/deep.md":           "",
		"build/out.js":               "",
		"src/build/keep.js":          "",
		"notes.txt":                  "",
		"logs/app.log":               "",
		"logs/keep.log":              "",
		"tests/fixture.json":         "",
		"node_modules/left/index.js": "",
		"#hash":                      "",
		"config/local.yaml":          "",
		"config/prod.yaml":           "",
	}
	for _, tc := range []struct {
		name   string
		ignore string
		want   []string
	}{
		{
			name: "defaults only",
			want: []string{"#hash", "build/out.js", "config/local.yaml", "config/prod.yaml", "docs/api/deep.md", "docs/readme.md",
				"index.js", "lib/a.js", "logs/app.log", "logs/keep.log", "node_modules/left/index.js", "notes.txt", "src/build/keep.js"},
		},
		{
			name: "patterns",
			ignore: `# comments and blank lines are skipped

*.md
/build/
logs/*.log
!logs/keep.log
\#hash
config/**/local.yaml
node_modules/
`,
			want: []string{"config/prod.yaml", "index.js", "lib/a.js", "logs/keep.log", "notes.txt", "src/build/keep.js"},
		},
		{
			name:   "re-include defaults",
			ignore: "!*.test.js\n!tests/\n!__tests__\n",
			want: []string{"#hash", "__tests__/x.js", "build/out.js", "config/local.yaml", "config/prod.yaml", "docs/api/deep.md", "docs/readme.md",
				"index.js", "index.test.js", "lib/a.js", "lib/a.test.js", "logs/app.log", "logs/keep.log", "node_modules/left/index.js",
				"notes.txt", "src/build/keep.js", "tests/fixture.json"},
		},
		{
			name:   "double star",
			ignore: "docs/**\n**/a.js\n",
			want: []string{"#hash", "build/out.js", "config/local.yaml", "config/prod.yaml", "index.js", "logs/app.log", "logs/keep.log",
				"node_modules/left/index.js", "notes.txt", "src/build/keep.js"},
		},
		{
			name:   "a file under an ignored folder cannot be re-included, as in git",
			ignore: "logs/\n!logs/keep.log\n",
			want: []string{"#hash", "build/out.js", "config/local.yaml", "config/prod.yaml", "docs/api/deep.md", "docs/readme.md",
				"index.js", "lib/a.js", "node_modules/left/index.js", "notes.txt", "src/build/keep.js"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			files.write(t, dir, 0o644, 0o755, time.Now())
			if tc.ignore != "" {
				if err := os.WriteFile(filepath.Join(dir, IgnoreFile), []byte(tc.ignore), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			got, err := collectFiles(dir)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, f := range got {
				names = append(names, f.Rel)
			}
			if diff := cmp.Diff(tc.want, names); diff != "" {
				t.Errorf("files (-want +got):\n%s", diff)
			}
		})
	}
}

func TestIgnoreBadPattern(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tree{"a.py": "", IgnoreFile: "ok\n[unclosed\n"}.write(t, dir, 0o644, 0o755, time.Now())
	_, err := collectFiles(dir)
	if err == nil || !strings.Contains(err.Error(), ".evdignore:2: bad pattern") {
		t.Fatalf("err = %v, want .evdignore:2: bad pattern", err)
	}
}

func TestSymlinks(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tree{"real/tool*": "#!/bin/sh\n", "lib/x.js": "x"}.write(t, dir, 0o644, 0o755, time.Now())
	must(t, os.MkdirAll(filepath.Join(dir, "node_modules/.bin"), 0o755))
	must(t, os.Symlink("../../real/tool", filepath.Join(dir, "node_modules/.bin/tool")))
	must(t, os.Symlink("lib", filepath.Join(dir, "linked")))
	got, err := collectFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range got {
		names = append(names, f.Rel+map[bool]string{true: " x", false: ""}[f.Exec])
	}
	want := []string{"lib/x.js", "linked/x.js", "node_modules/.bin/tool x", "real/tool x"}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}

	must(t, os.Symlink("..", filepath.Join(dir, "lib/up")))
	if _, err := collectFiles(dir); err == nil || !strings.Contains(err.Error(), "cycle") {
		t.Errorf("a link cycle: err = %v, want a cycle error", err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestDependencyWarnings: with bundle = false the folder is packaged as it
// is, and dependencies it declares but lacks are warned about.
func TestDependencyWarnings(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		runtime string
		files   tree
		want    string // substring of the single warning; "" for none
	}{
		{
			name: "python vendored", runtime: "python3.12",
			files: tree{"h.py": "", "requirements.txt": "# deps\nrequests==2.31.0\nPyYAML>=6 ; python_version>'3'\n-r other.txt\n\n",
				"requests-2.31.0.dist-info/METADATA": "", "requests/__init__.py": "", "PyYAML-6.0.1.dist-info/RECORD": "", "yaml/__init__.py": ""},
		},
		{
			name: "python missing", runtime: "python3.12",
			files: tree{"h.py": "", "requirements.txt": "requests==2.31.0\nboto3\nsix\n", "requests/__init__.py": "", "six.py": ""},
			want:  "function.fn: requirements.txt lists boto3, not vendored in ",
		},
		{
			name: "python no requirements", runtime: "python3.12",
			files: tree{"h.py": ""},
		},
		{
			name: "node vendored", runtime: "nodejs20.x",
			files: tree{"index.js": "", "package.json": `{"dependencies": {"uuid": "^9", "@aws-sdk/client-s3": "^3"}, "devDependencies": {"jest": "1"}}`,
				"node_modules/uuid/package.json": "{}", "node_modules/@aws-sdk/client-s3/index.js": ""},
		},
		{
			name: "node missing", runtime: "nodejs20.x",
			files: tree{"index.js": "", "package.json": `{"dependencies": {"uuid": "^9", "left-pad": "1"}}`},
			want:  "function.fn: package.json depends on left-pad, uuid, not in ",
		},
		{
			name: "node vendored but ignored", runtime: "nodejs20.x",
			files: tree{"index.js": "", "package.json": `{"dependencies": {"uuid": "^9"}}`, "node_modules/uuid/index.js": "", IgnoreFile: "node_modules/\n"},
			want:  "npm install --omit=dev",
		},
		{
			name: "python native extension for the function's architecture", runtime: "python3.12",
			files: tree{"h.py": "", "pkg/_speedups.cpython-312-aarch64-linux-gnu.so": elfFile(elf.EM_AARCH64), "pkg/libz.so.1": elfFile(elf.EM_AARCH64)},
		},
		{
			name: "python native extension for the other architecture", runtime: "python3.12",
			files: tree{"h.py": "", "pkg/_speedups.cpython-312-x86_64-linux-gnu.so": elfFile(elf.EM_X86_64)},
			want:  "function.fn: pkg/_speedups.cpython-312-x86_64-linux-gnu.so (x86_64) built for another architecture than the function's arm64",
		},
		{
			name: "python native extension built on a Mac", runtime: "python3.12",
			files: tree{"h.py": "", "pkg/_speedups.cpython-312-darwin.so": "\xcf\xfa\xed\xfe mach-o"},
			want:  "function.fn: pkg/_speedups.cpython-312-darwin.so is not a Linux ELF binary",
		},
		{
			name: "node native addon", runtime: "nodejs20.x",
			files: tree{"index.js": "", "node_modules/sharp/build/Release/sharp.node": elfFile(elf.EM_X86_64), "node_modules/sharp/package.json": ""},
			want:  "node_modules/sharp/build/Release/sharp.node (x86_64) built for another architecture",
		},
		{
			name: "node no dependencies", runtime: "nodejs20.x",
			files: tree{"index.js": "", "package.json": `{"name": "x", "devDependencies": {"jest": "1"}}`},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			tc.files.write(t, dir, 0o644, 0o755, time.Now())
			var logged []string
			b := &Builder{Dir: t.TempDir(), Log: func(f string, a ...any) { logged = append(logged, f) }}
			fn := Function{Addr: "function.fn", Runtime: tc.runtime, Source: dir, Bundle: Bundle{Off: true}}
			for _, cached := range []bool{false, true} { // warnings survive the cache
				a, err := b.Build(context.Background(), fn)
				if err != nil {
					t.Fatal(err)
				}
				if a.Cached != cached {
					t.Fatalf("Cached = %v, want %v", a.Cached, cached)
				}
				switch {
				case tc.want == "" && len(a.Warnings) != 0:
					t.Errorf("warnings = %q, want none", a.Warnings)
				case tc.want != "" && (len(a.Warnings) != 1 || !strings.Contains(a.Warnings[0], tc.want)):
					t.Errorf("warnings = %q, want one containing %q", a.Warnings, tc.want)
				}
			}
		})
	}
}

// elfFile is a minimal ELF header for machine: enough for debug/elf.
func elfFile(machine elf.Machine) string {
	var buf bytes.Buffer
	h := elf.Header64{Type: uint16(elf.ET_DYN), Machine: uint16(machine), Version: 1, Ehsize: 64, Phentsize: 56, Shentsize: 64}
	copy(h.Ident[:], elf.ELFMAG)
	h.Ident[elf.EI_CLASS] = byte(elf.ELFCLASS64)
	h.Ident[elf.EI_DATA] = byte(elf.ELFDATA2LSB)
	h.Ident[elf.EI_VERSION] = byte(elf.EV_CURRENT)
	if err := binary.Write(&buf, binary.LittleEndian, h); err != nil {
		panic(err)
	}
	return buf.String()
}

// pyFunctions writes n small Python functions under root and returns them.
func pyFunctions(tb testing.TB, root string, n int) []Function {
	tb.Helper()
	var fns []Function
	for i := range n {
		name := string(rune('a'+i%26)) + strings.Repeat("x", i/26)
		dir := filepath.Join(root, name)
		tree{"handler.py": "def handler(e, c):\n    return " + name + "\n", "lib/util.py": strings.Repeat("x = 1\n", 50)}.
			write(tb, dir, 0o644, 0o755, time.Now())
		fns = append(fns, Function{Addr: "function." + name, Runtime: "python3.12", Source: dir, Handler: "handler.handler"})
	}
	return fns
}

// rebuilt lists the functions a BuildAll actually built.
func rebuilt(t *testing.T, b *Builder, fns []Function) []string {
	t.Helper()
	arts, err := b.BuildAll(context.Background(), fns, 2)
	if err != nil {
		t.Fatal(err)
	}
	out := []string{}
	for i, a := range arts {
		if a.Addr != fns[i].Addr {
			t.Fatalf("artifact %d is %s, want %s", i, a.Addr, fns[i].Addr)
		}
		if !a.Cached {
			out = append(out, a.Addr)
		}
	}
	return out
}

func TestCaching(t *testing.T) {
	t.Parallel()
	b := &Builder{Dir: t.TempDir()}
	fns := pyFunctions(t, t.TempDir(), 3)
	all := []string{"function.a", "function.b", "function.c"}
	steps := []struct {
		name   string
		change func()
		want   []string
	}{
		{"cold", func() {}, all},
		{"no change", func() {}, []string{}},
		{"mtime only", func() {
			now := time.Now().Add(time.Hour)
			must(t, os.Chtimes(filepath.Join(fns[0].Source, "handler.py"), now, now))
		}, []string{}},
		{"one file", func() {
			must(t, os.WriteFile(filepath.Join(fns[1].Source, "lib/util.py"), []byte("x = 2\n"), 0o644))
		}, []string{"function.b"}},
		{"new file", func() {
			must(t, os.WriteFile(filepath.Join(fns[2].Source, "extra.py"), nil, 0o644))
		}, []string{"function.c"}},
		{"ignored file", func() {
			must(t, os.WriteFile(filepath.Join(fns[2].Source, "test_extra.py"), nil, 0o644))
		}, []string{}},
		{"mode class", func() {
			must(t, os.Chmod(filepath.Join(fns[0].Source, "handler.py"), 0o755))
		}, []string{"function.a"}},
		{"runtime", func() { fns[2].Runtime = "python3.13" }, []string{"function.c"}},
		{"architecture", func() { fns[1].Architecture = "x86_64" }, []string{"function.b"}},
		{"back to a cached architecture", func() { fns[1].Architecture = "arm64" }, []string{}},
		{"deleted artifact", func() {
			a, err := b.Build(context.Background(), fns[0])
			must(t, err)
			must(t, os.Remove(a.Path))
		}, []string{"function.a"}},
	}
	for _, s := range steps {
		s.change()
		if diff := cmp.Diff(s.want, rebuilt(t, b, fns)); diff != "" {
			t.Errorf("%s: rebuilt (-want +got):\n%s", s.name, diff)
		}
	}
	// No scratch files are left behind.
	if tmps, _ := filepath.Glob(filepath.Join(b.CacheDir(), "*", ".tmp-*")); len(tmps) != 0 {
		t.Errorf("scratch files left: %v", tmps)
	}
	// Manifests sit beside their zips.
	zips, _ := filepath.Glob(filepath.Join(b.CacheDir(), "b", "*.zip"))
	mans, _ := filepath.Glob(filepath.Join(b.CacheDir(), "b", "*.json"))
	if len(zips) == 0 || len(zips) != len(mans) || len(zips) > keepArtifacts {
		t.Errorf("cache of function.b: %d zips, %d manifests (keep %d)", len(zips), len(mans), keepArtifacts)
	}
}

func TestPruneCache(t *testing.T) {
	t.Parallel()
	b := &Builder{Dir: t.TempDir()}
	fn := pyFunctions(t, t.TempDir(), 1)[0]
	for i := range keepArtifacts + 3 {
		must(t, os.WriteFile(filepath.Join(fn.Source, "v.py"), []byte{byte(i)}, 0o644))
		if _, err := b.Build(context.Background(), fn); err != nil {
			t.Fatal(err)
		}
	}
	zips, _ := filepath.Glob(filepath.Join(b.CacheDir(), "a", "*.zip"))
	if len(zips) != keepArtifacts {
		t.Errorf("%d zips kept, want %d", len(zips), keepArtifacts)
	}
}

func TestBuildErrors(t *testing.T) {
	t.Parallel()
	empty := t.TempDir()
	file := filepath.Join(t.TempDir(), "f")
	must(t, os.WriteFile(file, nil, 0o644))
	ok := pyFunctions(t, t.TempDir(), 1)[0].Source
	for _, tc := range []struct {
		name string
		fn   Function
		want string
	}{
		{"missing folder", Function{Runtime: "python3.12", Source: "/nonexistent/evd/fn"}, "function.x: source folder /nonexistent/evd/fn does not exist"},
		{"relative source", Function{Runtime: "python3.12", Source: "fn"}, `function.x: source "fn" is not an absolute path`},
		{"a file", Function{Runtime: "python3.12", Source: file}, "function.x: source " + file + " is not a folder"},
		{"empty folder", Function{Runtime: "python3.12", Source: empty}, "function.x: source folder " + empty + " has no files to package"},
		{"bad architecture", Function{Runtime: "python3.12", Source: ok, Architecture: "amd64"}, `function.x: architecture must be arm64 or x86_64, not "amd64"`},
		{"no runtime", Function{Source: ok}, "function.x: runtime is empty"},
		{"go without a module", Function{Runtime: "go", Source: ok}, "function.x: go "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn.Addr = "function.x"
			_, err := (&Builder{Dir: t.TempDir()}).Build(context.Background(), tc.fn)
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("err = %v, want prefix %q", err, tc.want)
			}
		})
	}
}

func TestBuildAllReportsEveryFailure(t *testing.T) {
	t.Parallel()
	fns := pyFunctions(t, t.TempDir(), 3)
	fns[0].Source = "/nonexistent/one"
	fns[2].Source = "/nonexistent/three"
	arts, err := (&Builder{Dir: t.TempDir()}).BuildAll(context.Background(), fns, 0)
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"function.a: source folder /nonexistent/one", "function.c: source folder /nonexistent/three"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want it to contain %q", err, want)
		}
	}
	if arts[0] != nil || arts[1] == nil || arts[1].Addr != "function.b" || arts[2] != nil {
		t.Errorf("artifacts = %v, want only function.b", arts)
	}
}

func TestProvidedWithoutGo(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tree{"bootstrap": "#!/bin/sh\nexec ./app\n", "app*": "binary"}.write(t, dir, 0o644, 0o755, time.Now())
	a, err := (&Builder{Dir: t.TempDir()}).Build(context.Background(), Function{Addr: "function.sh", Runtime: "provided.al2023", Source: dir})
	if err != nil {
		t.Fatal(err)
	}
	// bootstrap is executable in the zip even when it was not on disk.
	if diff := cmp.Diff([]string{"app -rwxr-xr-x", "bootstrap -rwxr-xr-x"}, zipListing(t, a.Path)); diff != "" {
		t.Errorf("entries (-want +got):\n%s", diff)
	}
	if a.Runtime != "provided.al2023" || a.Handler != "bootstrap" {
		t.Errorf("deployed as %s/%s, want provided.al2023/bootstrap", a.Runtime, a.Handler)
	}
}

// copyDir copies a fixture folder (files only).
func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// checkBootstrap checks that the zip holds only an executable bootstrap that
// is a Linux ELF for machine.
func checkBootstrap(t *testing.T, a *Artifact, machine elf.Machine) {
	t.Helper()
	zr, err := zip.OpenReader(a.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	if len(zr.File) != 1 || zr.File[0].Name != "bootstrap" || zr.File[0].Mode() != 0o755 {
		t.Fatalf("zip = %v, want a single 0755 bootstrap", zipListing(t, a.Path))
	}
	rc, err := zr.File[0].Open()
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		t.Fatal(err)
	}
	ef, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("bootstrap is not an ELF: %v", err)
	}
	if ef.Machine != machine || ef.Type != elf.ET_EXEC || ef.OSABI != elf.ELFOSABI_NONE {
		t.Errorf("bootstrap is %v %v %v, want %v executable", ef.Machine, ef.Type, ef.OSABI, machine)
	}
	if ef.Section(".symtab") != nil {
		t.Errorf("bootstrap has a symbol table; -ldflags=-s was not applied")
	}
	if a.Runtime != GoRuntime || a.Handler != "bootstrap" {
		t.Errorf("deployed as %s/%s, want %s/bootstrap", a.Runtime, a.Handler, GoRuntime)
	}
}

// TestGoFunction builds a Go function that is its own module, in two
// checkouts: both give the same bytes; then checks what rebuilds it.
func TestGoFunction(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles Go")
	}
	t.Parallel()
	var dirs []string
	for range 2 {
		d := filepath.Join(t.TempDir(), "src", "gofn")
		copyDir(t, "testdata/gofn", d)
		dirs = append(dirs, d)
	}
	ctx := context.Background()
	b := &Builder{Dir: t.TempDir()}
	fn := Function{Addr: "function.api", Runtime: "go", Source: dirs[0]}
	a1, err := b.Build(ctx, fn)
	if err != nil {
		t.Fatal(err)
	}
	checkBootstrap(t, a1, elf.EM_AARCH64)
	other, err := (&Builder{Dir: t.TempDir()}).Build(ctx, Function{Addr: "function.api", Runtime: "go", Source: dirs[1]})
	if err != nil {
		t.Fatal(err)
	}
	if other.SHA256 != a1.SHA256 {
		t.Errorf("two checkouts built to %s and %s; Go builds must be reproducible", a1.SHA256, other.SHA256)
	}

	for _, s := range []struct {
		name    string
		change  func()
		rebuild bool
	}{
		{"no change", func() {}, false},
		{"a package main does not import", func() {
			must(t, os.WriteFile(filepath.Join(dirs[0], "unused/unused.go"), []byte("package unused\n\nfunc Unused() int { return 2 }\n"), 0o644))
		}, false},
		{"a non-Go file", func() { must(t, os.WriteFile(filepath.Join(dirs[0], "README.md"), []byte("hi"), 0o644)) }, false},
		{"a local dependency", func() {
			must(t, os.WriteFile(filepath.Join(dirs[0], "internal/greet/greet.go"),
				[]byte("package greet\n\nfunc Hello(name string) string { return \"hi, \" + name }\n"), 0o644))
		}, true},
		{"go.mod", func() {
			must(t, os.WriteFile(filepath.Join(dirs[0], "go.mod"), []byte("module example.com/gofn\n\ngo 1.26.0\n"), 0o644))
		}, true},
	} {
		s.change()
		a, err := b.Build(ctx, fn)
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if a.Cached == s.rebuild {
			t.Errorf("%s: rebuilt = %v, want %v", s.name, !a.Cached, s.rebuild)
		}
	}

	// x86_64 rebuilds, for the other machine.
	fn.Architecture = "x86_64"
	a2, err := b.Build(ctx, fn)
	if err != nil {
		t.Fatal(err)
	}
	if a2.Cached {
		t.Error("x86_64 came from the arm64 cache entry")
	}
	checkBootstrap(t, a2, elf.EM_X86_64)
}

// TestGoFunctionInModule builds a main package of the enclosing (evdeploy)
// module, as examples do, with provided.al2023 spelled out.
func TestGoFunctionInModule(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles Go")
	}
	t.Parallel()
	src, err := filepath.Abs("testdata/inmodule")
	if err != nil {
		t.Fatal(err)
	}
	a, err := (&Builder{Dir: t.TempDir()}).Build(context.Background(), Function{Addr: "function.in", Runtime: "provided.al2023", Source: src, Architecture: "arm64"})
	if err != nil {
		t.Fatal(err)
	}
	checkBootstrap(t, a, elf.EM_AARCH64)
}

func TestGoCompileError(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles Go")
	}
	t.Parallel()
	dir := t.TempDir()
	tree{
		"go.mod":  "module example.com/broken\n\ngo 1.26\n",
		"main.go": "package main\n\nfunc main() {\n\tundefinedThing()\n}\n",
	}.write(t, dir, 0o644, 0o755, time.Now())
	_, err := (&Builder{Dir: t.TempDir()}).Build(context.Background(), Function{Addr: "function.broken", Runtime: "go", Source: dir})
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"function.broken: go build failed in " + dir, "main.go:4:2: undefined: undefinedThing"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v\nwant it to contain %q", err, want)
		}
	}

	// A library package is not a function.
	must(t, os.WriteFile(filepath.Join(dir, "main.go"), []byte("package lib\n"), 0o644))
	_, err = (&Builder{Dir: t.TempDir()}).Build(context.Background(), Function{Addr: "function.lib", Runtime: "go", Source: dir})
	if want := `holds Go package "lib"; a Go function's source must be a main package`; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("err = %v, want %q", err, want)
	}
}

func TestFunctionName(t *testing.T) {
	t.Parallel()
	got := map[string]string{}
	for _, a := range []string{"function.api", "api", "function.a/b", "function..", ""} {
		got[a] = functionName(a)
	}
	want := map[string]string{"function.api": "api", "api": "api", "function.a/b": "a_b", "function..": "_", "": "_"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// Functions built from one folder with the same settings share one build and
// one package; a different handler, runtime or architecture is another build.
func TestBuildAllSharesOneBuildPerSource(t *testing.T) {
	t.Parallel()
	src := t.TempDir()
	tree{"main.py": "def handler(e, c):\n    return 1\n"}.write(t, src, 0o644, 0o755, time.Now())
	const n = 1000
	fns := make([]Function, 0, n+2)
	for i := range n {
		fns = append(fns, Function{Addr: fmt.Sprintf("function.w%d", i), Runtime: "python3.12", Source: src, Handler: "main.handler"})
	}
	fns = append(fns,
		Function{Addr: "function.other_handler", Runtime: "python3.12", Source: src, Handler: "main.other"},
		Function{Addr: "function.x86", Runtime: "python3.12", Source: src, Handler: "main.handler", Architecture: "x86_64"})
	b := &Builder{Dir: t.TempDir()}
	arts, err := b.BuildAll(context.Background(), fns, 0)
	if err != nil {
		t.Fatal(err)
	}
	var zips []string
	filepath.WalkDir(b.CacheDir(), func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".zip") {
			zips = append(zips, p)
		}
		return nil
	})
	if len(zips) != 3 {
		t.Errorf("%d packages in the cache for %d functions of 3 distinct builds, want 3: %v", len(zips), len(fns), zips)
	}
	for i, a := range arts[:n] {
		if a.Addr != fns[i].Addr || a.Path != arts[0].Path || a.SHA256 != arts[0].SHA256 {
			t.Fatalf("artifact %d = %+v, want %s sharing %s", i, a, fns[i].Addr, arts[0].Path)
		}
	}
	if arts[n].Path == arts[0].Path || arts[n+1].Path == arts[0].Path || arts[n+1].Path == arts[n].Path {
		t.Errorf("distinct builds share a package: %s, %s, %s", arts[0].Path, arts[n].Path, arts[n+1].Path)
	}

	// A failed shared build fails every function sharing it, by name.
	broken := []Function{
		{Addr: "function.a", Runtime: "python3.12", Source: "/nonexistent/src"},
		{Addr: "function.b", Runtime: "python3.12", Source: "/nonexistent/src"},
	}
	if _, err := b.BuildAll(context.Background(), broken, 0); err == nil ||
		!strings.Contains(err.Error(), "function.a: source folder /nonexistent/src") ||
		!strings.Contains(err.Error(), "function.b: shares the build of function.a") {
		t.Errorf("shared failure: %v", err)
	}
}

// TestGoDebugBuild: Function.Debug builds Go for a debugger: its own cache
// entry, DWARF kept (no -s -w), the sources named by their real paths (no
// -trimpath), and package main neither optimised nor inlined (its DWARF
// compile unit's producer names the flags).
func TestGoDebugBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles Go")
	}
	t.Parallel()
	src := filepath.Join(t.TempDir(), "gofn")
	copyDir(t, "testdata/gofn", src)
	b := &Builder{Dir: t.TempDir()}
	fn := Function{Addr: "function.api", Runtime: "go", Source: src}
	plain, err := b.Build(context.Background(), fn)
	if err != nil {
		t.Fatal(err)
	}
	fn.Debug = true
	dbg, err := b.Build(context.Background(), fn)
	if err != nil {
		t.Fatal(err)
	}
	if dbg.Cached || dbg.SHA256 == plain.SHA256 {
		t.Fatalf("the debug build came from the plain build's cache entry (cached %v, same digest %v)", dbg.Cached, dbg.SHA256 == plain.SHA256)
	}
	zr, err := zip.OpenReader(dbg.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	rc, err := zr.File[0].Open()
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		t.Fatal(err)
	}
	ef, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	dw, err := ef.DWARF()
	if err != nil {
		t.Fatalf("the debug bootstrap has no DWARF: %v", err)
	}
	main := filepath.Join(src, "main.go")
	found, optimised := false, ""
	r := dw.Reader()
	for {
		e, err := r.Next()
		if err != nil || e == nil {
			break
		}
		if e.Tag != dwarf.TagCompileUnit {
			continue
		}
		// The function's own package (the runtime's own packages keep some
		// flags of their own whatever -gcflags say).
		if p, _ := e.Val(dwarf.AttrProducer).(string); e.Val(dwarf.AttrName) == "main" && !strings.Contains(p, "-N -l") {
			optimised = fmt.Sprintf("%s (producer %q)", e.Val(dwarf.AttrName), p)
		}
		lr, err := dw.LineReader(e)
		if err != nil || lr == nil {
			r.SkipChildren()
			continue
		}
		for _, f := range lr.Files() {
			if f != nil && f.Name == main {
				found = true
			}
		}
		r.SkipChildren()
	}
	if !found {
		t.Errorf("the debug bootstrap's line tables do not name %s", main)
	}
	if optimised != "" {
		t.Errorf("a compile unit was built without -N -l: %s", optimised)
	}
}
