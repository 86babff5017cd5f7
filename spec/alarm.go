package spec

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// KindAlarm is the `alarm` block: a CloudWatch alarm on a typed metric of
// another block.
const KindAlarm = "alarm"

// Alarm is an `alarm` block, or one of the defaults `app { alarms {} }` turns
// on. It fires when the metric's statistic over Period is >= Threshold for
// EvaluationPeriods periods in a row.
type Alarm struct {
	// Addr is alarm.<name> for a declared alarm; for a default, the address
	// of the block it watches (queue.orders), with Default set.
	Addr      Addr
	DeclRange hcl.Range
	Default   bool

	Metric            MetricRef
	Threshold         float64
	Period            time.Duration // 10s, 30s or a multiple of 1m
	EvaluationPeriods int
	Notify            []Addr // topics
}

// MetricRef is a typed metric of a block: function.api.errors.
type MetricRef struct {
	Block Addr   // function.api, queue.orders, trigger.clicks, api.public
	Name  string // errors, dlq_depth, iterator_age, errors_5xx ...
	Range hcl.Range
}

func (m MetricRef) String() string { return m.Block.String() + "." + m.Name }

// Info is the metric's entry in Metrics.
func (m MetricRef) Info() MetricInfo { return Metrics[m.Block.Kind][m.Name] }

// AlarmDefaults is `app { alarms { notify, period, skip } }`.
type AlarmDefaults struct {
	Notify []Addr
	Period time.Duration // default 1m
	Skip   []Addr
	Range  hcl.Range
}

// MetricInfo is what CloudWatch calls a typed metric. Dimension names the
// dimension whose value is the watched resource's physical name (or id); the
// planner fills it in.
type MetricInfo struct {
	Namespace  string
	MetricName string
	// Statistic is Sum, Maximum...; ExtendedStatistic a percentile (p99).
	// Exactly one is set.
	Statistic         string
	ExtendedStatistic string
	// Dimension is FunctionName, QueueName or ApiId.
	Dimension string
	// Of says which resource the dimension names: "function" (a trigger's
	// function for iterator_age), "queue", "dlq" or "api".
	Of   string
	Unit string // as CloudWatch reports it: Count, Milliseconds, Seconds
	Doc  string
}

// Metrics is the table of typed metrics, per block kind. It maps each to the
// CloudWatch namespace, metric, statistic and dimension AWS publishes.
// HCL attribute names cannot start with a digit, so the API's 5xx count is
// errors_5xx (api.public["5xx"] is accepted too).
var Metrics = map[string]map[string]MetricInfo{
	KindFunction: {
		"errors":        {Namespace: "AWS/Lambda", MetricName: "Errors", Statistic: "Sum", Dimension: "FunctionName", Of: "function", Unit: "Count", Doc: "invocations that ended in an error"},
		"throttles":     {Namespace: "AWS/Lambda", MetricName: "Throttles", Statistic: "Sum", Dimension: "FunctionName", Of: "function", Unit: "Count", Doc: "invocation requests throttled"},
		"invocations":   {Namespace: "AWS/Lambda", MetricName: "Invocations", Statistic: "Sum", Dimension: "FunctionName", Of: "function", Unit: "Count", Doc: "times the function ran"},
		"duration_p99":  {Namespace: "AWS/Lambda", MetricName: "Duration", ExtendedStatistic: "p99", Dimension: "FunctionName", Of: "function", Unit: "Milliseconds", Doc: "99th percentile run time (ms)"},
		"async_dropped": {Namespace: "AWS/Lambda", MetricName: "AsyncEventsDropped", Statistic: "Sum", Dimension: "FunctionName", Of: "function", Unit: "Count", Doc: "asynchronous events dropped without running"},
	},
	KindQueue: {
		"depth":      {Namespace: "AWS/SQS", MetricName: "ApproximateNumberOfMessagesVisible", Statistic: "Maximum", Dimension: "QueueName", Of: "queue", Unit: "Count", Doc: "messages waiting"},
		"oldest_age": {Namespace: "AWS/SQS", MetricName: "ApproximateAgeOfOldestMessage", Statistic: "Maximum", Dimension: "QueueName", Of: "queue", Unit: "Seconds", Doc: "age of the oldest message (s)"},
		"dlq_depth":  {Namespace: "AWS/SQS", MetricName: "ApproximateNumberOfMessagesVisible", Statistic: "Maximum", Dimension: "QueueName", Of: "dlq", Unit: "Count", Doc: "messages in the dead-letter queue"},
	},
	KindTrigger: {
		"iterator_age": {Namespace: "AWS/Lambda", MetricName: "IteratorAge", Statistic: "Maximum", Dimension: "FunctionName", Of: "function", Unit: "Milliseconds", Doc: "age of the last record the function read (ms)"},
	},
	KindAPI: {
		"errors_5xx":  {Namespace: "AWS/ApiGateway", MetricName: "5xx", Statistic: "Sum", Dimension: "ApiId", Of: "api", Unit: "Count", Doc: "requests answered with a 5xx"},
		"latency_p99": {Namespace: "AWS/ApiGateway", MetricName: "Latency", ExtendedStatistic: "p99", Dimension: "ApiId", Of: "api", Unit: "Milliseconds", Doc: "99th percentile latency (ms)"},
	},
}

