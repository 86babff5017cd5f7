package main

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"
)

// publishAPI is the one SNS call this function makes.
type publishAPI interface {
	Publish(ctx context.Context, in *sns.PublishInput, optFns ...func(*sns.Options)) (*sns.PublishOutput, error)
}

// snsTopic publishes notices with their kind as a message attribute, so
// subscribers can filter on it with a filter policy.
type snsTopic struct {
	client publishAPI
	arn    string
}

func (t *snsTopic) Publish(ctx context.Context, n Notice) error {
	_, err := t.client.Publish(ctx, publishInput(t.arn, n))
	return err
}

func publishInput(arn string, n Notice) *sns.PublishInput {
	return &sns.PublishInput{
		TopicArn: aws.String(arn),
		Subject:  aws.String(n.Subject),
		Message:  aws.String(n.Body),
		MessageAttributes: map[string]types.MessageAttributeValue{
			"kind":     {DataType: aws.String("String"), StringValue: aws.String(n.Kind)},
			"to":       {DataType: aws.String("String"), StringValue: aws.String(n.To)},
			"order_id": {DataType: aws.String("String"), StringValue: aws.String(n.OrderID)},
		},
	}
}
