package spec

import (
	"sort"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
)

// sensitiveMark is the cty value mark of a secret: a `variable { sensitive =
// true }`'s value and whatever sensitive() returns. cty carries marks through
// every operation and function, so a value computed from a secret (a
// connection string built from a password) is marked too.
type sensitiveMark struct{}

// Sensitive is the mark: value.HasMark(spec.Sensitive).
var Sensitive = sensitiveMark{}

func (sensitiveMark) GoString() string { return "spec.Sensitive" }

// sensitiveFunc is sensitive(value): the value, marked sensitive.
var sensitiveFunc = function.New(&function.Spec{
	Description: "Marks a value sensitive: plans, outputs and logs show it as (sensitive).",
	Params: []function.Parameter{{
		Name: "value", Type: cty.DynamicPseudoType,
		AllowMarked: true, AllowUnknown: true, AllowNull: true, AllowDynamicType: true,
	}},
	Type: func(args []cty.Value) (cty.Type, error) { return args[0].Type(), nil },
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		return args[0].Mark(Sensitive), nil
	},
})

// IsSensitive reports whether v, or anything inside it, is marked sensitive.
func IsSensitive(v cty.Value) bool {
	if v.HasMark(Sensitive) {
		return true
	}
	_, pvm := v.UnmarkDeepWithPaths()
	for _, pm := range pvm {
		if _, ok := pm.Marks[Sensitive]; ok {
			return true
		}
	}
	return false
}

// SensitiveStrings lists the known text of every sensitive value inside v
// (strings and numbers as written), for callers that must scrub them from
// text they did not produce (an AWS error echoing a request).
func SensitiveStrings(v cty.Value) []string {
	var out []string
	_ = cty.Walk(v, func(_ cty.Path, x cty.Value) (bool, error) {
		if !x.HasMark(Sensitive) {
			return true, nil
		}
		u, _ := x.UnmarkDeep()
		out = append(out, leafStrings(u)...)
		return false, nil
	})
	return out
}

func leafStrings(v cty.Value) []string {
	var out []string
	_ = cty.Walk(v, func(_ cty.Path, x cty.Value) (bool, error) {
		if x.IsNull() || !x.IsKnown() {
			return true, nil
		}
		switch x.Type() {
		case cty.String:
			out = append(out, x.AsString())
		case cty.Number:
			out = append(out, x.AsBigFloat().Text('f', -1))
		}
		return true, nil
	})
	return out
}

// SensitiveValues lists the text of the app's sensitive variables' values
// (see SensitiveStrings), sorted and without duplicates.
func (a *App) SensitiveValues() []string {
	if a == nil || a.eval == nil {
		return nil
	}
	seen := map[string]bool{}
	var out []string
	for _, v := range a.eval.vars {
		for _, s := range SensitiveStrings(v) {
			if !seen[s] {
				seen[s] = true
				out = append(out, s)
			}
		}
	}
	sort.Strings(out)
	return out
}
