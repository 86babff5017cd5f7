package planner

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/evdeploy/evdeploy/spec"
)

// Package is a function's built code, as the build step reports it.
type Package struct {
	Path    string // local zip
	SHA256  string // base64 SHA-256: Lambda's CodeSha256
	Runtime string // deployed runtime (go → provided.al2023)
	Handler string // deployed handler (bootstrap for go)
	Size    int64
}

// LowerOptions are the facts about the target that lowering needs.
type LowerOptions struct {
	Account   string // AWS account id (from STS)
	Region    string
	Partition string // "aws" unless set

	// Packages holds each function's built package, by block address. A
	// function without one is lowered with an unknown code hash.
	Packages map[spec.Addr]*Package

	// LocalEndpoint, when set, is injected into every function's environment
	// as AWS_ENDPOINT_URL so the SDK inside a function reaches the same local
	// cloud as evdeploy.
	LocalEndpoint string

	// APIURLFormat, when set, replaces what the service reports as an HTTP
	// API's URL (api.x.url) with fmt.Sprintf(APIURLFormat, apiID): the
	// embedded engine serves APIs at http://<id>.execute-api.localhost:<port>
	// but reports AWS's URL.
	APIURLFormat string

	// DirectUploadLimit is the largest package sent inline to Lambda
	// (default DefaultDirectUploadLimit); bigger ones are staged in the app's
	// artifacts bucket, which Lower then adds.
	DirectUploadLimit int64
}

// DefaultDirectUploadLimit is Lambda's limit on a zip sent with the request
// (50 MB).
const DefaultDirectUploadLimit = 50 << 20

// Resource types (docs/resources.md).
const (
	TypeRole         = "aws_iam_role"
	TypeRolePolicy   = "aws_iam_role_policy"
	TypeLogGroup     = "aws_cloudwatch_log_group"
	TypeFunction     = "aws_lambda_function"
	TypePermission   = "aws_lambda_permission"
	TypeMapping      = "aws_lambda_event_source_mapping"
	TypeQueue        = "aws_sqs_queue"
	TypeTopic        = "aws_sns_topic"
	TypeSubscription = "aws_sns_subscription"
	TypeBus          = "aws_eventbridge_bus"
	TypeRule         = "aws_eventbridge_rule"
	TypeTarget       = "aws_eventbridge_target"
	TypeBucket       = "aws_s3_bucket"
	TypeNotification = "aws_s3_bucket_notification"
	TypeTable        = "aws_dynamodb_table"
	TypeStream       = "aws_kinesis_stream"
	TypeAPI          = "aws_apigatewayv2_api"
	TypeIntegration  = "aws_apigatewayv2_integration"
	TypeRoute        = "aws_apigatewayv2_route"
	TypeStage        = "aws_apigatewayv2_stage"
)

// ResourceTypes lists every type Lower may emit; providers must register a
// handler for each (a provider test checks it).
var ResourceTypes = []string{
	TypeRole, TypeRolePolicy, TypeLogGroup, TypeFunction, TypePermission, TypeMapping,
	TypeQueue, TypeTopic, TypeSubscription, TypeBus, TypeRule, TypeTarget,
	TypeBucket, TypeNotification, TypeTable, TypeStream,
	TypeAPI, TypeIntegration, TypeRoute, TypeStage,
}

// lowering holds the state of one Lower call.
type lowering struct {
	app  *spec.App
	opts LowerOptions
	out  map[string]*DesiredResource
	// blockAttrs are the values a reference like queue.orders.url reads:
	// known strings, Refs or Exprs.
	blockAttrs map[spec.Addr]map[string]any
	// extra statements per function, from its triggers.
	triggerStmts map[spec.Addr][]iamStatement
	diags        hcl.Diagnostics
	// artifacts is the artifacts bucket's name, "" when no package needs it.
	artifacts     string
	artifactsAddr ResourceAddr
}

func (l *lowering) uploadLimit() int64 {
	if l.opts.DirectUploadLimit > 0 {
		return l.opts.DirectUploadLimit
	}
	return DefaultDirectUploadLimit
}

