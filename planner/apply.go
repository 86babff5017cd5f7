package planner

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/evdeploy/evdeploy/state"
)

// StateWriter records what apply did, one change at a time. *state.Session
// implements it; every call must be durable before it returns.
type StateWriter interface {
	Upsert(state.Resource) error
	Remove(addr string) error
	AddIntent(state.Intent) error
	ResolveIntent(addr string) error
}

// ApplyOptions tune the executor. Zero values take the defaults.
type ApplyOptions struct {
	// Parallelism bounds the operations in flight (default 10).
	Parallelism int
	// AllowDataLoss is the user's --allow-data-loss: without it a plan with
	// DataLoss changes is refused before anything is done.
	AllowDataLoss bool

	// PropagationTimeout bounds the retries of ErrPropagating errors
	// (default 2 minutes: IAM usually propagates within seconds, rarely a
	// minute).
	PropagationTimeout time.Duration
	// ThrottleRetries bounds the retries of ErrThrottled errors (default 8).
	ThrottleRetries int
	// BaseBackoff and MaxBackoff shape the jittered exponential backoff
	// (defaults 250ms and 10s).
	BaseBackoff, MaxBackoff time.Duration

	// Lanes, when set, bounds the operations in flight per rate budget as
	// well (see Lanes); Parallelism still caps the total.
	Lanes Lanes

	// OnEvent, when set, is told of every operation's progress: one Started,
	// any number of Retrying, then one Succeeded or Failed per operation.
	// Calls are serialised, so an observer needs no lock of its own; it must
	// return quickly (it delays the operation that reported).
	OnEvent func(Event)
}

func (o *ApplyOptions) defaults() {
	if o.Parallelism <= 0 {
		o.Parallelism = DefaultParallelism
	}
	if o.PropagationTimeout <= 0 {
		o.PropagationTimeout = 2 * time.Minute
	}
	if o.ThrottleRetries <= 0 {
		o.ThrottleRetries = 8
	}
	if o.BaseBackoff <= 0 {
		o.BaseBackoff = 250 * time.Millisecond
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 10 * time.Second
	}
	if o.MaxBackoff < o.BaseBackoff {
		o.MaxBackoff = o.BaseBackoff
	}
}

// Phase is where an operation is.
type Phase int

const (
	Started Phase = iota
	Retrying
	Succeeded
	Failed
)

// Event reports an operation's progress to an observer: the CLI's live view
// and JSON event stream, and the benchmarks' critical-path analysis (Start
// and At of the Started and Succeeded events of every operation, with the
// plan's Deps, give the schedule the executor actually ran).
type Event struct {
	Addr    ResourceAddr
	Op      string // create, update, delete, adopt
	Phase   Phase
	Elapsed time.Duration // since the operation started
	Attempt int           // for Retrying: the attempt that failed
	Err     error         // for Retrying and Failed
	// Start is when the operation started; At is when this event happened
	// (At == Start for Started, At-Start == Elapsed otherwise).
	Start, At time.Time
	// Total is the number of operations in this apply (a replace is two:
	// its delete and its create), so an observer can show "12/48".
	Total int
	// Waited is how much of Elapsed the operation's calls spent waiting
	// for their rate budget (AddWait), for Succeeded and Failed.
	Waited time.Duration
}

// String names the phase as the JSON event stream spells it.
func (p Phase) String() string {
	switch p {
	case Started:
		return "start"
	case Retrying:
		return "retry"
	case Succeeded:
		return "end"
	case Failed:
		return "error"
	}
	return fmt.Sprintf("phase(%d)", int(p))
}

var (
	opGerund = map[string]string{"create": "creating", "update": "updating", "delete": "deleting", "adopt": "adopting"}
	opPast   = map[string]string{"create": "created", "update": "updated", "delete": "deleted", "adopt": "adopted"}
)

// String renders the event as a progress line:
// "function.api/aws_lambda_function.main: creating…", "… created (1.2s)".
func (e Event) String() string {
	switch e.Phase {
	case Started:
		return fmt.Sprintf("%s: %s…", e.Addr, opGerund[e.Op])
	case Retrying:
		return fmt.Sprintf("%s: still %s (attempt %d: %v)", e.Addr, opGerund[e.Op], e.Attempt, e.Err)
	case Succeeded:
		return fmt.Sprintf("%s: %s (%s)", e.Addr, opPast[e.Op], roundElapsed(e.Elapsed))
	}
	return fmt.Sprintf("%s: %s failed after %s: %v", e.Addr, e.Op, roundElapsed(e.Elapsed), e.Err)
}

