package main

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigatewayv2"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/evdeploy/evdeploy/internal/apicalls"
	"github.com/evdeploy/evdeploy/state"
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// evdeployBinary builds the evdeploy binary once per test process: fault
// tests need a real process to kill.
func evdeployBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "evdeploy-bin")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "evdeploy")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// killer is a proxy in front of the emulator that SIGKILLs the evdeploy
// process right after the Nth mutating call has been carried out by the
// service, before its response reaches evdeploy: the worst moment, when the
// resource exists but state cannot know it.
type killer struct {
	srv   *httptest.Server
	mu    sync.Mutex
	n     int // kill after this many writes; 0: never
	count int
	proc  *os.Process
}

func newKiller(t *testing.T, target string) *killer {
	u, _ := url.Parse(target)
	k := &killer{}
	proxy := httputil.NewSingleHostReverseProxy(u)
	proxy.ModifyResponse = func(resp *http.Response) error {
		k.mu.Lock()
		defer k.mu.Unlock()
		if resp.Request.Header.Get("X-Evdeploy-Write") == "1" {
			k.count++
			if k.count == k.n && k.proc != nil {
				k.proc.Kill()
				k.proc.Wait()
			}
		}
		return nil
	}
	k.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !apicalls.IsRead(apicalls.Operation(r, apicalls.ReadBody(r))) {
			r.Header.Set("X-Evdeploy-Write", "1")
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(k.srv.Close)
	return k
}

const crashSpec = `
app "crash" {}

function "worker" {
  runtime = "python3.12"
  source  = "./fn"
  handler = "main.handler"
  uses    = [table.items.write]
}

queue "jobs" {
  dead_letter {
    max_receives = 3
  }
}

table "items" {
  hash_key = "id"
}

api "web" {}

trigger "jobs" {
  function = function.worker
  queue {
    queue = queue.jobs
  }
}

trigger "web" {
  function = function.worker
  http {
    api   = api.web
    route = "GET /items"
  }
}

bucket "files" {}

trigger "files" {
  function = function.worker
  s3 {
    bucket = bucket.files
    events = ["created"]
  }
}

bus "events" {}

trigger "events" {
  function = function.worker
  event {
    bus     = bus.events
    pattern = { source = ["crash"] }
  }
}

topic "alerts" {}

trigger "alerts" {
  function = function.worker
  topic {
    topic = topic.alerts
  }
}
`

func crashProject(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "fn"), 0o755); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"evdeploy.evd.hcl": crashSpec,
		"fn/main.py":       "def handler(event, context):\n    return {\"statusCode\": 200}\n",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestFaultKilledApply kills `evdeploy apply` with SIGKILL right after each of
