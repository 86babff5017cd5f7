package localstack

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"math"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/smithy-go/encoding/cbor"
)

// cloudWatch is the engine's CloudWatch: metrics (metrics.go) and metric
// alarms, answered in the three protocols clients speak — the Go SDK's
// RPCv2 CBOR, the JSON protocol of boto3 and the AWS CLI (awsJson1.0), and
// the Query protocol's form posts are left to kumo. kumo stores alarms but
// never evaluates them and speaks no JSON; the engine evaluates every alarm
// at its period, changes its state, and publishes the notification AWS
// sends to the alarm's topics.
type cloudWatch struct {
	next    http.Handler
	front   kumoClient // publishes notifications through the engine
	lg      *log.Logger
	account string
	file    string // where alarms persist ("" = memory only)

	mu     sync.Mutex
	alarms map[string]*cwAlarm
}

const cwService = "GraniteServiceVersion20100801"

type cwAlarm struct {
	Name, ARN, Description                    string
	Namespace, MetricName                     string
	Statistic, ExtendedStatistic              string
	Dimensions                                []dimension
	Period, EvaluationPeriods                 int
	DatapointsToAlarm                         int
	Threshold                                 float64
	ComparisonOperator, TreatMissingData      string
	Unit                                      string
	ActionsEnabled                            bool
	AlarmActions, OKActions, InsufficientData []string
	State, StateReason, StateReasonData       string
	StateUpdated, ConfigUpdated               time.Time
	Tags                                      map[string]string

	nextEval time.Time
}

func newCloudWatch(next http.Handler, front kumoClient, dataDir string, lg *log.Logger) *cloudWatch {
	cw := &cloudWatch{next: next, front: front, lg: lg, account: "000000000000", alarms: map[string]*cwAlarm{}}
	if dataDir != "" {
		cw.file = filepath.Join(dataDir, "evdeploy-cloudwatch-alarms.json")
		if b, err := os.ReadFile(cw.file); err == nil {
			var list []*cwAlarm
			if json.Unmarshal(b, &list) == nil {
				for _, a := range list {
					cw.alarms[a.Name] = a
				}
			}
		}
	}
	return cw
}

// saveLocked writes the alarms (kumo keeps its own state the same way).
func (cw *cloudWatch) saveLocked() {
	if cw.file == "" {
		return
	}
	list := make([]*cwAlarm, 0, len(cw.alarms))
	for _, a := range cw.alarms {
		list = append(list, a)
	}
	b, _ := json.Marshal(list)
	tmp := cw.file + ".tmp"
	if os.WriteFile(tmp, b, 0o644) == nil {
		_ = os.Rename(tmp, cw.file)
	}
}

// cwProtocol says how a request speaks to CloudWatch: "cbor", "json" or "".
func cwProtocol(req *http.Request) (proto, op string) {
	if rest, ok := strings.CutPrefix(req.URL.Path, "/service/"+cwService+"/operation/"); ok {
		return "cbor", rest
	}
	if t := req.Header.Get("X-Amz-Target"); strings.HasPrefix(t, cwService+".") {
		return "json", strings.TrimPrefix(t, cwService+".")
	}
	return "", ""
}

func (cw *cloudWatch) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	proto, op := cwProtocol(req)
	if proto == "" {
		cw.next.ServeHTTP(w, req)
		return
	}
	var rd io.Reader = req.Body
	// PutMetricData bodies come gzipped (the SDKs' request compression).
	if strings.EqualFold(req.Header.Get("Content-Encoding"), "gzip") {
		zr, err := gzip.NewReader(req.Body)
		if err != nil {
			cwError(w, proto, http.StatusBadRequest, "SerializationException", err.Error())
			return
		}
		rd = zr
	}
	body, err := io.ReadAll(rd)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var in map[string]any
	switch proto {
	case "cbor":
		if len(body) > 0 {
			v, err := cbor.Decode(body)
			if err != nil {
				cwError(w, proto, http.StatusBadRequest, "SerializationException", err.Error())
				return
			}
			in, _ = fromCBOR(v).(map[string]any)
		}
	case "json":
		if len(bytes.TrimSpace(body)) > 0 {
			d := json.NewDecoder(bytes.NewReader(body))
			d.UseNumber()
			if err := d.Decode(&in); err != nil {
				cwError(w, proto, http.StatusBadRequest, "SerializationException", err.Error())
				return
			}
			in, _ = fromJSON(in).(map[string]any)
		}
	}
	if in == nil {
		in = map[string]any{}
	}
	out, cerr := cw.call(req.Context(), signingRegion(req), op, in)
	if cerr != nil {
		cwError(w, proto, cerr.status, cerr.code, cerr.msg)
		return
	}
	if out == nil {
		out = map[string]any{}
	}
	switch proto {
	case "cbor":
		w.Header().Set("Content-Type", "application/cbor")
		w.Header().Set("Smithy-Protocol", "rpc-v2-cbor")
		_, _ = w.Write(cbor.Encode(toCBOR(out)))
	case "json":
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		b, _ := json.Marshal(toJSON(out))
		_, _ = w.Write(b)
	}
}

