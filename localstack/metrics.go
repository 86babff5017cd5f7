package localstack

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The engine's CloudWatch metrics: what Lambda and SQS publish on AWS,
// published here as the functions run (kumo publishes none), plus whatever
// handler code sends with PutMetricData. Alarms (cloudwatch.go) are
// evaluated against them.
//
// The API other parts of the engine call:
//
//	recordInvocation(function, resource, executedVersion, outcome, duration)
//	recordIteratorAge(function, age)
//	recordAsyncDropped(function)
//
// resource is "fn:alias" (or "fn:version") for a qualified invoke, "" for
// $LATEST; AWS then also publishes the FunctionName+Resource and
// FunctionName+Resource+ExecutedVersion series.

// Invocation outcomes.
type invocationOutcome int

const (
	invokeSucceeded invocationOutcome = iota
	invokeFailed                      // the function returned or threw an error
	invokeThrottled                   // refused for lack of concurrency
)

// metricRetention bounds how far back the engine keeps datapoints (AWS keeps
// more; status and alarms look at the last minutes).
const metricRetention = 3 * time.Hour

// datum is one PutMetricData value (or a set of equal values: count > 1).
type datum struct {
	t     time.Time
	v     float64
	count float64
}

type series struct {
	namespace, name string
	dims            []dimension // sorted by name
	unit            string
	points          []datum // in arrival order
}

type dimension struct {
	Name  string
	Value string
}

// metricStore holds every series; one per process (kumo's state is per
// process too).
type metricStore struct {
	mu     sync.Mutex
	series map[string]*series
}

var engineMetrics = &metricStore{series: map[string]*series{}}

func seriesKey(namespace, name string, dims []dimension) string {
	var b strings.Builder
	b.WriteString(namespace + "\x00" + name)
	for _, d := range dims {
		b.WriteString("\x00" + d.Name + "=" + d.Value)
	}
	return b.String()
}

