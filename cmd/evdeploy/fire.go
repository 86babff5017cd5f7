package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/spf13/cobra"

	"github.com/evdeploy/evdeploy/localstack"
	"github.com/evdeploy/evdeploy/planner"
	"github.com/evdeploy/evdeploy/spec"
	"github.com/evdeploy/evdeploy/state"
)

func init() { registerVerb(newCmdFire) }

// FireOptions are fire's flags.
type FireOptions struct {
	Trigger string
	Payload string
}

func newCmdFire(f *Factory) *cobra.Command {
	opts := &FireOptions{}
	cmd := &cobra.Command{
		Use:   "fire TRIGGER",
		Short: "Fire a trigger now, through its real event source",
		Long: `fire produces one event at a deployed trigger's source, so the event travels
the way it will in production: an HTTP request to the route, an object put
under the S3 prefix (with the suffix), a message published or sent, a record
put on the stream, an item put in the table, an event put on the bus (built
from the pattern's first values), or a schedule fired now. --payload replaces
the sample: the request or message body, the object's content, the record's
data, the item (a JSON object), the event ({"source", "detail-type",
"detail"}), or the schedule's event.

A schedule fires through the engine on the embedded local cloud (each target
gets the Scheduled Event or its constant input); elsewhere EventBridge cannot
fire a rule on demand, so fire invokes the function asynchronously with the
event EventBridge would send.`,
		Example: `  evdeploy fire uploads --target local                 # puts incoming/evdeploy-fire-….txt
  evdeploy fire nightly --target local                 # the schedule fires now
  evdeploy fire orders --payload '{"id":"order-1"}'
  evdeploy fire order_placed --payload @event.json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Trigger = args[0]
			return fireRun(cmd.Context(), f, opts)
		},
	}
	cmd.Flags().StringVar(&opts.Payload, "payload", "", "the event's content instead of the sample: JSON or text, or @FILE")
	return cmd
}

func fireRun(ctx context.Context, f *Factory, opts *FireOptions) error {
	if ctx == nil {
		ctx = context.Background()
	}
	payload := opts.Payload
	if name, ok := strings.CutPrefix(payload, "@"); ok {
		b, err := os.ReadFile(name)
		if err != nil {
			return fmt.Errorf("--payload: %w", err)
		}
		payload = string(b)
	}
	app, _, err := loadApp(f)
	if err != nil {
		return err
	}
	want := strings.TrimPrefix(opts.Trigger, "trigger.")
	var trig *spec.Trigger
	var names []string
	for _, t := range app.Triggers {
		names = append(names, t.Addr.Name)
		if t.Addr.Name == want {
			trig = t
		}
	}
	if trig == nil {
		return fmt.Errorf("no trigger %q in this project (triggers: %s)", want, strings.Join(names, ", "))
	}
	doc, err := readState(ctx, f)
	if err != nil {
		return err
	}
	var cfg aws.Config
	var tgt *TargetInfo
	attrs := func(block spec.Addr, typ string) (map[string]any, error) {
		if app.ExistingOf(block) != nil {
			// Made elsewhere: not in state; read it as plan does.
			ext, diags := readExternal(ctx, app, cfg, tgt)
			if diags.HasErrors() {
				return nil, fmt.Errorf("%s: %s", block, diags.Error())
			}
			return ext.existing[block], nil
		}
		addr := planner.ResourceAddr{Block: block.String(), Type: typ, Name: "main"}.String()
		if r := findResource(doc, addr); r != nil {
			return r.Attrs, nil
		}
		return nil, fmt.Errorf("%s is not deployed in this stage (no %s in state): run apply first", block, addr)
	}
	str := func(m map[string]any, k string) string { s, _ := m[k].(string); return s }
	cfg, tgt, err = f.AWSConfig(ctx, app.Region)
	if err != nil {
		return err
	}
	w := f.IO.ErrOut
	stamp := time.Now().UTC().Format("20060102T150405.000")
	stamp = strings.ReplaceAll(stamp, ".", "")
	switch {
	case trig.HTTP != nil:
		a, err := attrs(trig.HTTP.API, planner.TypeAPI)
		if err != nil {
			return err
		}
		return fireHTTP(ctx, f, tgt, str(a, "id"), str(a, "api_endpoint"), trig.HTTP.Route, payload)
	case trig.S3 != nil:
		a, err := attrs(trig.S3.Bucket, planner.TypeBucket)
		if err != nil {
			return err
		}
		key := trig.S3.Prefix + "evdeploy-fire-" + stamp + trig.S3.Suffix
		if payload == "" {
			payload = "evdeploy fire " + trig.Addr.String() + "\n"
		}
		c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = tgt.Target == "local" })
		bucket := str(a, "name")
		if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: &key, Body: strings.NewReader(payload)}); err != nil {
			return fmt.Errorf("%s: put s3://%s/%s: %w", trig.Addr, bucket, key, err)
		}
		fmt.Fprintf(w, "%s: put s3://%s/%s\n", trig.Addr, bucket, key)
		if !s3Fires(trig.S3.Events, "s3:ObjectCreated:Put") && s3Fires(trig.S3.Events, "s3:ObjectRemoved:Delete") {
			if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &bucket, Key: &key}); err != nil {
				return fmt.Errorf("%s: delete s3://%s/%s: %w", trig.Addr, bucket, key, err)
			}
			fmt.Fprintf(w, "%s: deleted s3://%s/%s\n", trig.Addr, bucket, key)
		}
	case trig.Topic != nil:
		a, err := attrs(trig.Topic.Topic, planner.TypeTopic)
		if err != nil {
			return err
		}
		if payload == "" {
			payload = fmt.Sprintf(`{"evdeploy":"fire","trigger":%q}`, trig.Addr.String())
		}
		out, err := sns.NewFromConfig(cfg).Publish(ctx, &sns.PublishInput{TopicArn: aws.String(str(a, "arn")), Message: &payload})
		if err != nil {
			return fmt.Errorf("%s: publish to %s: %w", trig.Addr, str(a, "arn"), err)
		}
		fmt.Fprintf(w, "%s: published message %s to %s\n", trig.Addr, aws.ToString(out.MessageId), str(a, "name"))
	case trig.Queue != nil:
		a, err := attrs(trig.Queue.Queue, planner.TypeQueue)
		if err != nil {
			return err
		}
		if payload == "" {
			payload = fmt.Sprintf(`{"evdeploy":"fire","trigger":%q}`, trig.Addr.String())
		}
		in := &sqs.SendMessageInput{QueueUrl: aws.String(str(a, "url")), MessageBody: &payload}
		if fifo, _ := a["fifo"].(bool); fifo {
			in.MessageGroupId = aws.String("evdeploy")
			in.MessageDeduplicationId = aws.String(stamp)
		}
		out, err := sqs.NewFromConfig(cfg).SendMessage(ctx, in)
		if err != nil {
			return fmt.Errorf("%s: send to %s: %w", trig.Addr, str(a, "name"), err)
		}
		fmt.Fprintf(w, "%s: sent message %s to %s\n", trig.Addr, aws.ToString(out.MessageId), str(a, "name"))
	case trig.Kinesis != nil:
		a, err := attrs(trig.Kinesis.Source, planner.TypeStream)
		if err != nil {
			return err
		}
		if payload == "" {
			payload = fmt.Sprintf(`{"evdeploy":"fire","trigger":%q}`, trig.Addr.String())
		}
		out, err := kinesis.NewFromConfig(cfg).PutRecord(ctx, &kinesis.PutRecordInput{
			StreamName: aws.String(str(a, "name")), PartitionKey: aws.String("evdeploy-" + stamp), Data: []byte(payload)})
		if err != nil {
			return fmt.Errorf("%s: put record on %s: %w", trig.Addr, str(a, "name"), err)
		}
		fmt.Fprintf(w, "%s: put record %s on %s\n", trig.Addr, aws.ToString(out.SequenceNumber), str(a, "name"))
	case trig.DynamoDB != nil:
		a, err := attrs(trig.DynamoDB.Source, planner.TypeTable)
		if err != nil {
			return err
		}
		item, err := fireItem(a, payload, stamp)
		if err != nil {
			return fmt.Errorf("%s: %w", trig.Addr, err)
		}
		if _, err := dynamodb.NewFromConfig(cfg).PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(str(a, "name")), Item: item}); err != nil {
			return fmt.Errorf("%s: put item in %s: %w", trig.Addr, str(a, "name"), err)
		}
		fmt.Fprintf(w, "%s: put an item in %s\n", trig.Addr, str(a, "name"))
	case trig.Event != nil:
		bus := "default"
		if trig.Event.Bus.Name != "" {
			a, err := attrs(trig.Event.Bus, planner.TypeBus)
			if err != nil {
				return err
			}
			bus = str(a, "name")
		}
		entry, err := fireEvent(trig.Event.Pattern, payload)
		if err != nil {
			return fmt.Errorf("%s: %w", trig.Addr, err)
		}
		entry.EventBusName = &bus
		out, err := eventbridge.NewFromConfig(cfg).PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{entry}})
		if err != nil {
			return fmt.Errorf("%s: put event on bus %s: %w", trig.Addr, bus, err)
		}
		if out.FailedEntryCount > 0 && len(out.Entries) > 0 {
			return fmt.Errorf("%s: put event on bus %s: %s", trig.Addr, bus, aws.ToString(out.Entries[0].ErrorMessage))
		}
		fmt.Fprintf(w, "%s: put event (source %s, detail-type %s) on bus %s\n", trig.Addr, aws.ToString(entry.Source), aws.ToString(entry.DetailType), bus)
	case trig.Schedule != nil:
		r := findResource(doc, planner.ResourceAddr{Block: trig.Addr.String(), Type: planner.TypeRule, Name: "main"}.String())
		if r == nil {
			return fmt.Errorf("%s is not deployed in this stage: run apply first", trig.Addr)
		}
		rule, _ := r.Attrs["name"].(string)
		if tgt.Engine == localstack.KindEmbedded && payload == "" {
			return fireRuleLocal(ctx, f, tgt.Endpoint, trig, rule)
		}
		return fireScheduleByInvoke(ctx, f, doc, cfg, trig, r, payload)
	default:
		return fmt.Errorf("%s: fire does not know its source", trig.Addr)
	}
	return nil
}

func findResource(doc *state.Document, addr string) *state.Resource {
	if doc == nil {
		return nil
	}
	for i := range doc.Resources {
		if doc.Resources[i].Addr == addr {
			return &doc.Resources[i]
		}
	}
	return nil
}

// s3Fires reports whether the trigger's events cover name.
func s3Fires(events []string, name string) bool {
	if len(events) == 0 {
		return name == "s3:ObjectCreated:Put"
	}
	for _, e := range events {
		if e == name || strings.HasSuffix(e, ":*") && strings.HasPrefix(name, strings.TrimSuffix(e, "*")) {
			return true
		}
	}
	return false
}

var routeParam = regexp.MustCompile(`\{[^}]+\}`)

// fireHTTP sends one request to an HTTP route and prints the answer.
func fireHTTP(ctx context.Context, f *Factory, tgt *TargetInfo, apiID, apiEndpoint, route, payload string) error {
	method, path := "GET", "/"
	if route != "$default" {
		method, path, _ = strings.Cut(route, " ")
		if method == "ANY" {
			method = "GET"
		}
		path = routeParam.ReplaceAllString(path, "sample")
	}
	if payload != "" && method == "GET" && route != "$default" && !strings.HasPrefix(route, "GET ") {
		method = "POST"
	}
	base, host := apiEndpoint, ""
	if tgt.Engine == localstack.KindEmbedded {
		// The engine routes by Host; Go does not resolve *.localhost.
		base = tgt.Endpoint
		host = apiID + ".execute-api.localhost" + strings.TrimPrefix(tgt.Endpoint, "http://127.0.0.1")
	}
	var body io.Reader
	if payload != "" {
		body = strings.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(base, "/")+path, body)
	if err != nil {
		return err
	}
	if host != "" {
		req.Host = host
	}
	if payload != "" && json.Valid([]byte(payload)) {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, req.URL, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	fmt.Fprintf(f.IO.ErrOut, "%s %s → %s\n", method, path, resp.Status)
	f.IO.Out.Write(b)
	if len(b) > 0 && b[len(b)-1] != '\n' {
		fmt.Fprintln(f.IO.Out)
	}
	if resp.StatusCode >= 500 {
		return fmt.Errorf("the route answered %s", resp.Status)
	}
	return nil
}

// fireItem is the item put in a table: the payload (a JSON object), with
// the table's keys filled in when it lacks them.
func fireItem(table map[string]any, payload, stamp string) (map[string]ddbtypes.AttributeValue, error) {
	obj := map[string]any{}
	if payload != "" {
		if err := json.Unmarshal([]byte(payload), &obj); err != nil {
			return nil, fmt.Errorf("--payload must be a JSON object (the item): %w", err)
		}
	}
	for _, k := range []string{"hash_key", "range_key"} {
		name, _ := table[k].(string)
		if name == "" {
			continue
		}
		if _, ok := obj[name]; ok {
			continue
		}
		switch table[k+"_type"] {
		case "N":
			obj[name] = json.Number(strings.TrimLeft(stamp[:8]+stamp[9:], "0"))
		case "B":
			obj[name] = []byte("evdeploy-fire-" + stamp)
		default:
			obj[name] = "evdeploy-fire-" + stamp
		}
	}
	item := map[string]ddbtypes.AttributeValue{}
	for k, v := range obj {
		av, err := toAttributeValue(v)
		if err != nil {
			return nil, fmt.Errorf("item attribute %s: %w", k, err)
		}
		item[k] = av
	}
	return item, nil
}

func toAttributeValue(v any) (ddbtypes.AttributeValue, error) {
	switch v := v.(type) {
	case nil:
		return &ddbtypes.AttributeValueMemberNULL{Value: true}, nil
	case string:
		return &ddbtypes.AttributeValueMemberS{Value: v}, nil
	case bool:
		return &ddbtypes.AttributeValueMemberBOOL{Value: v}, nil
	case float64:
		return &ddbtypes.AttributeValueMemberN{Value: fmt.Sprint(v)}, nil
	case json.Number:
		return &ddbtypes.AttributeValueMemberN{Value: v.String()}, nil
	case []byte:
		return &ddbtypes.AttributeValueMemberB{Value: v}, nil
	case []any:
		l := make([]ddbtypes.AttributeValue, len(v))
		for i, e := range v {
			av, err := toAttributeValue(e)
			if err != nil {
				return nil, err
			}
			l[i] = av
		}
		return &ddbtypes.AttributeValueMemberL{Value: l}, nil
	case map[string]any:
		m := map[string]ddbtypes.AttributeValue{}
		for k, e := range v {
			av, err := toAttributeValue(e)
			if err != nil {
				return nil, err
			}
			m[k] = av
		}
		return &ddbtypes.AttributeValueMemberM{Value: m}, nil
	}
	return nil, fmt.Errorf("unsupported value %v", v)
}

// fireEvent builds the PutEvents entry: the payload's, or one made from the
// pattern's first literal values (so the trigger's own rule matches it).
func fireEvent(pattern, payload string) (ebtypes.PutEventsRequestEntry, error) {
	var ev map[string]any
	if payload != "" {
		if err := json.Unmarshal([]byte(payload), &ev); err != nil {
			return ebtypes.PutEventsRequestEntry{}, fmt.Errorf(`--payload must be an event, {"source": …, "detail-type": …, "detail": {…}}: %w`, err)
		}
	} else {
		var p map[string]any
		if err := json.Unmarshal([]byte(pattern), &p); err != nil {
			return ebtypes.PutEventsRequestEntry{}, fmt.Errorf("event pattern: %w", err)
		}
		ev, _ = samplePattern(p).(map[string]any)
	}
	str := func(k, def string) *string {
		if s, ok := ev[k].(string); ok && s != "" {
			return &s
		}
		return &def
	}
	detail := "{}"
	if d, ok := ev["detail"]; ok {
		b, _ := json.Marshal(d)
		detail = string(b)
	}
	return ebtypes.PutEventsRequestEntry{Source: str("source", "evdeploy.fire"), DetailType: str("detail-type", "evdeploy fire"), Detail: &detail}, nil
}

// samplePattern turns a pattern into a value it matches where it can: the
// first literal of each array, objects descended; filters give a plausible
// value (prefix → the prefix, numeric → a bound, anything-but → a marker).
func samplePattern(p any) any {
	switch p := p.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, v := range p {
			if k == "$or" {
				if alts, ok := v.([]any); ok && len(alts) > 0 {
					if m, ok := samplePattern(alts[0]).(map[string]any); ok {
						for kk, vv := range m {
							out[kk] = vv
						}
					}
				}
				continue
			}
			if s := samplePattern(v); s != nil {
				out[k] = s
			}
		}
		return out
	case []any:
		for _, e := range p {
			switch e := e.(type) {
			case map[string]any:
				for op, arg := range e {
					switch op {
					case "prefix", "suffix", "equals-ignore-case":
						if s, ok := arg.(string); ok {
							return s
						}
					case "numeric":
						if c, ok := arg.([]any); ok && len(c) >= 2 {
							if n, ok := c[1].(float64); ok {
								switch c[0] {
								case ">":
									return n + 1
								case "<":
									return n - 1
								}
								return n
							}
						}
					case "anything-but":
						return "evdeploy-fire"
					case "wildcard":
						if s, ok := arg.(string); ok {
							return strings.ReplaceAll(s, "*", "x")
						}
					case "exists":
						if b, _ := arg.(bool); b {
							return "evdeploy-fire"
						}
						return nil
					}
				}
			default:
				return e
			}
		}
	}
	return nil
}

// fireRuleLocal asks the embedded engine to fire a schedule rule now.
func fireRuleLocal(ctx context.Context, f *Factory, endpoint string, trig *spec.Trigger, rule string) error {
	body, _ := json.Marshal(map[string]string{"rule": rule, "bus": "default"})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint+localstack.FirePath, bytes.NewReader(body))
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("%s: fire rule %s: %w", trig.Addr, rule, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: fire rule %s: %s: %s", trig.Addr, rule, resp.Status, bytes.TrimSpace(b))
	}
	var out struct{ Targets int }
	_ = json.Unmarshal(b, &out)
	fmt.Fprintf(f.IO.ErrOut, "%s: schedule rule %s fired (%d target(s))\n", trig.Addr, rule, out.Targets)
	return nil
}

// fireScheduleByInvoke sends the function the event EventBridge would: the
// trigger's input, or a Scheduled Event (or the payload given).
func fireScheduleByInvoke(ctx context.Context, f *Factory, doc *state.Document, cfg aws.Config, trig *spec.Trigger, rule *state.Resource, payload string) error {
	fn := findResource(doc, planner.ResourceAddr{Block: trig.Function.String(), Type: planner.TypeFunction, Name: "main"}.String())
	if fn == nil {
		return fmt.Errorf("%s is not deployed in this stage: run apply first", trig.Function)
	}
	if payload == "" {
		payload = trig.Schedule.Input
	}
	if payload == "" {
		arn, _ := rule.Attrs["arn"].(string)
		b, _ := json.Marshal(map[string]any{
			"version": "0", "id": fmt.Sprintf("evdeploy-fire-%d", time.Now().UnixNano()), "detail-type": "Scheduled Event",
			"source": "aws.events", "account": strings.Split(arn+":::::", ":")[4], "time": time.Now().UTC().Format("2006-01-02T15:04:05Z"),
			"region": cfg.Region, "resources": []string{arn}, "detail": map[string]any{},
		})
		payload = string(b)
	}
	out, err := lambda.NewFromConfig(cfg).Invoke(ctx, &lambda.InvokeInput{
		FunctionName: aws.String(fn.ID), Payload: []byte(payload), InvocationType: lambdatypes.InvocationTypeEvent})
	if err != nil {
		return fmt.Errorf("%s: invoke %s: %w", trig.Addr, fn.ID, err)
	}
	fmt.Fprintf(f.IO.ErrOut, "%s: invoked %s with the schedule's event (status %d)\n", trig.Addr, fn.ID, out.StatusCode)
	return nil
}