// artifactsBucket adds the app's artifacts bucket when some package is over
// the direct-upload limit: one per app and stage, evdeploy's own, holding
// packages by content hash.
func (l *lowering) artifactsBucket() {
	need := false
	for _, p := range l.opts.Packages {
		if p != nil && p.Size > l.uploadLimit() {
			need = true
		}
	}
	if !need {
		return
	}
	block := spec.Addr{Kind: "app", Name: l.app.Name}
	name := bucketName(l.app.Name, l.app.Stage, "artifacts", l.opts.Account, l.opts.Region)
	l.artifacts = name
	l.artifactsAddr = l.add(block, TypeBucket, "artifacts", Attrs{"name": name, "block_public_access": true, "tags": l.tags(block, nil)}, name, name)
}

// hexSHA turns a base64 SHA-256 (Lambda's CodeSha256) into hex for object keys.
func hexSHA(b64 string) string {
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nameHash(b64)
	}
	return hex.EncodeToString(raw)
}

// Lower turns a validated app into the provider resources that implement it.
// The result is deterministic for the same app and options.
func Lower(app *spec.App, opts LowerOptions) (*Desired, hcl.Diagnostics) {
	if opts.Partition == "" {
		opts.Partition = "aws"
	}
	l := &lowering{
		app:          app,
		opts:         opts,
		out:          map[string]*DesiredResource{},
		blockAttrs:   map[spec.Addr]map[string]any{},
		triggerStmts: map[spec.Addr][]iamStatement{},
	}
	// Data and routing blocks first: functions' environments and policies
	// read their attributes.
	for _, q := range app.Queues {
		l.queue(q)
	}
	for _, t := range app.Topics {
		l.topic(t)
	}
	for _, b := range app.Buses {
		l.bus(b)
	}
	for _, b := range app.Buckets {
		l.bucket(b)
	}
	for _, t := range app.Tables {
		l.table(t)
	}
	for _, s := range app.Streams {
		l.stream(s)
	}
	for _, a := range app.APIs {
		l.api(a)
	}
	for _, f := range app.Functions {
		l.functionAttrs(f)
	}
	for _, t := range app.Triggers {
		l.trigger(t)
	}
	l.notifications()
	l.artifactsBucket()
	for _, f := range app.Functions {
		l.function(f)
	}

	d := &Desired{}
	for _, r := range l.out {
		d.Resources = append(d.Resources, r)
	}
	sort.Slice(d.Resources, func(i, j int) bool { return d.Resources[i].Addr.String() < d.Resources[j].Addr.String() })
	for _, o := range app.Outputs {
		v := l.expr(o.Value, o.Addr.String())
		d.Outputs = append(d.Outputs, &DesiredOutput{Name: o.Addr.Name, Value: v, Sensitive: o.Sensitive})
	}
	return d, l.diags
}

func (l *lowering) add(block spec.Addr, typ, name string, attrs Attrs, physical, id string, deps ...ResourceAddr) ResourceAddr {
	addr := ResourceAddr{Block: block.String(), Type: typ, Name: name}
	l.out[addr.String()] = &DesiredResource{Addr: addr, Attrs: attrs, Name: physical, ID: id, DependsOn: deps}
	return addr
}

func (l *lowering) name(r nameRule, block spec.Addr, explicit, suffix string) string {
	if explicit != "" {
		return explicit
	}
	return physicalName(r, l.app.Name, l.app.Stage, block.Name, suffix)
}

func (l *lowering) tags(block spec.Addr, own map[string]string) map[string]any {
	t := map[string]any{}
	for k, v := range l.app.Tags {
		t[k] = v
	}
	for k, v := range own {
		t[k] = v
	}
	t["evdeploy:app"] = l.app.Name
	t["evdeploy:stage"] = l.app.Stage
	t["evdeploy:block"] = block.String()
	return t
}

