package planner

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/evdeploy/evdeploy/spec"
)

// expr lowers an HCL expression that may read block attributes into a known
// value or an Expr evaluated once its references are known.
func (l *lowering) expr(e hcl.Expression, what string) any {
	var refs []Ref
	known := map[spec.Addr]map[string]cty.Value{}
	// The blocks this expression can read: evaluating it must not cost a
	// walk over every block of the app (that made lowering quadratic).
	scope := map[spec.Addr]bool{}
	wholeKinds := map[string]bool{}
	// Through locals too: local.x may read queue.orders.url.
	for _, tr := range l.app.Traversals(e) {
		addr, attr, ok := traversalRef(tr)
		if !ok {
			if _, isKind := spec.RefAttrs[tr.RootName()]; isKind {
				wholeKinds[tr.RootName()] = true // for q in queue: …
			}
			continue
		}
		scope[addr] = true
		if addr.Kind == spec.KindAppOutputs {
			// Another app's outputs: known values read from its state.
			if known[addr] == nil {
				known[addr] = map[string]cty.Value{}
			}
			for k, v := range l.opts.AppOutputs[addr.Name] {
				known[addr][k] = v
			}
			continue
		}
		vals, ok := l.blockAttrs[addr]
		if !ok {
			continue
		}
		for k, v := range vals {
			if s, isStr := v.(string); isStr {
				if known[addr] == nil {
					known[addr] = map[string]cty.Value{}
				}
				known[addr][k] = cty.StringVal(s)
			} else if k == attr || attr == "" {
				refs = append(refs, RefsIn(v)...)
			}
		}
	}
	evalWith := func(resolved map[Ref]any) (any, error) {
		blocks := map[spec.Addr]map[string]cty.Value{}
		for a, m := range known {
			blocks[a] = map[string]cty.Value{}
			for k, v := range m {
				blocks[a][k] = v
			}
		}
		read := scope
		if len(wholeKinds) > 0 {
			read = map[spec.Addr]bool{}
			for addr := range l.blockAttrs {
				if scope[addr] || wholeKinds[addr.Kind] {
					read[addr] = true
				}
			}
		}
		for addr := range read {
			vals := l.blockAttrs[addr]
			for k, v := range vals {
				if _, isStr := v.(string); isStr {
					continue
				}
				r, err := lowerResolve(v, resolved)
				if err != nil {
					continue // not referenced by this expression
				}
				if s, ok := r.(string); ok {
					if blocks[addr] == nil {
						blocks[addr] = map[string]cty.Value{}
					}
					blocks[addr][k] = cty.StringVal(s)
				}
			}
		}
		val, diags := l.app.Eval(e, blocks)
		if diags.HasErrors() {
			return nil, fmt.Errorf("%s: %s", what, diags.Error())
		}
		// Which values are sensitive is known from the expression
		// (l.sensitive); the attribute values themselves are plain.
		val, _ = val.UnmarkDeep()
		if !val.IsWhollyKnown() {
			return nil, fmt.Errorf("%s: value is not known", what)
		}
		return ctyToAny(val)
	}
	if len(refs) == 0 {
		v, err := evalWith(nil)
		if err != nil {
			l.diags = append(l.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Cannot evaluate " + what, Detail: err.Error(), Subject: e.Range().Ptr()})
			return nil
		}
		return v
	}
	return &Expr{Refs: lowerDedupRefs(refs), Text: traversalsText(l.app.Traversals(e)), Eval: evalWith}
}

// sensitive reports whether e reads a sensitive value (a sensitive variable,
// sensitive()), evaluating it with every block attribute unknown: cty keeps
// the marks on unknown results too. The known text of those values is kept
// for Desired.Secrets.
func (l *lowering) sensitive(e hcl.Expression) bool {
	if e == nil {
		return false
	}
	val, _ := l.app.Eval(e, nil)
	if !spec.IsSensitive(val) {
		return false
	}
	l.secrets = append(l.secrets, spec.SensitiveStrings(val)...)
	return true
}

// traversalRef recognises kind.name[.attr] traversals of block kinds.
func traversalRef(tr hcl.Traversal) (spec.Addr, string, bool) {
	if len(tr) < 2 {
		return spec.Addr{}, "", false
	}
	root := tr.RootName()
	if _, ok := spec.RefAttrs[root]; !ok {
		return spec.Addr{}, "", false
	}
	nameStep, ok := tr[1].(hcl.TraverseAttr)
	if !ok {
		return spec.Addr{}, "", false
	}
	attr := ""
	if len(tr) > 2 {
		if a, ok := tr[2].(hcl.TraverseAttr); ok {
			attr = a.Name
		}
	}
	return spec.Addr{Kind: root, Name: nameStep.Name}, attr, true
}

// traversalsText names what an expression reads, for "(known after apply)"
// renderings: "queue.orders.url".
func traversalsText(trs []hcl.Traversal) string {
	var parts []string
	for _, tr := range trs {
		var b strings.Builder
		b.WriteString(tr.RootName())
		for _, step := range tr[1:] {
			if a, ok := step.(hcl.TraverseAttr); ok {
				b.WriteString("." + a.Name)
			}
		}
		parts = append(parts, b.String())
	}
	return strings.Join(iamSortedUnique(parts), ", ")
}

// ctyToAny converts a known cty value into an Attrs value.
func ctyToAny(v cty.Value) (any, error) {
	if v.IsNull() {
		return nil, nil
	}
	t := v.Type()
	switch {
	case t == cty.String:
		return v.AsString(), nil
	case t == cty.Bool:
		return v.True(), nil
	case t == cty.Number:
		bf := v.AsBigFloat()
		if i, acc := bf.Int64(); acc == 0 {
			return i, nil
		}
		f, _ := bf.Float64()
		return f, nil
	case t.IsListType() || t.IsTupleType() || t.IsSetType():
		var out []any
		for it := v.ElementIterator(); it.Next(); {
			_, e := it.Element()
			x, err := ctyToAny(e)
			if err != nil {
				return nil, err
			}
			out = append(out, x)
		}
		return out, nil
	case t.IsMapType() || t.IsObjectType():
		out := map[string]any{}
		for it := v.ElementIterator(); it.Next(); {
			k, e := it.Element()
			x, err := ctyToAny(e)
			if err != nil {
				return nil, err
			}
			// Lambda environment values are strings; numbers and bools
			// written in HCL are converted as the user would expect.
			switch y := x.(type) {
			case int64:
				x = fmt.Sprint(y)
			case float64:
				x = fmt.Sprint(y)
			case bool:
				x = fmt.Sprint(y)
			}
			out[k.AsString()] = x
		}
		return out, nil
	}
	return nil, fmt.Errorf("unsupported value of type %s", t.FriendlyName())
}
