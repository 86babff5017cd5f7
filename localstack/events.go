package localstack

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"strings"
	"sync"
	"time"
)

// EventBridge delivery by the engine. kumo stores buses, rules and targets
// and answers PutEvents, but its own delivery (dropped in selfcall.go) is
// wrong for an app: a schedule-only rule matches every event on its bus, a
// target's constant input is ignored, SNS, Kinesis and event bus targets are
// not reached, and schedules never fire. The engine therefore:
//   - watches PutEvents in its front proxy and, once kumo has accepted the
//     entries, matches them against the rules of their bus (pattern.go) and
//     delivers to each target (deliver.go);
//   - fires schedule rules of the default bus on time (schedule.go), with
//     EventBridge's Scheduled Event or the target's constant input;
//   - fires a rule on demand at FirePath (`evdeploy fire` of a schedule).

// FirePath fires an EventBridge rule's targets now: POST with
// {"rule": NAME, "bus": BUS (default "default")}; the answer is
// {"targets": N}.
const FirePath = "/_evdeploy/fire-rule"

const localAccount = "000000000000"

type events struct {
	kc kumoClient
	d  *deliverer
	lg *log.Logger

	mu        sync.Mutex
	schedules map[string]*scheduled // by rule ARN

	// archive, when set, keeps each event put on a bus (archive.go).
	archive func(region, bus string, ev map[string]any)
}

type scheduled struct {
	expr string
	s    schedule
	next time.Time
}

type ebRule struct {
	Name               string `json:"Name"`
	Arn                string `json:"Arn"`
	EventBusName       string `json:"EventBusName"`
	EventPattern       string `json:"EventPattern"`
	ScheduleExpression string `json:"ScheduleExpression"`
	State              string `json:"State"`
}

type ebTarget struct {
	ID               string `json:"Id"`
	Arn              string `json:"Arn"`
	Input            string `json:"Input"`
	InputPath        string `json:"InputPath"`
	InputTransformer *struct {
		InputPathsMap map[string]string `json:"InputPathsMap"`
		InputTemplate string            `json:"InputTemplate"`
	} `json:"InputTransformer"`
}

func newEvents(kc kumoClient, lg *log.Logger) *events {
	e := &events{kc: kc, lg: lg, schedules: map[string]*scheduled{}}
	e.d = &deliverer{kc: kc, putEvents: e.publishEntry}
	return e
}

// putEventsEntry is a PutEvents request entry (JSON protocol).
type putEventsEntry struct {
	Source       string          `json:"Source"`
	DetailType   string          `json:"DetailType"`
	Detail       string          `json:"Detail"`
	EventBusName string          `json:"EventBusName"`
	Resources    []string        `json:"Resources"`
	Time         json.RawMessage `json:"Time"`
}

// wrap delivers the events of successful PutEvents calls, and serves FirePath.
func (e *events) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Path == FirePath && req.Method == http.MethodPost {
			e.serveFire(w, req)
			return
		}
		if req.Header.Get("X-Amz-Target") != "AWSEvents.PutEvents" {
			next.ServeHTTP(w, req)
			return
		}
		body, buf, ok := serveBuffered(w, req, next)
		if !ok {
			return
		}
		buf.send(w)
		if buf.status != http.StatusOK {
			return
		}
		var in struct{ Entries []putEventsEntry }
		var out struct {
			Entries []struct{ EventId, ErrorCode string }
		}
		if json.Unmarshal(body, &in) != nil || json.Unmarshal(buf.body.Bytes(), &out) != nil {
			return
		}
		region := signingRegion(req)
		for i, en := range in.Entries {
			if i >= len(out.Entries) || out.Entries[i].EventId == "" {
				continue
			}
			ev := envelope(out.Entries[i].EventId, region, en)
			if e.archive != nil {
				e.archive(region, busName(en.EventBusName), ev)
			}
			go e.dispatch(context.Background(), region, busName(en.EventBusName), ev)
		}
	})
}

// envelope builds the event EventBridge delivers for a PutEvents entry.
func envelope(id, region string, en putEventsEntry) map[string]any {
	t := time.Now().UTC()
	var secs float64
	var s string
	if json.Unmarshal(en.Time, &secs) == nil && secs > 0 {
		t = time.Unix(int64(secs), 0).UTC()
	} else if json.Unmarshal(en.Time, &s) == nil {
		if p, err := time.Parse(time.RFC3339, s); err == nil {
			t = p.UTC()
		}
	}
	var detail any = map[string]any{}
	if en.Detail != "" {
		_ = json.Unmarshal([]byte(en.Detail), &detail)
	}
	res := en.Resources
	if res == nil {
		res = []string{}
	}
	return map[string]any{
		"version": "0", "id": id, "detail-type": en.DetailType, "source": en.Source,
		"account": localAccount, "time": t.Format("2006-01-02T15:04:05Z"), "region": region,
		"resources": res, "detail": detail,
	}
}

