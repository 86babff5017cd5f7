package planner

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/evdeploy/evdeploy/spec"
)

// Blocks made elsewhere (`existing = "<name or ARN>"`) lower to no resource
// at all: evdeploy never creates, updates, tags or deletes them. What AWS
// reports of them at plan time (LowerOptions.Existing) becomes what
// references read (queue.jobs.arn), and evdeploy adds only its own things
// to them: rules on a bus, subscriptions to a topic, mappings from a queue,
// stream or table stream, its entries in a bucket's notification document
// and statements with its own Sids in a queue's or topic's policy.

// Keys of LowerOptions.Existing entries besides the block's reference
// attributes.
const (
	// ExistingNotifications is a bucket's notification entries that are
	// not this deployment's: []ExistingNotification.
	ExistingNotifications = "notifications"
	// ExistingFIFO is true for a FIFO queue or topic.
	ExistingFIFO = "fifo"
)

// ExistingNotification is one entry of a bucket's notification document.
type ExistingNotification struct {
	ID             string
	Kind           string // lambda, queue or topic
	Events         []string
	Prefix, Suffix string
}

// existing lowers a block made elsewhere; false when the block is evdeploy's.
func (l *lowering) existing(addr spec.Addr, ex *spec.Existing) bool {
	if ex == nil {
		return false
	}
	l.existingBlocks[addr] = true
	got, ok := l.opts.Existing[addr]
	if !ok {
		l.diags = append(l.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Existing resource not read",
			Detail:   fmt.Sprintf("%s is made elsewhere, but its attributes were not read from AWS.", addr),
			Subject:  ex.Range.Ptr(),
		})
		got = map[string]any{}
	}
	attrs := map[string]any{}
	for _, k := range spec.RefAttrs[addr.Kind] {
		if v, ok := got[k].(string); ok {
			attrs[k] = v
		}
	}
	for _, k := range []string{"name", "arn"} {
		if _, ok := attrs[k]; !ok {
			attrs[k] = "" // keeps the lowering's type assertions safe after the diagnostic
		}
	}
	l.blockAttrs[addr] = attrs
	return true
}

// existingChecks reports, at plan time, what a block made elsewhere lacks
// for the triggers and routes that use it.
func (l *lowering) existingChecks() {
	for _, t := range l.app.Triggers {
		if s := t.DynamoDB; s != nil && l.existingBlocks[s.Source] {
			if a, _ := l.blockAttrs[s.Source]["stream_arn"].(string); a == "" {
				l.errorf(s.Range, "Table has no stream",
					"%s (%s) has no stream enabled, so it cannot trigger a function; enable a stream on it where it is managed.",
					s.Source, l.blockAttrs[s.Source]["name"])
			}
		}
		if s := t.Topic; s != nil && l.existingBlocks[s.Topic] {
			if fifo, _ := l.opts.Existing[s.Topic][ExistingFIFO].(bool); fifo {
				l.errorf(s.Range, "FIFO topic cannot trigger a function",
					"%s (%s) is a FIFO topic; SNS FIFO topics deliver only to SQS queues.", s.Topic, l.blockAttrs[s.Topic]["name"])
			}
		}
	}
}

func (l *lowering) errorf(rng hcl.Range, summary, format string, args ...any) {
	l.diags = append(l.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: fmt.Sprintf(format, args...), Subject: rng.Ptr()})
}

// notificationConflicts reports each of this app's entries for an existing
// bucket that overlaps an entry someone else wrote: S3 would reject the
// document.
func (l *lowering) notificationConflicts(bucket spec.Addr, ours []notificationEntry) {
	others, _ := l.opts.Existing[bucket][ExistingNotifications].([]ExistingNotification)
	mine := "evdeploy-" + l.app.Name + "-" + l.app.Stage + "-"
	for _, o := range others {
		if strings.HasPrefix(o.ID, mine) {
			continue // this deployment's: replaced by what is desired now
		}
		for _, e := range ours {
			ev := spec.S3Overlap(e.src.Events, e.src.Prefix, e.src.Suffix, o.Events, o.Prefix, o.Suffix)
			if ev == "" {
				continue
			}
			l.errorf(e.src.Range, "Overlapping S3 notifications",
				"%s and the entry %q already in the notification configuration of %s (%s) both receive %s for keys matching prefix %q and suffix %q; S3 rejects overlapping configurations on one bucket. Make the prefix or suffix disjoint from that entry's (prefix %q, suffix %q).",
				e.block, o.ID, bucket, l.blockAttrs[bucket]["name"], ev, longest(e.src.Prefix, o.Prefix), longest(e.src.Suffix, o.Suffix), o.Prefix, o.Suffix)
		}
	}
}

// notificationEntry is one of this app's S3 triggers or routes on a bucket.
type notificationEntry struct {
	block spec.Addr
	src   *spec.S3Source
}

func longest(x, y string) string {
	if len(x) >= len(y) {
		return x
	}
	return y
}

// dropExistingDeps removes dependencies on blocks made elsewhere: they have
// no resource in the graph (they exist already).
func (l *lowering) dropExistingDeps() {
	if len(l.existingBlocks) == 0 {
		return
	}
	names := map[string]bool{}
	for a := range l.existingBlocks {
		names[a.String()] = true
	}
	for _, r := range l.out {
		kept := r.DependsOn[:0]
		for _, d := range r.DependsOn {
			if names[d.Block] && l.out[d.String()] == nil {
				continue
			}
			kept = append(kept, d)
		}
		r.DependsOn = kept
	}
}

// sharedSid is the Sid of a statement evdeploy adds to a policy it shares
// with others (an existing queue's or topic's): it names the app and stage
// so two deployments adding to one policy never collide.
func (l *lowering) sharedSid(r *spec.Route) string {
	return ruleStmt.fit("evdeploy-"+l.app.Name+"-"+l.app.Stage+"-route-"+r.Addr.Name, "")
}
