package spec

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// Runtimes are the function runtimes evdeploy accepts: Lambda's supported
// runtimes, plus "go", which evdeploy builds into a bootstrap binary for
// provided.al2023.
var Runtimes = []string{
	"go",
	"provided.al2023", "provided.al2",
	"python3.9", "python3.10", "python3.11", "python3.12", "python3.13",
	"nodejs18.x", "nodejs20.x", "nodejs22.x",
	"java11", "java17", "java21",
	"dotnet8",
	"ruby3.2", "ruby3.3",
}

// LogRetentionDays are the retention periods CloudWatch Logs accepts.
var LogRetentionDays = []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

// Function defaults and limits (Lambda's).
const (
	DefaultMemory       = 128
	DefaultTimeout      = 3 * time.Second
	DefaultArchitecture = "arm64"
	DefaultLogRetention = 14
	MinMemory           = 128
	MaxMemory           = 10240
	MaxTimeout          = 15 * time.Minute
)

// reservedEnv are environment variable names Lambda sets itself and refuses in
// a function's configuration.
var reservedEnv = []string{
	"_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EXECUTION_ENV",
	"AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
	"AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
	"AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
	"AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR",
}

var (
	envKeyRE    = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9_]*$`)
	handlerRE   = regexp.MustCompile(`^[^\s]{1,128}$`)
	dotHandler  = regexp.MustCompile(`^[A-Za-z0-9_./-]+\.[A-Za-z0-9_$]+$`)
	iamActionRE = regexp.MustCompile(`^(\*|[a-zA-Z0-9-]+:[A-Za-z0-9*]+)$`)
	// managedPolicyRE is an IAM managed policy ARN: AWS's own (account "aws")
	// or a customer's (a 12-digit account), in any partition.
	managedPolicyRE = regexp.MustCompile(`^arn:aws(-[a-z]+)*:iam::(aws|[0-9]{12}):policy/([\w+=,.@-]+/)*[\w+=,.@-]{1,128}$`)
)

var functionSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "name"},
		{Name: "runtime", Required: true},
		{Name: "source", Required: true},
		{Name: "handler"},
		{Name: "memory"},
		{Name: "timeout"},
		{Name: "architecture"},
		{Name: "log_retention"},
		{Name: "environment"},
		{Name: "uses"},
		{Name: "tags"},
		{Name: "layers"},
		{Name: "reserved_concurrency"},
		{Name: "tracing"},
		{Name: "ephemeral_storage"},
		{Name: "bundle"},
		{Name: "managed_policies"},
	},
	Blocks: []hcl.BlockHeaderSchema{{Type: "policy"}, {Type: "async"}, {Type: "bundle"}, {Type: "vpc"}, {Type: "url"}, {Type: "release"}},
}

var policySchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "effect"},
		{Name: "actions", Required: true},
		{Name: "resources", Required: true},
	},
}

// dep is one edge of the creation-order graph: from a block to another it
// needs before it can be created (a function's environment reads a URL).
type dep struct {
	to  Addr
	rng hcl.Range
}

func (d *decoder) function(addr Addr, b *hcl.Block) (*Function, []dep) {
	c := d.content(b.Body, functionSchema)
	a := c.Attributes
	fn := &Function{
		Addr:         addr,
		DeclRange:    b.DefRange,
		Memory:       d.integer(a, "memory", DefaultMemory, MinMemory, MaxMemory, "MB"),
		Timeout:      d.duration(a, "timeout", DefaultTimeout, time.Second, MaxTimeout),
		Architecture: d.enum(a, "architecture", DefaultArchitecture, []string{"arm64", "x86_64"}),
		LogRetention: DefaultLogRetention,
		Tags:         d.tags(a),
	}
	d.physicalName(a, KindFunction, false, &fn.PhysicalName)
	fn.Runtime = d.enumSummary(a, "runtime", "", Runtimes, "Unsupported runtime")
	if attr := a["log_retention"]; attr != nil {
		days := d.integer(a, "log_retention", DefaultLogRetention, 1, 3653, "days")
		if !containsInt(LogRetentionDays, days) {
			d.errorf(attr.Expr.Range(), "Invalid value", "CloudWatch Logs accepts these retention periods (days): %s; got %d.", intList(LogRetentionDays), days)
		} else {
			fn.LogRetention = days
		}
	}
	if attr := a["source"]; attr != nil {
		if src := d.str(a, "source", ""); src != "" {
			path := src
			if !filepath.IsAbs(path) {
				path = filepath.Join(d.dir, path)
			}
			fn.Source = filepath.Clean(path)
			st, err := os.Stat(path)
			switch {
			case err != nil:
				shown := path
				if !filepath.IsAbs(src) {
					shown = filepath.Join(d.relDir, src)
				}
				d.errorf(attr.Expr.Range(), "Source folder not found", "The source folder %q does not exist (looked for %s).", src, shown)
			case !st.IsDir():
				d.errorf(attr.Expr.Range(), "Source is not a folder", "%q is a file; \"source\" names the folder that holds the function's code.", src)
			}
		} else if !d.diags.HasErrors() {
			d.errorf(attr.Expr.Range(), "Invalid value", "\"source\" must name the function's code folder, like \"./functions/%s\".", addr.Name)
		}
	}
	fn.Handler = d.str(a, "handler", "")
	// go and provided.* run a bootstrap executable: no handler needed. A
	// custom runtime may still read one (_HANDLER), so provided.* keeps it;
	// for go evdeploy builds the bootstrap itself and nothing reads it.
	bootstrap := fn.Runtime == "go" || strings.HasPrefix(fn.Runtime, "provided")
	switch attr := a["handler"]; {
	case fn.Runtime == "":
	case attr == nil && !bootstrap:
		d.errorf(b.DefRange, "Missing handler", "Runtime %s needs a handler, like handler = %q.", fn.Runtime, exampleHandler(fn.Runtime))
	case attr == nil && fn.Runtime != "go":
		// Lambda wants a handler for every .zip function; custom runtimes
		// conventionally name the executable.
		fn.Handler = "bootstrap"
	case attr != nil && fn.Runtime == "go":
		d.warnf(attr.Expr.Range(), "Handler is ignored", "Runtime go runs the bootstrap executable evdeploy builds; the handler is not used.")
		fn.Handler = ""
	case attr != nil && !handlerRE.MatchString(fn.Handler):
		d.errorf(attr.Expr.Range(), "Invalid handler", "A handler is 1 to 128 characters without spaces; got %q.", fn.Handler)
	case attr != nil && needsDotHandler(fn.Runtime) && !dotHandler.MatchString(fn.Handler):
		d.errorf(attr.Expr.Range(), "Invalid handler", "A %s handler is file.function, like %q; got %q.", fn.Runtime, exampleHandler(fn.Runtime), fn.Handler)
	}

	var bundles []*hcl.Block
	for _, blk := range c.Blocks {
		if blk.Type == "bundle" {
			bundles = append(bundles, blk)
		}
	}
	fn.Bundle = d.bundle(fn, a["bundle"], bundles)
	if attr := a["source"]; attr != nil && fn.Source != "" {
		d.codeCheck(fn, attr, a["handler"])
	}

	var deps []dep
	if attr := a["environment"]; attr != nil {
		fn.Environment = attr.Expr
		d.environment(attr)
		for _, to := range d.transitiveAddrs(attr.Expr) {
			deps = append(deps, dep{to: to, rng: attr.Expr.Range()})
		}
	}
	if attr := a["uses"]; attr != nil {
		fn.Uses = d.uses(attr)
	}
	fn.ManagedPolicies = d.managedPolicies(a)
	d.functionSettings(fn, a)
	for _, pb := range c.Blocks {
		switch {
		case d.functionBlock(fn, pb):
		case pb.Type == "release":
			d.release(fn, pb)
		case pb.Type == "policy":
			fn.Policies = append(fn.Policies, d.policy(pb))
		case pb.Type == "bundle": // decoded above
		case fn.Async != nil:
			d.errorf(pb.DefRange, "Duplicate async block", "%s already has an async block at %s; a function has one.", addr, fn.Async.Range)
		default:
			fn.Async = d.async(pb)
		}
	}
	return fn, deps
}

// managedPolicies decodes `managed_policies`: IAM managed policy ARNs to
// attach to the function's role, each once. evdeploy owns the role, so any
// other attached policy is removed.
func (d *decoder) managedPolicies(a hcl.Attributes) []string {
	list := d.strList(a, "managed_policies")
	attr := a["managed_policies"]
	seen := map[string]bool{}
	var out []string
	for _, arn := range list {
		switch {
		case !managedPolicyRE.MatchString(arn):
			d.errorf(attr.Expr.Range(), "Invalid managed policy", "%q is not an IAM managed policy ARN, like \"arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole\" or \"arn:aws:iam::123456789012:policy/my-policy\".", arn)
		case seen[arn]:
			d.errorf(attr.Expr.Range(), "Duplicate managed policy", "%q is listed twice in managed_policies.", arn)
		default:
			seen[arn] = true
			out = append(out, arn)
		}
	}
	return out
}

func needsDotHandler(runtime string) bool {
	return strings.HasPrefix(runtime, "python") || strings.HasPrefix(runtime, "nodejs") || strings.HasPrefix(runtime, "ruby")
}

func exampleHandler(runtime string) string {
	switch {
	case strings.HasPrefix(runtime, "python"):
		return "main.handler"
	case strings.HasPrefix(runtime, "nodejs"):
		return "index.handler"
	case strings.HasPrefix(runtime, "ruby"):
		return "function.handler"
	case strings.HasPrefix(runtime, "java"):
		return "example.Handler::handleRequest"
	case strings.HasPrefix(runtime, "dotnet"):
		return "Assembly::Namespace.Function::Handler"
	}
	return "main"
}

// environment checks a function's environment map: keys Lambda accepts, values
// that are strings (possibly known only after deploy), 4 KB at most.
func (d *decoder) environment(attr *hcl.Attribute) {
	v, ok := d.secretValue(attr)
	if !ok {
		return
	}
	ty := v.Type()
	if v.IsNull() || !(ty.IsObjectType() || ty.IsMapType()) {
		d.errorf(attr.Expr.Range(), "Incorrect attribute value type", "\"environment\" must be a map, like { ORDERS_QUEUE = queue.orders.url }.")
		return
	}
	if !v.IsKnown() {
		return
	}
	size := 0
	m := v.AsValueMap()
	for _, k := range keys(m) {
		e := m[k]
		size += len(k)
		at := keyRange(attr.Expr, k)
		switch {
		case !envKeyRE.MatchString(k):
			d.errorf(at, "Invalid environment variable name", "%q: names start with a letter and contain only letters, digits and underscores.", k)
			continue
		case contains(reservedEnv, k):
			d.errorf(at, "Reserved environment variable", "Lambda sets %s itself; choose another name.", k)
			continue
		}
		if e.IsNull() {
			d.errorf(at, "Invalid environment value", "%s is null; environment values are strings.", k)
			continue
		}
		if !e.Type().IsPrimitiveType() && e.Type() != cty.DynamicPseudoType {
			d.errorf(at, "Invalid environment value", "%s must be a string, not %s. Use jsonencode() for structured values.", k, e.Type().FriendlyName())
			continue
		}
		if e.IsKnown() {
			if s, err := convert.Convert(e, cty.String); err == nil {
				size += len(s.AsString())
			}
		}
	}
	if size > 4096 {
		d.errorf(attr.Expr.Range(), "Environment too large", "Lambda allows 4 KB of environment variables; these take %d bytes.", size)
	}
}

// uses decodes `uses = [queue.orders.send, …]`.
func (d *decoder) uses(attr *hcl.Attribute) []Capability {
	exprs, diags := hcl.ExprList(attr.Expr)
	if diags.HasErrors() {
		d.errorf(attr.Expr.Range(), "Invalid uses", "\"uses\" must be a list of capabilities, like [queue.orders.send, table.orders.read].")
		return nil
	}
	var out []Capability
	seen := map[string]hcl.Range{}
	for _, e := range exprs {
		tr, diags := hcl.AbsTraversalForExpr(e)
		if diags.HasErrors() || len(tr) != 3 {
			d.errorf(e.Range(), "Invalid capability", "A capability is <kind>.<name>.<capability>, like queue.orders.send.")
			continue
		}
		kind := tr.RootName()
		name, nameRng, ok1 := step(tr, 1)
		capName, capRng, ok2 := step(tr, 2)
		if !ok1 || !ok2 {
			d.errorf(e.Range(), "Invalid capability", "A capability is <kind>.<name>.<capability>, like queue.orders.send.")
			continue
		}
		caps, known := Capabilities[kind]
		if !known {
			d.errorf(tr[0].SourceRange(), "Invalid capability", "%q is not a kind that grants capabilities; those are %s.%s", kind, quoteList(keys(Capabilities)), suggest(kind, keys(Capabilities)))
			continue
		}
		addr := Addr{Kind: kind, Name: name}
		if _, ok := d.declared[addr]; !ok {
			d.errorf(hcl.RangeBetween(tr[0].SourceRange(), nameRng), fmt.Sprintf("Reference to undeclared %s", kind),
				"There is no %s named %q.%s", kind, name, suggest(name, d.names(kind)))
			continue
		}
		if !contains(caps, capName) {
			d.errorf(capRng, "Unknown capability", "A %s grants %s; not %q.%s", kind, quoteList(caps), capName, suggest(capName, caps))
			continue
		}
		key := addr.String() + "." + capName
		if first, dup := seen[key]; dup {
			d.warnf(e.Range(), "Duplicate capability", "%s is already granted at %s.", key, first)
			continue
		}
		seen[key] = e.Range()
		out = append(out, Capability{Target: addr, Name: capName, Range: e.Range()})
	}
	return out
}

func (d *decoder) policy(b *hcl.Block) PolicyStatement {
	c := d.content(b.Body, policySchema)
	ps := PolicyStatement{
		Effect:  d.enum(c.Attributes, "effect", "Allow", []string{"Allow", "Deny"}),
		Actions: d.strList(c.Attributes, "actions"),
		Range:   b.DefRange,
	}
	if attr := c.Attributes["actions"]; attr != nil && ps.Actions != nil {
		if len(ps.Actions) == 0 {
			d.errorf(attr.Expr.Range(), "Invalid policy", "\"actions\" must list at least one IAM action, like \"s3:GetObject\".")
		}
		for _, act := range ps.Actions {
			if !iamActionRE.MatchString(act) {
				d.errorf(attr.Expr.Range(), "Invalid IAM action", "%q is not an IAM action; write service:Action, like \"s3:GetObject\" (wildcards allowed).", act)
			}
		}
	}
	if attr := c.Attributes["resources"]; attr != nil {
		ps.ResourcesExpr = attr.Expr
		v, ok := d.value(attr, true)
		if ok {
			cv, err := convert.Convert(v, cty.List(cty.String))
			switch {
			case err != nil || cv.IsNull():
				d.errorf(attr.Expr.Range(), "Incorrect attribute value type", "\"resources\" must be a list of ARNs, like [bucket.uploads.arn] or [\"*\"].")
			case cv.IsKnown() && cv.LengthInt() == 0:
				d.errorf(attr.Expr.Range(), "Invalid policy", "\"resources\" must list at least one ARN (or \"*\").")
			case cv.IsWhollyKnown():
				ps.Resources = []string{}
				for _, e := range cv.AsValueSlice() {
					if e.IsNull() {
						d.errorf(attr.Expr.Range(), "Invalid policy", "\"resources\" must not contain null.")
						continue
					}
					r := e.AsString()
					if r != "*" && !strings.HasPrefix(r, "arn:") {
						d.errorf(attr.Expr.Range(), "Invalid resource", "%q is not an ARN; resources are ARNs (\"arn:…\") or \"*\".", r)
					}
					ps.Resources = append(ps.Resources, r)
				}
			}
		}
	}
	return ps
}

// physicalName decodes an explicit `name = "…"` override and checks it against
// the service's naming rules.
func (d *decoder) physicalName(a hcl.Attributes, kind string, fifo bool, dst *string) {
	attr := a["name"]
	if attr == nil {
		return
	}
	n := d.str(a, "name", "\x00")
	if n == "\x00" {
		return
	}
	if msg := nameProblem(kind, n, fifo); msg != "" {
		d.errorf(attr.Expr.Range(), "Invalid name", "%s", msg)
		return
	}
	*dst = n
}

func containsInt(list []int, n int) bool {
	for _, e := range list {
		if e == n {
			return true
		}
	}
	return false
}

func intList(list []int) string {
	s := make([]string, len(list))
	for i, n := range list {
		s[i] = fmt.Sprint(n)
	}
	return strings.Join(s, ", ")
}

// codeCheck warns when the source folder lacks the file the runtime would run:
// Lambda would accept the upload and fail at the first invocation. A warning,
// not an error, because a build step may create the file.
func (d *decoder) codeCheck(fn *Function, src, handler *hcl.Attribute) {
	if st, err := os.Stat(fn.Source); err != nil || !st.IsDir() {
		return // reported already
	}
	exists := func(rel string) bool {
		_, err := os.Stat(filepath.Join(fn.Source, filepath.FromSlash(rel)))
		return err == nil
	}
	module := ""
	if i := strings.LastIndex(fn.Handler, "."); i > 0 {
		module = fn.Handler[:i]
	}
	switch {
	case fn.Runtime == "go":
		if m, _ := filepath.Glob(filepath.Join(fn.Source, "*.go")); len(m) == 0 {
			d.warnf(src.Expr.Range(), "No Go code in source", "Runtime go builds the folder's main package, but %s has no .go files.", d.shown(fn.Source))
		}
	case handler == nil || module == "":
	case strings.HasPrefix(fn.Runtime, "python"):
		if !exists(module+".py") && !exists(strings.ReplaceAll(module, ".", "/")+".py") {
			d.warnf(handler.Expr.Range(), "Handler file not found", "Handler %q needs %s.py in the source folder.", fn.Handler, module)
		}
	case strings.HasPrefix(fn.Runtime, "nodejs") && fn.Bundle != nil && fn.Bundle.Disabled:
		if !exists(module+".js") && !exists(module+".mjs") && !exists(module+".cjs") {
			d.warnf(handler.Expr.Range(), "Handler file not found", "Handler %q needs %s.js, .mjs or .cjs in the source folder (bundle = false: the folder is deployed as it is).", fn.Handler, module)
		}
	case strings.HasPrefix(fn.Runtime, "nodejs"):
		// evdeploy bundles from any of these (build/node.go).
		found := false
		for _, ext := range []string{".ts", ".mts", ".cts", ".js", ".mjs", ".cjs"} {
			found = found || exists(module+ext)
		}
		if !found {
			d.warnf(handler.Expr.Range(), "Handler file not found", "Handler %q needs %s.ts, .mts, .js, .mjs or .cjs in the source folder.", fn.Handler, module)
		}
	case strings.HasPrefix(fn.Runtime, "ruby"):
		if !exists(module + ".rb") {
			d.warnf(handler.Expr.Range(), "Handler file not found", "Handler %q needs %s.rb in the source folder.", fn.Handler, module)
		}
	}
}

// shown is how a path inside the project is named in messages: relative to
// the folder as the user gave it, so messages match what they typed.
func (d *decoder) shown(abs string) string {
	rel, err := filepath.Rel(d.dir, abs)
	if err != nil {
		return abs
	}
	return filepath.Join(d.relDir, rel)
}
