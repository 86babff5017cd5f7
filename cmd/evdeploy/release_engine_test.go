package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/google/go-cmp/cmp"

	"github.com/evdeploy/evdeploy/localstack"
)

const releaseEngineSpec = `app "canary" {}

api "http" {}
queue "jobs" {}

function "api" {
  runtime = "python3.12"
  source  = "./fn"
  handler = "main.handler"
  release {
    canary {
      percent = 50
      wait    = "%s"
    }
    alarms        = ["%s"]
    max_errors    = "5%%"
    keep_versions = 2
    provisioned_concurrency = 2
  }
}

trigger "web" {
  function = function.api
  http {
    api   = api.http
    route = "GET /hello"
  }
}

trigger "work" {
  function = function.api
  queue {
    queue      = queue.jobs
    batch_size = 1
  }
}

output "url" {
  value = api.http.url
}
`

// releaseHandler answers the route with its tag and logs each queue message
// it processes with its tag; failing, it fails every request.
const releaseHandler = `TAG = %q
FAIL = %s

def handler(event, context):
    if FAIL:
        raise RuntimeError(TAG + " fails every request")
    if "Records" in event:
        for r in event["Records"]:
            print("processed " + r["body"] + " by " + TAG)
        return {}
    return {"statusCode": 200, "body": TAG}
`

