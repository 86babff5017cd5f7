package planner

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/evdeploy/evdeploy/state"
)

// This file holds the in-memory doubles the engine tests run against (after
// Chalice's InMemoryRemoteState): a fake cloud whose handlers record every
// call and can inject errors, throttling, propagation delays and latency, and
// a StateWriter that keeps a state.Document. Both write to one shared log, so
// tests can check the order of journal writes and API calls.

type recorder struct {
	mu  sync.Mutex
	log []string
}

func (r *recorder) add(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.log = append(r.log, fmt.Sprintf(format, args...))
}

func (r *recorder) entries() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.log...)
}

// fault is an injected behaviour for one operation key ("create <name>",
// "update <id>", "delete <id>", "read <id>").
type fault struct {
	err       error // returned every time (after throttles/propagation)
	throttles int   // first n calls return ErrThrottled
	propagate int   // first n calls return ErrPropagating (-1: forever)
}

type fakeCloud struct {
	rec *recorder

	mu        sync.Mutex
	resources map[string]map[string]Attrs // type → id → attrs
	faults    map[string]*fault
	omit      map[string][]string // type → attributes Read leaves out
	latency   time.Duration
	inflight  int
	maxFlight int
	seq       int
	mutations int
}

func newFakeCloud(rec *recorder) *fakeCloud {
	return &fakeCloud{rec: rec, resources: map[string]map[string]Attrs{}, faults: map[string]*fault{}, omit: map[string][]string{}}
}

// fakeSchemas are the test resource types: "name" is the identity, "arn" is
// computed, "size" forces replacement, "code_path" is write-only; store and
// queue hold data; mapping has a service-assigned id (Finder).
var fakeSchemas = map[string]Schema{
	"fake_role":    {Type: "fake_role", ForceNew: []string{"name"}, Computed: []string{"arn"}},
	"fake_func":    {Type: "fake_func", ForceNew: []string{"name"}, Computed: []string{"arn"}, WriteOnly: []string{"code_path"}, NoDiff: []string{"build_dir"}},
	"fake_store":   {Type: "fake_store", ForceNew: []string{"name", "size"}, Computed: []string{"arn"}, HoldsData: true},
	"fake_queue":   {Type: "fake_queue", ForceNew: []string{"name"}, Computed: []string{"arn", "url"}, HoldsData: true},
	"fake_mapping": {Type: "fake_mapping", ForceNew: []string{"function", "source"}, Computed: []string{"uuid"}},
}

func (fc *fakeCloud) registry() Registry {
	reg := Registry{}
	for t, s := range fakeSchemas {
		h := &fakeHandler{cloud: fc, schema: s}
		if t == "fake_mapping" {
			reg[t] = &fakeFinder{h}
		} else {
			reg[t] = h
		}
	}
	return reg
}

// put stores a resource as if created outside the engine (or before a crash).
func (fc *fakeCloud) put(typ, id string, a Attrs) {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	if fc.resources[typ] == nil {
		fc.resources[typ] = map[string]Attrs{}
	}
	fc.resources[typ][id] = a.Norm()
}

func (fc *fakeCloud) get(typ, id string) (Attrs, bool) {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	a, ok := fc.resources[typ][id]
	return a, ok
}

func (fc *fakeCloud) setFault(key string, f *fault) {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	fc.faults[key] = f
}

// enter runs the common part of every call: concurrency accounting, latency,
// and injected faults.
func (fc *fakeCloud) enter(ctx context.Context, key string, mutating bool) (func(), error) {
	fc.rec.add("call %s", key)
	fc.mu.Lock()
	fc.inflight++
	fc.maxFlight = max(fc.maxFlight, fc.inflight)
	if mutating {
		fc.mutations++
	}
	f := fc.faults[key]
	var err error
	if f != nil {
		switch {
		case f.throttles > 0:
			f.throttles--
			err = fmt.Errorf("rate exceeded: %w", ErrThrottled)
		case f.propagate != 0:
			if f.propagate > 0 {
				f.propagate--
			}
			err = fmt.Errorf("the role defined for the function cannot be assumed by Lambda: %w", ErrPropagating)
		default:
			err = f.err
		}
	}
	lat := fc.latency
	fc.mu.Unlock()
	leave := func() {
		fc.mu.Lock()
		fc.inflight--
		fc.mu.Unlock()
	}
	// Injected errors return at once; successful calls take the latency, so
	// a test knows which of two concurrent calls ends first.
	if err != nil {
		leave()
		return nil, err
	}
	if lat > 0 {
		select {
		case <-time.After(lat):
		case <-ctx.Done():
		}
	}
	return leave, nil
}

type fakeHandler struct {
	cloud  *fakeCloud
	schema Schema
}

func (h *fakeHandler) Schema() Schema { return h.schema }

