package spec

import (
	"fmt"
	"math/big"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/agext/levenshtein"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// decoder carries what every block decoder needs: the load-time evaluation
// context (every block attribute unknown), the declared names that references
// may resolve to, and the diagnostics collected so far.
type decoder struct {
	dir    string // absolute project folder
	relDir string // the project folder as given, for messages
	ctx    *hcl.EvalContext
	vars   map[string]bool
	locals map[string]*local
	// badVars and badLocals have no value because of an error already
	// reported; expressions reading them are not evaluated.
	badVars, badLocals map[string]bool
	// declared maps every referenceable block to its declaration.
	declared map[Addr]hcl.Range
	// urlRefs are the function.x.url references, checked once every
	// function is decoded (only a function with a url block has one).
	urlRefs []blockRef
	// liveRefs are the function.x.live_arn references (the function needs
	// a release block).
	liveRefs []blockRef
	// appOutputRefs are the app_outputs.<app>.<output> references.
	appOutputRefs []AppOutputRef
	// domainRefs are the api.x.domain_target references (domain.go).
	domainRefs []blockRef
	diags      hcl.Diagnostics
	// start is the beginning of the first file, the subject of diagnostics
	// about something missing from the whole project.
	start hcl.Range
}

func (d *decoder) errorf(subject hcl.Range, summary, format string, args ...any) {
	d.diags = append(d.diags, &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  summary,
		Detail:   fmt.Sprintf(format, args...),
		Subject:  subject.Ptr(),
	})
}

func (d *decoder) warnf(subject hcl.Range, summary, format string, args ...any) {
	d.diags = append(d.diags, &hcl.Diagnostic{
		Severity: hcl.DiagWarning,
		Summary:  summary,
		Detail:   fmt.Sprintf(format, args...),
		Subject:  subject.Ptr(),
	})
}

// content decodes body against schema; HCL reports unknown arguments and
// blocks itself, with a "did you mean" suggestion.
func (d *decoder) content(body hcl.Body, schema *hcl.BodySchema) *hcl.BodyContent {
	c, diags := body.Content(schema)
	d.diags = append(d.diags, diags...)
	return c
}

// refs checks every variable an expression reads: var.x must be declared,
// local.x too, block references must name a declared block of that kind and
// one of RefAttrs. It returns the blocks and locals read, and false if any
// reference is wrong (the caller then skips evaluation, so one mistake gives
// one diagnostic).
func (d *decoder) refs(expr hcl.Expression) (addrs []Addr, locals []string, ok bool) {
	ok = true
	for _, tr := range expr.Variables() {
		root := tr.RootName()
		rng := tr.SourceRange()
		switch {
		case root == "var":
			name, nameRng, has := step(tr, 1)
			if !has {
				continue // var as a whole object is fine
			}
			if !d.vars[name] {
				d.errorf(nameRng, "Reference to undeclared input variable",
					"There is no variable %q.%s Declare it with a variable %q {} block.", name, suggest(name, keys(d.vars)), name)
				ok = false
			}
			if d.badVars[name] {
				ok = false
			}
		case root == "local":
			name, nameRng, has := step(tr, 1)
			if !has {
				continue
			}
			if d.locals[name] == nil {
				d.errorf(nameRng, "Reference to undeclared local value",
					"There is no local value %q.%s", name, suggest(name, localNames(d.locals)))
				ok = false
				continue
			}
			locals = append(locals, name)
			if d.badLocals[name] {
				ok = false
			}
		case RefAttrs[root] != nil:
			name, nameRng, has := step(tr, 1)
			if !has {
				example := root + ".example"
				if len(RefAttrs[root]) > 0 {
					example += "." + RefAttrs[root][0]
				}
				d.errorf(rng, "Invalid reference", "A reference to a %s must name it, like %s.", root, example)
				ok = false
				continue
			}
			addr := Addr{Kind: root, Name: name}
			if _, declared := d.declared[addr]; !declared {
				d.errorf(hcl.RangeBetween(rng, nameRng), fmt.Sprintf("Reference to undeclared %s", root),
					"There is no %s named %q.%s", root, name, suggest(name, d.names(root)))
				ok = false
				continue
			}
			if attr, attrRng, has := step(tr, 2); has && root != KindAppOutputs && !contains(RefAttrs[root], attr) {
				d.errorf(attrRng, "Unsupported attribute",
					"A %s has no attribute %q.%s A reference may read: %s.", root, attr,
					suggest(attr, RefAttrs[root]), strings.Join(RefAttrs[root], ", "))
				ok = false
				continue
			}
			if attr, attrRng, has := step(tr, 2); has && root == KindAppOutputs {
				d.appOutputRefs = append(d.appOutputRefs, AppOutputRef{App: name, Output: attr, Range: hcl.RangeBetween(rng, attrRng)})
			}
			if attr, attrRng, _ := step(tr, 2); root == KindFunction && attr == "url" {
				d.urlRefs = append(d.urlRefs, blockRef{addr, hcl.RangeBetween(rng, attrRng)})
			} else if root == KindFunction && attr == "live_arn" {
				d.liveRefs = append(d.liveRefs, blockRef{addr, hcl.RangeBetween(rng, attrRng)})
			}
			if attr, attrRng, _ := step(tr, 2); root == KindAPI && attr == "domain_target" {
				d.domainRefs = append(d.domainRefs, blockRef{addr, hcl.RangeBetween(rng, attrRng)})
			}
			addrs = append(addrs, addr)
		case root == KindTrigger || root == KindRoute || root == KindOutput:
			d.errorf(rng, "Invalid reference", "A %s cannot be referenced; only variables, locals and resource blocks can.", root)
			ok = false
		default:
			roots := append([]string{"var", "local"}, kindNames()...)
			d.errorf(rng, "Unknown variable",
				"There is no variable named %q.%s An expression may refer to var.<name>, local.<name> and blocks such as queue.<name>.url.",
				root, suggest(root, roots))
			ok = false
		}
	}
	return addrs, locals, ok
}

