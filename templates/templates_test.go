package templates

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestCatalogMatchesFolders(t *testing.T) {
	entries, err := fs.ReadDir(files, ".")
	if err != nil {
		t.Fatal(err)
	}
	var dirs []string
	for _, e := range entries {
		dirs = append(dirs, e.Name())
	}
	if d := cmp.Diff(dirs, Names()); d != "" {
		t.Errorf("embedded folders (-) and catalog (+) differ:\n%s", d)
	}
	if len(Names()) < 7 {
		t.Errorf("%d templates, want at least 7", len(Names()))
	}
}

// TestTemplateShape checks what every template promises: a spec with the
// app-name placeholder, a README, a .gitignore, and for each function folder
// code with tests — Go (with go.mod/go.sum templates), TypeScript (with
// package.json, its lockfile and a tsconfig.json for tsc --noEmit) or Python.
// A monorepo template has these at its root except the spec: each app
// folder has its own spec, naming the app "<placeholder>-<folder>", and its
// functions.
func TestTemplateShape(t *testing.T) {
	perLanguage := map[string]struct {
		files, fnFiles []string
		tests          string
	}{
		"go":         {files: []string{"go.mod.tmpl", "go.sum.tmpl"}, tests: "*_test.go"},
		"typescript": {fnFiles: []string{"package.json", "package-lock.json", "tsconfig.json"}, tests: "*.test.ts"},
		"python":     {fnFiles: []string{"requirements.txt"}, tests: "test_*.py"},
	}
	for _, name := range Names() {
		t.Run(name, func(t *testing.T) {
			sub, err := FS(name)
			if err != nil {
				t.Fatal(err)
			}
			lang := perLanguage[Language(name)]
			apps := map[string]string{".": `app "` + AppNamePlaceholder + `"`}
			if monorepo := Apps(name); monorepo != nil {
				if len(monorepo) < 2 {
					t.Errorf("monorepo with apps %v, want at least two", monorepo)
				}
				apps = map[string]string{}
				for _, a := range monorepo {
					apps[a] = `app "` + AppNamePlaceholder + "-" + a + `"`
				}
			}
			for _, f := range append([]string{"README.md", ".gitignore"}, lang.files...) {
				if _, err := fs.Stat(sub, f); err != nil {
					t.Errorf("missing %s", f)
				}
			}
			functions := 0
			for dir, appLine := range apps {
				spec, err := fs.ReadFile(sub, path.Join(dir, "evdeploy.evd.hcl"))
				if err != nil {
					t.Errorf("missing %s", path.Join(dir, "evdeploy.evd.hcl"))
				}
				if !strings.Contains(string(spec), appLine) {
					t.Errorf("%s does not name the app: no %s", path.Join(dir, "evdeploy.evd.hcl"), appLine)
				}
				fns, err := fs.ReadDir(sub, path.Join(dir, "functions"))
				if len(fns) == 0 && strings.Contains(string(spec), "\nfunction \"") {
					t.Errorf("no %s/functions: %v", dir, err)
				}
				functions += len(fns)
				for _, fn := range fns {
					folder := path.Join(dir, "functions", fn.Name())
					if !strings.Contains(string(spec), `source  = "./functions/`+fn.Name()+`"`) {
						t.Errorf("%s is not the source of any function in the spec", folder)
					}
					tests, _ := fs.Glob(sub, folder+"/"+lang.tests)
					if len(tests) == 0 {
						t.Errorf("%s has no tests", folder)
					}
					for _, f := range lang.fnFiles {
						if _, err := fs.Stat(sub, folder+"/"+f); err != nil {
							t.Errorf("%s has no %s", folder, f)
						}
					}
				}
			}
			if functions == 0 {
				t.Errorf("no functions")
			}
		})
	}
}

