package main

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// dynamoAPI lists the DynamoDB calls the store makes.
type dynamoAPI interface {
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	Scan(ctx context.Context, in *dynamodb.ScanInput, optFns ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
}

// dynamoStore keeps items in a table whose hash key is "id" (string).
type dynamoStore struct {
	client dynamoAPI
	table  string
}

func (s *dynamoStore) Put(ctx context.Context, it Item) error {
	_, err := s.client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: toAttrs(it)})
	return err
}

func (s *dynamoStore) Get(ctx context.Context, id string) (Item, bool, error) {
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.table),
		Key:            map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: id}},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil || out.Item == nil {
		return Item{}, false, err
	}
	return fromAttrs(out.Item), true, nil
}

func (s *dynamoStore) List(ctx context.Context, limit int) ([]Item, error) {
	var items []Item
	var start map[string]types.AttributeValue
	for len(items) < limit {
		out, err := s.client.Scan(ctx, &dynamodb.ScanInput{
			TableName:         aws.String(s.table),
			Limit:             aws.Int32(int32(limit - len(items))),
			ExclusiveStartKey: start,
		})
		if err != nil {
			return nil, fmt.Errorf("scan %s: %w", s.table, err)
		}
		for _, av := range out.Items {
			items = append(items, fromAttrs(av))
		}
		if len(out.LastEvaluatedKey) == 0 {
			break
		}
		start = out.LastEvaluatedKey
	}
	return items, nil
}

func (s *dynamoStore) Delete(ctx context.Context, id string) (bool, error) {
	out, err := s.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:    aws.String(s.table),
		Key:          map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: id}},
		ReturnValues: types.ReturnValueAllOld,
	})
	if err != nil {
		return false, err
	}
	return len(out.Attributes) > 0, nil
}

func toAttrs(it Item) map[string]types.AttributeValue {
	m := map[string]types.AttributeValue{
		"id":         &types.AttributeValueMemberS{Value: it.ID},
		"name":       &types.AttributeValueMemberS{Value: it.Name},
		"created_at": &types.AttributeValueMemberS{Value: it.CreatedAt},
	}
	if it.Note != "" {
		m["note"] = &types.AttributeValueMemberS{Value: it.Note}
	}
	return m
}

func fromAttrs(m map[string]types.AttributeValue) Item {
	str := func(k string) string {
		if v, ok := m[k].(*types.AttributeValueMemberS); ok {
			return v.Value
		}
		return ""
	}
	return Item{ID: str("id"), Name: str("name"), Note: str("note"), CreatedAt: str("created_at")}
}
