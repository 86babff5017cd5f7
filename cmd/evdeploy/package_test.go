package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// writeProject writes files (relative path → content) into a new project folder.
func writeProject(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func runCLI(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(args, &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
	return out.String(), errOut.String(), code
}

var packageProject = map[string]string{
	"evdeploy.evd.hcl": `app "pk" {}

function "resize" {
  runtime = "python3.12"
  source  = "./functions/resize"
  handler = "main.handler"
  bundle  = false # vendored by hand (here: not at all, hence the warning)
}

function "clicks" {
  runtime      = "nodejs20.x"
  source       = "./functions/clicks"
  handler      = "index.handler"
  architecture = "x86_64"
}
`,
	"functions/resize/main.py":          "def handler(event, context):\n    return {'ok': True}\n",
	"functions/resize/test_main.py":     "def test_handler(): pass\n",
	"functions/resize/requirements.txt": "pillow==10.0.0\n",
	"functions/clicks/index.js":         "exports.handler = async () => ({ ok: true });\n",
}

func TestPackage(t *testing.T) {
	t.Parallel()
	dir := writeProject(t, packageProject)
	cache := filepath.Join(dir, ".evdeploy", "build")

	// The SHA-256 values are part of the expected output: packages are
	// deterministic, so they are the same on every machine.
	out, errOut, code := runCLI(t, "package", "-C", dir)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	want := `FUNCTION         RUNTIME     SIZE   SHA-256                                       BUILD
function.clicks  nodejs20.x  172 B  p9m3GMIKbDoReFObfB5ZDop22YSPQqnTZLoim19XcyI=  built
function.resize  python3.12  288 B  nx+DD9zkSNx7UOJfxByqIVpf2vcYEquRPcq9N0+SCco=  built

2 packaged (2 built, 0 cached), in ` + cache + ".\n"
	if diff := cmp.Diff(want, out); diff != "" {
		t.Errorf("first package (-want +got):\n%s", diff)
	}
	if !strings.Contains(errOut, "function.resize: requirements.txt lists pillow, not vendored") {
		t.Errorf("stderr lacks the vendoring warning:\n%s", errOut)
	}

	out, _, code = runCLI(t, "package", "-C", dir)
	if code != 0 || !strings.Contains(out, "2 packaged (0 built, 2 cached)") {
		t.Errorf("second package: exit %d\n%s", code, out)
	}

	// --json and --out: the written files are the packages listed.
	outDir := filepath.Join(t.TempDir(), "dist")
	out, errOut, code = runCLI(t, "package", "-C", dir, "--json", "--out", outDir)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	var got struct{ Functions []packageJSON }
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var summary []string
	for _, p := range got.Functions {
		data, err := os.ReadFile(p.Path)
		if err != nil {
			t.Fatal(err)
		}
		if int64(len(data)) != p.Size {
			t.Errorf("%s: %d bytes on disk, %d reported", p.Path, len(data), p.Size)
		}
		rel, _ := filepath.Rel(outDir, p.Path)
		summary = append(summary, fmt.Sprintf("%s %s %s %s %s cached=%v warnings=%d", p.Function, p.Runtime, p.Handler, rel, p.SHA256, p.Cached, len(p.Warnings)))
	}
	wantSummary := []string{
		"function.clicks nodejs20.x index.handler clicks.zip p9m3GMIKbDoReFObfB5ZDop22YSPQqnTZLoim19XcyI= cached=true warnings=0",
		"function.resize python3.12 main.handler resize.zip nx+DD9zkSNx7UOJfxByqIVpf2vcYEquRPcq9N0+SCco= cached=true warnings=1",
	}
	if diff := cmp.Diff(wantSummary, summary); diff != "" {
		t.Errorf("--json (-want +got):\n%s", diff)
	}

	// Editing one function rebuilds only it.
	if err := os.WriteFile(filepath.Join(dir, "functions/clicks/index.js"), []byte("exports.handler = async () => 1;\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, _, _ = runCLI(t, "package", "-C", dir)
	if !strings.Contains(out, "2 packaged (1 built, 1 cached)") || !strings.Contains(out, "g8e0ZIrTNHn8wse59xz40nfP/ARVOcovetiosvixO9w=  built") {
		t.Errorf("after editing clicks:\n%s", out)
	}
}

func TestPackageErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		files map[string]string
		args  []string
		want  string
	}{
		{
			name: "compile error names the function and shows the compiler",
			files: map[string]string{
				"evdeploy.evd.hcl":           "app \"pk\" {}\n\nfunction \"broken\" {\n  runtime = \"go\"\n  source  = \"./fn\"\n}\n",
				"fn/go.mod":                  "module example.com/broken\n\ngo 1.26\n",
				"fn/main.go":                 "package main\n\nfunc main() { nope() }\n",
				"other/ignored_by_spec.txt":  "",
				"fn/README.md":               "",
				"fn/internal/x/x_unused.txt": "",
			},
			want: "Error: function.broken: go build failed in ",
		},
		{
			name:  "spec errors stop before building",
			files: map[string]string{"evdeploy.evd.hcl": "app \"pk\" {}\n\nfunction \"gone\" {\n  runtime = \"python3.12\"\n  source  = \"./nowhere\"\n  handler = \"m.h\"\n}\n"},
			want:  "Source folder not found",
		},
		{
			name:  "no arguments",
			files: map[string]string{"evdeploy.evd.hcl": "app \"pk\" {}\n"},
			args:  []string{"extra"},
			want:  `unknown command "extra"`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := writeProject(t, tc.files)
			_, errOut, code := runCLI(t, append([]string{"package", "-C", dir}, tc.args...)...)
			if code != exitError || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, stderr:\n%s\nwant exit 1 and %q", code, errOut, tc.want)
			}
		})
	}
}

func TestPackageNoFunctions(t *testing.T) {
	t.Parallel()
	dir := writeProject(t, map[string]string{"evdeploy.evd.hcl": "app \"pk\" {}\n\nqueue \"q\" {}\n"})
	out, errOut, code := runCLI(t, "package", "-C", dir)
	if code != 0 || out != "No functions to package.\n" {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}
