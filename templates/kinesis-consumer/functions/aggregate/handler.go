package main

import (
	"context"
	"encoding/json"
	"log"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// Click is the record producers put on the stream.
type Click struct {
	Page string    `json:"page"`
	User string    `json:"user"`
	At   time.Time `json:"at"`
}

// Count is one page's share of a batch.
type Count struct {
	Page     string
	Views    int64
	LastSeen time.Time
}

// Counters is the part of DynamoDB the handler needs.
type Counters interface {
	// Add adds c.Views to the page's counter and moves its last-seen time.
	Add(ctx context.Context, c Count) error
}

// Handler aggregates a batch of Kinesis records.
type Handler struct {
	Counters Counters
}

// Handle counts views per page and writes one update per page. Records that
// are not valid clicks are logged and skipped: retrying cannot fix them, and
// on a stream a stuck record blocks its whole shard.
//
// If a page's update fails, Handle reports the first record that contributed
// to it. Lambda then resumes the shard from that record, so every record
// before it is known to be counted. Records after it whose pages were written
// are counted again on the retry: counts are at-least-once.
func (h *Handler) Handle(ctx context.Context, ev events.KinesisEvent) (events.KinesisEventResponse, error) {
	resp := events.KinesisEventResponse{BatchItemFailures: []events.KinesisBatchItemFailure{}}
	counts, firstRecord := Aggregate(ev.Records)
	failedAt := -1
	for _, c := range counts {
		if err := h.Counters.Add(ctx, c); err != nil {
			log.Printf("page %s: %v", c.Page, err)
			if i := firstRecord[c.Page]; failedAt == -1 || i < failedAt {
				failedAt = i
			}
		}
	}
	if failedAt >= 0 {
		resp.BatchItemFailures = append(resp.BatchItemFailures,
			events.KinesisBatchItemFailure{ItemIdentifier: ev.Records[failedAt].Kinesis.SequenceNumber})
	}
	return resp, nil
}

// Aggregate sums valid clicks per page, in order of each page's first
// appearance, and returns the index of the first record of each page.
func Aggregate(records []events.KinesisEventRecord) ([]Count, map[string]int) {
	var counts []Count
	index := map[string]int{}
	first := map[string]int{}
	for i, r := range records {
		var c Click
		if err := json.Unmarshal(r.Kinesis.Data, &c); err != nil || c.Page == "" {
			log.Printf("skipping record %s: not a click event (%v)", r.Kinesis.SequenceNumber, err)
			continue
		}
		at := c.At
		if at.IsZero() {
			at = r.Kinesis.ApproximateArrivalTimestamp.UTC()
		}
		j, ok := index[c.Page]
		if !ok {
			j = len(counts)
			index[c.Page] = j
			first[c.Page] = i
			counts = append(counts, Count{Page: c.Page})
		}
		counts[j].Views++
		if at.After(counts[j].LastSeen) {
			counts[j].LastSeen = at.UTC()
		}
	}
	return counts, first
}
