package main

import (
	"context"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// updateItemAPI is the one DynamoDB call the counters make.
type updateItemAPI interface {
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
}

// dynamoCounters keeps one item per page (hash key "page") with an atomic
// "views" counter.
type dynamoCounters struct {
	client updateItemAPI
	table  string
}

func (d *dynamoCounters) Add(ctx context.Context, c Count) error {
	_, err := d.client.UpdateItem(ctx, updateInput(d.table, c))
	return err
}

func updateInput(table string, c Count) *dynamodb.UpdateItemInput {
	return &dynamodb.UpdateItemInput{
		TableName: aws.String(table),
		Key:       map[string]types.AttributeValue{"page": &types.AttributeValueMemberS{Value: c.Page}},
		// ADD is atomic, so concurrent shards can count the same page.
		// last_seen is the latest click of the latest batch written; with
		// several shards it can step back briefly.
		UpdateExpression: aws.String("ADD #views :n SET #last = :t"),
		ExpressionAttributeNames: map[string]string{
			"#views": "views",
			"#last":  "last_seen",
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":n": &types.AttributeValueMemberN{Value: strconv.FormatInt(c.Views, 10)},
			":t": &types.AttributeValueMemberS{Value: c.LastSeen.UTC().Format(time.RFC3339)},
		},
	}
}
