package state

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"
)

// Session is the apply executor's handle on state: every method changes the
// document and makes the change durable through the backend (incrementing
// Serial) before it returns, so what is recorded never lags behind what was
// done by more than the calls in flight. It is safe for concurrent use; writes
// are serialised, and changes made concurrently are committed together (see
// update). When a write fails the in-memory document keeps its previous
// value, so Doc always returns what the backend last accepted.
//
// The document is held as maps by address, so recording one change costs the
// size of that change, not of the state: on a backend that implements
// Appender (Local) each batch of changes is appended to a log and the whole
// document is rewritten only when the log has grown as large as the document
// (and by Close); on others each batch rewrites the document.
type Session struct {
	mu      sync.Mutex // guards the fields below up to queue
	ctx     context.Context
	backend Backend
	head    Document // everything but Resources and Journal
	res     map[string]Resource
	journal map[string]Intent
	// whole is set once this session has written the whole document: the
	// log (if any) continues from a document this session knows is stored.
	whole   bool
	pending int // changes appended to the log since the last whole write

	qmu      sync.Mutex // guards queue and flushing
	queue    []*pendingChange
	flushing bool
}

// Appender is implemented by backends that can make a batch of changes
// durable without rewriting the whole document.
type Appender interface {
	// Append durably records changes as the step from serial-1 to serial of
	// the document of that lineage, which the backend last wrote whole (or
	// read) and has appended to since. After a whole Write the log starts
	// again.
	Append(ctx context.Context, lineage string, serial uint64, changes []Change) error
	// LogSize is the bytes appended since the last whole write, and the size
	// of that write: the session compacts when the first reaches the second.
	LogSize() (log, whole int64)
}

// Change is one recorded change, as a log entry: exactly one field is set.
type Change struct {
	Upsert  *Resource `json:"upsert,omitempty"`  // record (and resolve its intent)
	Remove  string    `json:"remove,omitempty"`  // forget resource and intent
	Intent  *Intent   `json:"intent,omitempty"`  // journal a create
	Resolve string    `json:"resolve,omitempty"` // forget an intent
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
	s := &Session{ctx: context.WithoutCancel(ctx), backend: b, head: *doc,
		res: make(map[string]Resource, len(doc.Resources)), journal: make(map[string]Intent, len(doc.Journal))}
	s.head.Resources, s.head.Journal = nil, nil
	for _, r := range doc.Resources {
		s.res[r.Addr] = r
	}
	for _, in := range doc.Journal {
		s.journal[in.Addr] = in
	}
	return s, nil
}

// Doc returns a deep copy of the document as last written.
func (s *Session) Doc() *Document {
	s.mu.Lock()
	defer s.mu.Unlock()
	return copyDoc(s.docLocked())
}

// docLocked assembles the document from the maps; it shares attribute
// values with the session, which never modifies a value it holds.
func (s *Session) docLocked() *Document {
	d := s.head
	d.Resources = make([]Resource, 0, len(s.res))
	for _, r := range s.res {
		d.Resources = append(d.Resources, r)
	}
	slices.SortFunc(d.Resources, func(a, b Resource) int { return strings.Compare(a.Addr, b.Addr) })
	d.Journal = nil
	for _, in := range s.journal {
		d.Journal = append(d.Journal, in)
	}
	slices.SortFunc(d.Journal, func(a, b Intent) int { return strings.Compare(a.Addr, b.Addr) })
	return &d
}

// Close writes the whole document if changes were only appended to a log
// since the last whole write, so the state file on its own is complete after
// a command that finished. A session that is not closed (a killed process)
// loses nothing: the next read replays the log.
func (s *Session) Close() error {
	s.qmu.Lock()
	defer s.qmu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	err := error(nil)
	if s.pending != 0 {
		err = s.writeWholeLocked()
	}
	// The S3 backend deletes the change objects a whole write covers in
	// the background: a finished command leaves the document alone.
	if c, ok := s.backend.(interface{ waitCleanup() }); ok {
		c.waitCleanup()
	}
	return err
}

// writeWholeLocked writes the document as it is now, under its current serial.
func (s *Session) writeWholeLocked() error {
	if err := s.backend.Write(s.ctx, s.docLocked()); err != nil {
		return fmt.Errorf("state: write %s: %w", s.backend, err)
	}
	s.whole, s.pending = true, 0
	return nil
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
	return s.update("record "+r.Addr, Change{Upsert: &r})
}

// Remove forgets the resource at addr (and any intent for it). Removing an
// address that is not recorded changes nothing and writes nothing.
func (s *Session) Remove(addr string) error {
	return s.update("remove "+addr, Change{Remove: addr})
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
	return s.update("journal "+i.Addr, Change{Intent: &i})
}

// ResolveIntent removes the intent for addr (the create failed cleanly, or an
// adopted resource was recorded). Resolving an absent intent writes nothing.
func (s *Session) ResolveIntent(addr string) error {
	return s.update("resolve intent "+addr, Change{Resolve: addr})
}

// SetOutputs replaces all recorded outputs. It writes the whole document
// (outputs are set once per apply).
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
	return s.enqueue(&pendingChange{what: "record outputs", head: func(d *Document) bool {
		d.Outputs = norm
		return true
	}})
}