// roundElapsed keeps two significant figures or so: 12ms, 1.2s.
func roundElapsed(d time.Duration) time.Duration {
	if d < time.Second {
		return d.Round(time.Millisecond)
	}
	return d.Round(100 * time.Millisecond)
}

// OpResult is one operation of an apply.
type OpResult struct {
	Addr    string
	Op      string
	Elapsed time.Duration
	Err     error // wrapped as "<addr>: <op>: <cause>"
}

// ApplyResult says what an apply did: operations done (in completion order),
// failed, and never started (in dependency order).
type ApplyResult struct {
	Done       []OpResult
	Failed     []OpResult
	NotStarted []OpResult
	// Outputs are the app's outputs, evaluated once everything succeeded.
	Outputs map[string]state.Output
}

// Err joins the failures, nil when there are none.
func (r *ApplyResult) Err() error {
	var errs []error
	for _, f := range r.Failed {
		errs = append(errs, f.Err)
	}
	return errors.Join(errs...)
}

// ErrDataLoss is wrapped by Apply's refusal of a plan that loses data.
var ErrDataLoss = errors.New("the plan would lose data")

// op is one node of the apply graph: the delete half or the create/update
// half of a change (a replace has both).
type op struct {
	key     string // "<addr> <kind>", unique; orders ready ops
	change  *Change
	kind    string // create, update, delete, adopt
	del     bool
	waits   int
	users   []*op
	started bool
	lane    *lane
}

// Apply executes the plan: a walk of its changes in dependency order, at most
// opts.Parallelism operations at a time. Creates and updates follow their
// producers; deletes precede what their dependents recorded; a replace deletes
// the old resource before creating the new one (names are deterministic, so
// both cannot exist at once).
//
// Every Ref and Expr in desired is resolved from the producers' results right
// before the call. Before each create an intent is journaled; after it, the
// resource is recorded and the intent resolved; after a delete the resource is
// forgotten. On the first failure no new operation starts, those in flight
// finish (and are recorded), and the result lists what was done, what failed
// and what never started.
func Apply(ctx context.Context, plan *Plan, desired *Desired, reg Registry, st StateWriter, opts ApplyOptions) (*ApplyResult, error) {
	opts.defaults()
	plan.FlagDataLoss(reg)
	if desired == nil {
		desired = &Desired{}
	}
	if lost := plan.DataLossChanges(); len(lost) > 0 {
		if !opts.AllowDataLoss {
			var what []string
			for _, c := range lost {
				what = append(what, fmt.Sprintf("%s (%s)", c.Addr, c.Action))
			}
			return nil, fmt.Errorf("refusing to apply: %w: %s; re-run with --allow-data-loss if that is intended",
				ErrDataLoss, strings.Join(what, ", "))
		}
	}
	if opts.AllowDataLoss {
		// Handlers read the consent too (a secret deleted without recovery).
		ctx = WithAllowDataLoss(ctx)
	}

	e := &executor{
		opts:    opts,
		reg:     reg,
		st:      st,
		plan:    plan,
		desired: map[string]*DesiredResource{},
		changes: map[string]*Change{},
		results: map[string]Attrs{},
	}
	for _, d := range desired.Resources {
		e.desired[d.Addr.String()] = d
	}
	ops, err := e.build()
	if err != nil {
		return nil, err
	}
	res := &ApplyResult{}
	for _, a := range plan.ForgetIntents {
		if err := st.ResolveIntent(a); err != nil {
			res.Failed = append(res.Failed, OpResult{Addr: a, Op: "forget", Err: fmt.Errorf("%s: forget journal entry: %w", a, err)})
			for _, o := range ops {
				res.NotStarted = append(res.NotStarted, OpResult{Addr: o.change.Addr.String(), Op: o.kind})
			}
			return res, res.Err()
		}
	}
	e.walk(ctx, ops, res)
	if len(res.Failed) > 0 {
		return res, res.Err()
	}
	if err := ctx.Err(); err != nil && len(res.NotStarted) > 0 {
		return res, fmt.Errorf("apply interrupted: %w", err)
	}
	outs, err := e.outputs(desired.Outputs)
	if err != nil {
		return res, err
	}
	res.Outputs = outs
	return res, nil
}

