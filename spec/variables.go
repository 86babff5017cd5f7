package spec

import (
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// EnvVarPrefix is the prefix of environment variables that set spec
// variables: EVDEPLOY_VAR_stage=prod sets var.stage.
const EnvVarPrefix = "EVDEPLOY_VAR_"

var variableSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "default"},
		{Name: "type"},
		{Name: "description"},
		{Name: "sensitive"},
	},
}

type variableDecl struct {
	name      string
	sensitive bool     // its value is marked Sensitive
	ty        cty.Type // cty.DynamicPseudoType when not declared
	def       cty.Value
	hasTy     bool
	rng       hcl.Range
}

// variables decodes variable blocks and settles each value. Precedence, lowest
// first: default, EVDEPLOY_VAR_<name>, --var-file (in order), --var. A
// declared variable "stage" that the user did not set takes the --stage value.
func (d *decoder) variables(blocks []*hcl.Block, parser *hclparse.Parser, stage string, opts Options, getenv func(string) string) map[string]cty.Value {
	decls := map[string]*variableDecl{}
	var order []string
	d.vars = map[string]bool{}
	for _, b := range blocks {
		name := b.Labels[0]
		if !hclsyntax.ValidIdentifier(name) {
			d.errorf(b.LabelRanges[0], "Invalid variable name", "%q is not a valid name: use letters, digits, underscores and hyphens, starting with a letter.", name)
			continue
		}
		if first := decls[name]; first != nil {
			d.errorf(b.LabelRanges[0], "Duplicate variable block", "A variable named %q was already declared at %s.", name, first.rng)
			continue
		}
		c := d.content(b.Body, variableSchema)
		v := &variableDecl{name: name, ty: cty.DynamicPseudoType, def: cty.NilVal, rng: b.DefRange}
		if attr := c.Attributes["type"]; attr != nil {
			ty, diags := typeexpr.TypeConstraint(attr.Expr)
			d.diags = append(d.diags, diags...)
			if !diags.HasErrors() {
				v.ty, v.hasTy = ty, true
			}
		}
		if attr := c.Attributes["default"]; attr != nil {
			val, diags := attr.Expr.Value(nil)
			d.diags = append(d.diags, diags...)
			if diags.HasErrors() {
				v.def = cty.DynamicVal
			} else {
				cv, err := convert.Convert(val, v.ty)
				if err != nil {
					d.errorf(attr.Expr.Range(), "Invalid default value", "The default of variable %q does not match its type: %v.", name, err)
					v.def = cty.DynamicVal // reported; not also "no value"
				} else {
					v.def = cv
				}
			}
		}
		if attr := c.Attributes["description"]; attr != nil {
			if val, diags := attr.Expr.Value(nil); diags.HasErrors() || val.Type() != cty.String {
				d.errorf(attr.Expr.Range(), "Incorrect attribute value type", "\"description\" must be a string.")
			}
		}
		if attr := c.Attributes["sensitive"]; attr != nil {
			if val, diags := attr.Expr.Value(nil); diags.HasErrors() || val.Type() != cty.Bool || val.IsNull() {
				d.errorf(attr.Expr.Range(), "Incorrect attribute value type", "\"sensitive\" must be true or false.")
			} else {
				v.sensitive = val.True()
			}
		}
		decls[name] = v
		d.vars[name] = true
		order = append(order, name)
	}

	set := map[string]cty.Value{}
	// EVDEPLOY_VAR_<name>: only declared names are looked up, so unrelated
	// environment never breaks a load.
	for _, name := range order {
		if s := getenv(EnvVarPrefix + name); s != "" {
			if v, err := parseVarString(decls[name], s); err != nil {
				d.diags = append(d.diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Invalid value for variable",
					Detail:   fmt.Sprintf("%s%s: %v.", EnvVarPrefix, name, err),
					Subject:  decls[name].rng.Ptr(),
				})
				d.badVars[name] = true
			} else {
				set[name] = v
			}
		}
	}
	for _, path := range opts.VarFiles {
		d.varFile(path, parser, decls, set)
	}
	cliNames := make([]string, 0, len(opts.Vars))
	for name := range opts.Vars {
		cliNames = append(cliNames, name)
	}
	sort.Strings(cliNames)
	for _, name := range cliNames {
		decl := decls[name]
		if decl == nil {
			d.diags = append(d.diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Value for undeclared variable",
				Detail:   fmt.Sprintf("--var %s=…: the project declares no variable %q.%s", name, name, suggest(name, order)),
			})
			continue
		}
		v, err := parseVarString(decl, opts.Vars[name])
		if err != nil {
			d.diags = append(d.diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid value for variable",
				Detail:   fmt.Sprintf("--var %s: %v.", name, err),
				Subject:  decl.rng.Ptr(),
			})
			d.badVars[name] = true
			continue
		}
		set[name] = v
	}

	vals := map[string]cty.Value{}
	for _, name := range order {
		decl := decls[name]
		switch v, ok := set[name]; {
		case ok:
			vals[name] = v
			if name == "stage" && v.Type() == cty.String && v.IsKnown() && !v.IsNull() && v.AsString() != stage {
				d.warnf(decl.rng, "Stage variable differs from the stage",
					"var.stage is %q but the stage being deployed is %q (--stage); state and physical names follow --stage. Leave var.stage unset to get the stage.", v.AsString(), stage)
			}
		case name == "stage":
			vals[name] = cty.StringVal(stage)
		case decl.def != cty.NilVal:
			vals[name] = decl.def
		default:
			d.errorf(decl.rng, "No value for required variable",
				"Variable %q has no default. Set it with --var %s=…, --var-file or %s%s.", name, name, EnvVarPrefix, name)
			vals[name] = cty.UnknownVal(decl.ty)
			d.badVars[name] = true
		}
		if decl.sensitive {
			vals[name] = vals[name].Mark(Sensitive)
		}
		if decl.def == cty.DynamicVal && !d.badVars[name] {
			if _, ok := set[name]; !ok && name != "stage" {
				d.badVars[name] = true // its default was wrong
			}
		}
	}
	return vals
}

