package main

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/google/go-cmp/cmp"
)

// The pair of apps the existing/app_outputs tests deploy: core owns a bus
// and publishes its name; orders triggers from core's bus (through
// app_outputs) and from a queue, a topic and a bucket made by hand, and
// routes into the hand-made topic and queue (so it adds statements to their
// policies).
const coreSpec = `
app "core" {}

bus "events" {}

output "bus_name" {
  value = bus.events.name
}

output "label" {
  value = "v1"
}
`

const ordersSpec = `
app "orders" {}

app_outputs "core" {
  path = "../core"
}

bus "core" {
  existing = app_outputs.core.bus_name
}

queue "jobs" {
  existing = "%[1]s"
}

topic "news" {
  existing = "%[2]s"
}

bucket "landing" {
  existing = "%[3]s"
}

function "worker" {
  runtime     = "python3.12"
  source      = "./fn"
  handler     = "main.handler"
  environment = { CORE_BUS = app_outputs.core.bus_name, LABEL = app_outputs.core.label }
  uses        = [bus.core.put]
}

trigger "jobs" {
  function = function.worker
  queue { queue = queue.jobs }
}

trigger "news" {
  function = function.worker
  topic { topic = topic.news }
}

trigger "landing" {
  function = function.worker
  s3 {
    bucket = bucket.landing
    events = ["created"]
    prefix = "in/"
  }
}

trigger "orders" {
  function = function.worker
  event {
    bus     = bus.core
    pattern = { source = ["shop.orders"] }
  }
}

route "alerts" {
  to = topic.news
  event {
    bus     = bus.core
    pattern = { source = ["shop.alerts"] }
  }
}

route "news_to_jobs" {
  to = queue.jobs
  topic { topic = topic.news }
}
`

// handMade are the resources someone else made, that orders uses.
type handMade struct {
	queue, queueURL, topic, topicArn, bucket, audit, auditArn string
}

const handQueuePolicy = `{"Version":"2012-10-17","Id":"team-jobs","Statement":[{"Sid":"TeamSend","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"sqs:SendMessage","Resource":"*"}]}`

