package localstack

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"path"
	"strings"
)

// EventBridge event patterns, matched by the engine (kumo's matcher is
// internal to it). Semantics from the EventBridge user guide, "Event
// patterns" and "Content filtering": every field of the pattern must match;
// an object descends; an array lists alternatives, each a literal (string,
// number, boolean, null) or a filter object — prefix, suffix,
// equals-ignore-case, anything-but, numeric, exists, wildcard, cidr; an event
// array matches when any of its elements does; "$or" lists sub-patterns.

// matchPattern reports whether event (a decoded event envelope) matches the
// pattern document.
func matchPattern(pattern string, event map[string]any) (bool, error) {
	var p map[string]any
	if err := json.Unmarshal([]byte(pattern), &p); err != nil {
		return false, fmt.Errorf("event pattern: %w", err)
	}
	return matchObject(p, event), nil
}

func matchObject(p map[string]any, ev map[string]any) bool {
	for k, pv := range p {
		if k == "$or" {
			alts, _ := pv.([]any)
			matched := false
			for _, a := range alts {
				if am, ok := a.(map[string]any); ok && matchObject(am, ev) {
					matched = true
					break
				}
			}
			if !matched {
				return false
			}
			continue
		}
		v, present := ev[k]
		switch pv := pv.(type) {
		case map[string]any:
			sub, ok := v.(map[string]any)
			if !ok || !matchObject(pv, sub) {
				return false
			}
		case []any:
			if !matchField(pv, v, present) {
				return false
			}
		default:
			return false // not a valid pattern field
		}
	}
	return true
}

// matchField matches one event value (absent, a scalar or an array of
// scalars) against a pattern array.
func matchField(alts []any, v any, present bool) bool {
	for _, a := range alts {
		if f, ok := a.(map[string]any); ok {
			if e, ok := f["exists"].(bool); ok {
				if e == (present && !isEmptyObject(v)) {
					return true
				}
				continue
			}
		}
		if !present {
			continue
		}
		vals, isArr := v.([]any)
		if !isArr {
			vals = []any{v}
		}
		for _, x := range vals {
			if matchValue(a, x) {
				return true
			}
		}
	}
	return false
}

func isEmptyObject(v any) bool {
	m, ok := v.(map[string]any)
	return ok && len(m) == 0
}

// matchValue matches one pattern alternative against one scalar.
func matchValue(a, x any) bool {
	f, ok := a.(map[string]any)
	if !ok {
		return literalEqual(a, x)
	}
	for op, arg := range f {
		switch op {
		case "prefix", "suffix":
			s, ok := x.(string)
			if !ok {
				return false
			}
			want, fold := filterString(arg)
			if fold {
				s, want = strings.ToLower(s), strings.ToLower(want)
			}
			if op == "prefix" && !strings.HasPrefix(s, want) || op == "suffix" && !strings.HasSuffix(s, want) {
				return false
			}
		case "equals-ignore-case":
			s, ok := x.(string)
			w, _ := arg.(string)
			if !ok || !strings.EqualFold(s, w) {
				return false
			}
		case "wildcard":
			s, ok := x.(string)
			w, _ := arg.(string)
			if !ok || !wildcard(w, s) {
				return false
			}
		case "anything-but":
			if anythingBut(arg, x) {
				return false
			}
		case "numeric":
			n, ok := x.(float64)
			conds, _ := arg.([]any)
			if !ok || !numeric(conds, n) {
				return false
			}
		case "cidr":
			s, ok := x.(string)
			c, _ := arg.(string)
			pfx, err := netip.ParsePrefix(c)
			ip, err2 := netip.ParseAddr(s)
			if !ok || err != nil || err2 != nil || !pfx.Contains(ip) {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// filterString reads a prefix/suffix argument: a string, or
// {"equals-ignore-case": "…"}.
func filterString(arg any) (string, bool) {
	switch a := arg.(type) {
	case string:
		return a, false
	case map[string]any:
		s, _ := a["equals-ignore-case"].(string)
		return s, true
	}
	return "", false
}

// anythingBut reports whether x is among what anything-but excludes.
func anythingBut(arg, x any) bool {
	switch a := arg.(type) {
	case []any:
		for _, e := range a {
			if literalEqual(e, x) {
				return true
			}
		}
		return false
	case map[string]any:
		return matchValue(a, x)
	default:
		return literalEqual(a, x)
	}
}

func literalEqual(a, x any) bool {
	switch a := a.(type) {
	case nil:
		return x == nil
	case string:
		s, ok := x.(string)
		return ok && s == a
	case float64:
		n, ok := x.(float64)
		return ok && n == a
	case bool:
		b, ok := x.(bool)
		return ok && b == a
	}
	return false
}

func numeric(conds []any, n float64) bool {
	if len(conds)%2 != 0 || len(conds) == 0 {
		return false
	}
	for i := 0; i < len(conds); i += 2 {
		op, _ := conds[i].(string)
		v, ok := conds[i+1].(float64)
		if !ok {
			return false
		}
		var r bool
		switch op {
		case "=":
			r = n == v
		case "<":
			r = n < v
		case "<=":
			r = n <= v
		case ">":
			r = n > v
		case ">=":
			r = n >= v
		}
		if !r {
			return false
		}
	}
	return true
}

// wildcard matches s against a pattern where * is any run of characters.
func wildcard(pattern, s string) bool {
	// path.Match treats / specially and knows ? and []; escape those.
	r := strings.NewReplacer(`\`, `\\`, "?", `\?`, "[", `\[`)
	pattern = r.Replace(pattern)
	if !strings.Contains(s, "/") {
		ok, _ := path.Match(pattern, s)
		return ok
	}
	// Compare segment-free: replace / in both by a byte path.Match does not treat specially.
	ok, _ := path.Match(strings.ReplaceAll(pattern, "/", "\x00"), strings.ReplaceAll(s, "/", "\x00"))
	return ok
}
