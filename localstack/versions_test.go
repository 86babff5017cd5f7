package localstack

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"
)

func versionCode(tag string) []byte {
	return []byte(`import os

def handler(event, context):
    if event.get("fail"):
        raise ValueError("asked to fail")
    return {"code": "` + tag + `", "fn": context.function_name, "version": os.environ["AWS_LAMBDA_FUNCTION_VERSION"]}
`)
}

type versionReply struct {
	Code, Fn, Version string
}

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// TestVersionsAndAliases: the engine's Lambda versions and aliases, through
// the Go SDK, as Lambda behaves: publishing snapshots the code (and returns
// the last version when nothing changed, refuses a stale CodeSha256), an
// alias splits invokes by its weights and reports the executed version,
// metrics carry Resource and ExecutedVersion, RevisionId guards updates,
// validation errors are Lambda's, a qualified delete removes only that
// version, provisioned concurrency is reported READY, a mapping on fn:live
// keeps its qualifier, and hidden functions are never listed.
func TestVersionsAndAliases(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("no python3 here")
	}
	t.Parallel()
	var logBuf lockedBuffer
	ep := serveRunning(t, &logBuf)
	cfg := localConfig(ep, "us-east-1")
	c := lambda.NewFromConfig(cfg)
	ctx := t.Context()
	name := fmt.Sprintf("evd-versions-%d", os.Getpid())
	zipFor := func(tag string) []byte { return zipOf(t, map[string][]byte{"app.py": versionCode(tag)}, 0o644) }
	created := createPythonFunction(t, c, name, zipFor("one"))
	arn := aws.ToString(created.FunctionArn)
	invoke := func(fn string, qual *string) (versionReply, string) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			out, err := c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String(fn), Qualifier: qual, Payload: []byte(`{}`)})
			if err == nil && out.FunctionError == nil {
				var r versionReply
				if err := json.Unmarshal(out.Payload, &r); err != nil {
					t.Fatalf("reply %s: %v", out.Payload, err)
				}
				return r, aws.ToString(out.ExecutedVersion)
			}
			if time.Now().After(deadline) {
				t.Fatalf("invoke %s: %v %v\n%s", fn, err, out, logBuf.String())
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	invoke(name, nil) // $LATEST runs

	v1, err := c.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String(name), CodeSha256: created.CodeSha256, Description: aws.String("first")})
	if err != nil {
		t.Fatal(err)
	}
	again, err := c.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(v1.Version) != "1" || aws.ToString(again.Version) != "1" || aws.ToString(v1.FunctionArn) != arn+":1" {
		t.Errorf("publish: %s (%s), unchanged publish: %s; want 1, 1", aws.ToString(v1.Version), aws.ToString(v1.FunctionArn), aws.ToString(again.Version))
	}
	upd, err := c.UpdateFunctionCode(ctx, &lambda.UpdateFunctionCodeInput{FunctionName: aws.String(name), ZipFile: zipFor("two")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String(name), CodeSha256: aws.String("stale")}); apiCode(err) != "InvalidParameterValueException" {
		t.Errorf("publish with a stale CodeSha256: %v; want InvalidParameterValueException", err)
	}
	v2, err := c.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String(name), CodeSha256: upd.CodeSha256})
	if err != nil || aws.ToString(v2.Version) != "2" {
		t.Fatalf("publish after an update: %v, %v; want version 2", err, v2)
	}

	vs, err := c.ListVersionsByFunction(ctx, &lambda.ListVersionsByFunctionInput{FunctionName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, v := range vs.Versions {
		got = append(got, aws.ToString(v.Version)+"="+aws.ToString(v.Description))
	}
	if d := cmp.Diff([]string{"$LATEST=", "1=first", "2="}, got); d != "" {
		t.Errorf("versions (-want +got):\n%s", d)
	}
	// Paged as Lambda pages: the SDK's paginator with one item a page.
	got = nil
	for p := lambda.NewListVersionsByFunctionPaginator(c, &lambda.ListVersionsByFunctionInput{FunctionName: aws.String(name), MaxItems: aws.Int32(1)}); p.HasMorePages(); {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Versions) != 1 {
			t.Fatalf("a page of MaxItems 1 holds %d versions", len(out.Versions))
		}
		got = append(got, aws.ToString(out.Versions[0].Version))
	}
	if d := cmp.Diff([]string{"$LATEST", "1", "2"}, got); d != "" {
		t.Errorf("versions paged (-want +got):\n%s", d)
	}
	fns, err := c.ListFunctions(ctx, &lambda.ListFunctionsInput{})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fns.Functions {
		if strings.HasPrefix(aws.ToString(f.FunctionName), name+hiddenSep) {
			t.Errorf("ListFunctions lists the hidden %s", aws.ToString(f.FunctionName))
		}
	}
	gc, err := c.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(name), Qualifier: aws.String("1")})
	if err != nil || aws.ToString(gc.Version) != "1" || aws.ToString(gc.FunctionName) != name || aws.ToString(gc.CodeSha256) != aws.ToString(created.CodeSha256) {
		t.Errorf("GetFunctionConfiguration :1 = %v, %v", err, gc)
	}

	// Lambda's validation.
	for _, tt := range []struct {
		what    string
		in      lambda.CreateAliasInput
		code    string
		message string
	}{
		{"weight above 1", lambda.CreateAliasInput{FunctionVersion: aws.String("1"), RoutingConfig: &lambdatypes.AliasRoutingConfiguration{AdditionalVersionWeights: map[string]float64{"2": 1.5}}},
			"ValidationException", "Member must have value less than or equal to 1.0"},
		{"$LATEST with weights", lambda.CreateAliasInput{FunctionVersion: aws.String("$LATEST"), RoutingConfig: &lambdatypes.AliasRoutingConfiguration{AdditionalVersionWeights: map[string]float64{"2": 0.5}}},
			"InvalidParameterValueException", "$LATEST is not supported for an alias pointing to more than 1 version"},
		{"two extra versions", lambda.CreateAliasInput{FunctionVersion: aws.String("1"), RoutingConfig: &lambdatypes.AliasRoutingConfiguration{AdditionalVersionWeights: map[string]float64{"2": 0.1, "1": 0.1}}},
			"ValidationException", "Member must have length less than or equal to 1"},
		{"missing version", lambda.CreateAliasInput{FunctionVersion: aws.String("9")}, "ResourceNotFoundException", "Function not found: " + arn + ":9"},
		{"numeric name", lambda.CreateAliasInput{Name: aws.String("7"), FunctionVersion: aws.String("1")}, "ValidationException", "(?!^[0-9]+$)"},
	} {
		in := tt.in
		in.FunctionName = aws.String(name)
		if in.Name == nil {
			in.Name = aws.String("bad")
		}
		_, err := c.CreateAlias(ctx, &in)
		if apiCode(err) != tt.code || err == nil || !strings.Contains(err.Error(), tt.message) {
			t.Errorf("CreateAlias with %s: %v; want %s %q", tt.what, err, tt.code, tt.message)
		}
	}

	alias, err := c.CreateAlias(ctx, &lambda.CreateAliasInput{
		FunctionName: aws.String(name), Name: aws.String("live"), FunctionVersion: aws.String("1"),
		RoutingConfig: &lambdatypes.AliasRoutingConfiguration{AdditionalVersionWeights: map[string]float64{"2": 0.5}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(alias.AliasArn) != arn+":live" || aws.ToString(alias.RevisionId) == "" {
		t.Errorf("CreateAlias = %+v", alias)
	}
	if _, err := c.CreateAlias(ctx, &lambda.CreateAliasInput{FunctionName: aws.String(name), Name: aws.String("live"), FunctionVersion: aws.String("1")}); apiCode(err) != "ResourceConflictException" {
		t.Errorf("CreateAlias again: %v; want ResourceConflictException", err)
	}

	// Invokes of the alias split by weight; each reports the version it ran.
	counts := map[string]int{}
	for range 40 {
		r, executed := invoke(name+":live", nil)
		if r.Version != executed || r.Fn != name || (executed == "1") != (r.Code == "one") {
			t.Fatalf("alias invoke ran %+v, reported executed version %q", r, executed)
		}
		counts[executed]++
	}
	if counts["1"] < 5 || counts["2"] < 5 {
		t.Errorf("40 invokes of a 50%% alias ran versions %v", counts)
	}
	if r, executed := invoke(name, aws.String("1")); r.Code != "one" || executed != "1" {
		t.Errorf("invoke ?Qualifier=1 ran %+v (%s)", r, executed)
	}
	if r, executed := invoke(arn+":2", nil); r.Code != "two" || executed != "2" {
		t.Errorf("invoke of the version ARN ran %+v (%s)", r, executed)
	}
	if r, executed := invoke(name, nil); r.Code != "two" || executed != "$LATEST" {
		t.Errorf("unqualified invoke ran %+v (%s)", r, executed)
	}
	if _, err := c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String(name + ":9")}); apiCode(err) != "ResourceNotFoundException" {
		t.Errorf("invoke of a missing version: %v", err)
	}
	// Metrics per executed version, as max_errors reads them.
	now := time.Now()
	for _, ver := range []string{"1", "2"} {
		vals, _ := engineMetrics.window("AWS/Lambda", "Invocations",
			[]dimension{{"FunctionName", name}, {"Resource", name + ":live"}, {"ExecutedVersion", ver}}, now.Add(-time.Minute), now.Add(time.Second))
		if n, _ := statistic("Sum", vals); int(n) != counts[ver] {
			t.Errorf("Invocations of %s:live on version %s = %v; want %d", name, ver, n, counts[ver])
		}
	}

	// A version logs to its function's group, as Lambda does: streams
	// named [2], START lines with its number.
	logs := cloudwatchlogs.NewFromConfig(cfg)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		found := false
		var streams []string
		p := cloudwatchlogs.NewFilterLogEventsPaginator(logs, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String("/aws/lambda/" + name)})
		for p.HasMorePages() && !found {
			out, err := p.NextPage(ctx)
			if err != nil {
				break
			}
			for _, e := range out.Events {
				streams = append(streams, aws.ToString(e.LogStreamName))
				found = found || strings.Contains(aws.ToString(e.Message), "Version: 2") && strings.Contains(aws.ToString(e.LogStreamName), "/[2]")
			}
		}
		if found {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("no START line of version 2 in a [2] stream of /aws/lambda/%s (streams %v)", name, streams)
			break
		}
	}

	// RevisionId guards an update.
	if _, err := c.UpdateAlias(ctx, &lambda.UpdateAliasInput{FunctionName: aws.String(name), Name: aws.String("live"), FunctionVersion: aws.String("2"), RevisionId: aws.String("stale")}); apiCode(err) != "PreconditionFailedException" {
		t.Errorf("UpdateAlias with a stale RevisionId: %v; want PreconditionFailedException", err)
	}
	if _, err := c.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String(name), Qualifier: aws.String("1")}); apiCode(err) != "ResourceConflictException" {
		t.Errorf("deleting a version an alias uses: %v; want ResourceConflictException", err)
	}
	moved, err := c.UpdateAlias(ctx, &lambda.UpdateAliasInput{FunctionName: aws.String(name), Name: aws.String("live"), FunctionVersion: aws.String("2"),
		RevisionId: alias.RevisionId, RoutingConfig: &lambdatypes.AliasRoutingConfiguration{}})
	if err != nil || moved.RoutingConfig != nil || aws.ToString(moved.RevisionId) == aws.ToString(alias.RevisionId) {
		t.Fatalf("UpdateAlias to 2 = %+v, %v", moved, err)
	}
	// Version 1 is used by no alias now: its handler is stopped, and the
	// next invoke of it starts it again.
	if !strings.Contains(logBuf.String(), "function "+name+hiddenSep+"1: idle") {
		t.Errorf("version 1's handler was not stopped once no alias used it")
	}
	if r, executed := invoke(name+":1", nil); r.Code != "one" || executed != "1" {
		t.Errorf("invoke of the idle version 1 ran %+v (%s)", r, executed)
	}
	if _, err := c.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String(name), Qualifier: aws.String("1")}); err != nil {
		t.Fatalf("deleting version 1: %v", err)
	}
	if _, err := c.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(name), Qualifier: aws.String("1")}); apiCode(err) != "ResourceNotFoundException" {
		t.Errorf("GetFunction :1 after its delete: %v", err)
	}
	if r, executed := invoke(name+":live", nil); r.Code != "two" || executed != "2" {
		t.Errorf("after the delete of version 1 the alias ran %+v (%s)", r, executed)
	}
	// A published version keeps its code: $LATEST changes, version 2 not.
	if _, err := c.UpdateFunctionCode(ctx, &lambda.UpdateFunctionCodeInput{FunctionName: aws.String(name), ZipFile: zipFor("three")}); err != nil {
		t.Fatal(err)
	}
	if r, _ := invoke(name+":2", nil); r.Code != "two" {
		t.Errorf("version 2 after an update of $LATEST ran %+v", r)
	}

	// Provisioned concurrency: accepted and reported.
	if _, err := c.PutProvisionedConcurrencyConfig(ctx, &lambda.PutProvisionedConcurrencyConfigInput{FunctionName: aws.String(name), Qualifier: aws.String("live"), ProvisionedConcurrentExecutions: aws.Int32(2)}); err != nil {
		t.Fatal(err)
	}
	pc, err := c.GetProvisionedConcurrencyConfig(ctx, &lambda.GetProvisionedConcurrencyConfigInput{FunctionName: aws.String(name), Qualifier: aws.String("live")})
	if err != nil || aws.ToInt32(pc.RequestedProvisionedConcurrentExecutions) != 2 || pc.Status != lambdatypes.ProvisionedConcurrencyStatusEnumReady {
		t.Errorf("GetProvisionedConcurrencyConfig = %+v, %v", pc, err)
	}
	if _, err := c.DeleteProvisionedConcurrencyConfig(ctx, &lambda.DeleteProvisionedConcurrencyConfigInput{FunctionName: aws.String(name), Qualifier: aws.String("live")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetProvisionedConcurrencyConfig(ctx, &lambda.GetProvisionedConcurrencyConfigInput{FunctionName: aws.String(name), Qualifier: aws.String("live")}); apiCode(err) != "ProvisionedConcurrencyConfigNotFoundException" {
		t.Errorf("GetProvisionedConcurrencyConfig after delete: %v", err)
	}

	// A queue mapped to the alias: kumo gets the bare function, answers
	// carry the qualifier, and the poller runs the alias's version.
	qc := sqs.NewFromConfig(cfg)
	q, err := qc.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name + "-q")})
	if err != nil {
		t.Fatal(err)
	}
	m, err := c.CreateEventSourceMapping(ctx, &lambda.CreateEventSourceMappingInput{
		FunctionName: aws.String(name + ":live"), EventSourceArn: aws.String("arn:aws:sqs:us-east-1:000000000000:" + name + "-q"), BatchSize: aws.Int32(1),
	})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(m.FunctionArn) != arn+":live" {
		t.Errorf("mapping FunctionArn = %s; want %s:live", aws.ToString(m.FunctionArn), arn)
	}
	sent := time.Now()
	if _, err := qc.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: q.QueueUrl, MessageBody: aws.String("{}")}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		vals, _ := engineMetrics.window("AWS/Lambda", "Invocations",
			[]dimension{{"FunctionName", name}, {"Resource", name + ":live"}, {"ExecutedVersion", "2"}}, sent, time.Now().Add(time.Second))
		if n, _ := statistic("Sum", vals); n >= 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the queue's message was not run by %s:live\n%s", name, logBuf.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
	if _, err := c.DeleteEventSourceMapping(ctx, &lambda.DeleteEventSourceMappingInput{UUID: m.UUID}); err != nil {
		t.Fatal(err)
	}

	// The unqualified delete takes the versions and aliases with it.
	if _, err := c.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String(name)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetAlias(ctx, &lambda.GetAliasInput{FunctionName: aws.String(name), Name: aws.String("live")}); apiCode(err) != "ResourceNotFoundException" {
		t.Errorf("GetAlias after the function's delete: %v", err)
	}
	if _, err := c.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(name + hiddenSep + "2")}); apiCode(err) != "ResourceNotFoundException" {
		t.Errorf("the hidden function of version 2 outlived its function: %v", err)
	}
}

