package localstack

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Function logs on the embedded engine go where Lambda puts them: CloudWatch
// Logs, log group /aws/lambda/<function>, one stream per handler process
// ("2026/12/02/[$LATEST]<hex>", as Lambda names them), with START, END and
// REPORT lines around each invocation. `evdeploy logs` then reads the same
// log group on AWS and locally. Lines are also written to the engine log,
// prefixed with the function's name.

type logEvent struct {
	ts  int64 // ms
	msg string
}

type logStream struct {
	group, name string
	created     bool
	events      []logEvent
}

// logShipper batches lines and puts them into kumo's CloudWatch Logs.
type logShipper struct {
	kc kumoClient
	lg *log.Logger

	mu      sync.Mutex
	streams map[string]*logStream // by group + "\x00" + stream
	order   []string
}

func newLogShipper(kc kumoClient, lg *log.Logger) *logShipper {
	return &logShipper{kc: kc, lg: lg, streams: map[string]*logStream{}}
}

// newStreamName is a Lambda-style log stream name.
func newStreamName() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return time.Now().UTC().Format("2006/01/02") + "/[$LATEST]" + hex.EncodeToString(b[:])
}

// add queues one line for fn's current stream.
func (s *logShipper) add(function, stream, msg string) {
	if s == nil {
		return
	}
	function, _ = publicFunction(function) // a published version's lines
	group := "/aws/lambda/" + function
	k := group + "\x00" + stream
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.streams[k]
	if st == nil {
		st = &logStream{group: group, name: stream}
		s.streams[k] = st
		s.order = append(s.order, k)
	}
	st.events = append(st.events, logEvent{ts: time.Now().UnixMilli(), msg: msg})
}

// run flushes queued lines every interval until ctx is done (then once more).
func (s *logShipper) run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			s.flush(fctx)
			cancel()
			return
		case <-t.C:
			s.flush(ctx)
		}
	}
}

func (s *logShipper) flush(ctx context.Context) {
	type batch struct {
		st     *logStream
		events []logEvent
	}
	s.mu.Lock()
	var todo []batch
	for _, k := range s.order {
		st := s.streams[k]
		if len(st.events) > 0 {
			todo = append(todo, batch{st, st.events})
			st.events = nil
		}
	}
	s.mu.Unlock()
	for _, b := range todo {
		if !b.st.created {
			// The group is normally deployed with the function; create it if not.
			_, _, err := s.kc.call(ctx, http.MethodPost, "/", "logs", "Logs_20140328.CreateLogGroup", map[string]any{"logGroupName": b.st.group})
			if err != nil && !strings.Contains(err.Error(), "AlreadyExists") {
				s.lg.Printf("function logs: create %s: %v", b.st.group, err)
				continue
			}
			_, _, err = s.kc.call(ctx, http.MethodPost, "/", "logs", "Logs_20140328.CreateLogStream",
				map[string]any{"logGroupName": b.st.group, "logStreamName": b.st.name})
			if err != nil && !strings.Contains(err.Error(), "AlreadyExists") {
				s.lg.Printf("function logs: create %s %s: %v", b.st.group, b.st.name, err)
				continue
			}
			b.st.created = true
		}
		evs := make([]map[string]any, len(b.events))
		for i, e := range b.events {
			evs[i] = map[string]any{"timestamp": e.ts, "message": e.msg}
		}
		if _, _, err := s.kc.call(ctx, http.MethodPost, "/", "logs", "Logs_20140328.PutLogEvents",
			map[string]any{"logGroupName": b.st.group, "logStreamName": b.st.name, "logEvents": evs}); err != nil {
			if strings.Contains(err.Error(), "ResourceNotFound") {
				b.st.created = false // the group was deleted (destroy): recreate next time
			}
			if ctx.Err() == nil {
				s.lg.Printf("function logs: put %d line(s) into %s: %v", len(evs), b.st.group, err)
			}
		}
	}
}
