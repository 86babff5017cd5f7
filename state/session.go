package state

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// Session is the apply executor's handle on state: every method changes the
// document and writes it through the backend (incrementing Serial) before it
// returns, so what is recorded never lags behind what was done by more than
// the calls in flight. It is safe for concurrent use; writes are serialised,
// and changes made concurrently are committed together (see update). When a write fails the in-memory document keeps its previous
// value, so Doc always returns what the backend last accepted.
type Session struct {
	mu      sync.Mutex // guards doc
	ctx     context.Context
	backend Backend
	doc     *Document

	qmu      sync.Mutex // guards queue and flushing
	queue    []*pendingChange
	flushing bool
}

// Open reads the stage's document, or starts a new one (not written until the
// first change) when the backend has none. A stored document for another app
// or stage is refused.
func Open(ctx context.Context, b Backend, app, stage string) (*Session, error) {
	doc, err := b.Read(ctx)
	if err != nil {
		return nil, err
	}
	if doc == nil {
		doc = New(app, stage)
	} else if doc.App != app || doc.Stage != stage {
		return nil, fmt.Errorf("state %s belongs to app %q stage %q, not app %q stage %q",
			b, doc.App, doc.Stage, app, stage)
	}
	// Writes outlive a cancelled apply: when the user interrupts, operations
	// in flight finish and what they did must still be recorded.
	return &Session{ctx: context.WithoutCancel(ctx), backend: b, doc: doc}, nil
}

// Doc returns a deep copy of the document as last written.
func (s *Session) Doc() *Document {
	s.mu.Lock()
	defer s.mu.Unlock()
	return copyDoc(s.doc)
}

// Upsert records r, replacing any resource with the same Addr. The journal
// intent for r.Addr, if any, is resolved in the same write: the resource is
// recorded, so there is nothing left to adopt.
func (s *Session) Upsert(r Resource) error {
	if r.Addr == "" || r.Type == "" {
		return fmt.Errorf("state: upsert: resource needs an address and a type (got %q, %q)", r.Addr, r.Type)
	}
	attrs, err := normAttrs(r.Attrs)
	if err != nil {
		return fmt.Errorf("state: record %s: %w", r.Addr, err)
	}
	r.Attrs, r.Deps = attrs, cloneOrNil(r.Deps)
	return s.update("record "+r.Addr, func(d *Document) bool {
		i, found := slices.BinarySearchFunc(d.Resources, r.Addr, func(e Resource, addr string) int { return strings.Compare(e.Addr, addr) })
		if found {
			d.Resources[i] = r
		} else {
			d.Resources = slices.Insert(d.Resources, i, r)
		}
		d.Journal = slices.DeleteFunc(d.Journal, func(in Intent) bool { return in.Addr == r.Addr })
		return true
	})
}

// Remove forgets the resource at addr (and any intent for it). Removing an
// address that is not recorded changes nothing and writes nothing.
func (s *Session) Remove(addr string) error {
	return s.update("remove "+addr, func(d *Document) bool {
		n, m := len(d.Resources), len(d.Journal)
		d.Resources = slices.DeleteFunc(d.Resources, func(e Resource) bool { return e.Addr == addr })
		d.Journal = slices.DeleteFunc(d.Journal, func(in Intent) bool { return in.Addr == addr })
		return len(d.Resources) != n || len(d.Journal) != m
	})
}

// AddIntent journals a create before its API call, replacing an earlier
// intent for the same address. A zero Started is set to now.
func (s *Session) AddIntent(i Intent) error {
	if i.Addr == "" {
		return fmt.Errorf("state: add intent: no address")
	}
	if i.Started.IsZero() {
		i.Started = time.Now().UTC()
	}
	attrs, err := normAttrs(i.Attrs)
	if err != nil {
		return fmt.Errorf("state: journal %s: %w", i.Addr, err)
	}
	if len(attrs) == 0 {
		attrs = nil
	}
	i.Attrs, i.Deps = attrs, cloneOrNil(i.Deps)
	// Through the codec's time encoding, so the session holds what a re-read gives.
	if i.Started, err = roundTripTime(i.Started); err != nil {
		return fmt.Errorf("state: journal %s: %w", i.Addr, err)
	}
	return s.update("journal "+i.Addr, func(d *Document) bool {
		d.Journal = slices.DeleteFunc(d.Journal, func(in Intent) bool { return in.Addr == i.Addr })
		d.Journal = append(d.Journal, i)
		slices.SortFunc(d.Journal, func(a, b Intent) int { return strings.Compare(a.Addr, b.Addr) })
		return true
	})
}

// ResolveIntent removes the intent for addr (the create failed cleanly, or an
// adopted resource was recorded). Resolving an absent intent writes nothing.
func (s *Session) ResolveIntent(addr string) error {
	return s.update("resolve intent "+addr, func(d *Document) bool {
		n := len(d.Journal)
		d.Journal = slices.DeleteFunc(d.Journal, func(in Intent) bool { return in.Addr == addr })
		if len(d.Journal) == 0 {
			d.Journal = nil
		}
		return len(d.Journal) != n
	})
}