// TestE2EReleaseOnEngine is issue 19's "Done when" on the embedded engine,
// one engine and one app throughout (a function behind an HTTP route and a
// queue, canary 50%, max_errors 5%, one watched alarm, keep_versions 2):
//   - v2 fails every request: rolled back within its one step (the alias
//     never serves v2 alone), apply exits 1 naming the error rate, and all
//     traffic is back on v1;
//   - v3, with the alarm forced into ALARM during the wait: rolled back the
//     same way, naming the alarm;
//   - v4: during the wait 30–70% of 200 HTTP responses come from v4 and the
//     queue's messages are processed by both versions; after it all come
//     from v4; keep_versions (2 besides the alias's v4) keeps v2 and v3 and
//     deletes v1; the plan is
//     clean; the engine's health lists no hidden function;
//   - an engine restart keeps the alias and its versions;
//   - `evdeploy rollback api`: the next request runs v3 (its time is logged,
//     BENCHMARKS.md has it; no timing is asserted);
//   - v5: apply (the built binary) SIGKILLed while the alias is split, then
//     plan shows the recorded rollout and apply resumes and completes it; the
//     alias never names a missing version and the plan is then clean;
//   - v6: the same kill, then the alarm in ALARM: the next apply reverts to
//     v5 and exits 1 naming the alarm;
//   - destroy leaves no alias, version or hidden function.
//
// The canary waits 8 s here (the issue says 20 s: what it checks holds for
// any wait long enough for the 200 requests).
func TestE2EReleaseOnEngine(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("needs python3")
	}
	_, port := localTestEnv(t)
	endpoint := fmt.Sprintf("http://127.0.0.1:%d", port)
	for _, k := range []string{"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE"} {
		t.Setenv(k, "")
	}
	mustRun := func(want int, args ...string) string {
		t.Helper()
		code, out, errOut := runLocal(t, args...)
		if code != want {
			t.Fatalf("%v: exit %d, want %d\n%s%s\nengine log:\n%s", args, code, want, out, errOut, engineLog(t))
		}
		return out + errOut
	}
	mustRun(0, "local", "up")
	cfg, err := (&localstack.Target{Endpoint: endpoint, Region: "us-east-1"}).AWSConfig(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	lc, cw, qc, logs := lambda.NewFromConfig(cfg), cloudwatch.NewFromConfig(cfg), sqs.NewFromConfig(cfg), cloudwatchlogs.NewFromConfig(cfg)

	// The alarm the release watches: an existing one, forced by the test.
	alarm := "canary-forced"
	if _, err := cw.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{
		AlarmName: aws.String(alarm), Namespace: aws.String("EvdeployTest"), MetricName: aws.String("Forced"),
		Statistic: cwtypes.StatisticSum, Period: aws.Int32(10), EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(1),
		ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanOrEqualToThreshold, TreatMissingData: aws.String("notBreaching"),
	}); err != nil {
		t.Fatal(err)
	}
	setAlarm := func(state cwtypes.StateValue) {
		if _, err := cw.SetAlarmState(ctx, &cloudwatch.SetAlarmStateInput{AlarmName: aws.String(alarm), StateValue: state, StateReason: aws.String("forced by the test")}); err != nil {
			t.Error(err)
		}
	}

	dir := t.TempDir()
	write := func(rel, body string) {
		t.Helper()
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	code := func(tag string, fail bool) {
		f := "False"
		if fail {
			f = "True"
		}
		write("fn/main.py", fmt.Sprintf(releaseHandler, tag, f))
	}
	write("evdeploy.evd.hcl", fmt.Sprintf(releaseEngineSpec, "8s", alarm))
	code("v1", false)
	common := []string{"-C", dir, "--target", "local"}
	fn := "canary-dev-api"
	out := mustRun(0, append([]string{"apply", "--auto-approve"}, common...)...)
	m := regexp.MustCompile(`url = http://([a-z0-9-]+)\.execute-api`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no url output:\n%s", out)
	}
	client := &http.Client{Timeout: 30 * time.Second}
	get := func() (int, string) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("http://127.0.0.1:%d/hello", port), nil)
		req.Host = fmt.Sprintf("%s.execute-api.localhost:%d", m[1], port)
		resp, err := client.Do(req)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	// allFrom checks that n requests in a row are answered 200 by tag.
	allFrom := func(when, tag string, n int) {
		t.Helper()
		for i := range n {
			if status, body := get(); status != http.StatusOK || body != tag {
				t.Fatalf("%s: request %d answered %d %q, want 200 %q\nengine log:\n%s", when, i, status, body, tag, engineLog(t))
			}
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for status, body := get(); status != http.StatusOK || body != "v1"; status, body = get() {
		if time.Now().After(deadline) {
			t.Fatalf("the route answers %d %q after the first apply\nengine log:\n%s", status, body, engineLog(t))
		}
		time.Sleep(200 * time.Millisecond)
	}
	mustRun(0, append([]string{"plan", "--detailed-exitcode"}, common...)...)
	// Provisioned concurrency on the alias: accepted and reported (the
	// engine keeps nothing warm).
	pc, err := lc.GetProvisionedConcurrencyConfig(ctx, &lambda.GetProvisionedConcurrencyConfigInput{FunctionName: aws.String(fn), Qualifier: aws.String("live")})
	if err != nil || aws.ToInt32(pc.RequestedProvisionedConcurrentExecutions) != 2 || pc.Status != lambdatypes.ProvisionedConcurrencyStatusEnumReady {
		t.Errorf("provisioned concurrency of live: %+v, %v; want 2, READY", pc, err)
	}

	aliasState := func() (string, string) {
		a, err := lc.GetAlias(ctx, &lambda.GetAliasInput{FunctionName: aws.String(fn), Name: aws.String("live")})
		if err != nil {
			return "", ""
		}
		s := "v" + aws.ToString(a.FunctionVersion)
		if a.RoutingConfig != nil {
			for v, w := range a.RoutingConfig.AdditionalVersionWeights {
				s += fmt.Sprintf(" + v%s@%g", v, w)
			}
		}
		return s, aws.ToString(a.RevisionId)
	}
	// release runs apply in the background; during calls each time the
	// alias is seen split, until apply ends. It returns apply's result and
	// every alias state seen.
	release := func(during func(split string)) (result, []string) {
		t.Helper()
		before, _ := aliasState() // as the last apply left it
		done := make(chan result, 1)
		go func() {
			c, o, e := runLocal(t, append([]string{"apply", "--auto-approve"}, common...)...)
			done <- result{c, o, e}
		}()
		var seen []string
		add := func(s string) {
			if s != "" && (len(seen) == 0 || seen[len(seen)-1] != s) {
				seen = append(seen, s)
			}
		}
		add(before)
		for {
			select {
			case r := <-done:
				s, _ := aliasState()
				add(s)
				return r, seen
			case <-time.After(100 * time.Millisecond):
			}
			s, _ := aliasState()
			add(s)
			if strings.Contains(s, "@") && during != nil {
				during(s)
			}
		}
	}

	t.Run("max_errors rolls back a failing version", func(t *testing.T) {
		code("v2", true)
		var mu sync.Mutex
		failed := 0
		res, seen := release(func(string) {
			status, _ := get()
			mu.Lock()
			if status != http.StatusOK {
				failed++
			}
			mu.Unlock()
		})
		if res.code != 1 || !strings.Contains(res.errOut, "release of v2 rolled back, all traffic on v1: error rate of v2") {
			t.Errorf("apply: exit %d, want 1 naming the error rate\n%s%s", res.code, res.out, res.errOut)
		}
		if failed == 0 {
			t.Errorf("no request failed during the shift (alias states %v)", seen)
		}
		for _, s := range seen {
			if s == "v2" {
				t.Errorf("the alias served v2 alone before the rollback: %v", seen)
			}
		}
		if s, _ := aliasState(); s != "v1" {
			t.Errorf("after the rollback the alias is %q, want v1", s)
		}
		allFrom("after the max_errors rollback", "v1", 20)
	})

	t.Run("an alarm in ALARM rolls back", func(t *testing.T) {
		code("v3", false)
		res, seen := release(func(string) { setAlarm(cwtypes.StateValueAlarm) })
		setAlarm(cwtypes.StateValueOk)
		if res.code != 1 || !strings.Contains(res.errOut, "release of v3 rolled back, all traffic on v1: alarm "+alarm+" is in ALARM") {
			t.Errorf("apply: exit %d, want 1 naming the alarm\n%s%s", res.code, res.out, res.errOut)
		}
		for _, s := range seen {
			if s == "v3" {
				t.Errorf("the alias served v3 alone before the rollback: %v", seen)
			}
		}
		if s, _ := aliasState(); s != "v1" {
			t.Errorf("after the rollback the alias is %q, want v1", s)
		}
		allFrom("after the alarm rollback", "v1", 20)
	})

	t.Run("canary 50% over a route and a queue", func(t *testing.T) {
		code("v4", false)
		q, err := qc.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("canary-dev-jobs")})
		if err != nil {
			t.Fatal(err)
		}
		var once sync.Once
		counts := map[string]int{}
		processed := map[string]string{}
		var during []string
		res, seen := release(func(split string) {
			once.Do(func() {
				_, rev := aliasState()
				for i := range 20 {
					if _, err := qc.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: q.QueueUrl, MessageBody: aws.String(fmt.Sprintf("m%d", i))}); err != nil {
						t.Error(err)
					}
				}
				var mu sync.Mutex
				var wg sync.WaitGroup
				for range 8 {
					wg.Go(func() {
						for range 25 {
							status, body := get()
							mu.Lock()
							counts[fmt.Sprintf("%d %s", status, body)]++
							mu.Unlock()
						}
					})
				}
				wg.Wait()
				// Every message processed, each by the version the alias picked.
				for end := time.Now().Add(5 * time.Second); len(processed) < 20 && time.Now().Before(end); time.Sleep(200 * time.Millisecond) {
					out, err := logs.FilterLogEvents(ctx, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String("/aws/lambda/" + fn)})
					if err != nil {
						continue
					}
					for _, e := range out.Events {
						if f := strings.Fields(aws.ToString(e.Message)); len(f) == 4 && f[0] == "processed" && f[2] == "by" {
							processed[f[1]] = f[3]
						}
					}
				}
				s, after := aliasState()
				during = []string{split, s}
				if after != rev {
					t.Errorf("the canary's wait ended before the 200 requests and the 20 messages were done (alias %q → %q): counts are not of the wait", split, s)
				}
			})
		})
		if res.code != 0 {
			t.Fatalf("apply: exit %d\n%s%s\nengine log:\n%s", res.code, res.out, res.errOut, engineLog(t))
		}
		if d := cmp.Diff([]string{"v1", "v1 + v4@0.5", "v4"}, seen); d != "" {
			t.Errorf("alias states (-want +got):\n%s", d)
		}
		n4 := counts["200 v4"]
		if n4+counts["200 v1"] != 200 || n4 < 60 || n4 > 140 {
			t.Errorf("200 requests during the wait answered %v: want only 200s, 30–70%% (60–140) from v4", counts)
		}
		byVersion := map[string]int{}
		for _, v := range processed {
			byVersion[v]++
		}
		if len(processed) != 20 || byVersion["v1"] == 0 || byVersion["v4"] == 0 {
			t.Errorf("queue messages processed during the wait: %v (by version %v), want all 20, by both v1 and v4", processed, byVersion)
		}
		t.Logf("during the wait: %v; queue by version %v; alias %v", counts, byVersion, during)
		allFrom("after the wait", "v4", 20)

		vs, err := lc.ListVersionsByFunction(ctx, &lambda.ListVersionsByFunctionInput{FunctionName: aws.String(fn)})
		if err != nil {
			t.Fatal(err)
		}
		var kept []string
		for _, v := range vs.Versions {
			kept = append(kept, aws.ToString(v.Version))
		}
		// Two besides the one the alias uses; v1 is deleted.
		if d := cmp.Diff([]string{"$LATEST", "2", "3", "4"}, kept); d != "" {
			t.Errorf("versions kept with keep_versions = 2 (-want +got):\n%s", d)
		}
		mustRun(0, append([]string{"plan", "--detailed-exitcode"}, common...)...)
		var health localstack.EngineInfo
		resp, err := http.Get(endpoint + localstack.HealthPath)
		if err != nil {
			t.Fatal(err)
		}
		err = json.NewDecoder(resp.Body).Decode(&health)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		for name := range health.Functions {
			if strings.Contains(name, fn+"--v") {
				t.Errorf("the engine's health lists the hidden %s", name)
			}
		}
	})

	t.Run("an engine restart keeps the alias", func(t *testing.T) {
		mustRun(0, "local", "down")
		mustRun(0, "local", "up")
		deadline := time.Now().Add(30 * time.Second)
		for status, body := get(); status != http.StatusOK || body != "v4"; status, body = get() {
			if time.Now().After(deadline) {
				t.Fatalf("after a restart the route answers %d %q, want v4\nengine log:\n%s", status, body, engineLog(t))
			}
			time.Sleep(200 * time.Millisecond)
		}
		if s, _ := aliasState(); s != "v4" {
			t.Errorf("after a restart the alias is %q, want v4", s)
		}
		mustRun(0, append([]string{"plan", "--detailed-exitcode"}, common...)...)
	})

	t.Run("rollback", func(t *testing.T) {
		start := time.Now()
		out := mustRun(0, append([]string{"rollback", "api"}, common...)...)
		took := time.Since(start)
		status, body := get()
		t.Logf("evdeploy rollback api took %s; the next request answered %d %q", took.Round(time.Millisecond), status, body)
		if status != http.StatusOK || body != "v3" {
			t.Errorf("the request after the rollback answered %d %q, want v3\n%s", status, body, out)
		}
		if s, _ := aliasState(); s != "v3" {
			t.Errorf("after the rollback the alias is %q, want v3", s)
		}
		// The spec still holds v4's code: the next apply releases it again,
		// and Lambda gives back version 4 rather than publishing a fifth.
		if p := mustRun(0, append([]string{"plan"}, common...)...); !strings.Contains(p, "release v3 → v4 (canary 50% for 8s)") {
			t.Errorf("plan after the rollback does not show the release of v4 again:\n%s", p)
		}
	})

	// exists checks that every version the alias names exists.
	exists := func(t *testing.T, when string) {
		t.Helper()
		a, err := lc.GetAlias(ctx, &lambda.GetAliasInput{FunctionName: aws.String(fn), Name: aws.String("live")})
		if err != nil {
			t.Fatal(err)
		}
		named := []string{aws.ToString(a.FunctionVersion)}
		if a.RoutingConfig != nil {
			for v := range a.RoutingConfig.AdditionalVersionWeights {
				named = append(named, v)
			}
		}
		for _, v := range named {
			if _, err := lc.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(fn), Qualifier: aws.String(v)}); err != nil {
				t.Errorf("%s the alias names version %s: %v", when, v, err)
			}
		}
	}
	// killMidShift runs apply (the built binary) and SIGKILLs it once the
	// alias is split as split says.
	killMidShift := func(t *testing.T, split string) {
		t.Helper()
		cmd := exec.Command(evdeployBinary(t), append([]string{"apply", "--auto-approve"}, common...)...)
		var out strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		killed := false
		for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			if s, _ := aliasState(); s != split {
				continue
			}
			// Split: give apply a moment to record the step, then kill it.
			time.Sleep(300 * time.Millisecond)
			if err := cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			killed = true
			break
		}
		_ = cmd.Wait()
		if !killed {
			t.Fatalf("the alias was never split %s:\n%s", split, out.String())
		}
		exists(t, "after the kill")
	}

	t.Run("SIGKILL mid-shift, then apply again", func(t *testing.T) {
		code("v5", false)
		write("evdeploy.evd.hcl", fmt.Sprintf(releaseEngineSpec, "4s", alarm)) // a shorter wait: only the kill needs it
		killMidShift(t, "v3 + v5@0.5")
		if p := mustRun(0, append([]string{"plan"}, common...)...); !strings.Contains(p, "resume release v3 → v5 (canary 50% for 4s)") {
			t.Errorf("plan after the kill does not show the recorded rollout:\n%s", p)
		}
		if r := mustRun(0, append([]string{"apply", "--auto-approve"}, common...)...); !strings.Contains(r, "resuming the release of v5 at 50%") || !strings.Contains(r, "released v5: 100%") {
			t.Errorf("the second apply did not resume the release:\n%s", r)
		}
		exists(t, "after the resumed release")
		if s, _ := aliasState(); s != "v5" {
			t.Errorf("after the resumed release the alias is %q, want v5", s)
		}
		allFrom("after the resumed release", "v5", 10)
		mustRun(0, append([]string{"plan", "--detailed-exitcode"}, common...)...)
	})

	t.Run("SIGKILL mid-shift, alarm in ALARM, apply reverts", func(t *testing.T) {
		code("v6", false)
		killMidShift(t, "v5 + v6@0.5")
		setAlarm(cwtypes.StateValueAlarm)
		defer setAlarm(cwtypes.StateValueOk)
		out := mustRun(1, append([]string{"apply", "--auto-approve"}, common...)...)
		if !strings.Contains(out, "all traffic on v5") || !strings.Contains(out, "alarm "+alarm+" is in ALARM") {
			t.Errorf("the apply after the kill did not revert naming the alarm:\n%s", out)
		}
		exists(t, "after the revert")
		if s, _ := aliasState(); s != "v5" {
			t.Errorf("after the revert the alias is %q, want v5", s)
		}
		allFrom("after the revert", "v5", 10)
	})

	t.Run("destroy leaves no version or alias", func(t *testing.T) {
		mustRun(0, append([]string{"destroy", "--auto-approve", "--allow-data-loss"}, common...)...)
		if _, err := lc.GetAlias(ctx, &lambda.GetAliasInput{FunctionName: aws.String(fn), Name: aws.String("live")}); err == nil {
			t.Errorf("the alias outlived destroy")
		}
		fns, err := lc.ListFunctions(ctx, &lambda.ListFunctionsInput{})
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range fns.Functions {
			if strings.HasPrefix(aws.ToString(f.FunctionName), fn) {
				t.Errorf("%s outlived destroy", aws.ToString(f.FunctionName))
			}
		}
		for v := range 6 {
			if _, err := lc.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(fmt.Sprintf("%s--v%d", fn, v))}); err == nil {
				t.Errorf("the engine still runs version %d of %s", v, fn)
			}
		}
	})
}