func (l *lowering) arn(service, resource string) string {
	return fmt.Sprintf("arn:%s:%s:%s:%s:%s", l.opts.Partition, service, l.opts.Region, l.opts.Account, resource)
}

func mainAddr(block spec.Addr, typ string) ResourceAddr {
	return ResourceAddr{Block: block.String(), Type: typ, Name: "main"}
}

func seconds(d interface{ Seconds() float64 }) int64 { return int64(d.Seconds()) }

// --- data and routing blocks -------------------------------------------------

func (l *lowering) queue(q *spec.Queue) {
	suffix := ""
	if q.FIFO {
		suffix = ".fifo"
	}
	explicit := q.PhysicalName
	name := l.name(ruleSQS, q.Addr, strings.TrimSuffix(explicit, ".fifo"), suffix)
	if explicit != "" {
		name = explicit
	}
	attrs := Attrs{
		"name":               name,
		"fifo":               q.FIFO,
		"visibility_timeout": seconds(q.VisibilityTimeout),
		"message_retention":  seconds(q.Retention),
		"delay":              seconds(q.Delay),
		"tags":               l.tags(q.Addr, q.Tags),
		// Optional attributes are set even when off (nil), so removing them
		// from the spec is a change: diff compares only what desired sets.
		"redrive_policy": nil,
	}
	ref := map[string]any{"name": name}
	var deps []ResourceAddr
	if q.DeadLetter != nil {
		dlqName := ruleSQS.fit(strings.TrimSuffix(name, ".fifo")+"-dlq", suffix)
		dlq := l.add(q.Addr, TypeQueue, "dlq", Attrs{
			"name":               dlqName,
			"fifo":               q.FIFO,
			"visibility_timeout": seconds(q.VisibilityTimeout),
			"message_retention":  seconds(q.DeadLetter.Retention),
			"delay":              int64(0),
			"tags":               l.tags(q.Addr, q.Tags),
		}, dlqName, "")
		// Queue ARNs derive from region, account and name, so the plan
		// knows them (and what reads them) before the queue exists.
		dlqArn := l.arn("sqs", dlqName)
		attrs["redrive_policy"] = fmt.Sprintf(`{"deadLetterTargetArn":%q,"maxReceiveCount":%d}`, dlqArn, q.DeadLetter.MaxReceives)
		ref["dlq_arn"] = dlqArn
		// SQS checks that the redrive target exists.
		deps = append(deps, dlq)
		ref["dlq_url"] = Ref{Resource: dlq, Attr: "url"}
	}
	addr := l.add(q.Addr, TypeQueue, "main", attrs, name, "", deps...)
	ref["arn"] = l.arn("sqs", name)
	ref["url"] = Ref{Resource: addr, Attr: "url"}
	l.blockAttrs[q.Addr] = ref
}

func (l *lowering) topic(t *spec.Topic) {
	suffix := ""
	if t.FIFO {
		suffix = ".fifo"
	}
	name := t.PhysicalName
	if name == "" {
		name = l.name(ruleSNS, t.Addr, "", suffix)
	}
	arn := l.arn("sns", name)
	l.add(t.Addr, TypeTopic, "main", Attrs{"name": name, "fifo": t.FIFO, "tags": l.tags(t.Addr, t.Tags)}, name, arn)
	l.blockAttrs[t.Addr] = map[string]any{"name": name, "arn": arn}
}

func (l *lowering) bus(b *spec.Bus) {
	name := l.name(ruleBus, b.Addr, b.PhysicalName, "")
	l.add(b.Addr, TypeBus, "main", Attrs{"name": name, "tags": l.tags(b.Addr, b.Tags)}, name, name)
	l.blockAttrs[b.Addr] = map[string]any{"name": name, "arn": l.arn("events", "event-bus/"+name)}
}

