// Command echo is a Lambda handler for the runner tests: it answers with the
// event it got and what its environment says.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
)

type reply struct {
	Event    json.RawMessage `json:"event"`
	Greeting string          `json:"greeting"`
	Endpoint string          `json:"endpoint"`
	Region   string          `json:"region"`
	Function string          `json:"function"`
	PID      int             `json:"pid"`
}

func main() {
	lambda.Start(func(ctx context.Context, event json.RawMessage) (reply, error) {
		// One line per event, so a test can see asynchronous deliveries in the engine's log.
		fmt.Printf("event %s\n", event)
		// {"fail": true} fails the invocation, for the async retry tests.
		var f struct{ Fail bool }
		if json.Unmarshal(event, &f) == nil && f.Fail {
			return reply{}, errors.New("failing as asked")
		}
		return reply{
			Event: event, Greeting: os.Getenv("GREETING"), Endpoint: os.Getenv("AWS_ENDPOINT_URL"),
			Region: os.Getenv("AWS_REGION"), Function: os.Getenv("AWS_LAMBDA_FUNCTION_NAME"), PID: os.Getpid(),
		}, nil
	})
}
