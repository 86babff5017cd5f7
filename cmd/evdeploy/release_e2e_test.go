package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/google/go-cmp/cmp"

	"github.com/evdeploy/evdeploy/internal/motoserver"
)

const releaseMotoSpec = `app "rel" {}

api "http" {}

function "api" {
  runtime = "python3.12"
  source  = "./fn"
  handler = "main.handler"
  release {
    linear {
      percent = 40
      every   = "2s"
    }
    keep_versions = 1
  }
}

trigger "web" {
  function = function.api
  http {
    api   = api.http
    route = "GET /hello"
  }
}
`

// TestE2EReleaseMoto is issue 19's control plane on moto: apply creates the
// live alias on version 1, with the HTTP route's integration and permission
// on the alias; a code change is released linearly and the alias's routing
// is observed step by step (v1 → 40% → 80% → v2); the re-plan is clean;
// keep_versions = 1 keeps v1; rollback moves live back to v1 and the next plan releases again; destroy leaves no version or alias.
// moto ignores weights on invoke and RevisionId guards (KUMO/TESTING.md),
// so this proves the calls and their order, not the routing of traffic:
// that is TestE2EReleaseOnEngine's, on the embedded engine.
func TestE2EReleaseMoto(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	endpoint := motoserver.URL(t)
	ctx := context.Background()
	lc := lambda.NewFromConfig(sdkConfig(endpoint))
	dir := t.TempDir()
	write := func(rel, body string) { t.Helper(); writeTestFile(t, filepath.Join(dir, rel), body) }
	write("fn/main.py", "def handler(event, context):\n    return {'statusCode': 200, 'body': 'v1'}\n")
	write("evdeploy.evd.hcl", releaseMotoSpec)
	stage := uniqueStage("r")
	common := []string{"-C", dir, "--stage", stage, "--target", "local", "--endpoint", endpoint}
	fn := "rel-" + stage + "-api"

	mustEvd(t, 0, append([]string{"apply", "--auto-approve"}, common...)...)
	mustEvd(t, 0, append([]string{"plan", "--detailed-exitcode"}, common...)...)
	alias, err := lc.GetAlias(ctx, &lambda.GetAliasInput{FunctionName: aws.String(fn), Name: aws.String("live")})
	if err != nil {
		t.Fatalf("GetAlias after the first apply: %v", err)
	}
	if v := aws.ToString(alias.FunctionVersion); v != "1" {
		t.Errorf("live serves version %q after the first apply, want 1", v)
	}
	// The route's permission is on the alias.
	pol, err := lc.GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: aws.String(fn), Qualifier: aws.String("live")})
	if err != nil {
		t.Errorf("GetPolicy of the alias: %v", err)
	} else if !strings.Contains(aws.ToString(pol.Policy), "evdeploy-web") {
		t.Errorf("the alias's policy lacks the route's permission: %s", aws.ToString(pol.Policy))
	}

	// A code change: the plan says it is a release.
	write("fn/main.py", "def handler(event, context):\n    return {'statusCode': 200, 'body': 'v2'}\n")
	r := mustEvd(t, 0, append([]string{"plan"}, common...)...)
	if !strings.Contains(r.out, "release v1 → v2 (linear 40% every 2s)") {
		t.Errorf("plan does not show the release:\n%s", r.out)
	}

	// Apply in the background while the alias is read every 100 ms. The
	// sequence starts from the alias as the first apply left it, read now:
	// on a loaded machine the first poll may come after the shift began.
	var seen []string
	if a, err := lc.GetAlias(ctx, &lambda.GetAliasInput{FunctionName: aws.String(fn), Name: aws.String("live")}); err == nil && a.RoutingConfig == nil {
		seen = append(seen, "v"+aws.ToString(a.FunctionVersion))
	}
	done := make(chan result)
	go func() { done <- evd(t, append([]string{"apply", "--auto-approve"}, common...)...) }()
	var res result
