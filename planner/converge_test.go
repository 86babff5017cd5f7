package planner

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestConvergeRandomGraphs drives random desired graphs through several
// versions (resources added and removed, values changed, force-new changes,
// references rewired) against the fake cloud, and checks after every apply
// that the next plan is empty and that state and cloud agree exactly (nothing
// orphaned, nothing forgotten), also when an apply stopped on a failed create
// halfway; finally destroy leaves the cloud empty.
func TestConvergeRandomGraphs(t *testing.T) {
	types := []string{"fake_role", "fake_func", "fake_queue", "fake_store"}
	for seed := range uint64(12) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			r := rand.New(rand.NewPCG(seed, 7))
			n := 5 + r.IntN(25)
			present := make([]bool, n)
			val := make([]int64, n)
			size := make([]int64, n)
			ref := make([]int, n)
			for i := range n {
				present[i] = r.IntN(3) > 0
				ref[i] = -1
			}
			build := func() *Desired {
				var rs []*DesiredResource
				for i := range n {
					if !present[i] {
						continue
					}
					typ := types[i%len(types)]
					attrs := Attrs{"name": fmt.Sprintf("n%03d", i), "v": val[i]}
					if typ == "fake_store" {
						attrs["size"] = size[i]
					}
					if j := ref[i]; j >= 0 && present[j] {
						attrs["ref"] = Ref{Resource: addr(fmt.Sprintf("b.n%03d", j), types[j%len(types)]), Attr: "arn"}
					}
					rs = append(rs, res(addr(fmt.Sprintf("b.n%03d", i), typ), attrs))
				}
				return desiredOf(rs...)
			}
			rec := &recorder{}
			fc := newFakeCloud(rec)
			reg := fc.registry()
			st := newFakeState(rec, nil)
			for version := range 5 {
				if version > 0 {
					for i := range n {
						switch r.IntN(6) {
						case 0:
							present[i] = !present[i]
						case 1:
							val[i]++
						case 2:
							size[i]++
						case 3:
							if i > 0 {
								ref[i] = r.IntN(i)
							}
						}
					}
				}
				d := build()
				p := mustPlan(t, d, st.snapshot(), reg, true)
				t.Logf("version %d: %+v", version, p.Summary())
				// Half the time one create fails: the apply stops, and the
				// next plan and apply pick up from what was recorded.
				faulty := fmt.Sprintf("create n%03d", r.IntN(n))
				if r.IntN(2) == 0 {
					fc.setFault(faulty, &fault{err: errBoom})
				}
				if _, err := Apply(context.Background(), p, d, reg, st, ApplyOptions{AllowDataLoss: true, Parallelism: 1 + r.IntN(8)}); err != nil {
					fc.setFault(faulty, nil)
					p = mustPlan(t, d, st.snapshot(), reg, true)
					if _, err := Apply(context.Background(), p, d, reg, st, ApplyOptions{AllowDataLoss: true, Parallelism: 4}); err != nil {
						t.Fatalf("version %d, after a failure: %v", version, err)
					}
				}
				fc.setFault(faulty, nil)
				if again := mustPlan(t, d, st.snapshot(), reg, true); again.HasChanges() {
					t.Fatalf("version %d: not converged: %v", version, changeActions(again))
				}
				checkCloudMatchesState(t, fc, st)
			}
			dp := PlanDestroy(st.snapshot())
			if _, err := Apply(context.Background(), dp, nil, reg, st, ApplyOptions{AllowDataLoss: true, Parallelism: 3}); err != nil {
				t.Fatal(err)
			}
			checkCloudMatchesState(t, fc, st)
			if n := len(st.addrs()); n != 0 {
				t.Errorf("state after destroy: %d resources", n)
			}
		})
	}
}

func checkCloudMatchesState(t *testing.T, fc *fakeCloud, st *fakeState) {
	t.Helper()
	doc := st.snapshot()
	recorded := 0
	for _, r := range doc.Resources {
		if _, ok := fc.get(r.Type, r.ID); !ok {
			t.Errorf("%s (%s) recorded but not in the cloud", r.Addr, r.ID)
		}
		recorded++
	}
	fc.mu.Lock()
	defer fc.mu.Unlock()
	inCloud := 0
	for _, m := range fc.resources {
		inCloud += len(m)
	}
	if inCloud != recorded {
		t.Errorf("cloud holds %d resources, state records %d", inCloud, recorded)
	}
	if len(doc.Journal) != 0 {
		t.Errorf("journal left: %v", doc.Journal)
	}
}