// TestMonorepoAppNames: a monorepo template's apps are named after the
// project with a suffix, so the project's name leaves room for the longest
// one; a folder name too long for it is cut to fit.
func TestMonorepoAppNames(t *testing.T) {
	if got, want := MaxAppName("monorepo"), maxAppName-len("-billing"); got != want {
		t.Errorf("MaxAppName(monorepo) = %d, want %d", got, want)
	}
	if got := MaxAppName("cron"); got != maxAppName {
		t.Errorf("MaxAppName(cron) = %d, want %d", got, maxAppName)
	}
	long := "a-very-long-folder-name-that-goes-on-and-on"
	if got, want := AppNameFor("monorepo", long), "a-very-long-folder-name"; got != want {
		t.Errorf("AppNameFor(monorepo, %q) = %q, want %q", long, got, want)
	}
	if got := AppNameFor("cron", long); got != AppName(long) {
		t.Errorf("AppNameFor(cron, %q) = %q, want %q", long, got, AppName(long))
	}
	dir := t.TempDir()
	if _, err := Write("monorepo", dir, WriteOptions{AppName: "abcdefghijklmnopqrstuvwxyz"}); err == nil || !strings.Contains(err.Error(), "at most 24 characters") {
		t.Errorf("a name too long for the monorepo's apps: error = %v", err)
	}
	got, err := Write("monorepo", filepath.Join(dir, "shop"), WriteOptions{AppName: "shop"})
	if err != nil {
		t.Fatal(err)
	}
	for _, app := range Apps("monorepo") {
		b, err := os.ReadFile(filepath.Join(dir, "shop", app, "evdeploy.evd.hcl"))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), `app "shop-`+app+`" {`) {
			t.Errorf("%s/evdeploy.evd.hcl does not name the app shop-%s", app, app)
		}
	}
	if d := cmp.Diff([]string{"billing", "core", "orders"}, Apps("monorepo")); d != "" {
		t.Errorf("Apps(monorepo) (-want +got):\n%s", d)
	}
	if Apps("cron") != nil {
		t.Errorf("Apps(cron) = %v, want nil", Apps("cron"))
	}
	if !slices.Contains(got, "go.mod") || !slices.Contains(got, "orders/functions/checkout/main.go") {
		t.Errorf("written: %v", got)
	}
}

func TestWrite(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new-app")
	got, err := Write("queue-worker", dir, WriteOptions{AppName: "new-app"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		".gitignore", "README.md", "evdeploy.evd.hcl",
		"functions/worker/handler.go", "functions/worker/handler_test.go", "functions/worker/main.go", "functions/worker/store.go",
		"go.mod", "go.sum",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("written files (-want +got):\n%s", d)
	}
	var onDisk []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			onDisk = append(onDisk, filepath.ToSlash(rel))
		}
		return err
	})
	sort.Strings(onDisk)
	if d := cmp.Diff(want, onDisk); d != "" {
		t.Errorf("files on disk (-want +got):\n%s", d)
	}
	for _, f := range []string{"evdeploy.evd.hcl", "go.mod", "README.md"} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), AppNamePlaceholder) {
			t.Errorf("%s still contains the placeholder", f)
		}
	}
	mod, _ := os.ReadFile(filepath.Join(dir, "go.mod"))
	if !strings.HasPrefix(string(mod), "module new-app\n") {
		t.Errorf("go.mod starts %q, want module new-app", strings.SplitN(string(mod), "\n", 2)[0])
	}
	spec, _ := os.ReadFile(filepath.Join(dir, "evdeploy.evd.hcl"))
	if !strings.Contains(string(spec), `app "new-app" {`) {
		t.Errorf("spec does not name the app new-app")
	}
}

func TestWriteTargets(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(t *testing.T, dir string)
		force   bool
		wantErr string // substring; "" for success
	}{
		{name: "missing folder is created"},
		{name: "empty folder", setup: func(t *testing.T, dir string) { mkdir(t, dir) }},
		{name: "folder with only .git", setup: func(t *testing.T, dir string) { mkdir(t, filepath.Join(dir, ".git")) }},
		{
			name:    "non-empty folder refused",
			setup:   func(t *testing.T, dir string) { putFile(t, filepath.Join(dir, "notes.txt"), "mine") },
			wantErr: "folder is not empty (it has notes.txt); use --force",
		},
		{
			name:  "non-empty folder with force keeps other files",
			setup: func(t *testing.T, dir string) { putFile(t, filepath.Join(dir, "notes.txt"), "mine") },
			force: true,
		},
		{
			name:    "a file, not a folder",
			setup:   func(t *testing.T, dir string) { putFile(t, dir, "x") },
			wantErr: "exists and is not a folder",
		},
		{
			name: "symlinked subfolder pointing outside is not followed",
			setup: func(t *testing.T, dir string) {
				mkdir(t, dir)
				if err := os.Symlink(filepath.Join(filepath.Dir(dir), "outside"), filepath.Join(dir, "functions")); err != nil {
					t.Skip("symlinks unsupported:", err)
				}
			},
			force:   true,
			wantErr: "escapes",
		},
		{
			name: "symlinked file pointing outside is not followed",
			setup: func(t *testing.T, dir string) {
				mkdir(t, dir)
				if err := os.Symlink(filepath.Join(filepath.Dir(dir), "outside", "victim"), filepath.Join(dir, "README.md")); err != nil {
					t.Skip("symlinks unsupported:", err)
				}
			},
			force:   true,
			wantErr: "escapes",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := t.TempDir()
			outside := filepath.Join(base, "outside")
			mkdir(t, outside)
			dir := filepath.Join(base, "app")
			if tt.setup != nil {
				tt.setup(t, dir)
			}
			_, err := Write("cron", dir, WriteOptions{AppName: "app", Force: tt.force})
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Write: %v", err)
				}
				if _, err := os.Stat(filepath.Join(dir, "evdeploy.evd.hcl")); err != nil {
					t.Errorf("spec not written: %v", err)
				}
				if tt.force {
					if b, _ := os.ReadFile(filepath.Join(dir, "notes.txt")); string(b) != "mine" {
						t.Errorf("notes.txt = %q, want it untouched", b)
					}
				}
			} else if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Write error = %v, want it to contain %q", err, tt.wantErr)
			}
			if tt.wantErr == "folder is not empty (it has notes.txt); use --force" && !errors.Is(err, ErrNotEmpty) {
				t.Errorf("error %v does not wrap ErrNotEmpty", err)
			}
			// Nothing may ever land outside the target folder.
			if entries, _ := os.ReadDir(outside); len(entries) != 0 {
				t.Errorf("wrote outside the target folder: %v", entries)
			}
		})
	}
}

