package flow

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/evdeploy/evdeploy/spec"
)

// Role is a node's place in the flow, and the order of the columns.
type Role int

const (
	Producer Role = iota // emits events: api, bucket, schedule, table (its stream)
	Router               // carries events on: topic, bus, queue, stream
	Consumer             // runs code: function
)

func (r Role) String() string {
	return [...]string{"producers", "routers", "consumers"}[r]
}

// EdgeKind says what an edge stands for; each is drawn differently.
type EdgeKind int

const (
	Trigger EdgeKind = iota // a trigger block: the source runs the function
	Route                   // a route block or a dead-letter redrive: router to router
	Async                   // a function's asynchronous-invocation destination
	Grant                   // a `uses` grant: the function may write/publish to the target
)

func (k EdgeKind) String() string {
	return [...]string{"trigger", "route", "async", "grant"}[k]
}

// Node is one block of the app (or a schedule, which has no block of its own
// but is a producer in the picture).
type Node struct {
	ID     string // the address: function.api, queue.orders, schedule.nightly
	Kind   string // function, queue, topic, bus, bucket, table, stream, api, schedule
	Name   string
	Role   Role
	Detail string // a short second line: runtime, "FIFO", a schedule's expression
	// Rank is the node's column, left to right: producers first, each
	// event's destination right of its source.
	Rank int
}

// Edge is one labelled connection. From and To are node IDs.
type Edge struct {
	From, To string
	Kind     EdgeKind
	Label    string // route key, filter, schedule, capability…
	Via      string // the block that makes it: trigger.http, route.x, function.api
}

// Graph is the app's event flow. Nodes are sorted by rank then ID, edges by
// kind then from/to; both orders are stable so drawings are reproducible.
type Graph struct {
	App   string
	Nodes []*Node
	Edges []*Edge

	byID map[string]*Node
}

// Node returns the node with id, or nil.
func (g *Graph) Node(id string) *Node { return g.byID[id] }

var roles = map[string]Role{
	spec.KindAPI: Producer, spec.KindBucket: Producer, "schedule": Producer, spec.KindTable: Producer, spec.KindSecret: Producer,
	spec.KindTopic: Router, spec.KindBus: Router, spec.KindQueue: Router, spec.KindStream: Router,
	spec.KindFunction: Consumer,
}

func (g *Graph) add(kind, name, detail string) *Node {
	id := kind + "." + name
	if n := g.byID[id]; n != nil {
		return n
	}
	n := &Node{ID: id, Kind: kind, Name: name, Role: roles[kind], Detail: detail}
	g.byID[id] = n
	g.Nodes = append(g.Nodes, n)
	return n
}

func (g *Graph) edge(from, to string, kind EdgeKind, label, via string) {
	g.Edges = append(g.Edges, &Edge{From: from, To: to, Kind: kind, Label: label, Via: via})
}

