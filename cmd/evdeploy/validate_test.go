package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// runEvd runs the CLI with buffers for streams and colour off.
func runEvd(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(args, &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
	return out.String(), errOut.String(), code
}

// specProject writes a one-file project (and a source folder for it).
func specProject(t *testing.T, src string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "src"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "src", "main.go"), []byte("package main\n\nfunc main() {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "evdeploy.evd.hcl"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

const invalidSpec = `app "bad" {}

function "fn" {
  runtime = "go"
  source  = "./src"
  memory  = 64
}

queue "q" {
  visibilty_timeout = "1m"
}
`

func TestNewCmdValidate(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want ValidateOptions
	}{
		{nil, ValidateOptions{}},
		{[]string{"--json"}, ValidateOptions{JSON: true}},
	} {
		var got *ValidateOptions
		f := &Factory{IO: &IOStreams{Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}}, Global: &GlobalOptions{}}
		cmd := newCmdValidate(f, func(o *ValidateOptions) error { got = o; return nil })
		cmd.SetArgs(tt.args)
		if err := cmd.Execute(); err != nil {
			t.Fatal(err)
		}
		if got.JSON != tt.want.JSON || got.Factory != f {
			t.Errorf("%v: got %+v", tt.args, got)
		}
	}
}

func TestValidateRun(t *testing.T) {
	shop, err := filepath.Abs("../../examples/shop")
	if err != nil {
		t.Fatal(err)
	}
	bad := specProject(t, invalidSpec)
	badFile := filepath.Join(bad, "evdeploy.evd.hcl")

	t.Run("SPEC example is valid", func(t *testing.T) {
		out, errOut, code := runEvd(t, "validate", "-C", shop)
		if code != 0 || errOut != "" {
			t.Fatalf("exit %d, stderr:\n%s", code, errOut)
		}
		want := "The project \"shop\" is valid (stage dev): 6 functions, 1 queue, 1 topic, 1 bus, 1 bucket, 1 table, 1 stream, 1 api, 8 triggers, 1 output.\n"
		if diff := cmp.Diff(want, out); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})

	t.Run("invalid: every error, with snippets", func(t *testing.T) {
		out, errOut, code := runEvd(t, "validate", "-C", bad, "--no-color")
		if code != exitError {
			t.Errorf("exit %d, want %d", code, exitError)
		}
		if out != "" {
			t.Errorf("stdout: %q", out)
		}
		for _, want := range []string{
			"Error: Value out of range",
			"on " + badFile + " line 6, in function \"fn\":",
			`   6:   memory  = 64`,
			"Error: Unsupported argument",
			`Did you mean "visibility_timeout"?`,
		} {
			if !strings.Contains(errOut, want) {
				t.Errorf("stderr lacks %q:\n%s", want, errOut)
			}
		}
	})

	t.Run("--json valid", func(t *testing.T) {
		out, _, code := runEvd(t, "validate", "-C", shop, "--json")
		if code != 0 {
			t.Fatalf("exit %d", code)
		}
		if diff := cmp.Diff("{\n  \"valid\": true,\n  \"diagnostics\": []\n}\n", out); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})

	t.Run("--json invalid", func(t *testing.T) {
		out, errOut, code := runEvd(t, "validate", "-C", bad, "--json")
		if code != exitError || errOut != "" {
			t.Fatalf("exit %d, stderr %q", code, errOut)
		}
		var got jsonResult
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("%v:\n%s", err, out)
		}
		want := jsonResult{Valid: false, Diagnostics: []jsonDiag{
			{
				Severity: "error", Summary: "Value out of range",
				Detail: `"memory" must be between 128 and 10240 MB; got 64.`,
				Range: &jsonRange{Filename: badFile,
					Start: jsonPos{Line: 6, Column: 13, Byte: 79}, End: jsonPos{Line: 6, Column: 15, Byte: 81}},
			},
			{
				Severity: "error", Summary: "Unsupported argument",
				Detail: `An argument named "visibilty_timeout" is not expected here. Did you mean "visibility_timeout"?`,
				Range: &jsonRange{Filename: badFile,
					Start: jsonPos{Line: 10, Column: 3, Byte: 99}, End: jsonPos{Line: 10, Column: 20, Byte: 116}},
			},
		}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})

	t.Run("warnings are shown, the project stays valid", func(t *testing.T) {
		dir := specProject(t, `app "w" {}

function "fn" {
  runtime = "go"
  source  = "./src"
  handler = "main"
}
`)
		out, errOut, code := runEvd(t, "validate", "-C", dir)
		if code != 0 || !strings.HasPrefix(out, "The project \"w\" is valid") {
			t.Errorf("exit %d, stdout %q", code, out)
		}
		if !strings.Contains(errOut, "Warning: Handler is ignored") || !strings.Contains(errOut, `   6:   handler = "main"`) {
			t.Errorf("stderr lacks the warning:\n%s", errOut)
		}
		out, _, code = runEvd(t, "validate", "-C", dir, "--json")
		if code != 0 || !strings.Contains(out, `"valid": true`) || !strings.Contains(out, `"severity": "warning"`) {
			t.Errorf("--json: exit %d:\n%s", code, out)
		}
	})

	t.Run("bad --var", func(t *testing.T) {
		_, errOut, code := runEvd(t, "validate", "-C", shop, "--var", "novalue")
		if code != exitError || !strings.Contains(errOut, `--var "novalue": expected name=value`) {
			t.Errorf("exit %d, stderr %q", code, errOut)
		}
	})

	t.Run("bad --var with --json is still JSON", func(t *testing.T) {
		out, _, code := runEvd(t, "validate", "-C", shop, "--var", "novalue", "--json")
		var got jsonResult
		if err := json.Unmarshal([]byte(out), &got); err != nil || code != exitError {
			t.Fatalf("exit %d, %v:\n%s", code, err, out)
		}
		want := jsonResult{Diagnostics: []jsonDiag{{Severity: "error", Summary: "Invalid command line", Detail: `--var "novalue": expected name=value`}}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})

	t.Run("--var and --stage reach the spec", func(t *testing.T) {
		dir := specProject(t, `app "v" {
  tags = { stage = var.stage, size = var.size }
}
variable "stage" {}
variable "size" {
  type = number
}
`)
		_, errOut, code := runEvd(t, "validate", "-C", dir, "--stage", "prod", "--var", "size=3")
		if code != 0 {
			t.Fatalf("exit %d:\n%s", code, errOut)
		}
		_, errOut, code = runEvd(t, "validate", "-C", dir, "--var", "size=big")
		if code != exitError || !strings.Contains(errOut, `"big" is not a valid number`) {
			t.Errorf("exit %d, stderr:\n%s", code, errOut)
		}
	})
}