poll:
	for {
		select {
		case res = <-done:
			break poll
		case <-time.After(100 * time.Millisecond):
		}
		a, err := lc.GetAlias(ctx, &lambda.GetAliasInput{FunctionName: aws.String(fn), Name: aws.String("live")})
		if err != nil {
			continue
		}
		s := "v" + aws.ToString(a.FunctionVersion)
		if a.RoutingConfig != nil {
			for v, w := range a.RoutingConfig.AdditionalVersionWeights {
				s += fmt.Sprintf(" + v%s@%g", v, w)
			}
		}
		if len(seen) == 0 || seen[len(seen)-1] != s {
			seen = append(seen, s)
		}
	}
	if res.code != 0 {
		t.Fatalf("release apply: exit %d\n%s%s", res.code, res.out, res.errOut)
	}
	a, err := lc.GetAlias(ctx, &lambda.GetAliasInput{FunctionName: aws.String(fn), Name: aws.String("live")})
	if err != nil {
		t.Fatal(err)
	}
	if s := "v" + aws.ToString(a.FunctionVersion); seen[len(seen)-1] != s {
		seen = append(seen, s)
	}
	if d := cmp.Diff([]string{"v1", "v1 + v2@0.4", "v1 + v2@0.8", "v2"}, seen); d != "" {
		t.Errorf("routing sequence (-want +got):\n%s", d)
	}
	for _, step := range []string{"v2 takes 40% of traffic", "v2 takes 80% of traffic", "released v2: 100%"} {
		if !strings.Contains(res.errOut, step) {
			t.Errorf("apply's output lacks %q:\n%s", step, res.errOut)
		}
	}
	mustEvd(t, 0, append([]string{"plan", "--detailed-exitcode"}, common...)...)
	if d := cmp.Diff([]string{"1", "2"}, publishedVersions(t, lc, fn)); d != "" {
		t.Errorf("versions after the release with keep_versions = 1 (-want +got):\n%s", d)
	}

	// rollback: one call puts live back on v1; the state records it, so
	// the next plan releases the spec's code again.
	r = mustEvd(t, 0, append([]string{"rollback", "api"}, common...)...)
	if !strings.Contains(r.out, "live moved back from v2 to v1") {
		t.Errorf("rollback output:\n%s", r.out)
	}
	if a, err := lc.GetAlias(ctx, &lambda.GetAliasInput{FunctionName: aws.String(fn), Name: aws.String("live")}); err != nil || aws.ToString(a.FunctionVersion) != "1" {
		t.Errorf("live after rollback: %v, %v; want version 1", a, err)
	}
	if d := cmp.Diff([]string{"function.api/aws_lambda_alias.live update release_key"}, planChanges(t, common...)); d != "" {
		t.Errorf("plan after rollback (-want +got):\n%s", d)
	}

	mustEvd(t, 0, append([]string{"destroy", "--auto-approve"}, common...)...)
	if _, err := lc.GetAlias(ctx, &lambda.GetAliasInput{FunctionName: aws.String(fn), Name: aws.String("live")}); err == nil {
		t.Error("the alias survived destroy")
	}
	if v := publishedVersions(t, lc, fn); len(v) != 0 {
		t.Errorf("versions left after destroy: %v", v)
	}
}

// publishedVersions lists a function's published version numbers ($LATEST
// left out); none when the function is gone.
func publishedVersions(t *testing.T, lc *lambda.Client, fn string) []string {
	t.Helper()
	out, err := lc.ListVersionsByFunction(context.Background(), &lambda.ListVersionsByFunctionInput{FunctionName: aws.String(fn)})
	if err != nil {
		return nil
	}
	var v []string
	for _, x := range out.Versions {
		if s := aws.ToString(x.Version); s != "$LATEST" {
			v = append(v, s)
		}
	}
	slices.Sort(v)
	return v
}

