package spec

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
)

// Trigger defaults and limits (Lambda event source mappings).
const (
	DefaultQueueBatchSize  = 10
	DefaultStreamBatchSize = 100
	MaxBatchingWindow      = 5 * time.Minute
)

// sourceKinds are the trigger source block types, in a fixed order.
var sourceKinds = []string{"http", "queue", "topic", "s3", "dynamodb", "kinesis", "schedule", "event"}

var triggerSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "function", Required: true}},
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "http"}, {Type: "queue"}, {Type: "topic"}, {Type: "s3"},
		{Type: "dynamodb"}, {Type: "kinesis"}, {Type: "schedule"}, {Type: "event"},
	},
}

var sourceSchemas = map[string]*hcl.BodySchema{
	"http": {Attributes: []hcl.AttributeSchema{{Name: "api", Required: true}, {Name: "route", Required: true}, {Name: "authorizer"}, {Name: "scopes"}}},
	"queue": {Attributes: []hcl.AttributeSchema{
		{Name: "queue", Required: true}, {Name: "batch_size"}, {Name: "batching_window"},
		{Name: "max_concurrency"}, {Name: "report_failures"}, {Name: "enabled"},
	}},
	"topic": {Attributes: []hcl.AttributeSchema{{Name: "topic", Required: true}, {Name: "filter_policy"}}},
	"s3": {Attributes: []hcl.AttributeSchema{
		{Name: "bucket", Required: true}, {Name: "events"}, {Name: "prefix"}, {Name: "suffix"},
	}},
	"dynamodb": {Attributes: streamSourceAttrs("table")},
	"kinesis":  {Attributes: streamSourceAttrs("stream")},
	"schedule": {Attributes: []hcl.AttributeSchema{{Name: "expression", Required: true}, {Name: "input"}, {Name: "enabled"}}},
	"event":    {Attributes: []hcl.AttributeSchema{{Name: "bus"}, {Name: "pattern", Required: true}}},
}

func streamSourceAttrs(ref string) []hcl.AttributeSchema {
	return []hcl.AttributeSchema{
		{Name: ref, Required: true}, {Name: "starting_position"}, {Name: "batch_size"},
		{Name: "batching_window"}, {Name: "max_retry_attempts"}, {Name: "bisect_on_error"},
		{Name: "report_failures"}, {Name: "parallelization_factor"}, {Name: "enabled"},
	}
}

func (d *decoder) trigger(addr Addr, b *hcl.Block) *Trigger {
	c := d.content(b.Body, triggerSchema)
	t := &Trigger{Addr: addr, DeclRange: b.DefRange}
	t.Function, _ = d.blockRef(c.Attributes, "function", KindFunction)
	sb := d.firstSource(b, c.Blocks, "trigger", sourceKinds)
	if sb == nil {
		return t
	}
	d.source(sb, sourceSchemas[sb.Type], t)
	d.extraSources(c.Blocks, "trigger")
	return t
}

// firstSource returns the source block of a trigger or route (what), or
// reports that b has none (kinds are the blocks it may have) and returns
// nil.
func (d *decoder) firstSource(b *hcl.Block, blocks hcl.Blocks, what string, kinds []string) *hcl.Block {
	if len(blocks) == 0 {
		d.errorf(b.DefRange, "Missing "+what+" source",
			"A %s needs exactly one source block: %s.", what, strings.Join(kinds, ", "))
		return nil
	}
	return blocks[0]
}

// extraSources reports every source block after the first: a trigger or
// route has exactly one. Called after the first is decoded, so that its
// diagnostics come first.
func (d *decoder) extraSources(blocks hcl.Blocks, what string) {
	for _, sb := range blocks[1:] {
		d.errorf(sb.DefRange, "Multiple "+what+" sources",
			"A %s has exactly one source; this one already has %s at %s. Declare another %s for this source.", what, blocks[0].Type, blocks[0].DefRange, what)
	}
}

