package planner

import (
	"fmt"
	"sort"

	"github.com/evdeploy/evdeploy/state"
)

// Diff compares the desired resources with what state records and, when obs is
// not nil, with what refresh observed, and returns the plan.
//
// The rules (ARCHITECTURE.md, "Drift is only what the service reports
// differently"):
//   - Only attributes the desired side sets are compared, never Computed ones.
//   - The deployed value of an attribute is what Read reported when it
//     reported it, else the last applied value from state: an attribute a
//     service leaves out is not drift. WriteOnly attributes are always
//     compared with the last applied value.
//   - A Ref or Expr resolves to a known value when its producer's value is
//     known (a producer in state and not being recreated, or a value lowering
//     derived). Otherwise it is Unknown, and counts as a change only when the
//     producer is being created or replaced.
//   - A changed ForceNew attribute makes a Replace; a resource deleted outside
//     evdeploy is a Create; a recorded resource no longer desired is a Delete.
//     Replacing or deleting a type that holds data sets DataLoss.
//
// A replacement is executed delete-then-create: physical names are
// deterministic, so the new resource cannot exist beside the old one.
//
// obs == nil means --refresh=false: state is trusted as it is.
func Diff(desired *Desired, doc *state.Document, obs map[string]Observation, reg Registry) (*Plan, error) {
	if desired == nil {
		desired = &Desired{}
	}
	if doc == nil {
		doc = &state.Document{}
	}
	order, err := desired.Order()
	if err != nil {
		return nil, err
	}
	plan := &Plan{StateSerial: doc.Serial, StateLineage: doc.Lineage, Refreshed: obs != nil}

	prior := make(map[string]*state.Resource, len(doc.Resources))
	for i := range doc.Resources {
		prior[doc.Resources[i].Addr] = &doc.Resources[i]
	}
	intents := make(map[string]state.Intent, len(doc.Journal))
	for _, in := range doc.Journal {
		if _, recorded := prior[in.Addr]; recorded {
			// The create was recorded; only the journal cleanup was lost.
			plan.ForgetIntents = append(plan.ForgetIntents, in.Addr)
			continue
		}
		intents[in.Addr] = in
	}

	rs := &resolver{changes: map[string]*Change{}, unknownChanging: map[string]map[string]bool{}}
	desiredAddrs := make(map[string]bool, len(order))
	for _, d := range order {
		a := d.Addr.String()
		desiredAddrs[a] = true
		h, ok := reg[d.Addr.Type]
		if !ok {
			return nil, fmt.Errorf("%s: no handler for resource type %q", a, d.Addr.Type)
		}
		c, err := rs.diffOne(d, h.Schema(), prior[a], obs, intents)
		if err != nil {
			return nil, err
		}
		rs.changes[a] = c
		plan.Changes = append(plan.Changes, c)
	}

	// Deletions: recorded resources and adopted journal entries no longer
	// desired, dependents first.
	var delAddrs []string
	delDeps := map[string][]string{}
	dels := map[string]*Change{}
	for _, r := range doc.Resources {
		if desiredAddrs[r.Addr] {
			continue
		}
		h, ok := reg[r.Type]
		if !ok {
			return nil, fmt.Errorf("%s: no handler for resource type %q", r.Addr, r.Type)
		}
		addr, err := ParseResourceAddr(r.Addr)
		if err != nil {
			return nil, err
		}
		c := &Change{Addr: addr, Block: addr.Block, Action: Delete, ID: r.ID, Before: Attrs(r.Attrs).Norm(), Deps: append([]string(nil), r.Deps...), Sensitive: r.Sensitive}
		if o, ok := obs[r.Addr]; obs != nil && ok {
			if !o.Exists {
				c.Reason = "already deleted outside evdeploy"
				c.Missing = true
			} else {
				c.Before = overlay(c.Before, o.Attrs, nil)
			}
		}
		c.DataLoss = h.Schema().holdsData(c.Before) && !c.Missing
		dels[r.Addr] = c
		delAddrs = append(delAddrs, r.Addr)
		delDeps[r.Addr] = c.Deps
	}
	for _, in := range doc.Journal {
		if desiredAddrs[in.Addr] || prior[in.Addr] != nil {
			continue
		}
		o, looked := obs[in.Addr]
		if obs != nil && looked && !o.Adopted {
			plan.ForgetIntents = append(plan.ForgetIntents, in.Addr)
			continue
		}
		h, ok := reg[in.Type]
		if !ok {
			return nil, fmt.Errorf("%s: no handler for resource type %q", in.Addr, in.Type)
		}
		addr, err := ParseResourceAddr(in.Addr)
		if err != nil {
			return nil, err
		}
		// Not refreshed: the resource may exist; apply looks it up (ID "")
		// and deletes it if found and provably evdeploy's, judged against
		// the journaled attributes.
		before := o.Attrs
		if !looked {
			before = Attrs(in.Attrs).Norm()
		}
		c := &Change{Addr: addr, Block: addr.Block, Action: Delete, ID: o.ID, Before: before, Name: in.Name, Deps: append([]string(nil), in.Deps...), Journaled: true, Adopted: o.Adopted,
			Reason: "left by an interrupted apply", DataLoss: h.Schema().HoldsData}
		dels[in.Addr] = c
		delAddrs = append(delAddrs, in.Addr)
		delDeps[in.Addr] = c.Deps
	}
	delOrder, err := DeleteOrder(delAddrs, delDeps)
	if err != nil {
		return nil, fmt.Errorf("recorded dependencies: %w", err)
	}
	for _, a := range delOrder {
		plan.Changes = append(plan.Changes, dels[a])
	}
	sort.Strings(plan.ForgetIntents)
	if plan.Outputs, err = rs.outputs(desired.Outputs, doc.Outputs); err != nil {
		return nil, err
	}
	return plan, nil
}

