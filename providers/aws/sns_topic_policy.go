package aws

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/evdeploy/evdeploy/planner"
)

// snsTopicPolicyAPI is the part of the SNS API the topic policy handler uses.
type snsTopicPolicyAPI interface {
	GetTopicAttributes(context.Context, *sns.GetTopicAttributesInput, ...func(*sns.Options)) (*sns.GetTopicAttributesOutput, error)
	SetTopicAttributes(context.Context, *sns.SetTopicAttributesInput, ...func(*sns.Options)) (*sns.SetTopicAttributesOutput, error)
}

// snsTopicPolicy manages aws_sns_topic_policy, id = the topic's ARN. The
// document is wholly evdeploy's (one statement per route publishing into the
// topic). A topic always has a policy: deleting ours puts back SNS's default
// (the owner account only), and a topic whose policy has no evdeploy
// statement reads as having none of ours.
type snsTopicPolicy struct{ api snsTopicPolicyAPI }

func newSNSTopicPolicy(c *clients) *snsTopicPolicy { return &snsTopicPolicy{api: c.sns} }

func (*snsTopicPolicy) Schema() planner.Schema {
	return planner.Schema{Type: "aws_sns_topic_policy", ForceNew: []string{"topic_arn"}}
}

// hasEvdeployStatement reports whether a policy document has a statement
// whose Sid evdeploy writes ("evdeploy-…").
func hasEvdeployStatement(doc string) bool {
	var p struct {
		Statement []struct{ Sid string } `json:"Statement"`
	}
	if json.Unmarshal([]byte(doc), &p) != nil {
		return false
	}
	for _, s := range p.Statement {
		if strings.HasPrefix(s.Sid, "evdeploy-") {
			return true
		}
	}
	return false
}

func (h *snsTopicPolicy) Read(ctx context.Context, id string, prior planner.Attrs) (planner.Attrs, bool, error) {
	out, err := h.api.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: aws.String(id)})
	if isSNSNotFound(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, classify(err)
	}
	if prior.Bool("shared") {
		// Only evdeploy's statements are this resource.
		ours := ourStatements(out.Attributes["Policy"], policySids(prior.String("policy")))
		if ours == "" {
			return nil, false, nil
		}
		return planner.Attrs{"topic_arn": id, "policy": ours}, true, nil
	}
	doc := mustCanonicalJSON(out.Attributes["Policy"])
	if !hasEvdeployStatement(doc) {
		return nil, false, nil // SNS's default, or another tool's: ours is gone
	}
	return planner.Attrs{"topic_arn": id, "policy": doc}, true, nil
}

func (h *snsTopicPolicy) set(ctx context.Context, arn, doc string) error {
	_, err := h.api.SetTopicAttributes(ctx, &sns.SetTopicAttributesInput{
		TopicArn: aws.String(arn), AttributeName: aws.String("Policy"), AttributeValue: aws.String(doc),
	})
	return classify(err)
}

func (h *snsTopicPolicy) put(ctx context.Context, desired planner.Attrs, drop map[string]bool) (planner.Attrs, error) {
	arn := desired.String("topic_arn")
	doc, err := canonicalJSON(desired.String("policy"))
	if err != nil || doc == "" {
		return nil, fmt.Errorf("policy of topic %s is not a JSON document: %v", arn, err)
	}
	write := doc
	if desired.Bool("shared") {
		if write, err = h.merged(ctx, arn, doc, drop); err != nil {
			return nil, err
		}
	}
	if err := h.set(ctx, arn, write); err != nil {
		return nil, err
	}
	attrs := planner.Attrs{"topic_arn": arn, "policy": doc}
	if desired.Bool("shared") {
		attrs["shared"] = true
	}
	return attrs, nil
}

// merged re-reads the topic's policy just before a write and returns it with
// the statements in drop replaced by ours; SNS's default policy when no
// statement would be left (a topic always has a policy).
func (h *snsTopicPolicy) merged(ctx context.Context, arn, ours string, drop map[string]bool) (string, error) {
	out, err := h.api.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: aws.String(arn)})
	if err != nil {
		return "", classify(err)
	}
	doc, err := mergePolicy(out.Attributes["Policy"], ours, drop)
	if err != nil {
		return "", fmt.Errorf("policy of topic %s: %w", arn, err)
	}
	if doc == "" {
		doc = defaultTopicPolicy(arn)
	}
	return doc, nil
}

func (h *snsTopicPolicy) Create(ctx context.Context, desired planner.Attrs) (string, planner.Attrs, error) {
	attrs, err := h.put(ctx, desired, policySids(desired.String("policy")))
	if err != nil {
		return "", nil, err
	}
	return desired.String("topic_arn"), attrs, nil
}

func (h *snsTopicPolicy) Update(ctx context.Context, _ string, prior, desired planner.Attrs) (planner.Attrs, error) {
	return h.put(ctx, desired, sharedDrop(prior, desired))
}

func (h *snsTopicPolicy) Delete(ctx context.Context, id string, prior planner.Attrs) error {
	doc := defaultTopicPolicy(id)
	if prior.Bool("shared") {
		var err error
		doc, err = h.merged(ctx, id, "", policySids(prior.String("policy")))
		if isSNSNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
	}
	err := h.set(ctx, id, doc)
	if err != nil && !isSNSNotFound(err) {
		return err
	}
	return nil
}

// defaultTopicPolicy is the policy SNS gives a new topic: the owner account
// may manage and publish.
func defaultTopicPolicy(arn string) string {
	account := ""
	if parts := strings.SplitN(arn, ":", 6); len(parts) == 6 {
		account = parts[4]
	}
	doc := map[string]any{
		"Version": "2008-10-17",
		"Id":      "__default_policy_ID",
		"Statement": []any{map[string]any{
			"Sid":       "__default_statement_ID",
			"Effect":    "Allow",
			"Principal": map[string]any{"AWS": "*"},
			"Action": []string{
				"SNS:GetTopicAttributes", "SNS:SetTopicAttributes", "SNS:AddPermission", "SNS:RemovePermission",
				"SNS:DeleteTopic", "SNS:Subscribe", "SNS:ListSubscriptionsByTopic", "SNS:Publish",
			},
			"Resource":  arn,
			"Condition": map[string]any{"StringEquals": map[string]any{"AWS:SourceOwner": account}},
		}},
	}
	b, _ := json.Marshal(doc)
	return string(b)
}
