package aws

import (
	"testing"
)

// TestRegistryComplete fails when a resource type the planner lowers to has no
// handler, or a handler's schema names another type than its registry key.
func TestRegistryComplete(t *testing.T) {
	reg := New(testConfig(t))
	for typ, h := range reg {
		if got := h.Schema().Type; got != typ {
			t.Errorf("registry key %q holds handler for %q", typ, got)
		}
	}
	for _, typ := range resourceTypes {
		if _, ok := reg[typ]; !ok {
			t.Errorf("resource type %s has no handler", typ)
		}
	}
}

// resourceTypes is every type in docs/resources.md.
var resourceTypes = []string{
	"aws_iam_role", "aws_iam_role_policy", "aws_cloudwatch_log_group",
	"aws_lambda_function", "aws_lambda_permission", "aws_lambda_event_source_mapping",
	"aws_sqs_queue", "aws_sns_topic", "aws_sns_subscription",
	"aws_eventbridge_bus", "aws_eventbridge_rule", "aws_eventbridge_target",
	"aws_s3_bucket", "aws_s3_bucket_notification", "aws_dynamodb_table", "aws_kinesis_stream",
	"aws_apigatewayv2_api", "aws_apigatewayv2_integration", "aws_apigatewayv2_route", "aws_apigatewayv2_stage",
}