// outputs plans the app's outputs against the recorded ones.
func (rs *resolver) outputs(outs []*DesiredOutput, recorded map[string]state.Output) ([]*OutputChange, error) {
	var list []*OutputChange
	seen := map[string]bool{}
	for _, o := range outs {
		v, ch, err := rs.value(o.Value)
		if err != nil {
			return nil, fmt.Errorf("output %q: %w", o.Name, err)
		}
		oc := &OutputChange{Name: o.Name, After: v, Sensitive: o.Sensitive}
		seen[o.Name] = true
		rec, ok := recorded[o.Name]
		switch {
		case !ok:
			oc.Action = Create
		case IsUnknown(v) && !ch && rec.Value != nil:
			// Unknown only because state lacks what it reads: keep showing
			// the recorded value rather than a change.
			oc.Before, oc.After, oc.Action = Norm(rec.Value), Norm(rec.Value), NoOp
		case IsUnknown(v) || !Equal(v, rec.Value):
			oc.Before, oc.Action = Norm(rec.Value), Update
		default:
			oc.Before, oc.Action = Norm(rec.Value), NoOp
		}
		list = append(list, oc)
	}
	for name, rec := range recorded {
		if !seen[name] {
			list = append(list, &OutputChange{Name: name, Action: Delete, Before: Norm(rec.Value), Sensitive: rec.Sensitive})
		}
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Name < list[j].Name })
	return list, nil
}

// resolver resolves Refs and Exprs against the changes already planned for
// their producers (Diff visits resources in dependency order).
type resolver struct {
	changes map[string]*Change
	// unknownChanging[addr][attr] tells, for an Unknown in a change's After,
	// whether it is unknown because its producer is being (re)created.
	unknownChanging map[string]map[string]bool
}

