// Command report writes an inventory of a bucket's data/ objects to
// reports/ in the same bucket, each time its schedule fires.
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
	bucket := os.Getenv("BUCKET")
	if bucket == "" {
		log.Fatal("BUCKET is not set")
	}
	// LoadDefaultConfig honours AWS_ENDPOINT_URL; with an endpoint set (the
	// local cloud) S3 is addressed path-style.
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		log.Fatalf("load AWS config: %v", err)
	}
	client := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = cfg.BaseEndpoint != nil })
	h := &Handler{Bucket: bucket, Objects: &s3Objects{client: client}}
	lambda.Start(h.Handle)
}
