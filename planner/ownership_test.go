package planner

import (
	"context"
	"errors"
	"testing"

	"github.com/evdeploy/evdeploy/state"
)

func TestOwnedBy(t *testing.T) {
	ours := map[string]any{"evdeploy:app": "shop", "evdeploy:stage": "dev", "evdeploy:block": "queue.orders", "team": "a"}
	tests := []struct {
		name            string
		desired, actual Attrs
		want            bool
	}{
		{"our tags", Attrs{"tags": ours}, Attrs{"tags": ours}, true},
		{"our tags among others", Attrs{"tags": ours}, Attrs{"tags": map[string]any{"evdeploy:app": "shop", "evdeploy:stage": "dev", "evdeploy:block": "queue.orders", "x": "y"}}, true},
		{"another stage's", Attrs{"tags": ours}, Attrs{"tags": map[string]any{"evdeploy:app": "shop", "evdeploy:stage": "prod", "evdeploy:block": "queue.orders"}}, false},
		{"untagged: someone else's", Attrs{"tags": ours}, Attrs{"tags": map[string]any{}}, false},
		{"service reports no tags: judged by the lookup", Attrs{"tags": ours}, Attrs{"name": "q"}, true},
		{"type without tags: judged by the lookup", Attrs{"function_name": "f"}, Attrs{"function_name": "f"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ownedBy(tt.desired, tt.actual); got != tt.want {
				t.Errorf("ownedBy = %v, want %v", got, tt.want)
			}
		})
	}
}

// A create whose answer was lost is retried by the SDK, and the retry finds
// the resource the first attempt made: apply adopts it in the same run (it
// carries this deployment's tags) instead of stopping on a collision it caused
// itself. A resource with another owner's tags stops the apply and is never
// adopted.
func TestApplyAdoptsItsOwnLostCreate(t *testing.T) {
	tags := map[string]any{"evdeploy:app": "shop", "evdeploy:stage": "dev", "evdeploy:block": "function.api"}
	for _, tt := range []struct {
		name      string
		foundTags map[string]any
		wantErr   bool
	}{
		{"ours", tags, false},
		{"someone else's", map[string]any{"owner": "other-team"}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{}
			fc := newFakeCloud(rec)
			reg := fc.registry()
			d := appDesired(128)
			for _, r := range d.Resources {
				if r.Addr == roleA {
					r.Attrs["tags"] = tags
				}
			}
			// What the lost first attempt made.
			fc.put("fake_role", "shop-dev-api-role", Attrs{"name": "shop-dev-api-role", "policy": `{"Statement":[]}`, "tags": tt.foundTags, "arn": "arn:fake:fake_role:shop-dev-api-role"})
			doc := &state.Document{Lineage: "l"}
			p, err := Diff(d, doc, map[string]Observation{}, reg)
			if err != nil {
				t.Fatal(err)
			}
			st := newFakeState(rec, doc)
			_, err = Apply(context.Background(), p, d, reg, st, ApplyOptions{})
			if tt.wantErr {
				if !errors.Is(err, ErrAlreadyExists) {
					t.Fatalf("err = %v, want ErrAlreadyExists", err)
				}
				if indexOf(st.addrs(), roleA.String()) >= 0 {
					t.Error("someone else's role was recorded as ours")
				}
				if len(st.snapshot().Journal) != 0 {
					t.Errorf("journal keeps %v: the next plan would look for it again", st.snapshot().Journal)
				}
				return
			}
			if err != nil {
				t.Fatalf("apply: %v", err)
			}
			if indexOf(st.addrs(), roleA.String()) < 0 {
				t.Errorf("the role was not recorded: %v", st.addrs())
			}
		})
	}
}