// TestE2EReleaseResumeMoto is issue 19's SIGKILL bullet on moto's control
// plane: apply is killed while the alias is split between v1 and v2; the
// state records the rollout, plan shows it, the next apply resumes and
// completes it, the alias never names a version that does not exist, and
// the plan after is clean. (moto ignores RevisionId, so the "changed by
// someone else" revert cannot be shown here.)
func TestE2EReleaseResumeMoto(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	bin := evdeployBinary(t)
	endpoint := motoserver.URL(t)
	ctx := context.Background()
	lc := lambda.NewFromConfig(sdkConfig(endpoint))
	dir := t.TempDir()
	write := func(rel, body string) { t.Helper(); writeTestFile(t, filepath.Join(dir, rel), body) }
	write("fn/main.py", "def handler(event, context):\n    return 'v1'\n")
	write("evdeploy.evd.hcl", strings.Replace(releaseMotoSpec, "linear {\n      percent = 40\n      every   = \"2s\"", "canary {\n      percent = 50\n      wait    = \"4s\"", 1))
	stage := uniqueStage("k")
	common := []string{"-C", dir, "--stage", stage, "--target", "local", "--endpoint", endpoint}
	fn := "rel-" + stage + "-api"
	mustEvd(t, 0, append([]string{"apply", "--auto-approve"}, common...)...)

	write("fn/main.py", "def handler(event, context):\n    return 'v2'\n")
	cmd := exec.Command(bin, append([]string{"apply", "--auto-approve"}, common...)...)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exists := func(a *lambda.GetAliasOutput) {
		t.Helper()
		have := publishedVersions(t, lc, fn)
		want := []string{aws.ToString(a.FunctionVersion)}
		if a.RoutingConfig != nil {
			for v := range a.RoutingConfig.AdditionalVersionWeights {
				want = append(want, v)
			}
		}
		for _, v := range want {
			if !slices.Contains(have, v) {
				t.Errorf("the alias names version %s, which does not exist (versions %v)", v, have)
			}
		}
	}
	killed := false
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		a, err := lc.GetAlias(ctx, &lambda.GetAliasInput{FunctionName: aws.String(fn), Name: aws.String("live")})
		if err != nil || a.RoutingConfig == nil || len(a.RoutingConfig.AdditionalVersionWeights) == 0 {
			continue
		}
		exists(a)
		// Split: give the executor a moment to record the step, then kill.
		time.Sleep(300 * time.Millisecond)
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		killed = true
		break
	}
	_ = cmd.Wait()
	if !killed {
		t.Fatalf("the alias was never split during the canary:\n%s", out.String())
	}
	if st := readStateFile(t, dir, stage); !strings.Contains(st, `"rollout"`) && !strings.Contains(readStateLog(t, dir, stage), `"rollout"`) {
		t.Errorf("the killed apply left no rollout in state:\n%s", st)
	}
	r := mustEvd(t, 0, append([]string{"plan"}, common...)...)
	if !strings.Contains(r.out, "resume release v1 → v2 (canary 50% for 4s)") {
		t.Errorf("plan after the kill does not show the recorded rollout:\n%s", r.out)
	}
	r = mustEvd(t, 0, append([]string{"apply", "--auto-approve"}, common...)...)
	if !strings.Contains(r.errOut, "resuming the release of v2 at 50%") || !strings.Contains(r.errOut, "released v2: 100%") {
		t.Errorf("the second apply did not resume the release:\n%s", r.errOut)
	}
	a, err := lc.GetAlias(ctx, &lambda.GetAliasInput{FunctionName: aws.String(fn), Name: aws.String("live")})
	if err != nil {
		t.Fatal(err)
	}
	exists(a)
	if v := aws.ToString(a.FunctionVersion); v != "2" || (a.RoutingConfig != nil && len(a.RoutingConfig.AdditionalVersionWeights) > 0) {
		t.Errorf("live after the resumed release: v%s %v, want v2 alone", v, a.RoutingConfig)
	}
	mustEvd(t, 0, append([]string{"plan", "--detailed-exitcode"}, common...)...)
	mustEvd(t, 0, append([]string{"destroy", "--auto-approve"}, common...)...)
}

// readStateLog returns the local state's change log (docs/state.md), where
// a change recorded since the last rewrite lives; "" when there is none.
func readStateLog(t *testing.T, dir, stage string) string {
	t.Helper()
	matches, _ := filepath.Glob(filepath.Join(dir, ".evdeploy", "state", stage+"*"))
	var b strings.Builder
	for _, m := range matches {
		if data, err := os.ReadFile(m); err == nil {
			b.Write(data)
		}
	}
	return b.String()
}
