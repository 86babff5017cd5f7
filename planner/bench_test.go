package planner

import (
	"context"
	"fmt"
	"io"
	"testing"
)

// bigDesired is n resources: n/5 copies of a role → function ← queue, table,
// mapping group, each function reading its role's arn, its queue's url and its
// table's arn (an Expr), each mapping depending on its function.
func bigDesired(n int) *Desired {
	var rs []*DesiredResource
	for i := range n / 5 {
		b := fmt.Sprintf("function.f%05d", i)
		role := ResourceAddr{Block: b, Type: "fake_role", Name: "main"}
		fn := ResourceAddr{Block: b, Type: "fake_func", Name: "main"}
		q := ResourceAddr{Block: fmt.Sprintf("queue.q%05d", i), Type: "fake_queue", Name: "main"}
		tb := ResourceAddr{Block: fmt.Sprintf("table.t%05d", i), Type: "fake_store", Name: "main"}
		m := ResourceAddr{Block: fmt.Sprintf("trigger.m%05d", i), Type: "fake_mapping", Name: "main"}
		tref := Ref{Resource: tb, Attr: "arn"}
		rs = append(rs,
			res(role, Attrs{"name": fmt.Sprintf("r%05d", i), "policy": `{"Statement":[]}`}),
			res(fn, Attrs{"name": fmt.Sprintf("f%05d", i), "role": Ref{Resource: role, Attr: "arn"}, "memory": int64(128),
				"environment": map[string]any{"Q": Ref{Resource: q, Attr: "url"}, "T": &Expr{Refs: []Ref{tref}, Text: "t.arn",
					Eval: func(m map[Ref]any) (any, error) { return m[tref], nil }}}}),
			res(q, Attrs{"name": fmt.Sprintf("q%05d", i), "visibility": int64(30)}),
			res(tb, Attrs{"name": fmt.Sprintf("t%05d", i), "size": int64(1)}),
			res(m, Attrs{"function": fmt.Sprintf("f%05d", i), "source": Ref{Resource: q, Attr: "arn"}, "batch": int64(10)}, fn),
		)
	}
	return desiredOf(rs...)
}

func BenchmarkPlan(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		d := bigDesired(n)
		rec := &recorder{}
		fc := newFakeCloud(rec)
		reg := fc.registry()
		st := newFakeState(rec, nil)
		empty := st.snapshot()
		p, err := Diff(d, empty, map[string]Observation{}, reg)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Apply(context.Background(), p, d, reg, st, ApplyOptions{Parallelism: 50}); err != nil {
			b.Fatal(err)
		}
		full := st.snapshot()
		obs, err := Refresh(context.Background(), full, reg, 10)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("diff-create/%d", n), func(b *testing.B) {
			for b.Loop() {
				if _, err := Diff(d, empty, map[string]Observation{}, reg); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("diff-nochange/%d", n), func(b *testing.B) {
			for b.Loop() {
				p, err := Diff(d, full, obs, reg)
				if err != nil || p.HasChanges() {
					b.Fatal(err, p.Summary())
				}
			}
		})
		b.Run(fmt.Sprintf("refresh/%d", n), func(b *testing.B) {
			for b.Loop() {
				if _, err := Refresh(context.Background(), full, reg, 10); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("render-detail/%d", n), func(b *testing.B) {
			for b.Loop() {
				if err := Render(io.Discard, p, RenderOptions{Detail: true}); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("apply-create/%d", n), func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				rec := &recorder{}
				fc := newFakeCloud(rec)
				reg := fc.registry()
				st := newFakeState(rec, nil)
				b.StartTimer()
				if _, err := Apply(context.Background(), p, d, reg, st, ApplyOptions{Parallelism: 10}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
