package planner

import (
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/evdeploy/evdeploy/spec"
)

func (l *lowering) functionName(f *spec.Function) string {
	return l.name(ruleLambda, f.Addr, f.PhysicalName, "")
}

func (l *lowering) functionAttrs(f *spec.Function) {
	name := l.functionName(f)
	l.blockAttrs[f.Addr] = map[string]any{
		"name":     name,
		"arn":      Ref{Resource: mainAddr(f.Addr, TypeFunction), Attr: "arn"},
		"role_arn": Ref{Resource: mainAddr(f.Addr, TypeRole), Attr: "arn"},
	}
	if f.URL != nil {
		l.blockAttrs[f.Addr]["url"] = Ref{Resource: mainAddr(f.Addr, TypeFunctionURL), Attr: "url"}
	}
	l.liveAttrs(f, name)
}

func (l *lowering) function(f *spec.Function) {
	name := l.functionName(f)
	roleName := physicalName(ruleRole, l.app.Name, l.app.Stage, f.Addr.Name+"-"+l.opts.Region, "")
	if f.PhysicalName != "" {
		roleName = ruleRole.fit(f.PhysicalName+"-"+l.opts.Region, "")
	}
	tags := l.tags(f.Addr, f.Tags)
	// evdeploy owns the role outright: its one inline policy, exactly the
	// declared managed policies, its trust policy. Anything else on it is
	// drift that apply removes.
	managed := append([]string(nil), f.ManagedPolicies...)
	sort.Strings(managed)
	role := l.add(f.Addr, TypeRole, "main", Attrs{
		"name":                  roleName,
		"assume_role_policy":    lambdaTrustPolicy,
		"description":           fmt.Sprintf("evdeploy: execution role of %s (%s, stage %s)", f.Addr, l.app.Name, l.app.Stage),
		"tags":                  tags,
		"inline_policy_names":   []any{"evdeploy"},
		"extra_inline_policies": []any{},
		"managed_policies":      stringList(managed),
	}, roleName, roleName)

	logName := "/aws/lambda/" + name
	logs := l.add(f.Addr, TypeLogGroup, "main", Attrs{
		"name":           logName,
		"retention_days": int64(f.LogRetention),
		"tags":           tags,
	}, logName, logName)

	// The policy: logs, trigger sources, capabilities, raw statements.
	logArn := l.arn("logs", "log-group:"+logName)
	stmts := []iamStatement{{Sid: "Logs", Effect: "Allow", Actions: logActions, Resources: []any{logArn + ":*"}}}
	stmts = append(stmts, l.triggerStmts[f.Addr]...)
	for i, c := range f.Uses {
		if c.Target.Kind == spec.KindSecret {
			stmts = append(stmts, l.secretStatements(fmt.Sprintf("Use%dSecretRead", i), c)...)
			continue
		}
		stmts = append(stmts, l.capabilityStatement(i, c))
	}
	for i, p := range f.Policies {
		effect := p.Effect
		if effect == "" {
			effect = "Allow"
		}
		var res []any
		for _, r := range p.Resources {
			res = append(res, r)
		}
		if p.Resources == nil && p.ResourcesExpr != nil {
			// Resources that read block attributes ("${bucket.x.arn}/*"):
			// one value, a list once known, flattened by iamPolicyValue.
			res = []any{l.expr(p.ResourcesExpr, fmt.Sprintf("%s policy %d resources", f.Addr, i))}
		}
		stmts = append(stmts, iamStatement{Sid: fmt.Sprintf("Custom%d", i), Effect: effect, Actions: p.Actions, Resources: res})
	}
	stmts = append(stmts, settingsStatements(f)...)
	doc, err := iamPolicyValue(stmts)
	if err != nil {
		l.diags = append(l.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid IAM policy",
			Detail: fmt.Sprintf("%s: %v", f.Addr, err), Subject: f.DeclRange.Ptr()})
	}
	policy := l.add(f.Addr, TypeRolePolicy, "main", Attrs{
		"role":   roleName,
		"name":   "evdeploy",
		"policy": doc,
	}, roleName+":evdeploy", roleName+":evdeploy", role)

	pkg := l.opts.Packages[f.Addr]
	runtime, handler := f.Runtime, f.Handler
	if runtime == "go" {
		runtime, handler = "provided.al2023", "bootstrap"
	}
	attrs := Attrs{
		"function_name": name,
		"role":          Ref{Resource: role, Attr: "arn"},
		"runtime":       runtime,
		"architecture":  f.Architecture,
		"memory":        int64(f.Memory),
		"timeout":       seconds(f.Timeout),
		"tags":          tags,
		// The resource policy is evdeploy's alone: statements other than
		// its permissions' (statement_ids, filled in by functionPolicies)
		// are drift.
		"extra_statements": []any{},
	}
	if handler != "" {
		attrs["handler"] = handler
	}
	var deps []ResourceAddr
	if pkg != nil {
		attrs["code_sha256"] = pkg.SHA256
		attrs["code_path"] = pkg.Path
		if l.artifacts != "" && pkg.Size > l.uploadLimit() {
			// Too big to send inline: staged in the artifacts bucket under
			// a key named by its content alone, so functions sharing a
			// package share one object (uploaded once).
			attrs["s3_bucket"] = l.artifacts
			attrs["s3_key"] = "functions/" + hexSHA(pkg.SHA256) + ".zip"
			deps = append(deps, l.artifactsAddr)
		}
		if pkg.Runtime != "" {
			attrs["runtime"] = pkg.Runtime
		}
		if pkg.Handler != "" {
			attrs["handler"] = pkg.Handler
		}
	}
	// nil when there is none, so removing the last variable is a change.
	attrs["environment"] = l.environment(f)
	l.functionSettings(f, attrs)
	fn := l.add(f.Addr, TypeFunction, "main", attrs, name, name, append(deps, logs, policy)...)
	if f.Environment != nil && l.sensitive(f.Environment) {
		l.out[fn.String()].Sensitive = []string{"environment"}
	}
	l.functionURL(f, name, fn)
	l.alias(f, name, fn, attrs)
}

