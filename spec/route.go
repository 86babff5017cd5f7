package spec

import (
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
)

// Route is a `route` block: when its source emits an event, deliver it to the
// router To (a queue, topic, bus or stream) instead of running a function.
// Exactly one source is non-nil.
type Route struct {
	Addr      Addr
	DeclRange hcl.Range
	To        Addr
	ToRange   hcl.Range

	// MessageGroup is the SQS message group of deliveries to a FIFO queue from
	// a rule, a schedule or a pipe; "" otherwise.
	MessageGroup string

	Topic    *TopicSource // to a queue: an SNS subscription
	S3       *S3Source    // to a queue or topic: an entry in the bucket's notification
	Schedule *ScheduleSource
	Event    *EventSource
	Pipe     *PipeSource // queue, kinesis or dynamodb source: an EventBridge pipe
}

// PipeSource is a route's polled source (an SQS queue, a Kinesis stream or a
// DynamoDB table's stream), delivered through EventBridge Pipes.
type PipeSource struct {
	Kind             string // queue, kinesis or dynamodb: the block type as written
	Source           Addr   // the queue, stream or table
	BatchSize        int
	StartingPosition string // streams: LATEST or TRIM_HORIZON; "" for a queue
	Filter           string // canonical JSON event pattern, "" when absent
	Range            hcl.Range
}

// SourceKind names the route's source block: topic, s3, schedule, event,
// queue, kinesis or dynamodb.
func (r *Route) SourceKind() string {
	switch {
	case r.Topic != nil:
		return "topic"
	case r.S3 != nil:
		return "s3"
	case r.Schedule != nil:
		return "schedule"
	case r.Event != nil:
		return "event"
	case r.Pipe != nil:
		return r.Pipe.Kind
	}
	return ""
}

// SourceAddr is the block the route's events come from; zero for a schedule
// and for an event rule on the default bus.
func (r *Route) SourceAddr() Addr {
	switch {
	case r.Topic != nil:
		return r.Topic.Topic
	case r.S3 != nil:
		return r.S3.Bucket
	case r.Event != nil:
		return r.Event.Bus
	case r.Pipe != nil:
		return r.Pipe.Source
	}
	return Addr{}
}

// RouteTargets lists, per route source, the kinds of router AWS can deliver it
// to: SNS subscribes queues; S3 notifies queues and topics; EventBridge rules
// and schedules target all four; queues and streams reach all four through
// EventBridge Pipes.
var RouteTargets = map[string][]string{
	"topic":    {KindQueue},
	"s3":       {KindQueue, KindTopic},
	"event":    {KindQueue, KindTopic, KindStream, KindBus},
	"schedule": {KindQueue, KindTopic, KindStream, KindBus},
	"queue":    {KindBus, KindQueue, KindTopic, KindStream},
	"kinesis":  {KindBus, KindQueue, KindTopic, KindStream},
	"dynamodb": {KindBus, KindQueue, KindTopic, KindStream},
}

// routeTargetKinds are the kinds `to` may name.
var routeTargetKinds = []string{KindQueue, KindTopic, KindBus, KindStream}

// Pipe batch limits (EventBridge Pipes source parameters).
const (
	DefaultPipeQueueBatchSize  = 10
	DefaultPipeStreamBatchSize = 100
)

var routeSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "to", Required: true}, {Name: "message_group"}},
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "http"}, {Type: "queue"}, {Type: "topic"}, {Type: "s3"},
		{Type: "dynamodb"}, {Type: "kinesis"}, {Type: "schedule"}, {Type: "event"},
	},
}

var routeSourceSchemas = map[string]*hcl.BodySchema{
	"http": sourceSchemas["http"],
	"topic": {Attributes: []hcl.AttributeSchema{
		{Name: "topic", Required: true}, {Name: "filter_policy"}, {Name: "raw_delivery"},
	}},
	"s3":       sourceSchemas["s3"],
	"schedule": sourceSchemas["schedule"],
	"event":    sourceSchemas["event"],
	"queue":    {Attributes: []hcl.AttributeSchema{{Name: "queue", Required: true}, {Name: "batch_size"}, {Name: "filter"}}},
	"kinesis":  {Attributes: pipeStreamAttrs("stream")},
	"dynamodb": {Attributes: pipeStreamAttrs("table")},
}

func pipeStreamAttrs(ref string) []hcl.AttributeSchema {
	return []hcl.AttributeSchema{{Name: ref, Required: true}, {Name: "starting_position"}, {Name: "batch_size"}, {Name: "filter"}}
}

// routeSourceKinds are the source blocks a route accepts, for messages.
var routeSourceKinds = []string{"topic", "s3", "event", "schedule", "queue", "kinesis", "dynamodb"}

