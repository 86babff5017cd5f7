package planner

import (
	"encoding/json"
	"fmt"
	"sort"

	"github.com/evdeploy/evdeploy/spec"
)

// Routes deliver a router's events to another router. Each delivery is
// least-privilege:
//   - a queue or topic that a service delivers into gets one resource-policy
//     statement per route, allowing exactly that service with aws:SourceArn
//     set to that source (policies() writes one document per queue/topic);
//   - EventBridge targets that need a role (a stream, another bus) and every
//     pipe get a role of their own, allowed to write only to that target (and
//     a pipe to read only its source);
//   - a function's async destinations are added to its own role's policy.

// resourceStatement is one statement of a queue or topic policy: the service
// principal may perform Action on Resource when the request comes from
// SourceArn.
type resourceStatement struct {
	Sid           string
	Service       string // sns.amazonaws.com, s3.amazonaws.com, events.amazonaws.com
	Action        string
	Resource      any // the queue's or topic's ARN
	SourceArn     any // string or Ref
	SourceAccount string
}

// routeSuffix tells a route's physical names apart from a trigger's of the
// same name (both may be called "tick").
func routeSuffix(block spec.Addr) string {
	if block.Kind == spec.KindRoute {
		return "-route"
	}
	return ""
}

// routeSid is a route's statement id in a queue or topic policy: stable and
// deterministic, so statements evdeploy did not write can be told apart.
func routeSid(r *spec.Route) string { return ruleStmt.fit("evdeploy-route-"+r.Addr.Name, "") }

func (l *lowering) route(r *spec.Route) {
	to := l.blockAttrs[r.To]
	toArn := to["arn"]
	switch {
	case r.Topic != nil:
		topicArn := l.blockAttrs[r.Topic.Topic]["arn"]
		l.grant(r, "sns.amazonaws.com", topicArn, "")
		attrs := Attrs{
			"topic_arn": topicArn, "protocol": "sqs", "endpoint": toArn,
			"filter_policy": nil, "raw_message_delivery": nil,
		}
		// SNS reports false as absent: only true is set.
		if r.Topic.RawDelivery {
			attrs["raw_message_delivery"] = true
		}
		if r.Topic.FilterPolicy != "" {
			attrs["filter_policy"] = r.Topic.FilterPolicy
		}
		// SNS delivers only once the queue policy lets it.
		l.add(r.Addr, TypeSubscription, "main", attrs, "", "",
			mainAddr(r.Topic.Topic, TypeTopic), mainAddr(r.To, TypeQueue), l.policyAddr(r.To))

	case r.S3 != nil:
		// The entry goes into the bucket's notification document
		// (notifications()), written after this policy exists: S3 validates
		// that it may deliver.
		l.grant(r, "s3.amazonaws.com", l.blockAttrs[r.S3.Bucket]["arn"], l.opts.Account)

	case r.Schedule != nil || r.Event != nil:
		rule, busName, ruleName := l.rule(r.Addr, r.Schedule, r.Event)
		targetID := ruleTargetID.fit("evdeploy-route-"+r.Addr.Name, "")
		target := Attrs{"bus": busName, "rule": ruleName, "target_id": targetID, "arn": toArn, "input": nil}
		if r.Schedule != nil && r.Schedule.Input != "" {
			target["input"] = r.Schedule.Input
		}
		if r.MessageGroup != "" {
			target["sqs_message_group_id"] = r.MessageGroup
		}
		deps := []ResourceAddr{rule, mainAddr(r.To, targetType(r.To))}
		switch r.To.Kind {
		case spec.KindQueue, spec.KindTopic:
			l.grant(r, "events.amazonaws.com", Ref{Resource: rule, Attr: "arn"}, "")
			deps = append(deps, l.policyAddr(r.To))
		default:
			// Streams and buses take a role that may write only there.
			role, policy := l.routeRole(r, eventsTrustPolicy, nil)
			target["role_arn"] = Ref{Resource: role, Attr: "arn"}
			deps = append(deps, policy)
		}
		id := busName + "/" + ruleName + "/" + targetID
		l.add(r.Addr, TypeTarget, "main", target, id, id, deps...)

	case r.Pipe != nil:
		l.pipe(r)
	}
}

// targetType is the resource type of a route's target block.
func targetType(a spec.Addr) string {
	return map[string]string{spec.KindQueue: TypeQueue, spec.KindTopic: TypeTopic, spec.KindBus: TypeBus, spec.KindStream: TypeStream}[a.Kind]
}

// writeActions are what a role needs to deliver to each kind of router.
var writeActions = map[string][]string{
	spec.KindQueue:    {"sqs:SendMessage"},
	spec.KindTopic:    {"sns:Publish"},
	spec.KindBus:      {"events:PutEvents"},
	spec.KindStream:   {"kinesis:PutRecord", "kinesis:PutRecords"},
	spec.KindFunction: {"lambda:InvokeFunction"},
}

