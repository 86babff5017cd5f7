package spec

import (
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

	fns := map[Addr]*Function{}
	for _, f := range app.Functions {
		fns[f.Addr] = f
	}
	queues := map[Addr]*Queue{}
	for _, q := range app.Queues {
		queues[q.Addr] = q
	}
	topics := map[Addr]*Topic{}
	for _, t := range app.Topics {
		topics[t.Addr] = t
	}
	tables := map[Addr]*Table{}
	for _, t := range app.Tables {
		tables[t.Addr] = t
	}

	routes := map[string]*Trigger{}
	mappings := map[string]*Trigger{}
	s3ByBucket := map[Addr][]*Trigger{}
	for _, t := range app.Triggers {
		fn := fns[t.Function]
		switch {
		case t.HTTP != nil:
			if t.HTTP.API.IsZero() || t.HTTP.Route == "" {
				break
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
			s3ByBucket[t.S3.Bucket] = append(s3ByBucket[t.S3.Bucket], t)
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
	for _, b := range sortedAddrs(s3ByBucket) {
		d.s3Overlaps(s3ByBucket[b])
	}
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
// match the same key.
func (d *decoder) s3Overlaps(ts []*Trigger) {
	for i, a := range ts {
		for _, b := range ts[:i] {
			ev := sharedEvent(a.S3.Events, b.S3.Events)
			if ev == "" {
				continue
			}
			if !overlaps(a.S3.Prefix, b.S3.Prefix, strings.HasPrefix) || !overlaps(a.S3.Suffix, b.S3.Suffix, strings.HasSuffix) {
				continue
			}
			d.errorf(a.S3.Range, "Overlapping S3 notifications",
				"%s and %s (at %s) both receive %s from %s for keys matching prefix %q and suffix %q; S3 rejects overlapping configurations on one bucket. Make their prefixes or suffixes disjoint, or use one trigger.",
				a.Addr, b.Addr, b.DeclRange, ev, a.S3.Bucket, longer(a.S3.Prefix, b.S3.Prefix), longer(a.S3.Suffix, b.S3.Suffix))
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
