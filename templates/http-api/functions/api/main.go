// Command api serves a small CRUD API over a DynamoDB table. It runs on Lambda
// behind an API Gateway HTTP API.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

func main() {
	table := os.Getenv("TABLE_NAME")
	if table == "" {
		log.Fatal("TABLE_NAME is not set")
	}
	// LoadDefaultConfig honours AWS_ENDPOINT_URL (set by `evdeploy apply
	// --target local`), so the same binary talks to AWS or to the local cloud.
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		log.Fatalf("load AWS config: %v", err)
	}
	h := &Handler{
		Store: &dynamoStore{client: dynamodb.NewFromConfig(cfg), table: table},
		NewID: newID,
		Now:   time.Now,
	}
	lambda.Start(h.Handle)
}

// newID returns 16 random bytes in hex.
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b[:])
}
