package spec

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// evaluator is filled in by Load: variables, locals and the function table.
// It is everything Eval needs to rebuild the evaluation context with values the
// planner knows.
type evaluator struct {
	vars   map[string]cty.Value
	locals []*local // in dependency order (a local after the locals it reads)
	funcs  map[string]function.Function
	blocks []Addr // every referenceable block, so missing values become unknown
	// declared is blocks as a set, so a scoped context is built from the
	// expression's few blocks without a walk over all of them.
	declared map[Addr]bool
}

// local is one `locals` entry.
type local struct {
	name  string
	expr  hcl.Expression
	rng   hcl.Range
	deps  []string // other locals it reads
	addrs []Addr   // blocks it reads directly
}

// RefAttrs lists, per block kind, the attributes a reference may read
// (queue.orders.url). Every other attribute name is a validation error. The
// planner supplies their values to Eval: known ones as known values, the rest
// as cty.UnknownVal(cty.String).
var RefAttrs = map[string][]string{
	KindFunction: {"arn", "name", "role_arn", "url", "live_arn"},
	KindQueue:    {"arn", "url", "name", "dlq_arn", "dlq_url"},
	KindTopic:    {"arn", "name"},
	KindBus:      {"arn", "name"},
	KindBucket:   {"arn", "name"},
	KindTable:    {"arn", "name", "stream_arn"},
	KindStream:   {"arn", "name"},
	KindAPI:      {"id", "url", "arn", "domain_target"},
	KindLayer:    {"arn"},
	KindSecret:   {"arn", "name"},
	KindAlarm:    {"arn", "name"},
	// Any output of the other app: its names are known only at plan time.
	KindAppOutputs: {},
}

// Capabilities lists, per block kind, the capability names `uses` may grant
// (queue.orders.send). The planner maps each to an IAM action set.
var Capabilities = map[string][]string{
	KindQueue:    {"send", "consume"},
	KindTopic:    {"publish"},
	KindBus:      {"put"},
	KindBucket:   {"read", "write"},
	KindTable:    {"read", "write"},
	KindStream:   {"put", "read"},
	KindFunction: {"invoke"},
	KindSecret:   {"read"},
}

// Eval evaluates an expression taken from the App (a function's Environment, an
// output's Value) with the App's variables, locals and functions, and with each
// block reference resolved from blocks: blocks[queue.orders]["url"]. A missing
// block or attribute evaluates as unknown, so the result may be partly unknown
// (the planner renders that as "(known after apply)").
func (a *App) Eval(expr hcl.Expression, blocks map[Addr]map[string]cty.Value) (cty.Value, hcl.Diagnostics) {
	if expr == nil {
		return cty.NullVal(cty.DynamicPseudoType), nil
	}
	if a == nil || a.eval == nil {
		return cty.DynamicVal, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "App not loaded",
			Detail:   "Eval needs an App returned by spec.Load.",
			Subject:  expr.Range().Ptr(),
		}}
	}
	ctx, diags, _ := a.eval.context(blocks, a.eval.scope(expr))
	v, d := expr.Value(ctx)
	return v, append(diags, d...)
}

// evalScope is what one expression can read: the blocks it names, the kinds
// it reads as a whole (for q in queue), and the locals it reads, directly or
// through other locals. Eval builds only that much of the context, so the
// cost of an expression does not grow with the size of the app.
type evalScope struct {
	blocks map[Addr]bool
	kinds  map[string]bool
	locals map[string]bool
}

func (e *evaluator) scope(expr hcl.Expression) *evalScope {
	sc := &evalScope{blocks: map[Addr]bool{}, kinds: map[string]bool{}, locals: map[string]bool{}}
	byName := make(map[string]*local, len(e.locals))
	for _, l := range e.locals {
		byName[l.name] = l
	}
	var walk func(hcl.Expression)
	walk = func(x hcl.Expression) {
		for _, tr := range x.Variables() {
			root := tr.RootName()
			if root == "local" {
				if len(tr) < 2 {
					for name, l := range byName { // local as a whole
						if !sc.locals[name] {
							sc.locals[name] = true
							walk(l.expr)
						}
					}
					continue
				}
				if step, ok := tr[1].(hcl.TraverseAttr); ok {
					if l := byName[step.Name]; l != nil && !sc.locals[step.Name] {
						sc.locals[step.Name] = true
						walk(l.expr)
					}
				}
				continue
			}
			if _, ok := RefAttrs[root]; !ok {
				continue
			}
			if len(tr) >= 2 {
				if step, ok := tr[1].(hcl.TraverseAttr); ok {
					sc.blocks[Addr{Kind: root, Name: step.Name}] = true
					continue
				}
			}
			sc.kinds[root] = true
		}
	}
	walk(expr)
	return sc
}

func (sc *evalScope) hasBlock(a Addr) bool {
	return sc == nil || sc.blocks[a] || sc.kinds[a.Kind]
}

