package planner

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"sort"
)

// Norm converts a value into the canonical in-memory form used in Attrs: whole
// numbers become int64, []string becomes []any, map[string]string becomes
// map[string]any, nested values recursively. Values read back from JSON (state
// files, saved plans) compare equal to values built in Go after Norm.
func Norm(v any) any {
	switch x := v.(type) {
	case nil:
		return nil
	case string, bool, int64, Ref, *Expr, Unknown:
		return x
	case int:
		return int64(x)
	case int32:
		return int64(x)
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
			return int64(x)
		}
		return x
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		f, _ := x.Float64()
		return f
	case []string:
		out := make([]any, len(x))
		for i, s := range x {
			out[i] = s
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = Norm(e)
		}
		return out
	case map[string]string:
		out := make(map[string]any, len(x))
		for k, s := range x {
			out[k] = s
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = Norm(e)
		}
		return out
	case Attrs:
		return map[string]any(x.Norm())
	case []map[string]any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = Norm(e)
		}
		return out
	}
	panic(fmt.Sprintf("planner.Norm: unsupported attribute value %T", v))
}

// Norm returns a normalised copy of a.
func (a Attrs) Norm() Attrs {
	if a == nil {
		return nil
	}
	out := make(Attrs, len(a))
	for k, v := range a {
		out[k] = Norm(v)
	}
	return out
}

// Equal reports whether two attribute values are the same after Norm.
func Equal(a, b any) bool { return reflect.DeepEqual(Norm(a), Norm(b)) }

// Keys returns the attribute names in sorted order.
func (a Attrs) Keys() []string {
	keys := make([]string, 0, len(a))
	for k := range a {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// String returns a string attribute, "" when absent.
func (a Attrs) String(k string) string {
	s, _ := a[k].(string)
	return s
}

// Int returns a whole-number attribute, 0 when absent.
func (a Attrs) Int(k string) int64 {
	if v, ok := Norm(a[k]).(int64); ok {
		return v
	}
	return 0
}

// Bool returns a bool attribute, false when absent.
func (a Attrs) Bool(k string) bool {
	b, _ := a[k].(bool)
	return b
}

// Has reports whether the attribute is present.
func (a Attrs) Has(k string) bool {
	_, ok := a[k]
	return ok
}

// Strings returns a list-of-strings attribute, nil when absent.
func (a Attrs) Strings(k string) []string {
	switch x := a[k].(type) {
	case []string:
		return x
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// StringMap returns a map-of-strings attribute (tags, environment), nil when absent.
func (a Attrs) StringMap(k string) map[string]string {
	switch x := a[k].(type) {
	case map[string]string:
		return x
	case map[string]any:
		out := make(map[string]string, len(x))
		for key, e := range x {
			if s, ok := e.(string); ok {
				out[key] = s
			}
		}
		return out
	}
	return nil
}

// List returns a list-of-objects attribute (S3 notification configurations).
func (a Attrs) List(k string) []Attrs {
	x, _ := a[k].([]any)
	out := make([]Attrs, 0, len(x))
	for _, e := range x {
		switch m := e.(type) {
		case map[string]any:
			out = append(out, Attrs(m))
		case Attrs:
			out = append(out, m)
		}
	}
	return out
}