// TestWriteFileRejectsEscapes covers paths a template could carry, were one
// ever malformed: none may leave the root.
func TestWriteFileRejectsEscapes(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "app")
	mkdir(t, dir)
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	for _, p := range []string{"../evil", "a/../../evil", "/etc/evil", "a/./b", ""} {
		if err := writeFile(root, p, []byte("x")); err == nil {
			t.Errorf("writeFile(%q) succeeded, want an error", p)
		}
	}
	if entries, _ := os.ReadDir(base); len(entries) != 1 {
		t.Errorf("entries beside the target folder: %v", entries)
	}
}

func TestWriteRejectsBadInput(t *testing.T) {
	dir := t.TempDir()
	if _, err := Write("nope", dir, WriteOptions{AppName: "app"}); err == nil || !strings.Contains(err.Error(), "the templates are: cron, ") {
		t.Errorf("unknown template: error = %v", err)
	}
	if _, err := Write("cron", dir, WriteOptions{AppName: "Bad_Name"}); err == nil || !strings.Contains(err.Error(), "lowercase") {
		t.Errorf("bad app name: error = %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("rejected writes left files: %v", entries)
	}
}

func TestAppName(t *testing.T) {
	tests := map[string]string{
		"shop":        "shop",
		"My Shop":     "my-shop",
		"my_shop.v2":  "my-shop-v2",
		"--orders--":  "orders",
		"2024-report": "app-2024-report",
		"Ünïcode":     "n-code",
		"":            "app",
		"...":         "app",
		"a-very-long-folder-name-that-goes-on-and-on": "a-very-long-folder-name-that-goe",
		"abcdefghijklmnopqrstuvwxyzabcde-f":           "abcdefghijklmnopqrstuvwxyzabcde",
	}
	for in, want := range tests {
		got := AppName(in)
		if got != want {
			t.Errorf("AppName(%q) = %q, want %q", in, got, want)
		}
		if !validAppName(got) {
			t.Errorf("AppName(%q) = %q, which is not a valid app name", in, got)
		}
	}
}

// TestScaffoldBuilds writes a template and vets it as its own module (vet
// compiles the handlers and their tests): the go.mod/go.sum it carries are
// complete. -mod=readonly makes a missing requirement or checksum an error
// instead of a silent fix-up. Two templates (event-bus, and monorepo for its
// layout) keep the cost down; TestGoModFiles holds the others to the same
// rule.
func TestScaffoldBuilds(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles a module")
	}
	// event-bus, and monorepo: one go.mod at the top for its apps' folders.
	for _, name := range []string{"event-bus", "monorepo"} {
		dir := filepath.Join(t.TempDir(), "standalone")
		if _, err := Write(name, dir, WriteOptions{AppName: "standalone"}); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("go", "vet", "./...")
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOFLAGS=-mod=readonly", "GOWORK=off")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go vet ./... in the scaffolded %s project: %v\n%s", name, err, out)
		}
	}
}

func mkdir(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
}

func putFile(t *testing.T, p, s string) {
	t.Helper()
	mkdir(t, filepath.Dir(p))
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}
