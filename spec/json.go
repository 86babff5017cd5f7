package spec

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/zclconf/go-cty/cty"
)

// jsonValue turns an HCL value into a JSON document. A string is taken as
// JSON text (so `jsonencode({...})` and a heredoc work as well as an object).
func jsonValue(v cty.Value) (any, error) {
	if v.IsNull() {
		return nil, fmt.Errorf("must not be null")
	}
	if v.Type() == cty.String {
		var doc any
		dec := json.NewDecoder(bytes.NewReader([]byte(v.AsString())))
		dec.UseNumber()
		if err := dec.Decode(&doc); err != nil {
			return nil, fmt.Errorf("not valid JSON: %v", err)
		}
		if dec.More() {
			return nil, fmt.Errorf("not valid JSON: text after the document")
		}
		return doc, nil
	}
	return goValue(v)
}

func goValue(v cty.Value) (any, error) {
	if v.IsNull() {
		return nil, nil
	}
	if !v.IsKnown() {
		return nil, fmt.Errorf("value not known until deploy")
	}
	ty := v.Type()
	switch {
	case ty == cty.String:
		return v.AsString(), nil
	case ty == cty.Bool:
		return v.True(), nil
	case ty == cty.Number:
		return json.Number(v.AsBigFloat().Text('f', -1)), nil
	case ty.IsObjectType() || ty.IsMapType():
		out := map[string]any{}
		for k, e := range v.AsValueMap() {
			g, err := goValue(e)
			if err != nil {
				return nil, err
			}
			out[k] = g
		}
		return out, nil
	case ty.IsListType() || ty.IsTupleType() || ty.IsSetType():
		out := []any{}
		for _, e := range v.AsValueSlice() {
			g, err := goValue(e)
			if err != nil {
				return nil, err
			}
			out = append(out, g)
		}
		return out, nil
	}
	return nil, fmt.Errorf("cannot represent a %s in JSON", ty.FriendlyName())
}

// canonicalJSON renders doc compactly with object keys sorted, so the same
// pattern always produces the same string (and plans show no spurious diffs).
func canonicalJSON(doc any) (string, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(doc); err != nil {
		return "", err
	}
	return string(bytes.TrimSpace(b.Bytes())), nil
}

// checkPattern checks the shape EventBridge event patterns and SNS filter
// policies share: a non-empty object whose leaves are arrays of match values.
func checkPattern(doc any) error {
	obj, ok := doc.(map[string]any)
	if !ok {
		return fmt.Errorf("must be an object, like { source = [\"shop.orders\"] }")
	}
	if len(obj) == 0 {
		return fmt.Errorf("must not be empty")
	}
	return checkPatternObject(obj, "")
}

func checkPatternObject(obj map[string]any, path string) error {
	for _, k := range keys(obj) {
		p := k
		if path != "" {
			p = path + "." + k
		}
		switch e := obj[k].(type) {
		case []any:
			if len(e) == 0 {
				return fmt.Errorf("%s: a match list must not be empty", p)
			}
		case map[string]any:
			if len(e) == 0 {
				return fmt.Errorf("%s: must not be an empty object", p)
			}
			if err := checkPatternObject(e, p); err != nil {
				return err
			}
		default:
			return fmt.Errorf("%s: match values must be in a list, like [%s]", p, jsonText(e))
		}
	}
	return nil
}

func jsonText(v any) string {
	s, err := canonicalJSON(v)
	if err != nil {
		return "…"
	}
	return s
}
