// Command audit records every change to a DynamoDB table, read from its stream,
// as an item in an audit table.
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
	table := os.Getenv("AUDIT_TABLE")
	if table == "" {
		log.Fatal("AUDIT_TABLE is not set")
	}
	// LoadDefaultConfig honours AWS_ENDPOINT_URL, so the same binary talks to
	// AWS or to the local cloud.
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		log.Fatalf("load AWS config: %v", err)
	}
	h := &Handler{Audit: &dynamoAudit{client: dynamodb.NewFromConfig(cfg), table: table}}
	lambda.Start(h.Handle)
}
