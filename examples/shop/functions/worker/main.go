// Command worker takes queued orders from SQS and stores them in the orders
// table, reporting failed messages individually so SQS retries only those.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"os"
	"strconv"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

type order struct {
	ID       string `json:"id"`
	Item     string `json:"item"`
	Quantity int    `json:"quantity"`
	PlacedAt string `json:"placed_at"`
}

type handler struct {
	db    *dynamodb.Client
	table string
}

func (h *handler) handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	var resp events.SQSEventResponse
	for _, msg := range ev.Records {
		if err := h.store(ctx, msg.Body); err != nil {
			log.Printf("message %s: %v", msg.MessageId, err)
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: msg.MessageId})
		}
	}
	return resp, nil
}

func (h *handler) store(ctx context.Context, body string) error {
	var o order
	if err := json.Unmarshal([]byte(body), &o); err != nil {
		return fmt.Errorf("not an order: %w", err)
	}
	if o.ID == "" {
		return fmt.Errorf("order without id")
	}
	_, err := h.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(h.table),
		Item: map[string]types.AttributeValue{
			"id":        &types.AttributeValueMemberS{Value: o.ID},
			"item":      &types.AttributeValueMemberS{Value: o.Item},
			"quantity":  &types.AttributeValueMemberN{Value: strconv.Itoa(o.Quantity)},
			"placed_at": &types.AttributeValueMemberS{Value: o.PlacedAt},
		},
	})
	return err
}

// tableName is TABLE_NAME when set; otherwise the orders table's physical
// name, which evdeploy derives as <app>-<stage>-orders, alongside this
// function's own <app>-<stage>-worker.
func tableName() string {
	if t := os.Getenv("TABLE_NAME"); t != "" {
		return t
	}
	fn := os.Getenv("AWS_LAMBDA_FUNCTION_NAME")
	if prefix, ok := strings.CutSuffix(fn, "-worker"); ok {
		return prefix + "-orders"
	}
	return "orders"
}

func main() {
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		log.Fatal(fmt.Errorf("aws config: %w", err))
	}
	h := &handler{db: dynamodb.NewFromConfig(cfg), table: tableName()}
	lambda.Start(h.handle)
}
