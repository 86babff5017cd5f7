package aws

import (
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/google/go-cmp/cmp"
)

// TestLookupExistingOtherRegion: an existing ARN in another region than the
// app's is read in that region. On moto (TestMoto), which keeps regions
// apart as AWS does: the same names looked up in the app's region are not
// there, so a lookup in the wrong region cannot pass.
func TestLookupExistingOtherRegion(t *testing.T) {
	if !strings.HasPrefix(t.Name(), onMoto) {
		t.Skip("kumo keeps one set of resources for every region; runs under TestMoto")
	}
	cfg := testConfig(t)
	ctx := testContext(t)
	other := cfg.Copy()
	other.Region = "eu-west-1"
	id, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	account := aws.ToString(id.Account)
	names := map[string]string{}
	arns := map[string]string{}
	for _, kind := range []string{"queue", "topic", "bus", "table", "stream"} {
		names[kind] = uniqueName("lk-eu-" + kind)
	}
	q, err := sqs.NewFromConfig(other).CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(names["queue"])})
	if err != nil {
		t.Fatal(err)
	}
	qa, err := sqs.NewFromConfig(other).GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: q.QueueUrl,
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		t.Fatal(err)
	}
	arns["queue"] = qa.Attributes[string(sqstypes.QueueAttributeNameQueueArn)]
	tp, err := sns.NewFromConfig(other).CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(names["topic"])})
	if err != nil {
		t.Fatal(err)
	}
	arns["topic"] = aws.ToString(tp.TopicArn)
	b, err := eventbridge.NewFromConfig(other).CreateEventBus(ctx, &eventbridge.CreateEventBusInput{Name: aws.String(names["bus"])})
	if err != nil {
		t.Fatal(err)
	}
	arns["bus"] = aws.ToString(b.EventBusArn)
	tb, err := dynamodb.NewFromConfig(other).CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName: aws.String(names["table"]), BillingMode: ddbtypes.BillingModePayPerRequest,
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: ddbtypes.KeyTypeHash}},
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
	})
	if err != nil {
		t.Fatal(err)
	}
	arns["table"] = aws.ToString(tb.TableDescription.TableArn)
	kin := kinesis.NewFromConfig(other)
	if _, err := kin.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(names["stream"]), ShardCount: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	st, err := kin.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(names["stream"])})
	if err != nil {
		t.Fatal(err)
	}
	arns["stream"] = aws.ToString(st.StreamDescriptionSummary.StreamARN)

	for _, kind := range []string{"queue", "topic", "bus", "table", "stream"} {
		t.Run(kind, func(t *testing.T) {
			if !strings.Contains(arns[kind], ":eu-west-1:") {
				t.Fatalf("ARN %q is not in eu-west-1", arns[kind])
			}
			got, err := LookupExisting(ctx, cfg, account, "aws", kind, arns[kind])
			if err != nil {
				t.Fatalf("by ARN, from us-east-1: %v", err)
			}
			if got["arn"] != arns[kind] || got["name"] != names[kind] {
				t.Errorf("by ARN: arn %v name %v, want %s %s", got["arn"], got["name"], arns[kind], names[kind])
			}
			if kind == "queue" && !strings.Contains(got["url"].(string), names[kind]) {
				t.Errorf("queue url = %v", got["url"])
			}
			// By name it is this config's region, where there is none.
			if _, err := LookupExisting(ctx, cfg, account, "aws", kind, names[kind]); !errors.Is(err, ErrExistingNotFound) {
				t.Errorf("by name in us-east-1: err = %v, want ErrExistingNotFound", err)
			}
		})
	}
}

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
