// Command worker consumes order messages from SQS and records each accepted
// order in DynamoDB.
package main

import (
	"context"
	"log"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

func main() {
	table := os.Getenv("ORDERS_TABLE")
	if table == "" {
		log.Fatal("ORDERS_TABLE is not set")
	}
	// LoadDefaultConfig honours AWS_ENDPOINT_URL, so the same binary talks to
	// AWS or to the local cloud.
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		log.Fatalf("load AWS config: %v", err)
	}
	h := &Handler{Orders: &dynamoOrders{client: dynamodb.NewFromConfig(cfg), table: table}, Now: time.Now}
	lambda.Start(h.Handle)
}
