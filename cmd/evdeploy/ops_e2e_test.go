package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/evdeploy/evdeploy/internal/motoserver"
	"github.com/evdeploy/evdeploy/localstack"
)

// TestE2EOperations runs the operations features on one embedded engine:
//
//   - held-out: a worker failing on some messages behind a queue with a
//     DLQ, default alarms on (10 s periods). The DLQ alarm goes to ALARM
//     within two periods of the DLQ filling, its notification reaches a queue
//     subscribed to the notify topic, status shows the DLQ depth and the
//     alarm; after the code is fixed and applied, redrive moves every message
//     back, the worker processes all of them, the DLQ is empty and the alarm
//     returns to OK.
//   - every-metric: an alarm on every typed metric applies, re-plans clean
//     and destroys, leaving no alarm behind.
func TestE2EOperations(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("needs python3 (the engine runs Python handlers on the host's interpreter)")
	}
	if err := exec.Command("python3", "-c", "import boto3").Run(); err != nil {
		t.Skip("needs boto3 for python3 (the worker uses it)")
	}
	port := localEngineUp(t)
	endpoint := fmt.Sprintf("http://127.0.0.1:%d", port)
	t.Run("held-out", func(t *testing.T) { opsHeldOut(t, endpoint) })
	t.Run("every-metric", func(t *testing.T) { opsEveryMetric(t, endpoint) })
	t.Run("replay", func(t *testing.T) { opsReplay(t, endpoint) })
}

func opsClients(t *testing.T, endpoint string) (*sqs.Client, *cloudwatch.Client) {
	tgt := &localstack.Target{Endpoint: endpoint, Region: "us-east-1"}
	cfg, err := tgt.AWSConfig(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	return sqs.NewFromConfig(cfg), cloudwatch.NewFromConfig(cfg)
}

func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errOut := runLocal(t, args...)
	if code != 0 {
		t.Fatalf("evdeploy %s: exit %d\n%s%s\nengine log:\n%s", strings.Join(args, " "), code, out, errOut, tail(engineLog(t), 40))
	}
	return out
}