// FromApp builds the event flow of a validated app.
func FromApp(app *spec.App) *Graph {
	g := &Graph{App: app.Name, byID: map[string]*Node{}}
	for _, a := range app.APIs {
		g.add(a.Addr.Kind, a.Addr.Name, "HTTP API")
	}
	for _, b := range app.Buckets {
		g.add(b.Addr.Kind, b.Addr.Name, "S3")
	}
	for _, t := range app.Tables {
		d := "DynamoDB"
		if t.StreamView != "" {
			d += " + stream"
		}
		g.add(t.Addr.Kind, t.Addr.Name, d)
	}
	for _, t := range app.Topics {
		g.add(t.Addr.Kind, t.Addr.Name, fifo("SNS", t.FIFO))
	}
	for _, b := range app.Buses {
		g.add(b.Addr.Kind, b.Addr.Name, "EventBridge")
	}
	for _, q := range app.Queues {
		g.add(q.Addr.Kind, q.Addr.Name, fifo("SQS", q.FIFO))
		if q.DeadLetter != nil {
			dlq := g.add(spec.KindQueue, q.Addr.Name+"-dlq", fifo("SQS dead letters", q.FIFO))
			g.edge(q.Addr.String(), dlq.ID, Route, fmt.Sprintf("after %d receives", q.DeadLetter.MaxReceives), q.Addr.String())
		}
	}
	for _, s := range app.Streams {
		d := "Kinesis"
		if s.Shards > 0 {
			d += fmt.Sprintf(", %d shards", s.Shards)
		}
		g.add(s.Addr.Kind, s.Addr.Name, d)
	}
	for _, s := range app.Secrets {
		d := "SSM SecureString"
		if s.Store == spec.StoreSecretsManager {
			d = "Secrets Manager"
		}
		g.add(s.Addr.Kind, s.Addr.Name, d)
	}
	for _, f := range app.Functions {
		g.add(f.Addr.Kind, f.Addr.Name, f.Runtime)
	}
	for _, t := range app.Triggers {
		g.source(t.Addr, t.Function.String(), Trigger, sourceOf(t))
	}
	for _, r := range app.Routes {
		g.source(r.Addr, r.To.String(), Route, Source{Topic: r.Topic, S3: r.S3, Schedule: r.Schedule, Event: r.Event, Pipe: r.Pipe})
	}
	for _, f := range app.Functions {
		if f.Async == nil {
			continue
		}
		if !f.Async.OnFailure.IsZero() {
			g.edge(f.Addr.String(), f.Async.OnFailure.String(), Async, fmt.Sprintf("on failure, %d retries", f.Async.Retries), f.Addr.String())
		}
		if !f.Async.OnSuccess.IsZero() {
			g.edge(f.Addr.String(), f.Async.OnSuccess.String(), Async, "on success", f.Addr.String())
		}
	}
	for _, f := range app.Functions {
		for _, c := range f.Uses {
			g.edge(f.Addr.String(), c.Target.String(), Grant, c.Name, f.Addr.String())
		}
	}
	g.finish()
	return g
}

func fifo(s string, on bool) string {
	if on {
		return s + " FIFO"
	}
	return s
}

// Source is the part of a trigger (or route) that says where events come
// from. Routes share the trigger's source blocks, so both become edges the
// same way.
type Source struct {
	HTTP     *spec.HTTPSource
	Queue    *spec.QueueSource
	Topic    *spec.TopicSource
	S3       *spec.S3Source
	DynamoDB *spec.StreamSource
	Kinesis  *spec.StreamSource
	Schedule *spec.ScheduleSource
	Event    *spec.EventSource
	Pipe     *spec.PipeSource // routes only: a polled source through EventBridge Pipes
}

func sourceOf(t *spec.Trigger) Source {
	return Source{HTTP: t.HTTP, Queue: t.Queue, Topic: t.Topic, S3: t.S3, DynamoDB: t.DynamoDB,
		Kinesis: t.Kinesis, Schedule: t.Schedule, Event: t.Event}
}

// source adds the edge from a trigger's or route's source to its
// destination `to`, labelled with what selects the events.
func (g *Graph) source(via spec.Addr, to string, kind EdgeKind, s Source) {
	switch {
	case s.HTTP != nil:
		g.edge(s.HTTP.API.String(), to, kind, s.HTTP.Route, via.String())
	case s.Queue != nil:
		g.edge(s.Queue.Queue.String(), to, kind, fmt.Sprintf("batch %d", s.Queue.BatchSize), via.String())
	case s.Topic != nil:
		g.edge(s.Topic.Topic.String(), to, kind, filterLabel(s.Topic.FilterPolicy), via.String())
	case s.S3 != nil:
		g.edge(s.S3.Bucket.String(), to, kind, s3Label(s.S3), via.String())
	case s.DynamoDB != nil:
		g.edge(s.DynamoDB.Source.String(), to, kind, "stream, "+strings.ToLower(s.DynamoDB.StartingPosition), via.String())
	case s.Kinesis != nil:
		g.edge(s.Kinesis.Source.String(), to, kind, fmt.Sprintf("%s, batch %d", strings.ToLower(s.Kinesis.StartingPosition), s.Kinesis.BatchSize), via.String())
	case s.Schedule != nil:
		n := g.add("schedule", via.Name, s.Schedule.Expression)
		g.edge(n.ID, to, kind, s.Schedule.Expression, via.String())
	case s.Pipe != nil:
		l := "pipe"
		if s.Pipe.Filter != "" {
			l += " " + filterLabel(s.Pipe.Filter)
		}
		g.edge(s.Pipe.Source.String(), to, kind, l, via.String())
	case s.Event != nil:
		bus := s.Event.Bus
		if bus.IsZero() {
			bus = g.add(spec.KindBus, "default", "account default bus").addr()
		}
		g.edge(bus.String(), to, kind, filterLabel(s.Event.Pattern), via.String())
	}
}