// metricAliases are spellings accepted for a metric name.
var metricAliases = map[string]string{"5xx": "errors_5xx"}

// Defaults' thresholds (docs/operate.md).
const (
	DefaultIteratorAgeMS = 60000
	defaultAlarmPeriod   = time.Minute
)

var alarmSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "metric", Required: true}, {Name: "threshold", Required: true},
		{Name: "period"}, {Name: "evaluation_periods"}, {Name: "notify"},
	},
}

var alarmsSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "notify", Required: true}, {Name: "period"}, {Name: "skip"}},
}

// alarm decodes an alarm block. Its metric is resolved once every block is
// decoded (resolveAlarms), as it may name a trigger.
func (d *decoder) alarm(addr Addr, b *hcl.Block) *Alarm {
	c := d.content(b.Body, alarmSchema)
	a := c.Attributes
	al := &Alarm{Addr: addr, DeclRange: b.DefRange, EvaluationPeriods: 1}
	if attr := a["metric"]; attr != nil {
		al.Metric = d.metricRef(attr)
	}
	if attr := a["threshold"]; attr != nil {
		if v, ok := d.typed(attr, cty.Number, "a number"); ok {
			f, _ := v.AsBigFloat().Float64()
			if math.IsInf(f, 0) || math.IsNaN(f) {
				d.errorf(attr.Expr.Range(), "Invalid value", "\"threshold\" must be a finite number.")
			}
			al.Threshold = f
		}
	}
	al.Period = d.alarmPeriod(a, 0)
	al.EvaluationPeriods = d.integer(a, "evaluation_periods", 1, 1, 100, "")
	if al.Period > 0 && time.Duration(al.EvaluationPeriods)*al.Period > 7*24*time.Hour {
		d.errorf(a["evaluation_periods"].Range, "Value out of range", "evaluation_periods × period must be at most 7 days; got %d × %s.", al.EvaluationPeriods, FormatDuration(al.Period))
	}
	if attr := a["notify"]; attr != nil {
		al.Notify = d.addrList(attr, KindTopic, "topics only, like [topic.ops]")
	}
	return al
}

// alarmPeriod decodes a period: 10s, 30s, or a whole number of minutes
// (CloudWatch's rule for alarms on high-resolution and standard metrics).
// 0 means absent.
func (d *decoder) alarmPeriod(a hcl.Attributes, def time.Duration) time.Duration {
	attr := a["period"]
	if attr == nil {
		return def
	}
	p := d.duration(a, "period", -1, 10*time.Second, 24*time.Hour)
	if p < 0 {
		return def
	}
	if p != 10*time.Second && p != 30*time.Second && p%time.Minute != 0 {
		d.errorf(attr.Expr.Range(), "Invalid period", "An alarm's period is 10s, 30s or a whole number of minutes; got %s.", FormatDuration(p))
		return def
	}
	return p
}

