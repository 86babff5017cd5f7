package aws

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/evdeploy/evdeploy/planner"
)

// eventRuleAPI is the part of the EventBridge API the rule handler uses.
type eventRuleAPI interface {
	PutRule(context.Context, *eventbridge.PutRuleInput, ...func(*eventbridge.Options)) (*eventbridge.PutRuleOutput, error)
	DescribeRule(context.Context, *eventbridge.DescribeRuleInput, ...func(*eventbridge.Options)) (*eventbridge.DescribeRuleOutput, error)
	DeleteRule(context.Context, *eventbridge.DeleteRuleInput, ...func(*eventbridge.Options)) (*eventbridge.DeleteRuleOutput, error)
	ListTargetsByRule(context.Context, *eventbridge.ListTargetsByRuleInput, ...func(*eventbridge.Options)) (*eventbridge.ListTargetsByRuleOutput, error)
	RemoveTargets(context.Context, *eventbridge.RemoveTargetsInput, ...func(*eventbridge.Options)) (*eventbridge.RemoveTargetsOutput, error)
	eventBridgeTagAPI
}

// eventBridgeRule manages aws_eventbridge_rule, id "<bus>/<rule name>".
type eventBridgeRule struct{ api eventRuleAPI }

func newEventBridgeRule(c *clients) planner.Handler { return &eventBridgeRule{api: c.events} }

func (h *eventBridgeRule) Schema() planner.Schema {
	return planner.Schema{
		Type:     "aws_eventbridge_rule",
		ForceNew: []string{"name", "bus"},
		Computed: []string{"arn"},
	}
}

// splitRuleID splits "<bus>/<rule>". Rule names cannot contain "/", bus names
// (partner buses) can, so the rule is the last segment.
func splitRuleID(id string) (bus, rule string, err error) {
	i := strings.LastIndex(id, "/")
	if i <= 0 || i == len(id)-1 {
		return "", "", fmt.Errorf("malformed EventBridge rule id %q: want <bus>/<rule>", id)
	}
	return id[:i], id[i+1:], nil
}