// blockRef is a reference to a block at a place in the source.
type blockRef struct {
	addr Addr
	rng  hcl.Range
}

// step returns the name at position i of a traversal (attribute or string
// index), if there is one.
func step(tr hcl.Traversal, i int) (string, hcl.Range, bool) {
	if len(tr) <= i {
		return "", hcl.Range{}, false
	}
	switch s := tr[i].(type) {
	case hcl.TraverseAttr:
		return s.Name, s.SrcRange, true
	case hcl.TraverseIndex:
		if s.Key.Type() == cty.String && s.Key.IsKnown() && !s.Key.IsNull() {
			return s.Key.AsString(), s.SrcRange, true
		}
	}
	return "", hcl.Range{}, false
}

func (d *decoder) names(kind string) []string {
	var out []string
	for a := range d.declared {
		if a.Kind == kind {
			out = append(out, a.Name)
		}
	}
	sort.Strings(out)
	return out
}

// value evaluates attr. Unless allowUnknown, the value must be wholly known at
// validate time (it may not read block attributes that exist only after
// deploy). ok is false when a diagnostic was reported.
// secretValue is value for the attributes that may hold a sensitive value
// (environment, output value): it is checked like any other, unmarked.
func (d *decoder) secretValue(attr *hcl.Attribute) (cty.Value, bool) {
	if _, _, ok := d.refs(attr.Expr); !ok {
		return cty.DynamicVal, false
	}
	v, diags := attr.Expr.Value(d.ctx)
	d.diags = append(d.diags, diags...)
	if diags.HasErrors() {
		return cty.DynamicVal, false
	}
	v, _ = v.UnmarkDeep()
	return v, true
}

func (d *decoder) value(attr *hcl.Attribute, allowUnknown bool) (cty.Value, bool) {
	if _, _, ok := d.refs(attr.Expr); !ok {
		return cty.DynamicVal, false
	}
	v, diags := attr.Expr.Value(d.ctx)
	d.diags = append(d.diags, diags...)
	if diags.HasErrors() {
		return cty.DynamicVal, false
	}
	if IsSensitive(v) {
		// A secret may go only where evdeploy can keep it out of plans, logs
		// and physical names: a function's environment and outputs.
		d.errorf(attr.Expr.Range(), "Sensitive value not allowed here",
			"%q reads a sensitive value (a sensitive variable or sensitive()); only a function's environment and an output's value may hold one, as settings appear in plans and names.", attr.Name)
		return cty.DynamicVal, false
	}
	if !allowUnknown && !v.IsWhollyKnown() {
		d.errorf(attr.Expr.Range(), "Value not known until deploy",
			"The value of %q must be known when the spec is validated, but it refers to a block attribute that exists only after deploy. Use a literal, a variable or a local that does not read blocks.", attr.Name)
		return cty.DynamicVal, false
	}
	return v, true
}