// its write calls in turn — the resource exists, state does not know it yet —
// and checks that the next apply converges without duplicates (the journal's
// intents are adopted, not created twice), that a plan after it is empty, and
// that destroy then leaves nothing, seen by independent clients.
func TestFaultKilledApply(t *testing.T) {
	if testing.Short() {
		t.Skip("fault injection")
	}
	bin := evdeployBinary(t)
	emu := emulator(t)

	// How many writes does a clean apply make?
	total := func() int {
		k := newKiller(t, emu)
		dir := crashProject(t)
		stage := uniqueStage("k")
		runBin(t, bin, 0, "apply", "--auto-approve", "-C", dir, "--stage", stage, "--target", "local", "--endpoint", k.srv.URL)
		k.mu.Lock()
		writes := k.count
		k.mu.Unlock()
		runBin(t, bin, 0, "destroy", "--auto-approve", "--allow-data-loss", "-C", dir, "--stage", stage, "--target", "local", "--endpoint", k.srv.URL)
		return writes
	}()
	t.Logf("a clean apply makes %d writes; killing after each", total)
	if total < 10 {
		t.Fatalf("a clean apply made only %d writes?", total)
	}

	for n := 1; n <= total; n++ {
		t.Run(fmt.Sprintf("after-write-%d", n), func(t *testing.T) {
			k := newKiller(t, emu)
			k.n = n
			dir := crashProject(t)
			stage := uniqueStage("k")
			args := []string{"-C", dir, "--stage", stage, "--target", "local", "--endpoint", k.srv.URL}

			cmd := exec.Command(bin, append([]string{"apply", "--auto-approve"}, args...)...)
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			k.mu.Lock()
			if err := cmd.Start(); err != nil {
				k.mu.Unlock()
				t.Fatal(err)
			}
			k.proc = cmd.Process
			k.mu.Unlock()
			err := cmd.Wait()
			if err == nil {
				t.Fatalf("apply survived its kill after write %d:\n%s", n, out.String())
			}

			// The next apply finishes the job, taking over the dead
			// process's lock and adopting what it had created.
			k.mu.Lock()
			k.n = 0
			k.mu.Unlock()
			r := runBin(t, bin, 0, append([]string{"apply", "--auto-approve"}, args...)...)
			if strings.Contains(r, "already exists") {
				t.Errorf("apply hit a collision instead of adopting:\n%s", r)
			}
			runBin(t, bin, 0, append([]string{"plan", "--detailed-exitcode"}, args...)...)

			// Exactly one of everything whose id the service assigns.
			ctx := context.Background()
			cfg := sdkConfig(emu)
			name := func(s string) string { return "crash-" + stage + "-" + s }
			queueArn := assertOneAPIAndMapping(t, cfg, stage)
			apis, _ := apigatewayv2.NewFromConfig(cfg).GetApis(ctx, &apigatewayv2.GetApisInput{})
			for _, a := range apis.Items {
				if aws.ToString(a.Name) != name("web") {
					continue
				}
				ints, _ := apigatewayv2.NewFromConfig(cfg).GetIntegrations(ctx, &apigatewayv2.GetIntegrationsInput{ApiId: a.ApiId})
				routes, _ := apigatewayv2.NewFromConfig(cfg).GetRoutes(ctx, &apigatewayv2.GetRoutesInput{ApiId: a.ApiId})
				if len(ints.Items) != 1 || len(routes.Items) != 1 {
					t.Errorf("API has %d integrations and %d routes, want 1 and 1", len(ints.Items), len(routes.Items))
				}
			}

			// Destroy leaves nothing.
			deployed := stateResources(t, filepath.Join(dir, ".evdeploy", "state", stage+".json"))
			runBin(t, bin, 0, append([]string{"destroy", "--auto-approve", "--allow-data-loss"}, args...)...)
			assertNothingLeft(t, cfg, stage, queueArn, deployed)
		})
	}
}

type sqsAttr = sqstypes.QueueAttributeName

// runBin runs the evdeploy binary and returns its combined output.
func runBin(t *testing.T, bin string, want int, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, args...)
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	if code != want {
		t.Fatalf("evdeploy %s: exit %d, want %d\n%s", strings.Join(args, " "), code, want, out)
	}
	return string(out)
}

func countMappings(t *testing.T, cfg aws.Config, sourceArn string) int {
	t.Helper()
	out, err := lambda.NewFromConfig(cfg).ListEventSourceMappings(context.Background(), &lambda.ListEventSourceMappingsInput{EventSourceArn: aws.String(sourceArn)})
	if err != nil {
		t.Fatal(err)
	}
	return len(out.EventSourceMappings)
}

// flaky is a proxy in front of the emulator that, for a seeded share of write
// calls, answers 503 or 500 without forwarding, delays, or forwards and then
// drops the connection (the call happened, its answer is lost).
type flaky struct {
	srv     *httptest.Server
	mu      sync.Mutex
	rnd     *rand.Rand
	on      bool
	injects map[string]int
}

