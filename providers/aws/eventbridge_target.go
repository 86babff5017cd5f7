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

// eventTargetAPI is the part of the EventBridge API the target handler uses.
type eventTargetAPI interface {
	PutTargets(context.Context, *eventbridge.PutTargetsInput, ...func(*eventbridge.Options)) (*eventbridge.PutTargetsOutput, error)
	RemoveTargets(context.Context, *eventbridge.RemoveTargetsInput, ...func(*eventbridge.Options)) (*eventbridge.RemoveTargetsOutput, error)
	ListTargetsByRule(context.Context, *eventbridge.ListTargetsByRuleInput, ...func(*eventbridge.Options)) (*eventbridge.ListTargetsByRuleOutput, error)
}

// eventBridgeTarget manages aws_eventbridge_target, id "<bus>/<rule>/<target id>".
type eventBridgeTarget struct{ api eventTargetAPI }

func newEventBridgeTarget(c *clients) planner.Handler { return &eventBridgeTarget{api: c.events} }

func (h *eventBridgeTarget) Schema() planner.Schema {
	return planner.Schema{
		Type:     "aws_eventbridge_target",
		ForceNew: []string{"bus", "rule", "target_id"},
	}
}

// splitTargetID splits "<bus>/<rule>/<target id>". Neither rule names nor
// target ids may contain "/", bus names may, so both are taken from the right.
func splitTargetID(id string) (bus, rule, target string, err error) {
	j := strings.LastIndex(id, "/")
	if j > 0 {
		if i := strings.LastIndex(id[:j], "/"); i > 0 && j > i+1 && j < len(id)-1 {
			return id[:i], id[i+1 : j], id[j+1:], nil
		}
	}
	return "", "", "", fmt.Errorf("malformed EventBridge target id %q: want <bus>/<rule>/<target id>", id)
}

// findTarget returns the rule's target with the id, nil when absent. A missing
// rule is reported as the service's ResourceNotFoundException.
func (h *eventBridgeTarget) findTarget(ctx context.Context, bus, rule, targetID string) (*ebtypes.Target, error) {
	var token *string
	for {
		out, err := h.api.ListTargetsByRule(ctx, &eventbridge.ListTargetsByRuleInput{
			Rule: aws.String(rule), EventBusName: aws.String(bus), NextToken: token,
		})
		if err != nil {
			return nil, err
		}
		for i := range out.Targets {
			if aws.ToString(out.Targets[i].Id) == targetID {
				return &out.Targets[i], nil
			}
		}
		if token = out.NextToken; token == nil {
			return nil, nil
		}
	}
}

func (h *eventBridgeTarget) Read(ctx context.Context, id string, _ planner.Attrs) (planner.Attrs, bool, error) {
	bus, rule, targetID, err := splitTargetID(id)
	if err != nil {
		return nil, false, err
	}
	t, err := h.findTarget(ctx, bus, rule, targetID)
	if hasCode(err, "ResourceNotFoundException") {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, classify(err)
	}
	if t == nil {
		return nil, false, nil
	}
	attrs := planner.Attrs{"bus": bus, "rule": rule, "target_id": targetID, "arn": aws.ToString(t.Arn)}
	if in := aws.ToString(t.Input); in != "" {
		attrs["input"] = mustCanonicalJSON(in)
	}
	if r := aws.ToString(t.RoleArn); r != "" {
		attrs["role_arn"] = r
	}
	if t.SqsParameters != nil && aws.ToString(t.SqsParameters.MessageGroupId) != "" {
		attrs["sqs_message_group_id"] = aws.ToString(t.SqsParameters.MessageGroupId)
	}
	return attrs, true, nil
}

