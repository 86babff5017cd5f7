package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"path/filepath"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/evdeploy/evdeploy/planner"
	awsprov "github.com/evdeploy/evdeploy/providers/aws"
	"github.com/evdeploy/evdeploy/spec"
	"github.com/evdeploy/evdeploy/state"
)

// external is what a plan reads from outside the app: other apps' outputs
// (app_outputs) and the resources made elsewhere (existing = ...).
type external struct {
	outputs  map[string]map[string]cty.Value // app_outputs name → output → value
	existing map[spec.Addr]map[string]any
	// consumed are the other apps' output values this app reads, by
	// "app_outputs.<name>.<output>", for the state and for plan to show
	// what changed upstream since the last apply.
	consumed map[string]any
	// sensitive are the consumed outputs the other app records as
	// sensitive: a plan shows that they changed, never their values.
	sensitive map[string]bool
	// unapplied are the app_outputs blocks whose app has no state for the
	// stage read: never applied, or destroyed.
	unapplied []unappliedApp
}

type unappliedApp struct {
	dir  string // absolute folder
	text string // app_outputs.core (../core, stage dev)
}

// readExternal reads other apps' outputs from their state (read-only, without
// their lock) and looks up every existing block in AWS. Problems are
// diagnostics at the block or reference they concern.
func readExternal(ctx context.Context, app *spec.App, cfg aws.Config, target *TargetInfo) (*external, hcl.Diagnostics) {
	ex := &external{outputs: map[string]map[string]cty.Value{}, existing: map[spec.Addr]map[string]any{}, consumed: map[string]any{}, sensitive: map[string]bool{}}
	var diags hcl.Diagnostics
	raw := map[string]map[string]state.Output{}
	where := map[string]string{}
	for _, o := range app.AppOutputs {
		stage := o.Stage
		if stage == "" {
			stage = app.Stage
		}
		where[o.Addr.Name] = fmt.Sprintf("%s (stage %s)", o.RelPath, stage)
		outs, err := readAppOutputs(ctx, o.Path, stage, cfg)
		if errors.Is(err, errNoAppState) {
			ex.unapplied = append(ex.unapplied, unappliedApp{o.Path, fmt.Sprintf("%s (%s, stage %s)", o.Addr, o.RelPath, stage)})
		}
		if err != nil {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Cannot read app outputs",
				Detail:   fmt.Sprintf("%s reads the app in %s, stage %s: %v.", o.Addr, o.RelPath, stage, err),
				Subject:  o.DeclRange.Ptr(),
			})
			continue
		}
		raw[o.Addr.Name] = outs
		vals := map[string]cty.Value{}
		for k, v := range outs {
			vals[k] = anyToCty(v.Value)
		}
		ex.outputs[o.Addr.Name] = vals
	}
	for _, r := range app.AppOutputRefs {
		outs, ok := raw[r.App]
		if !ok {
			continue // its state could not be read: reported above
		}
		v, ok := outs[r.Output]
		if !ok {
			names := make([]string, 0, len(outs))
			for k := range outs {
				names = append(names, k)
			}
			sort.Strings(names)
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "No such app output",
				Detail:   fmt.Sprintf("The app in %s has no output %q in its state (its outputs: %v). Add output %q to it and apply it first.", where[r.App], r.Output, names, r.Output),
				Subject:  r.Range.Ptr(),
			})
			continue
		}
		ex.consumed["app_outputs."+r.App+"."+r.Output] = v.Value
		if v.Sensitive {
			ex.sensitive["app_outputs."+r.App+"."+r.Output] = true
		}
	}
	if diags.HasErrors() {
		return ex, diags
	}
	for _, addr := range app.ExistingBlocks() {
		e := app.ExistingOf(addr)
		ref, d := app.ExistingName(e, ex.outputs)
		if d.HasErrors() {
			diags = append(diags, d...)
			continue
		}
		attrs, err := awsprov.LookupExisting(ctx, cfg, target.Account, target.Partition, addr.Kind, ref)
		if errors.Is(err, awsprov.ErrExistingNotFound) {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Existing " + addr.Kind + " not found",
				Detail:   fmt.Sprintf("%s names %q, but there is no such %s on %s. Check the name or ARN (and the region and account), or remove existing to let evdeploy create it.", addr, ref, addr.Kind, target.ID()),
				Subject:  e.Range.Ptr(),
			})
			continue
		}
		if err != nil {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Cannot read existing " + addr.Kind,
				Detail:   fmt.Sprintf("%s: looking up %q: %v", addr, ref, err),
				Subject:  e.Range.Ptr(),
			})
			continue
		}
		ex.existing[addr] = attrs
		if target.Engine != "embedded" { // kumo writes us-east-1 in every ARN, whatever the region
			diags = append(diags, otherRegionUses(app, addr, ref, target.Region)...)
		}
	}
	return ex, diags
}

