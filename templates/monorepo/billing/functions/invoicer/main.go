// Command invoicer consumes OrderPlaced events from the core app's bus (put
// there by the orders app) and writes one invoice per order into core's
// ledger table.
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
	table := os.Getenv("LEDGER_TABLE")
	if table == "" {
		log.Fatal("LEDGER_TABLE is not set")
	}
	// LoadDefaultConfig honours AWS_ENDPOINT_URL, so the same binary talks to
	// AWS or to the local cloud.
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		log.Fatalf("load AWS config: %v", err)
	}
	h := &Handler{Ledger: &dynamoLedger{client: dynamodb.NewFromConfig(cfg), table: table}}
	lambda.Start(h.Handle)
}