func (h *eventBridgeTarget) put(ctx context.Context, desired planner.Attrs) (planner.Attrs, error) {
	bus, rule, targetID := desired.String("bus"), desired.String("rule"), desired.String("target_id")
	if err := checkARN("arn", desired.String("arn")); err != nil {
		return nil, err
	}
	t := ebtypes.Target{Id: aws.String(targetID), Arn: aws.String(desired.String("arn"))}
	attrs := planner.Attrs{"bus": bus, "rule": rule, "target_id": targetID, "arn": desired.String("arn")}
	if in := desired.String("input"); in != "" {
		c, err := canonicalJSON(in)
		if err != nil {
			return nil, fmt.Errorf("input: %w", err)
		}
		t.Input = aws.String(c)
		attrs["input"] = c
	}
	// A role for targets that need one (streams, other buses); a message
	// group for FIFO queues.
	if r := desired.String("role_arn"); r != "" {
		if err := checkARN("role_arn", r); err != nil {
			return nil, err
		}
		t.RoleArn = aws.String(r)
		attrs["role_arn"] = r
	}
	if g := desired.String("sqs_message_group_id"); g != "" {
		t.SqsParameters = &ebtypes.SqsParameters{MessageGroupId: aws.String(g)}
		attrs["sqs_message_group_id"] = g
	}
	out, err := h.api.PutTargets(ctx, &eventbridge.PutTargetsInput{
		Rule: aws.String(rule), EventBusName: aws.String(bus), Targets: []ebtypes.Target{t},
	})
	if err != nil {
		return nil, classify(err)
	}
	// PutTargets reports per-target failures in a successful response.
	if out.FailedEntryCount > 0 && len(out.FailedEntries) > 0 {
		e := out.FailedEntries[0]
		return nil, fmt.Errorf("putting target %q on rule %q: %s: %s", targetID, rule, aws.ToString(e.ErrorCode), aws.ToString(e.ErrorMessage))
	}
	return attrs, nil
}

func (h *eventBridgeTarget) Create(ctx context.Context, desired planner.Attrs) (string, planner.Attrs, error) {
	bus, rule, targetID := desired.String("bus"), desired.String("rule"), desired.String("target_id")
	// PutTargets replaces a target with the same id: check first so another
	// tool's target is never taken over silently.
	existing, err := h.findTarget(ctx, bus, rule, targetID)
	if err != nil {
		return "", nil, classify(err)
	}
	if existing != nil {
		return "", nil, fmt.Errorf("target %q on rule %q: %w", targetID, rule, planner.ErrAlreadyExists)
	}
	attrs, err := h.put(ctx, desired)
	if err != nil {
		return "", nil, err
	}
	return bus + "/" + rule + "/" + targetID, attrs, nil
}

func (h *eventBridgeTarget) Update(ctx context.Context, _ string, _, desired planner.Attrs) (planner.Attrs, error) {
	return h.put(ctx, desired)
}

func (h *eventBridgeTarget) Delete(ctx context.Context, id string, _ planner.Attrs) error {
	bus, rule, targetID, err := splitTargetID(id)
	if err != nil {
		return err
	}
	out, err := h.api.RemoveTargets(ctx, &eventbridge.RemoveTargetsInput{
		Rule: aws.String(rule), EventBusName: aws.String(bus), Ids: []string{targetID},
	})
	if hasCode(err, "ResourceNotFoundException") {
		return nil // the rule, and so its targets, is gone
	}
	if err != nil {
		return classify(err)
	}
	if out.FailedEntryCount > 0 && len(out.FailedEntries) > 0 {
		e := out.FailedEntries[0]
		if aws.ToString(e.ErrorCode) == "ResourceNotFoundException" {
			return nil
		}
		return fmt.Errorf("removing target %q from rule %q: %s: %s", targetID, rule, aws.ToString(e.ErrorCode), aws.ToString(e.ErrorMessage))
	}
	return nil
}

// checkARN rejects a value that is not an ARN before it reaches a service
// that would accept it and fail later (EventBridge validates target ARNs only
// loosely; kumo not at all).
func checkARN(field, s string) error {
	parts := strings.SplitN(s, ":", 6)
	if len(parts) < 6 || parts[0] != "arn" || parts[1] == "" || parts[2] == "" || parts[5] == "" {
		return fmt.Errorf("%s %q is not an ARN (arn:partition:service:region:account:resource)", field, s)
	}
	return nil
}