func (sc *evalScope) hasLocal(name string) bool { return sc == nil || sc.locals[name] }

// context builds the evaluation context: var, local, one object per block kind
// and the function table. Locals are evaluated in dependency order against the
// same block values, so a local that reads queue.orders.url is known once the
// planner knows the URL.
//
// failed names the locals whose evaluation reported errors.
//
// A nil scope builds all of it (Load checks every local); otherwise blocks
// and locals outside the scope are left out.
func (e *evaluator) context(blocks map[Addr]map[string]cty.Value, sc *evalScope) (ctx *hcl.EvalContext, diags hcl.Diagnostics, failed map[string]bool) {
	ctx = &hcl.EvalContext{
		Variables: map[string]cty.Value{},
		Functions: e.funcs,
	}
	if len(e.vars) > 0 {
		ctx.Variables["var"] = cty.ObjectVal(e.vars)
	} else {
		ctx.Variables["var"] = cty.EmptyObjectVal
	}
	byKind := map[string]map[string]cty.Value{}
	addrs := e.blocks
	if sc != nil && len(sc.kinds) == 0 {
		addrs = make([]Addr, 0, len(sc.blocks))
		for a := range sc.blocks {
			if e.declared[a] {
				addrs = append(addrs, a)
			}
		}
	}
	for _, addr := range addrs {
		if !sc.hasBlock(addr) {
			continue
		}
		if addr.Kind == KindAppOutputs {
			// The other app's outputs are read at plan time; before that
			// every attribute is unknown.
			v := cty.DynamicVal
			if len(blocks[addr]) > 0 {
				v = cty.ObjectVal(blocks[addr])
			}
			if byKind[addr.Kind] == nil {
				byKind[addr.Kind] = map[string]cty.Value{}
			}
			byKind[addr.Kind][addr.Name] = v
			continue
		}
		attrs := map[string]cty.Value{}
		for _, name := range RefAttrs[addr.Kind] {
			v, ok := blocks[addr][name]
			if !ok || v == cty.NilVal {
				v = cty.UnknownVal(cty.String)
			}
			attrs[name] = v
		}
		if byKind[addr.Kind] == nil {
			byKind[addr.Kind] = map[string]cty.Value{}
		}
		byKind[addr.Kind][addr.Name] = cty.ObjectVal(attrs)
	}
	for kind := range RefAttrs {
		if m := byKind[kind]; len(m) > 0 {
			ctx.Variables[kind] = cty.ObjectVal(m)
		} else {
			ctx.Variables[kind] = cty.EmptyObjectVal
		}
	}
	failed = map[string]bool{}
	locals := map[string]cty.Value{}
	for _, l := range e.locals {
		if !sc.hasLocal(l.name) {
			continue
		}
		ctx.Variables["local"] = cty.ObjectVal(locals)
		v, d := l.expr.Value(ctx)
		diags = append(diags, d...)
		if d.HasErrors() {
			v = cty.DynamicVal
			failed[l.name] = true
		}
		locals[l.name] = v
	}
	ctx.Variables["local"] = cty.ObjectVal(locals)
	return ctx, diags, failed
}

