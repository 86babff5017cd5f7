package spec

import (
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// KindAppOutputs is the app_outputs block: another evdeploy app's outputs,
// read from its state.
const KindAppOutputs = "app_outputs"

// ExistingKinds are the block kinds that may name a resource made elsewhere
// with `existing = "<name or ARN>"`.
var ExistingKinds = []string{KindQueue, KindTopic, KindBus, KindBucket, KindTable, KindStream}

// Existing is a block's `existing` setting: the resource is made elsewhere,
// evdeploy only reads its attributes and adds its own triggers, routes,
// grants and policy statements to it.
type Existing struct {
	// Value is the name or ARN when known at validate time; "" when the
	// expression reads app_outputs (evaluate Expr with App.Eval then).
	Value string
	Expr  hcl.Expression
	Range hcl.Range // the expression
}

// AppOutputs is an `app_outputs` block: the outputs of the evdeploy app in
// Path (its backend says where its state is), for Stage.
type AppOutputs struct {
	Addr      Addr
	DeclRange hcl.Range
	Path      string // absolute folder of the other app
	RelPath   string // as written, for messages
	Stage     string // the stage to read ("" = this app's stage)
}

var appOutputsSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "path", Required: true}, {Name: "stage"}},
}

func (d *decoder) appOutputs(addr Addr, b *hcl.Block) *AppOutputs {
	c := d.content(b.Body, appOutputsSchema)
	o := &AppOutputs{Addr: addr, DeclRange: b.DefRange, RelPath: d.str(c.Attributes, "path", ""), Stage: d.str(c.Attributes, "stage", "")}
	if attr := c.Attributes["path"]; attr != nil && o.RelPath == "" {
		d.errorf(attr.Expr.Range(), "Invalid value", "\"path\" must name the other app's folder, like \"../core\".")
	}
	if o.RelPath != "" {
		o.Path = o.RelPath
		if !filepath.IsAbs(o.Path) {
			o.Path = filepath.Join(d.dir, o.Path)
		}
		o.Path = filepath.Clean(o.Path)
	}
	if attr := c.Attributes["stage"]; attr != nil && o.Stage != "" && !stageRE.MatchString(o.Stage) {
		d.errorf(attr.Expr.Range(), "Invalid stage", "The stage %q must be 1 to 16 lowercase letters, digits and hyphens.", o.Stage)
	}
	return o
}

var existingSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "existing"}}}

// existing decodes a block's `existing` setting; nil when the block has none
// (it is then decoded as a block evdeploy manages). Any other setting beside
// existing is an error naming it: evdeploy would not apply it.
func (d *decoder) existing(addr Addr, b *hcl.Block) *Existing {
	c, rest, diags := b.Body.PartialContent(existingSchema)
	if diags.HasErrors() || c.Attributes["existing"] == nil {
		return nil
	}
	attr := c.Attributes["existing"]
	ex := &Existing{Expr: attr.Expr, Range: attr.Expr.Range()}
	type setting struct {
		name string
		rng  hcl.Range
	}
	var others []setting
	if sb, ok := rest.(*hclsyntax.Body); ok {
		for _, blk := range sb.Blocks {
			others = append(others, setting{"the " + blk.Type + " block", blk.DefRange()})
		}
	}
	attrs, adiags := rest.JustAttributes()
	if _, ok := rest.(*hclsyntax.Body); !ok {
		d.diags = append(d.diags, adiags...)
	}
	for _, a := range attrs {
		others = append(others, setting{a.Name, a.NameRange})
	}
	sort.Slice(others, func(i, j int) bool { return others[i].rng.Start.Byte < others[j].rng.Start.Byte })
	for _, o := range others {
		d.errorf(o.rng, "Setting beside existing",
			"%s is made elsewhere (existing at %s): evdeploy never changes it, so %s would not be applied. Remove %s, or remove existing to let evdeploy create and manage the %s.",
			addr, attr.NameRange, o.name, o.name, addr.Kind)
	}
	blocks, _, ok := d.refs(attr.Expr)
	if !ok {
		return ex
	}
	for _, a := range blocks {
		if a.Kind != KindAppOutputs {
			d.errorf(attr.Expr.Range(), "Invalid existing",
				"existing must be a name or an ARN known before deploy: it may read variables, locals and app_outputs, not %s.", a)
			return ex
		}
	}
	v, diags := attr.Expr.Value(d.ctx)
	d.diags = append(d.diags, diags...)
	if diags.HasErrors() {
		return ex
	}
	if !v.IsWhollyKnown() {
		return ex // reads app_outputs: evaluated at plan time
	}
	if v.IsNull() || !v.Type().Equals(cty.String) || strings.TrimSpace(v.AsString()) == "" {
		d.errorf(attr.Expr.Range(), "Invalid existing", "existing must be the %s's name or ARN, a non-empty string.", addr.Kind)
		return ex
	}
	ex.Value = v.AsString()
	return ex
}