func (rs *resolver) diffOne(d *DesiredResource, sch Schema, rec *state.Resource, obs map[string]Observation, intents map[string]state.Intent) (*Change, error) {
	a := d.Addr.String()
	computed, forceNew, writeOnly, noDiff := set(sch.Computed), set(sch.ForceNew), set(sch.WriteOnly), set(sch.NoDiff)
	c := &Change{Addr: d.Addr, Block: d.Addr.Block, Name: d.Name, Sensitive: d.Sensitive}
	if rec != nil {
		c.PriorDeps = append([]string(nil), rec.Deps...)
		// Shown masked while either side holds a secret.
		c.Sensitive = unionStrings(d.Sensitive, rec.Sensitive)
	}
	for _, p := range d.Deps() {
		c.Deps = append(c.Deps, p.String())
	}
	in, journaled := intents[a]
	c.Journaled = journaled

	after := Attrs{}
	changing := map[string]bool{}
	for _, k := range d.Attrs.Keys() {
		v, ch, err := rs.value(d.Attrs[k])
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", a, k, err)
		}
		after[k] = v
		if ch {
			changing[k] = true
		}
	}

	// What is deployed: last applied (state, or the journaled desired attrs
	// of an adopted resource) and what refresh observed.
	var last, seen Attrs
	known := false
	o, observed := obs[a]
	switch {
	case rec != nil:
		known, c.ID, last = true, rec.ID, Attrs(rec.Attrs).Norm()
		if obs != nil && observed {
			if !o.Exists {
				known = false
				c.Missing = true
				c.Reason = "deleted outside evdeploy"
			} else {
				seen = o.Attrs
			}
		}
	case observed && o.Adopted:
		known, c.ID, last, seen = true, o.ID, Attrs(in.Attrs).Norm(), o.Attrs
		c.Adopted = true
		c.Reason = "found after an interrupted apply; adopting it"
	}

	unknownComputed := func(act Action) {
		for _, k := range sch.Computed {
			if _, set := after[k]; !set {
				after[k] = Unknown{}
				changing[k] = true
			}
		}
		c.Action = act
	}
	if !known {
		c.ID = d.ID
		if observed && o.Foreign != "" {
			c.Reason = fmt.Sprintf("%q is taken by a resource evdeploy did not make (%s): apply will stop there", d.Name, o.Foreign)
		}
		unknownComputed(Create)
		c.After = after
		rs.unknownChanging[a] = changing
		return c, nil
	}

	c.Before = overlay(last, seen, writeOnly)
	for _, k := range d.Attrs.Keys() {
		if computed[k] || noDiff[k] {
			continue
		}
		dv := after[k]
		var base any
		hasBase := false
		if v, ok := seen[k]; ok && !writeOnly[k] {
			base, hasBase = v, true
		} else if v, ok := last[k]; ok {
			base, hasBase = v, true
		}
		// A value read from a producer that is being (re)created changes
		// even when it is known (a derived ARN): the resource it names is
		// new, and what was bound to the old one must be re-applied.
		diff := changing[k]
		if !diff && !IsUnknown(dv) {
			// A desired null means "absent": equal to an absent or null
			// deployed value.
			diff = !hasBase && dv != nil || hasBase && !Equal(dv, base)
		}
		if diff && !IsUnknown(dv) && hasBase && Equal(dv, base) && c.Reason == "" {
			c.Reason = "reads a resource that is being recreated"
		}
		if diff {
			c.Changed = append(c.Changed, k)
			if forceNew[k] {
				c.ReplaceBecause = append(c.ReplaceBecause, k)
			}
		}
	}
	switch {
	case len(c.ReplaceBecause) > 0:
		c.DataLoss = sch.holdsData(c.Before)
		unknownComputed(Replace)
		c.After = after
	case len(c.Changed) > 0:
		c.Action = Update
		c.After = overlay(c.Before, after, nil)
	default:
		c.Action = NoOp
		c.After = overlay(c.Before, after, nil)
	}
	rs.unknownChanging[a] = changing
	return c, nil
}

// overlay returns base with the keys of top set over it, except those in skip.
func overlay(base, top Attrs, skip map[string]bool) Attrs {
	out := make(Attrs, len(base)+len(top))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range top {
		if !skip[k] {
			out[k] = v
		}
	}
	return out
}

