// Command invoice records the orders its queue delivers in the results table.
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
	table := os.Getenv("RESULTS_TABLE")
	if table == "" {
		log.Fatal("RESULTS_TABLE is not set")
	}
	// LoadDefaultConfig honours AWS_ENDPOINT_URL, so the same binary talks to
	// AWS or to the local cloud.
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		log.Fatalf("load AWS config: %v", err)
	}
	h := &Handler{Results: &dynamoResults{client: dynamodb.NewFromConfig(cfg), table: table}}
	lambda.Start(h.Handle)
}