type cwErr struct {
	status    int
	code, msg string
}

func (e *cwErr) Error() string { return e.code + ": " + e.msg }

func badInput(format string, args ...any) *cwErr {
	return &cwErr{http.StatusBadRequest, "InvalidParameterValue", fmt.Sprintf(format, args...)}
}

func cwError(w http.ResponseWriter, proto string, status int, code, msg string) {
	w.Header().Set("X-Amzn-Errortype", code)
	switch proto {
	case "cbor":
		w.Header().Set("Content-Type", "application/cbor")
		w.Header().Set("Smithy-Protocol", "rpc-v2-cbor")
		w.WriteHeader(status)
		_, _ = w.Write(cbor.Encode(toCBOR(map[string]any{"__type": "com.amazonaws.cloudwatch#" + code, "message": msg})))
	default:
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		w.WriteHeader(status)
		b, _ := json.Marshal(map[string]any{"__type": "com.amazonaws.cloudwatch#" + code, "message": msg})
		_, _ = w.Write(b)
	}
}

// --- the operations --------------------------------------------------------

func (cw *cloudWatch) call(ctx context.Context, region, op string, in map[string]any) (map[string]any, *cwErr) {
	if region == "" {
		region = "us-east-1"
	}
	switch op {
	case "PutMetricData":
		return nil, cw.putMetricData(in)
	case "GetMetricData":
		return cw.getMetricData(in)
	case "GetMetricStatistics":
		return cw.getMetricStatistics(in)
	case "ListMetrics":
		return cw.listMetrics(in), nil
	case "PutMetricAlarm":
		return nil, cw.putMetricAlarm(region, in)
	case "DescribeAlarms":
		return cw.describeAlarms(in), nil
	case "DeleteAlarms":
		return nil, cw.deleteAlarms(in)
	case "SetAlarmState":
		return nil, cw.setAlarmState(ctx, in)
	case "TagResource", "UntagResource", "ListTagsForResource":
		return cw.tags(op, in)
	}
	return nil, &cwErr{http.StatusBadRequest, "InvalidAction", "the embedded engine's CloudWatch does not implement " + op}
}

func str(m map[string]any, k string) string { s, _ := m[k].(string); return s }
func num(m map[string]any, k string) (float64, bool) {
	f, ok := m[k].(float64)
	return f, ok
}
func list(m map[string]any, k string) []any { l, _ := m[k].([]any); return l }
func strs(m map[string]any, k string) []string {
	var out []string
	for _, e := range list(m, k) {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func dims(m map[string]any, k string) []dimension {
	var out []dimension
	for _, e := range list(m, k) {
		if d, ok := e.(map[string]any); ok {
			out = append(out, dimension{str(d, "Name"), str(d, "Value")})
		}
	}
	return out
}

func dimsOut(ds []dimension) []any {
	out := []any{}
	for _, d := range ds {
		out = append(out, map[string]any{"Name": d.Name, "Value": d.Value})
	}
	return out
}

func (cw *cloudWatch) putMetricData(in map[string]any) *cwErr {
	ns := str(in, "Namespace")
	if ns == "" {
		return &cwErr{http.StatusBadRequest, "MissingParameter", "The parameter Namespace is required."}
	}
	if strings.HasPrefix(ns, "AWS/") {
		return badInput("The value AWS/ for parameter Namespace is invalid.")
	}
	now := time.Now()
	for _, e := range list(in, "MetricData") {
		md, _ := e.(map[string]any)
		name := str(md, "MetricName")
		if name == "" {
			return &cwErr{http.StatusBadRequest, "MissingParameter", "The parameter MetricData.member.MetricName is required."}
		}
		t := now
		if ts, ok := md["Timestamp"].(time.Time); ok {
			t = ts
		}
		var vals []datum
		if v, ok := num(md, "Value"); ok {
			vals = append(vals, datum{t: t, v: v, count: 1})
		}
		counts := list(md, "Counts")
		for i, x := range list(md, "Values") {
			v, _ := x.(float64)
			c := 1.0
			if i < len(counts) {
				c, _ = counts[i].(float64)
			}
			vals = append(vals, datum{t: t, v: v, count: c})
		}
		if sv, ok := md["StatisticValues"].(map[string]any); ok {
			sum, _ := num(sv, "Sum")
			n, _ := num(sv, "SampleCount")
			if n > 0 {
				vals = append(vals, datum{t: t, v: sum / n, count: n})
			}
		}
		if len(vals) == 0 {
			return &cwErr{http.StatusBadRequest, "MissingParameter", "MetricData " + name + " has no Value, Values or StatisticValues."}
		}
		engineMetrics.put(ns, name, dims(md, "Dimensions"), str(md, "Unit"), t, vals...)
	}
	return nil
}

// buckets splits [from, to) into periods, newest first (AWS's default order).
func buckets(from, to time.Time, period time.Duration) []time.Time {
	var out []time.Time
	start := from.Truncate(period)
	for t := start; t.Before(to); t = t.Add(period) {
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].After(out[j]) })
	return out
}

