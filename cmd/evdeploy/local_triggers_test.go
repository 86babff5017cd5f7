package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/google/go-cmp/cmp"

	"github.com/evdeploy/evdeploy/localstack"
)

// TestLocalAllTriggers: an app with one Python function per trigger kind,
// each writing a marker object when its event arrives, deployed to two
// embedded engines on free ports (neither 4566). Events produced at their
// sources on engine A reach A's functions, every kind of them, and none of
// B's; an upload on B reaches B only. The schedule fires on its own
// (cron(* * * * ? *), at the next minute) with the trigger's constant input.
func TestLocalAllTriggers(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("needs python3 (the engine runs Python handlers on the host's interpreter)")
	}
	if err := exec.Command("python3", "-c", "import boto3").Run(); err != nil {
		t.Skip("needs boto3 for python3 (the marker function uses it)")
	}
	portA := localEngineUp(t)
	// Engine B: another process, port and state folder.
	stateB := t.TempDir()
	portB := freePort(t)
	if _, err := localstack.Start(t.Context(), localstack.StartOptions{Port: portB, StateDir: stateB}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = localstack.Stop(context.Background(), localstack.StopOptions{StateDir: stateB}) })

	endpointA := fmt.Sprintf("http://127.0.0.1:%d", portA)
	endpointB := fmt.Sprintf("http://127.0.0.1:%d", portB)
	apiURL := map[string]string{}
	var dirA string
	for _, e := range []string{endpointA, endpointB} {
		dir := localCopyDir(t, "testdata/alltriggers")
		args := []string{"apply", "--auto-approve", "-C", dir, "--target", "local"}
		if e == endpointA {
			dirA = dir // A is the recorded engine: --target local finds it
		} else {
			args = append(args, "--endpoint", e)
		}
		code, out, errOut := runLocal(t, args...)
		if code != 0 {
			t.Fatalf("apply to %s: exit %d\n%s%s", e, code, out, errOut)
		}
		// The API's id, reached through the engine's own address.
		m := regexp.MustCompile(`api_url = https?://([a-z0-9-]+)\.`).FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("no api_url in the apply output:\n%s", out)
		}
		apiURL[e] = m[1]
	}

	a := newLocalClients(t, endpointA)
	b := newLocalClients(t, endpointB)
	ctx := t.Context()

	// Produce one event at each source of engine A.
	deadline := time.Now().Add(30 * time.Second)
	for {
		// Go's resolver does not map *.localhost to loopback: name the API in Host.
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, endpointA+"/hello", nil)
		req.Host = fmt.Sprintf("%s.execute-api.localhost:%d", apiURL[endpointA], portA)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 && string(body) == "fired" {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the HTTP route never answered: %v\nengine log:\n%s", err, engineLog(t))
		}
		time.Sleep(300 * time.Millisecond) // the handler's first poll
	}
	uploadsA := a.bucket(t, "alltriggers-dev-uploads")
	for _, key := range []string{"incoming/a.txt", "other/b.txt", "incoming/c.md"} {
		if _, err := a.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: &uploadsA, Key: aws.String(key), Body: strings.NewReader("hi")}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := a.sns.Publish(ctx, &sns.PublishInput{TopicArn: aws.String("arn:aws:sns:us-east-1:000000000000:alltriggers-dev-alerts"), Message: aws.String("hello")}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.eb.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{
		{Source: aws.String("shop.orders"), DetailType: aws.String("OrderPlaced"), Detail: aws.String(`{"id":1}`), EventBusName: aws.String("alltriggers-dev-orders")},
		{Source: aws.String("shop.orders"), DetailType: aws.String("OrderCancelled"), Detail: aws.String(`{"id":2}`), EventBusName: aws.String("alltriggers-dev-orders")},
		{Source: aws.String("shop.audit"), DetailType: aws.String("Checked"), Detail: aws.String(`{}`)},
	}}); err != nil {
		t.Fatal(err)
	}
	q, err := a.sqs.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("alltriggers-dev-jobs")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.sqs.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: q.QueueUrl, MessageBody: aws.String("job")}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.kinesis.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("alltriggers-dev-clicks"), PartitionKey: aws.String("k"), Data: []byte("click")}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.ddb.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("alltriggers-dev-items"),
		Item: map[string]ddbtypes.AttributeValue{"id": &ddbtypes.AttributeValueMemberS{Value: "1"}}}); err != nil {
		t.Fatal(err)
	}
	// And one upload on B.
	uploadsB := b.bucket(t, "alltriggers-dev-uploads")
	if _, err := b.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: &uploadsB, Key: aws.String("incoming/b.txt"), Body: strings.NewReader("hi")}); err != nil {
		t.Fatal(err)
	}

	// Every kind fires on A (the schedule within its minute); B sees its upload.
	kinds := []string{"bus", "default_bus", "dynamodb", "http", "kinesis", "queue", "s3", "schedule", "topic"}
	gotA := a.waitMarkers(t, kinds, 100*time.Second)
	gotB := b.waitMarkers(t, []string{"s3", "schedule"}, 100*time.Second)
	// Let stray deliveries (into the wrong engine, or filtered events) land.
	time.Sleep(2 * time.Second)
	gotA, gotB = a.markers(t), b.markers(t)

	count := func(m map[string][]string) map[string]int {
		c := map[string]int{}
		for k, v := range m {
			if k == "schedule" || k == "http" {
				continue // fire on their own clock / retried until the handler polls
			}
			c[k] = len(v)
		}
		return c
	}
	wantA := map[string]int{"bus": 1, "default_bus": 1, "dynamodb": 1, "kinesis": 1, "queue": 1, "s3": 1, "topic": 1}
	if d := cmp.Diff(wantA, count(gotA)); d != "" {
		t.Errorf("engine A's markers per trigger (-want +got):\n%s", d)
	}
	if d := cmp.Diff(map[string]int{"s3": 1}, count(gotB)); d != "" {
		t.Errorf("engine B's markers per trigger (-want +got):\n%s", d)
	}
	// The S3 event names the object as AWS does; the schedule passes its input.
	if ev := a.object(t, gotA["s3"][0]); !strings.Contains(ev, `"key": "incoming/a.txt"`) || !strings.Contains(ev, `"eventName": "ObjectCreated:Put"`) {
		t.Errorf("S3 event on A = %s", ev)
	}
	if ev := b.object(t, gotB["s3"][0]); !strings.Contains(ev, `"key": "incoming/b.txt"`) {
		t.Errorf("S3 event on B = %s", ev)
	}
	if ev := a.object(t, gotA["schedule"][0]); ev != `{"job": "nightly"}` {
		t.Errorf("schedule event = %s, want the trigger's input", ev)
	}
	if ev := a.object(t, gotA["bus"][0]); !strings.Contains(ev, `"detail-type": "OrderPlaced"`) || !strings.Contains(ev, `"detail": {"id": 1}`) {
		t.Errorf("custom bus event = %s", ev)
	}

	// `evdeploy fire` produces one more event at each source of A.
	before := a.markers(t)
	for _, k := range kinds {
		code, out, errOut := runLocal(t, "fire", k, "-C", dirA, "--target", "local")
		if code != 0 {
			t.Errorf("fire %s: exit %d\n%s%s", k, code, out, errOut)
		}
		if k == "http" && out != "fired\n" {
			t.Errorf("fire http printed %q, want the handler's answer", out)
		}
	}
	deadline = time.Now().Add(60 * time.Second)
	for {
		after := a.markers(t)
		var short []string
		for _, k := range kinds {
			if len(after[k]) <= len(before[k]) {
				short = append(short, k)
			}
		}
		if len(short) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("fire produced no new event for %v\nengine log:\n%s", short, engineLog(t))
		}
		time.Sleep(500 * time.Millisecond)
	}
	if code, _, errOut := runLocal(t, "fire", "nope", "-C", dirA, "--target", "local"); code == 0 || !strings.Contains(errOut, `no trigger "nope"`) {
		t.Errorf("fire of an unknown trigger: exit %d, %s", code, errOut)
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

type localClients struct {
	s3      *s3.Client
	sns     *sns.Client
	sqs     *sqs.Client
	eb      *eventbridge.Client
	kinesis *kinesis.Client
	ddb     *dynamodb.Client
	logs    *cloudwatchlogs.Client
	markerB string
}

func newLocalClients(t *testing.T, endpoint string) *localClients {
	t.Helper()
	c := newLocalClientsAt(t, endpoint)
	c.markerB = c.bucket(t, "alltriggers-dev-markers")
	return c
}

// newLocalClientsAt makes SDK clients for the engine at endpoint.
func newLocalClientsAt(t *testing.T, endpoint string) *localClients {
	t.Helper()
	tgt := &localstack.Target{Endpoint: endpoint, Region: "us-east-1"}
	cfg, err := tgt.AWSConfig(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	c := &localClients{
		s3:  s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }),
		sns: sns.NewFromConfig(cfg), sqs: sqs.NewFromConfig(cfg), eb: eventbridge.NewFromConfig(cfg),
		kinesis: kinesis.NewFromConfig(cfg), ddb: dynamodb.NewFromConfig(cfg),
		logs: cloudwatchlogs.NewFromConfig(cfg),
	}
	return c
}