func makeHandMade(t *testing.T, cfg aws.Config, stage string) handMade {
	t.Helper()
	ctx := context.Background()
	h := handMade{queue: "hm-jobs-" + stage, topic: "hm-news-" + stage, bucket: "hm-landing-" + stage, audit: "hm-audit-" + stage}
	q := sqs.NewFromConfig(cfg)
	out, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(h.queue),
		Attributes: map[string]string{"VisibilityTimeout": "123", "Policy": handQueuePolicy},
		Tags:       map[string]string{"team": "jobs"}})
	if err != nil {
		t.Fatal(err)
	}
	h.queueURL = aws.ToString(out.QueueUrl)
	aout, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(h.audit)})
	if err != nil {
		t.Fatal(err)
	}
	attrs, err := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aout.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		t.Fatal(err)
	}
	h.auditArn = attrs.Attributes["QueueArn"]

	n := sns.NewFromConfig(cfg)
	tout, err := n.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(h.topic), Tags: nil})
	if err != nil {
		t.Fatal(err)
	}
	h.topicArn = aws.ToString(tout.TopicArn)
	policy := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Sid":"TeamPublish","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"sns:Publish","Resource":%q}]}`, h.topicArn)
	if _, err := n.SetTopicAttributes(ctx, &sns.SetTopicAttributesInput{TopicArn: tout.TopicArn, AttributeName: aws.String("Policy"), AttributeValue: aws.String(policy)}); err != nil {
		t.Fatal(err)
	}

	s := s3Client(cfg)
	if _, err := s.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(h.bucket)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: aws.String(h.bucket), Tagging: &s3types.Tagging{TagSet: []s3types.Tag{{Key: aws.String("team"), Value: aws.String("landing")}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{Bucket: aws.String(h.bucket),
		NotificationConfiguration: &s3types.NotificationConfiguration{QueueConfigurations: []s3types.QueueConfiguration{{
			Id: aws.String("team-audit"), QueueArn: aws.String(h.auditArn), Events: []s3types.Event{"s3:ObjectCreated:*"},
			Filter: &s3types.NotificationConfigurationFilter{Key: &s3types.S3KeyFilter{FilterRules: []s3types.FilterRule{{Name: s3types.FilterRuleNamePrefix, Value: aws.String("audit/")}}}},
		}}}}); err != nil {
		t.Fatal(err)
	}
	return h
}

// snapshot reads everything of the hand-made resources with independent
// clients. With withoutOurs, evdeploy's own additions (statements and
// notification entries with evdeploy- ids) are left out, so what remains
// must equal the snapshot taken before evdeploy ran.
func (h handMade) snapshot(t *testing.T, cfg aws.Config, withoutOurs bool) map[string]string {
	t.Helper()
	ctx := context.Background()
	q := sqs.NewFromConfig(cfg)
	qa, err := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(h.queueURL), AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameAll}})
	if err != nil {
		t.Fatal(err)
	}
	qt, err := q.ListQueueTags(ctx, &sqs.ListQueueTagsInput{QueueUrl: aws.String(h.queueURL)})
	if err != nil {
		t.Fatal(err)
	}
	n := sns.NewFromConfig(cfg)
	ta, err := n.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: aws.String(h.topicArn)})
	if err != nil {
		t.Fatal(err)
	}
	tt, err := n.ListTagsForResource(ctx, &sns.ListTagsForResourceInput{ResourceArn: aws.String(h.topicArn)})
	var topicTags any
	if err == nil {
		topicTags = tt.Tags
	}
	// Counts change with subscriptions evdeploy adds: not attributes of
	// the topic's configuration.
	for _, k := range []string{"SubscriptionsConfirmed", "SubscriptionsPending", "SubscriptionsDeleted"} {
		delete(ta.Attributes, k)
	}
	// LastModifiedTimestamp moves with any write, evdeploy's statements
	// included (and removed): a time, not a setting.
	for _, k := range []string{"ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessagesDelayed", "LastModifiedTimestamp"} {
		delete(qa.Attributes, k)
	}
	if withoutOurs {
		qa.Attributes["Policy"] = dropOurStatements(t, qa.Attributes["Policy"])
		ta.Attributes["Policy"] = dropOurStatements(t, ta.Attributes["Policy"])
	}
	bucket := foreignSnapshot(t, "bucket.files/aws_s3_bucket.main")(t, cfg, h.bucket)
	if withoutOurs {
		bucket = dropOurNotifications(t, bucket)
	}
	return map[string]string{
		"queue":  mustJSON(t, map[string]any{"attrs": qa.Attributes, "tags": qt.Tags}),
		"topic":  mustJSON(t, map[string]any{"attrs": ta.Attributes, "tags": topicTags}),
		"bucket": bucket,
	}
}

// foreignSnapshot returns the snapshot function of one of the ownership
// test's foreign cases.
func foreignSnapshot(t *testing.T, addr string) func(*testing.T, aws.Config, string) string {
	for _, fc := range foreignCases {
		if fc.addr == addr {
			return fc.snapshot
		}
	}
	t.Fatalf("no foreign case %s", addr)
	return nil
}

// dropOurStatements removes the statements with evdeploy Sids from a policy
// document, re-rendered as it was (compact, keys in order, as AWS stores
// what it is given).
func dropOurStatements(t *testing.T, doc string) string {
	t.Helper()
	if doc == "" {
		return ""
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(doc), &m); err != nil {
		t.Fatalf("policy %q: %v", doc, err)
	}
	var stmts []json.RawMessage
	_ = json.Unmarshal(m["Statement"], &stmts)
	var kept []json.RawMessage
	for _, s := range stmts {
		var x struct{ Sid string }
		_ = json.Unmarshal(s, &x)
		if !strings.HasPrefix(x.Sid, "evdeploy-") {
			kept = append(kept, s)
		}
	}
	// Compare as canonical JSON: the order of the top-level keys is the
	// document's own.
	m["Statement"], _ = json.Marshal(kept)
	b, _ := json.Marshal(m)
	return string(b)
}

// dropOurNotifications removes notification entries with evdeploy ids from a
// bucket snapshot.
func dropOurNotifications(t *testing.T, snap string) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(snap), &m); err != nil {
		t.Fatal(err)
	}
	if n, ok := m["notification"].(map[string]any); ok {
		for _, k := range []string{"LambdaFunctionConfigurations", "QueueConfigurations", "TopicConfigurations"} {
			list, _ := n[k].([]any)
			var kept []any
			for _, c := range list {
				if id, _ := c.(map[string]any)["Id"].(string); !strings.HasPrefix(id, "evdeploy-") {
					kept = append(kept, c)
				}
			}
			n[k] = kept
			if len(kept) == 0 {
				n[k] = nil
			}
		}
	}
	return mustJSON(t, m)
}

// canonicalSnap re-renders a snapshot's policy documents canonically, for a
// comparison that ignores how a document's keys are ordered.
func canonicalSnap(t *testing.T, s map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range s {
		var m map[string]any
		if err := json.Unmarshal([]byte(v), &m); err != nil {
			t.Fatal(err)
		}
		if a, ok := m["attrs"].(map[string]any); ok {
			if p, ok := a["Policy"].(string); ok && p != "" {
				var doc any
				if json.Unmarshal([]byte(p), &doc) == nil {
					b, _ := json.Marshal(doc)
					a["Policy"] = string(b)
				}
			}
		}
		out[k] = mustJSON(t, m)
	}
	return out
}

func pairProject(t *testing.T, h handMade) (core, orders string) {
	t.Helper()
	root := t.TempDir()
	core, orders = filepath.Join(root, "core"), filepath.Join(root, "orders")
	writeTestFile(t, filepath.Join(core, "evdeploy.evd.hcl"), coreSpec)
	writeTestFile(t, filepath.Join(orders, "evdeploy.evd.hcl"), fmt.Sprintf(ordersSpec, h.queue, h.topicArn, h.bucket))
	writeTestFile(t, filepath.Join(orders, "fn", "main.py"), "def handler(event, context):\n    return 'orders'\n")
	return core, orders
}

// TestE2EExistingAndAppOutputs: an app that triggers from a hand-made queue,
// topic and bucket (which has its own notification) and from another app's
// bus through app_outputs, and routes into the hand-made topic and queue,
// applies, re-plans clean and destroys; the hand-made resources are exactly
// as they were except for evdeploy's own additions after apply, and byte for
// byte as they were after destroy. On kumo and on moto.
func TestE2EExistingAndAppOutputs(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	for _, e := range emulators {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			testExistingPair(t, e.url(t))
		})
	}
}

func testExistingPair(t *testing.T, endpoint string) {
	cfg := sdkConfig(endpoint)
	stage := uniqueStage("x")
	h := makeHandMade(t, cfg, stage)
	before := h.snapshot(t, cfg, false)
	core, orders := pairProject(t, h)
	target := []string{"--stage", stage, "--target", "local", "--endpoint", endpoint}
	coreArgs := append([]string{"-C", core}, target...)
	ordersArgs := append([]string{"-C", orders}, target...)

	// Before core is applied, orders cannot read its outputs.
	r := mustEvd(t, 1, append([]string{"plan"}, ordersArgs...)...)
	for _, want := range []string{"Cannot read app outputs", "evdeploy.evd.hcl line 4", "../core, stage " + stage, "apply it first"} {
		if !strings.Contains(r.errOut, want) {
			t.Errorf("plan before core is applied does not say %q:\n%s", want, r.errOut)
		}
	}

	mustEvd(t, 0, append([]string{"apply", "--auto-approve"}, coreArgs...)...)

	// An existing that is not there is a plan error at its line, naming
	// the block and what was looked up.
	gone := t.TempDir()
	writeTestFile(t, filepath.Join(gone, "evdeploy.evd.hcl"), "app \"gone\" {}\n\nqueue \"jobs\" {\n  existing = \"nope-"+stage+"\"\n}\n")
	r = mustEvd(t, 1, append([]string{"plan", "-C", gone}, target...)...)
	for _, want := range []string{"Existing queue not found", "evdeploy.evd.hcl line 4", "queue.jobs names \"nope-" + stage + "\""} {
		if !strings.Contains(r.errOut, want) {
			t.Errorf("plan with a missing existing queue does not say %q:\n%s", want, r.errOut)
		}
	}

	// apply --all on the folder holding both: core first, then orders.
	r = mustEvd(t, 0, append([]string{"apply", "--all", "--auto-approve", "-C", filepath.Dir(core)}, target...)...)
	if !strings.Contains(r.errOut, "in order: core, orders") || strings.Index(r.out, "=== core (apply)") > strings.Index(r.out, "=== orders (apply)") {
		t.Errorf("apply --all did not apply core before orders:\n%s\n%s", r.errOut, r.out)
	}
	mustEvd(t, 0, append([]string{"plan", "--all", "--detailed-exitcode", "-C", filepath.Dir(core)}, target...)...)
	mustEvd(t, 0, append([]string{"plan", "--detailed-exitcode"}, ordersArgs...)...)

	// A saved plan of orders binds what it read from core: once core's
	// output changes, applying it is refused as stale.
	saved := filepath.Join(t.TempDir(), "orders.plan")
	mustEvd(t, 0, append([]string{"plan", "-out", saved}, ordersArgs...)...)

	// An upstream output that changed shows in the downstream plan.
	writeTestFile(t, filepath.Join(core, "evdeploy.evd.hcl"), strings.Replace(coreSpec, `"v1"`, `"v2"`, 1))
	mustEvd(t, 0, append([]string{"apply", "--auto-approve"}, coreArgs...)...)
	if r := mustEvd(t, 1, append([]string{"apply", saved}, ordersArgs...)...); !strings.Contains(r.errOut, "what it read from other apps and existing resources changed") {
		t.Errorf("applying a plan saved before core's output changed:\n%s", r.errOut)
	}
	r = mustEvd(t, 2, append([]string{"plan", "--detailed-exitcode"}, ordersArgs...)...)
	for _, want := range []string{"Upstream outputs changed since the last apply:", `app_outputs.core.label: "v1" → "v2"`, "function.worker"} {
		if !strings.Contains(r.out, want) {
			t.Errorf("orders' plan after core's output changed does not say %q:\n%s", want, r.out)
		}
	}
	// plan --json carries them as upstream_changes (docs/plan-json.md).
	upstreamJSON := func(want int) []map[string]any {
		t.Helper()
		r := mustEvd(t, want, append([]string{"plan", "--json", "--detailed-exitcode"}, ordersArgs...)...)
		var doc struct {
			Upstream []map[string]any `json:"upstream_changes"`
		}
		if err := json.Unmarshal([]byte(r.out), &doc); err != nil || doc.Upstream == nil {
			t.Fatalf("plan --json: %v (upstream_changes %v)\n%s", err, doc.Upstream, r.out)
		}
		return doc.Upstream
	}
	if d := cmp.Diff([]map[string]any{{"name": "app_outputs.core.label", "before": "v1", "after": "v2", "sensitive": false}}, upstreamJSON(2)); d != "" {
		t.Errorf("plan --json upstream_changes (-want +got):\n%s", d)
	}
	mustEvd(t, 0, append([]string{"apply", "--auto-approve"}, ordersArgs...)...)
	mustEvd(t, 0, append([]string{"plan", "--detailed-exitcode"}, ordersArgs...)...)
	if got := upstreamJSON(0); len(got) != 0 {
		t.Errorf("plan --json after the apply: upstream_changes = %v, want []", got)
	}

	if d := cmp.Diff(canonicalSnap(t, before), canonicalSnap(t, h.snapshot(t, cfg, true))); d != "" {
		t.Errorf("hand-made resources changed by apply beyond evdeploy's additions (-before +after):\n%s", d)
	}
	after := h.snapshot(t, cfg, false)
	for what, want := range map[string]string{
		"queue":  "evdeploy-orders-" + stage + "-route-news_to_jobs",
		"topic":  "evdeploy-orders-" + stage + "-route-alerts",
		"bucket": "evdeploy-orders-" + stage + "-landing",
	} {
		if !strings.Contains(after[what], want) {
			t.Errorf("the hand-made %s has no %s after apply:\n%s", what, want, after[what])
		}
	}
	subs, err := sns.NewFromConfig(cfg).ListSubscriptionsByTopic(context.Background(), &sns.ListSubscriptionsByTopicInput{TopicArn: aws.String(h.topicArn)})
	if err != nil {
		t.Fatal(err)
	}
	var protocols []string
	for _, s := range subs.Subscriptions {
		protocols = append(protocols, aws.ToString(s.Protocol))
	}
	sort.Strings(protocols)
	if d := cmp.Diff([]string{"lambda", "sqs"}, protocols); d != "" {
		t.Errorf("subscriptions to the hand-made topic (-want +got):\n%s", d)
	}

	// graph --all draws the apps and the events between them.
	r = mustEvd(t, 0, "graph", "--all", "-C", filepath.Dir(core))
	for _, want := range []string{"orders (app orders)  ← core", "core/bus.events ──▶ orders/bus.core (app_outputs.core.bus_name)",
		"└▶ orders/trigger.orders → function.worker", "└▶ orders/route.alerts → topic.news"} {
		if !strings.Contains(r.out, want) {
			t.Errorf("graph --all does not show %q:\n%s", want, r.out)
		}
	}

	// destroy --all goes in reverse: orders, then core.
	r = mustEvd(t, 0, append([]string{"destroy", "--all", "--auto-approve", "-C", filepath.Dir(core)}, target...)...)
	if !strings.Contains(r.errOut, "in order: orders, core") || strings.Index(r.out, "=== orders (destroy)") > strings.Index(r.out, "=== core (destroy)") {
		t.Errorf("destroy --all did not destroy orders before core:\n%s\n%s", r.errOut, r.out)
	}
	if d := cmp.Diff(before, h.snapshot(t, cfg, false)); d != "" {
		t.Errorf("hand-made resources not as they were after destroy (-before +after):\n%s", d)
	}
	subs, err = sns.NewFromConfig(cfg).ListSubscriptionsByTopic(context.Background(), &sns.ListSubscriptionsByTopicInput{TopicArn: aws.String(h.topicArn)})
	if err != nil {
		t.Fatal(err)
	}
	if len(subs.Subscriptions) != 0 {
		t.Errorf("destroy left subscriptions on the hand-made topic: %v", subs.Subscriptions)
	}
}
