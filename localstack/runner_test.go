package localstack

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/google/go-cmp/cmp"
)

// echoZip builds testdata/echo for this machine and packages it as a
// provided.al2023 deployment package (bootstrap at the root, mode 0755).
func echoZip(t *testing.T) []byte {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "bootstrap")
	cmd := exec.Command("go", "build", "-o", bin, "./testdata/echo")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build testdata/echo: %v\n%s", err, out)
	}
	return zipOf(t, map[string][]byte{"bootstrap": mustRead(t, bin)}, 0o755)
}

func zipOf(t *testing.T, files map[string][]byte, mode os.FileMode) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, b := range files {
		h := &zip.FileHeader{Name: name, Method: zip.Deflate}
		h.SetMode(mode)
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// serveRunning runs Serve with the function runner on a random port; the
// engine's log goes to logBuf.
func serveRunning(t *testing.T, logBuf io.Writer) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- Serve(ctx, "127.0.0.1:0", ServeOptions{Version: "test", RunFunctions: true,
			Logger: log.New(logBuf, "", 0), Ready: func(ep string) { ready <- ep }})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	select {
	case ep := <-ready:
		return ep
	case err := <-done:
		t.Fatalf("Serve: %v", err)
	}
	return ""
}

type echoReply struct {
	Event    map[string]string `json:"event"`
	Greeting string            `json:"greeting"`
	Endpoint string            `json:"endpoint"`
	Region   string            `json:"region"`
	Function string            `json:"function"`
	PID      int               `json:"pid"`
}

