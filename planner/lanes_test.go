package planner

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// roleLane puts fake roles in a lane of the given width; everything else in
// the default lane.
type roleLane int

func (w roleLane) Lane(typ, op string) (string, int) {
	if typ == "fake_role" {
		return "iam", int(w)
	}
	return "", 0
}

// TestApplyLanes checks that a full lane holds back only its own operations:
// with the role lane one wide, one role is in flight at a time while queues
// fill the rest of the total.
func TestApplyLanes(t *testing.T) {
	rec := &recorder{}
	fc := newFakeCloud(rec)
	fc.latency = 20 * time.Millisecond
	reg := fc.registry()
	st := newFakeState(rec, nil)
	var rs []*DesiredResource
	for i := range 6 {
		rs = append(rs, res(addr(fmt.Sprintf("function.f%02d", i), "fake_role"), Attrs{"name": fmt.Sprintf("r%02d", i)}))
		rs = append(rs, res(addr(fmt.Sprintf("queue.q%02d", i), "fake_queue"), Attrs{"name": fmt.Sprintf("q%02d", i)}))
	}
	d := desiredOf(rs...)
	p := mustPlan(t, d, st.snapshot(), reg, false)
	flight := map[string]int{}
	peak := map[string]int{}
	total, peakTotal := 0, 0
	_, err := Apply(context.Background(), p, d, reg, st, ApplyOptions{Parallelism: 4, Lanes: roleLane(1), OnEvent: func(e Event) {
		switch e.Phase {
		case Started:
			flight[e.Addr.Type]++
			total++
		case Succeeded, Failed:
			flight[e.Addr.Type]--
			total--
		}
		peak[e.Addr.Type] = max(peak[e.Addr.Type], flight[e.Addr.Type])
		peakTotal = max(peakTotal, total)
	}})
	if err != nil {
		t.Fatal(err)
	}
	if peak["fake_role"] != 1 {
		t.Errorf("roles in flight at most %d, want 1 (the lane's width)", peak["fake_role"])
	}
	if peakTotal > 4 {
		t.Errorf("%d operations in flight, the total is 4", peakTotal)
	}
	if peak["fake_queue"] < 3 {
		t.Errorf("queues in flight at most %d: the full role lane held them back", peak["fake_queue"])
	}
}

// TestAddWait checks that what a call reports waiting reaches the event.
func TestAddWait(t *testing.T) {
	ctx, m := withWaitMeter(context.Background())
	AddWait(ctx, 30*time.Millisecond)
	AddWait(ctx, 20*time.Millisecond)
	AddWait(context.Background(), time.Second) // no meter: ignored
	if got := time.Duration(m.Load()); got != 50*time.Millisecond {
		t.Errorf("waited %v, want 50ms", got)
	}
}
