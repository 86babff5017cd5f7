package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/charmbracelet/log"
	"github.com/google/go-cmp/cmp"
	"github.com/sivchari/kumo"

	"github.com/evdeploy/evdeploy/localstack"
)

// localReexecEnv makes this test binary behave as the evdeploy binary when
// `local up` (or the automatic start) launches os.Executable() as
// `evdeploy local serve --port N`: the engine runs as a real, detached
// process.
const localReexecEnv = "EVDEPLOY_CMD_TEST_REEXEC"

// localTestPIDEnv names the test process that re-executed binaries (and the
// engines they start) live no longer than.
const localTestPIDEnv = "EVDEPLOY_CMD_TEST_PID"

// reexecWatch is how often a re-executed binary checks that the test runs.
const reexecWatch = 200 * time.Millisecond

func init() {
	if os.Getenv(localReexecEnv) != "1" {
		return
	}
	// Die with the test process, so a failed test leaves no engine behind.
	// The test process, not the parent: an engine started by a re-executed
	// `dev` or `apply` outlives that command (its parent), as it does for
	// users; watching the parent killed it 0-200 ms after dev exited.
	testPID, _ := strconv.Atoi(os.Getenv(localTestPIDEnv))
	if testPID <= 0 {
		testPID = os.Getppid()
	}
	go func() {
		for range time.Tick(reexecWatch) {
			if err := syscall.Kill(testPID, 0); errors.Is(err, syscall.ESRCH) {
				os.Exit(3)
			}
		}
	}()
	os.Exit(run(os.Args[1:], defaultIOStreams()))
}

// localTestEnv isolates a test: its own state folder, a free default port
// (never 4566, which other packages' tests may hold), no endpoint from the
// environment, and this binary standing in for evdeploy.
func localTestEnv(t *testing.T) (stateDir string, port int) {
	t.Helper()
	stateDir = t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port = ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	t.Setenv(localstack.EnvStateHome, stateDir)
	t.Setenv(localstack.EnvLocalPort, fmt.Sprint(port))
	t.Setenv("AWS_ENDPOINT_URL", "")
	t.Setenv(localReexecEnv, "1")
	t.Setenv(localTestPIDEnv, strconv.Itoa(os.Getpid()))
	t.Cleanup(func() { run([]string{"local", "down"}, localStreams().IOStreams) })
	return stateDir, port
}

// localEngineUp starts an embedded engine for t on a free port (localTestEnv),
// with no AWS region or profile taken from the environment, and returns the
// port.
func localEngineUp(t *testing.T) int {
	t.Helper()
	_, port := localTestEnv(t)
	for _, k := range []string{"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE"} {
		t.Setenv(k, "")
	}
	if code, out, errOut := runLocal(t, "local", "up"); code != 0 {
		t.Fatalf("local up: exit %d\n%s%s", code, out, errOut)
	}
	return port
}

type localIO struct {
	*IOStreams
	out, errOut *bytes.Buffer
}

func localStreams() *localIO {
	out, errOut := &bytes.Buffer{}, &bytes.Buffer{}
	return &localIO{IOStreams: &IOStreams{In: strings.NewReader(""), Out: out, ErrOut: errOut}, out: out, errOut: errOut}
}

func runLocal(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	io := localStreams()
	code = run(args, io.IOStreams)
	return code, io.out.String(), io.errOut.String()
}

func localFactory(g *GlobalOptions) (*Factory, *localIO) {
	io := localStreams()
	if g.Target == "" {
		g.Target = "aws"
	}
	return &Factory{IO: io.IOStreams, Global: g, Logger: log.New(io.errOut)}, io
}