func newFlaky(t *testing.T, target string, seed uint64) *flaky {
	u, _ := url.Parse(target)
	f := &flaky{rnd: rand.New(rand.NewPCG(seed, seed)), injects: map[string]int{}}
	proxy := httputil.NewSingleHostReverseProxy(u)
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fault := ""
		if !apicalls.IsRead(apicalls.Operation(r, apicalls.ReadBody(r))) {
			f.mu.Lock()
			if f.on {
				switch x := f.rnd.Float64(); {
				case x < 0.15:
					fault = "503"
				case x < 0.25:
					fault = "500"
				case x < 0.30:
					fault = "drop"
				case x < 0.40:
					fault = "slow"
				}
				if fault != "" {
					f.injects[fault]++
				}
			}
			f.mu.Unlock()
		}
		if fault == "slow" {
			time.Sleep(50 * time.Millisecond)
		}
		if injectFault(w, r, proxy, fault) {
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

// injectFault answers r as the fault proxies' fault says: "503" or "500"
// without forwarding it, or "drop": forwarded and carried out, its answer
// lost (the connection closed). It reports whether it answered; otherwise
// (another fault, none, or a connection that cannot be hijacked) the caller
// forwards r.
func injectFault(w http.ResponseWriter, r *http.Request, proxy http.Handler, fault string) bool {
	switch fault {
	case "503":
		http.Error(w, "Service Unavailable", http.StatusServiceUnavailable)
		return true
	case "500":
		http.Error(w, "Internal Failure", http.StatusInternalServerError)
		return true
	case "drop":
		proxy.ServeHTTP(httptest.NewRecorder(), r)
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
				return true
			}
		}
	}
	return false
}

func (f *flaky) set(on bool) {
	f.mu.Lock()
	f.on = on
	f.mu.Unlock()
}

// TestFaultFlakyService applies and destroys through a service that fails,
// stalls and drops connections on a share of its write calls. An apply may
// stop (it must say why and keep state true); re-running converges, the plan
// after it is empty, nothing is duplicated, and destroy leaves nothing.
func TestFaultFlakyService(t *testing.T) {
	if testing.Short() {
		t.Skip("fault injection")
	}
	bin := evdeployBinary(t)
	emu := emulator(t)
	for _, seed := range []uint64{1, 2, 3, 4, 5, 6} {
		t.Run(fmt.Sprintf("seed-%d", seed), func(t *testing.T) {
			f := newFlaky(t, emu, seed)
			dir := crashProject(t)
			stage := uniqueStage("f")
			args := []string{"-C", dir, "--stage", stage, "--target", "local", "--endpoint", f.srv.URL}

			f.set(true)
			converged := false
			for attempt := 1; attempt <= 5 && !converged; attempt++ {
				out, code := runBinCode(t, bin, append([]string{"apply", "--auto-approve"}, args...)...)
				switch code {
				case 0:
					converged = true
				case 1:
					if !strings.Contains(out, "Error") {
						t.Errorf("failed apply without an error message:\n%s", out)
					}
				default:
					t.Fatalf("apply exit %d:\n%s", code, out)
				}
			}
			f.set(false)
			if !converged {
				runBin(t, bin, 0, append([]string{"apply", "--auto-approve"}, args...)...)
			}
			runBin(t, bin, 0, append([]string{"plan", "--detailed-exitcode"}, args...)...)
			cfg := sdkConfig(emu)
			if n := countAPIs(t, cfg, "crash-"+stage+"-web"); n != 1 {
				t.Errorf("%d APIs, want 1", n)
			}

			deployed := stateResources(t, filepath.Join(dir, ".evdeploy", "state", stage+".json"))
			f.set(true)
			destroyed := false
			for attempt := 1; attempt <= 5 && !destroyed; attempt++ {
				_, code := runBinCode(t, bin, append([]string{"destroy", "--auto-approve", "--allow-data-loss"}, args...)...)
				destroyed = code == 0
			}
			f.set(false)
			if !destroyed {
				runBin(t, bin, 0, append([]string{"destroy", "--auto-approve", "--allow-data-loss"}, args...)...)
			}
			for _, res := range deployed {
				exists, err := resourceExists(context.Background(), cfg, res)
				if err != nil || exists {
					t.Errorf("%s (%s) after destroy: exists=%v err=%v", res.Addr, res.ID, exists, err)
				}
			}
			if n := countAPIs(t, cfg, "crash-"+stage+"-web"); n != 0 {
				t.Errorf("%d APIs left", n)
			}
			f.mu.Lock()
			t.Logf("faults injected: %v", f.injects)
			f.mu.Unlock()
		})
	}
}