// TestVersionStoreKept: what the engine keeps of versions and aliases is
// read back by the next engine on the same data folder.
func TestVersionStoreKept(t *testing.T) {
	dir := t.TempDir()
	lg := log.New(io.Discard, "", 0)
	a, stopA := newVersionStoreOn(newVersionState(), nil, "http://127.0.0.1:1", nil, dir, lg)
	a.fns["f"] = &fnVersions{Arn: "arn:aws:lambda:us-east-1:000000000000:function:f", Last: 3,
		Versions: map[string]*publishedVersion{"3": {Config: map[string]any{"Version": "3"}, Hidden: "f--v3"}},
		Aliases:  map[string]*aliasState{"live": {Name: "live", FunctionVersion: "3", RevisionID: "r1"}}}
	a.mappings["u1"] = "live"
	a.mu.Lock()
	a.save()
	a.mu.Unlock()
	stopA()
	if _, err := os.Stat(filepath.Join(dir, versionsFile)); err != nil {
		t.Fatal(err)
	}
	b, stopB := newVersionStoreOn(newVersionState(), nil, "http://127.0.0.1:1", nil, dir, lg)
	defer stopB()
	if d := cmp.Diff(a.fns, b.fns); d != "" {
		t.Errorf("functions read back (-saved +read):\n%s", d)
	}
	if got := mappingFunction("u1", "arn:aws:lambda:us-east-1:000000000000:function:f"); got != "arn:aws:lambda:us-east-1:000000000000:function:f:live" {
		t.Errorf("mappingFunction = %s", got)
	}
	if fn, ver := publicFunction("f--v3"); fn != "f" || ver != "3" {
		t.Errorf("publicFunction(f--v3) = %s, %s", fn, ver)
	}
	if fn, ver := publicFunction("g--v3"); fn != "g--v3" || ver != "$LATEST" {
		t.Errorf("publicFunction(g--v3) = %s, %s (not a published version)", fn, ver)
	}
}

