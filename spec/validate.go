package spec

import (
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// validate runs the checks that need more than one block: reference cycles,
// trigger/source compatibility, overlapping S3 notifications, duplicate routes
// and event source mappings. Each is a rejection AWS would otherwise make
// mid-deploy.
func (d *decoder) validate(app *App, deps map[Addr][]dep) {
	d.cycles(deps)
	d.domains(app)

	fns := map[Addr]*Function{}
	for _, f := range app.Functions {
		fns[f.Addr] = f
	}
	for _, r := range d.urlRefs {
		if f := fns[r.addr]; f != nil && f.URL == nil {
			d.errorf(r.rng, "Function has no URL", "%s has no url block, so it has no URL to read; add url { auth = \"iam\" } (or \"none\") to it.", r.addr)
		}
	}
	liveSeen := map[hcl.Range]bool{}
	for _, r := range d.liveRefs {
		if f := fns[r.addr]; f != nil && f.Release == nil && !liveSeen[r.rng] {
			liveSeen[r.rng] = true
			d.errorf(r.rng, "Function has no release", "%s has no release block, so it has no live alias; add release {} to it, or read %s.arn.", r.addr, r.addr)
		}
	}
	queues := map[Addr]*Queue{}
	// Blocks made elsewhere have no settings to check here: what AWS
	// reports of them is checked at plan time.
	for _, q := range app.Queues {
		if q.Existing == nil {
			queues[q.Addr] = q
		}
	}
	topics := map[Addr]*Topic{}
	for _, t := range app.Topics {
		if t.Existing == nil {
			topics[t.Addr] = t
		}
	}
	tables := map[Addr]*Table{}
	for _, t := range app.Tables {
		if t.Existing == nil {
			tables[t.Addr] = t
		}
	}

	apis := map[Addr]*API{}
	for _, a := range app.APIs {
		apis[a.Addr] = a
	}

	routes := map[string]*Trigger{}
	mappings := map[string]*Trigger{}
	s3ByBucket := map[Addr][]s3Use{}
	for _, t := range app.Triggers {
		fn := fns[t.Function]
		switch {
		case t.HTTP != nil:
			if t.HTTP.API.IsZero() || t.HTTP.Route == "" {
				break
			}
			if api := apis[t.HTTP.API]; api != nil && t.HTTP.Authorizer != "" {
				var names []string
				for _, j := range api.JWT {
					names = append(names, j.Name)
				}
				if !contains(names, t.HTTP.Authorizer) {
					detail := fmt.Sprintf("%s has no jwt %q block.", api.Addr, t.HTTP.Authorizer)
					if len(names) == 0 {
						detail += " Declare one in the api block: jwt \"" + t.HTTP.Authorizer + "\" { issuer = ..., audience = [...] }."
					} else {
						detail += " Its authorizers: " + quoteList(names) + "." + suggest(t.HTTP.Authorizer, names)
					}
					d.errorf(t.HTTP.AuthorizerRange, "Unknown authorizer", "%s", detail)
				}
			}
			key := t.HTTP.API.String() + " " + t.HTTP.Route
			if first := routes[key]; first != nil {
				d.errorf(t.HTTP.Range, "Duplicate route",
					"%s already routes %q to %s (%s at %s); an API has one integration per route.", t.HTTP.API, t.HTTP.Route, first.Function, first.Addr, first.DeclRange)
			} else {
				routes[key] = t
			}
		case t.Queue != nil:
			s := t.Queue
			d.mapping(mappings, t, s.Queue, s.Range)
			q := queues[s.Queue]
			if q == nil {
				break
			}
			if fn != nil && q.VisibilityTimeout < fn.Timeout {
				d.errorf(s.Range, "Queue visibility timeout too short",
					"%s has visibility_timeout %s, less than the timeout of %s (%s); Lambda refuses the mapping. Raise the queue's visibility_timeout to at least %s (AWS recommends 6 × the function timeout).",
					q.Addr, FormatDuration(q.VisibilityTimeout), fn.Addr, FormatDuration(fn.Timeout), FormatDuration(fn.Timeout))
			}
			switch {
			case q.FIFO && s.BatchSize > 10:
				d.errorf(s.Range, "Batch size too large", "%s is a FIFO queue: batch_size is at most 10; got %d.", q.Addr, s.BatchSize)
			case q.FIFO && s.BatchingWindow > 0:
				d.errorf(s.Range, "Batching window not supported", "%s is a FIFO queue: Lambda does not support a batching_window for FIFO queues.", q.Addr)
			case s.BatchSize > 10 && s.BatchingWindow == 0:
				d.errorf(s.Range, "Batching window required", "A batch_size above 10 (%d) needs a batching_window of at least 1s for an SQS source.", s.BatchSize)
			}
		case t.Topic != nil:
			if tp := topics[t.Topic.Topic]; tp != nil && tp.FIFO {
				d.errorf(t.Topic.Range, "FIFO topic cannot trigger a function",
					"%s is a FIFO topic; SNS FIFO topics deliver only to SQS queues. Subscribe a FIFO queue and trigger the function from it.", tp.Addr)
			}
		case t.S3 != nil:
			s3ByBucket[t.S3.Bucket] = append(s3ByBucket[t.S3.Bucket], s3Use{t.Addr, t.DeclRange, t.S3})
		case t.DynamoDB != nil:
			s := t.DynamoDB
			d.mapping(mappings, t, s.Source, s.Range)
			if tb := tables[s.Source]; tb != nil && tb.StreamView == "" {
				d.errorf(s.Range, "Table has no stream",
					"%s has no stream, so it cannot trigger a function. Add stream = \"new_and_old_images\" (or new_image, old_image, keys_only) to %s at %s.",
					tb.Addr, tb.Addr, tb.DeclRange)
			}
		case t.Kinesis != nil:
			d.mapping(mappings, t, t.Kinesis.Source, t.Kinesis.Range)
		}
	}
	d.routes(app, queues, topics, tables, s3ByBucket)
	d.asyncs(app, queues, topics)
	for _, b := range sortedAddrs(s3ByBucket) {
		d.s3Overlaps(s3ByBucket[b])
	}
}

// s3Use is one trigger or route receiving a bucket's notifications: a bucket
// has one notification document, so they are checked together.
type s3Use struct {
	addr Addr
	decl hcl.Range
	src  *S3Source
}

// mapping reports a second event source mapping between the same source and
// function, which Lambda rejects as a conflict.
func (d *decoder) mapping(seen map[string]*Trigger, t *Trigger, src Addr, rng hcl.Range) {
	if src.IsZero() || t.Function.IsZero() {
		return
	}
	key := src.String() + " " + t.Function.String()
	if first := seen[key]; first != nil {
		d.errorf(rng, "Duplicate event source mapping",
			"%s already connects %s to %s at %s; Lambda allows one mapping per source and function.", first.Addr, src, t.Function, first.DeclRange)
		return
	}
	seen[key] = t
}

// s3Overlaps reports notifications on one bucket that S3 would reject as
// overlapping: a shared event type and prefixes and suffixes that can both
// match the same key. Triggers and routes share the bucket's document.
func (d *decoder) s3Overlaps(uses []s3Use) {
	for i, a := range uses {
		for _, b := range uses[:i] {
			ev := sharedEvent(a.src.Events, b.src.Events)
			if ev == "" {
				continue
			}
			if !overlaps(a.src.Prefix, b.src.Prefix, strings.HasPrefix) || !overlaps(a.src.Suffix, b.src.Suffix, strings.HasSuffix) {
				continue
			}
			d.errorf(a.src.Range, "Overlapping S3 notifications",
				"%s and %s (at %s) both receive %s from %s for keys matching prefix %q and suffix %q; S3 rejects overlapping configurations on one bucket. Make their prefixes or suffixes disjoint, or use one %s.",
				a.addr, b.addr, b.decl, ev, a.src.Bucket, longer(a.src.Prefix, b.src.Prefix), longer(a.src.Suffix, b.src.Suffix), a.addr.Kind)
		}
	}
}

func overlaps(x, y string, has func(s, p string) bool) bool { return has(x, y) || has(y, x) }

func longer(x, y string) string {
	if len(x) >= len(y) {
		return x
	}
	return y
}

// sharedEvent returns an event type both lists cover ("s3:ObjectCreated:*"
// covers "s3:ObjectCreated:Put"), or "".
func sharedEvent(a, b []string) string {
	for _, x := range a {
		for _, y := range b {
			if eventCovers(x, y) {
				return y
			}
			if eventCovers(y, x) {
				return x
			}
		}
	}
	return ""
}

func eventCovers(general, specific string) bool {
	if general == specific {
		return true
	}
	if strings.HasSuffix(general, ":*") {
		return strings.HasPrefix(specific, strings.TrimSuffix(general, "*"))
	}
	return false
}

// cycles reports creation-order cycles: a function whose environment needs
// another function's ARN, which needs the first one's, can never be created.
func (d *decoder) cycles(deps map[Addr][]dep) {
	state := map[Addr]int{}
	var stack []Addr
	reported := map[string]bool{}
	var visit func(a Addr)
	visit = func(a Addr) {
		state[a] = 1
		stack = append(stack, a)
		for _, e := range deps[a] {
			switch state[e.to] {
			case 0:
				visit(e.to)
			case 1:
				i := 0
				for stack[i] != e.to {
					i++
				}
				cycle := append(append([]Addr{}, stack[i:]...), e.to)
				names := make([]string, len(cycle))
				for j, c := range cycle {
					names[j] = c.String()
				}
				key := canonicalCycle(cycle[:len(cycle)-1])
				if reported[key] {
					continue
				}
				reported[key] = true
				d.errorf(e.rng, "Reference cycle",
					"These blocks refer to each other in a cycle, so none can be created first: %s. Remove one of the references.", strings.Join(names, " → "))
			}
		}
		stack = stack[:len(stack)-1]
		state[a] = 2
	}
	for _, a := range sortedAddrs(deps) {
		if state[a] == 0 {
			visit(a)
		}
	}
}

func canonicalCycle(c []Addr) string {
	s := make([]string, len(c))
	for i, a := range c {
		s[i] = a.String()
	}
	sort.Strings(s)
	return strings.Join(s, ",")
}

func sortedAddrs[V any](m map[Addr]V) []Addr {
	out := make([]Addr, 0, len(m))
	for a := range m {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}

// routes checks what AWS would refuse about each route: a source/target pair
// no service delivers, FIFO rules, loops, and duplicate subscriptions. S3
// routes join the bucket's triggers for the overlap check.
func (d *decoder) routes(app *App, queues map[Addr]*Queue, topics map[Addr]*Topic, tables map[Addr]*Table, s3ByBucket map[Addr][]s3Use) {
	subs := map[string]*Route{}
	for _, r := range app.Routes {
		kind := r.SourceKind()
		if kind == "" || r.To.IsZero() {
			continue // reported already
		}
		src := r.SourceAddr()
		srcText := d.endText(src, kind)
		toText := d.endText(r.To, "")
		if !contains(RouteTargets[kind], r.To.Kind) {
			d.errorf(r.ToRange, "Route not allowed",
				"%s cannot deliver %s to %s: %s sources deliver only to %s.",
				r.Addr, srcText, toText, kind, kindList(RouteTargets[kind]))
			continue
		}
		q, tp := queues[r.To], topics[r.To]
		fifoQueue, fifoTopic := q != nil && q.FIFO, tp != nil && tp.FIFO
		switch kind {
		case "topic":
			if st := topics[src]; fifoQueue && st != nil && !st.FIFO {
				d.errorf(r.ToRange, "FIFO queue needs a FIFO topic",
					"%s is a FIFO queue; SNS delivers to FIFO queues only from FIFO topics, and %s is a standard topic.", toText, srcText)
			}
			key := src.String() + " " + r.To.String()
			if first := subs[key]; first != nil {
				d.errorf(r.Topic.Range, "Duplicate subscription",
					"%s already subscribes %s to %s at %s; SNS keeps one subscription per topic and endpoint.", first.Addr, r.To, src, first.DeclRange)
			} else {
				subs[key] = r
			}
		case "s3":
			if fifoQueue || fifoTopic {
				d.errorf(r.ToRange, "S3 cannot notify a FIFO destination",
					"%s is FIFO; S3 event notifications go only to standard queues and topics.", toText)
			}
			s3ByBucket[src] = append(s3ByBucket[src], s3Use{r.Addr, r.DeclRange, r.S3})
		default: // EventBridge rules, schedules and pipes
			switch {
			case fifoTopic:
				d.errorf(r.ToRange, "FIFO topic not supported",
					"%s is a FIFO topic; EventBridge cannot give SNS a message group. Route to a FIFO queue (with message_group) instead.", toText)
			case fifoQueue && r.MessageGroup == "":
				d.errorf(r.ToRange, "Message group required",
					"%s is a FIFO queue: every delivery needs a message group. Add message_group = \"%s\" to %s.", toText, r.Addr.Name, r.Addr)
			}
			if src == r.To {
				d.errorf(r.ToRange, "Route loops",
					"%s would deliver %s's events back into %s.", r.Addr, src, src)
			}
		}
		if r.MessageGroup != "" && (!fifoQueue || kind == "topic" || kind == "s3") {
			d.errorf(r.DeclRange, "message_group not used",
				"message_group applies only to a FIFO queue target of an event, schedule, queue, kinesis or dynamodb source; %s sends %s to %s.", r.Addr, srcText, toText)
		}
		if p := r.Pipe; p != nil {
			if sq := queues[p.Source]; sq != nil && sq.FIFO && p.BatchSize > 10 {
				d.errorf(p.Range, "Batch size too large", "%s is a FIFO queue: batch_size is at most 10; got %d.", sq.Addr, p.BatchSize)
			}
			if tb := tables[p.Source]; tb != nil && tb.StreamView == "" {
				d.errorf(p.Range, "Table has no stream",
					"%s has no stream, so it cannot feed a route. Add stream = \"new_and_old_images\" (or new_image, old_image, keys_only) to %s at %s.",
					tb.Addr, tb.Addr, tb.DeclRange)
			}
		}
	}
}

// endText names one end of a route with where it is declared:
// "topic.orders (a.evd.hcl:3,1-15)"; a schedule or the default bus by kind.
func (d *decoder) endText(a Addr, kind string) string {
	if a.IsZero() {
		if kind == "event" {
			return "events of the default bus"
		}
		return "a " + kind
	}
	if rng, ok := d.declared[a]; ok {
		return a.String() + " (" + rng.String() + ")"
	}
	return a.String()
}

// asyncs checks each async block's destinations: Lambda sends invocation
// records only to standard queues and topics.
func (d *decoder) asyncs(app *App, queues map[Addr]*Queue, topics map[Addr]*Topic) {
	for _, f := range app.Functions {
		if f.Async == nil {
			continue
		}
		for _, dst := range []Addr{f.Async.OnFailure, f.Async.OnSuccess} {
			if q := queues[dst]; q != nil && q.FIFO {
				d.errorf(f.Async.Range, "FIFO destination not supported", "Lambda cannot send invocation records to %s, a FIFO queue; use a standard queue.", dst)
			}
			if t := topics[dst]; t != nil && t.FIFO {
				d.errorf(f.Async.Range, "FIFO destination not supported", "Lambda cannot send invocation records to %s, a FIFO topic; use a standard topic.", dst)
			}
		}
	}
}
