package planner

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/evdeploy/evdeploy/spec"
)

func (l *lowering) queue(q *spec.Queue) {
	if l.existing(q.Addr, q.Existing) {
		return
	}
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
	if l.existing(t.Addr, t.Existing) {
		return
	}
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
	if l.existing(b.Addr, b.Existing) {
		return
	}
	name := l.name(ruleBus, b.Addr, b.PhysicalName, "")
	l.add(b.Addr, TypeBus, "main", Attrs{"name": name, "tags": l.tags(b.Addr, b.Tags)}, name, name)
	l.blockAttrs[b.Addr] = map[string]any{"name": name, "arn": l.arn("events", "event-bus/"+name)}
	l.archive(b, name)
}

func (l *lowering) bucket(b *spec.Bucket) {
	if l.existing(b.Addr, b.Existing) {
		return
	}
	name := b.PhysicalName
	if name == "" {
		name = bucketName(l.app.Name, l.app.Stage, b.Addr.Name, l.opts.Account, l.opts.Region)
	}
	// versioning and lifecycle_rules are set when off too, so removing
	// them from the spec suspends versioning and deletes the rules.
	rules := map[string]any{}
	for _, r := range b.Lifecycle {
		rules[r.Name] = map[string]any{"prefix": r.Prefix, "expire_days": int64(r.ExpireAfter / (24 * time.Hour))}
	}
	l.add(b.Addr, TypeBucket, "main", Attrs{
		"name": name, "block_public_access": true, "tags": l.tags(b.Addr, b.Tags),
		"versioning": b.Versioning, "lifecycle_rules": rules,
	}, name, name)
	l.blockAttrs[b.Addr] = map[string]any{"name": name, "arn": fmt.Sprintf("arn:%s:s3:::%s", l.opts.Partition, name)}
}

func (l *lowering) table(t *spec.Table) {
	if l.existing(t.Addr, t.Existing) {
		return
	}
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
	// Set even when empty or off, so removing an index or the recovery
	// setting from the spec removes it from AWS.
	attrs["indexes"] = tableIndexes(t.Indexes)
	attrs["point_in_time_recovery"] = t.PointInTimeRecovery
	addr := l.add(t.Addr, TypeTable, "main", attrs, name, name)
	l.blockAttrs[t.Addr] = map[string]any{
		"name":       name,
		"arn":        l.arn("dynamodb", "table/"+name),
		"stream_arn": Ref{Resource: addr, Attr: "stream_arn"},
	}
}

// tableIndexes is the aws_dynamodb_table `indexes` attribute: index name →
// its key schema and projection, in the shape the table handler reads back.
func tableIndexes(xs []*spec.TableIndex) map[string]any {
	out := map[string]any{}
	for _, x := range xs {
		m := map[string]any{"hash_key": x.HashKey, "hash_key_type": x.HashKeyType, "projection": x.Projection}
		if x.RangeKey != "" {
			m["range_key"], m["range_key_type"] = x.RangeKey, x.RangeKeyType
		}
		if x.Projection == "INCLUDE" {
			// DynamoDB keeps no order for projected attributes.
			m["non_key_attributes"] = Norm(slices.Sorted(slices.Values(x.NonKeyAttributes)))
		}
		out[x.Name] = m
	}
	return out
}

// corsAttr is the API's cors attribute: null without a cors block (so
// removing it removes the configuration), else its settings with empty lists
// left out, as API Gateway reports them.
func corsAttr(c *spec.CORS) any {
	if c == nil {
		return nil
	}
	m := map[string]any{"allow_credentials": c.AllowCredentials, "max_age": int64(c.MaxAge / time.Second)}
	for k, l := range map[string][]string{
		"allow_origins": c.AllowOrigins, "allow_methods": c.AllowMethods,
		"allow_headers": c.AllowHeaders, "expose_headers": c.ExposeHeaders,
	} {
		if len(l) > 0 {
			m[k] = Norm(slices.Sorted(slices.Values(l)))
		}
	}
	return m
}

// authorizerAddr is the resource of an api's jwt block.
func authorizerAddr(api spec.Addr, name string) ResourceAddr {
	return ResourceAddr{Block: api.String(), Type: TypeAuthorizer, Name: name}
}

func (l *lowering) stream(s *spec.Stream) {
	if l.existing(s.Addr, s.Existing) {
		return
	}
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
	addr := l.add(a.Addr, TypeAPI, "main", Attrs{"name": name, "protocol_type": "HTTP", "tags": l.tags(a.Addr, a.Tags), "cors": corsAttr(a.CORS)}, name, "")
	id := Ref{Resource: addr, Attr: "id"}
	for _, j := range a.JWT {
		l.add(a.Addr, TypeAuthorizer, j.Name, Attrs{
			"api_id": id, "name": j.Name, "authorizer_type": "JWT", "identity_source": j.IdentitySource,
			"issuer": j.Issuer, "audience": Norm(slices.Sorted(slices.Values(j.Audience))),
		}, j.Name, "")
	}
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