// otherRegionUses reports each trigger and route of app that would add
// something (a rule, subscription, mapping or policy statement) to block, a
// resource made elsewhere whose ARN, as written, names another region than
// the app's (a name is in the app's region; the region in an ARN an emulator
// reports is not trusted: kumo reports us-east-1 in every one): evdeploy adds
// them with the app region's clients, which cannot reach it (and, by name,
// could reach a namesake in the app's region instead). References and `uses`
// grants on it are fine: an ARN works from any region.
func otherRegionUses(app *spec.App, block spec.Addr, arn, appRegion string) hcl.Diagnostics {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 || parts[3] == "" || parts[3] == appRegion {
		return nil
	}
	var diags hcl.Diagnostics
	report := func(user spec.Addr, rng hcl.Range) {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Existing " + block.Kind + " in another region",
			Detail: fmt.Sprintf("%s uses %s (%s), which is in %s; this app deploys to %s. evdeploy adds rules, subscriptions, mappings and policy statements only to resources in the app's region: deploy this app to %s, or take the events through a %s of this region.",
				user, block, arn, parts[3], appRegion, parts[3], block.Kind),
			Subject: rng.Ptr(),
		})
	}
	for _, t := range app.Triggers {
		if t.SourceAddr() == block {
			report(t.Addr, t.DeclRange)
		}
	}
	for _, r := range app.Routes {
		// A queue or topic it delivers to gets a statement in its policy; a
		// bus or stream in another region is a valid target as it is.
		if r.SourceAddr() == block || r.To == block && (block.Kind == spec.KindQueue || block.Kind == spec.KindTopic) {
			report(r.Addr, r.DeclRange)
		}
	}
	return diags
}

// readAppOutputs reads the outputs recorded in the state of the app in dir,
// for stage, through that app's backend. It takes no lock: the other app may
// be applying, and its outputs are written once at the end of an apply.
func readAppOutputs(ctx context.Context, dir, stage string, cfg aws.Config) (map[string]state.Output, error) {
	other, _, diags := spec.Load(dir, spec.Options{Stage: stage})
	if diags.HasErrors() {
		for _, d := range diags {
			if d.Severity == hcl.DiagError {
				return nil, fmt.Errorf("its spec does not load: %s", d.Error())
			}
		}
	}
	backend, err := stateBackend(ctx, other, cfg)
	if err != nil {
		return nil, err
	}
	doc, err := backend.Read(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading its state from %s: %w", backend, err)
	}
	if doc == nil || len(doc.Resources) == 0 {
		return nil, fmt.Errorf("it has %w in %s: apply it first", errNoAppState, relState(dir, backend))
	}
	return doc.Outputs, nil
}

// errNoAppState is readAppOutputs' error for an app never applied (or
// destroyed) in the stage read.
var errNoAppState = errors.New("no state")

// upstreamNotApplied is a downstream app's plan within `plan --all` when an
// app it reads, also in the run, has not been applied: its outputs are not
// known until that app's apply, so this app is planned by `apply --all`
// after it. Like Terraform's "(known after apply)", but for a whole app:
// its existing blocks name resources that do not exist yet either.
type upstreamNotApplied struct {
	apps []string // app_outputs blocks, as "app_outputs.core (../core, stage dev)"
}

func (e *upstreamNotApplied) Error() string { return "not planned yet: " + e.reason() }

func (e *upstreamNotApplied) reason() string {
	return fmt.Sprintf("it reads %s, which has no state yet: apply --all applies that app first, then plans and applies this one", strings.Join(e.apps, " and "))
}

// waitsForUpstream is the upstreamNotApplied of a plan within `plan --all`
// whose every unapplied upstream is an app of the run, or nil.
func waitsForUpstream(ex *external, opts *engineOptions) error {
	if ex == nil || len(ex.unapplied) == 0 || opts == nil || opts.planAll == nil {
		return nil
	}
	w := &upstreamNotApplied{}
	for _, u := range ex.unapplied {
		if !opts.planAll[u.dir] {
			return nil // outside the monorepo: apply --all would not apply it
		}
		w.apps = append(w.apps, u.text)
	}
	return w
}

