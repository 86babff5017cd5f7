package spec

import (
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// Release strategies (issue 19): how a function's `live` alias moves to a
// newly published version.
const (
	ReleaseAllAtOnce = "all-at-once"
	ReleaseCanary    = "canary"
	ReleaseLinear    = "linear"
)

// Release limits.
const (
	DefaultKeepVersions = 3
	MinReleaseWait      = time.Second
	MaxReleaseWait      = time.Hour
	// LiveAlias is the alias every way into a released function goes through.
	LiveAlias = "live"
)

// Release is a function's `release` block: the function gets an alias
// `live`, each change publishes a version, and the alias moves to it by
// Strategy.
type Release struct {
	Strategy string        // ReleaseAllAtOnce, ReleaseCanary or ReleaseLinear
	Percent  int           // canary: the candidate's share for Wait; linear: added every Wait
	Wait     time.Duration // canary `wait`, linear `every`

	// Alarms are CloudWatch alarm names (strings in the spec) watched
	// during the shift; AlarmRefs are alarm blocks referenced as alarm.X.
	Alarms    []string
	AlarmRefs []Addr

	// MaxErrors is the highest error rate (0–1) of the candidate tolerated
	// during the shift; HasMaxErrors says whether it was set.
	MaxErrors    float64
	HasMaxErrors bool

	KeepVersions           int
	ProvisionedConcurrency int // 0: none

	Range hcl.Range
}

var releaseSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "alarms"},
		{Name: "max_errors"},
		{Name: "keep_versions"},
		{Name: "provisioned_concurrency"},
	},
	Blocks: []hcl.BlockHeaderSchema{{Type: "canary"}, {Type: "linear"}},
}

var canarySchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "percent", Required: true}, {Name: "wait", Required: true}},
}

var linearSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "percent", Required: true}, {Name: "every", Required: true}},
}

// release decodes a function's release block.
func (d *decoder) release(fn *Function, b *hcl.Block) {
	if fn.Release != nil {
		d.errorf(b.DefRange, "Duplicate release block", "%s already has a release block at %s; a function has one.", fn.Addr, fn.Release.Range)
		return
	}
	c := d.content(b.Body, releaseSchema)
	a := c.Attributes
	r := &Release{
		Strategy:     ReleaseAllAtOnce,
		KeepVersions: d.integer(a, "keep_versions", DefaultKeepVersions, 0, 100, ""),
		Range:        b.DefRange,
	}
	r.ProvisionedConcurrency = d.integer(a, "provisioned_concurrency", 0, 0, functionSettingsMaxInt, "")
	var strategy *hcl.Block
	for _, sb := range c.Blocks {
		if strategy != nil {
			d.errorf(sb.DefRange, "Conflicting release strategies", "%s already has a %s block at %s; a release has one strategy (canary or linear), or neither for all at once.", fn.Addr, strategy.Type, strategy.DefRange)
			continue
		}
		strategy = sb
		if sb.Type == "canary" {
			sc := d.content(sb.Body, canarySchema)
			r.Strategy = ReleaseCanary
			r.Percent = d.integer(sc.Attributes, "percent", 10, 1, 99, "percent")
			r.Wait = d.duration(sc.Attributes, "wait", 5*time.Minute, MinReleaseWait, MaxReleaseWait)
		} else {
			sc := d.content(sb.Body, linearSchema)
			r.Strategy = ReleaseLinear
			r.Percent = d.integer(sc.Attributes, "percent", 10, 1, 99, "percent")
			r.Wait = d.duration(sc.Attributes, "every", time.Minute, MinReleaseWait, MaxReleaseWait)
		}
	}
	if attr := a["max_errors"]; attr != nil {
		r.MaxErrors, r.HasMaxErrors = d.percentage(attr)
	}
	if attr := a["alarms"]; attr != nil {
		d.releaseAlarms(r, attr)
	}
	if r.ProvisionedConcurrency > 0 && fn.ReservedConcurrency != nil && r.ProvisionedConcurrency > *fn.ReservedConcurrency {
		d.errorf(a["provisioned_concurrency"].Expr.Range(), "Value out of range", "provisioned_concurrency (%d) cannot exceed the function's reserved_concurrency (%d).", r.ProvisionedConcurrency, *fn.ReservedConcurrency)
	}
	fn.Release = r
}

// percentage decodes "1%" or "0.5%" into a fraction in [0, 1].
func (d *decoder) percentage(attr *hcl.Attribute) (float64, bool) {
	v, ok := d.value(attr, false)
	if !ok {
		return 0, false
	}
	if v.Type() != cty.String || v.IsNull() {
		d.errorf(attr.Expr.Range(), "Invalid percentage", "%q must be a percentage string like \"1%%\" or \"0.5%%\".", attr.Name)
		return 0, false
	}
	s := strings.TrimSpace(v.AsString())
	num, found := strings.CutSuffix(s, "%")
	f, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
	if !found || err != nil {
		d.errorf(attr.Expr.Range(), "Invalid percentage", "%q must be a percentage string like \"1%%\" or \"0.5%%\"; got %q.", attr.Name, s)
		return 0, false
	}
	if f < 0 || f > 100 {
		d.errorf(attr.Expr.Range(), "Value out of range", "%q must be between 0%% and 100%%; got %s.", attr.Name, s)
		return 0, false
	}
	return f / 100, true
}

// releaseAlarms decodes `alarms = [...]`: names of existing CloudWatch
// alarms (strings), or alarm.X references to alarm blocks.
func (d *decoder) releaseAlarms(r *Release, attr *hcl.Attribute) {
	exprs, diags := hcl.ExprList(attr.Expr)
	if diags.HasErrors() {
		d.errorf(attr.Expr.Range(), "Invalid alarms", "\"alarms\" must be a list of alarm names or alarm references, like [alarm.api_errors] or [\"api-errors\"].")
		return
	}
	seen := map[string]bool{}
	for _, e := range exprs {
		if tr, diags := hcl.AbsTraversalForExpr(e); !diags.HasErrors() && len(tr) == 2 && tr.RootName() == "alarm" {
			name, rng, _ := step(tr, 1)
			addr := Addr{Kind: "alarm", Name: name}
			if _, ok := d.declared[addr]; !ok {
				d.errorf(hcl.RangeBetween(tr[0].SourceRange(), rng), "Reference to undeclared alarm", "There is no alarm named %q.%s", name, suggest(name, d.names("alarm")))
				continue
			}
			if !seen[addr.String()] {
				seen[addr.String()] = true
				r.AlarmRefs = append(r.AlarmRefs, addr)
			}
			continue
		}
		v, ok := d.value(&hcl.Attribute{Name: attr.Name, Expr: e, Range: e.Range(), NameRange: attr.NameRange}, false)
		if !ok {
			continue
		}
		if v.Type() != cty.String || v.IsNull() {
			d.errorf(e.Range(), "Invalid alarm", "An alarm is the name of a CloudWatch alarm (a string) or a reference like alarm.api_errors.")
			continue
		}
		name := v.AsString()
		if name == "" || len(name) > 255 {
			d.errorf(e.Range(), "Invalid alarm", "An alarm name is 1 to 255 characters; got %q.", name)
			continue
		}
		if !seen[name] {
			seen[name] = true
			r.Alarms = append(r.Alarms, name)
		}
	}
}