// Trust policies of route roles.
const (
	eventsTrustPolicy = `{"Statement":[{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"Service":"events.amazonaws.com"}}],"Version":"2012-10-17"}`
	pipesTrustPolicy  = `{"Statement":[{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"Service":"pipes.amazonaws.com"}}],"Version":"2012-10-17"}`
)

// routeRole adds a role for one route, allowed to write only to the route's
// target, plus extra (a pipe's source reads). It returns the role and its
// policy.
func (l *lowering) routeRole(r *spec.Route, trust string, extra []iamStatement) (role, policy ResourceAddr) {
	roleName := physicalName(ruleRole, l.app.Name, l.app.Stage, r.Addr.Name+"-route-"+l.opts.Region, "")
	role = l.add(r.Addr, TypeRole, "main", Attrs{
		"name":               roleName,
		"assume_role_policy": trust,
		"description":        fmt.Sprintf("evdeploy: delivery role of %s (%s, stage %s)", r.Addr, l.app.Name, l.app.Stage),
		"tags":               l.tags(r.Addr, nil),
	}, roleName, roleName)
	stmts := append([]iamStatement{{Sid: "Deliver", Effect: "Allow", Actions: writeActions[r.To.Kind], Resources: []any{l.blockAttrs[r.To]["arn"]}}}, extra...)
	doc, err := iamPolicyValue(stmts)
	if err != nil {
		// Every resource here is an ARN lowering derived: a bug, not input.
		panic(fmt.Sprintf("%s: %v", r.Addr, err))
	}
	policy = l.add(r.Addr, TypeRolePolicy, "main", Attrs{"role": roleName, "name": "evdeploy", "policy": doc},
		roleName+":evdeploy", roleName+":evdeploy", role)
	return role, policy
}

// pipe adds an EventBridge pipe from a queue or stream to the route's target.
func (l *lowering) pipe(r *spec.Route) {
	p := r.Pipe
	src := l.blockAttrs[p.Source]
	var srcArn any
	var read iamStatement
	switch p.Kind {
	case "queue":
		srcArn = src["arn"]
		read = iamStatement{Sid: "ReadSource", Effect: "Allow", Actions: sqsPollActions, Resources: []any{srcArn}}
	case "kinesis":
		srcArn = src["arn"]
		read = iamStatement{Sid: "ReadSource", Effect: "Allow", Actions: kinesisPollActions, Resources: []any{srcArn}}
	case "dynamodb":
		srcArn = src["stream_arn"]
		read = iamStatement{Sid: "ReadSource", Effect: "Allow", Actions: ddbStreamActions, Resources: []any{lowerSuffixed(src["arn"], "/stream/*")}}
	}
	role, policy := l.routeRole(r, pipesTrustPolicy, []iamStatement{read})
	name := physicalName(ruleRule, l.app.Name, l.app.Stage, r.Addr.Name, "-route")
	attrs := Attrs{
		"name":          name,
		"role_arn":      Ref{Resource: role, Attr: "arn"},
		"source":        srcArn,
		"target":        l.blockAttrs[r.To]["arn"],
		"desired_state": "RUNNING",
		"batch_size":    int64(p.BatchSize),
		"filter":        nil,
		"tags":          l.tags(r.Addr, nil),
	}
	if p.StartingPosition != "" {
		attrs["starting_position"] = p.StartingPosition
	}
	if p.Filter != "" {
		attrs["filter"] = p.Filter
	}
	if r.MessageGroup != "" {
		attrs["sqs_message_group_id"] = r.MessageGroup
	}
	if r.To.Kind == spec.KindStream {
		// Kinesis targets need a partition key: each record's own id keeps
		// the load spread.
		attrs["kinesis_partition_key"] = map[string]string{"queue": "$.messageId", "kinesis": "$.eventID", "dynamodb": "$.eventID"}[p.Kind]
	}
	srcType := map[string]string{"queue": TypeQueue, "kinesis": TypeStream, "dynamodb": TypeTable}[p.Kind]
	l.add(r.Addr, TypePipe, "main", attrs, name, name, policy, mainAddr(p.Source, srcType), mainAddr(r.To, targetType(r.To)))
}

// grant records that service may deliver from sourceArn into the route's
// target queue or topic.
func (l *lowering) grant(r *spec.Route, service string, sourceArn any, account string) {
	action := "sqs:SendMessage"
	if r.To.Kind == spec.KindTopic {
		action = "sns:Publish"
	}
	sid := routeSid(r)
	if l.existingBlocks[r.To] {
		sid = l.sharedSid(r)
	}
	l.policyStmts[r.To] = append(l.policyStmts[r.To], resourceStatement{
		Sid: sid, Service: service, Action: action, Resource: l.blockAttrs[r.To]["arn"],
		SourceArn: sourceArn, SourceAccount: account,
	})
}

// policyAddr is the address of a queue's or topic's resource policy.
func (l *lowering) policyAddr(a spec.Addr) ResourceAddr {
	if a.Kind == spec.KindTopic {
		return ResourceAddr{Block: a.String(), Type: TypeTopicPolicy, Name: "main"}
	}
	return ResourceAddr{Block: a.String(), Type: TypeQueuePolicy, Name: "main"}
}