func (h *eventBridgeRule) Read(ctx context.Context, id string, _ planner.Attrs) (planner.Attrs, bool, error) {
	bus, name, err := splitRuleID(id)
	if err != nil {
		return nil, false, err
	}
	out, err := h.api.DescribeRule(ctx, &eventbridge.DescribeRuleInput{Name: aws.String(name), EventBusName: aws.String(bus)})
	if hasCode(err, "ResourceNotFoundException") {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, classify(err)
	}
	arn := aws.ToString(out.Arn)
	attrs := planner.Attrs{"name": name, "bus": bus, "arn": arn, "state": string(out.State)}
	if p := aws.ToString(out.EventPattern); p != "" {
		attrs["event_pattern"] = mustCanonicalJSON(p)
	}
	if s := aws.ToString(out.ScheduleExpression); s != "" {
		attrs["schedule_expression"] = s
	}
	if d := aws.ToString(out.Description); d != "" {
		attrs["description"] = d
	}
	tags, err := eventBridgeTags(ctx, h.api, arn)
	if hasCode(err, "ResourceNotFoundException") {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	setMap(attrs, "tags", tags)
	return attrs, true, nil
}

// putRuleInput builds PutRule's input. PutRule replaces every field it is
// given and clears those it is not, so it always carries the whole rule.
func putRuleInput(desired planner.Attrs) (*eventbridge.PutRuleInput, error) {
	in := &eventbridge.PutRuleInput{
		Name:         aws.String(desired.String("name")),
		EventBusName: aws.String(desired.String("bus")),
	}
	if p := desired.String("event_pattern"); p != "" {
		c, err := canonicalJSON(p)
		if err != nil {
			return nil, fmt.Errorf("event_pattern: %w", err)
		}
		in.EventPattern = aws.String(c)
	}
	if s := desired.String("schedule_expression"); s != "" {
		in.ScheduleExpression = aws.String(s)
	}
	if in.EventPattern == nil && in.ScheduleExpression == nil {
		return nil, fmt.Errorf("rule %q needs an event_pattern or a schedule_expression", desired.String("name"))
	}
	if s := desired.String("state"); s != "" {
		in.State = ebtypes.RuleState(s)
	}
	if d := desired.String("description"); d != "" {
		in.Description = aws.String(d)
	}
	return in, nil
}

func (h *eventBridgeRule) Create(ctx context.Context, desired planner.Attrs) (string, planner.Attrs, error) {
	bus, name := desired.String("bus"), desired.String("name")
	id := bus + "/" + name
	in, err := putRuleInput(desired)
	if err != nil {
		return "", nil, err
	}
	// PutRule is an upsert: without this check it would silently take over a
	// rule someone else made.
	_, err = h.api.DescribeRule(ctx, &eventbridge.DescribeRuleInput{Name: aws.String(name), EventBusName: aws.String(bus)})
	if err == nil {
		return "", nil, fmt.Errorf("rule %q on bus %q: %w", name, bus, planner.ErrAlreadyExists)
	}
	if !hasCode(err, "ResourceNotFoundException") {
		return "", nil, classify(err)
	}
	for k, v := range desired.StringMap("tags") {
		in.Tags = append(in.Tags, ebtypes.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	out, err := h.api.PutRule(ctx, in)
	if err != nil {
		return "", nil, classify(err)
	}
	return id, ruleAttrs(desired, in, aws.ToString(out.RuleArn)), nil
}

// ruleAttrs is what a successful PutRule leaves in place.
func ruleAttrs(desired planner.Attrs, in *eventbridge.PutRuleInput, arn string) planner.Attrs {
	attrs := planner.Attrs{"name": desired.String("name"), "bus": desired.String("bus"), "arn": arn}
	if in.EventPattern != nil {
		attrs["event_pattern"] = *in.EventPattern
	}
	if in.ScheduleExpression != nil {
		attrs["schedule_expression"] = *in.ScheduleExpression
	}
	attrs["state"] = string(in.State)
	if in.State == "" {
		attrs["state"] = string(ebtypes.RuleStateEnabled) // PutRule's default
	}
	if in.Description != nil {
		attrs["description"] = *in.Description
	}
	setMap(attrs, "tags", desired.StringMap("tags"))
	return attrs
}

func (h *eventBridgeRule) Update(ctx context.Context, id string, prior, desired planner.Attrs) (planner.Attrs, error) {
	in, err := putRuleInput(desired)
	if err != nil {
		return nil, err
	}
	// Tags on PutRule only apply when the rule is created; changes go through
	// the tagging API below.
	out, err := h.api.PutRule(ctx, in)
	if err != nil {
		return nil, classify(err)
	}
	arn := aws.ToString(out.RuleArn)
	if err := syncEventBridgeTags(ctx, h.api, arn, prior.StringMap("tags"), desired.StringMap("tags")); err != nil {
		return nil, err
	}
	return ruleAttrs(desired, in, arn), nil
}

func (h *eventBridgeRule) Delete(ctx context.Context, id string, _ planner.Attrs) error {
	bus, name, err := splitRuleID(id)
	if err != nil {
		return err
	}
	// AWS refuses to delete a rule that still has targets. Targets are
	// separate resources deleted first; this removes any left behind (an
	// interrupted apply, a target added by hand).
	if err := h.removeAllTargets(ctx, bus, name); err != nil {
		if hasCode(err, "ResourceNotFoundException") {
			return nil
		}
		return classify(err)
	}
	_, err = h.api.DeleteRule(ctx, &eventbridge.DeleteRuleInput{Name: aws.String(name), EventBusName: aws.String(bus)})
	if err != nil && !hasCode(err, "ResourceNotFoundException") {
		return classify(err)
	}
	return nil
}

func (h *eventBridgeRule) removeAllTargets(ctx context.Context, bus, rule string) error {
	var ids []string
	var token *string
	for {
		out, err := h.api.ListTargetsByRule(ctx, &eventbridge.ListTargetsByRuleInput{
			Rule: aws.String(rule), EventBusName: aws.String(bus), NextToken: token,
		})
		if err != nil {
			return err
		}
		for _, t := range out.Targets {
			ids = append(ids, aws.ToString(t.Id))
		}
		if token = out.NextToken; token == nil {
			break
		}
	}
	for len(ids) > 0 {
		n := min(len(ids), 10) // RemoveTargets takes at most 10 ids
		out, err := h.api.RemoveTargets(ctx, &eventbridge.RemoveTargetsInput{
			Rule: aws.String(rule), EventBusName: aws.String(bus), Ids: ids[:n],
		})
		if err != nil {
			return err
		}
		if out.FailedEntryCount > 0 {
			e := out.FailedEntries[0]
			return fmt.Errorf("removing target %q from rule %q: %s: %s", aws.ToString(e.TargetId), rule, aws.ToString(e.ErrorCode), aws.ToString(e.ErrorMessage))
		}
		ids = ids[n:]
	}
	return nil
}
