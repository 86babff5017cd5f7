package localstack

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// EventBridge archives and replays, which kumo lacks: the engine keeps the
// events put on each archived bus (those matching the archive's pattern)
// and replays a time window of them to the bus's rules (or the rules named
// in FilterArns), each event marked with "replay-name" as EventBridge does.
// Replayed events are not archived again.
type archives struct {
	ev   *events
	file string

	mu       sync.Mutex
	archives map[string]*archive
	replays  map[string]*replay
}

type archive struct {
	Name, Arn, EventSourceArn, Description, EventPattern string
	RetentionDays                                        int
	Created                                              time.Time
	Events                                               []archivedEvent
}

type archivedEvent struct {
	Time  time.Time       // the event's time
	Event json.RawMessage // the envelope
}

type replay struct {
	Name, Arn, ArchiveArn, Description string
	DestinationArn                     string
	FilterArns                         []string
	From, To                           time.Time
	State, StateReason                 string
	Started, Ended, LastReplayed       time.Time
}

func newArchives(ev *events, dataDir string) *archives {
	a := &archives{ev: ev, archives: map[string]*archive{}, replays: map[string]*replay{}}
	if dataDir != "" {
		a.file = filepath.Join(dataDir, "evdeploy-archives.json")
		if b, err := os.ReadFile(a.file); err == nil {
			_ = json.Unmarshal(b, &a.archives)
		}
	}
	ev.archive = a.capture
	return a
}

func (a *archives) saveLocked() {
	if a.file == "" {
		return
	}
	b, _ := json.Marshal(a.archives)
	tmp := a.file + ".tmp"
	if os.WriteFile(tmp, b, 0o644) == nil {
		_ = os.Rename(tmp, a.file)
	}
}

var archiveOps = map[string]bool{
	"CreateArchive": true, "DescribeArchive": true, "UpdateArchive": true, "DeleteArchive": true, "ListArchives": true,
	"StartReplay": true, "DescribeReplay": true, "ListReplays": true, "CancelReplay": true,
}

func (a *archives) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		op, ok := strings.CutPrefix(req.Header.Get("X-Amz-Target"), "AWSEvents.")
		if !ok || !archiveOps[op] {
			next.ServeHTTP(w, req)
			return
		}
		var in map[string]any
		body, _ := io.ReadAll(req.Body)
		d := json.NewDecoder(bytes.NewReader(body))
		if len(bytes.TrimSpace(body)) > 0 && d.Decode(&in) != nil {
			ebError(w, http.StatusBadRequest, "ValidationException", "the request is not JSON")
			return
		}
		if in == nil {
			in = map[string]any{}
		}
		out, err := a.call(signingRegion(req), op, in)
		if err != nil {
			ebError(w, err.status, err.code, err.msg)
			return
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		b, _ := json.Marshal(toJSON(out))
		_, _ = w.Write(b)
	})
}

func ebError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-Errortype", code)
	w.WriteHeader(status)
	b, _ := json.Marshal(map[string]string{"__type": code, "message": msg})
	_, _ = w.Write(b)
}

func notFound(what string) *cwErr {
	return &cwErr{http.StatusBadRequest, "ResourceNotFoundException", what + " does not exist."}
}

func epoch(m map[string]any, k string) (time.Time, bool) {
	f, ok := m[k].(float64)
	if !ok {
		return time.Time{}, false
	}
	return time.UnixMilli(int64(f * 1000)).UTC(), true
}

