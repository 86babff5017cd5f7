package localstack

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/google/go-cmp/cmp"
)

// TestBatchItemFailures reads partial batch responses as Lambda documents:
// nothing, null, {} or an empty list is a complete success; invalid JSON or
// an identifier not of the batch fails the whole batch.
func TestBatchItemFailures(t *testing.T) {
	batch := []sqsRecord{{MessageID: "a"}, {MessageID: "b"}}
	for _, tt := range []struct {
		resp    string
		want    map[string]bool
		wantErr bool
	}{
		{resp: "", want: map[string]bool{}},
		{resp: "null", want: map[string]bool{}},
		{resp: "{}", want: map[string]bool{}},
		{resp: `{"batchItemFailures":[]}`, want: map[string]bool{}},
		{resp: `{"batchItemFailures":null}`, want: map[string]bool{}},
		{resp: `{"batchItemFailures":[{"itemIdentifier":"b"}]}`, want: map[string]bool{"b": true}},
		{resp: `{"batchItemFailures":[{"itemIdentifier":"a"},{"itemIdentifier":"b"}]}`, want: map[string]bool{"a": true, "b": true}},
		{resp: `{"batchItemFailures":[{"itemIdentifier":"zz"}]}`, wantErr: true},
		{resp: `{"batchItemFailures":[{"itemIdentifier":""}]}`, wantErr: true},
		{resp: `{"batchItemFailures":[{"id":"a"}]}`, wantErr: true},
		{resp: `"ok"`, wantErr: true},
		{resp: `{not json`, wantErr: true},
	} {
		got, err := batchItemFailures([]byte(tt.resp), batch)
		if (err != nil) != tt.wantErr {
			t.Errorf("%s: error %v, want error %v", tt.resp, err, tt.wantErr)
			continue
		}
		if d := cmp.Diff(tt.want, got); !tt.wantErr && d != "" {
			t.Errorf("%s: failed (-want +got):\n%s", tt.resp, d)
		}
	}
}

// TestSQSPartialBatch: a mapping with ReportBatchItemFailures deletes the
// messages the function does not name; the ones it names come back and,
// past maxReceiveCount, reach the DLQ (as on AWS; kumo drops the setting,
// the engine keeps it and answers it back).
func TestSQSPartialBatch(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("no python3 here")
	}
	var logBuf lockedBuffer
	ep := serveRunning(t, &logBuf)
	cfg := localConfig(ep, "us-east-1")
	lc, qc := lambda.NewFromConfig(cfg), sqs.NewFromConfig(cfg)
	ctx := t.Context()
	name := fmt.Sprintf("evd-partial-%d-%d", os.Getpid(), time.Now().UnixNano()%1e6)

	arnOf := func(url *string) string {
		a, err := qc.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: url, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
		if err != nil {
			t.Fatal(err)
		}
		return a.Attributes["QueueArn"]
	}
	dlq, err := qc.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name + "-dlq")})
	if err != nil {
		t.Fatal(err)
	}
	q, err := qc.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: map[string]string{
		"VisibilityTimeout": "1",
		"RedrivePolicy":     `{"deadLetterTargetArn":"` + arnOf(dlq.QueueUrl) + `","maxReceiveCount":"2"}`,
	}})
	if err != nil {
		t.Fatal(err)
	}
	code := zipOf(t, map[string][]byte{"app.py": []byte(`def handler(event, context):
    for r in event["Records"]:
        print("got " + r["body"])
    return {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in event["Records"] if r["body"].startswith("bad")]}
`)}, 0o644)
	createPythonFunction(t, lc, name, code)
	esm, err := lc.CreateEventSourceMapping(ctx, &lambda.CreateEventSourceMappingInput{
		FunctionName: aws.String(name), EventSourceArn: aws.String(arnOf(q.QueueUrl)), BatchSize: aws.Int32(10),
		FunctionResponseTypes: []lambdatypes.FunctionResponseType{lambdatypes.FunctionResponseTypeReportBatchItemFailures},
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := lc.GetEventSourceMapping(ctx, &lambda.GetEventSourceMappingInput{UUID: esm.UUID})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]lambdatypes.FunctionResponseType{lambdatypes.FunctionResponseTypeReportBatchItemFailures}, got.FunctionResponseTypes); d != "" {
		t.Errorf("GetEventSourceMapping FunctionResponseTypes (-want +got):\n%s", d)
	}
	for _, b := range []string{"good-1", "bad-1", "good-2"} {
		if _, err := qc.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: q.QueueUrl, MessageBody: aws.String(b)}); err != nil {
			t.Fatal(err)
		}
	}
	// bad-1 is received twice (maxReceiveCount), then moved to the DLQ.
	deadline := time.Now().Add(40 * time.Second)
	var inDLQ []string
	for len(inDLQ) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("bad-1 never reached the DLQ\nengine log:\n%s", logBuf.String())
		}
		out, err := qc.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: dlq.QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range out.Messages {
			inDLQ = append(inDLQ, aws.ToString(m.Body))
		}
	}
	if d := cmp.Diff([]string{"bad-1"}, inDLQ); d != "" {
		t.Errorf("DLQ (-want +got):\n%s", d)
	}
	// The good messages were deleted after their first delivery.
	for _, b := range []string{"good-1", "good-2"} {
		if n := strings.Count(logBuf.String(), "got "+b+"\n"); n != 1 {
			t.Errorf("%s delivered %d times, want once\nengine log:\n%s", b, n, logBuf.String())
		}
	}
	if n := strings.Count(logBuf.String(), "got bad-1\n"); n < 2 {
		t.Errorf("bad-1 delivered %d times, want at least 2 (maxReceiveCount)", n)
	}
}
