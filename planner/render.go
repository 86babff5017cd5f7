package planner

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
)

// RenderOptions choose the human plan view.
type RenderOptions struct {
	// Detail shows every provider resource with its attribute diffs instead
	// of one line per spec block.
	Detail bool
	// Color adds ANSI colours; the caller enables it only for a terminal.
	Color bool
}

// KnownAfterApply is how an Unknown value is shown.
const KnownAfterApply = "(known after apply)"

const (
	ansiReset   = "\x1b[0m"
	ansiBold    = "\x1b[1m"
	ansiRed     = "\x1b[31m"
	ansiGreen   = "\x1b[32m"
	ansiYellow  = "\x1b[33m"
	ansiMagenta = "\x1b[35m"
	ansiBoldRed = "\x1b[1;31m"
)

// shortWidth bounds a value in the block view; --detail shows values whole.
const shortWidth = 64

type painter bool

func (p painter) paint(code, s string) string {
	if !p || s == "" {
		return s
	}
	return code + s + ansiReset
}

func (p painter) symbol(a Action) string {
	code := ""
	switch a {
	case Create:
		code = ansiGreen
	case Update:
		code = ansiYellow
	case Delete:
		code = ansiRed
	case Replace:
		code = ansiMagenta
	}
	return p.paint(code, a.Symbol())
}