// typed evaluates attr and converts it to ty, with a message naming what is
// expected.
func (d *decoder) typed(attr *hcl.Attribute, ty cty.Type, what string) (cty.Value, bool) {
	v, ok := d.value(attr, false)
	if !ok {
		return v, false
	}
	if v.IsNull() {
		d.errorf(attr.Expr.Range(), "Invalid value", "%q must be %s, not null.", attr.Name, what)
		return v, false
	}
	cv, err := convert.Convert(v, ty)
	if err != nil {
		d.errorf(attr.Expr.Range(), "Incorrect attribute value type", "%q must be %s.", attr.Name, what)
		return v, false
	}
	return cv, true
}

func (d *decoder) str(attrs hcl.Attributes, name, def string) string {
	attr := attrs[name]
	if attr == nil {
		return def
	}
	v, ok := d.typed(attr, cty.String, "a string")
	if !ok {
		return def
	}
	return v.AsString()
}

func (d *decoder) boolean(attrs hcl.Attributes, name string, def bool) bool {
	attr := attrs[name]
	if attr == nil {
		return def
	}
	v, ok := d.typed(attr, cty.Bool, "true or false")
	if !ok {
		return def
	}
	return v.True()
}

// integer decodes a whole number within [min, max]; unit is shown in the error
// ("MB", "days").
func (d *decoder) integer(attrs hcl.Attributes, name string, def, min, max int, unit string) int {
	attr := attrs[name]
	if attr == nil {
		return def
	}
	v, ok := d.typed(attr, cty.Number, "a whole number")
	if !ok {
		return def
	}
	bf := v.AsBigFloat()
	i, acc := bf.Int64()
	if acc != big.Exact || !bf.IsInt() {
		d.errorf(attr.Expr.Range(), "Invalid value", "%q must be a whole number, not %s.", name, bf.Text('g', -1))
		return def
	}
	if i < int64(min) || i > int64(max) {
		d.errorf(attr.Expr.Range(), "Value out of range", "%q must be between %d and %d%s; got %d.", name, min, max, unitSuffix(unit), i)
		return def
	}
	return int(i)
}

func unitSuffix(unit string) string {
	if unit == "" {
		return ""
	}
	return " " + unit
}

// duration decodes a duration string ("60s", "15m", "1h", "2d", "1h30m")
// within [min, max].
func (d *decoder) duration(attrs hcl.Attributes, name string, def, min, max time.Duration) time.Duration {
	attr := attrs[name]
	if attr == nil {
		return def
	}
	v, ok := d.value(attr, false)
	if !ok {
		return def
	}
	if v.Type() == cty.Number {
		d.errorf(attr.Expr.Range(), "Invalid duration", "%q must be a duration string with a unit, like \"%ss\".", name, v.AsBigFloat().Text('f', -1))
		return def
	}
	s, err := convert.Convert(v, cty.String)
	if err != nil || s.IsNull() || v.Type() != cty.String {
		d.errorf(attr.Expr.Range(), "Invalid duration", "%q must be a duration string like \"30s\", \"15m\", \"1h\" or \"2d\".", name)
		return def
	}
	dur, err := ParseDuration(s.AsString())
	if err != nil {
		d.errorf(attr.Expr.Range(), "Invalid duration", "%q: %v.", name, err)
		return def
	}
	if dur < min || dur > max {
		d.errorf(attr.Expr.Range(), "Value out of range", "%q must be between %s and %s; got %s.", name, FormatDuration(min), FormatDuration(max), FormatDuration(dur))
		return def
	}
	return dur
}

func (d *decoder) strList(attrs hcl.Attributes, name string) []string {
	attr := attrs[name]
	if attr == nil {
		return nil
	}
	v, ok := d.typed(attr, cty.List(cty.String), "a list of strings")
	if !ok {
		return nil
	}
	out := []string{}
	for _, e := range v.AsValueSlice() {
		if e.IsNull() {
			d.errorf(attr.Expr.Range(), "Invalid value", "%q must not contain null.", name)
			return nil
		}
		out = append(out, e.AsString())
	}
	return out
}

