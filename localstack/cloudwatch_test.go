package localstack

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/google/go-cmp/cmp"
)

func TestStatistic(t *testing.T) {
	vals := []datum{{v: 1, count: 1}, {v: 5, count: 1}, {v: 3, count: 2}}
	many := make([]datum, 100)
	for i := range many {
		many[i] = datum{v: float64(i + 1), count: 1}
	}
	tests := []struct {
		stat string
		in   []datum
		want float64
		ok   bool
	}{
		{"Sum", vals, 12, true},
		{"SampleCount", vals, 4, true},
		{"Average", vals, 3, true},
		{"Minimum", vals, 1, true},
		{"Maximum", vals, 5, true},
		{"p99", many, 99, true},
		{"p50", many, 50, true},
		{"p100", many, 100, true},
		{"Sum", nil, 0, false},
		{"Median", vals, 0, false},
	}
	for _, tt := range tests {
		got, ok := statistic(tt.stat, tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("statistic(%s) = %v, %v; want %v, %v", tt.stat, got, ok, tt.want, tt.ok)
		}
	}
}

// TestCloudWatchAlarms: the engine's CloudWatch, through the Go SDK (CBOR)
// and boto3 (JSON): an alarm on a metric handler code publishes goes to
// ALARM at the end of its 10-second period, notifies its topic (the message
// reaches a queue subscribed to it, in the JSON AWS sends), and returns to OK
// when the data stops (missing data not breaching); SetAlarmState notifies
// too; tags, describe filters and delete behave as AWS's.
func TestCloudWatchAlarms(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for two 10-second alarm periods")
	}
	t.Parallel()
	var logBuf lockedBuffer
	ep := serveRunning(t, &logBuf)
	cfg := localConfig(ep, "us-east-1")
	cw, sc, qc := cloudwatch.NewFromConfig(cfg), sns.NewFromConfig(cfg), sqs.NewFromConfig(cfg)
	ctx := t.Context()
	name := fmt.Sprintf("evd-cw-%d", os.Getpid())

	topic, err := sc.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	q, err := qc.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name + "-inbox")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sc.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("sqs"),
		Endpoint: aws.String("arn:aws:sqs:us-east-1:000000000000:" + name + "-inbox")}); err != nil {
		t.Fatal(err)
	}
	dims := []cwtypes.Dimension{{Name: aws.String("Job"), Value: aws.String(name)}}
	alarm := name + "-failures"
	if _, err := cw.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{
		AlarmName: aws.String(alarm), AlarmDescription: aws.String("jobs failing"),
		Namespace: aws.String("evd/test"), MetricName: aws.String("Failures"), Dimensions: dims,
		Statistic: cwtypes.StatisticSum, Period: aws.Int32(10), EvaluationPeriods: aws.Int32(1),
		Threshold: aws.Float64(1), ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanOrEqualToThreshold,
		TreatMissingData: aws.String("notBreaching"), AlarmActions: []string{*topic.TopicArn}, OKActions: []string{*topic.TopicArn},
		Tags: []cwtypes.Tag{{Key: aws.String("team"), Value: aws.String("ops")}},
	}); err != nil {
		t.Fatal(err)
	}
	desc, err := cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{alarm}})
	if err != nil || len(desc.MetricAlarms) != 1 {
		t.Fatalf("DescribeAlarms = %+v, %v", desc, err)
	}
	a := desc.MetricAlarms[0]
	got := map[string]any{"state": a.StateValue, "missing": aws.ToString(a.TreatMissingData), "period": aws.ToInt32(a.Period),
		"threshold": aws.ToFloat64(a.Threshold), "dims": aws.ToString(a.Dimensions[0].Value), "stat": a.Statistic,
		"arn": aws.ToString(a.AlarmArn), "ok": a.OKActions}
	want := map[string]any{"state": cwtypes.StateValueInsufficientData, "missing": "notBreaching", "period": int32(10),
		"threshold": 1.0, "dims": name, "stat": cwtypes.StatisticSum,
		"arn": "arn:aws:cloudwatch:us-east-1:000000000000:alarm:" + alarm, "ok": []string{*topic.TopicArn}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("DescribeAlarms (-want +got):\n%s", d)
	}
	tags, err := cw.ListTagsForResource(ctx, &cloudwatch.ListTagsForResourceInput{ResourceARN: a.AlarmArn})
	if err != nil || len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Value) != "ops" {
		t.Errorf("ListTagsForResource = %+v, %v", tags, err)
	}

	if _, err := cw.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{Namespace: aws.String("evd/test"),
		MetricData: []cwtypes.MetricDatum{{MetricName: aws.String("Failures"), Dimensions: dims, Value: aws.Float64(3)}}}); err != nil {
		t.Fatal(err)
	}
	waitState := func(state cwtypes.StateValue) {
		t.Helper()
		deadline := time.Now().Add(25 * time.Second) // two periods and a bit
		for time.Now().Before(deadline) {
			d, err := cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{alarm}})
			if err == nil && len(d.MetricAlarms) == 1 && d.MetricAlarms[0].StateValue == state {
				return
			}
			time.Sleep(250 * time.Millisecond)
		}
		t.Fatalf("alarm never reached %s", state)
	}
	notified := func(state string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			out, err := qc.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: q.QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range out.Messages {
				qc.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: q.QueueUrl, ReceiptHandle: m.ReceiptHandle})
				var env struct{ Type, Subject, Message string }
				if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &env); err != nil {
					t.Fatalf("not an SNS envelope: %s", aws.ToString(m.Body))
				}
				var msg struct {
					AlarmName, NewStateValue, OldStateValue, AlarmArn string
					Trigger                                           struct{ MetricName, Namespace string }
				}
				if err := json.Unmarshal([]byte(env.Message), &msg); err != nil {
					t.Fatalf("not an alarm notification: %s", env.Message)
				}
				if msg.AlarmName == alarm && msg.NewStateValue == state {
					if msg.Trigger.MetricName != "Failures" || !strings.HasPrefix(env.Subject, state+": ") {
						t.Errorf("notification %+v, subject %q", msg, env.Subject)
					}
					return
				}
			}
		}
		t.Fatalf("no %s notification reached the subscribed queue", state)
	}
	waitState(cwtypes.StateValueAlarm)
	notified("ALARM")
	waitState(cwtypes.StateValueOk) // no data in the next period: not breaching
	notified("OK")

	if _, err := cw.SetAlarmState(ctx, &cloudwatch.SetAlarmStateInput{AlarmName: aws.String(alarm),
		StateValue: cwtypes.StateValueAlarm, StateReason: aws.String("testing the pager")}); err != nil {
		t.Fatal(err)
	}
	notified("ALARM")
	byState, err := cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNamePrefix: aws.String(name), StateValue: cwtypes.StateValueAlarm})
	if err != nil || len(byState.MetricAlarms) != 1 || aws.ToString(byState.MetricAlarms[0].StateReason) != "testing the pager" {
		t.Errorf("DescribeAlarms by state = %+v, %v", byState, err)
	}

	t.Run("boto3", func(t *testing.T) { boto3CloudWatch(t, ep, name) })

	if _, err := cw.DeleteAlarms(ctx, &cloudwatch.DeleteAlarmsInput{AlarmNames: []string{alarm}}); err != nil {
		t.Fatal(err)
	}
	_, err = cw.DeleteAlarms(ctx, &cloudwatch.DeleteAlarmsInput{AlarmNames: []string{alarm}})
	var nf *cwtypes.ResourceNotFound
	if !errors.As(err, &nf) {
		t.Errorf("DeleteAlarms of a deleted alarm = %v, want ResourceNotFound", err)
	}
}