// source decodes one source block into t's matching field; triggers and
// routes share it. It returns the block's attributes for checks of its own.
func (d *decoder) source(sb *hcl.Block, schema *hcl.BodySchema, t *Trigger) hcl.Attributes {
	a := d.content(sb.Body, schema).Attributes
	switch sb.Type {
	case "http":
		s := &HTTPSource{Range: sb.DefRange}
		s.API, _ = d.blockRef(a, "api", KindAPI)
		s.Route = d.str(a, "route", "")
		if attr := a["route"]; attr != nil && s.Route != "" {
			if msg := routeProblem(s.Route); msg != "" {
				d.errorf(attr.Expr.Range(), "Invalid route", "%s", msg)
			}
		}
		s.Authorizer = d.str(a, "authorizer", "")
		if attr := a["authorizer"]; attr != nil {
			s.AuthorizerRange = attr.Expr.Range()
		}
		s.Scopes = d.strList(a, "scopes")
		if attr := a["scopes"]; attr != nil && a["authorizer"] == nil {
			d.errorf(attr.Expr.Range(), "Scopes without an authorizer", "\"scopes\" are checked by a JWT authorizer; add authorizer = \"<jwt block name>\".")
		}
		t.HTTP = s
	case "queue":
		s := &QueueSource{Range: sb.DefRange}
		s.Queue, _ = d.blockRef(a, "queue", KindQueue)
		s.BatchSize = d.integer(a, "batch_size", DefaultQueueBatchSize, 1, 10000, "")
		s.BatchingWindow = d.duration(a, "batching_window", 0, 0, MaxBatchingWindow)
		s.MaxConcurrency = d.integer(a, "max_concurrency", 0, 2, 1000, "")
		s.ReportFailures = d.boolean(a, "report_failures", false)
		s.Enabled = d.boolean(a, "enabled", true)
		t.Queue = s
	case "topic":
		s := &TopicSource{Range: sb.DefRange}
		s.Topic, _ = d.blockRef(a, "topic", KindTopic)
		if attr := a["filter_policy"]; attr != nil {
			if doc, js, ok := d.jsonDoc(attr); ok {
				if err := checkPattern(doc); err != nil {
					d.errorf(attr.Expr.Range(), "Invalid filter policy", "\"filter_policy\": %v.", err)
				} else {
					s.FilterPolicy = js
				}
			}
		}
		t.Topic = s
	case "s3":
		s := &S3Source{Range: sb.DefRange}
		s.Bucket, _ = d.blockRef(a, "bucket", KindBucket)
		s.Prefix = d.str(a, "prefix", "")
		s.Suffix = d.str(a, "suffix", "")
		s.Events = []string{"s3:ObjectCreated:*"}
		if attr := a["events"]; attr != nil {
			s.Events = d.s3Events(attr, d.strList(a, "events"))
		}
		for n, v := range map[string]string{"prefix": s.Prefix, "suffix": s.Suffix} {
			if len(v) > 1024 {
				d.errorf(a[n].Expr.Range(), "Invalid value", "An S3 key %s is at most 1024 characters.", n)
			}
		}
		t.S3 = s
	case "dynamodb":
		s := d.streamSource(a, "table", KindTable, sb.DefRange)
		t.DynamoDB = s
	case "kinesis":
		s := d.streamSource(a, "stream", KindStream, sb.DefRange)
		t.Kinesis = s
	case "schedule":
		s := &ScheduleSource{Range: sb.DefRange}
		s.Expression = d.str(a, "expression", "")
		if attr := a["expression"]; attr != nil && s.Expression != "" {
			if err := CheckScheduleExpression(s.Expression); err != nil {
				d.errorf(attr.Expr.Range(), "Invalid schedule expression", "%v.", err)
			}
		}
		if attr := a["input"]; attr != nil {
			if _, js, ok := d.jsonDoc(attr); ok {
				if len(js) > 8192 {
					d.errorf(attr.Expr.Range(), "Input too large", "EventBridge target input is at most 8192 characters; this is %d.", len(js))
				}
				s.Input = js
			}
		}
		s.Enabled = d.boolean(a, "enabled", true)
		t.Schedule = s
	case "event":
		s := &EventSource{Range: sb.DefRange}
		s.Bus, _ = d.blockRef(a, "bus", KindBus)
		if attr := a["pattern"]; attr != nil {
			if doc, js, ok := d.jsonDoc(attr); ok {
				if err := checkPattern(doc); err != nil {
					d.errorf(attr.Expr.Range(), "Invalid event pattern", "\"pattern\": %v.", err)
				} else if len(js) > 4096 {
					d.errorf(attr.Expr.Range(), "Event pattern too large", "EventBridge accepts patterns up to 4096 characters; this is %d.", len(js))
				} else {
					s.Pattern = js
				}
			}
		}
		t.Event = s
	}
	return a
}

// streamSource decodes a dynamodb or kinesis source.
func (d *decoder) streamSource(a hcl.Attributes, ref, kind string, rng hcl.Range) *StreamSource {
	s := &StreamSource{Range: rng}
	s.Source, _ = d.blockRef(a, ref, kind)
	// LATEST by default: a new trigger sees new records, not the whole backlog
	// (AWS requires the setting; evdeploy chooses the safer default).
	s.StartingPosition = strings.ToUpper(d.enum(a, "starting_position", "latest", []string{"latest", "trim_horizon"}))
	s.BatchSize = d.integer(a, "batch_size", DefaultStreamBatchSize, 1, 10000, "")
	s.BatchingWindow = d.duration(a, "batching_window", 0, 0, MaxBatchingWindow)
	s.MaxRetryAttempts = d.integer(a, "max_retry_attempts", -1, -1, 10000, "")
	s.BisectOnError = d.boolean(a, "bisect_on_error", false)
	s.ReportFailures = d.boolean(a, "report_failures", false)
	s.ParallelizationFactor = d.integer(a, "parallelization_factor", 1, 1, 10, "")
	s.Enabled = d.boolean(a, "enabled", true)
	return s
}