func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func opsHeldOut(t *testing.T, endpoint string) {
	dir := localCopyDir(t, "testdata/ops")
	ctx := t.Context()
	qc, cw := opsClients(t, endpoint)
	mustRun(t, "apply", "--auto-approve", "-C", dir, "--target", "local")
	queueURL := func(name string) string {
		out, err := qc.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.QueueUrl)
	}
	orders, dlq, done, pager := queueURL("ops-dev-orders"), queueURL("ops-dev-orders-dlq"), queueURL("ops-dev-done"), queueURL("ops-dev-pager")
	const alarm = "ops-dev-orders.dlq_depth"

	want := []string{"good-1", "good-2", "good-3", "bad-1", "bad-2", "bad-3"}
	for _, body := range want {
		if _, err := qc.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(orders), MessageBody: aws.String(body)}); err != nil {
			t.Fatal(err)
		}
	}
	depth := func(url string) int {
		out, err := qc.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url), AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameAll}})
		if err != nil {
			t.Fatal(err)
		}
		var n, inflight int
		fmt.Sscan(out.Attributes["ApproximateNumberOfMessages"], &n)
		fmt.Sscan(out.Attributes["ApproximateNumberOfMessagesNotVisible"], &inflight)
		return n + inflight
	}
	waitFor := func(what string, limit time.Duration, ok func() bool) time.Duration {
		t.Helper()
		start := time.Now()
		for time.Since(start) < limit {
			if ok() {
				return time.Since(start)
			}
			time.Sleep(250 * time.Millisecond)
		}
		t.Fatalf("%s: not within %s\nengine log:\n%s", what, limit, tail(engineLog(t), 40))
		return 0
	}
	waitFor("the three failing messages in the DLQ", 60*time.Second, func() bool { return depth(dlq) == 3 })
	alarmState := func() string {
		out, err := cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{alarm}})
		if err != nil || len(out.MetricAlarms) != 1 {
			t.Fatalf("DescribeAlarms %s = %+v, %v", alarm, out, err)
		}
		return string(out.MetricAlarms[0].StateValue)
	}
	took := waitFor("the DLQ alarm in ALARM within two 10 s periods", 22*time.Second, func() bool { return alarmState() == "ALARM" })
	t.Logf("DLQ alarm in ALARM %s after the DLQ held the messages", took.Round(100*time.Millisecond))

	// The notification reaches the queue subscribed to the notify topic.
	notified := func(state string) {
		t.Helper()
		waitFor(state+" notification in the pager queue", 15*time.Second, func() bool {
			out, err := qc.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(pager), MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range out.Messages {
				qc.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(pager), ReceiptHandle: m.ReceiptHandle})
				var env struct{ Message string }
				var msg struct{ AlarmName, NewStateValue string }
				if json.Unmarshal([]byte(aws.ToString(m.Body)), &env) == nil && json.Unmarshal([]byte(env.Message), &msg) == nil &&
					msg.AlarmName == alarm && msg.NewStateValue == state {
					return true
				}
			}
			return false
		})
	}
	notified("ALARM")

	// status shows the DLQ depth and the alarm, and names every block.
	var st Status
	if err := json.Unmarshal([]byte(mustRun(t, "status", "--json", "-C", dir, "--target", "local")), &st); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, q := range st.Queues {
		names = append(names, q.Address)
		if q.Address == "queue.orders" && (q.DLQDepth == nil || *q.DLQDepth != 3) {
			t.Errorf("status: queue.orders DLQ depth = %s, want 3", numText(q.DLQDepth, ""))
		}
	}
	for _, tr := range st.Triggers {
		names = append(names, tr.Address)
	}
	for _, f := range st.Functions {
		names = append(names, f.Address)
		if f.Address == "function.worker" && (f.Errors == nil || *f.Errors < 3 || f.Invocations == nil || *f.Invocations < 6) {
			t.Errorf("status: function.worker invocations %s, errors %s; want >= 6 and >= 3", numText(f.Invocations, ""), numText(f.Errors, ""))
		}
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{"function.worker", "queue.done", "queue.orders", "queue.pager", "trigger.orders"}) {
		t.Errorf("status names %v", names)
	}
	found := false
	for _, a := range st.Alarms {
		if a.Address == "queue.orders.dlq_depth" {
			found = a.State == "ALARM"
		}
	}
	if !found {
		t.Errorf("status alarms = %+v, want queue.orders.dlq_depth in ALARM", st.Alarms)
	}
	text := mustRun(t, "status", "-C", dir, "--target", "local")
	if !strings.Contains(text, "queue.orders.dlq_depth") || !strings.Contains(text, "ALARM") {
		t.Errorf("status text lacks the alarm:\n%s", text)
	}

	// messages --dlq shows the three without consuming them.
	var peeked struct{ Messages []PeekedMessage }
	if err := json.Unmarshal([]byte(mustRun(t, "messages", "orders", "--dlq", "--json", "-C", dir, "--target", "local")), &peeked); err != nil {
		t.Fatal(err)
	}
	var bodies []string
	for _, m := range peeked.Messages {
		bodies = append(bodies, m.Body)
	}
	slices.Sort(bodies)
	if !slices.Equal(bodies, []string{"bad-1", "bad-2", "bad-3"}) {
		t.Errorf("messages --dlq = %v", bodies)
	}
	if n := depth(dlq); n != 3 {
		t.Errorf("after messages the DLQ holds %d, want 3 (nothing consumed)", n)
	}

	// Fix the code, apply, redrive.
	main := filepath.Join(dir, "worker", "main.py")
	code, err := os.ReadFile(main)
	if err != nil {
		t.Fatal(err)
	}
	fixed := strings.Replace(string(code), `if "bad" in r["body"]:`, `if r["body"] == "":`, 1)
	if err := os.WriteFile(main, []byte(fixed), 0o644); err != nil {
		t.Fatal(err)
	}
	mustRun(t, "apply", "--auto-approve", "-C", dir, "--target", "local")
	out := mustRun(t, "redrive", "queue.orders", "-C", dir, "--target", "local")
	if !strings.Contains(out, "moved 3 message(s)") {
		t.Errorf("redrive said %q, want 3 moved", out)
	}
	seen := map[string]int{}
	waitFor("every message processed", 30*time.Second, func() bool {
		r, err := qc.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(done), MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range r.Messages {
			seen[aws.ToString(m.Body)]++
			qc.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(done), ReceiptHandle: m.ReceiptHandle})
		}
		for _, w := range want {
			if seen[w] == 0 {
				return false
			}
		}
		return true
	})
	if n := depth(dlq); n != 0 {
		t.Errorf("DLQ holds %d after the redrive, want 0", n)
	}
	waitFor("the DLQ alarm back to OK", 25*time.Second, func() bool { return alarmState() == "OK" })
	notified("OK")
	mustRun(t, "destroy", "--auto-approve", "--allow-data-loss", "-C", dir, "--target", "local")
}