func TestLocalUpStatusDown(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a process")
	}
	stateDir, port := localTestEnv(t)
	endpoint := fmt.Sprintf("http://127.0.0.1:%d", port)

	code, out, errOut := runLocal(t, "local", "up")
	if code != 0 {
		t.Fatalf("local up: exit %d\n%s%s", code, out, errOut)
	}
	rec, err := localstack.ReadRecord(stateDir)
	if err != nil || rec == nil {
		t.Fatalf("no record after up: %v", err)
	}
	wantOut := fmt.Sprintf(`Started the embedded engine (kumo %s) at %s, pid %d.
  log: %s
Use it:
  evdeploy apply --target local
  export AWS_ENDPOINT_URL=%s   # for the AWS CLI and SDKs
Stop it: evdeploy local down
`, kumo.Version, endpoint, rec.PID, filepath.Join(stateDir, "engine.log"), endpoint)
	if d := cmp.Diff(wantOut, out); d != "" {
		t.Errorf("local up output (-want +got):\n%s", d)
	}

	code, out, _ = runLocal(t, "local", "up")
	if code != 0 || !strings.Contains(out, fmt.Sprintf("is already running at %s, pid %d", endpoint, rec.PID)) {
		t.Errorf("second local up: exit %d\n%s", code, out)
	}

	code, out, _ = runLocal(t, "local", "status")
	if code != 0 {
		t.Fatalf("local status: exit %d\n%s", code, out)
	}
	for _, s := range []string{
		fmt.Sprintf("The evdeploy embedded engine (kumo %s, pid %d) at %s", kumo.Version, rec.PID, endpoint),
		"account 000000000000",
		"recorded in " + filepath.Join(stateDir, "engine.json"),
	} {
		if !strings.Contains(out, s) {
			t.Errorf("local status does not say %q:\n%s", s, out)
		}
	}

	// --target local with no endpoint given finds the recorded engine.
	f, _ := localFactory(&GlobalOptions{Target: "local"})
	cfg, info, err := f.AWSConfig(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	wantInfo := &TargetInfo{Target: "local", Engine: localstack.KindEmbedded, Endpoint: endpoint, Region: "us-east-1", Account: "000000000000", Partition: "aws"}
	if d := cmp.Diff(wantInfo, info); d != "" {
		t.Errorf("TargetInfo (-want +got):\n%s", d)
	}
	name := fmt.Sprintf("evd-cmd-local-%d", os.Getpid())
	if _, err := sqs.NewFromConfig(cfg).CreateQueue(t.Context(), &sqs.CreateQueueInput{QueueName: aws.String(name)}); err != nil {
		t.Fatal(err)
	}
	assertQueueVisible(t, endpoint, name)

	code, out, _ = runLocal(t, "local", "down")
	if want := fmt.Sprintf("Stopped the embedded engine (kumo %s) at %s, pid %d.\n", kumo.Version, endpoint, rec.PID); code != 0 || out != want {
		t.Errorf("local down: exit %d, %q; want %q", code, out, want)
	}
	if r, _ := localstack.ReadRecord(stateDir); r != nil {
		t.Errorf("record left after down: %+v", r)
	}
	if err := exec.Command("kill", "-0", fmt.Sprint(rec.PID)).Run(); err == nil {
		// kill -0 succeeds on a zombie; the test process reaps its child.
		time.Sleep(200 * time.Millisecond)
		if b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", rec.PID)); len(b) > 0 && !strings.Contains(string(b), ") Z") {
			t.Errorf("engine pid %d still running after down", rec.PID)
		}
	}
	code, out, _ = runLocal(t, "local", "down")
	if code != 0 || !strings.Contains(out, "Nothing to stop") {
		t.Errorf("second local down: exit %d, %q", code, out)
	}
	code, out, _ = runLocal(t, "local", "status")
	if code != 1 || !strings.Contains(out, "No local cloud is running") {
		t.Errorf("status after down: exit %d\n%s", code, out)
	}
}

