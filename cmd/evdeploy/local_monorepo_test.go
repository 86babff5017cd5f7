package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/google/go-cmp/cmp"
)

// ordersEngineSpec is orders for the engine: one marker function per
// source (a hand-made queue, topic and bucket, and core's bus read through
// app_outputs), so the test sees which source ran which function.
const ordersEngineSpec = `
app "orders" {
  region = "us-east-1"
}

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

bucket "markers" {}

%[4]s

trigger "jobs" {
  function = function.queue
  queue { queue = queue.jobs }
}

trigger "news" {
  function = function.topic
  topic { topic = topic.news }
}

trigger "landing" {
  function = function.s3
  s3 {
    bucket = bucket.landing
    events = ["created"]
    prefix = "in/"
  }
}

trigger "orders" {
  function = function.bus
  event {
    bus     = bus.core
    pattern = { source = ["shop.orders"] }
  }
}
`

// TestLocalMonorepoExisting: on the embedded engine, a monorepo of core (a
// bus) and orders (triggers from core's bus through app_outputs and from a
// hand-made queue, topic and bucket) applies with apply --all; an event
// produced at each source runs exactly the function of its trigger; the
// hand-made bucket's own notification still delivers; destroy --all leaves
// the hand-made resources as they were.
func TestLocalMonorepoExisting(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("needs python3 (the engine runs Python handlers on the host's interpreter)")
	}
	if err := exec.Command("python3", "-c", "import boto3").Run(); err != nil {
		t.Skip("needs boto3 for python3 (the marker function uses it)")
	}
	port := localEngineUp(t)
	endpoint := fmt.Sprintf("http://127.0.0.1:%d", port)
	cfg := sdkConfig(endpoint)
	stage := "m1"
	h := makeHandMade(t, cfg, stage)
	before := h.snapshot(t, cfg, false)

	root := t.TempDir()
	core, orders := filepath.Join(root, "core"), filepath.Join(root, "orders")
	writeTestFile(t, filepath.Join(core, "evdeploy.evd.hcl"), coreSpec)
	var fns strings.Builder
	for _, k := range []string{"queue", "topic", "s3", "bus"} {
		fmt.Fprintf(&fns, "function %q {\n  runtime = \"python3.12\"\n  source  = \"./marker\"\n  handler = \"main.handler\"\n  environment = { KIND = %q, MARKER_BUCKET = bucket.markers.name }\n  uses = [bucket.markers.write]\n}\n\n", k, k)
	}
	writeTestFile(t, filepath.Join(orders, "evdeploy.evd.hcl"), fmt.Sprintf(ordersEngineSpec, h.queue, h.topicArn, h.bucket, fns.String()))
	marker, err := os.ReadFile("testdata/alltriggers/functions/marker/main.py")
	if err != nil {
		t.Fatal(err)
	}
	writeTestFile(t, filepath.Join(orders, "marker", "main.py"), string(marker))

	args := []string{"-C", root, "--stage", stage, "--target", "local"}
	if code, out, errOut := runLocal(t, append([]string{"apply", "--all", "--auto-approve"}, args...)...); code != 0 {
		t.Fatalf("apply --all: exit %d\n%s%s", code, out, errOut)
	}

	c := newLocalClientsAt(t, endpoint)
	c.markerB = c.bucket(t, "orders-"+stage+"-markers")
	ctx := t.Context()
	if _, err := c.sns.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(h.topicArn), Message: aws.String("news")}); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"in/a.txt", "audit/b.txt"} {
		if _, err := c.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(h.bucket), Key: aws.String(key), Body: strings.NewReader("hi")}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.eb.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{
		{Source: aws.String("shop.orders"), DetailType: aws.String("OrderPlaced"), Detail: aws.String(`{"id":1}`), EventBusName: aws.String("core-" + stage + "-events")},
		{Source: aws.String("shop.other"), DetailType: aws.String("Ignored"), Detail: aws.String(`{}`), EventBusName: aws.String("core-" + stage + "-events")},
	}}); err != nil {
		t.Fatal(err)
	}
	c.waitMarkers(t, []string{"topic", "s3", "bus"}, 60*time.Second)
	// The queue's message goes last, once the functions' runtimes are up: a
	// message polled before its function is ready returns only after the
	// hand-made queue's visibility timeout (123 s).
	// `evdeploy fire` finds the hand-made queue as plan does (it is not in
	// state).
	if code, out, errOut := runLocal(t, "fire", "jobs", "-C", orders, "--stage", stage, "--target", "local"); code != 0 {
		t.Fatalf("fire jobs: exit %d\n%s%s", code, out, errOut)
	}
	c.waitMarkers(t, []string{"queue"}, 60*time.Second)
	time.Sleep(2 * time.Second) // let stray deliveries land
	got := map[string]int{}
	for k, v := range c.markers(t) {
		got[k] = len(v)
	}
	if d := cmp.Diff(map[string]int{"queue": 1, "topic": 1, "s3": 1, "bus": 1}, got); d != "" {
		t.Errorf("markers per source (-want +got):\n%s", d)
	}
	if ev := c.object(t, c.markers(t)["s3"][0]); !strings.Contains(ev, `"key": "in/a.txt"`) {
		t.Errorf("S3 event = %s, want the in/ upload only", ev)
	}
	if ev := c.object(t, c.markers(t)["bus"][0]); !strings.Contains(ev, `"source": "shop.orders"`) {
		t.Errorf("bus event = %s", ev)
	}
	// The hand-made notification (audit/ → the audit queue) still delivers.
	au, err := c.sqs.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(h.audit)})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		m, err := c.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: au.QueueUrl, WaitTimeSeconds: 1})
		if err != nil {
			t.Fatal(err)
		}
		if len(m.Messages) > 0 {
			if !strings.Contains(aws.ToString(m.Messages[0].Body), `"configurationId":"team-audit"`) {
				t.Errorf("the audit queue got %s", aws.ToString(m.Messages[0].Body))
			}
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("the hand-made notification (audit/ → %s) delivered nothing", h.audit)
			break
		}
	}

	// The test's uploads go, so the bucket is compared with what it was.
	for _, key := range []string{"in/a.txt", "audit/b.txt"} {
		if _, err := c.s3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(h.bucket), Key: aws.String(key)}); err != nil {
			t.Fatal(err)
		}
	}
	if code, out, errOut := runLocal(t, append([]string{"destroy", "--all", "--auto-approve", "--allow-data-loss"}, args...)...); code != 0 {
		t.Fatalf("destroy --all: exit %d\n%s%s", code, out, errOut)
	}
	if d := cmp.Diff(before, h.snapshot(t, cfg, false)); d != "" {
		t.Errorf("hand-made resources not as they were after destroy (-before +after):\n%s", d)
	}
}