// metricRef decodes `metric = function.api.errors`.
func (d *decoder) metricRef(attr *hcl.Attribute) MetricRef {
	tr, diags := hcl.AbsTraversalForExpr(attr.Expr)
	example := "function.api.errors"
	if diags.HasErrors() || len(tr) != 3 {
		d.errorf(attr.Expr.Range(), "Invalid metric", "\"metric\" is a typed metric of a block, like %s (%s).", example, metricList())
		return MetricRef{}
	}
	kind := tr.RootName()
	name, nameRng, ok1 := step(tr, 1)
	metric, metricRng, ok2 := step(tr, 2)
	if !ok1 || !ok2 {
		d.errorf(attr.Expr.Range(), "Invalid metric", "\"metric\" is a typed metric of a block, like %s.", example)
		return MetricRef{}
	}
	table := Metrics[kind]
	if table == nil {
		d.errorf(tr[0].SourceRange(), "Invalid metric", "%s blocks have no metrics; metrics are: %s.", kind, metricList())
		return MetricRef{}
	}
	if alias, ok := metricAliases[metric]; ok {
		metric = alias
	}
	if _, ok := table[metric]; !ok {
		d.errorf(metricRng, "Unknown metric", "A %s has no metric %q.%s Its metrics are: %s.", kind, metric, suggest(metric, keys(table)), strings.Join(keys(table), ", "))
		return MetricRef{}
	}
	block := Addr{Kind: kind, Name: name}
	if kind != KindTrigger { // triggers are checked in resolveAlarms
		if _, declared := d.declared[block]; !declared {
			d.errorf(hcl.RangeBetween(tr[0].SourceRange(), nameRng), fmt.Sprintf("Reference to undeclared %s", kind),
				"There is no %s named %q.%s", kind, name, suggest(name, d.names(kind)))
			return MetricRef{}
		}
	}
	return MetricRef{Block: block, Name: metric, Range: attr.Expr.Range()}
}

func metricList() string {
	var out []string
	for _, kind := range keys(Metrics) {
		for _, m := range keys(Metrics[kind]) {
			out = append(out, kind+"."+m)
		}
	}
	return strings.Join(out, ", ")
}

// addrList decodes a list of references to blocks of kind (or of any kind in
// kinds when kind is ""), each once.
func (d *decoder) addrList(attr *hcl.Attribute, kind, what string, kinds ...string) []Addr {
	tup, ok := attr.Expr.(*hclsyntax.TupleConsExpr)
	if !ok {
		d.errorf(attr.Expr.Range(), "Invalid value", "%q must be a list of references: %s.", attr.Name, what)
		return nil
	}
	var out []Addr
	seen := map[Addr]bool{}
	for _, e := range tup.Exprs {
		tr, diags := hcl.AbsTraversalForExpr(e)
		name, nameRng, named := step(tr, 1)
		if diags.HasErrors() || len(tr) != 2 || !named {
			d.errorf(e.Range(), "Invalid reference", "%q must be a list of references: %s.", attr.Name, what)
			return nil
		}
		addr := Addr{Kind: tr.RootName(), Name: name}
		if (kind != "" && addr.Kind != kind) || (kind == "" && !contains(kinds, addr.Kind)) {
			d.errorf(e.Range(), "Wrong kind of reference", "%q takes %s; %s is %s %s.", attr.Name, what, addr, article(addr.Kind), addr.Kind)
			return nil
		}
		if _, declared := d.declared[addr]; !declared && addr.Kind != KindTrigger {
			d.errorf(hcl.RangeBetween(tr[0].SourceRange(), nameRng), fmt.Sprintf("Reference to undeclared %s", addr.Kind),
				"There is no %s named %q.%s", addr.Kind, name, suggest(name, d.names(addr.Kind)))
			return nil
		}
		if seen[addr] {
			d.errorf(e.Range(), "Invalid value", "%s is listed twice.", addr)
			return nil
		}
		seen[addr] = true
		out = append(out, addr)
	}
	return out
}