func (h *fakeHandler) Read(ctx context.Context, id string, prior Attrs) (Attrs, bool, error) {
	leave, err := h.cloud.enter(ctx, "read "+id, false)
	if err != nil {
		return nil, false, err
	}
	defer leave()
	a, ok := h.cloud.get(h.schema.Type, id)
	if !ok {
		return nil, false, nil
	}
	out := Attrs{}
	for k, v := range a {
		if !slices.Contains(h.cloud.omit[h.schema.Type], k) && !slices.Contains(h.schema.WriteOnly, k) {
			out[k] = v
		}
	}
	return out, true, nil
}

func (h *fakeHandler) newID(desired Attrs) string {
	if h.schema.Type == "fake_mapping" {
		h.cloud.mu.Lock()
		defer h.cloud.mu.Unlock()
		h.cloud.seq++
		return fmt.Sprintf("uuid-%d", h.cloud.seq)
	}
	return desired.String("name")
}

func (h *fakeHandler) Create(ctx context.Context, desired Attrs) (string, Attrs, error) {
	for k, v := range desired {
		if _, bad := v.(Ref); bad {
			return "", nil, fmt.Errorf("attribute %s is an unresolved Ref", k)
		}
		if _, bad := v.(*Expr); bad {
			return "", nil, fmt.Errorf("attribute %s is an unresolved Expr", k)
		}
	}
	leave, err := h.cloud.enter(ctx, "create "+identity(desired), true)
	if err != nil {
		return "", nil, err
	}
	defer leave()
	if h.schema.Type != "fake_mapping" {
		if _, exists := h.cloud.get(h.schema.Type, desired.String("name")); exists {
			return "", nil, fmt.Errorf("%s: %w", desired.String("name"), ErrAlreadyExists)
		}
	}
	id := h.newID(desired)
	a := desired.Norm()
	a["arn"] = "arn:fake:" + h.schema.Type + ":" + identity(desired)
	if h.schema.Type == "fake_queue" {
		a["url"] = "https://queue/" + desired.String("name")
	}
	if h.schema.Type == "fake_mapping" {
		delete(a, "arn")
		a["uuid"] = id
	}
	h.cloud.put(h.schema.Type, id, a)
	return id, a.Norm(), nil
}

func identity(a Attrs) string {
	if n := a.String("name"); n != "" {
		return n
	}
	return a.String("function") + "<-" + a.String("source")
}

func (h *fakeHandler) Update(ctx context.Context, id string, prior, desired Attrs) (Attrs, error) {
	leave, err := h.cloud.enter(ctx, "update "+id, true)
	if err != nil {
		return nil, err
	}
	defer leave()
	a, ok := h.cloud.get(h.schema.Type, id)
	if !ok {
		return nil, fmt.Errorf("%s does not exist", id)
	}
	for _, k := range h.schema.ForceNew {
		if desired.Has(k) && !Equal(desired[k], a[k]) {
			return nil, fmt.Errorf("update of ForceNew attribute %s", k)
		}
	}
	n := overlay(a, desired.Norm(), nil)
	h.cloud.put(h.schema.Type, id, n)
	return n, nil
}

func (h *fakeHandler) Delete(ctx context.Context, id string, prior Attrs) error {
	leave, err := h.cloud.enter(ctx, "delete "+id, true)
	if err != nil {
		return err
	}
	defer leave()
	h.cloud.mu.Lock()
	defer h.cloud.mu.Unlock()
	delete(h.cloud.resources[h.schema.Type], id)
	return nil
}

type fakeFinder struct{ *fakeHandler }

func (f *fakeFinder) Find(ctx context.Context, desired Attrs) (string, Attrs, bool, error) {
	leave, err := f.cloud.enter(ctx, "find "+identity(desired), false)
	if err != nil {
		return "", nil, false, err
	}
	defer leave()
	f.cloud.mu.Lock()
	defer f.cloud.mu.Unlock()
	ids := make([]string, 0)
	for id := range f.cloud.resources[f.schema.Type] {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		a := f.cloud.resources[f.schema.Type][id]
		if a.String("function") == desired.String("function") && a.String("source") == desired.String("source") {
			return id, a, true, nil
		}
	}
	return "", nil, false, nil
}

// fakeState is a StateWriter over an in-memory document.
type fakeState struct {
	rec *recorder
	mu  sync.Mutex
	doc *state.Document
	// failOn makes the write for that address fail ("upsert <addr>").
	failOn string
}

func newFakeState(rec *recorder, doc *state.Document) *fakeState {
	if doc == nil {
		doc = &state.Document{Version: state.FormatVersion, Lineage: "lin-1"}
	}
	return &fakeState{rec: rec, doc: doc}
}

func (s *fakeState) write(what string, f func(d *state.Document)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if what == s.failOn {
		return errors.New("disk full")
	}
	s.rec.add("state %s", what)
	f(s.doc)
	s.doc.Serial++
	return nil
}

