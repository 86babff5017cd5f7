package planner

import "sort"

// SensitiveText is how a sensitive value is shown, as Terraform does.
const SensitiveText = "(sensitive)"

// sensitiveShown stands in for a sensitive attribute's value in what is
// rendered for people and in plan --json.
type sensitiveShown struct{}

func (sensitiveShown) MarshalJSON() ([]byte, error) { return []byte(`"` + SensitiveText + `"`), nil }

// masked returns a copy of p whose changes show every sensitive attribute as
// (sensitive). Saved plans keep the values (they are applied from).
func masked(p *Plan) *Plan {
	cp := *p
	cp.Changes = make([]*Change, len(p.Changes))
	for i, c := range p.Changes {
		if len(c.Sensitive) == 0 {
			cp.Changes[i] = c
			continue
		}
		mc := *c
		mc.Before, mc.After = maskAttrs(c.Before, c.Sensitive), maskAttrs(c.After, c.Sensitive)
		cp.Changes[i] = &mc
	}
	return &cp
}

func maskAttrs(a Attrs, sensitive []string) Attrs {
	if a == nil {
		return nil
	}
	out := make(Attrs, len(a))
	for k, v := range a {
		out[k] = v
	}
	for _, k := range sensitive {
		if _, ok := out[k]; ok {
			out[k] = sensitiveShown{}
		}
	}
	return out
}

func unionStrings(a, b []string) []string {
	if len(b) == 0 {
		return a
	}
	seen := map[string]bool{}
	var out []string
	for _, s := range append(append([]string(nil), a...), b...) {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}