type executor struct {
	opts    ApplyOptions
	reg     Registry
	st      StateWriter
	plan    *Plan
	desired map[string]*DesiredResource
	changes map[string]*Change

	mu      sync.Mutex
	results map[string]Attrs // what each resource looks like now
	evMu    sync.Mutex
	total   int // operations in the walk, for Event.Total
}

// build makes the operation graph and checks it has no cycle.
func (e *executor) build() ([]*op, error) {
	puts := map[string]*op{}
	dels := map[string]*op{}
	var ops []*op
	for _, c := range e.plan.Changes {
		a := c.Addr.String()
		e.changes[a] = c
		if _, ok := e.reg[c.Addr.Type]; !ok {
			return nil, fmt.Errorf("%s: no handler for resource type %q", a, c.Addr.Type)
		}
		if c.Action == Delete || c.Action == Replace {
			o := &op{key: a + " 0delete", change: c, kind: "delete", del: true}
			dels[a] = o
			ops = append(ops, o)
		}
		kind := ""
		switch {
		case c.Action == Create || c.Action == Replace:
			kind = "create"
		case c.Action == Update:
			kind = "update"
		case c.Action == NoOp && c.Adopted:
			kind = "adopt"
		}
		if kind != "" {
			if e.desired[a] == nil {
				return nil, fmt.Errorf("%s: planned to %s but not in the desired resources", a, kind)
			}
			o := &op{key: a + " 1" + kind, change: c, kind: kind}
			puts[a] = o
			ops = append(ops, o)
		}
		if c.Action != Delete && c.Action != Replace && c.Action != Create {
			// Known now: producers that do not change serve their refs from
			// the plan.
			e.results[a] = knownOnly(c.After)
		}
	}
	edge := func(from, to *op) { // to waits for from
		if from == nil || to == nil || from == to {
			return
		}
		from.users = append(from.users, to)
		to.waits++
	}
	for a, c := range e.changes {
		// Creates and updates after their producers' creates and updates,
		// and after their own old instance is gone.
		if p := puts[a]; p != nil {
			for _, d := range c.Deps {
				edge(puts[d], p)
			}
			edge(dels[a], p)
		}
		// A delete waits for what depended on the old resource: the deletes
		// of dependents being deleted or replaced, and the updates of
		// dependents that stop depending on it.
		var prior []string
		switch c.Action {
		case Delete:
			prior = c.Deps
		case Replace, Update:
			prior = c.PriorDeps
		}
		desiredDeps := set(c.Deps)
		for _, d := range prior {
			dd := dels[d]
			if dd == nil {
				continue
			}
			if own := dels[a]; own != nil {
				edge(own, dd)
			} else if c.Action == Update && !desiredDeps[d] {
				edge(puts[a], dd)
			}
		}
	}
	// Create before destroy (Schema.CreateBeforeDestroy): a block's old
	// resources of such a type go only once its new ones of that type exist.
	for a, d := range dels {
		c := e.changes[a]
		if c.Action != Delete || !e.reg[c.Addr.Type].Schema().CreateBeforeDestroy {
			continue
		}
		for b, p := range puts {
			if pc := e.changes[b]; pc.Action == Create && pc.Addr.Block == c.Addr.Block && pc.Addr.Type == c.Addr.Type {
				edge(p, d)
			}
		}
	}
	// A create whose physical name or id is held by a resource being deleted
	// under another address (a block renamed in a way that keeps the name)
	// waits for that delete: names are deterministic, so both cannot exist.
	held := map[string]*op{}
	for a, o := range dels {
		c := e.changes[a]
		for _, k := range []string{c.ID, c.Name} {
			if k != "" {
				held[c.Addr.Type+"\x00"+k] = o
			}
		}
	}
	for a, p := range puts {
		if p.kind != "create" {
			continue
		}
		d := e.desired[a]
		for _, k := range []string{d.ID, d.Name} {
			if o := held[d.Addr.Type+"\x00"+k]; k != "" && o != nil && o.change.Addr != d.Addr {
				edge(o, p)
			}
		}
	}
	// Deduplicated edges are not needed for correctness: waits counts every
	// edge and each completion releases one.
	nodes := make([]string, len(ops))
	deps := map[string][]string{}
	for i, o := range ops {
		nodes[i] = o.key
		for _, u := range o.users {
			deps[u.key] = append(deps[u.key], o.key)
		}
	}
	order, err := TopoSort(nodes, deps)
	if err != nil {
		return nil, fmt.Errorf("cannot order the apply: %w", err)
	}
	byKey := map[string]*op{}
	for _, o := range ops {
		byKey[o.key] = o
	}
	sorted := make([]*op, len(order))
	for i, k := range order {
		sorted[i] = byKey[k]
	}
	return sorted, nil
}