// parseVarString reads a value given as text (--var, environment): as is for
// string and untyped variables, else as an HCL expression (a number, a list …).
func parseVarString(decl *variableDecl, s string) (cty.Value, error) {
	if !decl.hasTy || decl.ty == cty.String {
		return cty.StringVal(s), nil
	}
	expr, diags := hclsyntax.ParseExpression([]byte(s), "<value>", hcl.InitialPos)
	if diags.HasErrors() {
		return cty.NilVal, fmt.Errorf("%q is not a valid %s", s, typeexpr.TypeString(decl.ty))
	}
	v, diags := expr.Value(nil)
	if diags.HasErrors() {
		return cty.NilVal, fmt.Errorf("%q is not a valid %s", s, typeexpr.TypeString(decl.ty))
	}
	cv, err := convert.Convert(v, decl.ty)
	if err != nil {
		return cty.NilVal, fmt.Errorf("%q is not a valid %s", s, typeexpr.TypeString(decl.ty))
	}
	return cv, nil
}

// varFile reads `name = value` pairs from an HCL file.
func (d *decoder) varFile(path string, parser *hclparse.Parser, decls map[string]*variableDecl, set map[string]cty.Value) {
	src, err := os.ReadFile(path)
	if err != nil {
		d.diags = append(d.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Cannot read variables file",
			Detail:   fmt.Sprintf("--var-file %s: %v", path, unwrapPathErr(err)),
		})
		return
	}
	f, diags := parser.ParseHCL(src, path)
	d.diags = append(d.diags, diags...)
	if diags.HasErrors() {
		return
	}
	attrs, diags := f.Body.JustAttributes()
	d.diags = append(d.diags, diags...)
	for _, name := range keys(attrs) {
		attr := attrs[name]
		decl := decls[name]
		if decl == nil {
			d.errorf(attr.NameRange, "Value for undeclared variable",
				"The project declares no variable %q.%s", name, suggest(name, keys(decls)))
			continue
		}
		v, diags := attr.Expr.Value(nil)
		d.diags = append(d.diags, diags...)
		if diags.HasErrors() {
			continue
		}
		cv, err := convert.Convert(v, decl.ty)
		if err != nil {
			d.errorf(attr.Expr.Range(), "Invalid value for variable", "Variable %q: %v.", name, err)
			d.badVars[name] = true
			continue
		}
		set[name] = cv
	}
}

