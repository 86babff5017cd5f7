package main

import (
	"context"
	"errors"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// putItemAPI is the one DynamoDB call the ledger makes.
type putItemAPI interface {
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
}

// dynamoLedger keeps invoices in core's ledger table, whose hash key is
// "order_id".
type dynamoLedger struct {
	client putItemAPI
	table  string
}

// Add writes the invoice unless the order has one already: a conditional
// put, so a redelivered event cannot bill twice.
func (l *dynamoLedger) Add(ctx context.Context, inv Invoice) error {
	_, err := l.client.PutItem(ctx, putInput(l.table, inv))
	var failed *types.ConditionalCheckFailedException
	if errors.As(err, &failed) {
		return ErrAlreadyBilled
	}
	return err
}

func putInput(table string, inv Invoice) *dynamodb.PutItemInput {
	return &dynamodb.PutItemInput{
		TableName:           aws.String(table),
		ConditionExpression: aws.String("attribute_not_exists(order_id)"),
		Item: map[string]types.AttributeValue{
			"order_id":     &types.AttributeValueMemberS{Value: inv.OrderID},
			"customer":     &types.AttributeValueMemberS{Value: inv.Customer},
			"amount_cents": &types.AttributeValueMemberN{Value: strconv.FormatInt(inv.AmountCents, 10)},
			"due":          &types.AttributeValueMemberS{Value: inv.Due},
			"event_id":     &types.AttributeValueMemberS{Value: inv.EventID},
		},
	}
}