func sortDims(dims []dimension) []dimension {
	out := append([]dimension(nil), dims...)
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// put adds values to a series.
func (m *metricStore) put(namespace, name string, dims []dimension, unit string, t time.Time, values ...datum) {
	dims = sortDims(dims)
	k := seriesKey(namespace, name, dims)
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.series[k]
	if s == nil {
		s = &series{namespace: namespace, name: name, dims: dims}
		m.series[k] = s
	}
	if unit != "" {
		s.unit = unit
	}
	for _, v := range values {
		if v.t.IsZero() {
			v.t = t
		}
		if v.count == 0 {
			v.count = 1
		}
		s.points = append(s.points, v)
	}
	// Forget what is too old to matter, now and then.
	if len(s.points) > 256 && time.Since(s.points[0].t) > metricRetention {
		cut := sort.Search(len(s.points), func(i int) bool { return time.Since(s.points[i].t) <= metricRetention })
		s.points = append([]datum(nil), s.points[cut:]...)
	}
}

// record adds one value now.
func (m *metricStore) record(namespace, name string, dims []dimension, unit string, v float64) {
	now := time.Now()
	m.put(namespace, name, dims, unit, now, datum{t: now, v: v, count: 1})
}

// window returns the values of a series with from <= t < to (each value
// repeated by its count, capped for percentiles).
func (m *metricStore) window(namespace, name string, dims []dimension, from, to time.Time) (vals []datum, found bool) {
	k := seriesKey(namespace, name, sortDims(dims))
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.series[k]
	if s == nil {
		return nil, false
	}
	for _, p := range s.points {
		if !p.t.Before(from) && p.t.Before(to) {
			vals = append(vals, p)
		}
	}
	return vals, true
}

// list returns the series matching namespace, name and every dimension in
// filter ("" = any), sorted.
func (m *metricStore) list(namespace, name string, filter []dimension) []*series {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []*series
	for _, s := range m.series {
		if (namespace != "" && s.namespace != namespace) || (name != "" && s.name != name) {
			continue
		}
		ok := true
		for _, f := range filter {
			hit := false
			for _, d := range s.dims {
				if d.Name == f.Name && (f.Value == "" || f.Value == d.Value) {
					hit = true
				}
			}
			ok = ok && hit
		}
		if ok {
			out = append(out, s)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		return seriesKey(out[i].namespace, out[i].name, out[i].dims) < seriesKey(out[j].namespace, out[j].name, out[j].dims)
	})
	return out
}

// statistic computes stat (Sum, SampleCount, Average, Minimum, Maximum or a
// percentile pNN) of vals; ok is false when there are none.
func statistic(stat string, vals []datum) (float64, bool) {
	if len(vals) == 0 {
		return 0, false
	}
	var sum, n float64
	minV, maxV := math.Inf(1), math.Inf(-1)
	for _, v := range vals {
		sum += v.v * v.count
		n += v.count
		minV = math.Min(minV, v.v)
		maxV = math.Max(maxV, v.v)
	}
	switch stat {
	case "Sum":
		return sum, true
	case "SampleCount":
		return n, true
	case "Average":
		return sum / n, true
	case "Minimum":
		return minV, true
	case "Maximum":
		return maxV, true
	}
	if p, err := strconv.ParseFloat(strings.TrimPrefix(strings.ToLower(stat), "p"), 64); err == nil && strings.HasPrefix(strings.ToLower(stat), "p") && p >= 0 && p <= 100 {
		sorted := make([]float64, 0, len(vals))
		for _, v := range vals {
			sorted = append(sorted, v.v)
		}
		sort.Float64s(sorted)
		i := int(math.Ceil(p/100*float64(len(sorted)))) - 1
		i = max(0, min(i, len(sorted)-1))
		return sorted[i], true
	}
	return 0, false
}

func fnDims(function string) []dimension {
	return []dimension{{"FunctionName", function}}
}

// recordInvocation publishes Lambda's per-invocation metrics: Invocations,
// Errors, Throttles and Duration by FunctionName, and for a qualified invoke
// also by FunctionName+Resource and FunctionName+Resource+ExecutedVersion.
func recordInvocation(function, resource, executedVersion string, outcome invocationOutcome, d time.Duration) {
	dimSets := [][]dimension{fnDims(function)}
	if resource != "" && resource != function {
		dimSets = append(dimSets, []dimension{{"FunctionName", function}, {"Resource", resource}})
		if executedVersion != "" {
			dimSets = append(dimSets, []dimension{{"FunctionName", function}, {"Resource", resource}, {"ExecutedVersion", executedVersion}})
		}
	}
	for _, dims := range dimSets {
		if outcome == invokeThrottled {
			engineMetrics.record("AWS/Lambda", "Throttles", dims, "Count", 1)
			continue
		}
		engineMetrics.record("AWS/Lambda", "Invocations", dims, "Count", 1)
		errs := 0.0
		if outcome == invokeFailed {
			errs = 1
		}
		engineMetrics.record("AWS/Lambda", "Errors", dims, "Count", errs)
		engineMetrics.record("AWS/Lambda", "Duration", dims, "Milliseconds", float64(d.Microseconds())/1000)
	}
}

// recordIteratorAge publishes the age of the last record of a stream batch
// the function was given.
func recordIteratorAge(function string, age time.Duration) {
	engineMetrics.record("AWS/Lambda", "IteratorAge", fnDims(function), "Milliseconds", float64(age.Milliseconds()))
}

// recordAsyncDropped publishes one asynchronous event dropped without a
// successful run (retries or maximum age exhausted).
func recordAsyncDropped(function string) {
	engineMetrics.record("AWS/Lambda", "AsyncEventsDropped", fnDims(function), "Count", 1)
}

// invocationQualifier, when set (by the engine's versions support), names
// the alias or version and the executed version of an invocation in flight;
// nil means every invocation is unqualified ($LATEST).
// function is the function invoked ("" when unqualified: the kumo function
// is the function), since a version runs as a function of its own.
var invocationQualifier func(kumoFunction, requestID string) (function, resource, executedVersion string)

// invocationMetrics watches the Lambda Runtime API through the engine's
// front: a handler's "next" answer starts an invocation (its request id),
// its "response" or "error" post ends it. Every invocation, however it was
// made (Invoke, a mapping's poll, an async retry), passes there.
type invocationMetrics struct {
	next    http.Handler
	mu      sync.Mutex
	started map[string]time.Time // request id → start
}

func newInvocationMetrics(next http.Handler) *invocationMetrics {
	return &invocationMetrics{next: next, started: map[string]time.Time{}}
}

func (m *invocationMetrics) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if _, ok := runtimeNext(req.URL.Path); ok {
		m.next.ServeHTTP(&nextWriter{ResponseWriter: w, onHeader: func(h http.Header) {
			if id := h.Get("Lambda-Runtime-Aws-Request-Id"); id != "" {
				m.mu.Lock()
				m.started[id] = time.Now()
				m.mu.Unlock()
			}
		}}, req)
		return
	}
	if name, id, ok := runtimeDone(req.Method, req.URL.Path); ok {
		m.next.ServeHTTP(w, req)
		m.mu.Lock()
		t0, seen := m.started[id]
		delete(m.started, id)
		m.mu.Unlock()
		if !seen {
			return
		}
		outcome := invokeSucceeded
		if strings.HasSuffix(req.URL.Path, "/error") {
			outcome = invokeFailed
		}
		var resource, version string
		if q := invocationQualifier; q != nil {
			if fn, res, ver := q(name, id); fn != "" {
				name, resource, version = fn, res, ver
			}
		}
		recordInvocation(name, resource, version, outcome, time.Since(t0))
		return
	}
	m.next.ServeHTTP(w, req)
}

