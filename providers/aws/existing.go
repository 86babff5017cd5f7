package aws

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/evdeploy/evdeploy/planner"
)

// ErrExistingNotFound is returned by LookupExisting when the resource named
// by an `existing` setting is not there.
var ErrExistingNotFound = errors.New("not found")

// LookupExisting reads a resource made elsewhere — a queue, topic, bus,
// bucket, table or stream named by its name or ARN — and returns the
// attributes references read (name, arn, url, stream_arn) and what the
// planner checks (planner.ExistingFIFO, planner.ExistingNotifications). It
// only reads: a data-source lookup at plan time.
//
// An ARN is read in its own region (a client for that region), and queues
// in its account (QueueOwnerAWSAccountId). Another account's resource is
// read with this configuration's credentials: the owner must allow the read
// in the resource's policy, else the lookup fails with AWS's AccessDenied.
func LookupExisting(ctx context.Context, cfg aws.Config, account, partition, kind, ref string) (map[string]any, error) {
	region := cfg.Region
	name := ref
	arn := ""
	if strings.HasPrefix(ref, "arn:") {
		arn = ref
		parts := strings.SplitN(ref, ":", 6)
		if len(parts) < 6 {
			return nil, fmt.Errorf("%q is not an ARN", ref)
		}
		if parts[3] != "" {
			region = parts[3]
		}
		if parts[4] != "" {
			account = parts[4]
		}
		name = parts[5]
		for _, p := range []string{"event-bus/", "table/", "stream/"} {
			name = strings.TrimPrefix(name, p)
		}
	}
	if region != cfg.Region {
		// SQS, SNS, EventBridge, DynamoDB and Kinesis answer only for their
		// own region: this config's would say "not found".
		cfg = cfg.Copy()
		cfg.Region = region
	}
	c := newClients(cfg)
	switch kind {
	case "queue":
		in := &sqs.GetQueueUrlInput{QueueName: aws.String(name)}
		if arn != "" {
			in.QueueOwnerAWSAccountId = aws.String(account)
		}
		u, err := c.sqs.GetQueueUrl(ctx, in)
		if isQueueNotFound(err) {
			return nil, ErrExistingNotFound
		}
		if err != nil {
			return nil, classify(err)
		}
		url := aws.ToString(u.QueueUrl)
		out, err := c.sqs.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
			QueueUrl:       aws.String(url),
			AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn, sqstypes.QueueAttributeNameFifoQueue},
		})
		if isQueueNotFound(err) {
			return nil, ErrExistingNotFound
		}
		if err != nil {
			return nil, classify(err)
		}
		qarn := out.Attributes[string(sqstypes.QueueAttributeNameQueueArn)]
		if qarn == "" {
			qarn = fmt.Sprintf("arn:%s:sqs:%s:%s:%s", partition, region, account, name)
		}
		return map[string]any{"name": name, "arn": qarn, "url": url,
			planner.ExistingFIFO: out.Attributes[string(sqstypes.QueueAttributeNameFifoQueue)] == "true" || strings.HasSuffix(name, ".fifo")}, nil
	case "topic":
		if arn == "" {
			arn = fmt.Sprintf("arn:%s:sns:%s:%s:%s", partition, region, account, name)
		}
		out, err := c.sns.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: aws.String(arn)})
		if isSNSNotFound(err) {
			return nil, ErrExistingNotFound
		}
		if err != nil {
			return nil, classify(err)
		}
		return map[string]any{"name": name, "arn": arn,
			planner.ExistingFIFO: out.Attributes["FifoTopic"] == "true" || strings.HasSuffix(name, ".fifo")}, nil
	case "bus":
		out, err := c.events.DescribeEventBus(ctx, &eventbridge.DescribeEventBusInput{Name: aws.String(ref)})
		if arn != "" && hasCode(err, "ResourceNotFoundException", "ValidationException") {
			// An emulator that takes only names.
			out, err = c.events.DescribeEventBus(ctx, &eventbridge.DescribeEventBusInput{Name: aws.String(name)})
		}
		if hasCode(err, "ResourceNotFoundException") {
			return nil, ErrExistingNotFound
		}
		if err != nil {
			return nil, classify(err)
		}
		barn := aws.ToString(out.Arn)
		if barn == "" {
			barn = fmt.Sprintf("arn:%s:events:%s:%s:event-bus/%s", partition, region, account, name)
		}
		if n := aws.ToString(out.Name); n != "" {
			name = n
		}
		return map[string]any{"name": name, "arn": barn}, nil
	case "bucket":
		name = strings.TrimPrefix(ref, "arn:"+partition+":s3:::")
		if _, err := c.s3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(name)}); err != nil {
			if hasCode(err, "NotFound", "NoSuchBucket") {
				return nil, ErrExistingNotFound
			}
			return nil, classify(err)
		}
		n, err := c.s3.GetBucketNotificationConfiguration(ctx, &s3.GetBucketNotificationConfigurationInput{Bucket: aws.String(name)})
		if err != nil {
			return nil, classify(err)
		}
		var entries []planner.ExistingNotification
		doc := docOf(n)
		for _, k := range notificationKinds {
			for _, c := range configsOf(doc, k.list) {
				a := configAttrs(c, k.dest)
				entries = append(entries, planner.ExistingNotification{
					ID: c.id, Kind: k.list, Events: a.Strings("events"), Prefix: a.String("prefix"), Suffix: a.String("suffix"),
				})
			}
		}
		return map[string]any{"name": name, "arn": fmt.Sprintf("arn:%s:s3:::%s", partition, name), planner.ExistingNotifications: entries}, nil
	case "table":
		// By name: DescribeTable takes an ARN only on newer AWS endpoints
		// (and not on the emulators); the client is in the ARN's region.
		out, err := c.ddb.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
		var nf *ddbtypes.ResourceNotFoundException
		if errors.As(err, &nf) || hasCode(err, "ResourceNotFoundException") {
			return nil, ErrExistingNotFound
		}
		if err != nil {
			return nil, classify(err)
		}
		t := out.Table
		attrs := map[string]any{"name": aws.ToString(t.TableName), "arn": aws.ToString(t.TableArn), "stream_arn": ""}
		if t.StreamSpecification != nil && aws.ToBool(t.StreamSpecification.StreamEnabled) {
			attrs["stream_arn"] = aws.ToString(t.LatestStreamArn)
		}
		return attrs, nil
	case "stream":
		in := &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)}
		if arn != "" {
			in = &kinesis.DescribeStreamSummaryInput{StreamARN: aws.String(arn)}
		}
		out, err := c.kin.DescribeStreamSummary(ctx, in)
		if hasCode(err, "ResourceNotFoundException") {
			return nil, ErrExistingNotFound
		}
		if err != nil {
			return nil, classify(err)
		}
		d := out.StreamDescriptionSummary
		return map[string]any{"name": aws.ToString(d.StreamName), "arn": aws.ToString(d.StreamARN)}, nil
	}
	return nil, fmt.Errorf("a %s cannot be existing", kind)
}