func periodOf(m map[string]any) time.Duration {
	p, _ := num(m, "Period")
	if p <= 0 {
		p = 60
	}
	return time.Duration(p) * time.Second
}

func (cw *cloudWatch) getMetricData(in map[string]any) (map[string]any, *cwErr) {
	from, _ := in["StartTime"].(time.Time)
	to, _ := in["EndTime"].(time.Time)
	if from.IsZero() || to.IsZero() {
		return nil, &cwErr{http.StatusBadRequest, "MissingParameter", "StartTime and EndTime are required."}
	}
	results := []any{}
	for _, e := range list(in, "MetricDataQueries") {
		q, _ := e.(map[string]any)
		ms, _ := q["MetricStat"].(map[string]any)
		if ms == nil {
			results = append(results, map[string]any{"Id": str(q, "Id"), "StatusCode": "InternalError", "Messages": []any{map[string]any{"Code": "Unsupported", "Value": "metric math is not supported by the embedded engine"}}})
			continue
		}
		metric, _ := ms["Metric"].(map[string]any)
		period := periodOf(ms)
		var ts []any
		var vs []any
		for _, b := range buckets(from, to, period) {
			vals, _ := engineMetrics.window(str(metric, "Namespace"), str(metric, "MetricName"), dims(metric, "Dimensions"), b, b.Add(period))
			if v, ok := statistic(str(ms, "Stat"), vals); ok {
				ts = append(ts, b)
				vs = append(vs, v)
			}
		}
		label := str(q, "Label")
		if label == "" {
			label = str(metric, "MetricName")
		}
		if ts == nil {
			ts, vs = []any{}, []any{}
		}
		results = append(results, map[string]any{"Id": str(q, "Id"), "Label": label, "Timestamps": ts, "Values": vs, "StatusCode": "Complete"})
	}
	return map[string]any{"MetricDataResults": results, "Messages": []any{}}, nil
}

func (cw *cloudWatch) getMetricStatistics(in map[string]any) (map[string]any, *cwErr) {
	from, _ := in["StartTime"].(time.Time)
	to, _ := in["EndTime"].(time.Time)
	period := periodOf(in)
	points := []any{}
	for _, b := range buckets(from, to, period) {
		vals, _ := engineMetrics.window(str(in, "Namespace"), str(in, "MetricName"), dims(in, "Dimensions"), b, b.Add(period))
		if len(vals) == 0 {
			continue
		}
		p := map[string]any{"Timestamp": b}
		for _, s := range strs(in, "Statistics") {
			v, _ := statistic(s, vals)
			p[s] = v
		}
		if ext := strs(in, "ExtendedStatistics"); len(ext) > 0 {
			e := map[string]any{}
			for _, s := range ext {
				v, _ := statistic(s, vals)
				e[s] = v
			}
			p["ExtendedStatistics"] = e
		}
		if u := str(in, "Unit"); u != "" {
			p["Unit"] = u
		}
		points = append(points, p)
	}
	return map[string]any{"Label": str(in, "MetricName"), "Datapoints": points}, nil
}

func (cw *cloudWatch) listMetrics(in map[string]any) map[string]any {
	out := []any{}
	for _, s := range engineMetrics.list(str(in, "Namespace"), str(in, "MetricName"), dims(in, "Dimensions")) {
		out = append(out, map[string]any{"Namespace": s.namespace, "MetricName": s.name, "Dimensions": dimsOut(s.dims)})
	}
	return map[string]any{"Metrics": out}
}

