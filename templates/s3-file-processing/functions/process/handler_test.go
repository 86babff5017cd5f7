package main

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"
)

// memObjects is an in-memory Objects keyed by "bucket/key".
type memObjects struct {
	objects map[string]string
	failPut bool
}

func (m *memObjects) Get(_ context.Context, bucket, key string, limit int64) ([]byte, bool, error) {
	v, ok := m.objects[bucket+"/"+key]
	if !ok {
		return nil, false, errors.New("NoSuchKey")
	}
	if int64(len(v)) > limit {
		return []byte(v[:limit]), true, nil
	}
	return []byte(v), false, nil
}

func (m *memObjects) Put(_ context.Context, bucket, key string, data []byte, _ string) error {
	if m.failPut {
		return errors.New("SlowDown")
	}
	m.objects[bucket+"/"+key] = string(data)
	return nil
}

func created(bucket, key string) events.S3EventRecord {
	var r events.S3EventRecord
	r.EventName = "ObjectCreated:Put"
	r.S3.Bucket.Name = bucket
	r.S3.Object.Key = key
	return r
}

func TestHandle(t *testing.T) {
	tests := []struct {
		name    string
		records []events.S3EventRecord
		failPut bool
		wantErr bool
		want    map[string]string // new objects in the output bucket
	}{
		{
			name:    "summary written under summaries/",
			records: []events.S3EventRecord{created("up", "incoming/notes/a.txt")},
			want: map[string]string{"out/summaries/notes/a.txt.summary.json": `{
  "source": "s3://up/incoming/notes/a.txt",
  "bytes": 14,
  "lines": 2,
  "words": 4,
  "sha256": "c63cc3f99b9118380f874d4a9523433e23f301e2bb2aa7d9b4e1c156d08d7051",
  "top_words": [
    {
      "word": "to",
      "count": 2
    },
    {
      "word": "be",
      "count": 1
    },
    {
      "word": "go",
      "count": 1
    }
  ]
}
`},
		},
		{
			name:    "url-encoded key",
			records: []events.S3EventRecord{created("up", "incoming/my+file%281%29.txt")},
			want:    map[string]string{"out/summaries/my file(1).txt.summary.json": ""},
		},
		{
			name: "removal events are ignored",
			records: func() []events.S3EventRecord {
				r := created("up", "incoming/notes/a.txt")
				r.EventName = "ObjectRemoved:Delete"
				return []events.S3EventRecord{r}
			}(),
			want: map[string]string{},
		},
		{
			name:    "missing object fails the invocation",
			records: []events.S3EventRecord{created("up", "incoming/gone.txt")},
			wantErr: true,
			want:    map[string]string{},
		},
		{
			name:    "write failure fails the invocation",
			records: []events.S3EventRecord{created("up", "incoming/notes/a.txt")},
			failPut: true,
			wantErr: true,
			want:    map[string]string{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inputs := map[string]string{
				"up/incoming/notes/a.txt":    "To be,\nto go.\n",
				"up/incoming/my file(1).txt": "x",
			}
			objs := &memObjects{objects: map[string]string{}, failPut: tt.failPut}
			for k, v := range inputs {
				objs.objects[k] = v
			}
			h := &Handler{Objects: objs, OutputBucket: "out"}
			err := h.Handle(context.Background(), events.S3Event{Records: tt.records})
			if (err != nil) != tt.wantErr {
				t.Fatalf("Handle error = %v, want error: %v", err, tt.wantErr)
			}
			got := map[string]string{}
			for k, v := range objs.objects {
				if _, in := inputs[k]; in {
					continue
				}
				if tt.want[k] == "" {
					v = "" // only the key matters for this case
				}
				got[k] = v
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("written objects (-want +got):\n%s", d)
			}
		})
	}
}

func TestSummarize(t *testing.T) {
	tests := []struct {
		in   string
		want Summary
	}{
		{"", Summary{SHA256: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", TopWords: []WordCount{}}},
		{"no newline at end", Summary{Bytes: 17, Lines: 1, Words: 4, SHA256: "",
			TopWords: []WordCount{{"at", 1}, {"end", 1}, {"newline", 1}, {"no", 1}}}},
		{"a a b b c d e f", Summary{Bytes: 15, Lines: 1, Words: 8,
			TopWords: []WordCount{{"a", 2}, {"b", 2}, {"c", 1}, {"d", 1}, {"e", 1}}}},
		{"bin\x00ary", Summary{Bytes: 7, Binary: true, TopWords: []WordCount{}}},
	}
	for _, tt := range tests {
		got := Summarize([]byte(tt.in))
		if tt.want.SHA256 == "" {
			got.SHA256 = "" // hashes are checked by the empty-input case
		}
		if d := cmp.Diff(tt.want, got); d != "" {
			t.Errorf("Summarize(%q) (-want +got):\n%s", tt.in, d)
		}
	}
}

func TestOutputKey(t *testing.T) {
	for in, want := range map[string]string{
		"incoming/a.txt":   "summaries/a.txt.summary.json",
		"incoming/x/y.csv": "summaries/x/y.csv.summary.json",
		"elsewhere/z":      "summaries/elsewhere/z.summary.json",
	} {
		if got := OutputKey(in); got != want {
			t.Errorf("OutputKey(%q) = %q, want %q", in, got, want)
		}
	}
}
