package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/evdeploy/evdeploy/internal/pkgfixture"
)

// TestLocalRunsBuiltPackages: a TypeScript handler importing an npm package
// (bundled by evdeploy after npm ci from its lockfile) and a Python handler
// whose requirements.txt names wheels (installed by pip for Lambda's
// platform) are deployed to the embedded engine as built, and each returns a
// value computed by its dependency.
func TestLocalRunsBuiltPackages(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	for _, tool := range [][]string{{"node", "--version"}, {"npm", "--version"}, {"python3", "-m", "pip", "--version"}} {
		if err := exec.Command(tool[0], tool[1:]...).Run(); err != nil {
			t.Skipf("%v does not run here: %v", tool, err)
		}
	}
	localTestEnv(t)
	for _, k := range []string{"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE"} {
		t.Setenv(k, "")
	}
	if code, out, errOut := runLocal(t, "local", "up"); code != 0 {
		t.Fatalf("local up: exit %d\n%s%s", code, out, errOut)
	}

	dir := t.TempDir()
	if err := pkgfixture.TSFunction(filepath.Join(dir, "greet")); err != nil {
		t.Fatal(err)
	}
	if _, err := pkgfixture.PyFunction(filepath.Join(dir, "py")); err != nil {
		t.Fatal(err)
	}
	// Built for this machine's architecture, as the engine runs it here.
	arch := map[string]string{"amd64": "x86_64", "arm64": "arm64"}[runtime.GOARCH]
	spec := fmt.Sprintf(`app "deps" {}

function "greet" {
  runtime      = "nodejs20.x"
  source       = "./greet"
  handler      = "handler.handler"
  architecture = %[1]q
}

function "calc" {
  runtime      = "python3.12"
  source       = "./py/fn"
  handler      = "handler.handler"
  architecture = %[1]q
}
`, arch)
	if err := os.WriteFile(filepath.Join(dir, "evdeploy.evd.hcl"), []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := runLocal(t, "apply", "--auto-approve", "-C", dir, "--target", "local"); code != 0 {
		t.Fatalf("apply --target local: exit %d\n%s%s", code, out, errOut)
	}

	for _, c := range []struct {
		fn, payload string
		want        map[string]any
	}{
		{"greet", `{"name":"engine"}`, map[string]any{"message": "HELLO ENGINE!"}},
		{"calc", `{"n":21}`, map[string]any{"value": 42.0, "greeting": "hi"}},
	} {
		deadline := time.Now().Add(30 * time.Second)
		for {
			code, out, errOut := runLocal(t, "invoke", c.fn, "-C", dir, "--target", "local", "--payload", c.payload)
			var got map[string]any
			if code == 0 && json.Unmarshal([]byte(out), &got) == nil {
				if diff := cmp.Diff(c.want, got); diff != "" {
					t.Errorf("invoke %s (-want +got):\n%s", c.fn, diff)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("invoke %s: exit %d\nstdout: %s\nstderr: %s\nengine log:\n%s", c.fn, code, out, errOut, engineLog(t))
			}
			time.Sleep(300 * time.Millisecond)
		}
	}

	if code, out, errOut := runLocal(t, "destroy", "--auto-approve", "-C", dir, "--target", "local"); code != 0 {
		t.Errorf("destroy: exit %d\n%s%s", code, out, errOut)
	}
}
