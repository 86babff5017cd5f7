package planner

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/evdeploy/evdeploy/state"
)

// The state package's Session is the StateWriter the CLI passes to Apply.
var _ StateWriter = (*state.Session)(nil)

// TestApplyWithStateSession runs the engine against the real state session and
// local file backend: a first apply, a plan from the file it wrote (nothing to
// do, every value known), an interrupted create adopted on the next plan, and a
// destroy that leaves the document empty.
func TestApplyWithStateSession(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "dev.json")
	open := func() *state.Session {
		t.Helper()
		s, err := state.Open(ctx, state.NewLocalPath(path), "shop", "dev")
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	fc := newFakeCloud(&recorder{})
	reg := fc.registry()
	d := appDesired(128)

	s := open()
	p := mustPlan(t, d, s.Doc(), reg, true)
	if _, err := Apply(ctx, p, d, reg, s, ApplyOptions{}); err != nil {
		t.Fatal(err)
	}

	s = open() // read back from the file
	doc := s.Doc()
	if len(doc.Resources) != 5 || len(doc.Journal) != 0 {
		t.Fatalf("state after apply: %d resources, journal %v", len(doc.Resources), doc.Journal)
	}
	p = mustPlan(t, d, doc, reg, true)
	if p.HasChanges() || IsUnknown(p.Changes[len(p.Changes)-1].After) {
		t.Errorf("plan from the written state: %v", changeActions(p))
	}

	// Simulate a kill between the create call and the state write: the
	// queue exists, state only has its intent.
	if err := s.Remove(queueA.String()); err != nil {
		t.Fatal(err)
	}
	if err := s.AddIntent(state.Intent{Addr: queueA.String(), Block: queueA.Block, Type: queueA.Type, Name: "shop-dev-orders",
		Attrs: map[string]any{"name": "shop-dev-orders", "visibility": int64(60)}}); err != nil {
		t.Fatal(err)
	}
	p = mustPlan(t, d, s.Doc(), reg, true)
	var q *Change
	for _, c := range p.Changes {
		if c.Addr == queueA {
			q = c
		}
	}
	if q == nil || !q.Adopted || q.Action != NoOp {
		t.Fatalf("queue change = %+v", q)
	}
	if _, err := Apply(ctx, p, d, reg, s, ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	if doc := open().Doc(); len(doc.Resources) != 5 || len(doc.Journal) != 0 {
		t.Errorf("after adoption: %d resources, journal %v", len(doc.Resources), doc.Journal)
	}
	if p := mustPlan(t, d, s.Doc(), reg, true); p.HasChanges() {
		t.Errorf("plan after adoption: %v", changeActions(p))
	}

	dp := PlanDestroy(s.Doc())
	if _, err := Apply(ctx, dp, nil, reg, s, ApplyOptions{AllowDataLoss: true}); err != nil {
		t.Fatal(err)
	}
	if doc := open().Doc(); len(doc.Resources) != 0 || len(doc.Journal) != 0 {
		t.Errorf("after destroy: %+v", doc)
	}
}
