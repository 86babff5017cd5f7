package planner

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/evdeploy/evdeploy/state"
)

// deployed applies d from empty against a fresh fake cloud and returns the
// cloud, the state and the registry.
func deployed(t *testing.T, d *Desired) (*fakeCloud, *fakeState, Registry) {
	t.Helper()
	rec := &recorder{}
	fc := newFakeCloud(rec)
	reg := fc.registry()
	st := newFakeState(rec, nil)
	plan := mustPlan(t, d, st.snapshot(), reg, true)
	if _, err := Apply(context.Background(), plan, d, reg, st, ApplyOptions{}); err != nil {
		t.Fatalf("first apply: %v", err)
	}
	return fc, st, reg
}

func mustPlan(t *testing.T, d *Desired, doc *state.Document, reg Registry, refresh bool) *Plan {
	t.Helper()
	var obs map[string]Observation
	if refresh {
		var err error
		obs, err = Refresh(context.Background(), doc, reg, 4)
		if err != nil {
			t.Fatalf("refresh: %v", err)
		}
	}
	p, err := Diff(d, doc, obs, reg)
	if err != nil {
		t.Fatalf("diff: %v", err)
	}
	return p
}

func TestDiffFromEmpty(t *testing.T) {
	reg := newFakeCloud(&recorder{}).registry()
	p := mustPlan(t, appDesired(128), &state.Document{Lineage: "l", Serial: 3}, reg, true)
	want := map[string]string{
		"function.api/fake_role.main":      "create",
		"function.api/fake_func.main":      "create",
		"queue.orders/fake_queue.main":     "create",
		"table.orders/fake_store.main":     "create",
		"trigger.orders/fake_mapping.main": "create",
	}
	if d := cmp.Diff(want, changeActions(p)); d != "" {
		t.Errorf("actions (-want +got):\n%s", d)
	}
	var fn *Change
	for _, c := range p.Changes {
		if c.Addr == funcA {
			fn = c
		}
	}
	wantAfter := Attrs{
		"name": "shop-dev-api", "role": Unknown{}, "memory": int64(128), "code_path": "/tmp/api.zip", "build_dir": "/tmp",
		"environment": map[string]any{"QUEUE": Unknown{}, "TABLE": Unknown{}},
		"arn":         Unknown{},
	}
	if d := cmp.Diff(wantAfter, fn.After); d != "" {
		t.Errorf("function after (-want +got):\n%s", d)
	}
	if p.StateSerial != 3 || p.StateLineage != "l" || !p.HasChanges() {
		t.Errorf("plan header = %d %q %v", p.StateSerial, p.StateLineage, p.HasChanges())
	}
}

// TestDiffAfterApply: once applied, every Ref resolves from state and the plan
// is fully known and empty, with and without refresh.
func TestDiffAfterApply(t *testing.T) {
	d := appDesired(128)
	_, st, reg := deployed(t, d)
	for _, refresh := range []bool{true, false} {
		p := mustPlan(t, d, st.snapshot(), reg, refresh)
		if p.HasChanges() {
			t.Errorf("refresh=%v: plan after apply has changes: %v", refresh, changeActions(p))
		}
		for _, c := range p.Changes {
			if IsUnknown(c.After) {
				t.Errorf("refresh=%v: %s has unknown values after apply: %v", refresh, c.Addr, c.After)
			}
		}
	}
}

