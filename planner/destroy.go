package planner

import (
	"sort"

	"github.com/evdeploy/evdeploy/state"
)

// PlanDestroy plans the deletion of everything state and its journal know of,
// dependents first (the reverse of the recorded Deps). It needs no spec: state
// records each resource's dependencies for this. A journaled create that state
// does not record is deleted too if apply finds it by its deterministic name.
//
// PlanDestroy has no registry, so DataLoss is not set here; the caller may call
// FlagDataLoss before rendering, and Apply always does.
func PlanDestroy(doc *state.Document) *Plan {
	p := &Plan{Destroy: true}
	if doc == nil {
		return p
	}
	p.StateSerial, p.StateLineage = doc.Serial, doc.Lineage
	changes := map[string]*Change{}
	var addrs []string
	deps := map[string][]string{}
	add := func(c *Change) {
		a := c.Addr.String()
		if _, dup := changes[a]; dup {
			return
		}
		changes[a] = c
		addrs = append(addrs, a)
		deps[a] = c.Deps
	}
	for _, r := range doc.Resources {
		addr, err := ParseResourceAddr(r.Addr)
		if err != nil {
			addr = ResourceAddr{Block: r.Block, Type: r.Type, Name: r.Addr}
		}
		add(&Change{Addr: addr, Block: addr.Block, Action: Delete, ID: r.ID,
			Before: Attrs(r.Attrs).Norm(), Deps: append([]string(nil), r.Deps...), Sensitive: r.Sensitive})
	}
	for _, in := range doc.Journal {
		if _, recorded := changes[in.Addr]; recorded {
			p.ForgetIntents = append(p.ForgetIntents, in.Addr)
			continue
		}
		addr, err := ParseResourceAddr(in.Addr)
		if err != nil {
			addr = ResourceAddr{Block: in.Block, Type: in.Type, Name: in.Addr}
		}
		add(&Change{Addr: addr, Block: addr.Block, Action: Delete, Name: in.Name,
			Before: Attrs(in.Attrs).Norm(), Deps: append([]string(nil), in.Deps...),
			Journaled: true, Reason: "left by an interrupted apply; deleted if found"})
	}
	order, err := DeleteOrder(addrs, deps)
	if err != nil {
		// Recorded deps can only cycle in a hand-edited state; fall back to
		// address order rather than refusing to clean up.
		order = append([]string(nil), addrs...)
		sortStrings(order)
	}
	for _, a := range order {
		p.Changes = append(p.Changes, changes[a])
	}
	for name, o := range doc.Outputs {
		p.Outputs = append(p.Outputs, &OutputChange{Name: name, Action: Delete, Before: Norm(o.Value), Sensitive: o.Sensitive})
	}
	sort.Slice(p.Outputs, func(i, j int) bool { return p.Outputs[i].Name < p.Outputs[j].Name })
	return p
}
