// Command express consumes OrderPlaced events from an EventBridge bus and
// publishes a notice to an SNS topic.
package main

import (
	"context"
	"log"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sns"
)

func main() {
	arn := os.Getenv("TOPIC_ARN")
	if arn == "" {
		log.Fatal("TOPIC_ARN is not set")
	}
	// LoadDefaultConfig honours AWS_ENDPOINT_URL, so the same binary talks to
	// AWS or to the local cloud.
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		log.Fatalf("load AWS config: %v", err)
	}
	h := &Handler{Topic: &snsTopic{client: sns.NewFromConfig(cfg), arn: arn}}
	lambda.Start(h.Handle)
}