// SetOutputs replaces all recorded outputs.
func (s *Session) SetOutputs(outputs map[string]Output) error {
	var norm map[string]Output
	for name, o := range outputs {
		v, err := normAny(o.Value)
		if err != nil {
			return fmt.Errorf("state: output %s: %w", name, err)
		}
		if norm == nil {
			norm = make(map[string]Output, len(outputs))
		}
		norm[name] = Output{Value: v, Sensitive: o.Sensitive}
	}
	return s.update("record outputs", func(d *Document) bool {
		d.Outputs = norm
		return true
	})
}

// update queues change and returns once a write that includes it has
// succeeded (or failed). Changes that arrive while a write is in progress are
// committed together by the next one (group commit): the apply executor's
// parallel operations then cost one document write per batch instead of one
// each, and every caller still returns only when its change is durable.
//
// Each write applies its batch to a new version of the document; only a
// successful write makes it current, and a failed one fails every change in
// it. change reports whether it changed anything; a batch that changes
// nothing writes nothing. The new version gets its own slices but shares the
// resources' attribute maps with the old one: the session never modifies a
// value it holds (callers' values are normalised into fresh ones first, and
// Doc hands out deep copies), so a write costs one encode, not a copy.
func (s *Session) update(what string, change func(*Document) bool) error {
	p := &pendingChange{what: what, change: change, done: make(chan error, 1)}
	s.qmu.Lock()
	s.queue = append(s.queue, p)
	lead := !s.flushing
	s.flushing = true
	s.qmu.Unlock()
	if lead {
		s.flush()
	}
	return <-p.done
}

// pendingChange is one caller's change waiting for a write.
type pendingChange struct {
	what   string
	change func(*Document) bool
	done   chan error
}

// flush writes queued changes, batch after batch, until the queue is empty.
// One caller at a time runs it (the one that found no flush in progress).
func (s *Session) flush() {
	for {
		s.qmu.Lock()
		batch := s.queue
		s.queue = nil
		if len(batch) == 0 {
			s.flushing = false
			s.qmu.Unlock()
			return
		}
		s.qmu.Unlock()

		s.mu.Lock()
		next := *s.doc
		next.Resources = slices.Clone(s.doc.Resources)
		next.Journal = slices.Clone(s.doc.Journal)
		changed := false
		for _, p := range batch {
			if p.change(&next) {
				changed = true
			}
		}
		var err error
		if changed {
			if len(next.Journal) == 0 {
				next.Journal = nil
			}
			next.Serial++
			if err = s.backend.Write(s.ctx, &next); err == nil {
				s.doc = &next
			}
		}
		s.mu.Unlock()
		for _, p := range batch {
			if err != nil {
				p.done <- fmt.Errorf("state: %s: %w", p.what, err)
			} else {
				p.done <- nil
			}
		}
	}
}

func cloneOrNil(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return slices.Clone(s)
}

// normAttrs converts attribute values into the types the codec decodes them
// to (whole numbers int64, []string as []any, named map types as
// map[string]any), deep-copying them, so the session's document equals what a
// fresh read of the backend gives and shares nothing with the caller.
func normAttrs(m map[string]any) (map[string]any, error) {
	if m == nil {
		return nil, nil
	}
	v, err := normAny(m)
	if err != nil {
		return nil, err
	}
	out, _ := v.(map[string]any)
	return out, nil
}

func normAny(v any) (any, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var out any
	if err := dec.Decode(&out); err != nil {
		return nil, err
	}
	return normValue(out)
}

func roundTripTime(t time.Time) (time.Time, error) {
	data, err := json.Marshal(t)
	if err != nil {
		return time.Time{}, err
	}
	var out time.Time
	err = json.Unmarshal(data, &out)
	return out, err
}

// copyDoc deep-copies a document already in canonical form (decoded or
// normalised): slices, maps and nested JSON values.
func copyDoc(d *Document) *Document {
	out := *d
	out.Resources = make([]Resource, len(d.Resources))
	for i, r := range d.Resources {
		r.Attrs = copyMap(r.Attrs)
		r.Deps = slices.Clone(r.Deps)
		out.Resources[i] = r
	}
	out.Journal = nil
	for _, in := range d.Journal {
		in.Attrs = copyMap(in.Attrs)
		in.Deps = slices.Clone(in.Deps)
		out.Journal = append(out.Journal, in)
	}
	if d.Outputs != nil {
		out.Outputs = make(map[string]Output, len(d.Outputs))
		for k, o := range d.Outputs {
			o.Value = copyValue(o.Value)
			out.Outputs[k] = o
		}
	}
	return &out
}

func copyMap(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = copyValue(v)
	}
	return out
}

func copyValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		return copyMap(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = copyValue(e)
		}
		return out
	}
	return v
}