var comparisons = map[string]func(v, t float64) bool{
	"GreaterThanOrEqualToThreshold": func(v, t float64) bool { return v >= t },
	"GreaterThanThreshold":          func(v, t float64) bool { return v > t },
	"LessThanThreshold":             func(v, t float64) bool { return v < t },
	"LessThanOrEqualToThreshold":    func(v, t float64) bool { return v <= t },
}

func (cw *cloudWatch) putMetricAlarm(region string, in map[string]any) *cwErr {
	name := str(in, "AlarmName")
	if name == "" || len(name) > 255 {
		return badInput("AlarmName must be 1 to 255 characters.")
	}
	if str(in, "MetricName") == "" || str(in, "Namespace") == "" {
		return badInput("The embedded engine evaluates single-metric alarms: MetricName and Namespace are required (metric math is not supported).")
	}
	stat, ext := str(in, "Statistic"), str(in, "ExtendedStatistic")
	if (stat == "") == (ext == "") {
		return badInput("Exactly one of Statistic and ExtendedStatistic must be set.")
	}
	if stat != "" {
		if _, ok := statistic(stat, []datum{{v: 1, count: 1}}); !ok || strings.HasPrefix(stat, "p") {
			return badInput("The value %s for parameter Statistic is not a valid statistic.", stat)
		}
	}
	period, _ := num(in, "Period")
	p := int(period)
	if p != 10 && p != 30 && (p < 60 || p%60 != 0) {
		return badInput("The value %v for parameter Period is not supported: use 10, 30 or a multiple of 60.", period)
	}
	evals, _ := num(in, "EvaluationPeriods")
	if evals < 1 {
		return badInput("EvaluationPeriods must be at least 1.")
	}
	op := str(in, "ComparisonOperator")
	if comparisons[op] == nil {
		return badInput("The value %q for parameter ComparisonOperator is not supported by the embedded engine.", op)
	}
	threshold, ok := num(in, "Threshold")
	if !ok {
		return &cwErr{http.StatusBadRequest, "MissingParameter", "The parameter Threshold is required."}
	}
	missing := str(in, "TreatMissingData")
	if missing == "" {
		missing = "missing"
	}
	if !contains([]string{"breaching", "notBreaching", "ignore", "missing"}, missing) {
		return badInput("The value %q for parameter TreatMissingData is not valid.", missing)
	}
	dta, _ := num(in, "DatapointsToAlarm")
	enabled := true
	if b, ok := in["ActionsEnabled"].(bool); ok {
		enabled = b
	}
	now := time.Now().UTC()
	cw.mu.Lock()
	defer cw.mu.Unlock()
	a := cw.alarms[name]
	if a == nil {
		a = &cwAlarm{Name: name, ARN: fmt.Sprintf("arn:aws:cloudwatch:%s:%s:alarm:%s", region, cw.account, name),
			State: "INSUFFICIENT_DATA", StateReason: "Unchecked: Initial alarm creation", StateUpdated: now, Tags: map[string]string{}}
		// Tags count only when the alarm is created (AWS ignores them on update).
		for _, t := range list(in, "Tags") {
			if tm, ok := t.(map[string]any); ok {
				a.Tags[str(tm, "Key")] = str(tm, "Value")
			}
		}
		cw.alarms[name] = a
	}
	a.Description = str(in, "AlarmDescription")
	a.Namespace, a.MetricName = str(in, "Namespace"), str(in, "MetricName")
	a.Statistic, a.ExtendedStatistic = stat, ext
	a.Dimensions = dims(in, "Dimensions")
	a.Period, a.EvaluationPeriods, a.DatapointsToAlarm = p, int(evals), int(dta)
	a.Threshold, a.ComparisonOperator, a.TreatMissingData = threshold, op, missing
	a.Unit = str(in, "Unit")
	a.ActionsEnabled = enabled
	a.AlarmActions, a.OKActions, a.InsufficientData = strs(in, "AlarmActions"), strs(in, "OKActions"), strs(in, "InsufficientDataActions")
	a.ConfigUpdated = now
	a.nextEval = time.Time{} // evaluate at the next boundary of the new period
	cw.saveLocked()
	return nil
}

