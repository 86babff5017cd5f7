package planner

import (
	"fmt"
	"slices"
	"strings"

	"github.com/evdeploy/evdeploy/spec"
)

func (l *lowering) trigger(t *spec.Trigger) {
	fnName := l.blockAttrs[t.Function]["name"].(string)
	// A released function is reached through its live alias (lower_release.go).
	fnArn, invokeName, aliasDeps := l.invokeTarget(t.Function)
	fnMain := mainAddr(t.Function, TypeFunction)
	policy := mainAddr(t.Function, TypeRolePolicy)
	stmtID := ruleStmt.fit("evdeploy-"+t.Addr.Name, "")

	permission := func(principal string, sourceArn any, extra Attrs) ResourceAddr {
		attrs := Attrs{
			"function_name": invokeName,
			"statement_id":  stmtID,
			"action":        "lambda:InvokeFunction",
			"principal":     principal,
			"source_arn":    sourceArn,
		}
		for k, v := range extra {
			attrs[k] = v
		}
		return l.add(t.Addr, TypePermission, "main", attrs, invokeName+"/"+stmtID, invokeName+"/"+stmtID, append([]ResourceAddr{fnMain}, aliasDeps...)...)
	}
	mapping := func(source spec.Addr, sourceArn any, attrs Attrs) {
		attrs["function_name"] = invokeName
		attrs["event_source_arn"] = sourceArn
		// The role must be able to read the source before the mapping is
		// created: depend on the policy, not only the function.
		// The source must exist too; its ARN is often derived, so no Ref
		// says so.
		srcType := map[string]string{spec.KindQueue: TypeQueue, spec.KindStream: TypeStream, spec.KindTable: TypeTable}[source.Kind]
		l.add(t.Addr, TypeMapping, "main", attrs, fnName+"@"+t.Addr.String(), "", append([]ResourceAddr{fnMain, policy, mainAddr(source, srcType)}, aliasDeps...)...)
	}

	switch {
	case t.HTTP != nil:
		api := l.blockAttrs[t.HTTP.API]
		integ := l.add(t.Addr, TypeIntegration, "main", Attrs{
			"api_id":                 api["id"],
			"integration_type":       "AWS_PROXY",
			"integration_uri":        fnArn,
			"payload_format_version": "2.0",
		}, "", "", aliasDeps...)
		integID := Ref{Resource: integ, Attr: "integration_id"}
		routeAttrs := Attrs{
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
		}
		var routeDeps []ResourceAddr
		// Set when off too, so removing the authorizer from the trigger
		// opens the route again.
		routeAttrs["authorization_type"], routeAttrs["authorizer_id"], routeAttrs["authorization_scopes"] = "NONE", nil, nil
		if t.HTTP.Authorizer != "" {
			auth := authorizerAddr(t.HTTP.API, t.HTTP.Authorizer)
			routeAttrs["authorization_type"] = "JWT"
			routeAttrs["authorizer_id"] = Ref{Resource: auth, Attr: "authorizer_id"}
			if len(t.HTTP.Scopes) > 0 {
				routeAttrs["authorization_scopes"] = Norm(slices.Sorted(slices.Values(t.HTTP.Scopes)))
			}
			routeDeps = append(routeDeps, auth)
		}
		l.add(t.Addr, TypeRoute, "main", routeAttrs, t.HTTP.Route, "", routeDeps...)
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
		l.add(t.Addr, TypeSubscription, "main", attrs, "", "", append([]ResourceAddr{perm, mainAddr(t.Topic.Topic, TypeTopic)}, aliasDeps...)...)

	case t.S3 != nil:
		b := l.blockAttrs[t.S3.Bucket]
		permission("s3.amazonaws.com", b["arn"], Attrs{"source_account": l.opts.Account})
		// The notification document is per bucket; notifications() gathers
		// every S3 trigger of a bucket into it.

	case t.Schedule != nil || t.Event != nil:
		rule, busName, ruleName := l.rule(t.Addr, t.Schedule, t.Event)
		perm := permission("events.amazonaws.com", Ref{Resource: rule, Attr: "arn"}, nil)
		targetID := ruleTargetID.fit("evdeploy-"+t.Function.Name, "")
		target := Attrs{"bus": busName, "rule": ruleName, "target_id": targetID, "arn": fnArn, "input": nil}
		if t.Schedule != nil && t.Schedule.Input != "" {
			target["input"] = t.Schedule.Input
		}
		id := busName + "/" + ruleName + "/" + targetID
		l.add(t.Addr, TypeTarget, "main", target, id, id, append([]ResourceAddr{rule, perm}, aliasDeps...)...)
	}
}