func (n *Node) addr() spec.Addr { return spec.Addr{Kind: n.Kind, Name: n.Name} }

// s3Label is "created in/*.jpg": the events without their s3: prefix, and
// the key filter.
func s3Label(s *spec.S3Source) string {
	var ev []string
	for _, e := range s.Events {
		e = strings.TrimPrefix(e, "s3:")
		switch e {
		case "ObjectCreated:*":
			e = "created"
		case "ObjectRemoved:*":
			e = "removed"
		}
		ev = append(ev, e)
	}
	l := strings.Join(ev, ",")
	if s.Prefix != "" || s.Suffix != "" {
		l += " " + s.Prefix + "*" + s.Suffix
	}
	return l
}

// filterLabel shortens a filter policy or event pattern to one line:
// {"detail-type":["OrderPlaced"],"source":["shop.orders"]} becomes
// detail-type=OrderPlaced source=shop.orders.
func filterLabel(js string) string {
	if js == "" {
		return ""
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(js), &m); err != nil {
		return js
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		v := m[k]
		if l, ok := v.([]any); ok {
			var s []string
			for _, x := range l {
				if str, ok := x.(string); ok {
					s = append(s, str)
				} else {
					b, _ := json.Marshal(x)
					s = append(s, string(b))
				}
			}
			parts = append(parts, k+"="+strings.Join(s, "|"))
			continue
		}
		b, _ := json.Marshal(v)
		parts = append(parts, k+"="+string(b))
	}
	l := strings.Join(parts, " ")
	if len(l) > 48 {
		l = l[:47] + "…"
	}
	return l
}

// finish ranks the nodes and sorts nodes and edges.
func (g *Graph) finish() {
	// A node's rank is its role's column, pushed right of every source of
	// events it receives (longest path over trigger, route and async edges;
	// grants point back at routers and would make cycles). Bounded passes
	// keep a cycle of routes from looping forever.
	for _, n := range g.Nodes {
		n.Rank = int(n.Role)
		if n.Role == Consumer {
			n.Rank = 2
		}
	}
	for range len(g.Nodes) + 1 {
		changed := false
		for _, e := range g.Edges {
			if e.Kind == Grant {
				continue
			}
			from, to := g.byID[e.From], g.byID[e.To]
			if from == nil || to == nil {
				continue
			}
			if to.Rank < from.Rank+1 {
				to.Rank = from.Rank + 1
				changed = true
			}
		}
		if !changed {
			break
		}
	}
	sort.SliceStable(g.Nodes, func(i, j int) bool {
		a, b := g.Nodes[i], g.Nodes[j]
		if a.Rank != b.Rank {
			return a.Rank < b.Rank
		}
		return a.ID < b.ID
	})
	sort.SliceStable(g.Edges, func(i, j int) bool {
		a, b := g.Edges[i], g.Edges[j]
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		if a.From != b.From {
			return a.From < b.From
		}
		return a.To < b.To
	})
}

// Columns returns the nodes by rank, left to right.
func (g *Graph) Columns() [][]*Node {
	var cols [][]*Node
	for _, n := range g.Nodes {
		for len(cols) <= n.Rank {
			cols = append(cols, nil)
		}
		cols[n.Rank] = append(cols[n.Rank], n)
	}
	// Drop empty columns (a rank nothing landed on).
	out := cols[:0]
	for _, c := range cols {
		if len(c) > 0 {
			out = append(out, c)
		}
	}
	return out
}

// ColumnTitle names a column by the roles in it.
func ColumnTitle(col []*Node) string {
	seen := map[Role]bool{}
	for _, n := range col {
		seen[n.Role] = true
	}
	var t []string
	for _, r := range []Role{Producer, Router, Consumer} {
		if seen[r] {
			t = append(t, r.String())
		}
	}
	return strings.Join(t, " & ")
}