// bucket finds the deployed bucket whose name starts with prefix.
func (c *localClients) bucket(t *testing.T, prefix string) string {
	t.Helper()
	out, err := c.s3.ListBuckets(t.Context(), &s3.ListBucketsInput{})
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range out.Buckets {
		if strings.HasPrefix(aws.ToString(b.Name), prefix) {
			return aws.ToString(b.Name)
		}
	}
	t.Fatalf("no bucket %s*", prefix)
	return ""
}

// markers lists the marker objects by trigger kind.
func (c *localClients) markers(t *testing.T) map[string][]string {
	t.Helper()
	out, err := c.s3.ListObjectsV2(t.Context(), &s3.ListObjectsV2Input{Bucket: &c.markerB})
	if err != nil {
		t.Fatal(err)
	}
	m := map[string][]string{}
	for _, o := range out.Contents {
		k := aws.ToString(o.Key)
		kind, _, _ := strings.Cut(k, "/")
		m[kind] = append(m[kind], k)
	}
	return m
}

func (c *localClients) waitMarkers(t *testing.T, kinds []string, d time.Duration) map[string][]string {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		got := c.markers(t)
		var missing []string
		for _, k := range kinds {
			if len(got[k]) == 0 {
				missing = append(missing, k)
			}
		}
		if len(missing) == 0 {
			return got
		}
		if time.Now().After(deadline) {
			sort.Strings(missing)
			t.Fatalf("no event reached %v within %s\nengine log:\n%s", missing, d, engineLog(t))
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func (c *localClients) object(t *testing.T, key string) string {
	t.Helper()
	out, err := c.s3.GetObject(t.Context(), &s3.GetObjectInput{Bucket: &c.markerB, Key: &key})
	if err != nil {
		t.Fatal(err)
	}
	defer out.Body.Close()
	b, _ := io.ReadAll(out.Body)
	return string(b)
}