// stdFunctions is the function table for expressions: cty's standard library
// under HCL's customary names, plus env() and file().
func stdFunctions(dir string, getenv func(string) string) map[string]function.Function {
	return map[string]function.Function{
		"abs":             stdlib.AbsoluteFunc,
		"sensitive":       sensitiveFunc,
		"ceil":            stdlib.CeilFunc,
		"chomp":           stdlib.ChompFunc,
		"chunklist":       stdlib.ChunklistFunc,
		"coalesce":        stdlib.CoalesceFunc,
		"coalescelist":    stdlib.CoalesceListFunc,
		"compact":         stdlib.CompactFunc,
		"concat":          stdlib.ConcatFunc,
		"contains":        stdlib.ContainsFunc,
		"csvdecode":       stdlib.CSVDecodeFunc,
		"distinct":        stdlib.DistinctFunc,
		"element":         stdlib.ElementFunc,
		"flatten":         stdlib.FlattenFunc,
		"floor":           stdlib.FloorFunc,
		"format":          stdlib.FormatFunc,
		"formatdate":      stdlib.FormatDateFunc,
		"formatlist":      stdlib.FormatListFunc,
		"indent":          stdlib.IndentFunc,
		"index":           stdlib.IndexFunc,
		"join":            stdlib.JoinFunc,
		"jsondecode":      stdlib.JSONDecodeFunc,
		"jsonencode":      stdlib.JSONEncodeFunc,
		"keys":            stdlib.KeysFunc,
		"length":          stdlib.LengthFunc,
		"log":             stdlib.LogFunc,
		"lookup":          stdlib.LookupFunc,
		"lower":           stdlib.LowerFunc,
		"max":             stdlib.MaxFunc,
		"merge":           stdlib.MergeFunc,
		"min":             stdlib.MinFunc,
		"parseint":        stdlib.ParseIntFunc,
		"pow":             stdlib.PowFunc,
		"range":           stdlib.RangeFunc,
		"regex":           stdlib.RegexFunc,
		"regexall":        stdlib.RegexAllFunc,
		"regex_replace":   stdlib.RegexReplaceFunc,
		"replace":         stdlib.ReplaceFunc,
		"reverse":         stdlib.ReverseListFunc,
		"setintersection": stdlib.SetIntersectionFunc,
		"setproduct":      stdlib.SetProductFunc,
		"setsubtract":     stdlib.SetSubtractFunc,
		"setunion":        stdlib.SetUnionFunc,
		"signum":          stdlib.SignumFunc,
		"slice":           stdlib.SliceFunc,
		"sort":            stdlib.SortFunc,
		"split":           stdlib.SplitFunc,
		"strlen":          stdlib.StrlenFunc,
		"strrev":          stdlib.ReverseFunc,
		"substr":          stdlib.SubstrFunc,
		"timeadd":         stdlib.TimeAddFunc,
		"title":           stdlib.TitleFunc,
		"tobool":          stdlib.MakeToFunc(cty.Bool),
		"tolist":          stdlib.MakeToFunc(cty.List(cty.DynamicPseudoType)),
		"tomap":           stdlib.MakeToFunc(cty.Map(cty.DynamicPseudoType)),
		"tonumber":        stdlib.MakeToFunc(cty.Number),
		"toset":           stdlib.MakeToFunc(cty.Set(cty.DynamicPseudoType)),
		"tostring":        stdlib.MakeToFunc(cty.String),
		"trim":            stdlib.TrimFunc,
		"trimprefix":      stdlib.TrimPrefixFunc,
		"trimspace":       stdlib.TrimSpaceFunc,
		"trimsuffix":      stdlib.TrimSuffixFunc,
		"upper":           stdlib.UpperFunc,
		"values":          stdlib.ValuesFunc,
		"zipmap":          stdlib.ZipmapFunc,
		"env":             envFunc(getenv),
		"file":            fileFunc(dir),
	}
}

// functionNames lists the function table's names, sorted (docs, suggestions).
func functionNames() []string {
	var names []string
	for n := range stdFunctions("", nil) {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// envFunc is env(name[, default]): the process environment variable, or the
// default (else "") when it is unset or empty.
func envFunc(getenv func(string) string) function.Function {
	return function.New(&function.Spec{
		Description: "Returns an environment variable of the evdeploy process.",
		Params:      []function.Parameter{{Name: "name", Type: cty.String}},
		VarParam:    &function.Parameter{Name: "default", Type: cty.String},
		Type:        function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			if len(args) > 2 {
				return cty.UnknownVal(cty.String), fmt.Errorf("env takes a name and at most one default")
			}
			v := ""
			if getenv != nil {
				v = getenv(args[0].AsString())
			}
			if v == "" && len(args) == 2 {
				v = args[1].AsString()
			}
			return cty.StringVal(v), nil
		},
	})
}

// fileFunc is file(path): a UTF-8 text file's contents, the path relative to
// the project folder.
func fileFunc(dir string) function.Function {
	return function.New(&function.Spec{
		Description: "Reads a UTF-8 text file, relative to the project folder.",
		Params:      []function.Parameter{{Name: "path", Type: cty.String}},
		Type:        function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			p := args[0].AsString()
			if !filepath.IsAbs(p) {
				p = filepath.Join(dir, p)
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return cty.UnknownVal(cty.String), fmt.Errorf("cannot read %s: %v", args[0].AsString(), unwrapPathErr(err))
			}
			if !utf8.Valid(b) {
				return cty.UnknownVal(cty.String), fmt.Errorf("%s is not UTF-8 text", args[0].AsString())
			}
			return cty.StringVal(string(b)), nil
		},
	})
}

func unwrapPathErr(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

// Traversals lists what expr reads, looking through locals: a reference to
// local.x is replaced by what x's expression reads, transitively, so the
// planner sees every block attribute (queue.orders.url) an expression depends
// on even when it is reached through a local.
func (a *App) Traversals(expr hcl.Expression) []hcl.Traversal {
	byName := map[string]*local{}
	if a.eval != nil {
		for _, l := range a.eval.locals {
			byName[l.name] = l
		}
	}
	var out []hcl.Traversal
	seen := map[string]bool{}
	var walk func(e hcl.Expression)
	walk = func(e hcl.Expression) {
		for _, tr := range e.Variables() {
			if tr.RootName() == "local" && len(tr) > 1 {
				if step, ok := tr[1].(hcl.TraverseAttr); ok {
					if l := byName[step.Name]; l != nil && !seen[step.Name] {
						seen[step.Name] = true
						walk(l.expr)
					}
					continue
				}
			}
			out = append(out, tr)
		}
	}
	walk(expr)
	return out
}