func knownOnly(a Attrs) Attrs {
	out := Attrs{}
	for k, v := range a {
		if !IsUnknown(v) {
			out[k] = v
		}
	}
	return out
}

type opDone struct {
	o       *op
	elapsed time.Duration
	err     error
}

// walk runs the graph: ready operations start in address order, at most
// Parallelism at once; after the first failure (or cancellation) nothing new
// starts and the walk waits for those in flight.
func (e *executor) walk(ctx context.Context, ops []*op, res *ApplyResult) {
	e.total = len(ops)
	ready := newLaneSet(e.opts.Lanes, e.opts.Parallelism)
	for _, o := range ops {
		if o.waits == 0 {
			ready.push(o)
		}
	}
	done := make(chan opDone)
	running := 0
	stopped := false
	for {
		if ctx.Err() != nil {
			stopped = true
		}
		for !stopped && running < e.opts.Parallelism {
			o := ready.pop()
			if o == nil {
				break
			}
			o.started = true
			running++
			go func() {
				start := time.Now()
				err := e.run(ctx, o, start)
				done <- opDone{o: o, elapsed: time.Since(start), err: err}
			}()
		}
		if running == 0 {
			break
		}
		d := <-done
		running--
		ready.done(d.o)
		r := OpResult{Addr: d.o.change.Addr.String(), Op: d.o.kind, Elapsed: d.elapsed, Err: d.err}
		if d.err != nil {
			stopped = true
			res.Failed = append(res.Failed, r)
			continue
		}
		res.Done = append(res.Done, r)
		for _, u := range d.o.users {
			u.waits--
			if u.waits == 0 {
				ready.push(u)
			}
		}
	}
	for _, o := range ops {
		if !o.started {
			res.NotStarted = append(res.NotStarted, OpResult{Addr: o.change.Addr.String(), Op: o.kind})
		}
	}
}

type opHeap []*op