func (l *lowering) bucket(b *spec.Bucket) {
	name := b.PhysicalName
	if name == "" {
		name = bucketName(l.app.Name, l.app.Stage, b.Addr.Name, l.opts.Account, l.opts.Region)
	}
	l.add(b.Addr, TypeBucket, "main", Attrs{"name": name, "block_public_access": true, "tags": l.tags(b.Addr, b.Tags)}, name, name)
	l.blockAttrs[b.Addr] = map[string]any{"name": name, "arn": fmt.Sprintf("arn:%s:s3:::%s", l.opts.Partition, name)}
}

func (l *lowering) table(t *spec.Table) {
	name := l.name(ruleTable, t.Addr, t.PhysicalName, "")
	attrs := Attrs{
		"name":             name,
		"hash_key":         t.HashKey,
		"hash_key_type":    t.HashKeyType,
		"billing_mode":     t.BillingMode,
		"stream_view_type": t.StreamView,
		"tags":             l.tags(t.Addr, t.Tags),
	}
	if t.RangeKey != "" {
		attrs["range_key"] = t.RangeKey
		attrs["range_key_type"] = t.RangeKeyType
	}
	if t.BillingMode == "PROVISIONED" {
		attrs["read_capacity"] = int64(t.ReadCapacity)
		attrs["write_capacity"] = int64(t.WriteCapacity)
	}
	// "" when off, as the table handler reports it, so removing it is a change.
	attrs["ttl_attribute"] = t.TTLAttribute
	addr := l.add(t.Addr, TypeTable, "main", attrs, name, name)
	l.blockAttrs[t.Addr] = map[string]any{
		"name":       name,
		"arn":        l.arn("dynamodb", "table/"+name),
		"stream_arn": Ref{Resource: addr, Attr: "stream_arn"},
	}
}

func (l *lowering) stream(s *spec.Stream) {
	name := l.name(ruleKinesis, s.Addr, s.PhysicalName, "")
	attrs := Attrs{"name": name, "retention_hours": int64(s.RetentionHours), "tags": l.tags(s.Addr, s.Tags)}
	if s.OnDemand {
		attrs["stream_mode"] = "ON_DEMAND"
	} else {
		attrs["stream_mode"] = "PROVISIONED"
		attrs["shard_count"] = int64(s.Shards)
	}
	l.add(s.Addr, TypeStream, "main", attrs, name, name)
	l.blockAttrs[s.Addr] = map[string]any{"name": name, "arn": l.arn("kinesis", "stream/"+name)}
}

func (l *lowering) api(a *spec.API) {
	name := l.name(ruleAPI, a.Addr, a.PhysicalName, "")
	addr := l.add(a.Addr, TypeAPI, "main", Attrs{"name": name, "protocol_type": "HTTP", "tags": l.tags(a.Addr, a.Tags)}, name, "")
	id := Ref{Resource: addr, Attr: "id"}
	l.add(a.Addr, TypeStage, "default", Attrs{"api_id": id, "name": "$default", "auto_deploy": true}, "$default", "")
	var url any = Ref{Resource: addr, Attr: "api_endpoint"}
	if format := l.opts.APIURLFormat; format != "" {
		url = &Expr{Refs: []Ref{id}, Text: fmt.Sprintf(format, id.Resource.String()+".id"), Eval: func(resolved map[Ref]any) (any, error) {
			v, err := lowerResolve(id, resolved)
			if err != nil {
				return nil, err
			}
			return fmt.Sprintf(format, v), nil
		}}
	}
	l.blockAttrs[a.Addr] = map[string]any{
		"id":  id,
		"url": url,
		"arn": Ref{Resource: addr, Attr: "execution_arn"},
	}
}

// --- functions -----------------------------------------------------------------

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
}