// busName accepts a bus name or ARN; empty is the default bus.
func busName(s string) string {
	if i := strings.Index(s, ":event-bus/"); i >= 0 && strings.HasPrefix(s, "arn:") {
		s = s[i+len(":event-bus/"):]
	}
	if s == "" {
		return "default"
	}
	return s
}

// publishEntry puts an event on a bus through kumo (for its id) and delivers
// it: the path of an event bus target.
func (e *events) publishEntry(ctx context.Context, region, bus string, event json.RawMessage) error {
	var ev map[string]any
	if err := json.Unmarshal(event, &ev); err != nil {
		return fmt.Errorf("the event is not a JSON object: %w", err)
	}
	detail, _ := json.Marshal(ev["detail"])
	src, _ := ev["source"].(string)
	dt, _ := ev["detail-type"].(string)
	b, _, err := e.kc.call(ctx, http.MethodPost, "/", "events", "AWSEvents.PutEvents", map[string]any{
		"Entries": []map[string]any{{"Source": src, "DetailType": dt, "Detail": string(detail), "EventBusName": bus}},
	})
	if err != nil {
		return err
	}
	var out struct {
		Entries []struct{ EventId, ErrorCode, ErrorMessage string }
	}
	if err := json.Unmarshal(b, &out); err != nil || len(out.Entries) != 1 || out.Entries[0].EventId == "" {
		return fmt.Errorf("PutEvents on bus %s: %s", bus, b)
	}
	ev["id"] = out.Entries[0].EventId
	if e.archive != nil {
		e.archive(region, bus, ev)
	}
	go e.dispatch(context.Background(), region, bus, ev)
	return nil
}

// dispatch delivers ev to the targets of every enabled rule of bus whose
// pattern it matches.
func (e *events) dispatch(ctx context.Context, region, bus string, ev map[string]any) {
	e.dispatchTo(ctx, region, bus, ev, nil)
}

// dispatchTo is dispatch limited to the rules whose ARNs are in only (all
// when only is empty): a replay's FilterArns.
func (e *events) dispatchTo(ctx context.Context, region, bus string, ev map[string]any, only []string) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	rules, err := e.rules(ctx, bus)
	if err != nil {
		e.lg.Printf("events: rules of bus %s: %v", bus, err)
		return
	}
	// Match on the JSON form, as EventBridge does (numbers as float64).
	raw, _ := json.Marshal(ev)
	var doc map[string]any
	_ = json.Unmarshal(raw, &doc)
	for _, r := range rules {
		if r.State == "DISABLED" || r.EventPattern == "" || len(only) > 0 && !contains(only, r.Arn) {
			continue
		}
		ok, err := matchPattern(r.EventPattern, doc)
		if err != nil {
			e.lg.Printf("events: rule %s: %v", r.Name, err)
			continue
		}
		if ok {
			e.deliverRule(ctx, region, r, raw)
		}
	}
}

// deliverRule sends event (JSON) to each target of rule r, shaped by the
// target's input settings.
func (e *events) deliverRule(ctx context.Context, region string, r ebRule, event []byte) int {
	targets, err := e.targets(ctx, busName(r.EventBusName), r.Name)
	if err != nil {
		e.lg.Printf("events: targets of rule %s: %v", r.Name, err)
		return 0
	}
	n := 0
	for _, t := range targets {
		d, err := DestOf(t.Arn)
		if err != nil {
			e.lg.Printf("events: rule %s target %s: %v", r.Name, t.ID, err)
			continue
		}
		if d.Region == "" {
			d.Region = region
		}
		body, err := targetInput(t, event)
		if err != nil {
			e.lg.Printf("events: rule %s target %s: %v", r.Name, t.ID, err)
			continue
		}
		if err := e.d.Deliver(ctx, d, Message{Body: body}); err != nil {
			e.lg.Printf("events: rule %s: %v", r.Name, err)
			continue
		}
		n++
	}
	return n
}

// targetInput is what a target receives: its constant Input, the part of
// the event at InputPath, the InputTransformer's template filled in, or the
// event.
func targetInput(t ebTarget, event []byte) ([]byte, error) {
	switch {
	case t.Input != "":
		return []byte(t.Input), nil
	case t.InputPath != "":
		var doc any
		if err := json.Unmarshal(event, &doc); err != nil {
			return nil, err
		}
		return json.Marshal(jsonPath(doc, t.InputPath))
	case t.InputTransformer != nil:
		var doc any
		if err := json.Unmarshal(event, &doc); err != nil {
			return nil, err
		}
		out := t.InputTransformer.InputTemplate
		for k, p := range t.InputTransformer.InputPathsMap {
			v := jsonPath(doc, p)
			var rep string
			if s, ok := v.(string); ok {
				// A placeholder inside quotes takes the bare string; elsewhere, JSON.
				rep = s
				if !strings.Contains(out, `"<`+k+`>"`) {
					b, _ := json.Marshal(s)
					rep = string(b)
				}
			} else {
				b, _ := json.Marshal(v)
				rep = string(b)
			}
			out = strings.ReplaceAll(out, "<"+k+">", rep)
		}
		return []byte(out), nil
	}
	return event, nil
}

