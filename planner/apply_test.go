package planner

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/evdeploy/evdeploy/state"
)

func TestApplyOrderJournalAndDestroy(t *testing.T) {
	rec := &recorder{}
	fc := newFakeCloud(rec)
	reg := fc.registry()
	st := newFakeState(rec, nil)
	d := appDesired(128)
	d.Outputs = []*DesiredOutput{{Name: "queue_url", Value: Ref{Resource: queueA, Attr: "url"}}}
	var events []string
	p := mustPlan(t, d, st.snapshot(), reg, true)
	res, err := Apply(context.Background(), p, d, reg, st, ApplyOptions{OnEvent: func(e Event) {
		if e.Phase == Started || e.Phase == Failed {
			events = append(events, e.String())
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	log := rec.entries()
	before := func(a, b string) {
		t.Helper()
		i, j := indexOf(log, a), indexOf(log, b)
		if i < 0 || j < 0 || i >= j {
			t.Errorf("want %q before %q in log:\n%s", a, b, strings.Join(log, "\n"))
		}
	}
	// Producers before consumers; each create journaled before the call and
	// recorded after it.
	before("state upsert function.api/fake_role.main", "call create shop-dev-api")
	before("call create shop-dev-api", "call create shop-dev-api<-*") // function before its mapping (DependsOn)
	before("state upsert queue.orders/fake_queue.main", "call create shop-dev-api<-arn:fake:fake_queue:shop-dev-orders")
	before("state upsert table.orders/fake_store.main", "call create shop-dev-api")
	for _, a := range []ResourceAddr{roleA, funcA, queueA, storeA, mappingA} {
		before("state intent "+a.String(), "state upsert "+a.String())
	}
	fn, _ := fc.get("fake_func", "shop-dev-api")
	wantEnv := map[string]any{"QUEUE": "https://queue/shop-dev-orders", "TABLE": "table=arn:fake:fake_store:shop-dev-orders-t"}
	if d := cmp.Diff(wantEnv, fn["environment"]); d != "" {
		t.Errorf("function environment resolved from producers (-want +got):\n%s", d)
	}
	if fn["role"] != "arn:fake:fake_role:shop-dev-api-role" {
		t.Errorf("role = %v", fn["role"])
	}
	if got := res.Outputs["queue_url"].Value; got != "https://queue/shop-dev-orders" {
		t.Errorf("output = %v", got)
	}
	if len(res.Done) != 5 || len(res.Failed) != 0 || len(res.NotStarted) != 0 {
		t.Errorf("result = %+v", res)
	}
	if len(st.snapshot().Journal) != 0 {
		t.Errorf("journal left: %v", st.snapshot().Journal)
	}
	if indexOf(events, "function.api/fake_role.main: creating…") < 0 {
		t.Errorf("events = %v", events)
	}

	// Destroy: reverse dependency order, from state alone.
	rec.mu.Lock()
	rec.log = nil
	rec.mu.Unlock()
	dp := PlanDestroy(st.snapshot())
	var order []string
	for _, c := range dp.Changes {
		order = append(order, c.Addr.String())
	}
	wantOrder := []string{
		"trigger.orders/fake_mapping.main",
		"function.api/fake_func.main",
		"function.api/fake_role.main",
		"queue.orders/fake_queue.main",
		"table.orders/fake_store.main",
	}
	if d := cmp.Diff(wantOrder, order); d != "" {
		t.Errorf("destroy order (-want +got):\n%s", d)
	}
	if _, err := Apply(context.Background(), dp, nil, reg, st, ApplyOptions{}); !errors.Is(err, ErrDataLoss) {
		t.Fatalf("destroying a queue and a table without --allow-data-loss: err = %v", err)
	}
	if _, err := Apply(context.Background(), dp, nil, reg, st, ApplyOptions{AllowDataLoss: true}); err != nil {
		t.Fatal(err)
	}
	log = rec.entries()
	before("call delete uuid-1", "call delete shop-dev-api")
	before("call delete uuid-1", "call delete shop-dev-orders")
	before("state remove function.api/fake_func.main", "call delete shop-dev-api-role")
	if n := len(st.addrs()); n != 0 {
		t.Errorf("state still records %d resources", n)
	}
	fc.mu.Lock()
	for typ, m := range fc.resources {
		if len(m) > 0 {
			t.Errorf("%s left in the cloud: %v", typ, m)
		}
	}
	fc.mu.Unlock()
}

// manyRoles is n independent resources, plus one function per role.
func manyRoles(n int) *Desired {
	var rs []*DesiredResource
	for i := range n {
		r := addr(fmt.Sprintf("function.f%02d", i), "fake_role")
		rs = append(rs, res(r, Attrs{"name": fmt.Sprintf("r%02d", i)}))
		rs = append(rs, res(addr(fmt.Sprintf("function.f%02d", i), "fake_func"), Attrs{"name": fmt.Sprintf("f%02d", i), "role": Ref{Resource: r, Attr: "arn"}}))
	}
	return desiredOf(rs...)
}

func TestApplyParallelismBound(t *testing.T) {
	for _, par := range []int{1, 3, 10} {
		t.Run(fmt.Sprint(par), func(t *testing.T) {
			rec := &recorder{}
			fc := newFakeCloud(rec)
			fc.latency = 20 * time.Millisecond
			reg := fc.registry()
			st := newFakeState(rec, nil)
			d := manyRoles(12)
			p := mustPlan(t, d, st.snapshot(), reg, false)
			if _, err := Apply(context.Background(), p, d, reg, st, ApplyOptions{Parallelism: par}); err != nil {
				t.Fatal(err)
			}
			if fc.maxFlight > par {
				t.Errorf("max in flight = %d, bound %d", fc.maxFlight, par)
			}
			if fc.maxFlight < min(par, 12) {
				t.Errorf("max in flight = %d: the walk did not use its %d slots", fc.maxFlight, par)
			}
		})
	}
}

func TestApplyStopsOnFirstFailure(t *testing.T) {
	rec := &recorder{}
	fc := newFakeCloud(rec)
	fc.latency = 50 * time.Millisecond
	reg := fc.registry()
	st := newFakeState(rec, nil)
	d := manyRoles(6)
	fc.setFault("create r01", &fault{err: errors.New("AccessDenied: not allowed")})
	p := mustPlan(t, d, st.snapshot(), reg, false)
	res, err := Apply(context.Background(), p, d, reg, st, ApplyOptions{Parallelism: 2})
	want := "function.f01/fake_role.main: create: AccessDenied: not allowed"
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v, want %q", err, want)
	}
	if len(res.Failed) != 1 || res.Failed[0].Addr != "function.f01/fake_role.main" {
		t.Errorf("failed = %+v", res.Failed)
	}
	// Ready ops start in address order: f00's role and f01's role run
	// together; f00's role finishes (in flight when f01 failed) and is
	// recorded; nothing else starts.
	var done []string
	for _, r := range res.Done {
		done = append(done, r.Addr+" "+r.Op)
	}
	if d := cmp.Diff([]string{"function.f00/fake_role.main create"}, done); d != "" {
		t.Errorf("done (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{"function.f00/fake_role.main"}, st.addrs()); d != "" {
		t.Errorf("state records (-want +got):\n%s", d)
	}
	if len(res.NotStarted) != 10 {
		t.Errorf("not started = %d, want 10: %+v", len(res.NotStarted), res.NotStarted)
	}
	// The failed create's intent stays (a failed call may have created it
	// anyway); the next refresh looks it up, finds nothing, and creates.
	if j := st.snapshot().Journal; len(j) != 1 || j[0].Addr != "function.f01/fake_role.main" {
		t.Errorf("journal after a failed create: %+v", j)
	}
	// Re-running converges.
	fc.setFault("create r01", nil)
	p = mustPlan(t, d, st.snapshot(), reg, true)
	if s := p.Summary(); s.Add != 11 {
		t.Errorf("re-plan summary = %+v, want 11 to add", s)
	}
	if _, err := Apply(context.Background(), p, d, reg, st, ApplyOptions{Parallelism: 2}); err != nil {
		t.Fatal(err)
	}
	if len(st.addrs()) != 12 || len(st.snapshot().Journal) != 0 {
		t.Errorf("state has %d resources, journal %v", len(st.addrs()), st.snapshot().Journal)
	}
}

func TestApplyStateWriteFailureStops(t *testing.T) {
	rec := &recorder{}
	fc := newFakeCloud(rec)
	reg := fc.registry()
	st := newFakeState(rec, nil)
	st.failOn = "upsert function.api/fake_role.main"
	d := appDesired(128)
	p := mustPlan(t, d, st.snapshot(), reg, false)
	_, err := Apply(context.Background(), p, d, reg, st, ApplyOptions{Parallelism: 1})
	if err == nil || !strings.Contains(err.Error(), "function.api/fake_role.main: create: disk full") {
		t.Fatalf("err = %v", err)
	}
	// The intent stays: the next plan finds the role by its name and adopts it.
	doc := st.snapshot()
	if len(doc.Journal) != 1 || doc.Journal[0].Name != "shop-dev-api-role" {
		t.Fatalf("journal = %+v", doc.Journal)
	}
	st.failOn = ""
	p = mustPlan(t, d, doc, reg, true)
	var role *Change
	for _, c := range p.Changes {
		if c.Addr == roleA {
			role = c
		}
	}
	if role.Action != NoOp || !role.Adopted || role.ID != "shop-dev-api-role" {
		t.Errorf("role change = %+v", role)
	}
}

func TestApplyRetries(t *testing.T) {
	fast := ApplyOptions{BaseBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond, PropagationTimeout: 40 * time.Millisecond}
	tests := map[string]struct {
		fault   *fault
		opts    ApplyOptions
		wantErr string
		is      []error
		calls   int
	}{
		"throttling retried":       {fault: &fault{throttles: 3}, opts: fast, calls: 4},
		"propagation retried":      {fault: &fault{propagate: 2}, opts: fast, calls: 3},
		"other errors not retried": {fault: &fault{err: errors.New("InvalidParameterValue")}, opts: fast, calls: 1, wantErr: "function.api/fake_func.main: create: InvalidParameterValue"},
		"throttling gives up": {
			fault: &fault{throttles: 100}, opts: ApplyOptions{BaseBackoff: time.Millisecond, MaxBackoff: time.Millisecond, ThrottleRetries: 2}, calls: 3,
			wantErr: "function.api/fake_func.main: create: still throttled after 2 retries: rate exceeded: throttled",
			is:      []error{ErrThrottled},
		},
		"propagation wait runs out and says what it waited for": {
			fault: &fault{propagate: -1}, opts: fast,
			wantErr: "function.api/fake_func.main: create: gave up waiting after 40ms: still the role defined for the function cannot be assumed by Lambda: waiting for IAM propagation; " +
				"it depends on function.api/fake_role.main, queue.orders/fake_queue.main, table.orders/fake_store.main",
			is: []error{ErrPropagating, ErrPropagationTimeout},
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			rec := &recorder{}
			fc := newFakeCloud(rec)
			reg := fc.registry()
			st := newFakeState(rec, nil)
			fc.setFault("create shop-dev-api", tt.fault)
			d := appDesired(128)
			p := mustPlan(t, d, st.snapshot(), reg, false)
			var retries int
			var mu sync.Mutex
			tt.opts.OnEvent = func(e Event) {
				if e.Phase == Retrying && e.Addr == funcA {
					mu.Lock()
					retries++
					mu.Unlock()
					if !strings.Contains(e.String(), "function.api/fake_func.main: still creating (attempt ") {
						t.Errorf("retry event = %q", e)
					}
				}
			}
			_, err := Apply(context.Background(), p, d, reg, st, tt.opts)
			if tt.wantErr == "" && err != nil {
				t.Fatalf("err = %v", err)
			}
			if tt.wantErr != "" && (err == nil || err.Error() != tt.wantErr) {
				t.Fatalf("err = %v\nwant  %s", err, tt.wantErr)
			}
			for _, target := range tt.is {
				if !errors.Is(err, target) {
					t.Errorf("error does not wrap %v", target)
				}
			}
			calls := 0
			for _, l := range rec.entries() {
				if l == "call create shop-dev-api" {
					calls++
				}
			}
			if tt.calls > 0 && calls != tt.calls {
				t.Errorf("function create calls = %d, want %d", calls, tt.calls)
			}
			if tt.calls == 0 && calls < 3 {
				t.Errorf("function create calls = %d: propagation errors must be retried until the timeout", calls)
			}
			if retries != max(calls-1, 0) {
				t.Errorf("retry events = %d for %d calls", retries, calls)
			}
		})
	}
}

// ctxHandler records whether deletes carried the data-loss consent.
type ctxHandler struct {
	Handler
	mu      sync.Mutex
	allowed []bool
}

func (h *ctxHandler) Delete(ctx context.Context, id string, prior Attrs) error {
	h.mu.Lock()
	h.allowed = append(h.allowed, AllowDataLoss(ctx))
	h.mu.Unlock()
	return h.Handler.Delete(ctx, id, prior)
}

func TestApplyDataLossGuardAndReplaceOrder(t *testing.T) {
	fc, st, reg := deployed(t, appDesired(128))
	store := &ctxHandler{Handler: reg["fake_store"]}
	reg["fake_store"] = store
	d := appDesired(128)
	for _, r := range d.Resources {
		if r.Addr == storeA {
			r.Attrs["size"] = int64(2)
		}
	}
	p := mustPlan(t, d, st.snapshot(), reg, true)
	fc.rec.mu.Lock()
	fc.rec.log = nil
	fc.rec.mu.Unlock()
	_, err := Apply(context.Background(), p, d, reg, st, ApplyOptions{})
	if !errors.Is(err, ErrDataLoss) || !strings.Contains(err.Error(), "table.orders/fake_store.main (replace)") {
		t.Fatalf("err = %v", err)
	}
	if log := fc.rec.entries(); len(log) != 0 {
		t.Fatalf("a refused plan must do nothing, did: %v", log)
	}
	if _, err := Apply(context.Background(), p, d, reg, st, ApplyOptions{AllowDataLoss: true}); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]bool{true}, store.allowed); d != "" {
		t.Errorf("data-loss consent passed to the handler (-want +got):\n%s", d)
	}
	log := fc.rec.entries()
	want := []string{
		"call delete shop-dev-orders-t",
		"state remove table.orders/fake_store.main",
		"state intent table.orders/fake_store.main",
		"call create shop-dev-orders-t",
		"state upsert table.orders/fake_store.main",
		"call update shop-dev-api",
		"state upsert function.api/fake_func.main",
	}
	if d := cmp.Diff(want, log); d != "" {
		t.Errorf("replace = delete, then create, then the dependent's update (-want +got):\n%s", d)
	}
}

func TestRefreshAdoptsOnlyJournaledResources(t *testing.T) {
	rec := &recorder{}
	fc := newFakeCloud(rec)
	reg := fc.registry()
	d := appDesired(128)
	// An apply was killed after creating the role and the mapping but before
	// recording them; the queue exists too but was never journaled (someone
	// else's); the table's create was journaled but never happened.
	fc.put("fake_role", "shop-dev-api-role", Attrs{"name": "shop-dev-api-role", "policy": `{"Statement":[]}`, "arn": "arn:fake:fake_role:shop-dev-api-role"})
	fc.put("fake_mapping", "uuid-77", Attrs{"function": "shop-dev-api", "source": "arn:fake:fake_queue:shop-dev-orders", "batch": int64(10), "uuid": "uuid-77"})
	// The queue evdeploy would create carries its ownership tags; the one
	// found under its name carries someone else's.
	for _, r := range d.Resources {
		if r.Addr == queueA {
			r.Attrs["tags"] = map[string]any{"evdeploy:app": "shop", "evdeploy:stage": "dev", "evdeploy:block": "queue.orders"}
		}
	}
	fc.put("fake_queue", "shop-dev-orders", Attrs{"name": "shop-dev-orders", "visibility": int64(60), "arn": "x", "url": "y", "tags": map[string]any{"team": "other"}})
	doc := &state.Document{Lineage: "l", Journal: []state.Intent{
		{Addr: roleA.String(), Block: roleA.Block, Type: roleA.Type, Name: "shop-dev-api-role", Attrs: map[string]any{"name": "shop-dev-api-role", "policy": `{"Statement":[]}`}},
		{Addr: mappingA.String(), Block: mappingA.Block, Type: mappingA.Type, Attrs: map[string]any{"function": "shop-dev-api", "source": "arn:fake:fake_queue:shop-dev-orders", "batch": int64(10)}},
		{Addr: storeA.String(), Block: storeA.Block, Type: storeA.Type, Name: "shop-dev-orders-t", Attrs: map[string]any{"name": "shop-dev-orders-t", "size": int64(1)}},
		{Addr: "gone.block/fake_role.main", Block: "gone.block", Type: "fake_role", Name: "never-made"},
	}}
	obs, err := Refresh(context.Background(), doc, reg, 2)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for a, o := range obs {
		got[a] = fmt.Sprintf("exists=%v adopted=%v id=%s", o.Exists, o.Adopted, o.ID)
	}
	want := map[string]string{
		roleA.String():              "exists=true adopted=true id=shop-dev-api-role",
		mappingA.String():           "exists=true adopted=true id=uuid-77",
		storeA.String():             "exists=false adopted=false id=",
		"gone.block/fake_role.main": "exists=false adopted=false id=",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("observations (-want +got):\n%s", d)
	}
	p, err := Diff(d, doc, obs, reg)
	if err != nil {
		t.Fatal(err)
	}
	acts := changeActions(p)
	if acts[roleA.String()] != "no-op" || acts[queueA.String()] != "create" || acts[storeA.String()] != "create" || acts[funcA.String()] != "create" {
		t.Errorf("actions = %v", acts)
	}
	// The mapping's source is the queue's arn, unknown until the queue is
	// created: it is replaced (the adopted one is deleted first).
	if acts[mappingA.String()] != "replace" {
		t.Errorf("mapping action = %s", acts[mappingA.String()])
	}
	if d := cmp.Diff([]string{"gone.block/fake_role.main"}, p.ForgetIntents); d != "" {
		t.Errorf("forget (-want +got):\n%s", d)
	}
	st := newFakeState(rec, doc)
	_, err = Apply(context.Background(), p, d, reg, st, ApplyOptions{})
	if err == nil || !errors.Is(err, ErrAlreadyExists) || !strings.Contains(err.Error(), "queue.orders/fake_queue.main: create:") {
		t.Fatalf("creating over an unmanaged queue: err = %v", err)
	}
	for _, l := range rec.entries() {
		if l == "call create shop-dev-api-role" {
			t.Errorf("the adopted role was created again")
		}
	}
	if indexOf(st.addrs(), roleA.String()) < 0 {
		t.Errorf("adopted role not recorded: %v", st.addrs())
	}
	for _, in := range st.snapshot().Journal {
		if in.Addr == queueA.String() {
			t.Errorf("the intent of a create refused as already existing stays, so the next plan would adopt an unmanaged queue")
		}
	}
}

func TestApplyJournaledCreateWithoutRefresh(t *testing.T) {
	// With --refresh=false the plan cannot look; apply looks the name up
	// before creating, so nothing is created twice.
	rec := &recorder{}
	fc := newFakeCloud(rec)
	reg := fc.registry()
	d := desiredOf(res(roleA, Attrs{"name": "shop-dev-api"}))
	fc.put("fake_role", "shop-dev-api", Attrs{"name": "shop-dev-api", "arn": "arn:x"})
	doc := &state.Document{Journal: []state.Intent{{Addr: roleA.String(), Type: roleA.Type, Name: "shop-dev-api"}}}
	p := mustPlan(t, d, doc, reg, false)
	if c := p.Changes[0]; c.Action != Create || !c.Journaled {
		t.Fatalf("change = %+v", c)
	}
	st := newFakeState(rec, doc)
	if _, err := Apply(context.Background(), p, d, reg, st, ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, l := range rec.entries() {
		if strings.HasPrefix(l, "call create") {
			t.Errorf("created again: %v", rec.entries())
		}
	}
	if doc := st.snapshot(); len(doc.Resources) != 1 || doc.Resources[0].ID != "shop-dev-api" || len(doc.Journal) != 0 {
		t.Errorf("state = %+v", doc)
	}
}

func TestEventString(t *testing.T) {
	tests := []struct {
		e    Event
		want string
	}{
		{Event{Addr: funcA, Op: "create", Phase: Started}, "function.api/fake_func.main: creating…"},
		{Event{Addr: funcA, Op: "create", Phase: Succeeded, Elapsed: 1234 * time.Millisecond}, "function.api/fake_func.main: created (1.2s)"},
		{Event{Addr: funcA, Op: "delete", Phase: Failed, Elapsed: time.Second, Err: errBoom}, "function.api/fake_func.main: delete failed after 1s: boom"},
	}
	for _, tt := range tests {
		if got := tt.e.String(); got != tt.want {
			t.Errorf("got %q, want %q", got, tt.want)
		}
	}
}

// TestApplyInterrupted: cancelling the context (Ctrl-C) starts nothing new but
// lets the calls in flight finish and be recorded.
func TestApplyInterrupted(t *testing.T) {
	rec := &recorder{}
	fc := newFakeCloud(rec)
	fc.latency = 30 * time.Millisecond
	reg := fc.registry()
	st := newFakeState(rec, nil)
	d := manyRoles(4)
	p := mustPlan(t, d, st.snapshot(), reg, false)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var once sync.Once
	res, err := Apply(ctx, p, d, reg, st, ApplyOptions{Parallelism: 2, OnEvent: func(e Event) {
		if e.Phase == Started {
			once.Do(cancel)
		}
	}})
	if !errors.Is(err, context.Canceled) || !strings.HasPrefix(err.Error(), "apply interrupted") {
		t.Fatalf("err = %v", err)
	}
	if len(res.Failed) != 0 || len(res.Done) == 0 || len(res.Done)+len(res.NotStarted) != 8 {
		t.Errorf("done %d, failed %d, not started %d", len(res.Done), len(res.Failed), len(res.NotStarted))
	}
	if got := len(st.addrs()); got != len(res.Done) {
		t.Errorf("state records %d, done %d", got, len(res.Done))
	}
}

// TestApplyDeleteAfterDependentsMoveAway: a resource being deleted goes only
// after the resources that read it were updated not to (and after the deletes
// of those that go with it).
func TestApplyDeleteAfterDependentsMoveAway(t *testing.T) {
	fc, st, reg := deployed(t, appDesired(128))
	d := appDesired(128)
	var keep []*DesiredResource
	for _, r := range d.Resources {
		if r.Addr == queueA || r.Addr == mappingA {
			continue
		}
		if r.Addr == funcA {
			delete(r.Attrs["environment"].(map[string]any), "QUEUE")
		}
		keep = append(keep, r)
	}
	d.Resources = keep
	p := mustPlan(t, d, st.snapshot(), reg, true)
	fc.rec.mu.Lock()
	fc.rec.log = nil
	fc.rec.mu.Unlock()
	if _, err := Apply(context.Background(), p, d, reg, st, ApplyOptions{AllowDataLoss: true, Parallelism: 10}); err != nil {
		t.Fatal(err)
	}
	var calls []string
	for _, l := range fc.rec.entries() {
		if strings.HasPrefix(l, "call ") {
			calls = append(calls, l)
		}
	}
	want := []string{"call delete uuid-1", "call update shop-dev-api", "call delete shop-dev-orders"}
	if len(calls) != 3 || calls[2] != want[2] {
		t.Errorf("calls (the queue must go last):\n%s", strings.Join(calls, "\n"))
	}
}

// TestApplyCreateWaitsForNameHolder: a resource that moves to another address
// but keeps its physical name is deleted before it is created again.
func TestApplyCreateWaitsForNameHolder(t *testing.T) {
	base := func(a ResourceAddr) *Desired {
		return desiredOf(res(a, Attrs{"name": "same-name"}))
	}
	// The new address sorts first, so without the edge its create would start first.
	oldAddr, newAddr := addr("queue.b", "fake_role"), addr("queue.a", "fake_role")
	fc, st, reg := deployed(t, base(oldAddr))
	d := base(newAddr)
	p := mustPlan(t, d, st.snapshot(), reg, true)
	fc.rec.mu.Lock()
	fc.rec.log = nil
	fc.rec.mu.Unlock()
	if _, err := Apply(context.Background(), p, d, reg, st, ApplyOptions{Parallelism: 1}); err != nil {
		t.Fatal(err)
	}
	var calls []string
	for _, l := range fc.rec.entries() {
		if strings.HasPrefix(l, "call ") {
			calls = append(calls, l)
		}
	}
	if diff := cmp.Diff([]string{"call delete same-name", "call create same-name"}, calls); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
}

// TestApplyJournalsOnlyWhatCanBeFound: a type with no derivable id and no
// Finder is not journaled (nothing could look it up); the others are.
func TestApplyJournalsOnlyWhatCanBeFound(t *testing.T) {
	rec := &recorder{}
	fc := newFakeCloud(rec)
	reg := fc.registry()
	st := newFakeState(rec, nil)
	q := res(queueA, Attrs{"name": "q"})
	q.ID = "" // like a queue, whose id (its URL) only the service gives
	d := desiredOf(q, res(roleA, Attrs{"name": "r"}), res(mappingA, Attrs{"function": "f", "source": "s"}))
	p := mustPlan(t, d, st.snapshot(), reg, true)
	if _, err := Apply(context.Background(), p, d, reg, st, ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	var intents []string
	for _, l := range rec.entries() {
		if a, ok := strings.CutPrefix(l, "state intent "); ok {
			intents = append(intents, a)
		}
	}
	sort.Strings(intents)
	if diff := cmp.Diff([]string{roleA.String(), mappingA.String()}, intents); diff != "" {
		t.Errorf("journaled (-want +got):\n%s", diff)
	}
}

// The observer sees, per operation, one start then one end carrying the same
// start time and the apply's operation count, and a consumer's start is never
// before its producer's end: enough to rebuild the schedule the executor ran.
func TestApplyObserverEvents(t *testing.T) {
	rec := &recorder{}
	fc := newFakeCloud(rec)
	reg := fc.registry()
	st := newFakeState(rec, nil)
	d := appDesired(128)
	p := mustPlan(t, d, st.snapshot(), reg, true)
	type span struct {
		start, end time.Time
		phases     []string
	}
	spans := map[string]*span{}
	total := -1
	_, err := Apply(context.Background(), p, d, reg, st, ApplyOptions{OnEvent: func(e Event) {
		key := e.Addr.String() + " " + e.Op
		s := spans[key]
		if s == nil {
			s = &span{}
			spans[key] = s
		}
		s.phases = append(s.phases, e.Phase.String())
		if total >= 0 && e.Total != total {
			t.Errorf("%s: Total = %d, earlier events said %d", key, e.Total, total)
		}
		total = e.Total
		switch e.Phase {
		case Started:
			if !e.At.Equal(e.Start) || e.Start.IsZero() {
				t.Errorf("%s: start event At %v, Start %v", key, e.At, e.Start)
			}
			s.start = e.Start
		case Succeeded:
			if !e.Start.Equal(s.start) || e.At.Sub(e.Start) != e.Elapsed {
				t.Errorf("%s: end event Start %v (started %v), At-Start %v, Elapsed %v", key, e.Start, s.start, e.At.Sub(e.Start), e.Elapsed)
			}
			s.end = e.At
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	if total != len(spans) {
		t.Errorf("Total = %d, operations observed = %d", total, len(spans))
	}
	for key, s := range spans {
		if d := cmp.Diff([]string{"start", "end"}, s.phases); d != "" {
			t.Errorf("%s phases (-want +got):\n%s", key, d)
		}
	}
	for _, c := range p.Changes {
		me := spans[c.Addr.String()+" create"]
		if me == nil {
			continue
		}
		for _, dep := range c.Deps {
			if prod := spans[dep+" create"]; prod != nil && me.start.Before(prod.end) {
				t.Errorf("%s started %v before its producer %s ended", c.Addr, prod.end.Sub(me.start), dep)
			}
		}
	}
}
