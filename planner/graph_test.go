package planner

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestTopoSort(t *testing.T) {
	tests := map[string]struct {
		nodes     []string
		deps      map[string][]string
		want      []string
		wantCycle []string
	}{
		"producers first, ties by address": {
			nodes: []string{"d", "c", "b", "a"},
			deps:  map[string][]string{"a": {"c"}, "b": {"c"}, "d": {"a", "b"}},
			want:  []string{"c", "a", "b", "d"},
		},
		"edges to outside nodes are ignored": {
			nodes: []string{"b", "a"},
			deps:  map[string][]string{"a": {"zzz"}, "b": {"a", "a"}},
			want:  []string{"a", "b"},
		},
		"cycle is named": {
			nodes:     []string{"x", "a", "b", "c"},
			deps:      map[string][]string{"a": {"b"}, "b": {"c"}, "c": {"a"}, "x": {"a"}},
			wantCycle: []string{"a", "b", "c", "a"},
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := TopoSort(tt.nodes, tt.deps)
			if tt.wantCycle != nil {
				var ce *CycleError
				if !errors.As(err, &ce) {
					t.Fatalf("err = %v, want a CycleError", err)
				}
				if d := cmp.Diff(tt.wantCycle, ce.Cycle); d != "" {
					t.Errorf("cycle (-want +got):\n%s", d)
				}
				if want := "dependency cycle: a → b → c → a"; err.Error() != want {
					t.Errorf("message = %q, want %q", err, want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("order (-want +got):\n%s", d)
			}
		})
	}
}

func TestDesiredOrderAndDeps(t *testing.T) {
	d := appDesired(128)
	order, err := d.Order()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range order {
		got = append(got, r.Addr.String())
	}
	want := []string{
		"function.api/fake_role.main",
		"queue.orders/fake_queue.main",
		"table.orders/fake_store.main",
		"function.api/fake_func.main",
		"trigger.orders/fake_mapping.main",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}
	// Refs nested in maps and inside Exprs are edges too.
	var fn *DesiredResource
	for _, r := range d.Resources {
		if r.Addr == funcA {
			fn = r
		}
	}
	if diff := cmp.Diff([]ResourceAddr{roleA, queueA, storeA}, fn.Deps()); diff != "" {
		t.Errorf("deps (-want +got):\n%s", diff)
	}

	bad := desiredOf(res(roleA, Attrs{"name": "r", "x": Ref{Resource: funcA, Attr: "arn"}}), res(funcA, Attrs{"name": "f", "role": Ref{Resource: roleA, Attr: "arn"}}))
	if _, err := bad.Order(); err == nil || err.Error() != "dependency cycle: function.api/fake_func.main → function.api/fake_role.main → function.api/fake_func.main" {
		t.Errorf("cycle error = %v", err)
	}
	missing := desiredOf(res(funcA, Attrs{"name": "f", "role": Ref{Resource: roleA, Attr: "arn"}}))
	if _, err := missing.Order(); err == nil {
		t.Error("a Ref to a resource that is not desired must be an error")
	}
}

func TestDeleteOrder(t *testing.T) {
	got, err := DeleteOrder([]string{"role", "func", "mapping", "queue"}, map[string][]string{
		"func": {"role"}, "mapping": {"func", "queue"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"mapping", "func", "queue", "role"}, got); diff != "" {
		t.Errorf("delete order (-want +got):\n%s", diff)
	}
}

func TestParseResourceAddr(t *testing.T) {
	for _, a := range []ResourceAddr{funcA, {Block: "trigger.a.b", Type: "aws_x", Name: "dlq"}} {
		got, err := ParseResourceAddr(a.String())
		if err != nil || got != a {
			t.Errorf("ParseResourceAddr(%q) = %v, %v", a, got, err)
		}
	}
	for _, s := range []string{"", "noslash", "block/type", "/t.n", "b/t."} {
		if _, err := ParseResourceAddr(s); err == nil {
			t.Errorf("ParseResourceAddr(%q) accepted", s)
		}
	}
}