func (a *cwAlarm) out() map[string]any {
	m := map[string]any{
		"AlarmName": a.Name, "AlarmArn": a.ARN,
		"AlarmConfigurationUpdatedTimestamp": a.ConfigUpdated,
		"ActionsEnabled":                     a.ActionsEnabled,
		"OKActions":                          anyList(a.OKActions), "AlarmActions": anyList(a.AlarmActions),
		"InsufficientDataActions": anyList(a.InsufficientData),
		"StateValue":              a.State, "StateReason": a.StateReason,
		"StateUpdatedTimestamp":      a.StateUpdated,
		"StateTransitionedTimestamp": a.StateUpdated,
		"MetricName":                 a.MetricName, "Namespace": a.Namespace,
		"Dimensions": dimsOut(a.Dimensions), "Period": float64(a.Period),
		"EvaluationPeriods": float64(a.EvaluationPeriods), "Threshold": a.Threshold,
		"ComparisonOperator": a.ComparisonOperator, "TreatMissingData": a.TreatMissingData,
	}
	if a.Description != "" {
		m["AlarmDescription"] = a.Description
	}
	if a.StateReasonData != "" {
		m["StateReasonData"] = a.StateReasonData
	}
	if a.Statistic != "" {
		m["Statistic"] = a.Statistic
	} else {
		m["ExtendedStatistic"] = a.ExtendedStatistic
	}
	if a.DatapointsToAlarm > 0 {
		m["DatapointsToAlarm"] = float64(a.DatapointsToAlarm)
	}
	if a.Unit != "" {
		m["Unit"] = a.Unit
	}
	return m
}

func anyList(l []string) []any {
	out := []any{}
	for _, s := range l {
		out = append(out, s)
	}
	return out
}

func (cw *cloudWatch) describeAlarms(in map[string]any) map[string]any {
	names := strs(in, "AlarmNames")
	prefix, state, action := str(in, "AlarmNamePrefix"), str(in, "StateValue"), str(in, "ActionPrefix")
	if types := strs(in, "AlarmTypes"); len(types) > 0 && !contains(types, "MetricAlarm") {
		return map[string]any{"MetricAlarms": []any{}, "CompositeAlarms": []any{}}
	}
	cw.mu.Lock()
	defer cw.mu.Unlock()
	var sel []*cwAlarm
	for _, a := range cw.alarms {
		if (len(names) > 0 && !contains(names, a.Name)) || !strings.HasPrefix(a.Name, prefix) || (state != "" && a.State != state) {
			continue
		}
		if action != "" && !hasPrefixed(append(append(append([]string(nil), a.AlarmActions...), a.OKActions...), a.InsufficientData...), action) {
			continue
		}
		sel = append(sel, a)
	}
	sort.Slice(sel, func(i, j int) bool { return sel[i].Name < sel[j].Name })
	start := 0
	if tok := str(in, "NextToken"); tok != "" {
		start = sort.Search(len(sel), func(i int) bool { return sel[i].Name > tok })
	}
	maxN := 50
	if m, ok := num(in, "MaxRecords"); ok && m > 0 {
		maxN = int(m)
	}
	out := map[string]any{"CompositeAlarms": []any{}}
	alarms := []any{}
	for i := start; i < len(sel); i++ {
		if len(alarms) == maxN {
			out["NextToken"] = sel[i-1].Name
			break
		}
		alarms = append(alarms, sel[i].out())
	}
	out["MetricAlarms"] = alarms
	return out
}

func hasPrefixed(l []string, prefix string) bool {
	for _, s := range l {
		if strings.HasPrefix(s, prefix) {
			return true
		}
	}
	return false
}

func (cw *cloudWatch) deleteAlarms(in map[string]any) *cwErr {
	names := strs(in, "AlarmNames")
	cw.mu.Lock()
	defer cw.mu.Unlock()
	for _, n := range names {
		if cw.alarms[n] == nil {
			return &cwErr{http.StatusNotFound, "ResourceNotFound", "Alarm " + n + " does not exist"}
		}
	}
	for _, n := range names {
		delete(cw.alarms, n)
	}
	cw.saveLocked()
	return nil
}

func (cw *cloudWatch) setAlarmState(ctx context.Context, in map[string]any) *cwErr {
	name, state := str(in, "AlarmName"), str(in, "StateValue")
	if !contains([]string{"OK", "ALARM", "INSUFFICIENT_DATA"}, state) {
		return badInput("The value %q for parameter StateValue is not valid.", state)
	}
	cw.mu.Lock()
	a := cw.alarms[name]
	if a == nil {
		cw.mu.Unlock()
		return &cwErr{http.StatusNotFound, "ResourceNotFound", "Alarm " + name + " does not exist"}
	}
	note := cw.transitionLocked(a, state, str(in, "StateReason"), str(in, "StateReasonData"))
	cw.mu.Unlock()
	cw.notify(ctx, note)
	return nil
}