func opsEveryMetric(t *testing.T, endpoint string) {
	dir := localCopyDir(t, "testdata/opsmetrics")
	_, cw := opsClients(t, endpoint)
	mustRun(t, "apply", "--auto-approve", "-C", dir, "--target", "local")
	out, err := cw.DescribeAlarms(t.Context(), &cloudwatch.DescribeAlarmsInput{AlarmNamePrefix: aws.String("opsmetrics-dev-")})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, a := range out.MetricAlarms {
		stat := string(a.Statistic)
		if stat == "" {
			stat = aws.ToString(a.ExtendedStatistic)
		}
		got[aws.ToString(a.AlarmName)] = aws.ToString(a.Namespace) + " " + aws.ToString(a.MetricName) + " " + stat
	}
	want := map[string]string{
		"opsmetrics-dev-errors": "AWS/Lambda Errors Sum", "opsmetrics-dev-throttles": "AWS/Lambda Throttles Sum",
		"opsmetrics-dev-invocations": "AWS/Lambda Invocations Sum", "opsmetrics-dev-duration": "AWS/Lambda Duration p99",
		"opsmetrics-dev-async_dropped": "AWS/Lambda AsyncEventsDropped Sum",
		"opsmetrics-dev-depth":         "AWS/SQS ApproximateNumberOfMessagesVisible Maximum",
		"opsmetrics-dev-oldest":        "AWS/SQS ApproximateAgeOfOldestMessage Maximum",
		"opsmetrics-dev-dlq":           "AWS/SQS ApproximateNumberOfMessagesVisible Maximum",
		"opsmetrics-dev-behind":        "AWS/Lambda IteratorAge Maximum",
		"opsmetrics-dev-gateway":       "AWS/ApiGateway 5xx Sum", "opsmetrics-dev-latency": "AWS/ApiGateway 5xx Sum",
		"opsmetrics-dev-slow_api": "AWS/ApiGateway Latency p99",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("alarm %s = %q, want %q", k, got[k], v)
		}
	}
	plan := mustRun(t, "plan", "--detailed-exitcode", "-C", dir, "--target", "local")
	if !strings.Contains(plan, "No changes") {
		t.Errorf("plan after apply is not clean:\n%s", plan)
	}
	mustRun(t, "destroy", "--auto-approve", "--allow-data-loss", "-C", dir, "--target", "local")
	out, err = cw.DescribeAlarms(t.Context(), &cloudwatch.DescribeAlarmsInput{AlarmNamePrefix: aws.String("opsmetrics-dev-")})
	if err != nil || len(out.MetricAlarms) != 0 {
		t.Errorf("after destroy: %d alarms left (%v)", len(out.MetricAlarms), err)
	}
}

// opsReplay: events put on an archived bus reach the route's queue; replay
// sends them to it again, marked with replay-name; then destroy.
func opsReplay(t *testing.T, endpoint string, extra ...string) {
	dir := localCopyDir(t, "testdata/replay")
	args := func(a ...string) []string { return append(append(a, "-C", dir, "--target", "local"), extra...) }
	mustRun(t, args("apply", "--auto-approve")...)
	tgt := &localstack.Target{Endpoint: endpoint, Region: "us-east-1"}
	cfg, err := tgt.AWSConfig(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	eb, qc := eventbridge.NewFromConfig(cfg), sqs.NewFromConfig(cfg)
	out, err := qc.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("replay-dev-seen")})
	if err != nil {
		t.Fatal(err)
	}
	url := out.QueueUrl
	if _, err := eb.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{
		{Source: aws.String("shop.orders"), DetailType: aws.String("OrderPlaced"), Detail: aws.String(`{"id":1}`), EventBusName: aws.String("replay-dev-events")},
		{Source: aws.String("shop.orders"), DetailType: aws.String("OrderPlaced"), Detail: aws.String(`{"id":2}`), EventBusName: aws.String("replay-dev-events")},
		{Source: aws.String("shop.other"), DetailType: aws.String("Ignored"), Detail: aws.String(`{"id":3}`), EventBusName: aws.String("replay-dev-events")},
	}}); err != nil {
		t.Fatal(err)
	}
	// receive collects n events from the queue: id → replay-name.
	receive := func(n int) map[float64]string {
		t.Helper()
		got := map[float64]string{}
		deadline := time.Now().Add(20 * time.Second)
		for len(got) < n && time.Now().Before(deadline) {
			r, err := qc.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range r.Messages {
				var ev struct {
					Detail     struct{ ID float64 }
					ReplayName string `json:"replay-name"`
				}
				if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &ev); err != nil {
					t.Fatalf("not an event: %s", aws.ToString(m.Body))
				}
				got[ev.Detail.ID] = ev.ReplayName
				qc.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: url, ReceiptHandle: m.ReceiptHandle})
			}
		}
		return got
	}
	if got := receive(2); len(got) != 2 || got[1] != "" || got[2] != "" {
		t.Fatalf("first delivery = %v, want events 1 and 2 (not replayed)", got)
	}
	time.Sleep(1100 * time.Millisecond) // the window ends after the events' (whole-second) time
	res := mustRun(t, args("replay", "bus.events", "--from", "10m")...)
	if !strings.Contains(res, "completed") {
		t.Errorf("replay said %q", res)
	}
	got := receive(2)
	if len(got) != 2 || !strings.HasPrefix(got[1], "replay-dev-events-") || !strings.HasPrefix(got[2], "replay-dev-events-") {
		t.Errorf("replayed = %v, want events 1 and 2 with a replay-name", got)
	}
	mustRun(t, args("destroy", "--auto-approve", "--allow-data-loss")...)
}

// TestE2EReplayMoto: replay on moto, whose EventBridge archives and replays
// (the engine's are in TestE2EOperations).
func TestE2EReplayMoto(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	emu := motoserver.URL(t)
	for _, k := range []string{"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_ENDPOINT_URL"} {
		t.Setenv(k, "")
	}
	t.Setenv(localstack.EnvStateHome, t.TempDir())
	opsReplay(t, emu, "--endpoint", emu)
}
