package planner

import (
	"container/heap"
	"fmt"
	"sort"
	"strings"
)

// RefsIn returns every Ref found inside v: a Ref itself, the Refs of an *Expr,
// and those nested in lists and maps, in the order met (map keys sorted).
func RefsIn(v any) []Ref {
	var out []Ref
	walkRefs(v, func(r Ref) { out = append(out, r) })
	return out
}

func walkRefs(v any, f func(Ref)) {
	switch x := v.(type) {
	case Ref:
		f(x)
	case *Expr:
		if x != nil {
			for _, r := range x.Refs {
				f(r)
			}
		}
	case []any:
		for _, e := range x {
			walkRefs(e, f)
		}
	case []map[string]any:
		for _, e := range x {
			walkRefs(e, f)
		}
	case map[string]any:
		for _, k := range sortedKeys(x) {
			walkRefs(x[k], f)
		}
	case Attrs:
		for _, k := range x.Keys() {
			walkRefs(x[k], f)
		}
	}
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Deps returns the addresses r depends on: the producers of every Ref or Expr
// in its attributes plus its explicit DependsOn, sorted and without duplicates
// or r itself.
func (r *DesiredResource) Deps() []ResourceAddr {
	seen := map[ResourceAddr]bool{r.Addr: true}
	var out []ResourceAddr
	add := func(a ResourceAddr) {
		if !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	walkRefs(r.Attrs, func(ref Ref) { add(ref.Resource) })
	for _, a := range r.DependsOn {
		add(a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}

// CycleError reports a dependency cycle; Cycle starts and ends with the same
// address.
type CycleError struct{ Cycle []string }

func (e *CycleError) Error() string {
	return "dependency cycle: " + strings.Join(e.Cycle, " → ")
}

// TopoSort orders nodes so that every node comes after the nodes it depends on
// (deps[n] lists what n depends on). Among nodes that are ready at the same time
// the smallest address comes first, so the order is the same on every run.
// Dependencies on addresses that are not nodes are ignored (a producer that is
// neither desired nor being changed imposes no order). A cycle is a *CycleError.
func TopoSort(nodes []string, deps map[string][]string) ([]string, error) {
	in := make(map[string]bool, len(nodes))
	for _, n := range nodes {
		in[n] = true
	}
	indeg := make(map[string]int, len(nodes))
	users := make(map[string][]string, len(nodes))
	for _, n := range nodes {
		seen := map[string]bool{}
		for _, d := range deps[n] {
			if !in[d] || d == n || seen[d] {
				continue
			}
			seen[d] = true
			indeg[n]++
			users[d] = append(users[d], n)
		}
	}
	ready := &strHeap{}
	for _, n := range nodes {
		if indeg[n] == 0 {
			*ready = append(*ready, n)
		}
	}
	heap.Init(ready)
	out := make([]string, 0, len(nodes))
	for ready.Len() > 0 {
		n := heap.Pop(ready).(string)
		out = append(out, n)
		for _, u := range users[n] {
			indeg[u]--
			if indeg[u] == 0 {
				heap.Push(ready, u)
			}
		}
	}
	if len(out) < len(nodes) {
		return nil, &CycleError{Cycle: findCycle(nodes, deps, in, indeg)}
	}
	return out, nil
}

// findCycle walks from the smallest node left in the cycle-containing rest of
// the graph until a node repeats.
func findCycle(nodes []string, deps map[string][]string, in map[string]bool, indeg map[string]int) []string {
	var rest []string
	for _, n := range nodes {
		if indeg[n] > 0 {
			rest = append(rest, n)
		}
	}
	sort.Strings(rest)
	left := map[string]bool{}
	for _, n := range rest {
		left[n] = true
	}
	// Every node left has an unfinished dependency that is also left, so
	// following the smallest such dependency must revisit a node.
	pos := map[string]int{}
	var path []string
	n := rest[0]
	for {
		if i, ok := pos[n]; ok {
			cyc := append([]string{}, path[i:]...)
			// Print the cycle in dependency-reading order: a needs b needs a.
			return append(cyc, n)
		}
		pos[n] = len(path)
		path = append(path, n)
		next := ""
		for _, d := range deps[n] {
			if in[d] && left[d] && d != n && (next == "" || d < next) {
				next = d
			}
		}
		if next == "" { // cannot happen; keep the error readable anyway
			return path
		}
		n = next
	}
}

type strHeap []string

func (h strHeap) Len() int           { return len(h) }
func (h strHeap) Less(i, j int) bool { return h[i] < h[j] }
func (h strHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *strHeap) Push(x any)        { *h = append(*h, x.(string)) }
func (h *strHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// Order returns the desired resources in dependency order (producers first,
// ties by address), or a *CycleError naming the cycle. A Ref or DependsOn to an
// address that is not desired is an error: lowering must only refer to what it
// produced.
func (d *Desired) Order() ([]*DesiredResource, error) {
	byAddr := make(map[string]*DesiredResource, len(d.Resources))
	nodes := make([]string, 0, len(d.Resources))
	for _, r := range d.Resources {
		a := r.Addr.String()
		if _, dup := byAddr[a]; dup {
			return nil, fmt.Errorf("%s: declared twice", a)
		}
		byAddr[a] = r
		nodes = append(nodes, a)
	}
	deps := make(map[string][]string, len(nodes))
	for _, r := range d.Resources {
		for _, p := range r.Deps() {
			if _, ok := byAddr[p.String()]; !ok {
				return nil, fmt.Errorf("%s: depends on %s, which is not part of the deployment", r.Addr, p)
			}
			deps[r.Addr.String()] = append(deps[r.Addr.String()], p.String())
		}
	}
	order, err := TopoSort(nodes, deps)
	if err != nil {
		return nil, err
	}
	out := make([]*DesiredResource, len(order))
	for i, a := range order {
		out[i] = byAddr[a]
	}
	return out, nil
}

// DeleteOrder orders state resources for deletion: dependents before the
// resources they depend on (the reverse of their recorded Deps), ties by
// address. Deps on resources outside the set are ignored; a cycle in recorded
// deps (only possible with a hand-edited state) is an error.
func DeleteOrder(addrs []string, deps map[string][]string) ([]string, error) {
	// Reverse the edges: a producer "depends" on each of its users being gone.
	rev := make(map[string][]string, len(addrs))
	for _, a := range addrs {
		for _, d := range deps[a] {
			rev[d] = append(rev[d], a)
		}
	}
	return TopoSort(addrs, rev)
}

func sortStrings(s []string) { sort.Strings(s) }
