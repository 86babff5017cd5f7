package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/evdeploy/evdeploy/internal/apicalls"
)

func smallProject(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	spec := "app \"small\" {}\n\nqueue \"jobs\" {}\n\nqueue \"other\" {}\n"
	if err := os.WriteFile(filepath.Join(dir, "evdeploy.evd.hcl"), []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// Without a terminal, apply and destroy refuse instead of waiting for an
// answer; at a terminal only "yes" applies.
func TestApplyConfirmation(t *testing.T) {
	emu := emulator(t)
	dir := smallProject(t)
	stage := uniqueStage("c")
	common := []string{"-C", dir, "--stage", stage, "--target", "local", "--endpoint", emu}
	queueExists := func() bool {
		_, err := sqs.NewFromConfig(sdkConfig(emu)).GetQueueUrl(context.Background(), &sqs.GetQueueUrlInput{QueueName: aws.String("small-" + stage + "-jobs")})
		return err == nil
	}

	r := mustEvd(t, 1, append([]string{"apply"}, common...)...)
	if !strings.Contains(r.errOut, "--auto-approve") {
		t.Errorf("non-TTY apply should name --auto-approve:\n%s", r.errOut)
	}
	if queueExists() {
		t.Fatal("a refused apply created the queue")
	}

	atTerminal := func(answer string, args ...string) (int, string) {
		var out, errOut bytes.Buffer
		code := run(args, &IOStreams{In: strings.NewReader(answer), Out: &out, ErrOut: &errOut, InTTY: true, OutTTY: true})
		return code, out.String() + errOut.String()
	}
	if code, out := atTerminal("no\n", append([]string{"apply"}, common...)...); code != 1 || !strings.Contains(out, "cancelled") {
		t.Errorf("answer no: exit %d\n%s", code, out)
	}
	if queueExists() {
		t.Fatal("a cancelled apply created the queue")
	}
	if code, out := atTerminal("yes\n", append([]string{"apply"}, common...)...); code != 0 {
		t.Fatalf("answer yes: exit %d\n%s", code, out)
	}
	if !queueExists() {
		t.Fatal("the confirmed apply did not create the queue")
	}

	// --target-block limits the plan to one block: the other queue stays
	// untouched.
	if err := os.WriteFile(filepath.Join(dir, "evdeploy.evd.hcl"), []byte("app \"small\" {}\n\nqueue \"jobs\" {\n  visibility_timeout = \"90s\"\n}\n\nqueue \"other\" {\n  visibility_timeout = \"45s\"\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got := planChanges(t, append([]string{"--target-block", "queue.jobs"}, common...)...)
	if want := []string{"queue.jobs/aws_sqs_queue.main update visibility_timeout"}; strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("targeted plan = %v, want %v", got, want)
	}
	mustEvd(t, 0, append([]string{"apply", "--auto-approve", "--target-block", "queue.jobs"}, common...)...)
	if got := planChanges(t, common...); strings.Join(got, "\n") != "queue.other/aws_sqs_queue.main update visibility_timeout" {
		t.Errorf("after the targeted apply the plan is %v, want only queue.other", got)
	}

	if code, out := atTerminal("", append([]string{"destroy"}, common...)...); code != 1 {
		t.Errorf("destroy with no answer: exit %d\n%s", code, out)
	}
	mustEvd(t, 0, append([]string{"destroy", "--auto-approve", "--allow-data-loss"}, common...)...)
}

// A saved plan is bound to the variables it was made with: applying it with
// other values is refused as stale, and with the same ones it applies.
func TestSavedPlanBindsVariables(t *testing.T) {
	emu := emulator(t)
	dir := t.TempDir()
	spec := "app \"vars\" {}\n\nvariable \"visibility\" {\n  default = \"30s\"\n}\n\nqueue \"jobs\" {\n  visibility_timeout = var.visibility\n}\n"
	if err := os.WriteFile(filepath.Join(dir, "evdeploy.evd.hcl"), []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	common := []string{"-C", dir, "--stage", uniqueStage("v"), "--target", "local", "--endpoint", emu}
	planFile := filepath.Join(t.TempDir(), "p.plan")
	mustEvd(t, 0, append([]string{"plan", "-out", planFile, "--var", "visibility=45s"}, common...)...)
	r := mustEvd(t, 1, append([]string{"apply", planFile, "--var", "visibility=50s"}, common...)...)
	if !strings.Contains(r.errOut, "stale") {
		t.Errorf("applying a plan with other variables:\n%s", r.errOut)
	}
	mustEvd(t, 0, append([]string{"apply", planFile, "--var", "visibility=45s"}, common...)...)
	mustEvd(t, 0, append([]string{"destroy", "--auto-approve", "--allow-data-loss", "--var", "visibility=45s"}, common...)...)
}

// State made on one target is never planned against another: the plan would
// recreate everything there and lose track of what exists here.
func TestStateBoundToTarget(t *testing.T) {
	emu := emulator(t)
	other := apicalls.NewCounter(emu) // the same cloud behind another endpoint
	t.Cleanup(other.Close)
	dir := smallProject(t)
	stage := uniqueStage("g")
	mustEvd(t, 0, "apply", "--auto-approve", "-C", dir, "--stage", stage, "--target", "local", "--endpoint", emu)
	r := mustEvd(t, 1, "plan", "-C", dir, "--stage", stage, "--target", "local", "--endpoint", other.URL)
	if !strings.Contains(r.errOut, emu) || !strings.Contains(r.errOut, other.URL) {
		t.Errorf("the refusal should name both targets:\n%s", r.errOut)
	}
	mustEvd(t, 0, "destroy", "--auto-approve", "--allow-data-loss", "-C", dir, "--stage", stage, "--target", "local", "--endpoint", emu)
}

// A spec that no longer loads (a function's folder deleted) does not strand
// what is deployed: plan refuses with the spec's errors, destroy goes on from
// state alone and leaves nothing.
func TestDestroyWithBrokenSpec(t *testing.T) {
	emu := emulator(t)
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "fn"), 0o755); err != nil {
		t.Fatal(err)
	}
	spec := "app \"broken\" {}\n\nfunction \"f\" {\n  runtime = \"python3.12\"\n  source  = \"./fn\"\n  handler = \"main.handler\"\n}\n\nqueue \"q\" {}\n"
	for name, body := range map[string]string{"evdeploy.evd.hcl": spec, "fn/main.py": "def handler(e, c):\n    return None\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	stage := uniqueStage("x")
	common := []string{"-C", dir, "--stage", stage, "--target", "local", "--endpoint", emu}
	mustEvd(t, 0, append([]string{"apply", "--auto-approve"}, common...)...)
	deployed := stateResources(t, filepath.Join(dir, ".evdeploy", "state", stage+".json"))
	if err := os.RemoveAll(filepath.Join(dir, "fn")); err != nil {
		t.Fatal(err)
	}

	if r := mustEvd(t, 1, append([]string{"plan"}, common...)...); !strings.Contains(r.errOut, "fn") {
		t.Errorf("plan should report the missing source folder:\n%s", r.errOut)
	}
	r := mustEvd(t, 0, append([]string{"destroy", "--auto-approve", "--allow-data-loss"}, common...)...)
	if !strings.Contains(r.errOut, "state") || !strings.Contains(r.errOut, "alone") {
		t.Errorf("destroy should say it goes on from state alone:\n%s", r.errOut)
	}
	for _, res := range deployed {
		if exists, err := resourceExists(context.Background(), sdkConfig(emu), res); err != nil || exists {
			t.Errorf("%s (%s) after destroy: exists=%v err=%v", res.Addr, res.ID, exists, err)
		}
	}
}
