package main

import (
	"context"
	"encoding/json"
	"fmt"
	"path"
	"sort"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// Object is one listed object.
type Object struct {
	Key          string
	Size         int64
	LastModified time.Time
}

// Objects is the part of S3 the handler needs.
type Objects interface {
	List(ctx context.Context, bucket, prefix string) ([]Object, error)
	Put(ctx context.Context, bucket, key string, data []byte) error
}

// Report is the JSON document written on every run.
type Report struct {
	GeneratedAt string           `json:"generated_at"`
	Prefix      string           `json:"prefix"`
	Objects     int              `json:"objects"`
	TotalBytes  int64            `json:"total_bytes"`
	ByExtension map[string]Stats `json:"by_extension"`
	Largest     []Entry          `json:"largest"`
	Oldest      *Entry           `json:"oldest,omitempty"`
	Newest      *Entry           `json:"newest,omitempty"`
}

// Stats counts objects and bytes.
type Stats struct {
	Objects int   `json:"objects"`
	Bytes   int64 `json:"bytes"`
}

// Entry names one object in the report.
type Entry struct {
	Key          string `json:"key"`
	Bytes        int64  `json:"bytes"`
	LastModified string `json:"last_modified"`
}

// Handler runs on the schedule.
type Handler struct {
	Bucket  string
	Objects Objects
}

const dataPrefix = "data/"

// Handle writes reports/YYYY/MM/DD/HHMM.json, named after the scheduled time
// (not the clock), so a retried run overwrites its own report.
func (h *Handler) Handle(ctx context.Context, ev events.EventBridgeEvent) error {
	at := ev.Time.UTC()
	if at.IsZero() {
		return fmt.Errorf("event %s has no time", ev.ID)
	}
	objs, err := h.Objects.List(ctx, h.Bucket, dataPrefix)
	if err != nil {
		return fmt.Errorf("list s3://%s/%s: %w", h.Bucket, dataPrefix, err)
	}
	body, err := json.MarshalIndent(Build(at, objs), "", "  ")
	if err != nil {
		return err
	}
	key := ReportKey(at)
	if err := h.Objects.Put(ctx, h.Bucket, key, append(body, '\n')); err != nil {
		return fmt.Errorf("write s3://%s/%s: %w", h.Bucket, key, err)
	}
	return nil
}

// ReportKey names the report for a run at t.
func ReportKey(t time.Time) string {
	return t.UTC().Format("reports/2006/01/02/1504.json")
}

// Build computes the report.
func Build(at time.Time, objs []Object) Report {
	r := Report{GeneratedAt: at.UTC().Format(time.RFC3339), Prefix: dataPrefix, ByExtension: map[string]Stats{}, Largest: []Entry{}}
	var oldest, newest *Object
	for i, o := range objs {
		r.Objects++
		r.TotalBytes += o.Size
		ext := path.Ext(o.Key)
		if ext == "" {
			ext = "(none)"
		}
		s := r.ByExtension[ext]
		s.Objects++
		s.Bytes += o.Size
		r.ByExtension[ext] = s
		if oldest == nil || o.LastModified.Before(oldest.LastModified) {
			oldest = &objs[i]
		}
		if newest == nil || o.LastModified.After(newest.LastModified) {
			newest = &objs[i]
		}
	}
	if oldest != nil {
		o, n := entry(*oldest), entry(*newest)
		r.Oldest, r.Newest = &o, &n
	}
	largest := append([]Object(nil), objs...)
	sort.Slice(largest, func(i, j int) bool {
		if largest[i].Size != largest[j].Size {
			return largest[i].Size > largest[j].Size
		}
		return largest[i].Key < largest[j].Key
	})
	for i := 0; i < len(largest) && i < 3; i++ {
		r.Largest = append(r.Largest, entry(largest[i]))
	}
	return r
}

func entry(o Object) Entry {
	return Entry{Key: o.Key, Bytes: o.Size, LastModified: o.LastModified.UTC().Format(time.RFC3339)}
}
