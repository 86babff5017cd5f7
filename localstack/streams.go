package localstack

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Kinesis and DynamoDB stream event source mappings for the embedded engine:
// one goroutine per shard reads records in order (GetShardIterator,
// GetRecords), invokes the function synchronously with Lambda's event for
// the source, and moves on once the function succeeds. A batch that keeps
// failing is retried streamRetries times, then skipped with a log line (AWS
// retries until the records expire; kumo does not keep MaximumRetryAttempts).
//
// kumo does not keep a mapping's StartingPosition either, so every shard is
// read from TRIM_HORIZON the first time: on a stream created with the mapping
// (what evdeploy deploys) that is the same as LATEST. Progress is kept per
// mapping and shard in the runner, so a poller restarted (its function
// redeployed) resumes after the last record delivered.

const streamRetries = 3

type streamKind struct {
	service  string // signing name kumo routes by
	target   string // X-Amz-Target prefix
	arnField string // the stream's field name in requests
	source   string // eventSource in Lambda's event
}

var (
	kinesisKind = streamKind{"kinesis", "Kinesis_20131202.", "StreamARN", "aws:kinesis"}
	ddbKind     = streamKind{"dynamodb", "DynamoDBStreams_20120810.", "StreamArn", "aws:dynamodb"}
)

func streamKindOf(arn string) (streamKind, bool) {
	switch {
	case strings.HasPrefix(arn, "arn:aws:kinesis:"):
		return kinesisKind, true
	case strings.HasPrefix(arn, "arn:aws:dynamodb:") && strings.Contains(arn, "/stream/"):
		return ddbKind, true
	}
	return streamKind{}, false
}

// checkpoints remembers the last delivered sequence number per mapping and
// shard; with a path, also across engine restarts.
type checkpoints struct {
	mu   sync.Mutex
	m    map[string]string
	path string // "" = in memory only
}

// load reads the checkpoints kept at path, and keeps them there from now on.
func (c *checkpoints) load(path string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.path = path
	if b, err := os.ReadFile(path); err == nil {
		_ = json.Unmarshal(b, &c.m)
	}
}

func (c *checkpoints) get(k string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[k]
}

func (c *checkpoints) set(k, seq string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]string{}
	}
	c.m[k] = seq
	if c.path != "" {
		if b, err := json.Marshal(c.m); err == nil && os.MkdirAll(filepath.Dir(c.path), 0o755) == nil {
			tmp := c.path + ".tmp"
			if os.WriteFile(tmp, b, 0o644) == nil {
				_ = os.Rename(tmp, c.path)
			}
		}
	}
}

// pollStream runs a reader per shard of the mapping's stream, picking up new
// shards as they appear, until ctx is done.
func (r *runner) pollStream(ctx context.Context, m mapping, kind streamKind) {
	started := map[string]bool{}
	for {
		shards, err := r.listShards(ctx, kind, m.EventSourceArn)
		if err != nil && ctx.Err() == nil {
			r.lg.Printf("event source mapping %s: list shards of %s: %v", m.UUID, m.EventSourceArn, err)
		}
		for _, s := range shards {
			if !started[s] {
				started[s] = true
				go r.pollShard(ctx, m, kind, s)
			}
		}
		if !sleepCtx(ctx, 10*time.Second) {
			return
		}
	}
}

func (r *runner) listShards(ctx context.Context, kind streamKind, arn string) ([]string, error) {
	var ids []string
	if kind == kinesisKind {
		b, _, err := r.call(ctx, http.MethodPost, "/", kind.service, kind.target+"ListShards", map[string]any{"StreamARN": arn, "StreamName": streamName(arn)})
		if err != nil {
			return nil, err
		}
		var out struct{ Shards []struct{ ShardId string } }
		if err := json.Unmarshal(b, &out); err != nil {
			return nil, err
		}
		for _, s := range out.Shards {
			ids = append(ids, s.ShardId)
		}
		return ids, nil
	}
	b, _, err := r.call(ctx, http.MethodPost, "/", kind.service, kind.target+"DescribeStream", map[string]any{"StreamArn": arn})
	if err != nil {
		return nil, err
	}
	var out struct {
		StreamDescription struct{ Shards []struct{ ShardId string } }
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, err
	}
	for _, s := range out.StreamDescription.Shards {
		ids = append(ids, s.ShardId)
	}
	return ids, nil
}

// streamName is a Kinesis stream ARN's name (arn:aws:kinesis:r:a:stream/name).
func streamName(arn string) string {
	if i := strings.LastIndex(arn, "stream/"); i >= 0 {
		return arn[i+len("stream/"):]
	}
	return arn
}

