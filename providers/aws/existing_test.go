package aws

import (
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/google/go-cmp/cmp"
)

// TestLookupExisting reads a table (with and without a stream) and a stream
// made by hand, by name and by ARN, and says "not found" for ones that are
// not there. (Queues, topics, buses and buckets: cmd/evdeploy
// TestE2EExistingAndAppOutputs, on kumo and moto.)
func TestLookupExisting(t *testing.T) {
	cfg := testConfig(t)
	ctx := testContext(t)
	withStream, plain, stream := uniqueName("lk-ts"), uniqueName("lk-t"), uniqueName("lk-s")
	ddb := dynamodb.NewFromConfig(cfg)
	for _, name := range []string{withStream, plain} {
		in := &dynamodb.CreateTableInput{
			TableName: aws.String(name), BillingMode: ddbtypes.BillingModePayPerRequest,
			KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: ddbtypes.KeyTypeHash}},
			AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		}
		if name == withStream {
			in.StreamSpecification = &ddbtypes.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: ddbtypes.StreamViewTypeNewImage}
		}
		if _, err := ddb.CreateTable(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := kinesis.NewFromConfig(cfg).CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(stream), ShardCount: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	desc, err := ddb.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(withStream)})
	if err != nil {
		t.Fatal(err)
	}
	const account, partition = "000000000000", "aws"
	tableArn := aws.ToString(desc.Table.TableArn)

	got, err := LookupExisting(ctx, cfg, account, partition, "table", withStream)
	if err != nil {
		t.Fatal(err)
	}
	if got["stream_arn"] == "" || got["arn"] != tableArn || got["name"] != withStream {
		t.Errorf("table with a stream: %v", got)
	}
	byArn, err := LookupExisting(ctx, cfg, account, partition, "table", tableArn)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(got, byArn); d != "" {
		t.Errorf("by ARN differs from by name (-name +arn):\n%s", d)
	}
	got, err = LookupExisting(ctx, cfg, account, partition, "table", plain)
	if err != nil {
		t.Fatal(err)
	}
	if got["stream_arn"] != "" {
		t.Errorf("table without a stream: stream_arn = %v, want empty", got["stream_arn"])
	}
	got, err = LookupExisting(ctx, cfg, account, partition, "stream", stream)
	if err != nil {
		t.Fatal(err)
	}
	if got["name"] != stream || got["arn"] == "" {
		t.Errorf("stream: %v", got)
	}
	for _, kind := range []string{"queue", "topic", "bus", "bucket", "table", "stream"} {
		if _, err := LookupExisting(ctx, cfg, account, partition, kind, uniqueName("lk-none")); !errors.Is(err, ErrExistingNotFound) {
			t.Errorf("%s that is not there: err = %v, want ErrExistingNotFound", kind, err)
		}
	}
}