// rule adds the EventBridge rule of a schedule or event source (a trigger's
// or a route's): on the default bus, or on the event's custom bus.
func (l *lowering) rule(block spec.Addr, sched *spec.ScheduleSource, ev *spec.EventSource) (rule ResourceAddr, busName, ruleName string) {
	ruleName = physicalName(ruleRule, l.app.Name, l.app.Stage, block.Name, routeSuffix(block))
	busName = "default"
	attrs := Attrs{"name": ruleName, "state": "ENABLED", "description": "evdeploy: " + block.String(), "tags": l.tags(block, nil)}
	var deps []ResourceAddr
	if sched != nil {
		attrs["schedule_expression"] = sched.Expression
		if !sched.Enabled {
			attrs["state"] = "DISABLED"
		}
	} else {
		attrs["event_pattern"] = ev.Pattern
		if !ev.Bus.IsZero() {
			busName = l.blockAttrs[ev.Bus]["name"].(string)
			deps = append(deps, mainAddr(ev.Bus, TypeBus))
		}
	}
	attrs["bus"] = busName
	rule = l.add(block, TypeRule, "main", attrs, busName+"/"+ruleName, busName+"/"+ruleName, deps...)
	return rule, busName, ruleName
}

// notifications gathers every S3 trigger and route of a bucket into the
// bucket's single notification document, written after each trigger's
// permission and each route's queue or topic policy exist (S3 validates that
// it may deliver).
func (l *lowering) notifications() {
	type entries struct {
		lambda, queue, topic []any
		deps                 []ResourceAddr
		srcs                 []notificationEntry
	}
	byBucket := map[spec.Addr]*entries{}
	get := func(b spec.Addr) *entries {
		if byBucket[b] == nil {
			byBucket[b] = &entries{}
		}
		return byBucket[b]
	}
	config := func(block spec.Addr, s *spec.S3Source, key string, arn any) map[string]any {
		events := make([]any, len(s.Events))
		for i, e := range s.Events {
			events[i] = e
		}
		c := map[string]any{
			"id":     ruleStmt.fit("evdeploy-"+l.app.Name+"-"+l.app.Stage+"-"+block.Name, routeSuffix(block)),
			key:      arn,
			"events": events,
		}
		if s.Prefix != "" {
			c["prefix"] = s.Prefix
		}
		if s.Suffix != "" {
			c["suffix"] = s.Suffix
		}
		return c
	}
	for _, t := range l.app.Triggers {
		if t.S3 != nil {
			e := get(t.S3.Bucket)
			arn, _, aliasDeps := l.invokeTarget(t.Function)
			e.lambda = append(e.lambda, config(t.Addr, t.S3, "function_arn", arn))
			e.srcs = append(e.srcs, notificationEntry{t.Addr, t.S3})
			e.deps = append(append(e.deps, mainAddr(t.Addr, TypePermission)), aliasDeps...)
		}
	}
	for _, r := range l.app.Routes {
		if r.S3 == nil {
			continue
		}
		e := get(r.S3.Bucket)
		e.srcs = append(e.srcs, notificationEntry{r.Addr, r.S3})
		arn := l.blockAttrs[r.To]["arn"]
		if r.To.Kind == spec.KindTopic {
			e.topic = append(e.topic, config(r.Addr, r.S3, "topic_arn", arn))
		} else {
			e.queue = append(e.queue, config(r.Addr, r.S3, "queue_arn", arn))
		}
		e.deps = append(e.deps, l.policyAddr(r.To))
	}
	for bucket, e := range byBucket {
		name := l.blockAttrs[bucket]["name"].(string)
		// Every kind is set, nil when empty, so removing the last entry of
		// a kind is a change.
		// A bucket made elsewhere shares its document: evdeploy merges its
		// entries in by id and checks them against everyone else's.
		owned := !l.existingBlocks[bucket]
		if !owned {
			l.notificationConflicts(bucket, e.srcs)
		}
		attrs := Attrs{"bucket": name, "owned": owned, "lambda": nilIfEmpty(e.lambda), "queue": nilIfEmpty(e.queue), "topic": nilIfEmpty(e.topic)}
		l.add(bucket, TypeNotification, "main", attrs, name, name, append(e.deps, mainAddr(bucket, TypeBucket))...)
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

func nilIfEmpty(l []any) any {
	if len(l) == 0 {
		return nil
	}
	return l
}