func (a *archives) call(region, op string, in map[string]any) (map[string]any, *cwErr) {
	if region == "" {
		region = "us-east-1"
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	switch op {
	case "CreateArchive":
		name := str(in, "ArchiveName")
		if name == "" || len(name) > 48 {
			return nil, &cwErr{http.StatusBadRequest, "ValidationException", "ArchiveName must be 1 to 48 characters."}
		}
		if a.archives[name] != nil {
			return nil, &cwErr{http.StatusBadRequest, "ResourceAlreadyExistsException", "Archive " + name + " already exists."}
		}
		src := str(in, "EventSourceArn")
		if !strings.Contains(src, ":event-bus/") {
			return nil, &cwErr{http.StatusBadRequest, "ValidationException", "EventSourceArn must be an event bus ARN."}
		}
		days, _ := num(in, "RetentionDays")
		ar := &archive{Name: name, Arn: fmt.Sprintf("arn:aws:events:%s:%s:archive/%s", region, localAccount, name),
			EventSourceArn: src, Description: str(in, "Description"), EventPattern: str(in, "EventPattern"),
			RetentionDays: int(days), Created: time.Now().UTC()}
		a.archives[name] = ar
		a.saveLocked()
		return map[string]any{"ArchiveArn": ar.Arn, "State": "ENABLED", "CreationTime": ar.Created}, nil
	case "DescribeArchive", "UpdateArchive", "DeleteArchive":
		name := str(in, "ArchiveName")
		ar := a.archives[name]
		if ar == nil {
			return nil, notFound("Archive " + name)
		}
		switch op {
		case "UpdateArchive":
			if d, ok := num(in, "RetentionDays"); ok {
				ar.RetentionDays = int(d)
			}
			if _, ok := in["Description"]; ok {
				ar.Description = str(in, "Description")
			}
			if _, ok := in["EventPattern"]; ok {
				ar.EventPattern = str(in, "EventPattern")
			}
			a.saveLocked()
			return map[string]any{"ArchiveArn": ar.Arn, "State": "ENABLED", "CreationTime": ar.Created}, nil
		case "DeleteArchive":
			delete(a.archives, name)
			a.saveLocked()
			return nil, nil
		}
		return ar.out(), nil
	case "ListArchives":
		list := []any{}
		for _, n := range sortedArchiveNames(a.archives) {
			ar := a.archives[n]
			if p := str(in, "NamePrefix"); !strings.HasPrefix(n, p) {
				continue
			}
			if src := str(in, "EventSourceArn"); src != "" && src != ar.EventSourceArn {
				continue
			}
			list = append(list, ar.out())
		}
		return map[string]any{"Archives": list}, nil
	case "StartReplay":
		name := str(in, "ReplayName")
		if name == "" || len(name) > 64 {
			return nil, &cwErr{http.StatusBadRequest, "ValidationException", "ReplayName must be 1 to 64 characters."}
		}
		if a.replays[name] != nil {
			return nil, &cwErr{http.StatusBadRequest, "ResourceAlreadyExistsException", "Replay " + name + " already exists."}
		}
		var ar *archive
		for _, x := range a.archives {
			if x.Arn == str(in, "EventSourceArn") {
				ar = x
			}
		}
		if ar == nil {
			return nil, notFound("Archive " + str(in, "EventSourceArn"))
		}
		from, ok1 := epoch(in, "EventStartTime")
		to, ok2 := epoch(in, "EventEndTime")
		if !ok1 || !ok2 || !from.Before(to) {
			return nil, &cwErr{http.StatusBadRequest, "ValidationException", "EventStartTime must be before EventEndTime."}
		}
		dest, _ := in["Destination"].(map[string]any)
		destArn := str(dest, "Arn")
		if destArn != ar.EventSourceArn {
			return nil, &cwErr{http.StatusBadRequest, "ValidationException", "Destination must be the archive's event bus " + ar.EventSourceArn + "."}
		}
		r := &replay{Name: name, Arn: fmt.Sprintf("arn:aws:events:%s:%s:replay/%s", region, localAccount, name),
			ArchiveArn: ar.Arn, Description: str(in, "Description"), DestinationArn: destArn, FilterArns: strs(dest, "FilterArns"),
			From: from, To: to, State: "STARTING", Started: time.Now().UTC()}
		a.replays[name] = r
		var evs []archivedEvent
		for _, e := range ar.Events {
			if !e.Time.Before(from) && e.Time.Before(to) {
				evs = append(evs, e)
			}
		}
		go a.run(region, r, evs)
		return map[string]any{"ReplayArn": r.Arn, "State": r.State, "ReplayStartTime": r.Started}, nil
	case "DescribeReplay", "CancelReplay":
		name := str(in, "ReplayName")
		r := a.replays[name]
		if r == nil {
			return nil, notFound("Replay " + name)
		}
		if op == "CancelReplay" {
			if r.State == "STARTING" || r.State == "RUNNING" {
				r.State = "CANCELLING"
			}
			return map[string]any{"ReplayArn": r.Arn, "State": r.State}, nil
		}
		return r.out(), nil
	case "ListReplays":
		list := []any{}
		var names []string
		for n := range a.replays {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			if p := str(in, "NamePrefix"); strings.HasPrefix(n, p) {
				list = append(list, a.replays[n].out())
			}
		}
		return map[string]any{"Replays": list}, nil
	}
	return nil, nil
}

func sortedArchiveNames(m map[string]*archive) []string {
	var out []string
	for n := range m {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func (ar *archive) out() map[string]any {
	size := 0
	for _, e := range ar.Events {
		size += len(e.Event)
	}
	m := map[string]any{"ArchiveName": ar.Name, "ArchiveArn": ar.Arn, "EventSourceArn": ar.EventSourceArn,
		"State": "ENABLED", "RetentionDays": float64(ar.RetentionDays), "CreationTime": ar.Created,
		"EventCount": float64(len(ar.Events)), "SizeBytes": float64(size)}
	if ar.Description != "" {
		m["Description"] = ar.Description
	}
	if ar.EventPattern != "" {
		m["EventPattern"] = ar.EventPattern
	}
	return m
}

func (r *replay) out() map[string]any {
	m := map[string]any{"ReplayName": r.Name, "ReplayArn": r.Arn, "EventSourceArn": r.ArchiveArn, "State": r.State,
		"EventStartTime": r.From, "EventEndTime": r.To, "ReplayStartTime": r.Started,
		"Destination": map[string]any{"Arn": r.DestinationArn, "FilterArns": anyList(r.FilterArns)}}
	if r.StateReason != "" {
		m["StateReason"] = r.StateReason
	}
	if !r.Ended.IsZero() {
		m["ReplayEndTime"] = r.Ended
	}
	if !r.LastReplayed.IsZero() {
		m["EventLastReplayedTime"] = r.LastReplayed
	}
	if r.Description != "" {
		m["Description"] = r.Description
	}
	return m
}

// capture archives an event put on bus (called for every event the engine
// dispatches), in each archive of that bus whose pattern it matches.
func (a *archives) capture(region, bus string, ev map[string]any) {
	if _, replayed := ev["replay-name"]; replayed {
		return
	}
	raw, _ := json.Marshal(ev)
	var doc map[string]any
	_ = json.Unmarshal(raw, &doc)
	t := time.Now().UTC()
	if s, ok := ev["time"].(string); ok {
		if p, err := time.Parse(time.RFC3339, s); err == nil {
			t = p
		}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	changed := false
	for _, ar := range a.archives {
		if busName(ar.EventSourceArn) != bus || arnRegion(ar.EventSourceArn) != region && arnRegion(ar.EventSourceArn) != "" {
			continue
		}
		if ar.EventPattern != "" {
			if ok, err := matchPattern(ar.EventPattern, doc); err != nil || !ok {
				continue
			}
		}
		if ar.RetentionDays > 0 { // forget what is past retention
			cut := time.Now().Add(-time.Duration(ar.RetentionDays) * 24 * time.Hour)
			i := sort.Search(len(ar.Events), func(i int) bool { return !ar.Events[i].Time.Before(cut) })
			ar.Events = ar.Events[i:]
		}
		ar.Events = append(ar.Events, archivedEvent{Time: t, Event: raw})
		changed = true
	}
	if changed {
		a.saveLocked()
	}
}

// run replays evs in order to the destination bus's rules.
func (a *archives) run(region string, r *replay, evs []archivedEvent) {
	a.mu.Lock()
	r.State = "RUNNING"
	filter := append([]string(nil), r.FilterArns...)
	bus := busName(r.DestinationArn)
	a.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	for _, e := range evs {
		a.mu.Lock()
		cancelled := r.State == "CANCELLING"
		a.mu.Unlock()
		if cancelled {
			break
		}
		var ev map[string]any
		if json.Unmarshal(e.Event, &ev) != nil {
			continue
		}
		ev["replay-name"] = r.Name
		a.ev.dispatchTo(ctx, region, bus, ev, filter)
		a.mu.Lock()
		r.LastReplayed = e.Time
		a.mu.Unlock()
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	r.Ended = time.Now().UTC()
	if r.State == "CANCELLING" {
		r.State = "CANCELLED"
		return
	}
	r.State = "COMPLETED"
}
