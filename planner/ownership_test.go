package planner

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/evdeploy/evdeploy/state"
)

func TestJudgeOwnership(t *testing.T) {
	ours := map[string]any{"evdeploy:app": "shop", "evdeploy:stage": "dev", "evdeploy:block": "queue.orders", "team": "a"}
	plain := Schema{Type: "q", ForceNew: []string{"name"}}
	late := Schema{Type: "b", ForceNew: []string{"name", "key"}, TagsAfterCreate: true}
	zoned := Schema{Type: "r", ForceNew: []string{"name", "type"}, ForeignParent: true}
	tests := []struct {
		name            string
		sch             Schema
		desired, actual Attrs
		proof           proof
		want            bool
		why             string
	}{
		{"our tags", plain, Attrs{"tags": ours}, Attrs{"tags": ours}, proofTags, true, ""},
		{"our tags among others", plain, Attrs{"tags": ours}, Attrs{"tags": map[string]any{"evdeploy:app": "shop", "evdeploy:stage": "dev", "evdeploy:block": "queue.orders", "x": "y"}}, proofTags, true, ""},
		{"another stage's", plain, Attrs{"tags": ours}, Attrs{"tags": map[string]any{"evdeploy:app": "shop", "evdeploy:stage": "prod", "evdeploy:block": "queue.orders"}}, proofJournal, false,
			`its ownership tags name another owner: evdeploy:stage="prod"`},
		{"another block's", late, Attrs{"tags": ours}, Attrs{"tags": map[string]any{"evdeploy:app": "shop", "evdeploy:stage": "dev", "evdeploy:block": "queue.other"}}, proofJournal, false,
			`its ownership tags name another owner: evdeploy:block="queue.other"`},
		{"untagged: someone else's", plain, Attrs{"tags": ours}, Attrs{"tags": map[string]any{}}, proofTags, false, "it carries no evdeploy ownership tags"},
		{"no tags reported: someone else's", plain, Attrs{"tags": ours}, Attrs{"name": "q"}, proofTags, false, "it carries no evdeploy ownership tags"},
		{"other tags only: someone else's", plain, Attrs{"tags": ours}, Attrs{"tags": map[string]any{"team": "a"}}, proofJournal, false, "it carries no evdeploy ownership tags"},
		{"untagged, journaled, but tags come with the create", plain, Attrs{"tags": ours, "name": "q"}, Attrs{"name": "q"}, proofJournal, false, "it carries no evdeploy ownership tags"},
		{"untagged, tags come later, this run's collision", late, Attrs{"tags": ours, "name": "b"}, Attrs{"name": "b"}, proofTags, false, "it carries no evdeploy ownership tags"},
		{"untagged, tags come later, journaled, identity matches", late, Attrs{"tags": ours, "name": "b", "key": "id"}, Attrs{"name": "b", "key": "id"}, proofJournal, true, ""},
		{"untagged, tags come later, journaled, identity unreported", late, Attrs{"tags": ours, "name": "b", "key": "id"}, Attrs{"name": "b"}, proofJournal, true, ""},
		{"untagged, tags come later, journaled, another identity", late, Attrs{"tags": ours, "name": "b", "key": "id"}, Attrs{"name": "b", "key": "pk"}, proofJournal, false,
			"it carries no evdeploy ownership tags and differs from what evdeploy would have created in key"},
		{"untagged, tags come later, an earlier attempt sent the create, identity matches", late, Attrs{"tags": ours, "name": "b", "key": "id"}, Attrs{"name": "b", "key": "id"}, proofSent, true, ""},
		{"untagged, tags come later, an earlier attempt sent the create, another identity", late, Attrs{"tags": ours, "name": "b", "key": "id"}, Attrs{"name": "b", "key": "pk"}, proofSent, false,
			"it carries no evdeploy ownership tags and differs from what evdeploy would have created in key"},
		{"untagged, an earlier attempt sent the create, but tags come with the create", plain, Attrs{"tags": ours, "name": "q"}, Attrs{"name": "q"}, proofSent, false, "it carries no evdeploy ownership tags"},
		{"another app's tags, an earlier attempt sent the create", late, Attrs{"tags": ours}, Attrs{"tags": map[string]any{"evdeploy:app": "web", "evdeploy:stage": "dev", "evdeploy:block": "queue.orders"}}, proofSent, false,
			`its ownership tags name another owner: evdeploy:app="web"`},
		{"type without tags: judged by the lookup", plain, Attrs{"function_name": "f"}, Attrs{"function_name": "f"}, proofTags, true, ""},
		{"record in the user's zone, this run's collision", zoned, Attrs{"name": "api.example.com", "type": "A", "records": []any{"192.0.2.1"}}, Attrs{"name": "api.example.com", "type": "A", "records": []any{"192.0.2.1"}}, proofTags, false, "evdeploy did not write it"},
		{"record in the user's zone, journaled, same value", zoned, Attrs{"name": "api.example.com", "type": "A", "records": []any{"192.0.2.1"}}, Attrs{"name": "api.example.com", "type": "A", "records": []any{"192.0.2.1"}}, proofJournal, true, ""},
		{"record in the user's zone, journaled, another value", zoned, Attrs{"name": "api.example.com", "type": "A", "records": []any{"192.0.2.1"}}, Attrs{"name": "api.example.com", "type": "A", "records": []any{"192.0.2.9"}}, proofJournal, false, "it differs from what evdeploy wrote in records"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, why := judgeOwnership(tt.sch, tt.desired, tt.actual, tt.proof)
			if got != tt.want || why != tt.why {
				t.Errorf("judgeOwnership = %v, %q; want %v, %q", got, why, tt.want, tt.why)
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
				var foreign *ForeignError
				if !errors.Is(err, ErrAlreadyExists) || !errors.As(err, &foreign) {
					t.Fatalf("err = %v, want a ForeignError", err)
				}
				for _, want := range []string{roleA.String(), `"shop-dev-api-role"`, "evdeploy import " + roleA.String() + " shop-dev-api-role", "set name ="} {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("error does not say %q:\n%v", want, err)
					}
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

// A journal entry left by an interrupted apply does not make a resource
// evdeploy's: refresh finds an untagged role under the journaled name (made
// by someone else before the create was ever sent), does not adopt it, the
// plan says the apply will stop there, and apply stops with a ForeignError
// without changing it. Destroy's lookup of the same entry leaves it alone.
func TestJournalDoesNotAdoptForeign(t *testing.T) {
	tags := map[string]any{"evdeploy:app": "shop", "evdeploy:stage": "dev", "evdeploy:block": "function.api"}
	rec := &recorder{}
	fc := newFakeCloud(rec)
	reg := fc.registry()
	d := appDesired(128)
	var roleAttrs Attrs
	for _, r := range d.Resources {
		if r.Addr == roleA {
			r.Attrs["tags"] = tags
			roleAttrs = r.Attrs
		}
	}
	foreign := Attrs{"name": "shop-dev-api-role", "policy": `{"Statement":["theirs"]}`, "arn": "arn:fake:fake_role:shop-dev-api-role"}
	fc.put("fake_role", "shop-dev-api-role", foreign)
	doc := &state.Document{Lineage: "l", Journal: []state.Intent{{Addr: roleA.String(), Block: roleA.Block, Type: roleA.Type,
		Name: "shop-dev-api-role", Attrs: map[string]any(roleAttrs)}}}

	obs, err := Refresh(context.Background(), doc, reg, 0)
	if err != nil {
		t.Fatal(err)
	}
	if o := obs[roleA.String()]; o.Adopted || o.Foreign != "it carries no evdeploy ownership tags" {
		t.Fatalf("observation = %+v, want not adopted, foreign", o)
	}
	p, err := Diff(d, doc, obs, reg)
	if err != nil {
		t.Fatal(err)
	}
	var c *Change
	for _, ch := range p.Changes {
		if ch.Addr == roleA {
			c = ch
		}
	}
	if c.Action != Create || !strings.Contains(c.Reason, "apply will stop there") {
		t.Fatalf("role change = %s %q, want a create that says apply will stop", c.Action, c.Reason)
	}
	st := newFakeState(rec, doc)
	_, err = Apply(context.Background(), p, d, reg, st, ApplyOptions{})
	var fe *ForeignError
	if !errors.As(err, &fe) || fe.Addr != roleA || fe.Name != "shop-dev-api-role" {
		t.Fatalf("apply err = %v, want a ForeignError for %s", err, roleA)
	}
	if got, _ := fc.get("fake_role", "shop-dev-api-role"); !Equal(map[string]any(got), map[string]any(foreign.Norm())) {
		t.Errorf("the foreign role changed: %v", got)
	}
	if indexOf(st.addrs(), roleA.String()) >= 0 {
		t.Error("the foreign role was recorded as ours")
	}

	// Destroy of a state whose journal names it (not refreshed): not deleted.
	doc2 := &state.Document{Lineage: "l", Journal: doc.Journal}
	dp := PlanDestroy(doc2)
	if _, err := Apply(context.Background(), dp, &Desired{}, reg, newFakeState(rec, doc2), ApplyOptions{AllowDataLoss: true}); err != nil {
		t.Fatal(err)
	}
	if _, ok := fc.get("fake_role", "shop-dev-api-role"); !ok {
		t.Error("destroy deleted a role evdeploy did not make")
	}
}

// sentThenThrottled plays a TagsAfterCreate type whose first Create sends the
// create call (the name was free) and then fails retryably: the resource
// (what is in made, when set) appears untagged, and the error says the call
// was sent. Later attempts are the fake's: the name is taken.
type sentThenThrottled struct {
	*fakeHandler
	made  Attrs
	calls int
}

func (h *sentThenThrottled) Schema() Schema {
	s := h.fakeHandler.Schema()
	s.TagsAfterCreate = true
	return s
}

func (h *sentThenThrottled) Create(ctx context.Context, desired Attrs) (string, Attrs, error) {
	h.calls++
	if h.calls == 1 {
		if h.made != nil {
			h.cloud.put(h.schema.Type, h.made.String("name"), h.made)
		}
		return "", nil, errors.Join(ErrCreateSent, ErrThrottled, errors.New("SlowDown"))
	}
	return h.fakeHandler.Create(ctx, desired)
}

// The soak's bucket wedge, in the executor: the first Create of a type whose
// tags come after the create sends its call (its answer lost, the SDK's
// retries throttled), the executor retries the Create, and that attempt
// collides with the untagged resource the first one made. Apply adopts it,
// tags it and records it. Had the first attempt not made it — someone
// else's with another owner's tags is there — apply stops with a
// ForeignError, changes nothing of it, and keeps the journal entry: this run
// sent a create, so the next refresh must still look.
func TestApplyAdoptsWhatItsSentCreateMade(t *testing.T) {
	tags := map[string]any{"evdeploy:app": "shop", "evdeploy:stage": "dev", "evdeploy:block": "function.api"}
	theirs := Attrs{"name": "shop-dev-api-role", "policy": `{"Statement":["theirs"]}`, "arn": "arn:fake:fake_role:shop-dev-api-role",
		"tags": map[string]any{"evdeploy:app": "web", "evdeploy:stage": "dev", "evdeploy:block": "function.api"}}
	for _, tt := range []struct {
		name    string
		made    Attrs // what the first attempt leaves under the name
		wantErr bool
	}{
		{"ours, untagged", Attrs{"name": "shop-dev-api-role", "policy": `{"Statement":[]}`, "arn": "arn:fake:fake_role:shop-dev-api-role", "tags": map[string]any{}}, false},
		{"another owner's", theirs, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{}
			fc := newFakeCloud(rec)
			reg := fc.registry()
			h := &sentThenThrottled{fakeHandler: reg["fake_role"].(*fakeHandler), made: tt.made}
			reg["fake_role"] = h
			d := appDesired(128)
			for _, r := range d.Resources {
				if r.Addr == roleA {
					r.Attrs["tags"] = tags
				}
			}
			doc := &state.Document{Lineage: "l"}
			p, err := Diff(d, doc, map[string]Observation{}, reg)
			if err != nil {
				t.Fatal(err)
			}
			st := newFakeState(rec, doc)
			_, err = Apply(context.Background(), p, d, reg, st, ApplyOptions{BaseBackoff: time.Millisecond, MaxBackoff: time.Millisecond})
			if h.calls < 2 {
				t.Fatalf("Create called %d times, want the executor's retry", h.calls)
			}
			got, _ := fc.get("fake_role", "shop-dev-api-role")
			if tt.wantErr {
				var foreign *ForeignError
				if !errors.As(err, &foreign) {
					t.Fatalf("err = %v, want a ForeignError", err)
				}
				if diff := cmp.Diff(theirs, got); diff != "" {
					t.Errorf("someone else's role changed (-before +after):\n%s", diff)
				}
				if indexOf(st.addrs(), roleA.String()) >= 0 {
					t.Error("someone else's role was recorded as ours")
				}
				if j := st.snapshot().Journal; len(j) != 1 || j[0].Addr != roleA.String() {
					t.Errorf("journal = %v, want the role's intent kept", j)
				}
				return
			}
			if err != nil {
				t.Fatalf("apply: %v", err)
			}
			if indexOf(st.addrs(), roleA.String()) < 0 {
				t.Errorf("the role was not recorded: %v", st.addrs())
			}
			if diff := cmp.Diff(tags, got["tags"]); diff != "" {
				t.Errorf("adopted role's tags (-want +got):\n%s", diff)
			}
			if j := st.snapshot().Journal; len(j) != 0 {
				t.Errorf("journal keeps %v after the role was recorded", j)
			}
		})
	}
}

// TestApplyAdoptsItsOwnLostCreateThrottled: the look-up that tells an own
// lost create from someone else's resource is retried when throttled, so a
// throttled check never calls this deployment's resource foreign.
func TestApplyAdoptsItsOwnLostCreateThrottled(t *testing.T) {
	tags := map[string]any{"evdeploy:app": "shop", "evdeploy:stage": "dev", "evdeploy:block": "function.api"}
	rec := &recorder{}
	fc := newFakeCloud(rec)
	reg := fc.registry()
	d := appDesired(128)
	for _, r := range d.Resources {
		if r.Addr == roleA {
			r.Attrs["tags"] = tags
		}
	}
	fc.put("fake_role", "shop-dev-api-role", Attrs{"name": "shop-dev-api-role", "policy": `{"Statement":[]}`, "tags": tags, "arn": "arn:fake:fake_role:shop-dev-api-role"})
	fc.setFault("read shop-dev-api-role", &fault{throttles: 2})
	doc := &state.Document{Lineage: "l"}
	p, err := Diff(d, doc, map[string]Observation{}, reg)
	if err != nil {
		t.Fatal(err)
	}
	st := newFakeState(rec, doc)
	if _, err := Apply(context.Background(), p, d, reg, st, ApplyOptions{BaseBackoff: time.Millisecond, MaxBackoff: time.Millisecond}); err != nil {
		t.Fatalf("apply: %v", err)
	}
	if indexOf(st.addrs(), roleA.String()) < 0 {
		t.Errorf("the role was not recorded: %v", st.addrs())
	}
}