// tags decodes a `tags` map and checks AWS's tag rules.
func (d *decoder) tags(attrs hcl.Attributes) map[string]string {
	attr := attrs["tags"]
	if attr == nil {
		return nil
	}
	v, ok := d.typed(attr, cty.Map(cty.String), "a map of strings, like { team = \"orders\" }")
	if !ok {
		return nil
	}
	out := map[string]string{}
	if n := v.LengthInt(); n > 50 {
		d.errorf(attr.Expr.Range(), "Too many tags", "AWS allows at most 50 tags per resource; this map has %d.", n)
		return nil
	}
	m := v.AsValueMap()
	for _, k := range keys(m) {
		e, at := m[k], keyRange(attr.Expr, k)
		if e.IsNull() {
			d.errorf(at, "Invalid tag", "Tag %q has a null value.", k)
			continue
		}
		val := e.AsString()
		switch {
		case k == "" || len(k) > 128:
			d.errorf(at, "Invalid tag", "Tag keys must be 1 to 128 characters; %q is not.", k)
		case strings.HasPrefix(strings.ToLower(k), "aws:"):
			d.errorf(at, "Invalid tag", "Tag key %q uses the reserved prefix \"aws:\".", k)
		case len(val) > 256:
			d.errorf(at, "Invalid tag", "The value of tag %q is longer than 256 characters.", k)
		}
		out[k] = val
	}
	return out
}

// enum decodes a string that must be one of allowed (compared case-
// insensitively); it returns the allowed spelling.
func (d *decoder) enum(attrs hcl.Attributes, name, def string, allowed []string) string {
	return d.enumSummary(attrs, name, def, allowed, "Invalid value")
}

func (d *decoder) enumSummary(attrs hcl.Attributes, name, def string, allowed []string, summary string) string {
	attr := attrs[name]
	if attr == nil {
		return def
	}
	s := d.str(attrs, name, "\x00")
	if s == "\x00" {
		return def
	}
	for _, a := range allowed {
		if strings.EqualFold(a, s) {
			return a
		}
	}
	d.errorf(attr.Expr.Range(), summary, "%q must be one of %s; got %q.%s", name, quoteList(allowed), s, suggest(s, allowed))
	return def
}

// blockRef decodes an attribute that names a block, like `queue = queue.orders`,
// and checks that the block exists and is of kind.
func (d *decoder) blockRef(attrs hcl.Attributes, name, kind string) (Addr, *hcl.Attribute) {
	attr := attrs[name]
	if attr == nil {
		return Addr{}, nil
	}
	tr, diags := hcl.AbsTraversalForExpr(attr.Expr)
	if diags.HasErrors() || len(tr) != 2 {
		hint := ""
		if v, d2 := attr.Expr.Value(nil); !d2.HasErrors() && v.Type() == cty.String && v.IsKnown() && !v.IsNull() {
			hint = fmt.Sprintf(" Write %s.%s, without quotes.", kind, v.AsString())
		}
		d.errorf(attr.Expr.Range(), "Invalid reference", "%q must refer to a %s block, like %s = %s.example.%s", name, kind, name, kind, hint)
		return Addr{}, attr
	}
	got, _, _ := step(tr, 0)
	target, nameRng, ok := step(tr, 1)
	if !ok {
		d.errorf(attr.Expr.Range(), "Invalid reference", "%q must refer to a %s block, like %s = %s.example.", name, kind, name, kind)
		return Addr{}, attr
	}
	got = tr.RootName()
	if got == KindTrigger || got == KindRoute || got == KindOutput {
		d.errorf(attr.Expr.Range(), "Wrong kind of reference", "%q must refer to a %s, but %s.%s is %s %s.", name, kind, got, target, article(got), got)
		return Addr{}, attr
	}
	if RefAttrs[got] == nil {
		d.errorf(attr.Expr.Range(), "Invalid reference", "%q must refer to a %s block, like %s = %s.%s; %q is not a block kind.%s",
			name, kind, name, kind, target, got, suggest(got, kindNames()))
		return Addr{}, attr
	}
	addr := Addr{Kind: got, Name: target}
	if got != kind {
		d.errorf(attr.Expr.Range(), "Wrong kind of reference",
			"%q must refer to a %s, but %s is %s %s.", name, kind, addr, article(got), got)
		return Addr{}, attr
	}
	if _, ok := d.declared[addr]; !ok {
		d.errorf(hcl.RangeBetween(tr[0].SourceRange(), nameRng), fmt.Sprintf("Reference to undeclared %s", kind),
			"There is no %s named %q.%s", kind, target, suggest(target, d.names(kind)))
		return Addr{}, attr
	}
	return addr, attr
}

