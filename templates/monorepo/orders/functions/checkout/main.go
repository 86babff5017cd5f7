// Command checkout accepts orders over HTTP and puts each as an OrderPlaced
// event on the core app's bus, where billing (another app) picks it up.
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
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
)

func main() {
	bus, source := os.Getenv("BUS_NAME"), os.Getenv("EVENT_SOURCE")
	if bus == "" || source == "" {
		log.Fatal("BUS_NAME and EVENT_SOURCE must be set")
	}
	// LoadDefaultConfig honours AWS_ENDPOINT_URL, so the same binary talks to
	// AWS or to the local cloud.
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		log.Fatalf("load AWS config: %v", err)
	}
	h := &Handler{
		Bus:   &eventBus{client: eventbridge.NewFromConfig(cfg), bus: bus, source: source},
		NewID: newID,
		Now:   time.Now,
	}
	lambda.Start(h.Handle)
}

func newID() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return "o-" + hex.EncodeToString(b[:])
}
