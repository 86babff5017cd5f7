package main

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"
)

type memObjects struct {
	list    []Object
	listErr error
	puts    map[string]string
}

func (m *memObjects) List(_ context.Context, bucket, prefix string) ([]Object, error) {
	return m.list, m.listErr
}

func (m *memObjects) Put(_ context.Context, bucket, key string, data []byte) error {
	m.puts[bucket+"/"+key] = string(data)
	return nil
}

var (
	t0 = time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	t1 = time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
)

func TestBuild(t *testing.T) {
	at := time.Date(2026, 11, 26, 21, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		objs []Object
		want Report
	}{
		{
			name: "empty prefix",
			want: Report{GeneratedAt: "2026-11-26T21:00:00Z", Prefix: "data/", ByExtension: map[string]Stats{}, Largest: []Entry{}},
		},
		{
			name: "counts, largest three, oldest and newest",
			objs: []Object{
				{Key: "data/a.csv", Size: 10, LastModified: t1},
				{Key: "data/b.csv", Size: 300, LastModified: t0},
				{Key: "data/c.json", Size: 50, LastModified: t1.Add(time.Hour)},
				{Key: "data/README", Size: 50, LastModified: t1},
			},
			want: Report{
				GeneratedAt: "2026-11-26T21:00:00Z", Prefix: "data/", Objects: 4, TotalBytes: 410,
				ByExtension: map[string]Stats{".csv": {2, 310}, ".json": {1, 50}, "(none)": {1, 50}},
				Largest: []Entry{
					{"data/b.csv", 300, "2026-11-01T08:00:00Z"},
					{"data/README", 50, "2026-11-20T08:00:00Z"},
					{"data/c.json", 50, "2026-11-20T09:00:00Z"},
				},
				Oldest: &Entry{"data/b.csv", 300, "2026-11-01T08:00:00Z"},
				Newest: &Entry{"data/c.json", 50, "2026-11-20T09:00:00Z"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if d := cmp.Diff(tt.want, Build(at, tt.objs)); d != "" {
				t.Errorf("Build (-want +got):\n%s", d)
			}
		})
	}
}

func TestHandle(t *testing.T) {
	scheduled := events.EventBridgeEvent{ID: "ev-1", DetailType: "Scheduled Event", Source: "aws.events",
		Time: time.Date(2026, 11, 26, 21, 0, 3, 0, time.UTC)}
	tests := []struct {
		name     string
		ev       events.EventBridgeEvent
		listErr  error
		wantErr  bool
		wantKeys []string
	}{
		{name: "report named after the scheduled time", ev: scheduled, wantKeys: []string{"bkt/reports/2026/11/26/2100.json"}},
		{name: "listing fails", ev: scheduled, listErr: errors.New("AccessDenied"), wantErr: true},
		{name: "event without a time", ev: events.EventBridgeEvent{ID: "x"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &memObjects{list: []Object{{Key: "data/a.csv", Size: 7, LastModified: t0}}, listErr: tt.listErr, puts: map[string]string{}}
			err := (&Handler{Bucket: "bkt", Objects: m}).Handle(context.Background(), tt.ev)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Handle error = %v, want error: %v", err, tt.wantErr)
			}
			var keys []string
			for k, v := range m.puts {
				keys = append(keys, k)
				var r Report
				if err := json.Unmarshal([]byte(v), &r); err != nil {
					t.Errorf("report %s is not JSON: %v", k, err)
				}
				if r.Objects != 1 || r.TotalBytes != 7 {
					t.Errorf("report %s counts %d objects, %d bytes; want 1, 7", k, r.Objects, r.TotalBytes)
				}
			}
			if d := cmp.Diff(tt.wantKeys, keys); d != "" {
				t.Errorf("written (-want +got):\n%s", d)
			}
		})
	}
}
