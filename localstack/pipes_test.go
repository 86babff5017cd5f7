package localstack

import (
	"encoding/json"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/pipes"
	pipestypes "github.com/aws/aws-sdk-go-v2/service/pipes/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// TestPipeFromQueue: a pipe from one queue to another, with a filter, moves
// the matching messages (as Pipes' SQS records) and drops the others; the
// source is left empty.
func TestPipeFromQueue(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the engine")
	}
	var logBuf lockedBuffer
	ep := serveRunning(t, &logBuf)
	cfg := localConfig(ep, "us-east-1")
	qc, pc := sqs.NewFromConfig(cfg), pipes.NewFromConfig(cfg)
	ctx := t.Context()
	name := fmt.Sprintf("evd-pipe-%d", os.Getpid())
	var urls, arns []string
	for _, q := range []string{"src", "dst"} {
		out, err := qc.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name + "-" + q)})
		if err != nil {
			t.Fatal(err)
		}
		urls = append(urls, aws.ToString(out.QueueUrl))
		arns = append(arns, "arn:aws:sqs:us-east-1:000000000000:"+name+"-"+q)
	}
	if _, err := pc.CreatePipe(ctx, &pipes.CreatePipeInput{
		Name: aws.String(name), RoleArn: aws.String("arn:aws:iam::000000000000:role/pipe"),
		Source: aws.String(arns[0]), Target: aws.String(arns[1]), DesiredState: pipestypes.RequestedPipeStateRunning,
		SourceParameters: &pipestypes.PipeSourceParameters{
			SqsQueueParameters: &pipestypes.PipeSourceSqsQueueParameters{BatchSize: aws.Int32(5)},
			FilterCriteria:     &pipestypes.FilterCriteria{Filters: []pipestypes.Filter{{Pattern: aws.String(`{"body":{"kind":["order"]}}`)}}},
		},
	}); err != nil {
		t.Fatal(err)
	}
	for _, b := range []string{`{"kind":"noise"}`, `{"kind":"order","id":1}`, `not json`} {
		if _, err := qc.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(urls[0]), MessageBody: aws.String(b)}); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	deadline := time.Now().Add(20 * time.Second)
	for len(got) == 0 && time.Now().Before(deadline) {
		out, err := qc.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(urls[1]), MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range out.Messages {
			got = append(got, aws.ToString(m.Body))
		}
	}
	if len(got) != 1 {
		t.Fatalf("target received %v\nengine log:\n%s", got, logBuf.String())
	}
	var rec struct {
		Body           string `json:"body"`
		EventSource    string `json:"eventSource"`
		EventSourceARN string `json:"eventSourceARN"`
	}
	if err := json.Unmarshal([]byte(got[0]), &rec); err != nil || rec.Body != `{"kind":"order","id":1}` || rec.EventSource != "aws:sqs" || rec.EventSourceARN != arns[0] {
		t.Errorf("target received %s (%v)", got[0], err)
	}
	// The filtered-out messages were consumed too, as Pipes does.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		a, err := qc.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(urls[0]), AttributeNames: []sqstypes.QueueAttributeName{"ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"}})
		if err != nil {
			t.Fatal(err)
		}
		if a.Attributes["ApproximateNumberOfMessages"] == "0" && a.Attributes["ApproximateNumberOfMessagesNotVisible"] == "0" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("source still holds messages: %v", a.Attributes)
		}
	}
}