// jsonPath reads a simple $.a.b path.
func jsonPath(doc any, p string) any {
	p = strings.TrimPrefix(strings.TrimPrefix(p, "$"), ".")
	if p == "" {
		return doc
	}
	for _, k := range strings.Split(p, ".") {
		m, ok := doc.(map[string]any)
		if !ok {
			return nil
		}
		doc = m[k]
	}
	return doc
}

func (e *events) rules(ctx context.Context, bus string) ([]ebRule, error) {
	// kumo returns at most Limit rules and no NextToken: ask for all.
	b, _, err := e.kc.call(ctx, http.MethodPost, "/", "events", "AWSEvents.ListRules",
		map[string]any{"EventBusName": bus, "Limit": 10000})
	if err != nil {
		return nil, err
	}
	var out struct{ Rules []ebRule }
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, err
	}
	return out.Rules, nil
}

func (e *events) targets(ctx context.Context, bus, rule string) ([]ebTarget, error) {
	b, _, err := e.kc.call(ctx, http.MethodPost, "/", "events", "AWSEvents.ListTargetsByRule",
		map[string]any{"Rule": rule, "EventBusName": bus, "Limit": 10000})
	if err != nil {
		return nil, err
	}
	var out struct{ Targets []ebTarget }
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, err
	}
	return out.Targets, nil
}

// runSchedules fires the default bus's schedule rules on time until ctx is
// done. A rule seen for the first time (or with a new expression) fires at
// its next time after now, as on AWS.
func (e *events) runSchedules(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		e.tick(ctx, time.Now())
	}
}

func (e *events) tick(ctx context.Context, now time.Time) {
	lctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	rules, err := e.rules(lctx, "default")
	cancel()
	if err != nil {
		if ctx.Err() == nil {
			e.lg.Printf("schedules: %v", err)
		}
		return
	}
	e.mu.Lock()
	seen := map[string]bool{}
	var due []ebRule
	for _, r := range rules {
		if r.ScheduleExpression == "" || r.State == "DISABLED" {
			continue
		}
		seen[r.Arn] = true
		st := e.schedules[r.Arn]
		if st == nil || st.expr != r.ScheduleExpression {
			s, err := parseSchedule(r.ScheduleExpression)
			if err != nil {
				if st == nil || st.expr != r.ScheduleExpression {
					e.lg.Printf("schedules: rule %s: %v (not fired)", r.Name, err)
				}
				e.schedules[r.Arn] = &scheduled{expr: r.ScheduleExpression}
				continue
			}
			st = &scheduled{expr: r.ScheduleExpression, s: s, next: s.next(now)}
			e.schedules[r.Arn] = st
			e.lg.Printf("schedules: rule %s (%s) fires next at %s", r.Name, r.ScheduleExpression, st.next.UTC().Format(time.RFC3339))
			continue
		}
		if st.s == nil || st.next.IsZero() || now.Before(st.next) {
			continue
		}
		st.next = st.s.next(st.next)
		if !st.next.After(now) {
			st.next = st.s.next(now) // the engine was asleep: no burst of catch-up firings
		}
		due = append(due, r)
	}
	for arn := range e.schedules {
		if !seen[arn] {
			delete(e.schedules, arn)
		}
	}
	e.mu.Unlock()
	for _, r := range due {
		go e.fireRule(context.WithoutCancel(ctx), "", r)
	}
}

// fireRule delivers rule r's event now: EventBridge's Scheduled Event (or
// each target's constant input). It returns the number of targets reached.
func (e *events) fireRule(ctx context.Context, region string, r ebRule) int {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if region == "" {
		region = arnRegion(r.Arn)
	}
	ev := map[string]any{
		"version": "0", "id": newUUID(), "detail-type": "Scheduled Event", "source": "aws.events",
		"account": localAccount, "time": time.Now().UTC().Format("2006-01-02T15:04:05Z"), "region": region,
		"resources": []string{r.Arn}, "detail": map[string]any{},
	}
	raw, _ := json.Marshal(ev)
	return e.deliverRule(ctx, region, r, raw)
}

func (e *events) serveFire(w http.ResponseWriter, req *http.Request) {
	var in struct{ Rule, Bus string }
	if err := json.NewDecoder(req.Body).Decode(&in); err != nil || in.Rule == "" {
		http.Error(w, `want {"rule": NAME, "bus": BUS}`, http.StatusBadRequest)
		return
	}
	bus := busName(in.Bus)
	rules, err := e.rules(req.Context(), bus)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	for _, r := range rules {
		if r.Name == in.Rule {
			if r.EventBusName == "" {
				r.EventBusName = bus
			}
			n := e.fireRule(req.Context(), "", r)
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(map[string]int{"targets": n})
			return
		}
	}
	http.Error(w, fmt.Sprintf("no rule %q on event bus %s", in.Rule, bus), http.StatusNotFound)
}

func arnRegion(arn string) string {
	if p := strings.Split(arn, ":"); len(p) > 3 && p[3] != "" {
		return p[3]
	}
	return "us-east-1"
}

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