func (r *runner) pollShard(ctx context.Context, m mapping, kind streamKind, shard string) {
	key := m.UUID + "/" + shard
	fn := functionName(m.FunctionArn)
	region := "us-east-1"
	if p := strings.Split(m.EventSourceArn, ":"); len(p) > 3 {
		region = p[3]
	}
	batch := m.BatchSize
	if batch <= 0 {
		batch = 100
	}
	iterator := ""
	failures := 0
	for ctx.Err() == nil {
		if iterator == "" {
			req := map[string]any{kind.arnField: m.EventSourceArn, "ShardId": shard, "ShardIteratorType": "TRIM_HORIZON"}
			if kind == kinesisKind {
				req["StreamName"] = streamName(m.EventSourceArn)
			}
			if seq := r.checkpoints.get(key); seq != "" {
				req["ShardIteratorType"] = "AFTER_SEQUENCE_NUMBER"
				req[map[bool]string{true: "StartingSequenceNumber", false: "SequenceNumber"}[kind == kinesisKind]] = seq
			}
			b, _, err := r.call(ctx, http.MethodPost, "/", kind.service, kind.target+"GetShardIterator", req)
			var out struct{ ShardIterator string }
			if err == nil {
				err = json.Unmarshal(b, &out)
			}
			if err != nil || out.ShardIterator == "" {
				if ctx.Err() == nil {
					r.lg.Printf("event source mapping %s: iterator for %s %s: %v", m.UUID, m.EventSourceArn, shard, err)
				}
				sleepCtx(ctx, time.Second)
				continue
			}
			iterator = out.ShardIterator
		}
		b, _, err := r.call(ctx, http.MethodPost, "/", kind.service, kind.target+"GetRecords", map[string]any{"ShardIterator": iterator, "Limit": batch})
		var out struct {
			Records           []map[string]any
			NextShardIterator string
		}
		if err == nil {
			err = json.Unmarshal(b, &out)
		}
		if err != nil {
			if ctx.Err() == nil {
				r.lg.Printf("event source mapping %s: read %s %s: %v", m.UUID, m.EventSourceArn, shard, err)
			}
			iterator = "" // it may have expired: start again from the checkpoint
			sleepCtx(ctx, time.Second)
			continue
		}
		if len(out.Records) == 0 {
			iterator = out.NextShardIterator
			if !sleepCtx(ctx, 500*time.Millisecond) {
				return
			}
			continue
		}
		records, last := lambdaStreamRecords(kind, out.Records, m.EventSourceArn, region, shard)
		if age, ok := streamRecordAge(out.Records[len(out.Records)-1]); ok {
			recordIteratorAge(fn, age)
		}
		event, _ := json.Marshal(map[string]any{"Records": records})
		resp, hdr, err := r.invokeMapped(ctx, m.FunctionArn, event)
		if err == nil && hdr.Get("X-Amz-Function-Error") != "" {
			err = fmt.Errorf("function error: %s", strings.TrimSpace(string(resp)))
		}
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			failures++
			if failures <= streamRetries {
				r.lg.Printf("event source mapping %s: %s failed on %d record(s) of %s (attempt %d of %d): %v", m.UUID, fn, len(records), shard, failures, streamRetries+1, err)
				iterator = "" // read the same batch again
				sleepCtx(ctx, time.Second)
				continue
			}
			r.lg.Printf("event source mapping %s: %s failed %d times on %d record(s) of %s: skipped: %v", m.UUID, fn, failures, len(records), shard, err)
		}
		failures = 0
		r.checkpoints.set(key, last)
		iterator = out.NextShardIterator
	}
}

// lambdaStreamRecords turns GetRecords records into Lambda's event records
// and returns the last sequence number.
func lambdaStreamRecords(kind streamKind, in []map[string]any, arn, region, shard string) ([]map[string]any, string) {
	out := make([]map[string]any, len(in))
	last := ""
	for i, rec := range in {
		if kind == kinesisKind {
			seq, _ := rec["SequenceNumber"].(string)
			last = seq
			out[i] = map[string]any{
				"kinesis": map[string]any{
					"kinesisSchemaVersion":        "1.0",
					"partitionKey":                rec["PartitionKey"],
					"sequenceNumber":              seq,
					"data":                        rec["Data"],
					"approximateArrivalTimestamp": rec["ApproximateArrivalTimestamp"],
				},
				"eventSource":    kind.source,
				"eventVersion":   "1.0",
				"eventID":        shard + ":" + seq,
				"eventName":      "aws:kinesis:record",
				"awsRegion":      region,
				"eventSourceARN": arn,
			}
			continue
		}
		// DynamoDB Streams records already have Lambda's shape but for the ARN.
		rec["eventSourceARN"] = arn
		if rec["awsRegion"] == nil {
			rec["awsRegion"] = region
		}
		if d, ok := rec["dynamodb"].(map[string]any); ok {
			if seq, ok := d["SequenceNumber"].(string); ok {
				last = seq
			}
		}
		out[i] = rec
	}
	return out, last
}
