package main

import (
	"context"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// putItemAPI is the one DynamoDB call the store makes.
type putItemAPI interface {
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
}

// dynamoOrders keeps records in a table whose hash key is "order_id".
type dynamoOrders struct {
	client putItemAPI
	table  string
}

func (s *dynamoOrders) Save(ctx context.Context, r Record) error {
	_, err := s.client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: recordItem(r)})
	return err
}

func recordItem(r Record) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		"order_id":    &types.AttributeValueMemberS{Value: r.OrderID},
		"customer":    &types.AttributeValueMemberS{Value: r.Customer},
		"items":       &types.AttributeValueMemberN{Value: strconv.Itoa(r.Items)},
		"total_cents": &types.AttributeValueMemberN{Value: strconv.FormatInt(r.TotalCents, 10)},
		"status":      &types.AttributeValueMemberS{Value: r.Status},
		"accepted_at": &types.AttributeValueMemberS{Value: r.AcceptedAt},
		"message_id":  &types.AttributeValueMemberS{Value: r.MessageID},
	}
}