// invokeUntil invokes fn synchronously until ok accepts the reply (a handler
// that has not polled yet answers 502; a restarted one may lag), bounded.
func invokeUntil(t *testing.T, c *lambda.Client, fn string, ok func(echoReply) bool) echoReply {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	var last string
	for time.Now().Before(deadline) {
		out, err := c.Invoke(t.Context(), &lambda.InvokeInput{FunctionName: aws.String(fn), Payload: []byte(`{"hello":"world"}`)})
		if err == nil && out.FunctionError == nil {
			var r echoReply
			if err := json.Unmarshal(out.Payload, &r); err != nil {
				t.Fatalf("reply %s: %v", out.Payload, err)
			}
			if ok(r) {
				return r
			}
			last = string(out.Payload)
		} else if err != nil {
			last = err.Error()
		} else {
			last = aws.ToString(out.FunctionError) + ": " + string(out.Payload)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("invoking %s: no acceptable reply within 15s; last: %s", fn, last)
	return echoReply{}
}

func TestRunnerExecutesFunctions(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a handler and runs it")
	}
	code := echoZip(t)
	var logBuf lockedBuffer
	ep := serveRunning(t, &logBuf)
	cfg := localConfig(ep, "eu-west-1")
	c := lambda.NewFromConfig(cfg)
	ctx := t.Context()
	name := fmt.Sprintf("evd-runner-%d", os.Getpid())

	_, err := c.CreateFunction(ctx, &lambda.CreateFunctionInput{
		FunctionName: aws.String(name), Role: aws.String("arn:aws:iam::000000000000:role/r"),
		Runtime: lambdatypes.RuntimeProvidedal2023, Handler: aws.String("bootstrap"),
		Code:        &lambdatypes.FunctionCode{ZipFile: code},
		Environment: &lambdatypes.Environment{Variables: map[string]string{"GREETING": "hello"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	r := invokeUntil(t, c, name, func(echoReply) bool { return true })
	if r.Event["hello"] != "world" || r.Greeting != "hello" || r.Endpoint != ep || r.Region != "eu-west-1" || r.Function != name {
		t.Errorf("first reply = %+v", r)
	}
	first := r.PID

	// New environment: the handler restarts with it.
	if _, err := c.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{
		FunctionName: aws.String(name),
		Environment:  &lambdatypes.Environment{Variables: map[string]string{"GREETING": "bye"}},
	}); err != nil {
		t.Fatal(err)
	}
	r = invokeUntil(t, c, name, func(r echoReply) bool { return r.Greeting == "bye" })
	if r.PID == first {
		t.Errorf("configuration change did not restart the handler (pid %d)", r.PID)
	}
	second := r.PID

	// New code (the same bytes here): restarted again, configuration kept.
	if _, err := c.UpdateFunctionCode(ctx, &lambda.UpdateFunctionCodeInput{FunctionName: aws.String(name), ZipFile: code}); err != nil {
		t.Fatal(err)
	}
	r = invokeUntil(t, c, name, func(r echoReply) bool { return r.PID != second })
	if r.Greeting != "bye" {
		t.Errorf("after a code update, greeting = %q", r.Greeting)
	}

	// A runtime the engine cannot execute is deployed and reported, not run.
	py := name + "-java"
	if _, err := c.CreateFunction(ctx, &lambda.CreateFunctionInput{
		FunctionName: aws.String(py), Role: aws.String("arn:aws:iam::000000000000:role/r"),
		Runtime: lambdatypes.RuntimeJava21, Handler: aws.String("example.Handler::handleRequest"),
		Code: &lambdatypes.FunctionCode{ZipFile: zipOf(t, map[string][]byte{"example/Handler.class": []byte("not really")}, 0o644)},
	}); err != nil {
		t.Fatal(err)
	}
	var info EngineInfo
	if err := getJSON(ctx, ep+HealthPath, &info); err != nil {
		t.Fatal(err)
	}
	if s := info.Functions[name]; s != fmt.Sprintf("running (pid %d)", r.PID) {
		t.Errorf("health says %s is %q", name, s)
	}
	if s := info.Functions[py]; !strings.Contains(s, "runtime java21 is not executed") {
		t.Errorf("health says %s is %q", py, s)
	}

	if _, err := c.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String(name)}); err != nil {
		t.Fatal(err)
	}
	if processAlive(r.PID) {
		t.Errorf("handler pid %d alive after DeleteFunction", r.PID)
	}
	var after EngineInfo // a fresh one: decoding merges into existing maps
	if err := getJSON(ctx, ep+HealthPath, &after); err != nil {
		t.Fatal(err)
	}
	if _, ok := after.Functions[name]; ok {
		t.Errorf("deleted function still reported: %v\n%s", after.Functions, logBuf.String())
	}
	if !strings.Contains(logBuf.String(), "function "+name+": started provided.al2023 (bootstrap)") {
		t.Errorf("engine log does not record the start:\n%s", logBuf.String())
	}
}

func TestLauncher(t *testing.T) {
	dir, root := t.TempDir(), t.TempDir()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "bootstrap"), mustRead(t, self), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "handler"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, noPython := exec.LookPath("python3")
	tests := []struct {
		conf     lambdaConf
		wantArgv []string
		why      string
	}{
		{lambdaConf{Runtime: "provided.al2023", Handler: "bootstrap"}, []string{filepath.Join(dir, "bootstrap")}, ""},
		{lambdaConf{Runtime: "go1.x", Handler: "handler"}, nil, "handler is not executable"},
		{lambdaConf{Runtime: "go1.x", Handler: "missing"}, nil, "no missing in the package"},
		{lambdaConf{Runtime: "java21", Handler: "x::y"}, nil, "runtime java21 is not executed"},
	}
	if noPython == nil {
		py, _ := exec.LookPath("python3")
		if p := exactInterpreter("python3.12"); p != "" {
			py = p
		}
		want := []string{py, "-u", filepath.Join(root, "python-runtime.py")}
		if !hasBoto3(py) && hasBoto3(mustLook(t, "python3")) {
			want = append(want, filepath.Join(root, "python-sdk")) // lent (pysdk.go)
		}
		tests = append(tests, struct {
			conf     lambdaConf
			wantArgv []string
			why      string
		}{lambdaConf{Runtime: "python3.12", Handler: "main.handler"}, want, ""})
	}
	for _, tt := range tests {
		argv, why := launcher(tt.conf, dir, root)
		if !slices.Equal(argv, tt.wantArgv) || !strings.Contains(why, tt.why) {
			t.Errorf("launcher(%+v) = %q, %q; want %q, %q", tt.conf, argv, why, tt.wantArgv, tt.why)
		}
	}
	t.Run("interpreter missing", func(t *testing.T) {
		t.Setenv("PATH", t.TempDir())
		t.Setenv("NVM_DIR", t.TempDir())
		t.Setenv("VOLTA_HOME", t.TempDir())
		argv, why := launcher(lambdaConf{Runtime: "nodejs20.x", Handler: "index.handler"}, dir, root)
		if argv != nil || why != "runtime nodejs20.x needs node on this machine's PATH" {
			t.Errorf("launcher = %q, %q", argv, why)
		}
	})
}

// Python and Node handlers run on the host's interpreter through the runtime
// loops: the event in, the result out, errors reported as function errors.
func TestRunnerInterpreted(t *testing.T) {
	var logBuf lockedBuffer
	ep := serveRunning(t, &logBuf)
	c := lambda.NewFromConfig(localConfig(ep, "us-east-1"))
	tests := []struct {
		interp, runtime, handler, file, code string
	}{
		{"python3", "python3.12", "app.handler", "app.py", `import os

def handler(event, context):
    if event.get("fail"):
        raise ValueError("asked to fail")
    return {"got": event, "fn": context.function_name, "left": context.get_remaining_time_in_millis() > 0, "endpoint": os.environ["AWS_ENDPOINT_URL"]}
`},
		{"node", "nodejs20.x", "index.handler", "index.js", `exports.handler = async (event, context) => {
  if (event.fail) throw new Error("asked to fail");
  return { got: event, fn: context.functionName, left: context.getRemainingTimeInMillis() > 0, endpoint: process.env.AWS_ENDPOINT_URL };
};
`},
	}
	for _, tt := range tests {
		t.Run(tt.runtime, func(t *testing.T) {
			if _, err := exec.LookPath(tt.interp); err != nil {
				t.Skipf("no %s here", tt.interp)
			}
			name := fmt.Sprintf("evd-interp-%s-%d", strings.ReplaceAll(tt.runtime, ".", ""), os.Getpid())
			if _, err := c.CreateFunction(t.Context(), &lambda.CreateFunctionInput{
				FunctionName: aws.String(name), Role: aws.String("arn:aws:iam::000000000000:role/r"),
				Runtime: lambdatypes.Runtime(tt.runtime), Handler: aws.String(tt.handler),
				Code: &lambdatypes.FunctionCode{ZipFile: zipOf(t, map[string][]byte{tt.file: []byte(tt.code)}, 0o644)},
			}); err != nil {
				t.Fatal(err)
			}
			var out *lambda.InvokeOutput
			deadline := time.Now().Add(20 * time.Second)
			for {
				var err error
				out, err = c.Invoke(t.Context(), &lambda.InvokeInput{FunctionName: aws.String(name), Payload: []byte(`{"n":1}`)})
				if err == nil {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("invoke: %v\n%s", err, logBuf.String())
				}
				time.Sleep(100 * time.Millisecond)
			}
			want := fmt.Sprintf(`{"got":{"n":1},"fn":%q,"left":true,"endpoint":%q}`, name, ep)
			var got, wantV any
			_ = json.Unmarshal([]byte(want), &wantV)
			if err := json.Unmarshal(out.Payload, &got); err != nil || out.FunctionError != nil {
				t.Fatalf("reply %s (function error %v): %v\n%s", out.Payload, aws.ToString(out.FunctionError), err, logBuf.String())
			}
			if d := cmp.Diff(wantV, got); d != "" {
				t.Errorf("reply (-want +got):\n%s", d)
			}
			out, err := c.Invoke(t.Context(), &lambda.InvokeInput{FunctionName: aws.String(name), Payload: []byte(`{"fail":true}`)})
			if err != nil {
				t.Fatal(err)
			}
			if out.FunctionError == nil || !strings.Contains(string(out.Payload), "asked to fail") {
				t.Errorf("failing invoke: function error %v, payload %s", aws.ToString(out.FunctionError), out.Payload)
			}
		})
	}
}

func TestUnzipRefusesEscapes(t *testing.T) {
	z := zipOf(t, map[string][]byte{"../evil": []byte("x")}, 0o644)
	if err := unzip(z, t.TempDir()); err == nil || !strings.Contains(err.Error(), "outside its root") {
		t.Errorf("unzip: %v", err)
	}
}

func TestLambdaOp(t *testing.T) {
	tests := []struct{ method, path, op, name string }{
		{"POST", "/2015-03-31/functions", "create", ""},
		{"POST", "/2015-03-31/functions/", "create", ""},
		{"PUT", "/2015-03-31/functions/f/code", "code", "f"},
		{"PUT", "/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:function:f/configuration", "config", "f"},
		{"DELETE", "/2015-03-31/functions/f", "delete", "f"},
		{"GET", "/2015-03-31/functions/f", "", ""},
		{"POST", "/2015-03-31/functions/f/invocations", "", ""},
		{"POST", "/2015-03-31/event-source-mappings", "", ""},
	}
	for _, tt := range tests {
		if op, name := lambdaOp(tt.method, tt.path); op != tt.op || name != tt.name {
			t.Errorf("lambdaOp(%s %s) = %q, %q; want %q, %q", tt.method, tt.path, op, name, tt.op, tt.name)
		}
	}
}

// lockedBuffer is a bytes.Buffer safe for the engine's goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// An SQS event source mapping of a function the engine runs is polled: the
// messages reach the handler as Lambda's SQS event and leave the queue.
func TestRunnerPollsSQS(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a handler and runs it")
	}
	code := echoZip(t)
	var logBuf lockedBuffer
	ep := serveRunning(t, &logBuf)
	cfg := localConfig(ep, "us-east-1")
	lc, qc := lambda.NewFromConfig(cfg), sqs.NewFromConfig(cfg)
	ctx := t.Context()
	name := fmt.Sprintf("evd-esm-%d", os.Getpid())

	q, err := qc.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	attrs, err := qc.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: q.QueueUrl,
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		t.Fatal(err)
	}
	queueArn := attrs.Attributes["QueueArn"]
	if _, err := lc.CreateFunction(ctx, &lambda.CreateFunctionInput{
		FunctionName: aws.String(name), Role: aws.String("arn:aws:iam::000000000000:role/r"),
		Runtime: lambdatypes.RuntimeProvidedal2023, Handler: aws.String("bootstrap"),
		Code: &lambdatypes.FunctionCode{ZipFile: code},
	}); err != nil {
		t.Fatal(err)
	}
	invokeUntil(t, lc, name, func(echoReply) bool { return true })
	esm, err := lc.CreateEventSourceMapping(ctx, &lambda.CreateEventSourceMappingInput{
		FunctionName: aws.String(name), EventSourceArn: aws.String(queueArn), BatchSize: aws.Int32(5),
	})
	if err != nil {
		t.Fatal(err)
	}
	bodies := []string{"order-1", "order-2", "order-3"}
	for _, b := range bodies {
		if _, err := qc.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: q.QueueUrl, MessageBody: aws.String(b),
			MessageAttributes: map[string]sqstypes.MessageAttributeValue{"kind": {DataType: aws.String("String"), StringValue: aws.String("order")}},
		}); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		log := logBuf.String()
		seen := 0
		for _, b := range bodies {
			if strings.Contains(log, `"body":"`+b+`"`) {
				seen++
			}
		}
		if seen == len(bodies) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the handler saw %d of %d messages within 20s; engine log:\n%s", seen, len(bodies), log)
		}
		time.Sleep(100 * time.Millisecond)
	}
	log := logBuf.String()
	for _, want := range []string{`"eventSource":"aws:sqs"`, `"eventSourceARN":"` + queueArn + `"`, `"kind":{"binaryListValues":[],"dataType":"String","stringListValues":[],"stringValue":"order"}`} {
		if !strings.Contains(log, want) {
			t.Errorf("the SQS event lacks %s:\n%s", want, log)
		}
	}
	// Processed messages are deleted: nothing visible or in flight.
	empty := false
	for !empty && time.Now().Before(deadline) {
		a, err := qc.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: q.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{
			sqstypes.QueueAttributeNameApproximateNumberOfMessages, sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible}})
		if err != nil {
			t.Fatal(err)
		}
		empty = a.Attributes["ApproximateNumberOfMessages"] == "0" && a.Attributes["ApproximateNumberOfMessagesNotVisible"] == "0"
		if !empty {
			time.Sleep(100 * time.Millisecond)
		}
	}
	if !empty {
		t.Errorf("processed messages are still in the queue")
	}
	if _, err := lc.DeleteEventSourceMapping(ctx, &lambda.DeleteEventSourceMappingInput{UUID: esm.UUID}); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("event source mapping %s: stopped polling", aws.ToString(esm.UUID))
	for !strings.Contains(logBuf.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("poller not stopped after DeleteEventSourceMapping:\n%s", logBuf.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Kinesis and DynamoDB stream mappings are read shard by shard and delivered
// once each, in Lambda's event shapes.
func TestRunnerPollsStreams(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a handler and runs it")
	}
	code := echoZip(t)
	var logBuf lockedBuffer
	ep := serveRunning(t, &logBuf)
	cfg := localConfig(ep, "us-east-1")
	lc, kc, dc := lambda.NewFromConfig(cfg), kinesis.NewFromConfig(cfg), dynamodb.NewFromConfig(cfg)
	ctx := t.Context()
	name := fmt.Sprintf("evd-streams-%d", os.Getpid())

	if _, err := kc.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(name), ShardCount: aws.Int32(2)}); err != nil {
		t.Fatal(err)
	}
	ks, err := kc.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := dc.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		BillingMode:          ddbtypes.BillingModePayPerRequest,
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: ddbtypes.KeyTypeHash}},
		StreamSpecification:  &ddbtypes.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: ddbtypes.StreamViewTypeNewAndOldImages},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lc.CreateFunction(ctx, &lambda.CreateFunctionInput{
		FunctionName: aws.String(name), Role: aws.String("arn:aws:iam::000000000000:role/r"),
		Runtime: lambdatypes.RuntimeProvidedal2023, Handler: aws.String("bootstrap"),
		Code: &lambdatypes.FunctionCode{ZipFile: code},
	}); err != nil {
		t.Fatal(err)
	}
	invokeUntil(t, lc, name, func(echoReply) bool { return true })
	for _, arn := range []string{aws.ToString(ks.StreamDescriptionSummary.StreamARN), aws.ToString(tbl.TableDescription.LatestStreamArn)} {
		if _, err := lc.CreateEventSourceMapping(ctx, &lambda.CreateEventSourceMappingInput{
			FunctionName: aws.String(name), EventSourceArn: aws.String(arn), BatchSize: aws.Int32(10),
			StartingPosition: lambdatypes.EventSourcePositionTrimHorizon,
		}); err != nil {
			t.Fatalf("mapping %s: %v", arn, err)
		}
	}
	for i := 1; i <= 3; i++ {
		if _, err := kc.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(name),
			PartitionKey: aws.String(fmt.Sprintf("pk-%d", i)), Data: []byte(fmt.Sprintf("click-%d", i))}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := dc.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(name),
		Item: map[string]ddbtypes.AttributeValue{"id": &ddbtypes.AttributeValueMemberS{Value: "order-7"}}}); err != nil {
		t.Fatal(err)
	}
	wants := []string{
		`"data":"Y2xpY2stMQ=="`, `"data":"Y2xpY2stMg=="`, `"data":"Y2xpY2stMw=="`, // click-1..3
		`"eventSource":"aws:kinesis"`, `"partitionKey":"pk-2"`,
		`"eventSourceARN":"` + aws.ToString(tbl.TableDescription.LatestStreamArn) + `"`, `"eventName":"INSERT"`, `"S":"order-7"`,
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		log := logBuf.String()
		missing := ""
		for _, w := range wants {
			if !strings.Contains(log, w) {
				missing = w
				break
			}
		}
		if missing == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the handler never saw %s; engine log:\n%s", missing, log)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Delivered once: a few more polling rounds bring nothing new.
	time.Sleep(1500 * time.Millisecond)
	log := logBuf.String()
	for _, w := range []string{`"data":"Y2xpY2stMQ=="`, `"data":"Y2xpY2stMw=="`, `"eventName":"INSERT"`} {
		if n := strings.Count(log, w); n != 1 {
			t.Errorf("%s delivered %d times; engine log:\n%s", w, n, log)
		}
	}
}