// policies writes one resource policy per queue or topic that routes deliver
// into: the whole document is evdeploy's, one statement per route.
func (l *lowering) policies() {
	for _, a := range sortedBlockAddrs(l.policyStmts) {
		a0 := a
		stmts := l.policyStmts[a]
		sort.Slice(stmts, func(i, j int) bool { return stmts[i].Sid < stmts[j].Sid })
		doc := resourcePolicyValue(stmts)
		attrs := l.blockAttrs[a]
		// A policy of a queue or topic made elsewhere is shared: evdeploy
		// adds and removes only its statements (by Sid), keeping the rest.
		// (Set only then, so policies applied before it existed stay
		// unchanged.)
		shared := func(a Attrs) Attrs {
			if l.existingBlocks[a0] {
				a["shared"] = true
			}
			return a
		}
		if a.Kind == spec.KindTopic {
			arn := attrs["arn"].(string)
			l.add(a, TypeTopicPolicy, "main", shared(Attrs{"topic_arn": arn, "policy": doc}), attrs["name"].(string), arn, mainAddr(a, TypeTopic))
			continue
		}
		l.add(a, TypeQueuePolicy, "main", shared(Attrs{"queue_url": attrs["url"], "policy": doc}), attrs["name"].(string), "", mainAddr(a, TypeQueue))
	}
}

func sortedBlockAddrs[V any](m map[spec.Addr]V) []spec.Addr {
	out := make([]spec.Addr, 0, len(m))
	for a := range m {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}

// resourcePolicyValue renders a queue or topic policy: a JSON string when
// every source ARN is known, else an Expr.
func resourcePolicyValue(stmts []resourceStatement) any {
	var refs []Ref
	for _, s := range stmts {
		refs = append(refs, RefsIn(s.SourceArn)...)
		refs = append(refs, RefsIn(s.Resource)...)
	}
	build := func(resolve func(any) (any, error)) (any, error) {
		var out []any
		for _, s := range stmts {
			src, err := resolve(s.SourceArn)
			if err != nil {
				return nil, err
			}
			res, err := resolve(s.Resource)
			if err != nil {
				return nil, err
			}
			cond := map[string]any{"ArnEquals": map[string]any{"aws:SourceArn": src}}
			if s.SourceAccount != "" {
				cond["StringEquals"] = map[string]any{"aws:SourceAccount": s.SourceAccount}
			}
			out = append(out, map[string]any{
				"Sid":       s.Sid,
				"Effect":    "Allow",
				"Principal": map[string]any{"Service": s.Service},
				"Action":    s.Action,
				"Resource":  res,
				"Condition": cond,
			})
		}
		b, err := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": out})
		return string(b), err
	}
	if len(refs) == 0 {
		v, err := build(func(v any) (any, error) { return v, nil })
		if err != nil {
			panic(err) // strings only: cannot fail
		}
		return v
	}
	return &Expr{Refs: lowerDedupRefs(refs), Text: "resource policy document", Eval: func(resolved map[Ref]any) (any, error) {
		return build(func(v any) (any, error) { return lowerResolve(v, resolved) })
	}}
}

// async adds a function's event invoke configuration and the statements that
// let its role write to exactly its destinations.
func (l *lowering) async(f *spec.Function) {
	a := f.Async
	if a == nil {
		return
	}
	// A released function's async settings are its live alias's.
	_, name, aliasDeps := l.invokeTarget(f.Addr)
	attrs := Attrs{
		"function_name":          name,
		"maximum_retry_attempts": int64(a.Retries),
		"maximum_event_age":      seconds(a.MaxAge),
		"on_failure":             nil,
		"on_success":             nil,
	}
	for _, d := range []struct {
		key, sid string
		to       spec.Addr
	}{{"on_failure", "AsyncOnFailure", a.OnFailure}, {"on_success", "AsyncOnSuccess", a.OnSuccess}} {
		if d.to.IsZero() {
			continue
		}
		arn := l.destinationArn(d.to)
		attrs[d.key] = arn
		l.triggerStmts[f.Addr] = append(l.triggerStmts[f.Addr], iamStatement{Sid: d.sid, Effect: "Allow", Actions: writeActions[d.to.Kind], Resources: []any{arn}})
	}
	// Lambda checks that the role may write to the destinations: the
	// function depends on its policy, so depending on the function suffices.
	l.add(f.Addr, TypeInvokeConfig, "main", attrs, name, name, append([]ResourceAddr{mainAddr(f.Addr, TypeFunction)}, aliasDeps...)...)
}

// destinationArn is an async destination's ARN, derived (a function's too, so
// two functions naming each other as destinations make no cycle).
func (l *lowering) destinationArn(a spec.Addr) string {
	if a.Kind == spec.KindFunction {
		return l.arn("lambda", "function:"+l.blockAttrs[a]["name"].(string))
	}
	return l.blockAttrs[a]["arn"].(string)
}