// S3EventNames are the event types S3 notification configurations accept.
var S3EventNames = []string{
	"s3:ObjectCreated:*", "s3:ObjectCreated:Put", "s3:ObjectCreated:Post", "s3:ObjectCreated:Copy",
	"s3:ObjectCreated:CompleteMultipartUpload",
	"s3:ObjectRemoved:*", "s3:ObjectRemoved:Delete", "s3:ObjectRemoved:DeleteMarkerCreated",
	"s3:ObjectRestore:*", "s3:ObjectRestore:Post", "s3:ObjectRestore:Completed", "s3:ObjectRestore:Delete",
	"s3:ReducedRedundancyLostObject",
	"s3:Replication:*", "s3:Replication:OperationFailedReplication", "s3:Replication:OperationNotTracked",
	"s3:Replication:OperationMissedThreshold", "s3:Replication:OperationReplicatedAfterThreshold",
	"s3:LifecycleExpiration:*", "s3:LifecycleExpiration:Delete", "s3:LifecycleExpiration:DeleteMarkerCreated",
	"s3:LifecycleTransition", "s3:IntelligentTiering",
	"s3:ObjectTagging:*", "s3:ObjectTagging:Put", "s3:ObjectTagging:Delete",
	"s3:ObjectAcl:Put",
}

// s3Shorthands are the short event names the spec accepts.
var s3Shorthands = map[string]string{
	"created": "s3:ObjectCreated:*",
	"removed": "s3:ObjectRemoved:*",
}

func (d *decoder) s3Events(attr *hcl.Attribute, names []string) []string {
	if names == nil {
		return nil
	}
	if len(names) == 0 {
		d.errorf(attr.Expr.Range(), "Invalid value", "\"events\" must list at least one event, like [\"created\"].")
		return nil
	}
	var out []string
	seen := map[string]bool{}
	for _, n := range names {
		full := n
		if s, ok := s3Shorthands[n]; ok {
			full = s
		}
		if !contains(S3EventNames, full) {
			d.errorf(attr.Expr.Range(), "Invalid S3 event", "%q is not an S3 event type. Use \"created\", \"removed\" or a full name like \"s3:ObjectCreated:Put\".%s",
				n, suggest(n, append(keys(s3Shorthands), S3EventNames...)))
			continue
		}
		if seen[full] {
			continue
		}
		seen[full] = true
		out = append(out, full)
	}
	return out
}

var (
	routePathSegRE = regexp.MustCompile(`^([A-Za-z0-9._~:@!$&'()*+,;=-]+|\{[A-Za-z_][A-Za-z0-9_-]*\+?\})$`)
	httpMethods    = []string{"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY"}
)

// routeProblem checks an API Gateway HTTP API route key: "$default" or
// "METHOD /path" with {param} segments and at most one greedy {proxy+} at the
// end. It returns "" when the key is valid.
func routeProblem(route string) string {
	if route == "$default" {
		return ""
	}
	method, path, ok := strings.Cut(route, " ")
	if !ok || strings.Contains(path, " ") {
		return fmt.Sprintf("A route is \"METHOD /path\" (one space) or \"$default\"; got %q.", route)
	}
	if !contains(httpMethods, method) {
		return fmt.Sprintf("%q is not a method API Gateway routes; use %s.%s", method, quoteList(httpMethods), suggest(strings.ToUpper(method), httpMethods))
	}
	if !strings.HasPrefix(path, "/") {
		return fmt.Sprintf("The route path must start with \"/\"; got %q.", path)
	}
	if path == "/" {
		return ""
	}
	segs := strings.Split(strings.TrimPrefix(path, "/"), "/")
	params := map[string]bool{}
	for i, seg := range segs {
		if seg == "" {
			return fmt.Sprintf("The route path %q has an empty segment.", path)
		}
		if !routePathSegRE.MatchString(seg) {
			return fmt.Sprintf("Route segment %q is not valid: use letters, digits and - . _ ~, or a parameter like {id} or {proxy+}.", seg)
		}
		if strings.HasPrefix(seg, "{") {
			name := strings.TrimSuffix(strings.Trim(seg, "{}"), "+")
			if params[name] {
				return fmt.Sprintf("Path parameter {%s} appears twice in %q.", name, path)
			}
			params[name] = true
			if strings.HasSuffix(seg, "+}") && i != len(segs)-1 {
				return fmt.Sprintf("A greedy parameter like %s must be the last segment of the path.", seg)
			}
		}
	}
	return ""
}
