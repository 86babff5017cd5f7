// Command audit writes an audit line for every change it hears about: order
// table changes (DynamoDB stream), OrderPlaced events (EventBridge) and alerts
// (SNS). One function, three triggers, so it tells the shapes apart itself.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
)

// envelope has just enough fields to tell the three event shapes apart.
type envelope struct {
	Records []struct {
		EventSource  string `json:"eventSource"` // aws:dynamodb
		EventSource2 string `json:"EventSource"` // aws:sns
	} `json:"Records"`
	DetailType string `json:"detail-type"`
}

func handle(ctx context.Context, raw json.RawMessage) error {
	var env envelope
	if err := json.Unmarshal(raw, &env); err != nil {
		return fmt.Errorf("unrecognised event: %w", err)
	}
	switch {
	case env.DetailType != "":
		var ev events.EventBridgeEvent
		if err := json.Unmarshal(raw, &ev); err != nil {
			return err
		}
		log.Printf("audit event source=%s type=%s detail=%s", ev.Source, ev.DetailType, ev.Detail)
	case len(env.Records) > 0 && env.Records[0].EventSource == "aws:dynamodb":
		var ev events.DynamoDBEvent
		if err := json.Unmarshal(raw, &ev); err != nil {
			return err
		}
		for _, r := range ev.Records {
			log.Printf("audit table %s keys=%v", r.EventName, keysOf(r.Change.Keys))
		}
	case len(env.Records) > 0 && env.Records[0].EventSource2 == "aws:sns":
		var ev events.SNSEvent
		if err := json.Unmarshal(raw, &ev); err != nil {
			return err
		}
		for _, r := range ev.Records {
			log.Printf("audit alert subject=%q message=%q", r.SNS.Subject, r.SNS.Message)
		}
	default:
		log.Printf("audit unknown event %s", raw)
	}
	return nil
}

func keysOf(m map[string]events.DynamoDBAttributeValue) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		if v.DataType() == events.DataTypeString {
			out[k] = v.String()
		} else {
			out[k] = fmt.Sprint(v)
		}
	}
	return out
}

func main() { lambda.Start(handle) }
