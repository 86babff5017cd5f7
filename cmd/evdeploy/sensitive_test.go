package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
)

// A secret given as a sensitive variable, and one marked with sensitive(),
// reach AWS (the function's environment) and appear nowhere in what plan,
// plan --json, apply, output, destroy and --log-level debug print; `output
// NAME` prints one on request. State and saved plans are 0600.
func TestE2ESensitiveValues(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	const (
		password = "pw-Zq7xK2vLr9Tn4Ws"  // via --var
		token    = "tok-Hs8dPq3Vm6Yc1Ra" // in the spec, through sensitive()
	)
	emu := emulator(t)
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"evdeploy.evd.hcl": `app "sec" {}

variable "db_password" {
  sensitive = true
}

locals {
  # Sensitivity follows the value through expressions.
  dsn = "postgres://app:${var.db_password}@db.internal/app"
}

function "api" {
  runtime = "python3.12"
  source  = "./fn"
  handler = "main.handler"
  memory  = 128
  environment = {
    DSN   = local.dsn
    TOKEN = sensitive("` + token + `")
    MODE  = "plain"
  }
}

output "dsn" {
  value = local.dsn # sensitive because it reads a sensitive value
}

output "mode" {
  value = "plain"
}
`,
		"fn/main.py": "def handler(event, context):\n    return {}\n",
	})
	stage := uniqueStage("s")
	common := []string{"-C", dir, "--stage", stage, "--target", "local", "--endpoint", emu, "--var", "db_password=" + password}
	var printed []string
	step := func(want int, args ...string) result {
		t.Helper()
		r := mustEvd(t, want, append(args, common...)...)
		printed = append(printed, strings.Join(args, " ")+"\n"+r.out+r.errOut)
		return r
	}

	planFile := filepath.Join(t.TempDir(), "saved.plan")
	step(0, "validate")
	step(0, "plan", "--log-level", "debug")
	step(0, "plan", "--detail", "--log-level", "debug")
	step(0, "plan", "--json")
	step(0, "plan", "-out", planFile)
	step(0, "apply", "--auto-approve", "--log-level", "debug", planFile)
	step(0, "plan", "--detailed-exitcode", "--log-level", "debug")
	step(0, "output")
	step(0, "output", "--json")
	step(0, "state", "list")

	// A change of the secret alone is a change of the environment, shown
	// masked; so is the apply that makes it.
	common[len(common)-1] = "db_password=" + password + "-rotated"
	if r := step(2, "plan", "--detailed-exitcode", "--detail"); !strings.Contains(r.out, "environment") || !strings.Contains(r.out, "(sensitive)") {
		t.Errorf("a rotated secret's plan does not show the environment as (sensitive):\n%s", r.out)
	}
	step(0, "plan", "--json")
	step(0, "apply", "--auto-approve", "--log-level", "debug")

	// The secrets did reach the function: the test greps for real values.
	cfg := sdkConfig(emu)
	fn, err := lambda.NewFromConfig(cfg).GetFunctionConfiguration(context.Background(), &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("sec-" + stage + "-api")})
	if err != nil {
		t.Fatal(err)
	}
	env := fn.Environment.Variables
	if env["TOKEN"] != token || !strings.Contains(env["DSN"], password+"-rotated") || env["MODE"] != "plain" {
		t.Fatalf("deployed environment = %v, want the secrets in it", env)
	}

	// Asked for by name, an output is printed in clear (for scripts).
	if r := mustEvd(t, 0, append([]string{"output", "dsn"}, common...)...); !strings.Contains(r.out, password) {
		t.Errorf("output dsn = %q, want the value", r.out)
	}

	for _, p := range []string{filepath.Join(dir, ".evdeploy", "state", stage+".json"), planFile} {
		if st, err := os.Stat(p); err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, %v; want 0600 (it holds secrets)", p, st.Mode().Perm(), err)
		}
	}
	step(0, "destroy", "--auto-approve", "--log-level", "debug")

	for _, out := range printed {
		for _, secret := range []string{password, token} {
			if strings.Contains(out, secret) {
				t.Errorf("evdeploy %s\n--- printed a sensitive value (%s)", out, secret)
			}
		}
	}
	if all := strings.Join(printed, "\n"); !strings.Contains(all, "(sensitive)") {
		t.Errorf("no output shows (sensitive):\n%s", all)
	}
}

func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
