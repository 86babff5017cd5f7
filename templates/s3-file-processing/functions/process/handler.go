package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"path"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
)

// Objects is the part of S3 the handler needs.
type Objects interface {
	// Get returns at most limit bytes of the object and whether it was longer.
	Get(ctx context.Context, bucket, key string, limit int64) (data []byte, truncated bool, err error)
	Put(ctx context.Context, bucket, key string, data []byte, contentType string) error
}

// Summary is the derived object written for every upload.
type Summary struct {
	Source    string      `json:"source"` // s3://bucket/key
	Bytes     int         `json:"bytes"`
	Lines     int         `json:"lines"`
	Words     int         `json:"words"`
	SHA256    string      `json:"sha256"`
	TopWords  []WordCount `json:"top_words"`
	Truncated bool        `json:"truncated,omitempty"`
	Binary    bool        `json:"binary,omitempty"`
}

// WordCount is a word and how often it appears.
type WordCount struct {
	Word  string `json:"word"`
	Count int    `json:"count"`
}

// Handler processes S3 event notifications.
type Handler struct {
	Objects      Objects
	OutputBucket string
}

// maxRead bounds the memory one invocation uses; larger files are summarised
// from their first 16 MiB and marked truncated.
const maxRead = 16 << 20

// Handle writes processed/<key>.summary.json for each created object. Any
// failure fails the invocation: S3 invokes asynchronously, so Lambda retries it
// (twice by default), and the writes are idempotent (same key, same content).
func (h *Handler) Handle(ctx context.Context, ev events.S3Event) error {
	for _, r := range ev.Records {
		if !strings.HasPrefix(r.EventName, "ObjectCreated:") {
			continue
		}
		// Keys arrive URL-encoded in S3 notifications ("my file.txt" → "my+file.txt").
		key, err := url.QueryUnescape(r.S3.Object.Key)
		if err != nil {
			return fmt.Errorf("object key %q: %w", r.S3.Object.Key, err)
		}
		bucket := r.S3.Bucket.Name
		data, truncated, err := h.Objects.Get(ctx, bucket, key, maxRead)
		if err != nil {
			return fmt.Errorf("read s3://%s/%s: %w", bucket, key, err)
		}
		s := Summarize(data)
		s.Source = "s3://" + bucket + "/" + key
		s.Truncated = truncated
		out, err := json.MarshalIndent(s, "", "  ")
		if err != nil {
			return err
		}
		if err := h.Objects.Put(ctx, h.OutputBucket, OutputKey(key), append(out, '\n'), "application/json"); err != nil {
			return fmt.Errorf("write s3://%s/%s: %w", h.OutputBucket, OutputKey(key), err)
		}
	}
	return nil
}

// OutputKey maps incoming/a/b.txt to summaries/a/b.txt.summary.json.
func OutputKey(key string) string {
	return path.Join("summaries", strings.TrimPrefix(key, "incoming/")) + ".summary.json"
}

// Summarize counts bytes, lines and words and lists the five most frequent
// words (ties broken alphabetically). Data that is not UTF-8 text gets only
// its size and hash.
func Summarize(data []byte) Summary {
	sum := sha256.Sum256(data)
	s := Summary{Bytes: len(data), SHA256: hex.EncodeToString(sum[:]), TopWords: []WordCount{}}
	if !utf8.Valid(data) || bytes.IndexByte(data, 0) >= 0 {
		s.Binary = true
		return s
	}
	s.Lines = bytes.Count(data, []byte("\n"))
	if len(data) > 0 && data[len(data)-1] != '\n' {
		s.Lines++
	}
	counts := map[string]int{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), len(data)+1)
	sc.Split(bufio.ScanWords)
	for sc.Scan() {
		s.Words++
		w := strings.ToLower(strings.Trim(sc.Text(), ".,;:!?\"'()[]{}"))
		if w != "" {
			counts[w]++
		}
	}
	for w, c := range counts {
		s.TopWords = append(s.TopWords, WordCount{w, c})
	}
	sortWords(s.TopWords)
	if len(s.TopWords) > 5 {
		s.TopWords = s.TopWords[:5]
	}
	return s
}

func sortWords(ws []WordCount) {
	slices.SortFunc(ws, func(a, b WordCount) int {
		if a.Count != b.Count {
			return b.Count - a.Count
		}
		return strings.Compare(a.Word, b.Word)
	})
}