func (s *fakeState) Upsert(r state.Resource) error {
	return s.write("upsert "+r.Addr, func(d *state.Document) {
		i, found := slices.BinarySearchFunc(d.Resources, r.Addr, func(e state.Resource, a string) int { return strings.Compare(e.Addr, a) })
		if found {
			d.Resources[i] = r
		} else {
			d.Resources = slices.Insert(d.Resources, i, r)
		}
		// Like state.Session: recording a resource resolves its intent.
		d.Journal = slices.DeleteFunc(d.Journal, func(in state.Intent) bool { return in.Addr == r.Addr })
	})
}

func (s *fakeState) Remove(addr string) error {
	return s.write("remove "+addr, func(d *state.Document) {
		d.Resources = slices.DeleteFunc(d.Resources, func(e state.Resource) bool { return e.Addr == addr })
	})
}

func (s *fakeState) AddIntent(in state.Intent) error {
	return s.write("intent "+in.Addr, func(d *state.Document) {
		d.Journal = slices.DeleteFunc(d.Journal, func(e state.Intent) bool { return e.Addr == in.Addr })
		d.Journal = append(d.Journal, in)
	})
}

func (s *fakeState) ResolveIntent(addr string) error {
	s.mu.Lock()
	has := slices.ContainsFunc(s.doc.Journal, func(e state.Intent) bool { return e.Addr == addr })
	s.mu.Unlock()
	if !has {
		return nil
	}
	return s.write("resolve "+addr, func(d *state.Document) {
		d.Journal = slices.DeleteFunc(d.Journal, func(e state.Intent) bool { return e.Addr == addr })
	})
}

// snapshot returns a deep-enough copy of the document for the next Diff.
func (s *fakeState) snapshot() *state.Document {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := *s.doc
	d.Resources = slices.Clone(s.doc.Resources)
	d.Journal = slices.Clone(s.doc.Journal)
	return &d
}

func (s *fakeState) addrs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, r := range s.doc.Resources {
		out = append(out, r.Addr)
	}
	return out
}

// --- desired fixtures ---

func addr(block, typ string) ResourceAddr { return ResourceAddr{Block: block, Type: typ, Name: "main"} }

func res(a ResourceAddr, attrs Attrs, deps ...ResourceAddr) *DesiredResource {
	name := attrs.String("name")
	id := name
	if a.Type == "fake_mapping" {
		id = ""
	}
	return &DesiredResource{Addr: a, Attrs: attrs, DependsOn: deps, Name: name, ID: id}
}

func desiredOf(rs ...*DesiredResource) *Desired {
	d := &Desired{Resources: rs}
	sort.Slice(d.Resources, func(i, j int) bool { return d.Resources[i].Addr.String() < d.Resources[j].Addr.String() })
	return d
}

var (
	roleA    = addr("function.api", "fake_role")
	funcA    = addr("function.api", "fake_func")
	queueA   = addr("queue.orders", "fake_queue")
	storeA   = addr("table.orders", "fake_store")
	mappingA = addr("trigger.orders", "fake_mapping")
)

// appDesired is a small app: a queue, a table, a function with its role that
// reads both, and a mapping from the queue to the function.
func appDesired(memory int64) *Desired {
	return desiredOf(
		res(roleA, Attrs{"name": "shop-dev-api-role", "policy": `{"Statement":[]}`}),
		res(funcA, Attrs{
			"name":      "shop-dev-api",
			"role":      Ref{Resource: roleA, Attr: "arn"},
			"memory":    memory,
			"code_path": "/tmp/api.zip",
			"build_dir": "/tmp",
			"environment": map[string]any{
				"QUEUE": Ref{Resource: queueA, Attr: "url"},
				"TABLE": &Expr{Refs: []Ref{{Resource: storeA, Attr: "arn"}}, Text: "table.orders.arn",
					Eval: func(m map[Ref]any) (any, error) {
						return "table=" + m[Ref{Resource: storeA, Attr: "arn"}].(string), nil
					}},
			},
		}),
		res(queueA, Attrs{"name": "shop-dev-orders", "visibility": int64(60)}),
		res(storeA, Attrs{"name": "shop-dev-orders-t", "size": int64(1)}),
		res(mappingA, Attrs{"function": "shop-dev-api", "source": Ref{Resource: queueA, Attr: "arn"}, "batch": int64(10)}, funcA),
	)
}

func changeActions(p *Plan) map[string]string {
	m := map[string]string{}
	for _, c := range p.Changes {
		m[c.Addr.String()] = c.Action.String()
	}
	return m
}

// indexOf finds s in list; a trailing "*" matches any suffix.
func indexOf(list []string, s string) int {
	prefix, isPrefix := strings.CutSuffix(s, "*")
	for i, e := range list {
		if e == s || isPrefix && strings.HasPrefix(e, prefix) {
			return i
		}
	}
	return -1
}

var errBoom = errors.New("boom")