// localValues collects the locals of every locals block and orders them so
// each comes after the locals it reads; a cycle is an error that prints it.
func (d *decoder) localValues(blocks []*hcl.Block) []*local {
	for _, b := range blocks {
		attrs, diags := b.Body.JustAttributes()
		d.diags = append(d.diags, diags...)
		for _, name := range keys(attrs) {
			attr := attrs[name]
			if first := d.locals[name]; first != nil {
				d.errorf(attr.NameRange, "Duplicate local value", "A local value named %q was already defined at %s.", name, first.rng)
				continue
			}
			d.locals[name] = &local{name: name, expr: attr.Expr, rng: attr.NameRange}
		}
	}
	// References are checked once all names are known.
	bad := map[string]bool{}
	for _, name := range keys(d.locals) {
		l := d.locals[name]
		addrs, deps, ok := d.refs(l.expr)
		l.addrs, l.deps = addrs, deps
		if !ok {
			bad[name] = true
		}
	}
	var ordered []*local
	state := map[string]int{} // 0 new, 1 visiting, 2 done
	var stack []string
	var visit func(name string) bool
	visit = func(name string) bool {
		switch state[name] {
		case 1:
			i := indexOf(stack, name)
			cycle := append(append([]string{}, stack[i:]...), name)
			for j := range cycle {
				cycle[j] = "local." + cycle[j]
			}
			d.errorf(d.locals[name].rng, "Cycle in local values", "Local values refer to each other in a cycle: %s.", strings.Join(cycle, " → "))
			return false
		case 2:
			return true
		}
		state[name] = 1
		stack = append(stack, name)
		ok := true
		l := d.locals[name]
		for _, dep := range l.deps {
			if !visit(dep) {
				ok = false
				break
			}
		}
		stack = stack[:len(stack)-1]
		state[name] = 2
		if !ok {
			bad[name] = true
			return false
		}
		ordered = append(ordered, l)
		return true
	}
	for _, name := range keys(d.locals) {
		if state[name] == 0 {
			visit(name)
		}
	}
	for name := range bad {
		d.badLocals[name] = true
	}
	// A local with a wrong reference is still listed (as unknown) so that
	// expressions reading it do not report a second, misleading error.
	for _, name := range keys(bad) {
		if !containsLocal(ordered, name) {
			ordered = append(ordered, &local{name: name, expr: hcl.StaticExpr(cty.DynamicVal, d.locals[name].rng), rng: d.locals[name].rng})
		} else {
			for i, l := range ordered {
				if l.name == name {
					ordered[i] = &local{name: name, expr: hcl.StaticExpr(cty.DynamicVal, l.rng), rng: l.rng}
				}
			}
		}
	}
	return ordered
}

func containsLocal(ls []*local, name string) bool {
	for _, l := range ls {
		if l.name == name {
			return true
		}
	}
	return false
}

func indexOf(s []string, e string) int {
	for i, x := range s {
		if x == e {
			return i
		}
	}
	return -1
}

// transitiveAddrs returns the blocks an expression reads, directly or through
// locals.
func (d *decoder) transitiveAddrs(expr hcl.Expression) []Addr {
	addrs, locals, _ := d.refsQuiet(expr)
	seen := map[string]bool{}
	for len(locals) > 0 {
		name := locals[0]
		locals = locals[1:]
		if seen[name] || d.locals[name] == nil {
			continue
		}
		seen[name] = true
		addrs = append(addrs, d.locals[name].addrs...)
		locals = append(locals, d.locals[name].deps...)
	}
	return addrs
}

// refsQuiet is refs without reporting (the expression was checked already).
func (d *decoder) refsQuiet(expr hcl.Expression) ([]Addr, []string, bool) {
	saved := d.diags
	a, l, ok := d.refs(expr)
	d.diags = saved
	return a, l, ok
}

var appSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "region"}, {Name: "tags"}},
	Blocks:     []hcl.BlockHeaderSchema{{Type: "backend", LabelNames: []string{"type"}}, {Type: "alarms"}, {Type: "state_encryption"}},
}

var backendSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "bucket", Required: true}, {Name: "key", Required: true}, {Name: "region"}},
}

// app decodes the one app block.
func (d *decoder) app(blocks []*hcl.Block, app *App) {
	if len(blocks) == 0 {
		d.diags = append(d.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Missing app block",
			Detail:   "A project needs exactly one app block naming it, like app \"shop\" {}.",
			Subject:  d.start.Ptr(),
		})
		return
	}
	for _, b := range blocks[1:] {
		d.errorf(b.DefRange, "Duplicate app block", "The app is already declared at %s; a project has exactly one app block.", blocks[0].DefRange)
	}
	b := blocks[0]
	app.Name = b.Labels[0]
	if !appNameRE.MatchString(app.Name) {
		d.errorf(b.LabelRanges[0], "Invalid app name",
			"The app name %q must be 1 to 32 lowercase letters, digits and hyphens, starting with a letter: it prefixes every physical name.", app.Name)
	}
	c := d.content(b.Body, appSchema)
	app.Region = d.str(c.Attributes, "region", "")
	if attr := c.Attributes["region"]; attr != nil && app.Region != "" && !regionRE.MatchString(app.Region) {
		d.errorf(attr.Expr.Range(), "Invalid region", "%q is not an AWS region name, like \"us-east-1\".", app.Region)
	}
	app.Tags = d.tags(c.Attributes)
	var backends []*hcl.Block
	for _, bb := range c.Blocks {
		if bb.Type == "state_encryption" {
			if app.StateEncryption != nil {
				d.errorf(bb.DefRange, "Duplicate state_encryption block", "State encryption is already declared at %s.", app.StateEncryption.Range)
				continue
			}
			app.StateEncryption = d.stateEncryption(bb)
			continue
		}
		if bb.Type == "alarms" {
			if app.AlarmDefaults != nil {
				d.errorf(bb.DefRange, "Duplicate alarms block", "The app's alarms are already declared at %s.", app.AlarmDefaults.Range)
				continue
			}
			app.AlarmDefaults = d.alarmDefaults(bb)
			continue
		}
		backends = append(backends, bb)
	}
	for i, bb := range backends {
		if i > 0 {
			d.errorf(bb.DefRange, "Duplicate backend block", "The backend is already declared at %s.", backends[0].DefRange)
			continue
		}
		if bb.Labels[0] != "s3" {
			d.errorf(bb.LabelRanges[0], "Unsupported backend", "Backend %q is not supported; the only backend is \"s3\" (the default is a local file).", bb.Labels[0])
			continue
		}
		bc := d.content(bb.Body, backendSchema)
		be := &Backend{
			Type:   "s3",
			Bucket: d.str(bc.Attributes, "bucket", ""),
			Key:    d.str(bc.Attributes, "key", ""),
			Region: d.str(bc.Attributes, "region", ""),
			Range:  bb.DefRange,
		}
		if attr := bc.Attributes["bucket"]; attr != nil && be.Bucket != "" {
			if msg := bucketNameProblem(be.Bucket); msg != "" {
				d.errorf(attr.Expr.Range(), "Invalid bucket name", "%s", msg)
			}
		}
		if attr := bc.Attributes["key"]; attr != nil && (be.Key == "" || len(be.Key) > 1024) {
			d.errorf(attr.Expr.Range(), "Invalid value", "\"key\" must be an S3 object key of 1 to 1024 characters.")
		}
		if attr := bc.Attributes["region"]; attr != nil && be.Region != "" && !regionRE.MatchString(be.Region) {
			d.errorf(attr.Expr.Range(), "Invalid region", "%q is not an AWS region name, like \"us-east-1\".", be.Region)
		}
		app.Backend = be
	}
}
