package main

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/google/go-cmp/cmp"

	"github.com/evdeploy/evdeploy/internal/motoserver"
)

const layerSpec = `app "lay" {}

layer "deps" {
  source   = "./layers/deps"
  runtimes = ["python3.12"]
}

function "api" {
  runtime = "python3.12"
  source  = "./fn"
  handler = "main.handler"
  layers  = [layer.deps.arn]
}
`

// TestE2ELayer is issue 14's layer block on moto (kumo has no
// PublishLayerVersion): apply publishes version 1 and the function uses it;
// the re-plan is clean; new layer content plans a new version and the
// function's update, and apply leaves only the new version; destroy leaves
// no version.
func TestE2ELayer(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	endpoint := motoserver.URL(t)
	ctx := context.Background()
	lc := lambda.NewFromConfig(sdkConfig(endpoint))
	dir := t.TempDir()
	write := func(rel, body string) { t.Helper(); writeTestFile(t, filepath.Join(dir, rel), body) }
	write("fn/main.py", "import util\n\ndef handler(event, context):\n    return util.answer()\n")
	write("layers/deps/python/util.py", "def answer():\n    return 1\n")
	write("evdeploy.evd.hcl", layerSpec)
	stage := uniqueStage("l")
	common := []string{"-C", dir, "--stage", stage, "--target", "local", "--endpoint", endpoint}
	layerName := "lay-" + stage + "-deps"

	versions := func() []int64 {
		t.Helper()
		out, err := lc.ListLayerVersions(ctx, &lambda.ListLayerVersionsInput{LayerName: aws.String(layerName)})
		if err != nil {
			t.Fatalf("ListLayerVersions: %v", err)
		}
		var v []int64
		for _, x := range out.LayerVersions {
			v = append(v, x.Version)
		}
		slices.Sort(v)
		return v
	}
	fnLayers := func() []string {
		t.Helper()
		fn, err := lc.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("lay-" + stage + "-api")})
		if err != nil {
			t.Fatalf("GetFunction: %v", err)
		}
		var l []string
		for _, x := range fn.Configuration.Layers {
			l = append(l, aws.ToString(x.Arn))
		}
		return l
	}

	mustEvd(t, 0, append([]string{"apply", "--auto-approve"}, common...)...)
	mustEvd(t, 0, append([]string{"plan", "--detailed-exitcode"}, common...)...)
	if d := cmp.Diff([]int64{1}, versions()); d != "" {
		t.Errorf("versions after apply (-want +got):\n%s", d)
	}
	if l := fnLayers(); len(l) != 1 || !strings.HasSuffix(l[0], ":layer:"+layerName+":1") {
		t.Errorf("function layers = %v, want version 1 of %s", l, layerName)
	}

	// Same content, rebuilt: no new version.
	write("fn/main.py", "import util\n\ndef handler(event, context):\n    return util.answer() + 0\n")
	if d := cmp.Diff([]string{"function.api/aws_lambda_function.main update code_sha256"}, planChanges(t, common...)); d != "" {
		t.Errorf("function edit (-want +got):\n%s", d)
	}

	// New layer content: a new version, followed by the function.
	write("layers/deps/python/util.py", "def answer():\n    return 2\n")
	want := []string{
		"function.api/aws_lambda_function.main update code_sha256,layers",
		"layer.deps/aws_lambda_layer_version.main replace code_sha256",
	}
	if d := cmp.Diff(want, planChanges(t, common...)); d != "" {
		t.Errorf("layer edit (-want +got):\n%s", d)
	}
	mustEvd(t, 0, append([]string{"apply", "--auto-approve"}, common...)...)
	mustEvd(t, 0, append([]string{"plan", "--detailed-exitcode"}, common...)...)
	if d := cmp.Diff([]int64{2}, versions()); d != "" {
		t.Errorf("versions after the layer edit (-want +got):\n%s", d)
	}
	if l := fnLayers(); len(l) != 1 || !strings.HasSuffix(l[0], ":layer:"+layerName+":2") {
		t.Errorf("function layers = %v, want version 2 of %s", l, layerName)
	}

	// Drift: the version deleted out of band is published again, and the
	// function follows it; then the re-plan is clean.
	v2 := fnLayers()[0]
	if _, err := lc.DeleteLayerVersion(ctx, &lambda.DeleteLayerVersionInput{LayerName: aws.String(layerName), VersionNumber: aws.Int64(2)}); err != nil {
		t.Fatal(err)
	}
	want = []string{
		"function.api/aws_lambda_function.main update layers",
		"layer.deps/aws_lambda_layer_version.main create",
	}
	if d := cmp.Diff(want, planChanges(t, common...)); d != "" {
		t.Errorf("deleted version (-want +got):\n%s", d)
	}
	mustEvd(t, 0, append([]string{"apply", "--auto-approve"}, common...)...)
	mustEvd(t, 0, append([]string{"plan", "--detailed-exitcode"}, common...)...)
	if l := fnLayers(); len(l) != 1 || l[0] == v2 || !strings.HasSuffix(l[0], ":layer:"+layerName+":3") {
		t.Errorf("function layers after the drift repair = %v, want version 3 of %s", l, layerName)
	}

	mustEvd(t, 0, append([]string{"destroy", "--auto-approve"}, common...)...)
	if v := versions(); len(v) != 0 {
		t.Errorf("versions after destroy = %v, want none", v)
	}
}

// TestLayerOnEngine: the embedded engine (kumo) cannot publish layers, so a
// spec with one fails before anything is built or applied, naming the layer
// block, rather than with kumo's 400 mid-apply.
func TestLayerOnEngine(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a process")
	}
	localTestEnv(t)
	if code, out, errOut := runLocal(t, "local", "up"); code != 0 {
		t.Fatalf("local up: exit %d\n%s%s", code, out, errOut)
	}
	dir := t.TempDir()
	for rel, body := range map[string]string{
		"fn/main.py":                 "def handler(event, context):\n    return {}\n",
		"layers/deps/python/util.py": "X = 1\n",
		"evdeploy.evd.hcl":           layerSpec,
	} {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, cmd := range []string{"plan", "apply"} {
		code, out, errOut := runLocal(t, cmd, "--auto-approve", "-C", dir, "--target", "local")
		if cmd == "plan" {
			code, out, errOut = runLocal(t, cmd, "-C", dir, "--target", "local")
		}
		if code == 0 || !strings.Contains(errOut, "layer.deps: the embedded engine (kumo) cannot publish Lambda layers") {
			t.Errorf("%s on the engine: exit %d, want a failure naming layer.deps\nstdout:\n%s\nstderr:\n%s", cmd, code, out, errOut)
		}
	}
}
