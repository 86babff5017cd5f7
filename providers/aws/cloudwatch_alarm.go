package aws

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/evdeploy/evdeploy/planner"
)

// alarmAPI is the part of the CloudWatch API the alarm handler uses.
type alarmAPI interface {
	PutMetricAlarm(context.Context, *cloudwatch.PutMetricAlarmInput, ...func(*cloudwatch.Options)) (*cloudwatch.PutMetricAlarmOutput, error)
	DescribeAlarms(context.Context, *cloudwatch.DescribeAlarmsInput, ...func(*cloudwatch.Options)) (*cloudwatch.DescribeAlarmsOutput, error)
	DeleteAlarms(context.Context, *cloudwatch.DeleteAlarmsInput, ...func(*cloudwatch.Options)) (*cloudwatch.DeleteAlarmsOutput, error)
	ListTagsForResource(context.Context, *cloudwatch.ListTagsForResourceInput, ...func(*cloudwatch.Options)) (*cloudwatch.ListTagsForResourceOutput, error)
	TagResource(context.Context, *cloudwatch.TagResourceInput, ...func(*cloudwatch.Options)) (*cloudwatch.TagResourceOutput, error)
	UntagResource(context.Context, *cloudwatch.UntagResourceInput, ...func(*cloudwatch.Options)) (*cloudwatch.UntagResourceOutput, error)
}

// metricAlarm manages aws_cloudwatch_metric_alarm; its physical id is the
// alarm's name. PutMetricAlarm creates and updates alike (an upsert), so
// Create first makes sure no alarm of that name exists: it never overwrites
// one evdeploy did not make.
type metricAlarm struct {
	api alarmAPI
}

func newMetricAlarm(c *clients) *metricAlarm {
	return &metricAlarm{api: cloudwatch.NewFromConfig(c.cfg)}
}

func (*metricAlarm) Schema() planner.Schema {
	return planner.Schema{
		Type:     planner.TypeAlarm,
		ForceNew: []string{"name"},
		Computed: []string{"arn"},
	}
}

func (h *metricAlarm) describe(ctx context.Context, name string) (*cwtypes.MetricAlarm, error) {
	out, err := h.api.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{
		AlarmNames: []string{name}, AlarmTypes: []cwtypes.AlarmType{cwtypes.AlarmTypeMetricAlarm},
	})
	if err != nil {
		return nil, classify(err)
	}
	for i := range out.MetricAlarms {
		if aws.ToString(out.MetricAlarms[i].AlarmName) == name {
			return &out.MetricAlarms[i], nil
		}
	}
	return nil, nil
}

