package planner

import (
	"container/heap"
	"context"
	"sync/atomic"
	"time"
)

// Lanes tells the executor which rate budget (a "lane") each operation's API
// calls draw on and how many of one lane's operations may be in flight at
// once. With it, a lane that is full (its API at its quota) holds back only
// its own operations: ready operations of other lanes start while it waits,
// and ApplyOptions.Parallelism caps the total. The AWS provider implements it
// from its table of API quotas; the planner knows nothing of the APIs.
type Lanes interface {
	// Lane names the budget of an operation (op: create, update, delete,
	// adopt) on a resource of type resourceType and the lane's width. An
	// empty name or a width <= 0 puts the operation in the default lane,
	// bounded only by the total.
	Lane(resourceType, op string) (name string, width int)
}

// waitKey carries an operation's wait meter in the context its calls get.
type waitKey struct{}

// AddWait tells the executor that the operation whose call carries ctx spent
// d waiting for its rate budget (not talking to the service). The op trace
// reports it, so a benchmark can tell waiting from working. Without a meter in
// ctx it does nothing.
func AddWait(ctx context.Context, d time.Duration) {
	if m, ok := ctx.Value(waitKey{}).(*atomic.Int64); ok && d > 0 {
		m.Add(int64(d))
	}
}

// withWaitMeter returns ctx with a fresh meter for AddWait.
func withWaitMeter(ctx context.Context) (context.Context, *atomic.Int64) {
	m := new(atomic.Int64)
	return context.WithValue(ctx, waitKey{}, m), m
}

// laneSet holds the ready operations by lane, each in address order.
type laneSet struct {
	lanes  Lanes
	total  int
	byName map[string]*lane
	order  []*lane // deterministic scan order: first seen first
}

type lane struct {
	name    string
	width   int
	running int
	ready   opHeap
}

func newLaneSet(l Lanes, total int) *laneSet {
	return &laneSet{lanes: l, total: total, byName: map[string]*lane{}}
}

func (s *laneSet) laneOf(o *op) *lane {
	name, width := "", s.total
	if s.lanes != nil {
		if n, w := s.lanes.Lane(o.change.Addr.Type, o.kind); n != "" && w > 0 {
			name, width = n, min(w, s.total)
		}
	}
	l := s.byName[name]
	if l == nil {
		l = &lane{name: name, width: width}
		s.byName[name] = l
		s.order = append(s.order, l)
	}
	return l
}

func (s *laneSet) push(o *op) {
	l := s.laneOf(o)
	o.lane = l
	heap.Push(&l.ready, o)
}

// pop returns the ready operation with the smallest address among the lanes
// that have room, or nil.
func (s *laneSet) pop() *op {
	var best *lane
	for _, l := range s.order {
		if l.running >= l.width || l.ready.Len() == 0 {
			continue
		}
		if best == nil || l.ready[0].key < best.ready[0].key {
			best = l
		}
	}
	if best == nil {
		return nil
	}
	best.running++
	return heap.Pop(&best.ready).(*op)
}

func (s *laneSet) done(o *op) { o.lane.running-- }