// boto3CloudWatch drives the engine's CloudWatch with boto3 (the JSON
// protocol): put_metric_data, put_metric_alarm, set_alarm_state and
// describe_alarms.
func boto3CloudWatch(t *testing.T, endpoint, name string) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("no python3")
	}
	if err := exec.Command("python3", "-c", "import boto3").Run(); err != nil {
		t.Skip("no boto3")
	}
	script := `
import sys, boto3, datetime
cw = boto3.client("cloudwatch", endpoint_url=sys.argv[1], region_name="us-east-1",
                  aws_access_key_id="test", aws_secret_access_key="test")
name = sys.argv[2] + "-boto"
cw.put_metric_data(Namespace="evd/boto", MetricData=[
    {"MetricName": "Orders", "Value": 2, "Unit": "Count", "Timestamp": datetime.datetime.now(datetime.timezone.utc)},
    {"MetricName": "Orders", "Values": [1, 4], "Counts": [1, 2]}])
cw.put_metric_alarm(AlarmName=name, Namespace="evd/boto", MetricName="Orders", Statistic="Sum",
                    Period=10, EvaluationPeriods=1, Threshold=5, ComparisonOperator="GreaterThanOrEqualToThreshold",
                    TreatMissingData="notBreaching")
cw.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="from boto3")
a = cw.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]
assert a["StateValue"] == "ALARM" and a["StateReason"] == "from boto3", a
assert a["Threshold"] == 5.0 and a["Period"] == 10 and a["TreatMissingData"] == "notBreaching", a
assert isinstance(a["StateUpdatedTimestamp"], datetime.datetime), a
now = datetime.datetime.now(datetime.timezone.utc)
st = cw.get_metric_statistics(Namespace="evd/boto", MetricName="Orders", Statistics=["Sum", "SampleCount"],
                              StartTime=now - datetime.timedelta(minutes=5), EndTime=now + datetime.timedelta(minutes=1), Period=300)
assert sum(p["Sum"] for p in st["Datapoints"]) == 11 and sum(p["SampleCount"] for p in st["Datapoints"]) == 4, st
cw.delete_alarms(AlarmNames=[name])
assert cw.describe_alarms(AlarmNames=[name])["MetricAlarms"] == []
print("ok")
`
	out, err := exec.Command("python3", "-c", script, endpoint, name).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "ok") {
		t.Fatalf("boto3: %v\n%s", err, out)
	}
}