// SetInputs replaces the recorded upstream inputs (Document.Inputs).
func (s *Session) SetInputs(inputs map[string]string) error {
	var m map[string]string
	if len(inputs) > 0 {
		m = maps.Clone(inputs)
	}
	return s.enqueue(&pendingChange{what: "record inputs", head: func(d *Document) bool {
		d.Inputs = m
		return true
	}})
}

// update queues change and returns once a write that includes it has
// succeeded (or failed). Changes that arrive while a write is in progress are
// committed together by the next one (group commit): the apply executor's
// parallel operations then cost one write per batch instead of one each, and
// every caller still returns only when its change is durable.
func (s *Session) update(what string, c Change) error {
	return s.enqueue(&pendingChange{what: what, change: c})
}

func (s *Session) enqueue(p *pendingChange) error {
	p.done = make(chan error, 1)
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
	change Change
	// head, when set, is the change instead: one to the document's other
	// fields (outputs, target), which is written whole. It reports whether
	// it changed anything.
	head func(*Document) bool
	done chan error
}

// undo remembers what a batch replaced, so a failed write leaves the
// session as the backend last accepted it.
type undo struct {
	res     map[string]*Resource // nil: was absent
	journal map[string]*Intent
}

func (u *undo) saveRes(m map[string]Resource, addr string) {
	if _, done := u.res[addr]; done {
		return
	}
	if r, ok := m[addr]; ok {
		u.res[addr] = &r
	} else {
		u.res[addr] = nil
	}
}

func (u *undo) saveIntent(m map[string]Intent, addr string) {
	if _, done := u.journal[addr]; done {
		return
	}
	if in, ok := m[addr]; ok {
		u.journal[addr] = &in
	} else {
		u.journal[addr] = nil
	}
}

// apply makes c in the maps and reports whether it changed anything.
func (s *Session) apply(c Change, u *undo) bool {
	switch {
	case c.Upsert != nil:
		u.saveRes(s.res, c.Upsert.Addr)
		u.saveIntent(s.journal, c.Upsert.Addr)
		s.res[c.Upsert.Addr] = *c.Upsert
		delete(s.journal, c.Upsert.Addr)
		return true
	case c.Intent != nil:
		u.saveIntent(s.journal, c.Intent.Addr)
		s.journal[c.Intent.Addr] = *c.Intent
		return true
	case c.Remove != "":
		_, r := s.res[c.Remove]
		_, j := s.journal[c.Remove]
		u.saveRes(s.res, c.Remove)
		u.saveIntent(s.journal, c.Remove)
		delete(s.res, c.Remove)
		delete(s.journal, c.Remove)
		return r || j
	case c.Resolve != "":
		_, j := s.journal[c.Resolve]
		u.saveIntent(s.journal, c.Resolve)
		delete(s.journal, c.Resolve)
		return j
	}
	return false
}

func (s *Session) rollback(u *undo) {
	for a, r := range u.res {
		if r == nil {
			delete(s.res, a)
		} else {
			s.res[a] = *r
		}
	}
	for a, in := range u.journal {
		if in == nil {
			delete(s.journal, a)
		} else {
			s.journal[a] = *in
		}
	}
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
		err := s.commitLocked(batch)
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

// commitLocked applies batch and makes it durable: appended to the backend's
// log when it has one and this session has written the whole document once
// (so the log follows a document it knows), else written whole. On failure
// the maps are rolled back.
func (s *Session) commitLocked(batch []*pendingChange) error {
	u := &undo{res: map[string]*Resource{}, journal: map[string]*Intent{}}
	prevHead := s.head // its maps are replaced, never modified
	changed, headChanged := false, false
	var changes []Change
	for _, p := range batch {
		if p.head != nil {
			if p.head(&s.head) {
				changed, headChanged = true, true
			}
			continue
		}
		if s.apply(p.change, u) {
			changed = true
			changes = append(changes, p.change)
		}
	}
	if !changed {
		return nil
	}
	s.head.Serial++
	app, ok := s.backend.(Appender)
	var err error
	if ok && s.whole && !headChanged {
		if err = app.Append(s.ctx, s.head.Lineage, s.head.Serial, changes); err == nil {
			s.pending += len(changes)
			// Rewrite the whole document once the log is as large as it:
			// each byte of state is then rewritten a bounded number of
			// times however many changes are made (amortised linear).
			if log, whole := app.LogSize(); log >= max(whole, minCompact) {
				// The changes are already durable in the log; a failed
				// compaction only leaves the log longer (Close tries again).
				_ = s.writeWholeLocked()
			}
		}
	} else {
		d := s.docLocked()
		if len(d.Journal) == 0 {
			d.Journal = nil
		}
		if err = s.backend.Write(s.ctx, d); err == nil {
			s.whole, s.pending = true, 0
		}
	}
	if err != nil {
		s.head = prevHead
		s.rollback(u)
	}
	return err
}

// minCompact keeps small states from being rewritten every few changes.
const minCompact = 64 << 10

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
	out.Inputs = maps.Clone(d.Inputs)
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
