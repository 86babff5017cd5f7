package main

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// batchWriteAPI is the one DynamoDB call the audit log makes.
type batchWriteAPI interface {
	BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error)
}

// dynamoAudit writes entries to a table whose hash key is "event_id".
type dynamoAudit struct {
	client batchWriteAPI
	table  string
}

// maxUnprocessedRounds bounds how often unprocessed items (throttling) are
// resubmitted before the batch is failed and left to Lambda's retry.
const maxUnprocessedRounds = 5

func (a *dynamoAudit) Write(ctx context.Context, entries []Entry) error {
	for start := 0; start < len(entries); start += 25 { // BatchWriteItem takes at most 25
		end := min(start+25, len(entries))
		var reqs []types.WriteRequest
		for _, e := range entries[start:end] {
			reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: entryItem(e)}})
		}
		pending := map[string][]types.WriteRequest{a.table: reqs}
		for round := 0; len(pending[a.table]) > 0; round++ {
			if round == maxUnprocessedRounds {
				return fmt.Errorf("%d audit entries still unprocessed after %d rounds", len(pending[a.table]), round)
			}
			out, err := a.client.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: pending})
			if err != nil {
				return err
			}
			pending = out.UnprocessedItems
		}
	}
	return nil
}

func entryItem(e Entry) map[string]types.AttributeValue {
	item := map[string]types.AttributeValue{
		"event_id":     &types.AttributeValueMemberS{Value: e.EventID},
		"operation":    &types.AttributeValueMemberS{Value: e.Operation},
		"source_table": &types.AttributeValueMemberS{Value: e.Table},
		"keys":         &types.AttributeValueMemberS{Value: e.Keys},
		"at":           &types.AttributeValueMemberS{Value: e.At},
		"sequence":     &types.AttributeValueMemberS{Value: e.Sequence},
	}
	// Empty strings and empty sets are not allowed everywhere in DynamoDB:
	// leave absent attributes out.
	if e.OldImage != "" {
		item["old_image"] = &types.AttributeValueMemberS{Value: e.OldImage}
	}
	if e.NewImage != "" {
		item["new_image"] = &types.AttributeValueMemberS{Value: e.NewImage}
	}
	if len(e.Changed) > 0 {
		item["changed"] = &types.AttributeValueMemberSS{Value: e.Changed}
	}
	return item
}
