package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/spf13/cobra"

	"github.com/evdeploy/evdeploy/flow"
	"github.com/evdeploy/evdeploy/planner"
	"github.com/evdeploy/evdeploy/spec"
	"github.com/evdeploy/evdeploy/state"
)

func init() { registerVerb(newCmdStatus) }

// StatusOptions are status's flags.
type StatusOptions struct {
	Watch bool
	JSON  bool
	// Interval is --watch's redraw interval (2s; tests shorten it).
	Interval time.Duration
}

func newCmdStatus(f *Factory) *cobra.Command {
	opts := &StatusOptions{Interval: 2 * time.Second}
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show the live state of the app's event flow: queues, DLQs, streams, functions, alarms",
		Long: `status prints one table of the app's event flow, in the order graph draws it:
for each queue its depth, messages in flight, oldest message age and its DLQ's
depth; for each stream trigger its iterator age; for each function its
invocations, errors and throttles over the last 5 minutes; each alarm's state.
It reads SQS attributes, CloudWatch metrics (GetMetricData, 500 a call) and
DescribeAlarms of what this stage deployed. --watch redraws every 2 s.`,
		Example: `  evdeploy status
  evdeploy status --target local --watch
  evdeploy status --json | jq '.queues[] | select(.dlq_depth > 0)'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return statusRun(cmd.Context(), f, opts)
		},
	}
	cmd.Flags().BoolVar(&opts.Watch, "watch", false, "redraw every 2 s until interrupted")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print JSON")
	return cmd
}

// Status is what status reports (and --json prints).
type Status struct {
	App       string           `json:"app"`
	Stage     string           `json:"stage"`
	Time      time.Time        `json:"time"`
	Queues    []QueueStatus    `json:"queues"`
	Triggers  []TriggerStatus  `json:"triggers"`
	Functions []FunctionStatus `json:"functions"`
	Alarms    []AlarmStatus    `json:"alarms"`
}

// QueueStatus is one queue's figures; nil numbers are unknown (not
// deployed, or the service does not report them).
type QueueStatus struct {
	Address     string `json:"address"`
	Name        string `json:"name"`
	Depth       *int64 `json:"depth"`
	InFlight    *int64 `json:"in_flight"`
	OldestAgeS  *int64 `json:"oldest_age_seconds"`
	DLQ         string `json:"dlq,omitempty"`
	DLQDepth    *int64 `json:"dlq_depth"`
	NotDeployed bool   `json:"not_deployed,omitempty"`
}

// TriggerStatus is one trigger; IteratorAgeMS only for stream triggers.
type TriggerStatus struct {
	Address       string   `json:"address"`
	Source        string   `json:"source"` // queue, kinesis, dynamodb, http...
	Function      string   `json:"function"`
	IteratorAgeMS *float64 `json:"iterator_age_ms,omitempty"`
}

// FunctionStatus is one function's last 5 minutes.
type FunctionStatus struct {
	Address     string   `json:"address"`
	Name        string   `json:"name"`
	Invocations *float64 `json:"invocations"`
	Errors      *float64 `json:"errors"`
	Throttles   *float64 `json:"throttles"`
	// Release is the live alias's version (and the weights of a shift in
	// progress) for a function with a release block, as last applied.
	Release     string `json:"release,omitempty"`
	NotDeployed bool   `json:"not_deployed,omitempty"`
}

// AlarmStatus is one alarm's state.
type AlarmStatus struct {
	Address string `json:"address"` // alarm.x, or queue.orders.dlq_depth for a default
	Name    string `json:"name"`
	Metric  string `json:"metric"`
	State   string `json:"state"` // OK, ALARM, INSUFFICIENT_DATA, or "not deployed"
	Reason  string `json:"reason,omitempty"`
}

func statusRun(ctx context.Context, f *Factory, opts *StatusOptions) error {
	if ctx == nil {
		ctx = context.Background()
	}
	app, _, err := loadApp(f)
	if err != nil {
		return err
	}
	cfg, _, err := f.AWSConfig(ctx, app.Region)
	if err != nil {
		return err
	}
	clients := statusClients{sqs: sqs.NewFromConfig(cfg), cw: cloudwatch.NewFromConfig(cfg)}
	for {
		doc, err := readState(ctx, f)
		if err != nil {
			return err
		}
		st, err := collectStatus(ctx, clients, app, doc, time.Now())
		if err != nil {
			return err
		}
		if opts.JSON {
			enc := json.NewEncoder(f.IO.Out)
			enc.SetIndent("", "  ")
			if err := enc.Encode(st); err != nil {
				return err
			}
		} else {
			if opts.Watch && f.IO.OutTTY {
				fmt.Fprint(f.IO.Out, "\x1b[H\x1b[2J") // home, clear
			}
			renderStatus(f.IO.Out, st)
		}
		if !opts.Watch {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(opts.Interval):
		}
	}
}

type statusClients struct {
	sqs *sqs.Client
	cw  *cloudwatch.Client
}

// resources indexes state by resource address.
func resources(doc *state.Document) map[string]state.Resource {
	out := map[string]state.Resource{}
	if doc == nil {
		return out
	}
	for _, r := range doc.Resources {
		out[r.Addr] = r
	}
	return out
}

// flowOrder is the order graph draws blocks in: rank, then address.
func flowOrder(app *spec.App) map[string]int {
	order := map[string]int{}
	for i, n := range flow.FromApp(app).Nodes {
		order[n.ID] = i
	}
	return order
}

func collectStatus(ctx context.Context, c statusClients, app *spec.App, doc *state.Document, now time.Time) (*Status, error) {
	res := resources(doc)
	order := flowOrder(app)
	st := &Status{App: app.Name, Stage: app.Stage, Time: now.UTC().Truncate(time.Second),
		Queues: []QueueStatus{}, Triggers: []TriggerStatus{}, Functions: []FunctionStatus{}, Alarms: []AlarmStatus{}}
	var metrics metricQueries

	queues := append([]*spec.Queue(nil), app.Queues...)
	sort.SliceStable(queues, func(i, j int) bool { return order[queues[i].Addr.String()] < order[queues[j].Addr.String()] })
	for _, q := range queues {
		qs := QueueStatus{Address: q.Addr.String()}
		main, ok := res[planner.ResourceAddr{Block: q.Addr.String(), Type: planner.TypeQueue, Name: "main"}.String()]
		if !ok {
			qs.NotDeployed = true
			st.Queues = append(st.Queues, qs)
			continue
		}
		qs.Name, _ = main.Attrs["name"].(string)
		attrs, err := queueAttrs(ctx, c.sqs, main.ID)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", q.Addr, err)
		}
		qs.Depth, qs.InFlight = attrs["ApproximateNumberOfMessages"], attrs["ApproximateNumberOfMessagesNotVisible"]
		qs.OldestAgeS = attrs["ApproximateAgeOfOldestMessage"]
		if qs.OldestAgeS == nil {
			metrics.add("AWS/SQS", "ApproximateAgeOfOldestMessage", "Maximum", "QueueName", qs.Name, func(v *float64) {
				if v != nil {
					n := int64(*v)
					qs.OldestAgeS = &n
				}
			})
		}
		if dlq, ok := res[planner.ResourceAddr{Block: q.Addr.String(), Type: planner.TypeQueue, Name: "dlq"}.String()]; ok {
			qs.DLQ, _ = dlq.Attrs["name"].(string)
			a, err := queueAttrs(ctx, c.sqs, dlq.ID)
			if err != nil {
				return nil, fmt.Errorf("%s (DLQ): %w", q.Addr, err)
			}
			qs.DLQDepth = a["ApproximateNumberOfMessages"]
		}
		st.Queues = append(st.Queues, qs)
	}
	fnNames := map[spec.Addr]string{}
	for _, fn := range app.Functions {
		if r, ok := res[planner.ResourceAddr{Block: fn.Addr.String(), Type: planner.TypeFunction, Name: "main"}.String()]; ok {
			fnNames[fn.Addr] = r.ID
		}
	}
	triggers := append([]*spec.Trigger(nil), app.Triggers...)
	sort.SliceStable(triggers, func(i, j int) bool {
		a, b := order[triggers[i].Function.String()], order[triggers[j].Function.String()]
		if a != b {
			return a < b
		}
		return triggers[i].Addr.Name < triggers[j].Addr.Name
	})
	st.Triggers = make([]TriggerStatus, len(triggers))
	for i, t := range triggers {
		ts := &st.Triggers[i]
		*ts = TriggerStatus{Address: t.Addr.String(), Source: t.SourceKind(), Function: t.Function.String()}
		if name := fnNames[t.Function]; name != "" && (t.Kinesis != nil || t.DynamoDB != nil) {
			metrics.add("AWS/Lambda", "IteratorAge", "Maximum", "FunctionName", name, func(v *float64) { ts.IteratorAgeMS = v })
		}
	}
	fns := append([]*spec.Function(nil), app.Functions...)
	sort.SliceStable(fns, func(i, j int) bool { return order[fns[i].Addr.String()] < order[fns[j].Addr.String()] })
	st.Functions = make([]FunctionStatus, len(fns))
	for i, fn := range fns {
		fs := &st.Functions[i]
		*fs = FunctionStatus{Address: fn.Addr.String(), Name: fnNames[fn.Addr]}
		if fs.Name == "" {
			fs.NotDeployed = true
			continue
		}
		if al, ok := res[planner.ResourceAddr{Block: fn.Addr.String(), Type: planner.TypeAlias, Name: spec.LiveAlias}.String()]; ok {
			if v, _ := al.Attrs["function_version"].(string); v != "" {
				fs.Release = spec.LiveAlias + " → v" + v
				if w, _ := al.Attrs["routing"].(string); w != "" {
					fs.Release += " (shifting: " + w + ")"
				}
			}
		}
		zero := func(p **float64) func(*float64) {
			return func(v *float64) {
				if v == nil {
					v = new(float64) // no datapoint: nothing happened
				}
				*p = v
			}
		}
		metrics.add("AWS/Lambda", "Invocations", "Sum", "FunctionName", fs.Name, zero(&fs.Invocations))
		metrics.add("AWS/Lambda", "Errors", "Sum", "FunctionName", fs.Name, zero(&fs.Errors))
		metrics.add("AWS/Lambda", "Throttles", "Sum", "FunctionName", fs.Name, zero(&fs.Throttles))
	}
	if err := metrics.run(ctx, c.cw, now); err != nil {
		return nil, err
	}

	// Alarms: by name from state, states from DescribeAlarms (100 a call).
	var names []string
	byName := map[string]*AlarmStatus{}
	for _, a := range app.Alarms {
		as := AlarmStatus{Address: a.Key(), Metric: a.Metric.String(), State: "not deployed"}
		if r, ok := res[planner.AlarmResource(a).String()]; ok {
			as.Name = r.ID
			names = append(names, r.ID)
		}
		st.Alarms = append(st.Alarms, as)
	}
	for i := range st.Alarms {
		if st.Alarms[i].Name != "" {
			byName[st.Alarms[i].Name] = &st.Alarms[i]
		}
	}
	for len(names) > 0 {
		n := min(len(names), 100)
		out, err := c.cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: names[:n], MaxRecords: aws.Int32(100)})
		if err != nil {
			return nil, fmt.Errorf("describe alarms: %w", err)
		}
		for _, a := range out.MetricAlarms {
			if as := byName[aws.ToString(a.AlarmName)]; as != nil {
				as.State, as.Reason = string(a.StateValue), aws.ToString(a.StateReason)
			}
		}
		names = names[n:]
	}
	for _, as := range byName {
		if as.State == "not deployed" {
			as.State = "missing" // in state, gone from CloudWatch
		}
	}
	return st, nil
}

// queueAttrs reads a queue's counters (nil where the service leaves one out).
func queueAttrs(ctx context.Context, c *sqs.Client, url string) (map[string]*int64, error) {
	out, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url),
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameAll}})
	if err != nil {
		return nil, err
	}
	m := map[string]*int64{}
	for k, v := range out.Attributes {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && strings.HasPrefix(k, "Approximate") {
			m[k] = &n
		}
	}
	return m, nil
}

// metricQueries batches GetMetricData queries over the last 5 minutes.
type metricQueries struct {
	q    []cwtypes.MetricDataQuery
	stat []string
	set  []func(*float64)
}

func (m *metricQueries) add(namespace, metric, stat, dim, value string, set func(*float64)) {
	id := fmt.Sprintf("m%d", len(m.q))
	m.q = append(m.q, cwtypes.MetricDataQuery{Id: aws.String(id), MetricStat: &cwtypes.MetricStat{
		Metric: &cwtypes.Metric{Namespace: aws.String(namespace), MetricName: aws.String(metric),
			Dimensions: []cwtypes.Dimension{{Name: aws.String(dim), Value: aws.String(value)}}},
		Period: aws.Int32(60), Stat: aws.String(stat)}})
	m.stat = append(m.stat, stat)
	m.set = append(m.set, set)
}

// run asks for every query, 500 a call (GetMetricData's limit), and folds
// each series' per-minute values into one: the sum or the maximum.
func (m *metricQueries) run(ctx context.Context, c *cloudwatch.Client, now time.Time) error {
	for start := 0; start < len(m.q); start += 500 {
		end := min(start+500, len(m.q))
		in := &cloudwatch.GetMetricDataInput{MetricDataQueries: m.q[start:end],
			StartTime: aws.Time(now.Add(-5 * time.Minute)), EndTime: aws.Time(now)}
		vals := map[string][]float64{}
		p := cloudwatch.NewGetMetricDataPaginator(c, in)
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if err != nil {
				return fmt.Errorf("CloudWatch GetMetricData: %w", err)
			}
			for _, r := range out.MetricDataResults {
				vals[aws.ToString(r.Id)] = append(vals[aws.ToString(r.Id)], r.Values...)
			}
		}
		for i := start; i < end; i++ {
			v := vals[aws.ToString(m.q[i].Id)]
			if len(v) == 0 {
				m.set[i](nil)
				continue
			}
			agg := v[0]
			for _, x := range v[1:] {
				if m.stat[i] == "Sum" {
					agg += x
				} else {
					agg = max(agg, x)
				}
			}
			m.set[i](&agg)
		}
	}
	return nil
}

func numText[T int64 | float64](v *T, unit string) string {
	if v == nil {
		return "-"
	}
	return strconv.FormatFloat(float64(*v), 'f', -1, 64) + unit
}

func renderStatus(w io.Writer, st *Status) {
	fmt.Fprintf(w, "%s (stage %s) at %s\n", st.App, st.Stage, st.Time.Format(time.RFC3339))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	if len(st.Queues) > 0 {
		fmt.Fprintln(tw, "\nQUEUE\tDEPTH\tIN FLIGHT\tOLDEST\tDLQ DEPTH")
		for _, q := range st.Queues {
			if q.NotDeployed {
				fmt.Fprintf(tw, "%s\t-\t-\t-\t-  (not deployed)\n", q.Address)
				continue
			}
			dlq := "-"
			if q.DLQ != "" {
				dlq = numText(q.DLQDepth, "")
				if q.DLQDepth != nil && *q.DLQDepth > 0 {
					dlq += "  ← evdeploy messages " + strings.TrimPrefix(q.Address, "queue.") + " --dlq"
				}
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", q.Address, numText(q.Depth, ""), numText(q.InFlight, ""), numText(q.OldestAgeS, "s"), dlq)
		}
	}
	var streams []TriggerStatus
	for _, t := range st.Triggers {
		if t.Source == "kinesis" || t.Source == "dynamodb" {
			streams = append(streams, t)
		}
	}
	if len(streams) > 0 {
		fmt.Fprintln(tw, "\nSTREAM TRIGGER\tFUNCTION\tITERATOR AGE")
		for _, t := range streams {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", t.Address, t.Function, numText(t.IteratorAgeMS, "ms"))
		}
	}
	if len(st.Functions) > 0 {
		releases := false
		for _, f := range st.Functions {
			releases = releases || f.Release != ""
		}
		head := "\nFUNCTION (last 5m)\tINVOCATIONS\tERRORS\tTHROTTLES"
		if releases {
			head += "\tRELEASE"
		}
		fmt.Fprintln(tw, head)
		for _, f := range st.Functions {
			if f.NotDeployed {
				fmt.Fprintf(tw, "%s\t-\t-\t-  (not deployed)\n", f.Address)
				continue
			}
			line := fmt.Sprintf("%s\t%s\t%s\t%s", f.Address, numText(f.Invocations, ""), numText(f.Errors, ""), numText(f.Throttles, ""))
			if releases {
				rel := f.Release
				if rel == "" {
					rel = "-"
				}
				line += "\t" + rel
			}
			fmt.Fprintln(tw, line)
		}
	}
	if len(st.Alarms) > 0 {
		fmt.Fprintln(tw, "\nALARM\tMETRIC\tSTATE")
		for _, a := range st.Alarms {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", a.Address, a.Metric, a.State)
		}
	}
	tw.Flush()
}

// warnShortAlarmPeriods: AWS's service metrics come once a minute, so an
// alarm with a 10s or 30s period on AWS sees gaps (and costs more).
func warnShortAlarmPeriods(f *Factory, app *spec.App, target *TargetInfo) {
	if app == nil || target == nil || target.Target != "aws" {
		return
	}
	var short []string
	for _, a := range app.Alarms {
		if a.Period < time.Minute {
			short = append(short, a.Key())
		}
	}
	if len(short) > 0 {
		fmt.Fprintf(f.IO.ErrOut, "Warning: %s ha%s a period under a minute; AWS publishes Lambda, SQS and API Gateway metrics once a minute, so such an alarm sees missing data on AWS (use period = \"1m\"; 10s and 30s are for the embedded engine).\n",
			strings.Join(short, ", "), map[bool]string{true: "s", false: "ve"}[len(short) == 1])
	}
}