// Render writes the plan for a person: by default one line per spec block
// with its symbol and changed attributes (`~ function.api  memory: 128 → 256`),
// with Detail one entry per provider resource with its attribute diffs. Data
// loss is called out before the summary line.
func Render(w io.Writer, p *Plan, opts RenderOptions) error {
	p = masked(p)
	var b strings.Builder
	pt := painter(opts.Color)
	blocks := blockSummaries(p)
	width := 0
	for _, bs := range blocks {
		width = max(width, len(bs.Block))
	}
	for _, bs := range blocks {
		if opts.Detail {
			renderBlockDetail(&b, pt, bs)
		} else {
			renderBlockLine(&b, pt, bs, width)
		}
	}
	for _, a := range p.ForgetIntents {
		fmt.Fprintf(&b, "  · %s: nothing was created by the interrupted apply; its journal entry will be cleared\n", a)
	}
	if p.OutputsChange() {
		if len(blocks) > 0 || len(p.ForgetIntents) > 0 {
			b.WriteString("\n")
		}
		b.WriteString("Outputs:\n")
		for _, o := range p.Outputs {
			if o.Action == NoOp {
				continue
			}
			show := func(v any) string {
				if o.Sensitive {
					return "(sensitive)"
				}
				return formatValue(v, 0)
			}
			switch o.Action {
			case Create:
				fmt.Fprintf(&b, "  %s %s = %s\n", pt.symbol(Create), o.Name, show(o.After))
			case Update:
				fmt.Fprintf(&b, "  %s %s = %s → %s\n", pt.symbol(Update), o.Name, show(o.Before), show(o.After))
			case Delete:
				fmt.Fprintf(&b, "  %s %s\n", pt.symbol(Delete), o.Name)
			}
		}
	}
	if lost := p.DataLossChanges(); len(lost) > 0 {
		b.WriteString("\n")
		for _, c := range lost {
			verb := "deleted"
			if c.Action == Replace {
				verb = "replaced (deleted, then created empty)"
			}
			b.WriteString(pt.paint(ansiBoldRed, fmt.Sprintf("! DATA LOSS: %s will be %s; the data it holds will be lost.", c.Addr, verb)))
			b.WriteString("\n")
		}
		b.WriteString(pt.paint(ansiBold, "  Apply refuses this plan without --allow-data-loss."))
		b.WriteString("\n")
	}
	if len(blocks) > 0 || len(p.ForgetIntents) > 0 || p.OutputsChange() {
		b.WriteString("\n")
	}
	b.WriteString(SummaryLine(p))
	b.WriteString("\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// SummaryLine is the plan's last line.
func SummaryLine(p *Plan) string {
	if !p.HasChanges() {
		switch {
		case p.Destroy:
			return "No changes. Nothing is deployed."
		case p.OutputsChange():
			return "No resource changes. Apply records the new output values."
		}
		return "No changes. Your deployment matches the spec."
	}
	s := p.Summary()
	line := fmt.Sprintf("Plan: %d to add, %d to change, %d to replace, %d to destroy", s.Add, s.Change, s.Replace, s.Destroy)
	if s.Adopt > 0 {
		line += fmt.Sprintf(", %d to adopt", s.Adopt)
	}
	return line + "."
}

// renderBlockLine writes one block's line, its name padded to width so the
// details line up.
func renderBlockLine(b *strings.Builder, pt painter, bs blockSummary, width int) {
	fmt.Fprintf(b, "%s %s", pt.symbol(bs.Action), bs.Block)
	var items []string
	seen := map[string]bool{}
	add := func(s string) {
		if s != "" && !seen[s] {
			seen[s] = true
			items = append(items, s)
		}
	}
	for _, c := range sortedChanges(bs.Changes) {
		switch {
		case Release(c) != nil && c.Action == Update:
			// A release is its own line: "release v7 → v8 (canary 10% for 5m)".
			add(Release(c).Line())
		case bs.Action == Create || bs.Action == Delete:
			if c.Reason != "" {
				add(parenless(c.Reason))
			} else {
				add(friendlyType(c))
			}
		case c.Action == Update || c.Action == Replace:
			rb := set(c.ReplaceBecause)
			for _, a := range c.Changed {
				for _, ad := range attrDiffs(c, a) {
					s := ad.path + ": " + ad.transition(shortWidth)
					if rb[a] {
						s += " (forces replacement)"
					}
					add(s)
				}
			}
			if c.Adopted {
				add("adopting " + localAddr(c))
			}
		case c.Action == Create || c.Action == Delete:
			s := c.Action.Symbol() + " " + localAddr(c)
			if c.Reason != "" {
				s += " (" + c.Reason + ")"
			}
			add(s)
		case c.Adopted:
			add("adopting " + localAddr(c))
		}
	}
	if len(items) > 0 {
		b.WriteString(strings.Repeat(" ", width-len(bs.Block)) + "  " + strings.Join(items, ", "))
	}
	b.WriteString("\n")
}

func parenless(reason string) string {
	if reason == "" {
		return ""
	}
	return "(" + reason + ")"
}

func renderBlockDetail(b *strings.Builder, pt painter, bs blockSummary) {
	fmt.Fprintf(b, "%s %s\n", pt.symbol(bs.Action), bs.Block)
	for _, c := range sortedChanges(bs.Changes) {
		if c.Action == NoOp && !c.Adopted {
			continue
		}
		head := fmt.Sprintf("    %s %s", pt.symbol(c.Action), localAddr(c))
		if c.Action == NoOp {
			head = "      " + localAddr(c)
		}
		if c.ID != "" {
			head += "  id=" + c.ID
		} else if c.Name != "" {
			head += "  name=" + c.Name
		}
		var notes []string
		if c.Reason != "" {
			notes = append(notes, c.Reason)
		}
		if len(c.ReplaceBecause) > 0 {
			notes = append(notes, "replaced because of "+strings.Join(c.ReplaceBecause, ", "))
		}
		if len(notes) > 0 {
			head += "  (" + strings.Join(notes, "; ") + ")"
		}
		b.WriteString(head + "\n")

		var lines [][2]string
		switch c.Action {
		case Create:
			for _, k := range c.After.Keys() {
				lines = append(lines, [2]string{k, formatValue(c.After[k], 0)})
			}
		case Update, Replace:
			rb := set(c.ReplaceBecause)
			shown := map[string]bool{}
			for _, k := range c.Changed {
				for _, ad := range attrDiffs(c, k) {
					s := ad.transition(0)
					if rb[k] {
						s += "  # forces replacement"
					}
					lines = append(lines, [2]string{ad.path, s})
				}
				shown[k] = true
			}
			if c.Action == Replace {
				for _, k := range c.After.Keys() {
					if !shown[k] && IsUnknown(c.After[k]) {
						lines = append(lines, [2]string{k, KnownAfterApply})
					}
				}
			}
		}
		width := 0
		for _, l := range lines {
			width = max(width, len(l[0]))
		}
		for _, l := range lines {
			fmt.Fprintf(b, "        %-*s %s\n", width+1, l[0]+":", l[1])
		}
	}
}

func sortedChanges(cs []*Change) []*Change {
	out := append([]*Change(nil), cs...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Addr.String() < out[j].Addr.String() })
	return out
}

func localAddr(c *Change) string { return c.Addr.Type + "." + c.Addr.Name }

// attrDiff is one displayed difference: an attribute, or one key of a map
// attribute (environment.QUEUE), so a one-key change in a large map reads as
// that one key.
type attrDiff struct {
	path                string
	before, after       any
	hasBefore, hasAfter bool
}

// transition shows "before → after". With a width, a side longer than that
// (a policy document) is shown as "(…)", and when both are, the line says only
// that the value changes: the full values are in --detail.
func (d attrDiff) transition(width int) string {
	before, after := "(none)", "(none)"
	if d.hasBefore {
		before = formatValue(d.before, 0)
	}
	if d.hasAfter {
		after = formatValue(d.after, 0)
	}
	if width > 0 {
		longB, longA := runeLen(before) > width, runeLen(after) > width
		switch {
		case longB && longA:
			return "changed (see --detail)"
		case longB:
			before = "(…)"
		case longA:
			after = "(…)"
		}
	}
	return before + " → " + after
}

func runeLen(s string) int { return len([]rune(s)) }

func attrDiffs(c *Change, k string) []attrDiff {
	b, hb := c.Before[k]
	a, ha := c.After[k]
	return valueDiffs(k, b, a, hb, ha)
}

func valueDiffs(path string, b, a any, hb, ha bool) []attrDiff {
	bm, bok := b.(map[string]any)
	am, aok := a.(map[string]any)
	if !hb || !ha || !bok || !aok {
		return []attrDiff{{path: path, before: b, after: a, hasBefore: hb, hasAfter: ha}}
	}
	var out []attrDiff
	for _, key := range sortedKeys(overlay(Attrs(bm), Attrs(am), nil)) {
		bv, hbv := bm[key]
		av, hav := am[key]
		if hbv && hav && Equal(bv, av) {
			continue
		}
		out = append(out, valueDiffs(path+"."+key, bv, av, hbv, hav)...)
	}
	if len(out) == 0 { // equal after all (the change came from elsewhere)
		return []attrDiff{{path: path, before: b, after: a, hasBefore: hb, hasAfter: ha}}
	}
	return out
}

// formatValue renders an attribute value compactly: strings quoted, lists in
// brackets, maps in braces with sorted keys, Unknown as (known after apply).
// A width > 0 truncates longer renderings with an ellipsis.
func formatValue(v any, width int) string {
	s := formatRaw(v)
	if width > 0 && len([]rune(s)) > width {
		r := []rune(s)
		s = string(r[:width-1]) + "…"
	}
	return s
}

func formatRaw(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case Unknown:
		return KnownAfterApply
	case sensitiveShown:
		return SensitiveText
	case string:
		return strconv.Quote(x)
	case bool:
		return strconv.FormatBool(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = formatRaw(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case map[string]any:
		parts := make([]string, 0, len(x))
		for _, k := range sortedKeys(x) {
			parts = append(parts, k+" = "+formatRaw(x[k]))
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case Attrs:
		return formatRaw(map[string]any(x))
	case Ref:
		return KnownAfterApply
	case *Expr:
		return KnownAfterApply
	}
	return formatRaw(Norm(v))
}

// friendlyTypes names resource types the way a user thinks of them, for the
// one-line view of a block that is created or deleted whole.
var friendlyTypes = map[string]string{
	"aws_iam_role":                    "role",
	"aws_iam_role_policy":             "policy",
	"aws_cloudwatch_log_group":        "log group",
	"aws_lambda_function":             "function",
	"aws_lambda_permission":           "invoke permission",
	"aws_lambda_event_source_mapping": "event source mapping",
	"aws_sqs_queue":                   "queue",
	"aws_sns_topic":                   "topic",
	"aws_sns_subscription":            "subscription",
	"aws_eventbridge_bus":             "event bus",
	"aws_eventbridge_rule":            "rule",
	"aws_eventbridge_target":          "target",
	"aws_s3_bucket":                   "bucket",
	"aws_s3_bucket_notification":      "notification",
	"aws_dynamodb_table":              "table",
	"aws_kinesis_stream":              "stream",
	"aws_apigatewayv2_api":            "HTTP API",
	"aws_apigatewayv2_integration":    "integration",
	"aws_apigatewayv2_route":          "route",
	"aws_apigatewayv2_stage":          "stage",
	"aws_sqs_queue_policy":            "queue policy",
	"aws_sns_topic_policy":            "topic policy",
	"aws_lambda_event_invoke_config":  "async settings",
	"aws_pipes_pipe":                  "pipe",
	"aws_acm_certificate":             "certificate",
	"aws_acm_certificate_validation":  "wait for the certificate",
	"aws_apigatewayv2_domain_name":    "domain name",
	"aws_apigatewayv2_api_mapping":    "API mapping",
	"aws_route53_record":              "DNS record",
}

// friendlyType is "queue" for queue.orders/aws_sqs_queue.main and "queue dlq"
// for a second resource of the type.
func friendlyType(c *Change) string {
	name, ok := friendlyTypes[c.Addr.Type]
	if !ok {
		name = c.Addr.Type
	}
	switch c.Addr.Type {
	case TypeCertificate, TypeDomainName, TypeAPIMapping, TypeRecord, TypeCertWait:
		// Domain resources are named after the domain: say it as written,
		// and which record.
		if c.Addr.Type == TypeRecord {
			for _, k := range []string{"_validation", "_aaaa", "_a"} {
				if strings.HasSuffix(c.Addr.Name, k) {
					name = map[string]string{"_validation": "validation CNAME", "_aaaa": "AAAA alias", "_a": "A alias"}[k]
					break
				}
			}
		}
		if c.Name != "" {
			return name + " " + strings.TrimSuffix(c.Name, "/")
		}
		return name
	}
	if c.Addr.Name != "main" && c.Addr.Name != "" {
		name += " " + c.Addr.Name
	}
	return name
}