func (d *decoder) route(addr Addr, b *hcl.Block) *Route {
	c := d.content(b.Body, routeSchema)
	r := &Route{Addr: addr, DeclRange: b.DefRange}
	var toAttr *hcl.Attribute
	r.To, toAttr = d.anyRef(c.Attributes, "to", routeTargetKinds)
	if toAttr != nil {
		r.ToRange = toAttr.Expr.Range()
	}
	r.MessageGroup = d.str(c.Attributes, "message_group", "")
	if attr := c.Attributes["message_group"]; attr != nil && (r.MessageGroup == "" || len(r.MessageGroup) > 128) {
		d.errorf(attr.Expr.Range(), "Invalid value", "\"message_group\" is an SQS message group id: 1 to 128 characters.")
	}
	sb := d.firstSource(b, c.Blocks, "route", routeSourceKinds)
	if sb == nil {
		return r
	}
	switch sb.Type {
	case "queue", "kinesis", "dynamodb":
		r.Pipe = d.pipeSource(sb)
	case "http":
		d.content(sb.Body, routeSourceSchemas["http"])
		d.errorf(sb.DefRange, "Route not allowed",
			"An http source cannot feed a route: API Gateway invokes functions. %s sends HTTP requests to %s; use a trigger with a function that forwards them.", addr, describeAddr(r.To))
	default:
		t := &Trigger{}
		a := d.source(sb, routeSourceSchemas[sb.Type], t)
		r.Topic, r.S3, r.Schedule, r.Event = t.Topic, t.S3, t.Schedule, t.Event
		if r.Topic != nil {
			r.Topic.RawDelivery = d.boolean(a, "raw_delivery", false)
		}
	}
	d.extraSources(c.Blocks, "route")
	return r
}

func describeAddr(a Addr) string {
	if a.IsZero() {
		return "its target"
	}
	return a.String()
}

// pipeSource decodes a route's queue, kinesis or dynamodb block.
func (d *decoder) pipeSource(sb *hcl.Block) *PipeSource {
	a := d.content(sb.Body, routeSourceSchemas[sb.Type]).Attributes
	p := &PipeSource{Kind: sb.Type, Range: sb.DefRange}
	switch sb.Type {
	case "queue":
		p.Source, _ = d.blockRef(a, "queue", KindQueue)
		p.BatchSize = d.integer(a, "batch_size", DefaultPipeQueueBatchSize, 1, 10000, "")
	case "kinesis", "dynamodb":
		ref, kind := "stream", KindStream
		if sb.Type == "dynamodb" {
			ref, kind = "table", KindTable
		}
		p.Source, _ = d.blockRef(a, ref, kind)
		p.StartingPosition = strings.ToUpper(d.enum(a, "starting_position", "latest", []string{"latest", "trim_horizon"}))
		p.BatchSize = d.integer(a, "batch_size", DefaultPipeStreamBatchSize, 1, 10000, "")
	}
	if attr := a["filter"]; attr != nil {
		if doc, js, ok := d.jsonDoc(attr); ok {
			if err := checkPattern(doc); err != nil {
				d.errorf(attr.Expr.Range(), "Invalid filter", "\"filter\": %v.", err)
			} else if len(js) > 4096 {
				d.errorf(attr.Expr.Range(), "Filter too large", "EventBridge Pipes accepts filter patterns up to 4096 characters; this is %d.", len(js))
			} else {
				p.Filter = js
			}
		}
	}
	return p
}

// anyRef decodes an attribute naming a block of one of kinds, like
// `to = queue.shipping`.
func (d *decoder) anyRef(attrs hcl.Attributes, name string, kinds []string) (Addr, *hcl.Attribute) {
	attr := attrs[name]
	if attr == nil {
		return Addr{}, nil
	}
	tr, diags := hcl.AbsTraversalForExpr(attr.Expr)
	if !diags.HasErrors() && len(tr) == 2 {
		root := tr.RootName()
		if contains(kinds, root) {
			return d.blockRef(attrs, name, root)
		}
		if target, _, ok := step(tr, 1); ok && (RefAttrs[root] != nil || root == KindTrigger || root == KindOutput || root == KindRoute) {
			d.errorf(attr.Expr.Range(), "Wrong kind of reference",
				"%q must refer to %s, but %s.%s is %s %s.", name, kindList(kinds), root, target, article(root), root)
			return Addr{}, attr
		}
	}
	addr, a := d.blockRef(attrs, name, kinds[0])
	return addr, a
}

// kindList is "a queue, topic, bus or stream".
func kindList(kinds []string) string {
	if len(kinds) == 1 {
		return article(kinds[0]) + " " + kinds[0]
	}
	return article(kinds[0]) + " " + strings.Join(kinds[:len(kinds)-1], ", ") + " or " + kinds[len(kinds)-1]
}

var asyncSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "retries"}, {Name: "max_age"}, {Name: "on_failure"}, {Name: "on_success"}},
}

// Async limits (Lambda's PutFunctionEventInvokeConfig).
const (
	DefaultAsyncRetries = 2
	MinAsyncMaxAge      = time.Minute
	MaxAsyncMaxAge      = 6 * time.Hour
)

// asyncDestinationKinds are what on_failure and on_success may name.
var asyncDestinationKinds = []string{KindQueue, KindTopic, KindBus, KindFunction}

func (d *decoder) async(b *hcl.Block) *Async {
	a := d.content(b.Body, asyncSchema).Attributes
	as := &Async{
		Retries: d.integer(a, "retries", DefaultAsyncRetries, 0, 2, ""),
		MaxAge:  d.duration(a, "max_age", MaxAsyncMaxAge, MinAsyncMaxAge, MaxAsyncMaxAge),
		Range:   b.DefRange,
	}
	as.OnFailure, _ = d.anyRef(a, "on_failure", asyncDestinationKinds)
	as.OnSuccess, _ = d.anyRef(a, "on_success", asyncDestinationKinds)
	return as
}
