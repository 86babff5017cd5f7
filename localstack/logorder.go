package localstack

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
)

// CloudWatch Logs keeps the events of one stream in the order they were put,
// lines of one timestamp included; kumo sorts them by timestamp with an
// unstable sort, so a traceback written within one millisecond comes back
// scrambled, and GetLogEvents without startFromHead comes back newest first
// (AWS returns the newest page, oldest first). kumo's FilterLogEvents event
// ids are "<timestamp>-<index in its stream>": the engine restores the put
// order from them, and answers GetLogEvents from FilterLogEvents.

// fixFilterLogEvents re-sorts FilterLogEvents' answer into put order.
// Without a limit kumo returns 50 events and no next token; AWS returns up
// to 10,000 (and a token for more): ask kumo for 10,000.
func fixFilterLogEvents(w http.ResponseWriter, req *http.Request, next http.Handler) {
	if body, err := io.ReadAll(req.Body); err == nil {
		var in map[string]any
		d := json.NewDecoder(bytes.NewReader(body))
		d.UseNumber()
		if d.Decode(&in) == nil && in["limit"] == nil {
			in["limit"] = 10000
			if b, err := json.Marshal(in); err == nil {
				body = b
			}
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
		req.ContentLength = int64(len(body))
		req.Header.Del("Content-Length")
	}
	buf := &bufferedResponse{header: http.Header{}}
	next.ServeHTTP(buf, req)
	out := buf.body.Bytes()
	if buf.status == 0 || buf.status == http.StatusOK {
		var m map[string]json.RawMessage
		var evs []map[string]any
		d := json.NewDecoder(bytes.NewReader(out))
		d.UseNumber()
		if d.Decode(&m) == nil && json.Unmarshal(m["events"], &evs) == nil {
			sortEvents(evs)
			if b, err := json.Marshal(evs); err == nil {
				m["events"] = b
				if b, err := json.Marshal(m); err == nil {
					out = b
				}
			}
		}
	}
	writeBuffered(w, buf, out)
}

// sortEvents orders events by timestamp, then stream, then their index in
// their stream (the put order).
func sortEvents(evs []map[string]any) {
	type k struct {
		ts     float64
		stream string
		idx    int
	}
	key := func(e map[string]any) k {
		var out k
		switch v := e["timestamp"].(type) {
		case float64:
			out.ts = v
		case json.Number:
			out.ts, _ = v.Float64()
		}
		out.stream, _ = e["logStreamName"].(string)
		if id, ok := e["eventId"].(string); ok {
			if _, i, ok := strings.Cut(id, "-"); ok {
				out.idx, _ = strconv.Atoi(i)
			}
		}
		return out
	}
	sort.SliceStable(evs, func(i, j int) bool {
		a, b := key(evs[i]), key(evs[j])
		if a.ts != b.ts {
			return a.ts < b.ts
		}
		if a.stream != b.stream {
			return a.stream < b.stream
		}
		return a.idx < b.idx
	})
}

// getLogEvents answers GetLogEvents from kumo's FilterLogEvents on the one
// stream, in put order: the first limit events from the head with
// startFromHead, else the last limit, oldest first either way.
func getLogEvents(w http.ResponseWriter, req *http.Request, next http.Handler) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var in struct {
		LogGroupName       string `json:"logGroupName"`
		LogGroupIdentifier string `json:"logGroupIdentifier"`
		LogStreamName      string `json:"logStreamName"`
		StartTime          *int64 `json:"startTime"`
		EndTime            *int64 `json:"endTime"`
		Limit              int    `json:"limit"`
		StartFromHead      bool   `json:"startFromHead"`
		NextToken          string `json:"nextToken"`
	}
	if json.Unmarshal(body, &in) != nil || in.NextToken != "" {
		// Leave what this does not understand to kumo.
		req.Body = io.NopCloser(bytes.NewReader(body))
		next.ServeHTTP(w, req)
		return
	}
	group := in.LogGroupName
	if group == "" {
		group = in.LogGroupIdentifier
	}
	f := map[string]any{"logGroupName": group, "logStreamNames": []string{in.LogStreamName}, "limit": 10000}
	if in.StartTime != nil {
		f["startTime"] = *in.StartTime
	}
	if in.EndTime != nil {
		f["endTime"] = *in.EndTime
	}
	fb, _ := json.Marshal(f)
	freq := req.Clone(req.Context())
	freq.Body = io.NopCloser(bytes.NewReader(fb))
	freq.ContentLength = int64(len(fb))
	freq.Header.Set("X-Amz-Target", "Logs_20140328.FilterLogEvents")
	freq.Header.Del("Content-Length")
	buf := &bufferedResponse{header: http.Header{}}
	next.ServeHTTP(buf, freq)
	if buf.status != 0 && buf.status != http.StatusOK {
		writeBuffered(w, buf, buf.body.Bytes())
		return
	}
	var got struct {
		Events []map[string]any `json:"events"`
	}
	if err := json.Unmarshal(buf.body.Bytes(), &got); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	sortEvents(got.Events)
	limit := in.Limit
	if limit <= 0 || limit > 10000 {
		limit = 10000
	}
	evs := got.Events
	if len(evs) > limit {
		if in.StartFromHead {
			evs = evs[:limit]
		} else {
			evs = evs[len(evs)-limit:]
		}
	}
	outEvs := make([]map[string]any, len(evs))
	for i, e := range evs {
		outEvs[i] = map[string]any{"timestamp": e["timestamp"], "message": e["message"], "ingestionTime": e["ingestionTime"]}
	}
	// Tokens: the same position, so a reader following them stops.
	tok := "f/" + strconv.Itoa(len(got.Events))
	out, _ := json.Marshal(map[string]any{"events": outEvs, "nextForwardToken": tok, "nextBackwardToken": "b/0"})
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(out)
}