// queueSampler publishes the AWS/SQS metrics of the queues alarms watch
// (SQS publishes them for every queue on AWS; the engine samples only what
// is looked at), every interval.
func queueSampler(ctx context.Context, kc kumoClient, watched func() []string, interval time.Duration) {
	urls := map[string]string{}
	for sleepCtx(ctx, interval) {
		for _, q := range watched() {
			u := urls[q]
			if u == "" {
				b, _, err := kc.call(ctx, http.MethodPost, "/", "sqs", "AmazonSQS.GetQueueUrl", map[string]any{"QueueName": q})
				var out struct{ QueueUrl string }
				if err != nil || json.Unmarshal(b, &out) != nil || out.QueueUrl == "" {
					continue
				}
				u, urls[q] = out.QueueUrl, out.QueueUrl
			}
			attrs, err := queueAttributes(ctx, kc, u)
			if err != nil {
				delete(urls, q) // deleted, or re-created under another URL
				continue
			}
			dims := []dimension{{"QueueName", q}}
			for attr, metric := range map[string]string{
				"ApproximateNumberOfMessages":           "ApproximateNumberOfMessagesVisible",
				"ApproximateNumberOfMessagesNotVisible": "ApproximateNumberOfMessagesNotVisible",
				"ApproximateNumberOfMessagesDelayed":    "ApproximateNumberOfMessagesDelayed",
				"ApproximateAgeOfOldestMessage":         "ApproximateAgeOfOldestMessage",
			} {
				if s, ok := attrs[attr]; ok {
					if v, err := strconv.ParseFloat(s, 64); err == nil {
						unit := "Count"
						if strings.HasPrefix(metric, "ApproximateAge") {
							unit = "Seconds"
						}
						engineMetrics.record("AWS/SQS", metric, dims, unit, v)
					}
				}
			}
		}
	}
}

func queueAttributes(ctx context.Context, kc kumoClient, queueURL string) (map[string]string, error) {
	b, _, err := kc.call(ctx, http.MethodPost, "/", "sqs", "AmazonSQS.GetQueueAttributes", map[string]any{"QueueUrl": queueURL, "AttributeNames": []string{"All"}})
	if err != nil {
		return nil, err
	}
	var out struct{ Attributes map[string]string }
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, err
	}
	return out.Attributes, nil
}

// streamRecordAge is how old a Kinesis or DynamoDB stream record is: now
// minus its arrival (creation) time.
func streamRecordAge(rec map[string]any) (time.Duration, bool) {
	ts, ok := rec["ApproximateArrivalTimestamp"].(float64)
	if ddb, isDDB := rec["dynamodb"].(map[string]any); !ok && isDDB {
		ts, ok = ddb["ApproximateCreationDateTime"].(float64)
	}
	if !ok || ts <= 0 {
		return 0, false
	}
	age := time.Since(time.UnixMilli(int64(ts * 1000)))
	return max(age, 0), true
}