// assertQueueVisible reads the queue back with an independent client: the
// AWS CLI when installed, else a fresh SDK client.
func assertQueueVisible(t *testing.T, endpoint, name string) {
	t.Helper()
	if awsCLI, err := exec.LookPath("aws"); err == nil {
		cmd := exec.CommandContext(t.Context(), awsCLI, "--endpoint-url", endpoint, "--region", "us-east-1",
			"sqs", "get-queue-url", "--queue-name", name, "--output", "text")
		// No profile variables: the CLI refuses even an empty one.
		env := slices.DeleteFunc(os.Environ(), func(kv string) bool {
			return strings.HasPrefix(kv, "AWS_PROFILE=") || strings.HasPrefix(kv, "AWS_DEFAULT_PROFILE=")
		})
		cmd.Env = append(env, "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test",
			"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "/000000000000/"+name) {
			t.Errorf("aws sqs get-queue-url %s: %v\n%s", name, err, out)
		}
		return
	}
	tgt := &localstack.Target{Endpoint: endpoint, Region: "us-east-1"}
	cfg, err := tgt.AWSConfig(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sqs.NewFromConfig(cfg).GetQueueUrl(t.Context(), &sqs.GetQueueUrlInput{QueueName: aws.String(name)}); err != nil {
		t.Errorf("queue %s not visible: %v", name, err)
	}
}

// With nothing running, --target local starts the embedded engine by itself
// and says so in one line.
func TestTargetLocalAutoStart(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a process")
	}
	stateDir, port := localTestEnv(t)
	endpoint := fmt.Sprintf("http://127.0.0.1:%d", port)
	f, io := localFactory(&GlobalOptions{Target: "local", Region: "eu-west-1"})
	_, info, err := f.AWSConfig(t.Context(), "us-west-2")
	if err != nil {
		t.Fatal(err)
	}
	wantInfo := &TargetInfo{Target: "local", Engine: localstack.KindEmbedded, Endpoint: endpoint, Region: "eu-west-1", Account: "000000000000", Partition: "aws"}
	if d := cmp.Diff(wantInfo, info); d != "" {
		t.Errorf("TargetInfo (-want +got):\n%s", d)
	}
	wantNotice := fmt.Sprintf("evdeploy: no local cloud was running: started the embedded engine at %s (stop it with `evdeploy local down`)\n", endpoint)
	if d := cmp.Diff(wantNotice, io.errOut.String()); d != "" {
		t.Errorf("notice (-want +got):\n%s", d)
	}
	if rec, _ := localstack.ReadRecord(stateDir); rec == nil || rec.Endpoint != endpoint {
		t.Errorf("autostarted engine not recorded: %+v", rec)
	}
	// Cached per Factory: asking again starts nothing and prints nothing.
	if _, again, err := f.AWSConfig(t.Context(), "us-west-2"); err != nil || again != info || io.errOut.Len() != len(wantNotice) {
		t.Errorf("second AWSConfig: %+v, %v, stderr %q", again, err, io.errOut.String())
	}
}

const localStackHealthDoc = `{"services": {"apigateway": "available", "dynamodb": "running", "dynamodbstreams": "available",
 "events": "available", "iam": "available", "kinesis": "available", "lambda": "running", "logs": "available",
 "s3": "running", "sns": "available", "sqs": "running", "sts": "available", "ssm": "disabled", "ec2": "available"},
 "edition": "community", "version": "4.9.2"}`

func TestLocalStatusLocalStack(t *testing.T) {
	localTestEnv(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/_localstack/health" {
			_, _ = w.Write([]byte(localStackHealthDoc))
			return
		}
		http.NotFound(w, r)
	}))
	defer srv.Close()

	code, out, errOut := runLocal(t, "local", "status", "--endpoint", srv.URL)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	want := fmt.Sprintf(`LocalStack 4.9.2 (community) at %[1]s
  account 000000000000
  services evdeploy needs:
    apigateway       available
    dynamodb         running
    dynamodbstreams  available
    events           available
    iam              available
    kinesis          available
    lambda           running
    logs             available
    s3               running
    sns              available
    sqs              running
    sts              available
  (2 other services reported)
  use it: evdeploy apply --target local   (or export AWS_ENDPOINT_URL=%[1]s)
`, srv.URL)
	if d := cmp.Diff(want, out); d != "" {
		t.Errorf("local status (-want +got):\n%s", d)
	}

	code, out, _ = runLocal(t, "local", "status", "--endpoint", srv.URL, "--json")
	if code != 0 {
		t.Fatalf("--json: exit %d", code)
	}
	var rep localStatusReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("--json output: %v\n%s", err, out)
	}
	if len(rep.Endpoints) != 1 || rep.Endpoints[0].Status == nil {
		t.Fatalf("--json endpoints: %s", out)
	}
	st := rep.Endpoints[0].Status
	if st.Kind != "localstack" || st.Version != "4.9.2" || st.Edition != "community" || st.Services["lambda"] != "running" || len(st.Services) != 14 {
		t.Errorf("--json status = %+v", st)
	}

	// Nothing at the named endpoint: exit 1, saying so.
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	code, out, _ = runLocal(t, "local", "status", "--endpoint", dead.URL)
	if code != 1 || !strings.Contains(out, "Nothing answers at "+dead.URL) {
		t.Errorf("status of a dead endpoint: exit %d\n%s", code, out)
	}
}