func (l *lowering) function(f *spec.Function) {
	name := l.functionName(f)
	roleName := physicalName(ruleRole, l.app.Name, l.app.Stage, f.Addr.Name+"-"+l.opts.Region, "")
	if f.PhysicalName != "" {
		roleName = ruleRole.fit(f.PhysicalName+"-"+l.opts.Region, "")
	}
	tags := l.tags(f.Addr, f.Tags)
	role := l.add(f.Addr, TypeRole, "main", Attrs{
		"name":               roleName,
		"assume_role_policy": lambdaTrustPolicy,
		"description":        fmt.Sprintf("evdeploy: execution role of %s (%s, stage %s)", f.Addr, l.app.Name, l.app.Stage),
		"tags":               tags,
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
			// a key named by its content.
			attrs["s3_bucket"] = l.artifacts
			attrs["s3_key"] = "functions/" + name + "/" + hexSHA(pkg.SHA256) + ".zip"
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
	l.add(f.Addr, TypeFunction, "main", attrs, name, name, append(deps, logs, policy)...)
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

// expr lowers an HCL expression that may read block attributes into a known
// value or an Expr evaluated once its references are known.
func (l *lowering) expr(e hcl.Expression, what string) any {
	var refs []Ref
	known := map[spec.Addr]map[string]cty.Value{}
	// Through locals too: local.x may read queue.orders.url.
	for _, tr := range l.app.Traversals(e) {
		addr, attr, ok := traversalRef(tr)
		if !ok {
			continue
		}
		vals, ok := l.blockAttrs[addr]
		if !ok {
			continue
		}
		for k, v := range vals {
			if s, isStr := v.(string); isStr {
				if known[addr] == nil {
					known[addr] = map[string]cty.Value{}
				}
				known[addr][k] = cty.StringVal(s)
			} else if k == attr || attr == "" {
				refs = append(refs, RefsIn(v)...)
			}
		}
	}
	evalWith := func(resolved map[Ref]any) (any, error) {
		blocks := map[spec.Addr]map[string]cty.Value{}
		for a, m := range known {
			blocks[a] = map[string]cty.Value{}
			for k, v := range m {
				blocks[a][k] = v
			}
		}
		for addr, vals := range l.blockAttrs {
			for k, v := range vals {
				if _, isStr := v.(string); isStr {
					continue
				}
				r, err := lowerResolve(v, resolved)
				if err != nil {
					continue // not referenced by this expression
				}
				if s, ok := r.(string); ok {
					if blocks[addr] == nil {
						blocks[addr] = map[string]cty.Value{}
					}
					blocks[addr][k] = cty.StringVal(s)
				}
			}
		}
		val, diags := l.app.Eval(e, blocks)
		if diags.HasErrors() {
			return nil, fmt.Errorf("%s: %s", what, diags.Error())
		}
		if !val.IsWhollyKnown() {
			return nil, fmt.Errorf("%s: value is not known", what)
		}
		return ctyToAny(val)
	}
	if len(refs) == 0 {
		v, err := evalWith(nil)
		if err != nil {
			l.diags = append(l.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Cannot evaluate " + what, Detail: err.Error(), Subject: e.Range().Ptr()})
			return nil
		}
		return v
	}
	return &Expr{Refs: lowerDedupRefs(refs), Text: traversalsText(l.app.Traversals(e)), Eval: evalWith}
}

// traversalRef recognises kind.name[.attr] traversals of block kinds.
func traversalRef(tr hcl.Traversal) (spec.Addr, string, bool) {
	if len(tr) < 2 {
		return spec.Addr{}, "", false
	}
	root := tr.RootName()
	if _, ok := spec.RefAttrs[root]; !ok {
		return spec.Addr{}, "", false
	}
	nameStep, ok := tr[1].(hcl.TraverseAttr)
	if !ok {
		return spec.Addr{}, "", false
	}
	attr := ""
	if len(tr) > 2 {
		if a, ok := tr[2].(hcl.TraverseAttr); ok {
			attr = a.Name
		}
	}
	return spec.Addr{Kind: root, Name: nameStep.Name}, attr, true
}

// traversalsText names what an expression reads, for "(known after apply)"
// renderings: "queue.orders.url".
func traversalsText(trs []hcl.Traversal) string {
	var parts []string
	for _, tr := range trs {
		var b strings.Builder
		b.WriteString(tr.RootName())
		for _, step := range tr[1:] {
			if a, ok := step.(hcl.TraverseAttr); ok {
				b.WriteString("." + a.Name)
			}
		}
		parts = append(parts, b.String())
	}
	return strings.Join(iamSortedUnique(parts), ", ")
}

// ctyToAny converts a known cty value into an Attrs value.
func ctyToAny(v cty.Value) (any, error) {
	if v.IsNull() {
		return nil, nil
	}
	t := v.Type()
	switch {
	case t == cty.String:
		return v.AsString(), nil
	case t == cty.Bool:
		return v.True(), nil
	case t == cty.Number:
		bf := v.AsBigFloat()
		if i, acc := bf.Int64(); acc == 0 {
			return i, nil
		}
		f, _ := bf.Float64()
		return f, nil
	case t.IsListType() || t.IsTupleType() || t.IsSetType():
		var out []any
		for it := v.ElementIterator(); it.Next(); {
			_, e := it.Element()
			x, err := ctyToAny(e)
			if err != nil {
				return nil, err
			}
			out = append(out, x)
		}
		return out, nil
	case t.IsMapType() || t.IsObjectType():
		out := map[string]any{}
		for it := v.ElementIterator(); it.Next(); {
			k, e := it.Element()
			x, err := ctyToAny(e)
			if err != nil {
				return nil, err
			}
			// Lambda environment values are strings; numbers and bools
			// written in HCL are converted as the user would expect.
			switch y := x.(type) {
			case int64:
				x = fmt.Sprint(y)
			case float64:
				x = fmt.Sprint(y)
			case bool:
				x = fmt.Sprint(y)
			}
			out[k.AsString()] = x
		}
		return out, nil
	}
	return nil, fmt.Errorf("unsupported value of type %s", t.FriendlyName())
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

// --- triggers ------------------------------------------------------------------

func (l *lowering) trigger(t *spec.Trigger) {
	fnName := l.blockAttrs[t.Function]["name"].(string)
	fnArn := l.blockAttrs[t.Function]["arn"]
	fnMain := mainAddr(t.Function, TypeFunction)
	policy := mainAddr(t.Function, TypeRolePolicy)
	stmtID := ruleStmt.fit("evdeploy-"+t.Addr.Name, "")

	permission := func(principal string, sourceArn any, extra Attrs) ResourceAddr {
		attrs := Attrs{
			"function_name": fnName,
			"statement_id":  stmtID,
			"action":        "lambda:InvokeFunction",
			"principal":     principal,
			"source_arn":    sourceArn,
		}
		for k, v := range extra {
			attrs[k] = v
		}
		return l.add(t.Addr, TypePermission, "main", attrs, fnName+"/"+stmtID, fnName+"/"+stmtID, fnMain)
	}
	mapping := func(source spec.Addr, sourceArn any, attrs Attrs) {
		attrs["function_name"] = fnName
		attrs["event_source_arn"] = sourceArn
		// The role must be able to read the source before the mapping is
		// created: depend on the policy, not only the function.
		// The source must exist too; its ARN is often derived, so no Ref
		// says so.
		srcType := map[string]string{spec.KindQueue: TypeQueue, spec.KindStream: TypeStream, spec.KindTable: TypeTable}[source.Kind]
		l.add(t.Addr, TypeMapping, "main", attrs, fnName+"@"+t.Addr.String(), "", fnMain, policy, mainAddr(source, srcType))
	}

	switch {
	case t.HTTP != nil:
		api := l.blockAttrs[t.HTTP.API]
		integ := l.add(t.Addr, TypeIntegration, "main", Attrs{
			"api_id":                 api["id"],
			"integration_type":       "AWS_PROXY",
			"integration_uri":        fnArn,
			"payload_format_version": "2.0",
		}, "", "")
		integID := Ref{Resource: integ, Attr: "integration_id"}
		l.add(t.Addr, TypeRoute, "main", Attrs{
			"api_id":    api["id"],
			"route_key": t.HTTP.Route,
			"target": &Expr{Refs: []Ref{integID}, Text: "integrations/" + integ.String() + ".integration_id",
				Eval: func(resolved map[Ref]any) (any, error) {
					id, err := lowerResolve(integID, resolved)
					if err != nil {
						return nil, err
					}
					return fmt.Sprintf("integrations/%v", id), nil
				}},
		}, t.HTTP.Route, "")
		permission("apigateway.amazonaws.com", lowerSuffixed(api["arn"], routeArnSuffix(t.HTTP.Route)), nil)

	case t.Queue != nil:
		q := t.Queue
		arn := l.blockAttrs[q.Queue]["arn"]
		l.triggerStmts[t.Function] = append(l.triggerStmts[t.Function], iamStatement{
			Sid: "Poll" + sidPart(t.Addr.Name), Effect: "Allow", Actions: sqsPollActions, Resources: []any{arn}})
		attrs := Attrs{
			"batch_size":              int64(q.BatchSize),
			"maximum_batching_window": seconds(q.BatchingWindow),
			"enabled":                 q.Enabled,
		}
		attrs["function_response_types"] = nil
		if q.ReportFailures {
			attrs["function_response_types"] = []any{"ReportBatchItemFailures"}
		}
		if q.MaxConcurrency > 0 {
			attrs["maximum_concurrency"] = int64(q.MaxConcurrency)
		}
		mapping(q.Queue, arn, attrs)

	case t.DynamoDB != nil || t.Kinesis != nil:
		s := t.DynamoDB
		var arn any
		var res []any
		actions := kinesisPollActions
		if s != nil {
			tbl := l.blockAttrs[s.Source]
			arn = tbl["stream_arn"]
			res = []any{lowerSuffixed(tbl["arn"], "/stream/*")}
			actions = ddbStreamActions
		} else {
			s = t.Kinesis
			arn = l.blockAttrs[s.Source]["arn"]
			res = []any{arn}
		}
		l.triggerStmts[t.Function] = append(l.triggerStmts[t.Function], iamStatement{
			Sid: "Poll" + sidPart(t.Addr.Name), Effect: "Allow", Actions: actions, Resources: res})
		attrs := Attrs{
			"starting_position":              s.StartingPosition,
			"batch_size":                     int64(s.BatchSize),
			"maximum_batching_window":        seconds(s.BatchingWindow),
			"maximum_retry_attempts":         int64(s.MaxRetryAttempts),
			"bisect_batch_on_function_error": s.BisectOnError,
			"enabled":                        s.Enabled,
		}
		if s.ParallelizationFactor > 0 {
			attrs["parallelization_factor"] = int64(s.ParallelizationFactor)
		}
		attrs["function_response_types"] = nil
		if s.ReportFailures {
			attrs["function_response_types"] = []any{"ReportBatchItemFailures"}
		}
		mapping(s.Source, arn, attrs)

	case t.Topic != nil:
		topicArn := l.blockAttrs[t.Topic.Topic]["arn"]
		perm := permission("sns.amazonaws.com", topicArn, nil)
		attrs := Attrs{"topic_arn": topicArn, "protocol": "lambda", "endpoint": fnArn, "filter_policy": nil}
		if t.Topic.FilterPolicy != "" {
			attrs["filter_policy"] = t.Topic.FilterPolicy
		}
		l.add(t.Addr, TypeSubscription, "main", attrs, "", "", perm, mainAddr(t.Topic.Topic, TypeTopic))

	case t.S3 != nil:
		b := l.blockAttrs[t.S3.Bucket]
		permission("s3.amazonaws.com", b["arn"], Attrs{"source_account": l.opts.Account})
		// The notification document is per bucket; notifications() gathers
		// every S3 trigger of a bucket into it.

	case t.Schedule != nil || t.Event != nil:
		ruleName := physicalName(ruleRule, l.app.Name, l.app.Stage, t.Addr.Name, "")
		busName := "default"
		attrs := Attrs{"name": ruleName, "state": "ENABLED", "description": "evdeploy: " + t.Addr.String(), "tags": l.tags(t.Addr, nil)}
		var deps []ResourceAddr
		if t.Schedule != nil {
			attrs["schedule_expression"] = t.Schedule.Expression
			if !t.Schedule.Enabled {
				attrs["state"] = "DISABLED"
			}
		} else {
			attrs["event_pattern"] = t.Event.Pattern
			if !t.Event.Bus.IsZero() {
				busName = l.blockAttrs[t.Event.Bus]["name"].(string)
				deps = append(deps, mainAddr(t.Event.Bus, TypeBus))
			}
		}
		attrs["bus"] = busName
		rule := l.add(t.Addr, TypeRule, "main", attrs, busName+"/"+ruleName, busName+"/"+ruleName, deps...)
		perm := permission("events.amazonaws.com", Ref{Resource: rule, Attr: "arn"}, nil)
		targetID := ruleTargetID.fit("evdeploy-"+t.Function.Name, "")
		target := Attrs{"bus": busName, "rule": ruleName, "target_id": targetID, "arn": fnArn, "input": nil}
		if t.Schedule != nil && t.Schedule.Input != "" {
			target["input"] = t.Schedule.Input
		}
		id := busName + "/" + ruleName + "/" + targetID
		l.add(t.Addr, TypeTarget, "main", target, id, id, rule, perm)
	}
}

// notifications gathers every S3 trigger of a bucket into the bucket's single
// notification document, written after each trigger's permission exists (S3
// validates that it may invoke the function).
func (l *lowering) notifications() {
	byBucket := map[spec.Addr][]*spec.Trigger{}
	for _, t := range l.app.Triggers {
		if t.S3 != nil {
			byBucket[t.S3.Bucket] = append(byBucket[t.S3.Bucket], t)
		}
	}
	for bucket, triggers := range byBucket {
		name := l.blockAttrs[bucket]["name"].(string)
		var configs []any
		var deps []ResourceAddr
		for _, t := range triggers {
			events := make([]any, len(t.S3.Events))
			for i, e := range t.S3.Events {
				events[i] = e
			}
			c := map[string]any{
				"id":           ruleStmt.fit("evdeploy-"+l.app.Name+"-"+l.app.Stage+"-"+t.Addr.Name, ""),
				"function_arn": l.blockAttrs[t.Function]["arn"],
				"events":       events,
			}
			if t.S3.Prefix != "" {
				c["prefix"] = t.S3.Prefix
			}
			if t.S3.Suffix != "" {
				c["suffix"] = t.S3.Suffix
			}
			configs = append(configs, c)
			deps = append(deps, mainAddr(t.Addr, TypePermission))
		}
		deps = append(deps, mainAddr(bucket, TypeBucket))
		l.add(bucket, TypeNotification, "main", Attrs{"bucket": name, "owned": true, "lambda": configs}, name, name, deps...)
	}
}

// routeArnSuffix scopes an API Gateway invoke permission to one route:
// <execution arn>/<stage>/<METHOD>/<path>, with path parameters as wildcards.
func routeArnSuffix(route string) string {
	if route == "$default" {
		return "/*/$default"
	}
	method, path, _ := strings.Cut(route, " ")
	if method == "ANY" {
		method = "*"
	}
	segs := strings.Split(strings.TrimPrefix(path, "/"), "/")
	for i, s := range segs {
		if strings.HasPrefix(s, "{") {
			segs[i] = "*"
		}
	}
	return "/*/" + method + "/" + strings.Join(segs, "/")
}

// sidPart makes a block name usable in a statement id ([A-Za-z0-9]).
func sidPart(name string) string {
	var b strings.Builder
	up := true
	for _, r := range name {
		switch {
		case r >= 'a' && r <= 'z':
			if up {
				r -= 'a' - 'A'
			}
			b.WriteRune(r)
			up = false
		case r >= 'A' && r <= 'Z' || r >= '0' && r <= '9':
			b.WriteRune(r)
			up = false
		default:
			up = true
		}
	}
	return b.String()
}
