package planner

import (
	"regexp"
	"slices"
	"strings"

	"github.com/evdeploy/evdeploy/spec"
)

// TypeAlarm is a CloudWatch metric alarm; its physical id is its name.
const TypeAlarm = "aws_cloudwatch_metric_alarm"

var ruleAlarm = nameRule{max: 255, invalid: regexp.MustCompile(`[^A-Za-z0-9._-]`)}

// AlarmName is the physical name of an alarm: <app>-<stage>-<name> for an
// alarm block, <app>-<stage>-<block>.<metric> for a default (a dot, which
// block names cannot hold, so the two never collide).
func AlarmName(app, stage string, a *spec.Alarm) string {
	if a.Default {
		return physicalName(ruleAlarm, app, stage, a.Metric.Block.Name+"."+a.Metric.Name, "")
	}
	return physicalName(ruleAlarm, app, stage, a.Addr.Name, "")
}

// alarmAddr is where an alarm's resource lives: alarm.X/...main, or the
// watched block's address with the metric as the resource name.
func alarmAddr(a *spec.Alarm) (spec.Addr, string) {
	if a.Default {
		return a.Addr, a.Metric.Name
	}
	return a.Addr, "main"
}

// AlarmResource is the resource address of an alarm, for commands that read
// alarms from state.
func AlarmResource(a *spec.Alarm) ResourceAddr {
	block, name := alarmAddr(a)
	return ResourceAddr{Block: block.String(), Type: TypeAlarm, Name: name}
}

// alarms lowers every alarm (declared and defaults) to one metric alarm:
// statistic >= threshold over period, for evaluation_periods periods, with
// missing data not breaching (no traffic is not a failure), notifying its
// topics when it goes to ALARM and when it returns to OK.
func (l *lowering) alarms() {
	for _, a := range l.app.Alarms {
		info := a.Metric.Info()
		name := AlarmName(l.app.Name, l.app.Stage, a)
		var dim any
		var deps []ResourceAddr
		block := l.blockAttrs[a.Metric.Block]
		switch info.Of {
		case "function":
			fn := a.Metric.Block
			if fn.Kind == spec.KindTrigger {
				for _, t := range l.app.Triggers {
					if t.Addr == fn {
						fn = t.Function
					}
				}
			}
			dim = l.blockAttrs[fn]["name"]
		case "queue":
			dim = block["name"]
		case "dlq":
			arn, _ := block["dlq_arn"].(string)
			dim = arn[strings.LastIndex(arn, ":")+1:]
		case "api":
			dim = block["id"]
		}
		var topics []string
		for _, t := range a.Notify {
			topics = append(topics, l.blockAttrs[t]["arn"].(string))
			deps = append(deps, mainAddr(t, TypeTopic))
		}
		slices.Sort(topics)
		attrs := Attrs{
			"name":                name,
			"description":         "evdeploy: " + a.Key() + " (" + l.app.Name + ", stage " + l.app.Stage + ")",
			"namespace":           info.Namespace,
			"metric_name":         info.MetricName,
			"statistic":           nil,
			"extended_statistic":  nil,
			"dimensions":          map[string]any{info.Dimension: dim},
			"period":              seconds(a.Period),
			"evaluation_periods":  int64(a.EvaluationPeriods),
			"threshold":           Norm(a.Threshold),
			"comparison_operator": "GreaterThanOrEqualToThreshold",
			"treat_missing_data":  "notBreaching",
			"alarm_actions":       Norm(topics),
			"ok_actions":          Norm(topics),
			"tags":                l.tags(a.Addr, nil),
		}
		if info.Statistic != "" {
			attrs["statistic"] = info.Statistic
		} else {
			attrs["extended_statistic"] = info.ExtendedStatistic
		}
		blockAddr, rname := alarmAddr(a)
		l.add(blockAddr, TypeAlarm, rname, attrs, name, name, deps...)
		if !a.Default {
			l.blockAttrs[a.Addr] = map[string]any{"name": name, "arn": l.arn("cloudwatch", "alarm:"+name)}
		}
	}
}
