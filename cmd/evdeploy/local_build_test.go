package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/google/go-cmp/cmp"

	"github.com/evdeploy/evdeploy/internal/pkgfixture"
)

// TestLocalRunsBuiltPackages: a TypeScript handler importing an npm package
// (bundled by evdeploy after npm ci from its lockfile) and a Python handler
// whose requirements.txt names wheels (installed by pip for Lambda's
// platform) are deployed to the embedded engine as built, and each returns a
// value computed by its dependency; then the same for the queue-worker-ts
// and http-api-python templates as scaffolded (zod comes from the npm
// registry, which the test machines reach; PyPI is never needed).
func TestLocalRunsBuiltPackages(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	for _, tool := range [][]string{{"node", "--version"}, {"npm", "--version"}, {"python3", "-m", "pip", "--version"}} {
		if err := exec.Command(tool[0], tool[1:]...).Run(); err != nil {
			t.Skipf("%v does not run here: %v", tool, err)
		}
	}
	port := localEngineUp(t)

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
		invokeLocal(t, dir, c.fn, c.payload, c.want)
	}

	if code, out, errOut := runLocal(t, "destroy", "--auto-approve", "-C", dir, "--target", "local"); code != 0 {
		t.Errorf("destroy: exit %d\n%s%s", code, out, errOut)
	}

	// The TypeScript and Python templates run on the same engine as scaffolded:
	// zod is installed from the npm registry by npm ci and bundled; textkit is
	// installed from the template's own wheel.
	// Then an event produced at each template's real source (a message sent to
	// the queue, a request to the route) must show the handler's effect: the
	// worker's log line for the accepted order, the route's answer.
	logs := newLocalClientsAt(t, fmt.Sprintf("http://127.0.0.1:%d", port)).logs
	for _, c := range []struct {
		template, fn, payload string
		want                  map[string]any
		trigger, event        string
		effect                func(t *testing.T, app, fired string) bool
	}{
		{"queue-worker-ts", "worker",
			`{"Records": [{"messageId": "m1", "body": "{\"order_id\": \"o-1\", \"item\": \"book\", \"quantity\": 2}"}, {"messageId": "m2", "body": "oops"}]}`,
			map[string]any{"batchItemFailures": []any{map[string]any{"itemIdentifier": "m2"}}},
			"orders", `{"order_id": "o-9", "item": "kettle", "quantity": 3}`,
			func(t *testing.T, app, _ string) bool {
				out, err := logs.FilterLogEvents(t.Context(), &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String("/aws/lambda/" + app + "-dev-worker")})
				if err != nil {
					return false
				}
				for _, e := range out.Events {
					if strings.Contains(aws.ToString(e.Message), `"accepted":{"order_id":"o-9","item":"kettle","quantity":3}`) {
						return true
					}
				}
				return false
			}},
		{"http-api-python", "stats", `{"body": "The cat sat. The cat ran!"}`,
			map[string]any{"statusCode": 200.0, "headers": map[string]any{"content-type": "application/json"},
				"body": `{"words": 6, "sentences": 2, "top": [["the", 2], ["cat", 2], ["sat", 1]]}`},
			"text_stats", "A dog. A dog barked. Dogs!",
			func(t *testing.T, _, fired string) bool {
				return strings.TrimSpace(fired) == `{"words": 6, "sentences": 3, "top": [["a", 2], ["dog", 2], ["barked", 1]]}`
			}},
	} {
		proj := filepath.Join(t.TempDir(), "p"+c.fn)
		if code, out, errOut := runLocal(t, "init", "--template", c.template, proj); code != 0 {
			t.Fatalf("init %s: exit %d\n%s%s", c.template, code, out, errOut)
		}
		if code, out, errOut := runLocal(t, "apply", "--auto-approve", "-C", proj, "--target", "local"); code != 0 {
			t.Fatalf("apply %s: exit %d\n%s%s", c.template, code, out, errOut)
		}
		invokeLocal(t, proj, c.fn, c.payload, c.want)
		code, fired, errOut := runLocal(t, "fire", c.trigger, "--payload", c.event, "-C", proj, "--target", "local")
		if code != 0 {
			t.Fatalf("fire %s: exit %d\n%s%s", c.trigger, code, fired, errOut)
		}
		for deadline := time.Now().Add(60 * time.Second); !c.effect(t, "p"+c.fn, fired); time.Sleep(300 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: no effect of the %s event within 60 s (fire printed %q)\nengine log:\n%s", c.template, c.trigger, fired, engineLog(t))
			}
		}
		if code, out, errOut := runLocal(t, "destroy", "--auto-approve", "--allow-data-loss", "-C", proj, "--target", "local"); code != 0 {
			t.Errorf("destroy %s: exit %d\n%s%s", c.template, code, out, errOut)
		}
	}
}

// invokeLocal invokes fn of the project in dir on the local engine until it
// answers (the engine starts the function's process on first use), and
// compares the JSON answer with want.
func invokeLocal(t *testing.T, dir, fn, payload string, want map[string]any) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		code, out, errOut := runLocal(t, "invoke", fn, "-C", dir, "--target", "local", "--payload", payload)
		var got map[string]any
		if code == 0 && json.Unmarshal([]byte(out), &got) == nil {
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("invoke %s (-want +got):\n%s", fn, diff)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("invoke %s: exit %d\nstdout: %s\nstderr: %s\nengine log:\n%s", fn, code, out, errOut, engineLog(t))
		}
		time.Sleep(300 * time.Millisecond)
	}
}
