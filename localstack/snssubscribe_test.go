package localstack

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// TestSNSSubscribeIdempotent: subscribing an endpoint the topic already has
// answers the existing subscription, as on AWS, so a repeated Subscribe (an
// SDK retry after a lost answer) cannot leave a second subscription that
// delivers every message twice; other attributes are an InvalidParameter
// error; another endpoint is a new subscription.
func TestSNSSubscribeIdempotent(t *testing.T) {
	ep := serveRunning(t, &lockedBuffer{})
	cfg, err := (&Target{Endpoint: ep, Region: "us-east-1"}).AWSConfig(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	sc, qc := sns.NewFromConfig(cfg), sqs.NewFromConfig(cfg)
	topic, err := sc.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("ticks")})
	if err != nil {
		t.Fatal(err)
	}
	queueARN := func(name string) (string, string) {
		t.Helper()
		q, err := qc.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(q.QueueUrl), "arn:aws:sqs:us-east-1:000000000000:" + name
	}
	url, arn := queueARN("ticks")
	subscribe := func(endpoint string, attrs map[string]string) (string, error) {
		out, err := sc.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("sqs"),
			Endpoint: aws.String(endpoint), Attributes: attrs, ReturnSubscriptionArn: true})
		if err != nil {
			return "", err
		}
		return aws.ToString(out.SubscriptionArn), nil
	}
	raw := map[string]string{"RawMessageDelivery": "true", "FilterPolicy": `{"kind": ["tick"]}`}
	first, err := subscribe(arn, raw)
	if err != nil {
		t.Fatal(err)
	}
	again, err := subscribe(arn, map[string]string{"FilterPolicy": `{"kind":["tick"]}`, "RawMessageDelivery": "true"})
	if err != nil || again != first {
		t.Errorf("second Subscribe = %q, %v; want the first's %q", again, err, first)
	}
	if _, err := subscribe(arn, map[string]string{"RawMessageDelivery": "false"}); err == nil || !strings.Contains(err.Error(), "InvalidParameter") {
		t.Errorf("Subscribe with other attributes: %v, want InvalidParameter", err)
	}
	_, otherARN := queueARN("other")
	other, err := subscribe(otherARN, nil)
	if err != nil || other == "" || other == first {
		t.Errorf("Subscribe of another queue = %q, %v; want a new subscription", other, err)
	}
	subs, err := sc.ListSubscriptionsByTopic(ctx, &sns.ListSubscriptionsByTopicInput{TopicArn: topic.TopicArn})
	if err != nil {
		t.Fatal(err)
	}
	if len(subs.Subscriptions) != 2 {
		t.Fatalf("%d subscriptions; want two", len(subs.Subscriptions))
	}

	if _, err := sc.Publish(ctx, &sns.PublishInput{TopicArn: topic.TopicArn, Message: aws.String(`{"n":1}`),
		MessageAttributes: map[string]snstypes.MessageAttributeValue{"kind": {DataType: aws.String("String"), StringValue: aws.String("tick")}}}); err != nil {
		t.Fatal(err)
	}
	var got []string
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); {
		out, err := qc.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range out.Messages {
			got = append(got, aws.ToString(m.Body))
		}
	}
	if len(got) != 1 || got[0] != `{"n":1}` {
		t.Errorf("the queue subscribed twice received %q, want the message once", got)
	}
}
