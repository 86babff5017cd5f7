package planner

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"

	"github.com/evdeploy/evdeploy/spec"
)

// TypeAlias is a function's `live` alias: the resource whose update is a
// release (publish a version, shift traffic to it, prune old versions).
const TypeAlias = "aws_lambda_alias"

// releaseKeyExcluded are function attributes that are not part of a
// published version (tags, the resource policy, where the package came
// from, reserved concurrency): a change to them alone releases nothing.
var releaseKeyExcluded = map[string]bool{
	"tags": true, "statement_ids": true, "extra_statements": true,
	"code_path": true, "s3_bucket": true, "s3_key": true,
	"reserved_concurrency": true, "function_name": true,
}

func aliasAddr(f spec.Addr) ResourceAddr {
	return ResourceAddr{Block: f.String(), Type: TypeAlias, Name: spec.LiveAlias}
}

// liveAttrs adds function.X.live_arn for a function with a release block:
// derived, so plans show it before the alias exists.
func (l *lowering) liveAttrs(f *spec.Function, name string) {
	if f.Release == nil {
		return
	}
	l.blockAttrs[f.Addr]["live_arn"] = l.arn("lambda", "function:"+name+":"+spec.LiveAlias)
	l.released[f.Addr] = true
}

// invokeTarget is what a way into function fn (a trigger, a notification,
// a subscription) names: the live alias's ARN and the qualified name
// (name:live) when fn has a release block, else the function itself. deps
// are what the way in must wait for (the alias, which must exist before
// Lambda accepts a qualified permission or mapping).
func (l *lowering) invokeTarget(fn spec.Addr) (arn any, name string, deps []ResourceAddr) {
	attrs := l.blockAttrs[fn]
	name, _ = attrs["name"].(string)
	if !l.released[fn] {
		return attrs["arn"], name, nil
	}
	return attrs["live_arn"], name + ":" + spec.LiveAlias, []ResourceAddr{aliasAddr(fn)}
}

// alias adds the function's live alias. Its release_key is a hash of every
// function attribute a published version captures: the alias is up to date
// when the version it points at was published from exactly those.
func (l *lowering) alias(f *spec.Function, name string, fn ResourceAddr, fnAttrs Attrs) {
	if f.Release == nil {
		return
	}
	r := f.Release
	var refs []Ref
	keys := make([]string, 0, len(fnAttrs))
	for k, v := range fnAttrs {
		if releaseKeyExcluded[k] {
			continue
		}
		keys = append(keys, k)
		refs = collectRefs(v, refs)
	}
	sort.Strings(keys)
	key := &Expr{Refs: refs, Text: f.Addr.String() + " release", Eval: func(resolved map[Ref]any) (any, error) {
		m := map[string]any{}
		for _, k := range keys {
			v, err := substitute(fnAttrs[k], resolved)
			if err != nil {
				return nil, err
			}
			m[k] = Norm(v)
		}
		b, err := json.Marshal(m)
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(b)
		return hex.EncodeToString(sum[:8]), nil
	}}
	// The alarms watched during the shift exist before it starts.
	deps := []ResourceAddr{fn}
	for _, a := range r.AlarmRefs {
		for _, res := range l.out {
			if res.Addr.Block == a.String() && res.Addr.Type == TypeAlarm {
				deps = append(deps, res.Addr)
			}
		}
	}
	var keyVal any = key
	if len(refs) == 0 {
		// Fully known: evaluate now, so the plan shows the key.
		if v, err := key.Eval(nil); err == nil {
			keyVal = v
		}
	}
	id := name + ":" + spec.LiveAlias
	l.add(f.Addr, TypeAlias, spec.LiveAlias, l.aliasAttrs(r, name, keyVal, fnAttrs), id, id, deps...)
}

func (l *lowering) aliasAttrs(r *spec.Release, name string, key any, fnAttrs Attrs) Attrs {
	alarms := append([]string(nil), r.Alarms...)
	for _, a := range r.AlarmRefs {
		// alarm blocks (issue 20) expose their name; until then only
		// names are accepted by spec.
		if n, ok := l.blockAttrs[a]["name"].(string); ok {
			alarms = append(alarms, n)
		}
	}
	sort.Strings(alarms)
	a := Attrs{
		"function_name": name,
		"name":          spec.LiveAlias,
		"release_key":   key,
		// No traffic split once a release is done: weights left on the
		// alias are a rollout that did not finish.
		"routing":       nil,
		"strategy":      r.Strategy,
		"percent":       int64(r.Percent),
		"wait_seconds":  seconds(r.Wait),
		"alarms":        stringList(alarms),
		"keep_versions": int64(r.KeepVersions),
		"code_sha256":   fnAttrs["code_sha256"],
	}
	if r.HasMaxErrors {
		a["max_errors"] = fmt.Sprintf("%g", r.MaxErrors)
	}
	a["provisioned_concurrency"] = nil
	if r.ProvisionedConcurrency > 0 {
		a["provisioned_concurrency"] = int64(r.ProvisionedConcurrency)
	}
	return a
}

// collectRefs appends every Ref that v (a Ref, an Expr, or lists and maps of
// them) needs.
func collectRefs(v any, refs []Ref) []Ref {
	switch x := v.(type) {
	case Ref:
		return append(refs, x)
	case *Expr:
		return append(refs, x.Refs...)
	case []any:
		for _, e := range x {
			refs = collectRefs(e, refs)
		}
	case map[string]any:
		for _, e := range x {
			refs = collectRefs(e, refs)
		}
	}
	return refs
}

// substitute replaces the Refs and Exprs in v with their resolved values,
// each Expr evaluated and normalised as the plan does.
func substitute(v any, resolved map[Ref]any) (any, error) {
	return resolveWith(v, resolved, func(x *Expr) (any, error) {
		val, _, err := evalExpr(x, resolved)
		return val, err
	})
}

func init() {
	ResourceTypes = append(ResourceTypes, TypeAlias)
	friendlyTypes[TypeAlias] = "alias"
}
