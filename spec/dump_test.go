package spec

import (
	"fmt"
	"os"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

var (
	rangeType = reflect.TypeOf(hcl.Range{})
	exprType  = reflect.TypeOf((*hcl.Expression)(nil)).Elem()
)

// dumpApp renders an App as indented text for golden files: every field but
// source ranges, with expressions shown as App.Eval gives them before deploy.
func dumpApp(t *testing.T, app *App) string {
	t.Helper()
	var b strings.Builder
	dumpValue(t, app, &b, reflect.ValueOf(app).Elem(), 0)
	// Paths are absolute; keep the golden files machine-independent.
	cwd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return strings.ReplaceAll(strings.TrimPrefix(b.String(), "\n"), cwd, "<spec>")
}

func dumpValue(t *testing.T, app *App, b *strings.Builder, v reflect.Value, depth int) {
	ind := strings.Repeat("  ", depth)
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			b.WriteString("nil\n")
			return
		}
		dumpValue(t, app, b, v.Elem(), depth)
	case reflect.Struct:
		if v.Type() == reflect.TypeOf(Addr{}) {
			b.WriteString(v.Interface().(Addr).String() + "\n")
			return
		}
		b.WriteString("\n")
		for i := 0; i < v.NumField(); i++ {
			f := v.Type().Field(i)
			if !f.IsExported() || f.Type == rangeType {
				continue
			}
			fv := v.Field(i)
			if fv.IsZero() && f.Type.Kind() != reflect.Struct {
				continue // defaults worth seeing are non-zero; zero fields add noise
			}
			fmt.Fprintf(b, "%s%s: ", ind+"  ", f.Name)
			if f.Type == exprType {
				val, diags := app.Eval(fv.Interface().(hcl.Expression), nil)
				if diags.HasErrors() {
					t.Errorf("Eval %s: %s", f.Name, diags.Error())
				}
				b.WriteString(ctyString(val) + "\n")
				continue
			}
			dumpValue(t, app, b, fv, depth+1)
		}
	case reflect.Slice:
		b.WriteString("\n")
		for i := 0; i < v.Len(); i++ {
			fmt.Fprintf(b, "%s- ", ind+"  ")
			dumpValue(t, app, b, v.Index(i), depth+1)
		}
	case reflect.Map:
		keys := v.MapKeys()
		sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = fmt.Sprintf("%s=%q", k.String(), v.MapIndex(k).String())
		}
		b.WriteString("{" + strings.Join(parts, ", ") + "}\n")
	default:
		if d, ok := v.Interface().(time.Duration); ok {
			b.WriteString(FormatDuration(d) + "\n")
			return
		}
		fmt.Fprintf(b, "%#v\n", v.Interface())
	}
}

// ctyString renders a value with unknowns as (known after apply).
func ctyString(v cty.Value) string {
	switch {
	case !v.IsKnown():
		return "(known after apply)"
	case v.IsNull():
		return "null"
	}
	ty := v.Type()
	switch {
	case ty == cty.String:
		return fmt.Sprintf("%q", v.AsString())
	case ty == cty.Number:
		return v.AsBigFloat().Text('f', -1)
	case ty == cty.Bool:
		return fmt.Sprint(v.True())
	case ty.IsObjectType() || ty.IsMapType():
		m := v.AsValueMap()
		var parts []string
		for _, k := range keys(m) {
			parts = append(parts, k+" = "+ctyString(m[k]))
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case ty.IsListType() || ty.IsTupleType() || ty.IsSetType():
		var parts []string
		for _, e := range v.AsValueSlice() {
			parts = append(parts, ctyString(e))
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	return v.GoString()
}