func (cw *cloudWatch) tags(op string, in map[string]any) (map[string]any, *cwErr) {
	arn := str(in, "ResourceARN")
	cw.mu.Lock()
	defer cw.mu.Unlock()
	var a *cwAlarm
	for _, x := range cw.alarms {
		if x.ARN == arn {
			a = x
		}
	}
	if a == nil {
		return nil, &cwErr{http.StatusNotFound, "ResourceNotFoundException", "Resource " + arn + " does not exist"}
	}
	switch op {
	case "TagResource":
		for _, t := range list(in, "Tags") {
			if tm, ok := t.(map[string]any); ok {
				a.Tags[str(tm, "Key")] = str(tm, "Value")
			}
		}
	case "UntagResource":
		for _, k := range strs(in, "TagKeys") {
			delete(a.Tags, k)
		}
	case "ListTagsForResource":
		tags := []any{}
		for _, k := range sortedKeys(a.Tags) {
			tags = append(tags, map[string]any{"Key": k, "Value": a.Tags[k]})
		}
		return map[string]any{"Tags": tags}, nil
	}
	cw.saveLocked()
	return nil, nil
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func contains(l []string, s string) bool {
	for _, e := range l {
		if e == s {
			return true
		}
	}
	return false
}

// --- evaluation ----------------------------------------------------------------

// notification is a state change to publish to an alarm's topics.
type notification struct {
	topics  []string
	subject string
	body    []byte
}

// transitionLocked moves a to state; it returns the notification to publish
// (nil when the state did not change or no action is set).
func (cw *cloudWatch) transitionLocked(a *cwAlarm, state, reason, data string) *notification {
	old := a.State
	now := time.Now().UTC()
	a.StateReason, a.StateReasonData = reason, data
	if old == state {
		return nil
	}
	a.State, a.StateUpdated = state, now
	cw.saveLocked()
	var topics []string
	if a.ActionsEnabled {
		switch state {
		case "ALARM":
			topics = a.AlarmActions
		case "OK":
			topics = a.OKActions
		case "INSUFFICIENT_DATA":
			topics = a.InsufficientData
		}
	}
	if len(topics) == 0 {
		return nil
	}
	region := "us-east-1"
	if p := strings.Split(a.ARN, ":"); len(p) > 3 {
		region = p[3]
	}
	trigger := map[string]any{
		"MetricName": a.MetricName, "Namespace": a.Namespace, "StatisticType": "Statistic",
		"Statistic": strings.ToUpper(a.Statistic), "Unit": nil, "Dimensions": dimsLower(a.Dimensions),
		"Period": a.Period, "EvaluationPeriods": a.EvaluationPeriods, "ComparisonOperator": a.ComparisonOperator,
		"Threshold": a.Threshold, "TreatMissingData": a.TreatMissingData, "EvaluateLowSampleCountPercentile": "",
	}
	if a.ExtendedStatistic != "" {
		trigger["StatisticType"], trigger["ExtendedStatistic"] = "ExtendedStatistic", a.ExtendedStatistic
		delete(trigger, "Statistic")
	}
	if a.Unit != "" {
		trigger["Unit"] = a.Unit
	}
	if a.DatapointsToAlarm > 0 {
		trigger["DatapointsToAlarm"] = a.DatapointsToAlarm
	}
	// The message AWS sends (CloudWatch alarm notification JSON).
	msg := map[string]any{
		"AlarmName": a.Name, "AlarmDescription": nilIfEmpty(a.Description), "AWSAccountId": cw.account,
		"AlarmConfigurationUpdatedTimestamp": a.ConfigUpdated.Format("2006-01-02T15:04:05.000-0700"),
		"NewStateValue":                      state, "NewStateReason": reason,
		"StateChangeTime": now.Format("2006-01-02T15:04:05.000-0700"), "Region": regionName(region),
		"AlarmArn": a.ARN, "OldStateValue": old, "OKActions": anyList(a.OKActions),
		"AlarmActions": anyList(a.AlarmActions), "InsufficientDataActions": anyList(a.InsufficientData),
		"Trigger": trigger,
	}
	body, _ := json.Marshal(msg)
	subject := fmt.Sprintf("%s: %q in %s", state, a.Name, regionName(region))
	if len(subject) > 100 {
		subject = subject[:100]
	}
	return &notification{topics: append([]string(nil), topics...), subject: subject, body: body}
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func dimsLower(ds []dimension) []any {
	out := []any{}
	for _, d := range ds {
		out = append(out, map[string]any{"name": d.Name, "value": d.Value})
	}
	return out
}

// regionName is how alarm notifications name a region.
func regionName(region string) string {
	names := map[string]string{
		"us-east-1": "US East (N. Virginia)", "us-east-2": "US East (Ohio)", "us-west-1": "US West (N. California)",
		"us-west-2": "US West (Oregon)", "eu-west-1": "EU (Ireland)", "eu-central-1": "EU (Frankfurt)",
		"eu-west-2": "EU (London)", "ap-northeast-1": "Asia Pacific (Tokyo)", "ap-southeast-2": "Asia Pacific (Sydney)",
	}
	if n, ok := names[region]; ok {
		return n
	}
	return region
}

// notify publishes a state change to each topic (through the engine, so
// its subscriptions are delivered as any other message).
func (cw *cloudWatch) notify(ctx context.Context, n *notification) {
	if n == nil {
		return
	}
	for _, arn := range n.topics {
		form := url.Values{"Action": {"Publish"}, "Version": {"2010-03-31"}, "TopicArn": {arn}, "Message": {string(n.body)}, "Subject": {n.subject}}
		if _, _, err := cw.front.do(ctx, http.MethodPost, "/", "sns", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, []byte(form.Encode())); err != nil {
			cw.lg.Printf("alarm notification to %s: %v", arn, err)
		}
	}
}

// run evaluates each alarm at the end of each of its periods (aligned, like
// CloudWatch's), plus a short delay for the last samples to land.
func (cw *cloudWatch) run(ctx context.Context) {
	const settle = 1500 * time.Millisecond
	for sleepCtx(ctx, 500*time.Millisecond) {
		now := time.Now()
		var notes []*notification
		cw.mu.Lock()
		for _, a := range cw.alarms {
			period := time.Duration(a.Period) * time.Second
			if period <= 0 {
				continue
			}
			if a.nextEval.IsZero() {
				a.nextEval = now.Truncate(period).Add(period + settle)
			}
			if now.Before(a.nextEval) {
				continue
			}
			a.nextEval = now.Truncate(period).Add(period + settle)
			if n := cw.evaluateLocked(a, now.Add(-settle).Truncate(period)); n != nil {
				notes = append(notes, n)
			}
		}
		cw.mu.Unlock()
		for _, n := range notes {
			cw.notify(ctx, n)
		}
	}
}

// evaluateLocked judges the EvaluationPeriods periods that ended at end.
func (cw *cloudWatch) evaluateLocked(a *cwAlarm, end time.Time) *notification {
	period := time.Duration(a.Period) * time.Second
	stat := a.Statistic
	if stat == "" {
		stat = a.ExtendedStatistic
	}
	cmp := comparisons[a.ComparisonOperator]
	need := a.DatapointsToAlarm
	if need <= 0 {
		need = a.EvaluationPeriods
	}
	var breaching, missing int
	var last float64
	var points []string
	for i := a.EvaluationPeriods; i >= 1; i-- {
		from := end.Add(-time.Duration(i) * period)
		vals, _ := engineMetrics.window(a.Namespace, a.MetricName, a.Dimensions, from, from.Add(period))
		v, ok := statistic(stat, vals)
		switch {
		case !ok:
			missing++
			if a.TreatMissingData == "breaching" {
				breaching++
			}
		case cmp(v, a.Threshold):
			breaching++
			last = v
			points = append(points, fmt.Sprintf("%g (%s)", v, from.UTC().Format("02/01/06 15:04:05")))
		default:
			last = v
			points = append(points, fmt.Sprintf("%g (%s)", v, from.UTC().Format("02/01/06 15:04:05")))
		}
	}
	var state, reason string
	switch {
	case missing == a.EvaluationPeriods && (a.TreatMissingData == "missing" || a.TreatMissingData == ""):
		state, reason = "INSUFFICIENT_DATA", fmt.Sprintf("Insufficient Data: %d datapoints were unknown.", missing)
	case missing == a.EvaluationPeriods && a.TreatMissingData == "ignore":
		return nil // keep the current state
	case breaching >= need:
		state = "ALARM"
		reason = fmt.Sprintf("Threshold Crossed: %d out of the last %d datapoints [%s] was %s the threshold (%g) (minimum %d datapoint for OK -> ALARM transition).",
			breaching, a.EvaluationPeriods, strings.Join(points, ", "), opWords(a.ComparisonOperator), a.Threshold, need)
	default:
		state = "OK"
		reason = fmt.Sprintf("Threshold Crossed: %d out of the last %d datapoints [%s] was not %s the threshold (%g) (minimum %d datapoint for ALARM -> OK transition).",
			a.EvaluationPeriods-breaching, a.EvaluationPeriods, strings.Join(points, ", "), opWords(a.ComparisonOperator), a.Threshold, 1)
		if len(points) == 0 {
			reason = "Threshold Crossed: no datapoints were received for " + fmt.Sprint(a.EvaluationPeriods) + " periods and " + fmt.Sprint(a.EvaluationPeriods) + " missing datapoints were treated as [NonBreaching]."
		}
	}
	_ = last
	data, _ := json.Marshal(map[string]any{"version": "1.0", "queryDate": time.Now().UTC().Format("2006-01-02T15:04:05.000+0000"), "statistic": stat, "period": a.Period, "threshold": a.Threshold, "evaluatedDatapoints": len(points)})
	return cw.transitionLocked(a, state, reason, string(data))
}

func opWords(op string) string {
	switch op {
	case "GreaterThanOrEqualToThreshold":
		return "greater than or equal to"
	case "GreaterThanThreshold":
		return "greater than"
	case "LessThanThreshold":
		return "less than"
	}
	return "less than or equal to"
}

// watchedQueues are the queues SQS-metric alarms look at.
func (cw *cloudWatch) watchedQueues() []string {
	cw.mu.Lock()
	defer cw.mu.Unlock()
	seen := map[string]bool{}
	var out []string
	for _, a := range cw.alarms {
		if a.Namespace != "AWS/SQS" {
			continue
		}
		for _, d := range a.Dimensions {
			if d.Name == "QueueName" && !seen[d.Value] {
				seen[d.Value] = true
				out = append(out, d.Value)
			}
		}
	}
	sort.Strings(out)
	return out
}

// alarmStates reports every alarm's state (for status).
func (cw *cloudWatch) alarmStates() map[string]string {
	cw.mu.Lock()
	defer cw.mu.Unlock()
	out := map[string]string{}
	for n, a := range cw.alarms {
		out[n] = a.State
	}
	return out
}

// --- protocol values ------------------------------------------------------------

// timestampKeys are the members whose JSON value is an epoch-seconds time.
var timestampKeys = map[string]bool{"Timestamp": true, "StartTime": true, "EndTime": true, "StartDate": true, "EndDate": true}

// fromCBOR turns a decoded CBOR value into plain Go values: maps, lists,
// strings, float64 numbers, bools and time.Time (tag 1).
func fromCBOR(v cbor.Value) any {
	switch x := v.(type) {
	case cbor.Map:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = fromCBOR(e)
		}
		return m
	case cbor.List:
		l := make([]any, len(x))
		for i, e := range x {
			l[i] = fromCBOR(e)
		}
		return l
	case cbor.String:
		return string(x)
	case cbor.Uint:
		return float64(x)
	case cbor.NegInt:
		return -float64(x)
	case cbor.Float64:
		return float64(x)
	case cbor.Float32:
		return float64(x)
	case cbor.Bool:
		return bool(x)
	case *cbor.Tag:
		if t, err := cbor.AsTime(x); err == nil {
			return t
		}
	case cbor.Slice:
		return []byte(x)
	}
	return nil
}

func fromJSON(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if n, ok := e.(json.Number); ok && timestampKeys[k] {
				f, _ := n.Float64()
				x[k] = time.UnixMilli(int64(f * 1000))
				continue
			}
			x[k] = fromJSON(e)
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = fromJSON(e)
		}
		return x
	case json.Number:
		f, _ := x.Float64()
		return f
	}
	return v
}

func toCBOR(v any) cbor.Value {
	switch x := v.(type) {
	case map[string]any:
		m := cbor.Map{}
		for k, e := range x {
			if e == nil {
				continue
			}
			m[k] = toCBOR(e)
		}
		return m
	case []any:
		l := cbor.List{}
		for _, e := range x {
			l = append(l, toCBOR(e))
		}
		return l
	case string:
		return cbor.String(x)
	case bool:
		return cbor.Bool(x)
	case int:
		return toCBOR(float64(x))
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
			if x < 0 {
				return cbor.NegInt(uint64(-x))
			}
			return cbor.Uint(uint64(x))
		}
		return cbor.Float64(x)
	case time.Time:
		return &cbor.Tag{ID: 1, Value: cbor.Float64(float64(x.UnixMilli()) / 1000)}
	}
	return &cbor.Nil{}
}

func toJSON(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := map[string]any{}
		for k, e := range x {
			if e != nil {
				m[k] = toJSON(e)
			}
		}
		return m
	case []any:
		l := make([]any, len(x))
		for i, e := range x {
			l[i] = toJSON(e)
		}
		return l
	case time.Time:
		return float64(x.UnixMilli()) / 1000
	}
	return v
}
