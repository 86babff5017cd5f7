// Command aggregate counts page views from a Kinesis stream of click events
// into a DynamoDB table.
package main

import (
	"context"
	"log"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

func main() {
	table := os.Getenv("VIEWS_TABLE")
	if table == "" {
		log.Fatal("VIEWS_TABLE is not set")
	}
	// LoadDefaultConfig honours AWS_ENDPOINT_URL, so the same binary talks to
	// AWS or to the local cloud.
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		log.Fatalf("load AWS config: %v", err)
	}
	h := &Handler{Counters: &dynamoCounters{client: dynamodb.NewFromConfig(cfg), table: table}}
	lambda.Start(h.Handle)
}