// environment evaluates a function's environment map, deferring what depends
// on resources not created yet, and adds the local endpoint for local targets.
func (l *lowering) environment(f *spec.Function) any {
	var v any
	if f.Environment != nil {
		v = l.expr(f.Environment, f.Addr.String()+".environment")
	}
	if l.opts.LocalEndpoint == "" {
		return v
	}
	// AWS_REGION is not set here: Lambda reserves it (CreateFunction rejects
	// it) and every runtime, local ones included, already sets it.
	extra := map[string]any{"AWS_ENDPOINT_URL": l.opts.LocalEndpoint}
	switch x := v.(type) {
	case nil:
		return extra
	case map[string]any:
		for k, e := range extra {
			if _, set := x[k]; !set {
				x[k] = e
			}
		}
		return x
	case *Expr:
		return &Expr{Refs: x.Refs, Text: x.Text, Eval: func(resolved map[Ref]any) (any, error) {
			val, err := x.Eval(resolved)
			if err != nil {
				return nil, err
			}
			m, _ := val.(map[string]any)
			if m == nil {
				m = map[string]any{}
			}
			for k, e := range extra {
				if _, set := m[k]; !set {
					m[k] = e
				}
			}
			return m, nil
		}}
	}
	return v
}

func (l *lowering) capabilityStatement(i int, c spec.Capability) iamStatement {
	actions := capabilityActions[c.Target.Kind][c.Name]
	vals := l.blockAttrs[c.Target]
	arn := vals["arn"]
	sid := fmt.Sprintf("Use%d%s%s", i, sidPart(c.Target.Kind), sidPart(c.Name))
	var res []any
	switch c.Target.Kind {
	case spec.KindBucket:
		// ListBucket applies to the bucket, object actions to its keys.
		if c.Name == "read" {
			return iamStatement{Sid: sid, Effect: "Allow", Actions: actions, Resources: []any{arn, lowerSuffixed(arn, "/*")}}
		}
		res = []any{lowerSuffixed(arn, "/*")}
	case spec.KindTable:
		res = []any{arn, lowerSuffixed(arn, "/index/*")}
	default:
		res = []any{arn}
	}
	return iamStatement{Sid: sid, Effect: "Allow", Actions: actions, Resources: res}
}

// stringList is a list of strings in attribute form, never nil.
func stringList(l []string) []any {
	out := make([]any, 0, len(l))
	for _, s := range l {
		out = append(out, s)
	}
	return out
}

// functionPolicies gives every function the Sids evdeploy writes to its
// resource policy (those of the permissions lowered for it, by any block), so
// any other statement reads as drift.
func (l *lowering) functionPolicies() {
	sids := map[string][]string{}
	for _, r := range l.out {
		if r.Addr.Type != TypePermission {
			continue
		}
		if fn, ok := r.Attrs["function_name"].(string); ok {
			// A released function's permissions are on its alias (name:live):
			// declared too, as moto reports them in the function's policy.
			fn, _, _ = strings.Cut(fn, ":")
			if sid, ok := r.Attrs["statement_id"].(string); ok {
				sids[fn] = append(sids[fn], sid)
			}
		}
	}
	for _, r := range l.out {
		if r.Addr.Type != TypeFunction {
			continue
		}
		fn, _ := r.Attrs["function_name"].(string)
		list := sids[fn]
		sort.Strings(list)
		r.Attrs["statement_ids"] = stringList(list)
	}
}