func (h *metricAlarm) Read(ctx context.Context, id string, _ planner.Attrs) (planner.Attrs, bool, error) {
	al, err := h.describe(ctx, id)
	if err != nil || al == nil {
		return nil, false, err
	}
	a := planner.Attrs{"name": id, "arn": aws.ToString(al.AlarmArn)}
	if al.AlarmDescription != nil {
		a["description"] = *al.AlarmDescription
	}
	a["namespace"] = aws.ToString(al.Namespace)
	a["metric_name"] = aws.ToString(al.MetricName)
	switch {
	case aws.ToString(al.ExtendedStatistic) != "":
		a["extended_statistic"], a["statistic"] = *al.ExtendedStatistic, nil
	case al.Statistic != "":
		a["statistic"], a["extended_statistic"] = string(al.Statistic), nil
	}
	dims := map[string]any{}
	for _, d := range al.Dimensions {
		dims[aws.ToString(d.Name)] = aws.ToString(d.Value)
	}
	a["dimensions"] = dims
	if al.Period != nil {
		a["period"] = int64(*al.Period)
	}
	if al.EvaluationPeriods != nil {
		a["evaluation_periods"] = int64(*al.EvaluationPeriods)
	}
	if al.Threshold != nil {
		a["threshold"] = planner.Norm(*al.Threshold)
	}
	if al.ComparisonOperator != "" {
		a["comparison_operator"] = string(al.ComparisonOperator)
	}
	if al.TreatMissingData != nil {
		a["treat_missing_data"] = *al.TreatMissingData
	}
	a["alarm_actions"] = stringsAttr(slices.Sorted(slices.Values(al.AlarmActions)))
	a["ok_actions"] = stringsAttr(slices.Sorted(slices.Values(al.OKActions)))
	tags, err := h.api.ListTagsForResource(ctx, &cloudwatch.ListTagsForResourceInput{ResourceARN: al.AlarmArn})
	if hasCode(err, "ResourceNotFound", "ResourceNotFoundException") {
		return nil, false, nil // deleted between the two calls
	}
	if err != nil {
		return nil, false, classify(err)
	}
	m := map[string]string{}
	for _, t := range tags.Tags {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	setMap(a, "tags", m)
	return a, true, nil
}

// putInput is the whole alarm as PutMetricAlarm takes it (an update replaces
// every setting).
func putInput(d planner.Attrs) *cloudwatch.PutMetricAlarmInput {
	in := &cloudwatch.PutMetricAlarmInput{
		AlarmName:          aws.String(d.String("name")),
		Namespace:          aws.String(d.String("namespace")),
		MetricName:         aws.String(d.String("metric_name")),
		Period:             aws.Int32(int32(d.Int("period"))),
		EvaluationPeriods:  aws.Int32(int32(d.Int("evaluation_periods"))),
		Threshold:          aws.Float64(floatAttr(d["threshold"])),
		ComparisonOperator: cwtypes.ComparisonOperator(d.String("comparison_operator")),
		AlarmActions:       d.Strings("alarm_actions"),
		OKActions:          d.Strings("ok_actions"),
		ActionsEnabled:     aws.Bool(true),
	}
	if s := d.String("description"); s != "" {
		in.AlarmDescription = aws.String(s)
	}
	if s := d.String("statistic"); s != "" {
		in.Statistic = cwtypes.Statistic(s)
	}
	if s := d.String("extended_statistic"); s != "" {
		in.ExtendedStatistic = aws.String(s)
	}
	if s := d.String("treat_missing_data"); s != "" {
		in.TreatMissingData = aws.String(s)
	}
	dims := d.StringMap("dimensions")
	for _, k := range slices.Sorted(maps.Keys(dims)) {
		in.Dimensions = append(in.Dimensions, cwtypes.Dimension{Name: aws.String(k), Value: aws.String(dims[k])})
	}
	return in
}

func floatAttr(v any) float64 {
	switch x := v.(type) {
	case int64:
		return float64(x)
	case float64:
		return x
	}
	return 0
}

func (h *metricAlarm) Create(ctx context.Context, desired planner.Attrs) (string, planner.Attrs, error) {
	name := desired.String("name")
	existing, err := h.describe(ctx, name)
	if err != nil {
		return "", nil, err
	}
	if existing != nil {
		return "", nil, fmt.Errorf("alarm %s: %w", name, planner.ErrAlreadyExists)
	}
	in := putInput(desired)
	for k, v := range desired.StringMap("tags") {
		in.Tags = append(in.Tags, cwtypes.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	slices.SortFunc(in.Tags, func(a, b cwtypes.Tag) int { return strings.Compare(aws.ToString(a.Key), aws.ToString(b.Key)) })
	if _, err := h.api.PutMetricAlarm(ctx, in); err != nil {
		return "", nil, classify(err)
	}
	actual, exists, err := h.Read(ctx, name, desired)
	if err != nil {
		return "", nil, err
	}
	if !exists {
		return "", nil, fmt.Errorf("alarm %s not found right after creating it", name)
	}
	// Some endpoints drop the tags PutMetricAlarm carries (kumo): set them
	// again, so the alarm is provably evdeploy's.
	if len(in.Tags) > 0 && !maps.Equal(actual.StringMap("tags"), desired.StringMap("tags")) {
		if _, err := h.api.TagResource(ctx, &cloudwatch.TagResourceInput{ResourceARN: aws.String(actual.String("arn")), Tags: in.Tags}); err != nil {
			return "", nil, classify(err)
		}
		if actual, _, err = h.Read(ctx, name, desired); err != nil {
			return "", nil, err
		}
	}
	return name, actual, nil
}

func (h *metricAlarm) Update(ctx context.Context, id string, prior, desired planner.Attrs) (planner.Attrs, error) {
	// Tags given to PutMetricAlarm are ignored for an existing alarm: they
	// change through TagResource alone.
	if _, err := h.api.PutMetricAlarm(ctx, putInput(desired)); err != nil {
		return nil, classify(err)
	}
	set, remove := tagDiff(prior.StringMap("tags"), desired.StringMap("tags"))
	if len(set) > 0 || len(remove) > 0 {
		al, err := h.describe(ctx, id)
		if err != nil {
			return nil, err
		}
		if al == nil {
			return nil, fmt.Errorf("alarm %s disappeared during update", id)
		}
		if len(set) > 0 {
			var tags []cwtypes.Tag
			for _, k := range slices.Sorted(maps.Keys(set)) {
				tags = append(tags, cwtypes.Tag{Key: aws.String(k), Value: aws.String(set[k])})
			}
			if _, err := h.api.TagResource(ctx, &cloudwatch.TagResourceInput{ResourceARN: al.AlarmArn, Tags: tags}); err != nil {
				return nil, classify(err)
			}
		}
		if len(remove) > 0 {
			if _, err := h.api.UntagResource(ctx, &cloudwatch.UntagResourceInput{ResourceARN: al.AlarmArn, TagKeys: remove}); err != nil {
				return nil, classify(err)
			}
		}
	}
	actual, exists, err := h.Read(ctx, id, desired)
	if err != nil {
		return nil, err
	}
	if !exists {
		return nil, fmt.Errorf("alarm %s disappeared during update", id)
	}
	return actual, nil
}

func (h *metricAlarm) Delete(ctx context.Context, id string, _ planner.Attrs) error {
	_, err := h.api.DeleteAlarms(ctx, &cloudwatch.DeleteAlarmsInput{AlarmNames: []string{id}})
	var nf *cwtypes.ResourceNotFound
	if err != nil && !errors.As(err, &nf) && !hasCode(err, "ResourceNotFound", "ResourceNotFoundException") {
		return classify(err)
	}
	return nil
}