// `local up --engine localstack` without a Docker engine: exit 1 and a
// message naming Docker, quickly.
func TestLocalUpLocalStackWithoutDocker(t *testing.T) {
	localTestEnv(t)
	failing := t.TempDir()
	script := "#!/bin/sh\necho 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?' >&2\nexit 1\n"
	if err := os.WriteFile(filepath.Join(failing, "docker"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, path := range map[string]string{"no docker in PATH": t.TempDir(), "docker info fails": failing + ":/usr/bin:/bin"} {
		t.Run(name, func(t *testing.T) {
			t.Setenv("PATH", path)
			start := time.Now()
			code, out, errOut := runLocal(t, "local", "up", "--engine", "localstack")
			if code != 1 {
				t.Errorf("exit %d, want 1", code)
			}
			if !strings.HasPrefix(errOut, "Error: Docker is not available") || !strings.Contains(errOut, "evdeploy local up") {
				t.Errorf("stderr does not name Docker and the way out:\n%s", errOut)
			}
			if out != "" {
				t.Errorf("stdout: %q", out)
			}
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("took %s", d)
			}
		})
	}
}

func TestLocalUpFlags(t *testing.T) {
	localTestEnv(t)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"local", "up", "--engine", "docker"}, `Error: --engine must be embedded or localstack, not "docker"`},
		{[]string{"local", "up", "--image", "x"}, "Error: --image applies to --engine localstack only"},
	}
	for _, tt := range tests {
		code, _, errOut := runLocal(t, tt.args...)
		if code != 1 || !strings.HasPrefix(errOut, tt.want) {
			t.Errorf("%v: exit %d, %q; want %q", tt.args, code, errOut, tt.want)
		}
	}
}