func set(list []string) map[string]bool {
	m := make(map[string]bool, len(list))
	for _, s := range list {
		m[s] = true
	}
	return m
}

// value resolves v: Refs and Exprs whose inputs are known become values,
// others Unknown. changing reports whether v reads a producer that is being
// created or replaced (directly, or through an Unknown that comes from one).
func (rs *resolver) value(v any) (out any, changing bool, err error) {
	switch x := v.(type) {
	case Ref:
		val, known, ch := rs.ref(x)
		if !known {
			return Unknown{}, ch, nil
		}
		return val, rs.recreated(x), nil
	case *Expr:
		resolved := make(map[Ref]any, len(x.Refs))
		unknown := false
		for _, r := range x.Refs {
			val, known, ch := rs.ref(r)
			changing = changing || ch || rs.recreated(r)
			if !known {
				unknown = true
				continue
			}
			resolved[r] = val
		}
		if unknown {
			return Unknown{}, changing, nil
		}
		val, _, err := evalExpr(x, resolved)
		return val, changing, err
	case []any:
		list := make([]any, len(x))
		for i, e := range x {
			val, ch, err := rs.value(e)
			if err != nil {
				return nil, false, err
			}
			list[i], changing = val, changing || ch
		}
		return list, changing, nil
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			val, ch, err := rs.value(e)
			if err != nil {
				return nil, false, err
			}
			m[k], changing = val, changing || ch
		}
		return m, changing, nil
	case Attrs:
		return rs.value(map[string]any(x))
	case []map[string]any:
		return rs.value(Norm(x))
	}
	out, err = safeNorm(v)
	return out, false, err
}

// safeNorm is Norm returning an error instead of panicking on a value type
// Attrs cannot hold (a lowering bug), so the message names the attribute.
func safeNorm(v any) (out any, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	return Norm(v), nil
}

func evalExpr(x *Expr, resolved map[Ref]any) (any, bool, error) {
	if x.Eval == nil {
		return nil, false, fmt.Errorf("expression %q cannot be evaluated", x.Text)
	}
	val, err := x.Eval(resolved)
	if err != nil {
		return nil, false, fmt.Errorf("evaluating %s: %w", x.Text, err)
	}
	return Norm(val), false, nil
}

// recreated reports whether r's producer is being created or replaced.
func (rs *resolver) recreated(r Ref) bool {
	c := rs.changes[r.Resource.String()]
	return c != nil && (c.Action == Create || c.Action == Replace)
}

// ref resolves one Ref from its producer's planned change.
func (rs *resolver) ref(r Ref) (val any, known, changing bool) {
	p := r.Resource.String()
	c := rs.changes[p]
	if c == nil {
		return nil, false, false // Order guarantees producers come first
	}
	if v, ok := c.After[r.Attr]; ok {
		if !IsUnknown(v) {
			return v, true, false
		}
		return nil, false, rs.unknownChanging[p][r.Attr]
	}
	// Not known from the producer's attributes: a fresh producer will report
	// it; an existing one simply did not record it.
	return nil, false, c.Action == Create || c.Action == Replace
}

// ParseResourceAddr parses ResourceAddr.String() back.
func ParseResourceAddr(s string) (ResourceAddr, error) {
	// block may contain dots ("trigger.uploads"); type.name never has "/".
	slash := -1
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '/' {
			slash = i
			break
		}
	}
	if slash <= 0 {
		return ResourceAddr{}, fmt.Errorf("invalid resource address %q", s)
	}
	rest := s[slash+1:]
	dot := -1
	for i := len(rest) - 1; i >= 0; i-- {
		if rest[i] == '.' {
			dot = i
			break
		}
	}
	if dot <= 0 || dot == len(rest)-1 {
		return ResourceAddr{}, fmt.Errorf("invalid resource address %q", s)
	}
	return ResourceAddr{Block: s[:slash], Type: rest[:dot], Name: rest[dot+1:]}, nil
}