func (h opHeap) Len() int           { return len(h) }
func (h opHeap) Less(i, j int) bool { return h[i].key < h[j].key }
func (h opHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *opHeap) Push(x any)        { *h = append(*h, x.(*op)) }
func (h *opHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

func (e *executor) event(ev Event) {
	if e.opts.OnEvent == nil {
		return
	}
	ev.Total = e.total
	e.evMu.Lock()
	defer e.evMu.Unlock()
	e.opts.OnEvent(ev)
}

// run performs one operation and records it; the error names the address and
// the operation.
func (e *executor) run(ctx context.Context, o *op, start time.Time) error {
	c := o.change
	e.event(Event{Addr: c.Addr, Op: o.kind, Phase: Started, Start: start, At: start})
	ctx = e.withProgress(ctx, o, start)
	ctx, waited := withWaitMeter(ctx)
	var err error
	if o.del {
		err = e.delete(ctx, o, start)
	} else {
		err = e.put(ctx, o, start)
	}
	now := time.Now()
	w := time.Duration(waited.Load())
	if err != nil {
		err = fmt.Errorf("%s: %s: %w", c.Addr, o.kind, err)
		e.event(Event{Addr: c.Addr, Op: o.kind, Phase: Failed, Elapsed: now.Sub(start), Err: err, Start: start, At: now, Waited: w})
		return err
	}
	e.event(Event{Addr: c.Addr, Op: o.kind, Phase: Succeeded, Elapsed: now.Sub(start), Start: start, At: now, Waited: w})
	return nil
}

func (e *executor) delete(ctx context.Context, o *op, start time.Time) error {
	c := o.change
	a := c.Addr.String()
	h := e.reg[c.Addr.Type]
	id, prior := c.ID, c.Before
	if id == "" && c.Journaled {
		// A journaled create never recorded: find what it may have made.
		var found bool
		var err error
		err = e.retry(ctx, o, start, func(ctx context.Context) error {
			id, prior, found, _, err = lookupIntent(ctx, h, state.Intent{Name: c.Name, Attrs: c.Before}, proofJournal)
			return err
		})
		if err != nil {
			return fmt.Errorf("looking up %q: %w", c.Name, err)
		}
		if !found {
			return e.st.ResolveIntent(a)
		}
	}
	if err := e.retry(ctx, o, start, func(ctx context.Context) error { return h.Delete(ctx, id, prior) }); err != nil {
		return err
	}
	if err := e.st.Remove(a); err != nil {
		return err
	}
	if c.Journaled {
		return e.st.ResolveIntent(a)
	}
	return nil
}

func (e *executor) put(ctx context.Context, o *op, start time.Time) error {
	c := o.change
	a := c.Addr.String()
	d := e.desired[a]
	h := e.reg[c.Addr.Type]
	attrs, err := e.resolve(d)
	if err != nil {
		return err
	}
	var id string
	var recorded Attrs
	switch o.kind {
	case "adopt":
		id, recorded = c.ID, knownOnly(c.After)
	case "update":
		var actual Attrs
		// A release records its rollout while it runs (release.go).
		ctx = withProgressAddr(withCheckpoint(ctx, func(cp Attrs) error {
			return e.st.Upsert(state.Resource{Addr: a, Block: c.Addr.Block, Type: c.Addr.Type, ID: c.ID,
				Attrs: map[string]any(overlay(knownOnly(c.Before), cp.Norm(), nil)), Deps: c.Deps, Sensitive: c.Sensitive})
		}), a)
		err = e.retry(ctx, o, start, func(ctx context.Context) error {
			var err error
			actual, err = h.Update(ctx, c.ID, c.Before, attrs)
			return err
		})
		if err != nil {
			return err
		}
		id, recorded = c.ID, overlay(overlay(knownOnly(c.Before), attrs, nil), actual.Norm(), nil)
	case "create":
		var actual Attrs
		found := false
		if c.Journaled && !e.plan.Refreshed {
			// Not refreshed, so the plan could not look for what an
			// interrupted apply may have created under this name.
			err = e.retry(ctx, o, start, func(ctx context.Context) error {
				var err error
				id, actual, found, _, err = lookupIntent(ctx, h, state.Intent{Name: journalName(d), Attrs: attrs}, proofJournal)
				return err
			})
			if err != nil {
				return fmt.Errorf("looking up %q left by an interrupted apply: %w", d.Name, err)
			}
			if found {
				if actual, err = e.converge(ctx, o, start, h, id, attrs, actual); err != nil {
					return err
				}
			}
		}
		if !found {
			// Journal only what a later refresh can look up: a derivable id
			// or a Finder. An intent nobody can resolve would only stop
			// every later plan.
			_, finder := h.(Finder)
			journal := d.ID != "" || finder
			if journal {
				in := state.Intent{Addr: a, Block: c.Addr.Block, Type: c.Addr.Type, Name: journalName(d),
					Attrs: map[string]any(attrs), Deps: c.Deps, Started: time.Now().UTC()}
				if err := e.st.AddIntent(in); err != nil {
					return fmt.Errorf("journal: %w", err)
				}
			}
			// sent: an earlier attempt found the name free and sent the
			// create (ErrCreateSent), so what a later attempt collides
			// with may be that attempt's resource.
			sent := false
			err = e.retry(withProgressAddr(ctx, a), o, start, func(ctx context.Context) error {
				var err error
				id, actual, err = h.Create(ctx, attrs)
				if errors.Is(err, ErrCreateSent) {
					sent = true
				}
				return err
			})
			if err != nil && journal && errors.Is(err, ErrAlreadyExists) {
				// The name is taken. Either a retried call made it (the SDK
				// retries a create whose answer was lost, and the retry
				// finds the first one's resource; or the executor retries
				// a Create that sent its call and then was throttled), or
				// it is someone else's. Only the first is adopted:
				// lookupIntent checks ownership by tags, or — for a type
				// whose tags come after the create — by an earlier
				// attempt's free-name check and the resource's identity.
				// This run's journal entry alone proves nothing about a
				// resource that was there before it.
				p := proofTags
				if sent {
					p = proofSent
				}
				var found bool
				var foreign string
				// Throttling of the look-up is retried like any call's: a
				// name that is ours must not be called foreign because the
				// check of its tags was throttled.
				lookErr := e.retry(ctx, o, start, func(ctx context.Context) error {
					var err error
					id, actual, found, foreign, err = lookupIntent(ctx, h, state.Intent{Name: journalName(d), Attrs: attrs}, p)
					return err
				})
				switch {
				case lookErr == nil && found:
					// The lost attempt may have stopped half-way (a bucket
					// made, its settings not yet applied): finish the job.
					actual, err = e.converge(ctx, o, start, h, id, attrs, actual)
				case lookErr == nil:
					// Not evdeploy's: never adopted, never changed. The
					// intent goes only when no attempt sent the create:
					// otherwise this run may have made a resource under
					// the name, and the next refresh must still look.
					if !sent {
						_ = e.st.ResolveIntent(a)
					}
					if foreign != "" {
						err = &ForeignError{Addr: c.Addr, Name: journalName(d), Why: foreign}
					}
				default:
					err = fmt.Errorf("%w; checking whether it is this deployment's failed: %v", err, lookErr)
				}
			}
			if err != nil {
				// The intent stays: a failed call may still have created
				// the resource (a timeout), and the next refresh looks.
				return err
			}
		}
		recorded = overlay(attrs, actual.Norm(), nil)
	}
	if err := e.st.Upsert(state.Resource{Addr: a, Block: c.Addr.Block, Type: c.Addr.Type, ID: id,
		Attrs: map[string]any(recorded), Deps: c.Deps, Sensitive: c.Sensitive}); err != nil {
		return err
	}
	if c.Journaled || c.Adopted || o.kind == "create" {
		if err := e.st.ResolveIntent(a); err != nil {
			return err
		}
	}
	e.mu.Lock()
	e.results[a] = recorded
	e.mu.Unlock()
	return nil
}

// journalName is what a journaled create is looked up by: the physical id when
// it is derivable (a topic's ARN; for most types the id is the name), else the
// deterministic name (types whose id the service assigns implement Finder,
// which looks up by the journaled attributes instead).
func journalName(d *DesiredResource) string {
	if d.ID != "" {
		return d.ID
	}
	return d.Name
}

// resolve returns d's attributes with every Ref and Expr replaced by the value
// its producer now has.
func (e *executor) resolve(d *DesiredResource) (Attrs, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make(Attrs, len(d.Attrs))
	for k, v := range d.Attrs {
		r, err := e.value(v)
		if err != nil {
			return nil, fmt.Errorf("attribute %s: %w", k, err)
		}
		out[k] = r
	}
	return out, nil
}

func (e *executor) ref(r Ref) (any, error) {
	p := r.Resource.String()
	if v, ok := e.results[p][r.Attr]; ok {
		return v, nil
	}
	return nil, fmt.Errorf("%s.%s is not known: %s did not report it", p, r.Attr, p)
}

func (e *executor) value(v any) (any, error) {
	switch x := v.(type) {
	case Ref:
		return e.ref(x)
	case *Expr:
		resolved := make(map[Ref]any, len(x.Refs))
		for _, r := range x.Refs {
			val, err := e.ref(r)
			if err != nil {
				return nil, err
			}
			resolved[r] = val
		}
		val, _, err := evalExpr(x, resolved)
		return val, err
	case []any:
		out := make([]any, len(x))
		for i, el := range x {
			r, err := e.value(el)
			if err != nil {
				return nil, err
			}
			out[i] = r
		}
		return out, nil
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, el := range x {
			r, err := e.value(el)
			if err != nil {
				return nil, err
			}
			out[k] = r
		}
		return out, nil
	case Attrs:
		return e.value(map[string]any(x))
	case []map[string]any:
		return e.value(Norm(x))
	}
	return safeNorm(v)
}

// retry calls f until it succeeds, fails with an error that is not retryable,
// or runs out of retries: throttling gets ThrottleRetries jittered exponential
// backoffs; propagation errors are retried until PropagationTimeout, after
// which the error says what was awaited and what the resource depends on.
func (e *executor) retry(ctx context.Context, o *op, start time.Time, f func(context.Context) error) error {
	throttles := 0
	var propDeadline time.Time
	// A call in flight is not cut short by an interruption (Ctrl-C): it
	// finishes and is recorded, so nothing is left half-made. Only the waits
	// between retries end early.
	callCtx := context.WithoutCancel(ctx)
	for attempt := 1; ; attempt++ {
		err := f(callCtx)
		if err == nil {
			return nil
		}
		var wait time.Duration
		switch {
		case errors.Is(err, ErrThrottled):
			if throttles >= e.opts.ThrottleRetries {
				return fmt.Errorf("still throttled after %d retries: %w", throttles, err)
			}
			throttles++
			wait = e.backoff(throttles)
		case errors.Is(err, ErrPropagating):
			now := time.Now()
			if propDeadline.IsZero() {
				propDeadline = now.Add(e.opts.PropagationTimeout)
			}
			if !now.Before(propDeadline) {
				return e.propagationError(o.change, err)
			}
			wait = min(e.backoff(attempt), propDeadline.Sub(now))
		default:
			return err
		}
		now := time.Now()
		e.event(Event{Addr: o.change.Addr, Op: o.kind, Phase: Retrying, Elapsed: now.Sub(start), Attempt: attempt, Err: err, Start: start, At: now})
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w (last error: %v)", ctx.Err(), err)
		case <-t.C:
		}
	}
}