// ExistingOf returns the existing setting of the block at addr, nil when the
// block is evdeploy's own (or not a kind that can be existing).
func (a *App) ExistingOf(addr Addr) *Existing {
	for _, b := range a.existables() {
		if b.addr == addr {
			return b.ex
		}
	}
	return nil
}

// ExistingBlocks lists the blocks made elsewhere, in address order.
func (a *App) ExistingBlocks() []Addr {
	var out []Addr
	for _, b := range a.existables() {
		if b.ex != nil {
			out = append(out, b.addr)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}

// existable is a block of a kind that can be existing, with its setting
// (nil when the block is evdeploy's own).
type existable struct {
	addr Addr
	ex   *Existing
}

// existables lists the app's blocks of the kinds that take existing: the one
// place that knows which kinds those are.
func (a *App) existables() []existable {
	var out []existable
	for _, x := range a.Queues {
		out = append(out, existable{x.Addr, x.Existing})
	}
	for _, x := range a.Topics {
		out = append(out, existable{x.Addr, x.Existing})
	}
	for _, x := range a.Buses {
		out = append(out, existable{x.Addr, x.Existing})
	}
	for _, x := range a.Buckets {
		out = append(out, existable{x.Addr, x.Existing})
	}
	for _, x := range a.Tables {
		out = append(out, existable{x.Addr, x.Existing})
	}
	for _, x := range a.Streams {
		out = append(out, existable{x.Addr, x.Existing})
	}
	return out
}

// ExistingName evaluates a block's existing setting with the other apps'
// outputs (app_outputs name → output name → value) and returns the name or
// ARN it names.
func (a *App) ExistingName(ex *Existing, outputs map[string]map[string]cty.Value) (string, hcl.Diagnostics) {
	if ex.Value != "" {
		return ex.Value, nil
	}
	blocks := map[Addr]map[string]cty.Value{}
	for name, vals := range outputs {
		blocks[Addr{Kind: KindAppOutputs, Name: name}] = vals
	}
	v, diags := a.Eval(ex.Expr, blocks)
	if diags.HasErrors() {
		return "", diags
	}
	if !v.IsWhollyKnown() || v.IsNull() || !v.Type().Equals(cty.String) || v.AsString() == "" {
		return "", hcl.Diagnostics{{
			Severity: hcl.DiagError, Summary: "Invalid existing",
			Detail:  "existing must evaluate to a name or an ARN (a non-empty string).",
			Subject: ex.Range.Ptr(),
		}}
	}
	return v.AsString(), nil
}

// appOutputsAddr is the address of an app_outputs block.
func appOutputsAddr(name string) Addr { return Addr{Kind: KindAppOutputs, Name: name} }

// S3Overlap returns an event type two bucket notification entries both
// receive for some key (their prefixes and suffixes overlap), or "" when S3
// would accept both on one bucket.
func S3Overlap(aEvents []string, aPrefix, aSuffix string, bEvents []string, bPrefix, bSuffix string) string {
	ev := sharedEvent(aEvents, bEvents)
	if ev == "" || !overlaps(aPrefix, bPrefix, strings.HasPrefix) || !overlaps(aSuffix, bSuffix, strings.HasSuffix) {
		return ""
	}
	return ev
}

// AppOutputRef is one app_outputs.<app>.<output> reference in the source.
type AppOutputRef struct {
	App    string
	Output string
	Range  hcl.Range
}

func dedupAppOutputRefs(refs []AppOutputRef) []AppOutputRef {
	seen := map[string]bool{}
	var out []AppOutputRef
	for _, r := range refs {
		k := r.Range.String()
		if !seen[k] {
			seen[k] = true
			out = append(out, r)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i].Range, out[j].Range
		if a.Filename != b.Filename {
			return a.Filename < b.Filename
		}
		return a.Start.Byte < b.Start.Byte
	})
	return out
}