// alarmDefaults decodes the app's alarms block.
func (d *decoder) alarmDefaults(b *hcl.Block) *AlarmDefaults {
	c := d.content(b.Body, alarmsSchema)
	a := c.Attributes
	def := &AlarmDefaults{Period: defaultAlarmPeriod, Range: b.DefRange}
	if attr := a["notify"]; attr != nil {
		def.Notify = d.addrList(attr, KindTopic, "topics only, like [topic.ops]")
	}
	def.Period = d.alarmPeriod(a, defaultAlarmPeriod)
	if attr := a["skip"]; attr != nil {
		def.Skip = d.addrList(attr, "", "the blocks whose default alarms to leave out: queues, functions and triggers", KindQueue, KindFunction, KindTrigger)
	}
	return def
}

// resolveAlarms runs once every block is decoded: it checks what alarms
// watch (a trigger's kind, a queue's dead letter), fills in declared alarms'
// period and notify from the app's defaults, and adds the defaults.
func (d *decoder) resolveAlarms(app *App) {
	triggers := map[Addr]*Trigger{}
	for _, t := range app.Triggers {
		triggers[t.Addr] = t
	}
	queues := map[Addr]*Queue{}
	for _, q := range app.Queues {
		queues[q.Addr] = q
	}
	def := app.AlarmDefaults
	for _, al := range app.Alarms {
		m := al.Metric
		if al.Period == 0 {
			al.Period = defaultAlarmPeriod
			if def != nil {
				al.Period = def.Period
			}
		}
		if al.Notify == nil && def != nil {
			al.Notify = def.Notify
		}
		switch m.Block.Kind {
		case KindTrigger:
			t := triggers[m.Block]
			if t == nil {
				d.errorf(m.Range, "Reference to undeclared trigger", "There is no trigger named %q.%s", m.Block.Name, suggest(m.Block.Name, sortedNames(triggers)))
				continue
			}
			if t.Kinesis == nil && t.DynamoDB == nil {
				d.errorf(m.Range, "Metric not available", "%s is a %s trigger; iterator_age is the metric of kinesis and dynamodb triggers.", m.Block, t.SourceKind())
			}
		case KindQueue:
			if q := queues[m.Block]; q != nil && m.Name == "dlq_depth" && q.DeadLetter == nil {
				d.errorf(m.Range, "Metric not available", "%s has no dead_letter block, so it has no DLQ to watch.", m.Block)
			}
		}
	}
	if def == nil {
		return
	}
	skip := map[Addr]bool{}
	for _, a := range def.Skip {
		skip[a] = true
		if a.Kind == KindTrigger && triggers[a] == nil {
			d.errorf(def.Range, "Reference to undeclared trigger", "alarms.skip names %s, which is not declared.", a)
		}
	}
	add := func(block Addr, metric string, threshold float64, period time.Duration) {
		if skip[block] {
			return
		}
		app.Alarms = append(app.Alarms, &Alarm{
			Addr: block, DeclRange: def.Range, Default: true,
			Metric:    MetricRef{Block: block, Name: metric, Range: def.Range},
			Threshold: threshold, Period: period, EvaluationPeriods: 1, Notify: def.Notify,
		})
	}
	// "over 5m": a 5-minute period, or the defaults' own when it is shorter
	// than a minute (quick local runs and tests).
	slow := 5 * time.Minute
	if def.Period < time.Minute {
		slow = def.Period
	}
	for _, q := range app.Queues {
		if q.DeadLetter != nil {
			add(q.Addr, "dlq_depth", 1, def.Period)
		}
	}
	for _, f := range app.Functions {
		add(f.Addr, "errors", 1, slow)
		if f.Async != nil {
			add(f.Addr, "async_dropped", 1, def.Period)
		}
	}
	for _, t := range app.Triggers {
		if t.Kinesis != nil || t.DynamoDB != nil {
			add(t.Addr, "iterator_age", DefaultIteratorAgeMS, slow)
		}
	}
	sort.SliceStable(app.Alarms, func(i, j int) bool { return app.Alarms[i].Key() < app.Alarms[j].Key() })
}

// Key identifies an alarm among the app's: alarm.<name>, or <block>.<metric>
// for a default.
func (a *Alarm) Key() string {
	if a.Default {
		return a.Metric.String()
	}
	return a.Addr.String()
}

func sortedNames[V any](m map[Addr]V) []string {
	var out []string
	for a := range m {
		out = append(out, a.Name)
	}
	sort.Strings(out)
	return out
}
