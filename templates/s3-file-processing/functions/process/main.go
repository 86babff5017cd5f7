// Command process summarises each text file uploaded to one bucket into a JSON
// object in another.
package main

import (
	"context"
	"log"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

func main() {
	out := os.Getenv("OUTPUT_BUCKET")
	if out == "" {
		log.Fatal("OUTPUT_BUCKET is not set")
	}
	// LoadDefaultConfig honours AWS_ENDPOINT_URL; with an endpoint set (the
	// local cloud) S3 must be addressed path-style, since bucket subdomains of
	// 127.0.0.1 do not resolve.
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		log.Fatalf("load AWS config: %v", err)
	}
	client := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = cfg.BaseEndpoint != nil })
	h := &Handler{Objects: &s3Objects{client: client}, OutputBucket: out}
	lambda.Start(h.Handle)
}
