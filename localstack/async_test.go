package localstack

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/google/go-cmp/cmp"
)

// TestAsyncInvokeDestinations: the engine keeps a function's event invoke
// configuration (kumo has none), retries a failing asynchronous invocation
// as often as it says, then sends Lambda's invocation record to on_failure;
// a succeeding one goes to on_success.
func TestAsyncInvokeDestinations(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a handler and runs it")
	}
	code := echoZip(t)
	var logBuf lockedBuffer
	ep := serveRunning(t, &logBuf)
	cfg := localConfig(ep, "us-east-1")
	lc, qc := lambda.NewFromConfig(cfg), sqs.NewFromConfig(cfg)
	ctx := t.Context()
	name := fmt.Sprintf("evd-async-%d", os.Getpid())

	var urls, arns []string
	for _, q := range []string{"failed", "done"} {
		out, err := qc.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name + "-" + q)})
		if err != nil {
			t.Fatal(err)
		}
		urls = append(urls, aws.ToString(out.QueueUrl))
		arns = append(arns, "arn:aws:sqs:us-east-1:000000000000:"+name+"-"+q)
	}
	// No function, no configuration.
	if _, err := lc.PutFunctionEventInvokeConfig(ctx, &lambda.PutFunctionEventInvokeConfigInput{FunctionName: aws.String(name)}); !isNotFound(err) {
		t.Fatalf("config of a missing function: %v", err)
	}
	if _, err := lc.CreateFunction(ctx, &lambda.CreateFunctionInput{
		FunctionName: aws.String(name), Role: aws.String("arn:aws:iam::000000000000:role/r"),
		Runtime: lambdatypes.RuntimeProvidedal2023, Handler: aws.String("bootstrap"),
		Code: &lambdatypes.FunctionCode{ZipFile: code},
	}); err != nil {
		t.Fatal(err)
	}
	invokeUntil(t, lc, name, func(echoReply) bool { return true }) // the handler runs
	if _, err := lc.GetFunctionEventInvokeConfig(ctx, &lambda.GetFunctionEventInvokeConfigInput{FunctionName: aws.String(name)}); !isNotFound(err) {
		t.Fatalf("Get before Put: %v", err)
	}
	if _, err := lc.PutFunctionEventInvokeConfig(ctx, &lambda.PutFunctionEventInvokeConfigInput{
		FunctionName: aws.String(name), MaximumRetryAttempts: aws.Int32(1), MaximumEventAgeInSeconds: aws.Int32(3600),
		DestinationConfig: &lambdatypes.DestinationConfig{
			OnFailure: &lambdatypes.OnFailure{Destination: aws.String(arns[0])},
			OnSuccess: &lambdatypes.OnSuccess{Destination: aws.String(arns[1])},
		},
	}); err != nil {
		t.Fatalf("Put: %v", err)
	}
	got, err := lc.GetFunctionEventInvokeConfig(ctx, &lambda.GetFunctionEventInvokeConfigInput{FunctionName: aws.String(name)})
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if aws.ToInt32(got.MaximumRetryAttempts) != 1 || aws.ToString(got.DestinationConfig.OnFailure.Destination) != arns[0] {
		t.Errorf("Get = %+v", got)
	}

	for _, p := range []string{`{"fail":true}`, `{"order":"o-1"}`} {
		out, err := lc.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String(name), InvocationType: lambdatypes.InvocationTypeEvent, Payload: []byte(p)})
		if err != nil || out.StatusCode != 202 {
			t.Fatalf("async invoke %s: %v %v", p, out, err)
		}
	}
	type record struct {
		RequestContext struct {
			Condition              string `json:"condition"`
			ApproximateInvokeCount int    `json:"approximateInvokeCount"`
		} `json:"requestContext"`
		RequestPayload  map[string]any `json:"requestPayload"`
		ResponseContext struct {
			FunctionError string `json:"functionError"`
		} `json:"responseContext"`
		ResponsePayload map[string]any `json:"responsePayload"`
	}
	receive := func(url string) record {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) {
			out, err := qc.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), WaitTimeSeconds: 1})
			if err != nil {
				t.Fatal(err)
			}
			if len(out.Messages) > 0 {
				var r record
				if err := json.Unmarshal([]byte(aws.ToString(out.Messages[0].Body)), &r); err != nil {
					t.Fatalf("record %s: %v", aws.ToString(out.Messages[0].Body), err)
				}
				return r
			}
		}
		t.Fatalf("nothing reached %s\nengine log:\n%s", url, logBuf.String())
		return record{}
	}
	failed := receive(urls[0])
	if failed.RequestContext.Condition != "RetriesExhausted" || failed.RequestContext.ApproximateInvokeCount != 2 ||
		failed.ResponseContext.FunctionError != "Unhandled" || failed.ResponsePayload["errorMessage"] != "failing as asked" {
		t.Errorf("failure record = %+v", failed)
	}
	if d := cmp.Diff(map[string]any{"fail": true}, failed.RequestPayload); d != "" {
		t.Errorf("failure record payload (-want +got):\n%s", d)
	}
	done := receive(urls[1])
	if done.RequestContext.Condition != "Success" || done.RequestContext.ApproximateInvokeCount != 1 || done.RequestPayload["order"] != "o-1" {
		t.Errorf("success record = %+v", done)
	}

	if _, err := lc.DeleteFunctionEventInvokeConfig(ctx, &lambda.DeleteFunctionEventInvokeConfigInput{FunctionName: aws.String(name)}); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := lc.GetFunctionEventInvokeConfig(ctx, &lambda.GetFunctionEventInvokeConfigInput{FunctionName: aws.String(name)}); !isNotFound(err) {
		t.Errorf("Get after Delete: %v", err)
	}
}

func isNotFound(err error) bool {
	var nf *lambdatypes.ResourceNotFoundException
	return errors.As(err, &nf)
}
