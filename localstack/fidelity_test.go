package localstack

import (
	"bytes"
	"context"
	"hash/crc32"
	"io"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/google/go-cmp/cmp"
)

// TestSDKFidelityBoto3 runs common boto3 idioms (testdata/fidelity) against
// the engine: each must behave as on AWS, including the two kumo gets wrong
// and the engine corrects (batch_writer, publish_batch).
func TestSDKFidelityBoto3(t *testing.T) {
	if exec.Command("python3", "-c", "import boto3").Run() != nil {
		t.Skip("needs python3 with boto3")
	}
	ep := serveRunning(t, &lockedBuffer{})
	cmd := exec.CommandContext(t.Context(), "python3", "testdata/fidelity/boto3_idioms.py")
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "AWS_") })
	cmd.Env = append(env, "AWS_ENDPOINT_URL="+ep, "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test",
		"AWS_DEFAULT_REGION=us-east-1", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("boto3 idioms: %v\n%s\n%s", err, out, stderr.String())
	}
	got := strings.Split(strings.TrimSpace(string(out)), "\n")
	sort.Strings(got)
	want := []string{
		"ok dynamodb batch_writer", "ok dynamodb conditional write", "ok dynamodb counter", "ok dynamodb paginator",
		"ok dynamodb transaction", "ok eventbridge put_events", "ok kinesis put_records", "ok s3 multipart upload",
		"ok s3 presigned url", "ok sns publish_batch", "ok sqs batches and attributes",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("boto3 idioms (-want +got):\n%s\nstderr:\n%s", d, stderr.String())
	}
}

// TestSDKFidelityGo: the corrected answers as aws-sdk-go-v2 reads them.
func TestSDKFidelityGo(t *testing.T) {
	ep := serveRunning(t, &lockedBuffer{})
	cfg, err := (&Target{Endpoint: ep, Region: "us-east-1"}).AWSConfig(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ddb := dynamodb.NewFromConfig(cfg)
	if _, err := ddb.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: aws.String("fid-go"), BillingMode: ddbtypes.BillingModePayPerRequest,
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: ddbtypes.KeyTypeHash}},
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: ddbtypes.ScalarAttributeTypeS}}}); err != nil {
		t.Fatal(err)
	}
	bw, err := ddb.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]ddbtypes.WriteRequest{"fid-go": {
		{PutRequest: &ddbtypes.PutRequest{Item: map[string]ddbtypes.AttributeValue{"id": &ddbtypes.AttributeValueMemberS{Value: "a"}}}}}}})
	if err != nil || bw.UnprocessedItems == nil || len(bw.UnprocessedItems) != 0 {
		t.Errorf("BatchWriteItem: UnprocessedItems = %v, %v; want an empty map", bw, err)
	}
	sc := sns.NewFromConfig(cfg)
	topic, err := sc.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("fid-go")})
	if err != nil {
		t.Fatal(err)
	}
	pb, err := sc.PublishBatch(ctx, &sns.PublishBatchInput{TopicArn: topic.TopicArn, PublishBatchRequestEntries: []snstypes.PublishBatchRequestEntry{
		{Id: aws.String("1"), Message: aws.String("one")}, {Id: aws.String("2"), Message: aws.String("two")}}})
	if err != nil || len(pb.Successful) != 2 || len(pb.Failed) != 0 || aws.ToString(pb.Successful[0].MessageId) == "" {
		t.Errorf("PublishBatch = %+v, %v; want 2 successful", pb, err)
	}
	q, err := sqs.NewFromConfig(cfg).CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("fid-go")})
	if err != nil {
		t.Fatal(err)
	}
	if want := ep + "/000000000000/fid-go"; aws.ToString(q.QueueUrl) != want {
		t.Errorf("queue URL = %s, want %s (the engine's own address)", aws.ToString(q.QueueUrl), want)
	}
}

// TestDynamoDBChecksum: each DynamoDB answer, errors included, carries the
// CRC32 of its body as AWS sends it; the Go SDK reads a missing one as 0 and
// then logs "response did not match expected checksum" in the user's function.
func TestDynamoDBChecksum(t *testing.T) {
	ep := serveRunning(t, &lockedBuffer{})
	cfg, err := (&Target{Endpoint: ep, Region: "us-east-1"}).AWSConfig(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	ddb := dynamodb.NewFromConfig(cfg)
	ctx := t.Context()
	if _, err := ddb.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: aws.String("crc"), BillingMode: ddbtypes.BillingModePayPerRequest,
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: ddbtypes.KeyTypeHash}},
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: ddbtypes.ScalarAttributeTypeS}}}); err != nil {
		t.Fatal(err)
	}
	item := map[string]ddbtypes.AttributeValue{"id": &ddbtypes.AttributeValueMemberS{Value: "a"}}
	if _, err := ddb.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("crc"), Item: item}); err != nil {
		t.Fatal(err)
	}
	if _, err := ddb.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]ddbtypes.WriteRequest{"crc": {{PutRequest: &ddbtypes.PutRequest{Item: item}}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := ddb.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("crc"), Key: item}); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct{ target, body string }{
		{"PutItem", `{"TableName":"crc","Item":{"id":{"S":"b"}}}`},
		{"Scan", `{"TableName":"crc"}`},
		{"BatchWriteItem", `{"RequestItems":{"crc":[{"PutRequest":{"Item":{"id":{"S":"c"}}}}]}}`},
		{"GetItem", `{"TableName":"no-such-table","Key":{"id":{"S":"a"}}}`}, // an error answer
	} {
		req, err := http.NewRequest(http.MethodPost, ep+"/", strings.NewReader(tc.body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-Amz-Target", "DynamoDB_20120810."+tc.target)
		req.Header.Set("Content-Type", "application/x-amz-json-1.0")
		req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=test/20261207/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=x")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		want := strconv.FormatUint(uint64(crc32.ChecksumIEEE(body)), 10)
		if got := resp.Header.Get("X-Amz-Crc32"); got != want {
			t.Errorf("%s (%d %s): X-Amz-Crc32 = %q, want %q", tc.target, resp.StatusCode, body, got, want)
		}
	}
}