func runBinCode(t *testing.T, bin string, args ...string) (string, int) {
	t.Helper()
	out, err := exec.Command(bin, args...).CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok {
		return string(out), ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return string(out), 0
}

// TestFaultLostResponses loses the answer to the first call of every write
// operation after the service carried it out (the connection drops). The SDK
// retries; a retried create finds the resource its first attempt made. One
// apply must still converge — adopting what it made itself, not stopping on
// a collision it caused — and destroy must leave nothing.
func TestFaultLostResponses(t *testing.T) {
	if testing.Short() {
		t.Skip("fault injection")
	}
	bin := evdeployBinary(t)
	emu := emulator(t)
	u, _ := url.Parse(emu)
	proxy := httputil.NewSingleHostReverseProxy(u)
	var mu sync.Mutex
	seen := map[string]bool{}
	dropped := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		op := apicalls.Operation(r, apicalls.ReadBody(r))
		mu.Lock()
		first := !apicalls.IsRead(op) && !seen[op]
		seen[op] = true
		mu.Unlock()
		if first {
			proxy.ServeHTTP(httptest.NewRecorder(), r)
			if hj, ok := w.(http.Hijacker); ok {
				if conn, _, err := hj.Hijack(); err == nil {
					conn.Close()
					mu.Lock()
					dropped++
					mu.Unlock()
					return
				}
			}
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)

	dir := crashProject(t)
	stage := uniqueStage("l")
	args := []string{"-C", dir, "--stage", stage, "--target", "local", "--endpoint", srv.URL}
	runBin(t, bin, 0, append([]string{"apply", "--auto-approve"}, args...)...)
	mu.Lock()
	t.Logf("lost the answers of %d write calls", dropped)
	mu.Unlock()
	runBin(t, bin, 0, append([]string{"plan", "--detailed-exitcode"}, args...)...)
	cfg := sdkConfig(emu)
	if n := countAPIs(t, cfg, "crash-"+stage+"-web"); n != 1 {
		t.Errorf("%d APIs, want 1", n)
	}
	deployed := stateResources(t, filepath.Join(dir, ".evdeploy", "state", stage+".json"))
	runBin(t, bin, 0, append([]string{"destroy", "--auto-approve", "--allow-data-loss"}, args...)...)
	for _, res := range deployed {
		exists, err := resourceExists(context.Background(), cfg, res)
		if err != nil || exists {
			t.Errorf("%s (%s) after destroy: exists=%v err=%v", res.Addr, res.ID, exists, err)
		}
	}
}

// TestFaultKilledDestroy kills `evdeploy destroy` right after each of its
// delete calls in turn (the resource is gone, state still records it); the
// next destroy finishes the job and nothing is left.
func TestFaultKilledDestroy(t *testing.T) {
	if testing.Short() {
		t.Skip("fault injection")
	}
	bin := evdeployBinary(t)
	emu := emulator(t)
	// How many writes does a clean destroy make?
	total := func() int {
		k := newKiller(t, emu)
		dir := crashProject(t)
		stage := uniqueStage("d")
		args := []string{"-C", dir, "--stage", stage, "--target", "local", "--endpoint", k.srv.URL}
		runBin(t, bin, 0, append([]string{"apply", "--auto-approve"}, args...)...)
		k.mu.Lock()
		k.count = 0
		k.mu.Unlock()
		runBin(t, bin, 0, append([]string{"destroy", "--auto-approve", "--allow-data-loss"}, args...)...)
		k.mu.Lock()
		defer k.mu.Unlock()
		return k.count
	}()
	t.Logf("a clean destroy makes %d writes", total)
	const every = 3 // every 3rd delete: the deletes are alike, the apply test covers each create
	for n := 1; n <= total; n += every {
		t.Run(fmt.Sprintf("after-delete-%d", n), func(t *testing.T) {
			k := newKiller(t, emu)
			dir := crashProject(t)
			stage := uniqueStage("d")
			args := []string{"-C", dir, "--stage", stage, "--target", "local", "--endpoint", k.srv.URL}
			runBin(t, bin, 0, append([]string{"apply", "--auto-approve"}, args...)...)
			deployed := stateResources(t, filepath.Join(dir, ".evdeploy", "state", stage+".json"))

			k.mu.Lock()
			k.count, k.n = 0, n
			k.mu.Unlock()
			cmd := exec.Command(bin, append([]string{"destroy", "--auto-approve", "--allow-data-loss"}, args...)...)
			k.mu.Lock()
			if err := cmd.Start(); err != nil {
				k.mu.Unlock()
				t.Fatal(err)
			}
			k.proc = cmd.Process
			k.mu.Unlock()
			if err := cmd.Wait(); err == nil {
				t.Fatalf("destroy survived its kill after delete %d", n)
			}
			k.mu.Lock()
			k.n = 0
			k.mu.Unlock()
			runBin(t, bin, 0, append([]string{"destroy", "--auto-approve", "--allow-data-loss"}, args...)...)
			for _, res := range deployed {
				exists, err := resourceExists(context.Background(), sdkConfig(emu), res)
				if err != nil || exists {
					t.Errorf("%s (%s) after destroy: exists=%v err=%v", res.Addr, res.ID, exists, err)
				}
			}
			list := runBin(t, bin, 0, append([]string{"state", "list"}, args...)...)
			if strings.TrimSpace(list) != "" {
				t.Errorf("state still lists:\n%s", list)
			}
		})
	}
}

// assertOneAPIAndMapping checks that the crash project has exactly one of what
// the service names itself (its API and its mapping), and returns the jobs
// queue's ARN.
func assertOneAPIAndMapping(t *testing.T, cfg aws.Config, stage string) string {
	t.Helper()
	ctx := context.Background()
	name := func(s string) string { return "crash-" + stage + "-" + s }
	if n := countAPIs(t, cfg, name("web")); n != 1 {
		t.Errorf("%d APIs named %s, want 1", n, name("web"))
	}
	q, err := sqs.NewFromConfig(cfg).GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(name("jobs"))})
	if err != nil {
		t.Fatal(err)
	}
	qa, err := sqs.NewFromConfig(cfg).GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: q.QueueUrl, AttributeNames: []sqsAttr{"QueueArn"}})
	if err != nil {
		t.Fatal(err)
	}
	queueArn := qa.Attributes["QueueArn"]
	if n := countMappings(t, cfg, queueArn); n != 1 {
		t.Errorf("%d mappings from %s, want 1", n, queueArn)
	}
	return queueArn
}

// assertNothingLeft checks, after destroy, that none of the deployed resources
// and none of the crash project's APIs and mappings remain.
func assertNothingLeft(t *testing.T, cfg aws.Config, stage, queueArn string, deployed []state.Resource) {
	t.Helper()
	ctx := context.Background()
	for _, res := range deployed {
		exists, err := resourceExists(ctx, cfg, res)
		if err != nil || exists {
			t.Errorf("%s (%s) after destroy: exists=%v err=%v", res.Addr, res.ID, exists, err)
		}
	}
	if n := countAPIs(t, cfg, "crash-"+stage+"-web"); n != 0 {
		t.Errorf("%d APIs left", n)
	}
	if n := countMappings(t, cfg, queueArn); n != 0 {
		t.Errorf("%d mappings left", n)
	}
}
