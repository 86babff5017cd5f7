// Command api is the shop's HTTP front door: POST /orders validates an order
// and queues it on ORDERS_QUEUE for the worker.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// Order is what clients post and what the worker stores.
type Order struct {
	ID       string    `json:"id"`
	Item     string    `json:"item"`
	Quantity int       `json:"quantity"`
	PlacedAt time.Time `json:"placed_at"`
}

type handler struct {
	sqs      *sqs.Client
	queueURL string
}

func (h *handler) handle(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	var o Order
	if err := json.Unmarshal([]byte(req.Body), &o); err != nil {
		return reply(http.StatusBadRequest, map[string]string{"error": "body must be a JSON order: " + err.Error()}), nil
	}
	if o.Item == "" || o.Quantity < 1 {
		return reply(http.StatusBadRequest, map[string]string{"error": "an order needs an item and a quantity of at least 1"}), nil
	}
	if o.ID == "" {
		o.ID = req.RequestContext.RequestID
	}
	o.PlacedAt = time.Now().UTC()
	body, err := json.Marshal(o)
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	if _, err := h.sqs.SendMessage(ctx, &sqs.SendMessageInput{
		QueueUrl:    aws.String(h.queueURL),
		MessageBody: aws.String(string(body)),
	}); err != nil {
		// A failed send is our fault, not the client's: log it and say so.
		log.Printf("send order %s: %v", o.ID, err)
		return reply(http.StatusBadGateway, map[string]string{"error": "could not queue the order"}), nil
	}
	return reply(http.StatusAccepted, o), nil
}

func reply(status int, v any) events.APIGatewayV2HTTPResponse {
	b, _ := json.Marshal(v)
	return events.APIGatewayV2HTTPResponse{
		StatusCode: status,
		Headers:    map[string]string{"Content-Type": "application/json"},
		Body:       string(b),
	}
}

func main() {
	queueURL := os.Getenv("ORDERS_QUEUE")
	if queueURL == "" {
		log.Fatal("ORDERS_QUEUE is not set")
	}
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		log.Fatal(fmt.Errorf("aws config: %w", err))
	}
	h := &handler{sqs: sqs.NewFromConfig(cfg), queueURL: queueURL}
	lambda.Start(h.handle)
}
