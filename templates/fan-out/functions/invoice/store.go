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

// dynamoResults keeps results in a table whose hash key is "id".
type dynamoResults struct {
	client putItemAPI
	table  string
}

func (s *dynamoResults) Save(ctx context.Context, r Result) error {
	_, err := s.client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: map[string]types.AttributeValue{
		"id":          &types.AttributeValueMemberS{Value: r.ID},
		"order_id":    &types.AttributeValueMemberS{Value: r.OrderID},
		"total_cents": &types.AttributeValueMemberN{Value: strconv.FormatInt(r.TotalCents, 10)},
		"message_id":  &types.AttributeValueMemberS{Value: r.MessageID},
	}})
	return err
}