func relState(dir string, b fmt.Stringer) string {
	s := b.String()
	if rel, err := filepath.Rel(dir, s); err == nil && !filepath.IsAbs(rel) && len(rel) < len(s) {
		return filepath.Join(filepath.Base(dir), rel)
	}
	return s
}

// anyToCty converts a state value (JSON-shaped) into a cty value.
func anyToCty(v any) cty.Value {
	switch x := v.(type) {
	case nil:
		return cty.NullVal(cty.DynamicPseudoType)
	case string:
		return cty.StringVal(x)
	case bool:
		return cty.BoolVal(x)
	case int64:
		return cty.NumberIntVal(x)
	case int:
		return cty.NumberIntVal(int64(x))
	case float64:
		return cty.NumberVal(big.NewFloat(x))
	case []any:
		if len(x) == 0 {
			return cty.EmptyTupleVal
		}
		vals := make([]cty.Value, len(x))
		for i, e := range x {
			vals[i] = anyToCty(e)
		}
		return cty.TupleVal(vals)
	case map[string]any:
		if len(x) == 0 {
			return cty.EmptyObjectVal
		}
		vals := map[string]cty.Value{}
		for k, e := range x {
			vals[k] = anyToCty(e)
		}
		return cty.ObjectVal(vals)
	}
	return cty.StringVal(fmt.Sprint(v))
}

// inputs is the consumed upstream outputs in the form state records them.
func (e *external) inputs() map[string]string {
	if e == nil || len(e.consumed) == 0 {
		return nil
	}
	out := make(map[string]string, len(e.consumed))
	for k, v := range e.consumed {
		b, err := json.Marshal(v)
		if err != nil {
			b = []byte(fmt.Sprintf("%q", fmt.Sprint(v)))
		}
		out[k] = string(b)
	}
	return out
}

// upstreamChanges lists the other apps' outputs this app reads whose value
// differs from the one recorded at the last apply, for the plan
// (planner.Plan.Upstream): the text plan prints them, the JSON plan carries
// them as upstream_changes.
func (s *session) upstreamChanges() []*planner.UpstreamChange {
	if s.external == nil || s.doc == nil || len(s.doc.Inputs) == 0 {
		return nil
	}
	var out []*planner.UpstreamChange
	for k, now := range s.external.inputs() {
		was, ok := s.doc.Inputs[k]
		if !ok || was == now {
			continue
		}
		u := &planner.UpstreamChange{Name: k, Sensitive: s.external.sensitive[k]}
		if !u.Sensitive {
			u.Before, u.After = decodeInput(was), decodeInput(now)
		}
		out = append(out, u)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// decodeInput turns a recorded input (JSON text) back into a value.
func decodeInput(s string) any {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return s
	}
	return planner.Norm(v)
}

// printUpstreamChanges tells which upstream outputs changed since the last
// apply: the plan's changes that read them come from there.
func printUpstreamChanges(f *Factory, p *planner.Plan, opts *engineOptions) {
	if len(p.Upstream) == 0 || opts.JSON {
		return
	}
	fmt.Fprintln(f.IO.Out, "\nUpstream outputs changed since the last apply:")
	for _, u := range p.Upstream {
		if u.Sensitive {
			fmt.Fprintf(f.IO.Out, "  %s: (sensitive value changed)\n", u.Name)
			continue
		}
		fmt.Fprintf(f.IO.Out, "  %s: %s → %s\n", u.Name, inputText(u.Before), inputText(u.After))
	}
}

func inputText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// hashInput is what the plan read from outside the app, for the spec hash
// that binds a saved plan: an upstream output or an existing resource that
// changed since `plan -out` makes the plan stale.
func (e *external) hashInput() string {
	if e == nil {
		return ""
	}
	var lines []string
	for k, v := range e.inputs() {
		lines = append(lines, "input "+k+" "+v)
	}
	for addr, attrs := range e.existing {
		b, err := json.Marshal(attrs) // map keys sorted
		if err != nil {
			b = []byte(fmt.Sprint(attrs))
		}
		lines = append(lines, "existing "+addr.String()+" "+string(b))
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// sameInputs reports whether the recorded inputs equal these.
func sameInputs(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}
