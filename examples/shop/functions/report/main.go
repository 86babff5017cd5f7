// Command report runs nightly on an EventBridge schedule and writes a report
// line to its log: when it ran and for which day.
package main

import (
	"context"
	"encoding/json"
	"log"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
)

type report struct {
	Day       string    `json:"day"`
	Scheduled time.Time `json:"scheduled"`
	RanAt     time.Time `json:"ran_at"`
	Rule      []string  `json:"rule"`
}

func handle(ctx context.Context, ev events.EventBridgeEvent) (report, error) {
	scheduled := ev.Time
	if scheduled.IsZero() {
		scheduled = time.Now().UTC()
	}
	r := report{
		// The nightly run reports on the day that just ended.
		Day:       scheduled.Add(-24 * time.Hour).Format("2006-01-02"),
		Scheduled: scheduled,
		RanAt:     time.Now().UTC(),
		Rule:      ev.Resources,
	}
	b, err := json.Marshal(r)
	if err != nil {
		return r, err
	}
	log.Printf("report %s", b)
	return r, nil
}

func main() { lambda.Start(handle) }