// The acceptance: the embedded engine as a process, the SPEC example
// applied with --target local and no endpoint anywhere, the result read with
// independent clients — and, with the api and worker built for this machine,
// an order travelling api → SQS → worker → DynamoDB inside the engine.
func TestLocalApplyShop(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	port := localEngineUp(t)
	endpoint := fmt.Sprintf("http://127.0.0.1:%d", port)

	dir := localCopyDir(t, "../../examples/shop")
	for _, f := range []string{"go.mod", "go.sum"} {
		b, err := os.ReadFile(filepath.Join("../..", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// The engine executes bootstraps built for this machine only.
	arch := map[string]string{"amd64": "x86_64", "arm64": "arm64"}[runtime.GOARCH]
	specFile := filepath.Join(dir, "evdeploy.evd.hcl")
	b, err := os.ReadFile(specFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, fn := range []string{"api", "worker"} {
		old := fmt.Sprintf("function %q {\n", fn)
		if !bytes.Contains(b, []byte(old)) {
			t.Fatalf("the example has no %s", old)
		}
		b = bytes.Replace(b, []byte(old), []byte(old+fmt.Sprintf("  architecture = %q\n", arch)), 1)
	}
	if err := os.WriteFile(specFile, b, 0o644); err != nil {
		t.Fatal(err)
	}

	code, out, errOut := runLocal(t, "apply", "--auto-approve", "-C", dir, "--target", "local")
	if code != 0 {
		t.Fatalf("apply --target local: exit %d\n%s%s", code, out, errOut)
	}
	if strings.Contains(errOut, "started the embedded engine") {
		t.Errorf("apply started an engine although one was recorded:\n%s", errOut)
	}

	// Independent clients see what was deployed.
	assertQueueVisible(t, endpoint, "shop-dev-orders")
	tgt := &localstack.Target{Endpoint: endpoint, Region: "us-east-1"}
	cfg, err := tgt.AWSConfig(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	lc := lambda.NewFromConfig(cfg)
	for _, fn := range []string{"api", "worker", "resize", "report", "audit", "clicks"} {
		if _, err := lc.GetFunction(t.Context(), &lambda.GetFunctionInput{FunctionName: aws.String("shop-dev-" + fn)}); err != nil {
			t.Errorf("function %s: %v", fn, err)
		}
	}

	// An order placed through the api function reaches the table.
	event := map[string]any{
		"version": "2.0", "routeKey": "POST /orders", "rawPath": "/orders",
		"body":           `{"id":"order-42","item":"book","quantity":2}`,
		"requestContext": map[string]any{"requestId": "req-1", "http": map[string]any{"method": "POST", "path": "/orders"}},
	}
	payload, _ := json.Marshal(event)
	deadline := time.Now().Add(30 * time.Second)
	var reply struct {
		StatusCode int    `json:"statusCode"`
		Body       string `json:"body"`
	}
	for {
		res, err := lc.Invoke(t.Context(), &lambda.InvokeInput{FunctionName: aws.String("shop-dev-api"), Payload: payload})
		if err == nil && res.FunctionError == nil {
			if err := json.Unmarshal(res.Payload, &reply); err != nil {
				t.Fatalf("api reply %s: %v", res.Payload, err)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("invoking the api function: %v %v\nengine log:\n%s", err, res, engineLog(t))
		}
		time.Sleep(200 * time.Millisecond)
	}
	if reply.StatusCode != 202 {
		t.Fatalf("api answered %d: %s\nengine log:\n%s", reply.StatusCode, reply.Body, engineLog(t))
	}
	ddb := dynamodb.NewFromConfig(cfg)
	for {
		got, err := ddb.GetItem(t.Context(), &dynamodb.GetItemInput{TableName: aws.String("shop-dev-orders"),
			Key: map[string]ddbtypes.AttributeValue{"id": &ddbtypes.AttributeValueMemberS{Value: "order-42"}}})
		if err == nil && got.Item != nil {
			if v, ok := got.Item["item"].(*ddbtypes.AttributeValueMemberS); !ok || v.Value != "book" {
				t.Errorf("stored order = %v", got.Item)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the order never reached the table (%v)\nengine log:\n%s", err, engineLog(t))
		}
		time.Sleep(200 * time.Millisecond)
	}

	// evdeploy invoke runs a function on the local cloud and prints its result
	// (report is built for this machine: the engine is the embedded one).
	code, out, errOut = runLocal(t, "invoke", "report", "-C", dir, "--target", "local",
		"--payload", `{"time":"2026-11-26T02:00:00Z","resources":["nightly"]}`)
	if code != 0 || !strings.Contains(out, `"day":"2026-11-25"`) {
		t.Errorf("invoke report: exit %d\nstdout: %s\nstderr: %s\nengine log:\n%s", code, out, errOut, engineLog(t))
	}
	if code, _, errOut := runLocal(t, "invoke", "nosuch", "-C", dir, "--target", "local"); code != 1 || !strings.Contains(errOut, "function.nosuch is not deployed") {
		t.Errorf("invoke of an unknown function: exit %d, %s", code, errOut)
	}

	if code, out, errOut := runLocal(t, "destroy", "--auto-approve", "--allow-data-loss", "-C", dir, "--target", "local"); code != 0 {
		t.Errorf("destroy: exit %d\n%s%s", code, out, errOut)
	}
	if code, out, _ := runLocal(t, "local", "down"); code != 0 || !strings.HasPrefix(out, "Stopped the embedded engine") {
		t.Errorf("local down: exit %d, %q", code, out)
	}
}

func engineLog(t *testing.T) string {
	dir, _ := localstack.StateDir(nil)
	b, _ := os.ReadFile(filepath.Join(dir, "engine.log"))
	return string(b)
}

// localCopyDir copies a project into a fresh folder, without its .evdeploy.
func localCopyDir(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() && d.Name() == ".evdeploy" {
			return filepath.SkipDir
		}
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}