// backoff is the n-th (1-based) jittered exponential delay.
func (e *executor) backoff(n int) time.Duration {
	return jitteredBackoff(e.opts.BaseBackoff, e.opts.MaxBackoff, n)
}

// jitteredBackoff is a random duration in [d/2, d] with d = base·2^(n-1)
// capped at max, so concurrent retries spread out.
func jitteredBackoff(base, maxD time.Duration, n int) time.Duration {
	d := base
	for i := 1; i < n && d < maxD; i++ {
		d *= 2
	}
	d = min(d, maxD)
	half := d / 2
	return half + time.Duration(rand.Int64N(int64(half)+1))
}

func (e *executor) propagationError(c *Change, err error) error {
	deps := append([]string(nil), c.Deps...)
	sort.Strings(deps)
	on := "nothing else in this deployment"
	if len(deps) > 0 {
		on = strings.Join(deps, ", ")
	}
	return fmt.Errorf("%w after %s: still %w; it depends on %s",
		ErrPropagationTimeout, e.opts.PropagationTimeout, err, on)
}

// ErrPropagationTimeout is wrapped when apply stops waiting for a dependency
// to become visible.
var ErrPropagationTimeout = errors.New("gave up waiting")

// outputs evaluates the app's outputs from the applied resources.
func (e *executor) outputs(outs []*DesiredOutput) (map[string]state.Output, error) {
	if len(outs) == 0 {
		return nil, nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	m := make(map[string]state.Output, len(outs))
	for _, o := range outs {
		v, err := e.value(o.Value)
		if err != nil {
			return nil, fmt.Errorf("output %q: %w", o.Name, err)
		}
		m[o.Name] = state.Output{Value: v, Sensitive: o.Sensitive}
	}
	return m, nil
}

// converge brings an adopted resource (found after a create whose outcome was
// lost) to the desired attributes: an interrupted create may have made the
// resource but not yet applied all of its settings. It updates in place only
// when an attribute the service reported differs from desired.
func (e *executor) converge(ctx context.Context, o *op, start time.Time, h Handler, id string, desired, actual Attrs) (Attrs, error) {
	sch := h.Schema()
	skip := set(append(append(append([]string{}, sch.Computed...), sch.NoDiff...), sch.WriteOnly...))
	have := actual.Norm()
	stale := false
	for k, v := range desired {
		if skip[k] {
			continue
		}
		if got, ok := have[k]; ok && !Equal(v, got) {
			stale = true
			break
		}
	}
	if !stale {
		return actual, nil
	}
	var updated Attrs
	err := e.retry(ctx, o, start, func(ctx context.Context) error {
		var err error
		updated, err = h.Update(ctx, id, have, desired)
		return err
	})
	if err != nil {
		return nil, err
	}
	return overlay(have, updated.Norm(), nil), nil
}