func TestSplitQualifier(t *testing.T) {
	for _, tt := range []struct{ in, name, q string }{
		{"api", "api", ""},
		{"api:live", "api", "live"},
		{"arn:aws:lambda:us-east-1:000000000000:function:api", "api", ""},
		{"arn:aws:lambda:us-east-1:000000000000:function:api:7", "api", "7"},
	} {
		if n, q := splitQualifier(tt.in); n != tt.name || q != tt.q {
			t.Errorf("splitQualifier(%s) = %s, %s; want %s, %s", tt.in, n, q, tt.name, tt.q)
		}
	}
}

// TestAliasTriggers: what targets an alias runs the version the alias
// picks, though kumo drops the qualifier when it invokes: a topic
// subscription, a bucket notification, an EventBridge target and a function
// URL on fn:live run version 1 while $LATEST holds other code.
func TestAliasTriggers(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("no python3 here")
	}
	// Not parallel: kumo's SNS, S3 and EventBridge deliveries to Lambda reach
	// the newest engine of the process (selfcall.go); another test's engine
	// started meanwhile took the subscription's invoke in a full run.
	var logBuf lockedBuffer
	ep := serveRunning(t, &logBuf)
	cfg := localConfig(ep, "us-east-1")
	c := lambda.NewFromConfig(cfg)
	ctx := t.Context()
	name := fmt.Sprintf("evd-aliastrig-%d-%d", os.Getpid(), time.Now().UnixNano()%1e6) // -count=N reuses the process
	zipFor := func(tag string) []byte { return zipOf(t, map[string][]byte{"app.py": versionCode(tag)}, 0o644) }
	created := createPythonFunction(t, c, name, zipFor("one"))
	arn := aws.ToString(created.FunctionArn)
	if _, err := c.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String(name)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateAlias(ctx, &lambda.CreateAliasInput{FunctionName: aws.String(name), Name: aws.String("live"), FunctionVersion: aws.String("1")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UpdateFunctionCode(ctx, &lambda.UpdateFunctionCodeInput{FunctionName: aws.String(name), ZipFile: zipFor("two")}); err != nil {
		t.Fatal(err)
	}
	// ran waits until the alias has run version 1 once more since from.
	ran := func(what string, from time.Time, before int) int {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			vals, _ := engineMetrics.window("AWS/Lambda", "Invocations",
				[]dimension{{"FunctionName", name}, {"Resource", name + ":live"}, {"ExecutedVersion", "1"}}, from, time.Now().Add(time.Second))
			n, _ := statistic("Sum", vals)
			if int(n) > before {
				return int(n)
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s on %s:live did not run version 1\n%s", what, name, logBuf.String())
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	from := time.Now()
	n := 0

	sc := sns.NewFromConfig(cfg)
	topic, err := sc.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sc.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("lambda"), Endpoint: aws.String(arn + ":live")}); err != nil {
		t.Fatal(err)
	}
	if _, err := sc.Publish(ctx, &sns.PublishInput{TopicArn: topic.TopicArn, Message: aws.String("hi")}); err != nil {
		t.Fatal(err)
	}
	n = ran("a topic subscription", from, n)

	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	bucket := strings.ToLower(name)
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s3c.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{Bucket: aws.String(bucket),
		NotificationConfiguration: &s3types.NotificationConfiguration{LambdaFunctionConfigurations: []s3types.LambdaFunctionConfiguration{{
			Id: aws.String("to-live"), LambdaFunctionArn: aws.String(arn + ":live"), Events: []s3types.Event{"s3:ObjectCreated:*"},
		}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("k"), Body: strings.NewReader("x")}); err != nil {
		t.Fatal(err)
	}
	n = ran("a bucket notification", from, n)

	eb := eventbridge.NewFromConfig(cfg)
	if _, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String(name), EventPattern: aws.String(`{"source":["evd.alias"]}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String(name), Targets: []ebtypes.Target{{Id: aws.String("live"), Arn: aws.String(arn + ":live")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := eb.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{{Source: aws.String("evd.alias"), DetailType: aws.String("t"), Detail: aws.String("{}")}}}); err != nil {
		t.Fatal(err)
	}
	n = ran("an EventBridge target", from, n)

	u, err := c.CreateFunctionUrlConfig(ctx, &lambda.CreateFunctionUrlConfigInput{FunctionName: aws.String(name), Qualifier: aws.String("live"), AuthType: lambdatypes.FunctionUrlAuthTypeNone})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(u.FunctionArn) != arn+":live" {
		t.Errorf("function URL FunctionArn = %s, want %s:live", aws.ToString(u.FunctionArn), arn)
	}
	id, _, _ := strings.Cut(strings.TrimPrefix(aws.ToString(u.FunctionUrl), "https://"), ".")
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, ep+"/", nil)
	req.Host = id + ".lambda-url.localhost"
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `"one"`) {
		t.Errorf("the function URL on live answered %d %s, want version 1's reply", resp.StatusCode, body)
	}
	n = ran("a function URL", from, n)

	// An asynchronous invoke of the alias with its event invoke config: the
	// record sent to on_success names the alias and the version it ran.
	qc := sqs.NewFromConfig(cfg)
	q, err := qc.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name + "-ok")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutFunctionEventInvokeConfig(ctx, &lambda.PutFunctionEventInvokeConfigInput{FunctionName: aws.String(name), Qualifier: aws.String("live"),
		DestinationConfig: &lambdatypes.DestinationConfig{OnSuccess: &lambdatypes.OnSuccess{Destination: aws.String("arn:aws:sqs:us-east-1:000000000000:" + name + "-ok")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String(name + ":live"), InvocationType: lambdatypes.InvocationTypeEvent, Payload: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	ran("an asynchronous invoke", from, n)
	var rec struct {
		RequestContext  struct{ FunctionArn string } `json:"requestContext"`
		ResponseContext struct {
			ExecutedVersion string `json:"executedVersion"`
		} `json:"responseContext"`
	}
	for deadline := time.Now().Add(10 * time.Second); rec.ResponseContext.ExecutedVersion == ""; {
		out, err := qc.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: q.QueueUrl, WaitTimeSeconds: 1})
		if err == nil && len(out.Messages) > 0 {
			if err := json.Unmarshal([]byte(aws.ToString(out.Messages[0].Body)), &rec); err != nil {
				t.Fatal(err)
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("no on_success record")
		}
	}
	if rec.RequestContext.FunctionArn != arn+":live" || rec.ResponseContext.ExecutedVersion != "1" {
		t.Errorf("on_success record: functionArn %s, executedVersion %s; want %s:live, 1", rec.RequestContext.FunctionArn, rec.ResponseContext.ExecutedVersion, arn)
	}
}

// createPythonFunction makes a python3.12 function of zip (handler
// app.handler).
func createPythonFunction(t *testing.T, c *lambda.Client, name string, zip []byte) *lambda.CreateFunctionOutput {
	t.Helper()
	created, err := c.CreateFunction(t.Context(), &lambda.CreateFunctionInput{
		FunctionName: aws.String(name), Role: aws.String("arn:aws:iam::000000000000:role/r"),
		Runtime: lambdatypes.RuntimePython312, Handler: aws.String("app.handler"),
		Code: &lambdatypes.FunctionCode{ZipFile: zip},
	})
	if err != nil {
		t.Fatal(err)
	}
	return created
}