// jsonDoc decodes an attribute that is an object (or a JSON string) into
// canonical JSON with sorted keys.
func (d *decoder) jsonDoc(attr *hcl.Attribute) (any, string, bool) {
	v, ok := d.value(attr, false)
	if !ok {
		return nil, "", false
	}
	doc, err := jsonValue(v)
	if err != nil {
		d.errorf(attr.Expr.Range(), "Invalid value", "%q: %v.", attr.Name, err)
		return nil, "", false
	}
	s, err := canonicalJSON(doc)
	if err != nil {
		d.errorf(attr.Expr.Range(), "Invalid value", "%q: %v.", attr.Name, err)
		return nil, "", false
	}
	return doc, s, true
}

var durationRE = regexp.MustCompile(`^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$`)

// ParseDuration parses evdeploy's durations: whole numbers of days, hours,
// minutes and seconds in that order, like "60s", "15m", "1h30m" or "2d". AWS
// counts these settings in seconds, so there is no smaller unit.
func ParseDuration(s string) (time.Duration, error) {
	m := durationRE.FindStringSubmatch(strings.TrimSpace(s))
	if s == "" || m == nil || m[0] == "" {
		return 0, fmt.Errorf("%q is not a duration; write a number and a unit (s, m, h or d), like \"30s\", \"15m\", \"1h\" or \"2d\"", s)
	}
	var total time.Duration
	units := []time.Duration{24 * time.Hour, time.Hour, time.Minute, time.Second}
	for i, u := range units {
		if m[i+1] == "" {
			continue
		}
		n, err := strconv.ParseInt(m[i+1], 10, 64)
		// 100000 of each unit keeps the sum within time.Duration.
		if err != nil || n > 100000 {
			return 0, fmt.Errorf("%q is too long", s)
		}
		total += time.Duration(n) * u
	}
	return total, nil
}

// FormatDuration prints d the way ParseDuration reads it ("1h30m", "14d").
func FormatDuration(d time.Duration) string {
	if d == 0 {
		return "0s"
	}
	var b strings.Builder
	for _, u := range []struct {
		d time.Duration
		s string
	}{{24 * time.Hour, "d"}, {time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}} {
		if n := d / u.d; n > 0 {
			fmt.Fprintf(&b, "%d%s", n, u.s)
			d -= n * u.d
		}
	}
	return b.String()
}

// suggest returns ` Did you mean "x"?` when one of candidates is close to
// name, as HCL does.
func suggest(name string, candidates []string) string {
	best, bestDist := "", 3
	for _, c := range candidates {
		if dist := levenshtein.Distance(name, c, nil); dist < bestDist {
			best, bestDist = c, dist
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" Did you mean %q?", best)
}

func quoteList(list []string) string {
	q := make([]string, len(list))
	for i, s := range list {
		q[i] = strconv.Quote(s)
	}
	if len(q) <= 1 {
		return strings.Join(q, "")
	}
	return strings.Join(q[:len(q)-1], ", ") + " or " + q[len(q)-1]
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func localNames(m map[string]*local) []string { return keys(m) }

func kindNames() []string { return keys(RefAttrs) }

// keyRange finds the range of key's item in an object constructor expression
// ({ KEY = value }), so a diagnostic about one entry points at that entry; it
// falls back to the whole expression.
func keyRange(expr hcl.Expression, key string) hcl.Range {
	if obj, ok := expr.(*hclsyntax.ObjectConsExpr); ok {
		for _, item := range obj.Items {
			kv, diags := item.KeyExpr.Value(nil)
			if diags.HasErrors() || !kv.IsKnown() || kv.IsNull() || kv.Type() != cty.String {
				continue
			}
			if kv.AsString() == key {
				return hcl.RangeBetween(item.KeyExpr.Range(), item.ValueExpr.Range())
			}
		}
	}
	return expr.Range()
}

func article(kind string) string {
	if strings.ContainsRune("aeiou", rune(kind[0])) {
		return "an"
	}
	return "a"
}