func TestDiffDrift(t *testing.T) {
	tests := map[string]struct {
		desired  func() *Desired
		tamper   func(fc *fakeCloud)
		refresh  bool
		want     map[string]string // non-noop actions
		changed  map[string][]string
		missing  []string
		dataLoss []string
	}{
		"no drift": {refresh: true},
		"attribute the service does not report is not drift": {
			refresh: true,
			tamper: func(fc *fakeCloud) {
				fc.omit["fake_mapping"] = []string{"batch"}
				fc.omit["fake_queue"] = []string{"visibility"}
			},
		},
		"changed attribute reported is drift": {
			refresh: true,
			tamper: func(fc *fakeCloud) {
				a, _ := fc.get("fake_func", "shop-dev-api")
				a = overlay(a, Attrs{"memory": int64(512)}, nil)
				fc.put("fake_func", "shop-dev-api", a)
			},
			want:    map[string]string{"function.api/fake_func.main": "update"},
			changed: map[string][]string{"function.api/fake_func.main": {"memory"}},
		},
		"drift is invisible with refresh=false": {
			refresh: false,
			tamper: func(fc *fakeCloud) {
				a, _ := fc.get("fake_func", "shop-dev-api")
				fc.put("fake_func", "shop-dev-api", overlay(a, Attrs{"memory": int64(512)}, nil))
			},
		},
		"desired change is an update": {
			refresh: true,
			desired: func() *Desired { return appDesired(256) },
			want:    map[string]string{"function.api/fake_func.main": "update"},
			changed: map[string][]string{"function.api/fake_func.main": {"memory"}},
		},
		"write-only attribute compares with last applied": {
			refresh: true,
			desired: func() *Desired {
				d := appDesired(128)
				for _, r := range d.Resources {
					if r.Addr == funcA {
						r.Attrs["code_path"] = "/tmp/other.zip"
					}
				}
				return d
			},
			want:    map[string]string{"function.api/fake_func.main": "update"},
			changed: map[string][]string{"function.api/fake_func.main": {"code_path"}},
		},
		"a no-diff input never makes a change by itself": {
			refresh: true,
			desired: func() *Desired {
				d := appDesired(128)
				for _, r := range d.Resources {
					if r.Addr == funcA {
						r.Attrs["build_dir"] = "/elsewhere"
					}
				}
				return d
			},
		},
		"deleted out of band is created again, and its dependents follow": {
			refresh: true,
			tamper: func(fc *fakeCloud) {
				fc.mu.Lock()
				delete(fc.resources["fake_queue"], "shop-dev-orders")
				fc.mu.Unlock()
			},
			want: map[string]string{
				"queue.orders/fake_queue.main":     "create",
				"function.api/fake_func.main":      "update",
				"trigger.orders/fake_mapping.main": "replace",
			},
			changed: map[string][]string{
				"function.api/fake_func.main":      {"environment"},
				"trigger.orders/fake_mapping.main": {"source"},
			},
			missing: []string{"queue.orders/fake_queue.main"},
		},
		"force-new change replaces, flags data loss, and updates dependents": {
			refresh: true,
			desired: func() *Desired {
				d := appDesired(128)
				for _, r := range d.Resources {
					if r.Addr == storeA {
						r.Attrs["size"] = int64(2)
					}
				}
				return d
			},
			want: map[string]string{
				"table.orders/fake_store.main": "replace",
				"function.api/fake_func.main":  "update",
			},
			changed: map[string][]string{
				"table.orders/fake_store.main": {"size"},
				"function.api/fake_func.main":  {"environment"},
			},
			dataLoss: []string{"table.orders/fake_store.main"},
		},
		"removed block is deleted, dependents first": {
			refresh: true,
			desired: func() *Desired {
				d := appDesired(128)
				var keep []*DesiredResource
				for _, r := range d.Resources {
					if r.Addr != mappingA && r.Addr != queueA {
						keep = append(keep, r)
					}
				}
				d.Resources = keep
				for _, r := range d.Resources {
					if r.Addr == funcA {
						delete(r.Attrs["environment"].(map[string]any), "QUEUE")
					}
				}
				return d
			},
			want: map[string]string{
				"queue.orders/fake_queue.main":     "delete",
				"trigger.orders/fake_mapping.main": "delete",
				"function.api/fake_func.main":      "update",
			},
			changed:  map[string][]string{"function.api/fake_func.main": {"environment"}},
			dataLoss: []string{"queue.orders/fake_queue.main"},
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			fc, st, reg := deployed(t, appDesired(128))
			if tt.tamper != nil {
				tt.tamper(fc)
			}
			d := appDesired(128)
			if tt.desired != nil {
				d = tt.desired()
			}
			p := mustPlan(t, d, st.snapshot(), reg, tt.refresh)
			got := map[string]string{}
			gotChanged := map[string][]string{}
			var missing, loss []string
			for _, c := range p.Changes {
				if c.Action != NoOp {
					got[c.Addr.String()] = c.Action.String()
				}
				if len(c.Changed) > 0 {
					gotChanged[c.Addr.String()] = c.Changed
				}
				if c.Missing {
					missing = append(missing, c.Addr.String())
				}
				if c.DataLoss {
					loss = append(loss, c.Addr.String())
				}
			}
			if tt.want == nil {
				tt.want = map[string]string{}
			}
			if tt.changed == nil {
				tt.changed = map[string][]string{}
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("actions (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tt.changed, gotChanged); d != "" {
				t.Errorf("changed (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tt.missing, missing); d != "" {
				t.Errorf("missing (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tt.dataLoss, loss); d != "" {
				t.Errorf("data loss (-want +got):\n%s", d)
			}
			// Deletes come after creates/updates, dependents first.
			var dels []string
			for _, c := range p.Changes {
				if c.Action == Delete {
					dels = append(dels, c.Addr.String())
				} else if len(dels) > 0 {
					t.Errorf("%s after a delete", c.Addr)
				}
			}
			if len(dels) == 2 && dels[0] != "trigger.orders/fake_mapping.main" {
				t.Errorf("delete order %v: the mapping must go before the queue it reads", dels)
			}

			// Applying the plan converges: the next plan is empty.
			if _, err := Apply(context.Background(), p, d, reg, st, ApplyOptions{AllowDataLoss: true}); err != nil {
				t.Fatalf("apply: %v", err)
			}
			if tt.tamper != nil && !tt.refresh {
				return // drift not seen, so not repaired
			}
			if again := mustPlan(t, d, st.snapshot(), reg, true); again.HasChanges() {
				t.Errorf("plan after apply still has changes: %v", changeActions(again))
			}
		})
	}
}

func TestDiffErrors(t *testing.T) {
	reg := newFakeCloud(&recorder{}).registry()
	unknownType := desiredOf(res(addr("x.y", "fake_nope"), Attrs{"name": "n"}))
	if _, err := Diff(unknownType, nil, nil, reg); err == nil || err.Error() != `x.y/fake_nope.main: no handler for resource type "fake_nope"` {
		t.Errorf("err = %v", err)
	}
	failing := desiredOf(
		res(roleA, Attrs{"name": "r"}),
		res(funcA, Attrs{"name": "f", "role": &Expr{Refs: []Ref{{Resource: roleA, Attr: "name"}}, Text: "role.x", Eval: func(map[Ref]any) (any, error) {
			return nil, errBoom
		}}}),
	)
	if _, err := Diff(failing, nil, nil, reg); err == nil || err.Error() != "function.api/fake_func.main: role: evaluating role.x: boom" {
		t.Errorf("err = %v", err)
	}
}

// TestDiffRecreatedProducer: a consumer that reads a recreated producer is
// re-applied even when the value it reads is known and unchanged (a derived
// ARN): what was bound to the old resource is gone with it.
func TestDiffRecreatedProducer(t *testing.T) {
	mk := func(size int64) *Desired {
		name := Ref{Resource: storeA, Attr: "name"}
		return desiredOf(
			res(storeA, Attrs{"name": "t", "size": size}),
			res(roleA, Attrs{"name": "r", "policy": name}),
			res(mappingA, Attrs{"function": "f", "source": name}),
		)
	}
	_, st, reg := deployed(t, mk(1))
	p := mustPlan(t, mk(2), st.snapshot(), reg, true)
	got := map[string]string{}
	for _, c := range p.Changes {
		got[c.Addr.String()] = c.Action.String() + " " + c.Reason
	}
	want := map[string]string{
		storeA.String():   "replace ",
		roleA.String():    "update reads a resource that is being recreated",
		mappingA.String(): "replace reads a resource that is being recreated",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	if _, err := Apply(context.Background(), p, mk(2), reg, st, ApplyOptions{AllowDataLoss: true}); err != nil {
		t.Fatal(err)
	}
	if again := mustPlan(t, mk(2), st.snapshot(), reg, true); again.HasChanges() {
		t.Errorf("not converged: %v", changeActions(again))
	}
}

func TestDiffNullIsAbsent(t *testing.T) {
	mk := func(v any) *Desired { return desiredOf(res(roleA, Attrs{"name": "r", "description": v})) }
	_, st, reg := deployed(t, desiredOf(res(roleA, Attrs{"name": "r"})))
	for _, tt := range []struct {
		v    any
		want Action
	}{{nil, NoOp}, {"set", Update}} {
		p := mustPlan(t, mk(tt.v), st.snapshot(), reg, true)
		if got := p.Changes[0].Action; got != tt.want {
			t.Errorf("description %v: action %s, want %s", tt.v, got, tt.want)
		}
	}
}

func TestDiffUnsupportedValueIsAnError(t *testing.T) {
	reg := newFakeCloud(&recorder{}).registry()
	d := desiredOf(res(roleA, Attrs{"name": "r", "weird": struct{}{}}))
	_, err := Diff(d, nil, nil, reg)
	if err == nil || err.Error() != "function.api/fake_role.main: weird: planner.Norm: unsupported attribute value struct {}" {
		t.Errorf("err = %v", err)
	}
}

func TestRefreshRetriesThrottledReads(t *testing.T) {
	saved := refreshRetry
	refreshRetry.base, refreshRetry.maxD, refreshRetry.retries = time.Millisecond, 2*time.Millisecond, 3
	t.Cleanup(func() { refreshRetry = saved })
	fc, st, reg := deployed(t, appDesired(128))
	fc.setFault("read shop-dev-api", &fault{throttles: 2})
	if _, err := Refresh(context.Background(), st.snapshot(), reg, 2); err != nil {
		t.Errorf("two throttles: %v", err)
	}
	fc.setFault("read shop-dev-api", &fault{throttles: 10})
	_, err := Refresh(context.Background(), st.snapshot(), reg, 2)
	want := "function.api/fake_func.main: read: still throttled after 3 retries: rate exceeded: throttled"
	if err == nil || err.Error() != want {
		t.Errorf("err = %v, want %s", err, want)
	}
}

// prefetchHandler records the Prefetch calls and the reads that follow.
type prefetchHandler struct {
	Handler
	mu    sync.Mutex
	calls [][]string
	reads int
	// readBeforePrefetch is set when a Read came before the Prefetch.
	readBeforePrefetch bool
}

func (p *prefetchHandler) Prefetch(_ context.Context, ids []string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls = append(p.calls, slices.Sorted(slices.Values(ids)))
	return nil
}

func (p *prefetchHandler) Read(ctx context.Context, id string, prior Attrs) (Attrs, bool, error) {
	p.mu.Lock()
	p.reads++
	if len(p.calls) == 0 {
		p.readBeforePrefetch = true
	}
	p.mu.Unlock()
	return p.Handler.Read(ctx, id, prior)
}

// Refresh prefetches each type with a Prefetcher once, with every id of that
// type in state, before any of its reads; a type with one resource is not
// prefetched.
func TestRefreshPrefetchesOncePerType(t *testing.T) {
	ids := func(doc *state.Document, typ string) []string {
		var out []string
		for _, r := range doc.Resources {
			if r.Type == typ {
				out = append(out, r.ID)
			}
		}
		slices.Sort(out)
		return out
	}
	// Several resources of each type: one prefetch with all their ids.
	_, st, reg := deployed(t, bigDesired(10))
	doc := st.snapshot()
	typ := doc.Resources[0].Type
	pm := &prefetchHandler{Handler: reg[typ]}
	reg[typ] = pm
	if _, err := Refresh(context.Background(), doc, reg, 4); err != nil {
		t.Fatal(err)
	}
	if len(ids(doc, typ)) < 2 {
		t.Fatalf("bigDesired(10) has %d %s", len(ids(doc, typ)), typ)
	}
	if diff := cmp.Diff([][]string{ids(doc, typ)}, pm.calls); diff != "" {
		t.Errorf("%s prefetches (-want +got):\n%s", typ, diff)
	}
	if pm.readBeforePrefetch || pm.reads != len(ids(doc, typ)) {
		t.Errorf("%s: %d reads (want %d), one before the prefetch: %v", typ, pm.reads, len(ids(doc, typ)), pm.readBeforePrefetch)
	}
	// One resource of a type: nothing to gain from a list.
	_, st, reg = deployed(t, appDesired(128))
	doc = st.snapshot()
	typ = doc.Resources[0].Type
	p1 := &prefetchHandler{Handler: reg[typ]}
	reg[typ] = p1
	if _, err := Refresh(context.Background(), doc, reg, 4); err != nil {
		t.Fatal(err)
	}
	if len(p1.calls) != 0 || len(ids(doc, typ)) != 1 {
		t.Errorf("%s (%d resources) was prefetched: %v", typ, len(ids(doc, typ)), p1.calls)
	}
}