// Code deployed from S3 (what evdeploy does for packages over 50 MB) is read
// from the engine's S3 and run.
func TestRunnerCodeFromS3(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("no python3 here")
	}
	var logBuf lockedBuffer
	ep := serveRunning(t, &logBuf)
	cfg := localConfig(ep, "us-east-1")
	lc := lambda.NewFromConfig(cfg)
	sc := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	ctx := t.Context()
	name := fmt.Sprintf("evd-s3code-%d", os.Getpid())
	if _, err := sc.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatal(err)
	}
	code := zipOf(t, map[string][]byte{"app.py": []byte("def handler(event, context):\n    return {'from': 's3', 'n': event['n']}\n")}, 0o644)
	if _, err := sc.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(name), Key: aws.String("pkg/app.zip"), Body: bytes.NewReader(code)}); err != nil {
		t.Fatal(err)
	}
	if _, err := lc.CreateFunction(ctx, &lambda.CreateFunctionInput{
		FunctionName: aws.String(name), Role: aws.String("arn:aws:iam::000000000000:role/r"),
		Runtime: lambdatypes.RuntimePython312, Handler: aws.String("app.handler"),
		Code: &lambdatypes.FunctionCode{S3Bucket: aws.String(name), S3Key: aws.String("pkg/app.zip")},
	}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		out, err := lc.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String(name), Payload: []byte(`{"n":7}`)})
		if err == nil && out.FunctionError == nil {
			if string(out.Payload) != `{"from": "s3", "n": 7}` {
				t.Errorf("reply %s", out.Payload)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("invoke: %v\n%s", err, logBuf.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}
