package spec

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2"
)

var update = flag.Bool("update", false, "rewrite golden files")

// testEnv is the environment tests load with, so env() and EVDEPLOY_VAR_x
// are deterministic.
var testEnv = map[string]string{
	"EVDEPLOY_VAR_owner": "ci",
	"SHOP_TEAM":          "payments",
}

func testOptions() Options {
	return Options{Getenv: func(k string) string { return testEnv[k] }}
}

// corpus lists the cases in dir: each *.evd.hcl file is a one-file project,
// each sub-folder holding *.evd.hcl files a multi-file one.
func corpus(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var cases []string
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		if e.IsDir() {
			if m, _ := filepath.Glob(filepath.Join(p, "*"+FileSuffix)); len(m) > 0 {
				cases = append(cases, p)
			}
			continue
		}
		if strings.HasSuffix(e.Name(), FileSuffix) {
			cases = append(cases, p)
		}
	}
	return cases
}

// loadCase loads a corpus case: a folder through Load, a file alone as a
// project in its folder.
func loadCase(t *testing.T, path string, opts Options) (*App, map[string]*hcl.File, hcl.Diagnostics) {
	t.Helper()
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return Load(path, opts)
	}
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return loadSources(filepath.Dir(path), []source{{name: path, src: src}}, opts)
}

func caseName(path string) string {
	return strings.TrimSuffix(filepath.Base(path), FileSuffix)
}

var markerRE = regexp.MustCompile(`#\s*(ERROR|WARNING):\s*(.+?)\s*$`)

// markers reads the `# ERROR: <summary>` and `# WARNING: <summary>` comments
// of every file in a case: what diagnostics must be reported, on which line.
func markers(t *testing.T, files map[string]*hcl.File) []string {
	t.Helper()
	var out []string
	for name, f := range files {
		for i, line := range strings.Split(string(f.Bytes), "\n") {
			if m := markerRE.FindStringSubmatch(line); m != nil {
				out = append(out, fmt.Sprintf("%s:%d: %s: %s", filepath.Base(name), i+1, strings.ToLower(m[1]), m[2]))
			}
		}
	}
	sort.Strings(out)
	return out
}

func diagLines(diags hcl.Diagnostics) []string {
	var out []string
	for _, d := range diags {
		sev := "error"
		if d.Severity == hcl.DiagWarning {
			sev = "warning"
		}
		if d.Subject == nil {
			out = append(out, fmt.Sprintf("(no subject): %s: %s", sev, d.Summary))
			continue
		}
		out = append(out, fmt.Sprintf("%s:%d: %s: %s", filepath.Base(d.Subject.Filename), d.Subject.Start.Line, sev, d.Summary))
	}
	sort.Strings(out)
	return out
}

func render(files map[string]*hcl.File, diags hcl.Diagnostics) string {
	var b bytes.Buffer
	w := hcl.NewDiagnosticTextWriter(&b, files, 80, false)
	if err := w.WriteDiagnostics(diags); err != nil {
		panic(err)
	}
	return b.String()
}

// golden compares got with the golden file at path, or rewrites it with
// -update.
func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./spec -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s differs (-want +got):\n%s", path, diff)
	}
}

// TestInvalid loads every invalid case and checks that exactly the marked
// diagnostics are reported on the marked lines, and that their rendering
// (source snippet and all) matches the golden file.
func TestInvalid(t *testing.T) {
	cases := corpus(t, "testdata/invalid")
	if len(cases) < 40 {
		t.Errorf("the invalid corpus has %d cases; keep at least 40", len(cases))
	}
	for _, path := range cases {
		t.Run(caseName(path), func(t *testing.T) {
			app, files, diags := loadCase(t, path, testOptions())
			if !diags.HasErrors() {
				t.Fatalf("no errors; want the marked ones")
			}
			if app != nil {
				t.Errorf("Load returned an App along with errors")
			}
			want := markers(t, files)
			if len(want) == 0 {
				t.Fatalf("case has no # ERROR: markers")
			}
			if diff := cmp.Diff(want, diagLines(diags)); diff != "" {
				t.Errorf("diagnostics differ from the markers (-want +got):\n%s", diff)
			}
			golden(t, strings.TrimSuffix(path, FileSuffix)+".golden", render(files, diags))
		})
	}
}

// TestValid loads every valid case: no errors, only the marked warnings, and
// a decoded App whose dump matches the golden file.
func TestValid(t *testing.T) {
	for _, path := range corpus(t, "testdata/valid") {
		t.Run(caseName(path), func(t *testing.T) {
			app, files, diags := loadCase(t, path, testOptions())
			if diags.HasErrors() {
				t.Fatalf("unexpected errors:\n%s", render(files, diags))
			}
			if diff := cmp.Diff(markers(t, files), diagLines(diags)); diff != "" {
				t.Errorf("warnings differ from the markers (-want +got):\n%s", diff)
			}
			golden(t, strings.TrimSuffix(path, FileSuffix)+".golden", dumpApp(t, app))
		})
	}
}

// TestShopIsTheSpecExample: the example project (SPEC.md's example verbatim)
// validates cleanly. spec/shop_test.go compares what it decodes to.
func TestShopIsTheSpecExample(t *testing.T) {
	app, files, diags := Load("../examples/shop", Options{Getenv: func(string) string { return "" }})
	if len(diags) > 0 {
		t.Fatalf("the example project does not validate cleanly:\n%s", render(files, diags))
	}
	if app.Name != "shop" || len(app.Functions) != 6 || len(app.Triggers) != 8 {
		t.Errorf("example decoded as %s with %d functions and %d triggers", app.Name, len(app.Functions), len(app.Triggers))
	}
}
