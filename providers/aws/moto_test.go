package aws

import (
	"strings"
	"testing"

	"github.com/evdeploy/evdeploy/internal/motoserver"
)

// onMoto is the name prefix of the tests that run against moto: testConfig
// aims a test whose name starts with it at the moto server instead of kumo.
const onMoto = "TestMoto/"

// TestMoto runs the provider tests again against moto's server, an AWS
// emulator written independently of kumo (internal/motoserver; a missing
// moto_server fails here with the install command). Where the two disagree,
// AWS's documented behaviour decides (docs/testing.md lists the gaps).
func TestMoto(t *testing.T) {
	if testing.Short() {
		t.Skip("second emulator")
	}
	motoserver.URL(t)
	for _, tc := range []struct {
		name string
		run  func(*testing.T)
	}{
		{"ACMCertificateLifecycle", TestACMCertificateLifecycle},
		{"APIGatewayDomainNameLifecycle", TestAPIGatewayDomainNameLifecycle},
		{"Route53RecordLifecycle", TestRoute53RecordLifecycle},
		{"APIGatewayAPILifecycle", TestAPIGatewayAPILifecycle},
		{"APIGatewayAPIFind", TestAPIGatewayAPIFind},
		{"APIGatewayAPIErrors", TestAPIGatewayAPIErrors},
		{"APIGatewayAPIDrift", TestAPIGatewayAPIDrift},
		{"APIGatewayAuthorizerAndCORS", TestAPIGatewayAuthorizerAndCORS},
		{"APIGatewayIntegrationLifecycle", TestAPIGatewayIntegrationLifecycle},
		{"APIGatewayIntegrationErrors", TestAPIGatewayIntegrationErrors},
		{"APIGatewayIntegrationDrift", TestAPIGatewayIntegrationDrift},
		{"APIGatewayRouteLifecycle", TestAPIGatewayRouteLifecycle},
		{"APIGatewayRouteErrors", TestAPIGatewayRouteErrors},
		{"APIGatewayRouteDrift", TestAPIGatewayRouteDrift},
		{"APIGatewayStageLifecycle", TestAPIGatewayStageLifecycle},
		{"APIGatewayStageErrors", TestAPIGatewayStageErrors},
		{"APIGatewayStageDrift", TestAPIGatewayStageDrift},
		{"APIGatewayStageFind", TestAPIGatewayStageFind},
		{"LookupExistingOtherRegion", TestLookupExistingOtherRegion},
		{"DynamoDBTableLifecycle", TestDynamoDBTableLifecycle},
		{"DynamoDBTableOnDemand", TestDynamoDBTableOnDemand},
		{"DynamoDBTableErrors", TestDynamoDBTableErrors},
		{"DynamoDBTableDrift", TestDynamoDBTableDrift},
		{"DynamoDBTableIndexes", TestDynamoDBTableIndexes},
		{"EventSourceMappingSQS", TestEventSourceMappingSQS},
		{"EventSourceMappingKinesis", TestEventSourceMappingKinesis},
		{"EventSourceMappingErrors", TestEventSourceMappingErrors},
		{"EventSourceMappingDynamoDBStream", TestEventSourceMappingDynamoDBStream},
		{"EventBridgeBusLifecycle", TestEventBridgeBusLifecycle},
		{"EventBridgeBusErrors", TestEventBridgeBusErrors},
		{"EventBridgeBusDrift", TestEventBridgeBusDrift},
		{"EventBridgeRuleLifecycle", TestEventBridgeRuleLifecycle},
		{"EventBridgeRuleErrors", TestEventBridgeRuleErrors},
		{"EventBridgeRuleDrift", TestEventBridgeRuleDrift},
		{"EventBridgeTargetLifecycle", TestEventBridgeTargetLifecycle},
		{"EventBridgeTargetErrors", TestEventBridgeTargetErrors},
		{"EventBridgeTargetDrift", TestEventBridgeTargetDrift},
		{"IAMRolePolicyLifecycle", TestIAMRolePolicyLifecycle},
		{"IAMRoleLifecycle", TestIAMRoleLifecycle},
		{"IAMRoleUntag", TestIAMRoleUntag},
		{"IAMRoleCollision", TestIAMRoleCollision},
		{"IAMRoleErrors", TestIAMRoleErrors},
		{"IAMRoleExclusive", TestIAMRoleExclusive},
		{"IAMRolePrefetch", TestIAMRolePrefetch},
		{"LambdaFunctionExtraStatements", TestLambdaFunctionExtraStatements},
		{"KinesisStreamLifecycle", TestKinesisStreamLifecycle},
		{"KinesisStreamOnDemand", TestKinesisStreamOnDemand},
		{"KinesisStreamErrors", TestKinesisStreamErrors},
		{"LambdaFunctionLifecycle", TestLambdaFunctionLifecycle},
		{"LambdaFunctionFromS3", TestLambdaFunctionFromS3},
		{"LambdaFunctionErrors", TestLambdaFunctionErrors},
		{"LambdaFunctionFromArtifactsBucket", TestLambdaFunctionFromArtifactsBucket},
		{"LambdaFunctionSettings", TestLambdaFunctionSettings},
		{"LambdaLayerVersionLifecycle", TestLambdaLayerVersionLifecycle},
		{"LambdaPermissionLifecycle", TestLambdaPermissionLifecycle},
		{"LambdaPermissionErrors", TestLambdaPermissionErrors},
		{"LogGroupLifecycle", TestLogGroupLifecycle},
		{"LogGroupErrors", TestLogGroupErrors},
		{"S3BucketNotificationOwned", TestS3BucketNotificationOwned},
		{"S3BucketNotificationMerged", TestS3BucketNotificationMerged},
		{"S3BucketNotificationErrors", TestS3BucketNotificationErrors},
		{"S3BucketNotificationDrift", TestS3BucketNotificationDrift},
		{"S3BucketLifecycle", TestS3BucketLifecycle},
		{"S3BucketDeleteNonEmpty", TestS3BucketDeleteNonEmpty},
		{"S3BucketErrors", TestS3BucketErrors},
		{"S3BucketDrift", TestS3BucketDrift},
		{"S3BucketDeleteVersioned", TestS3BucketDeleteVersioned},
		{"SNSSubscriptionLifecycle", TestSNSSubscriptionLifecycle},
		{"SNSSubscriptionErrors", TestSNSSubscriptionErrors},
		{"SNSTopicLifecycle", TestSNSTopicLifecycle},
		{"SNSTopicErrors", TestSNSTopicErrors},
		{"SQSQueueLifecycle", TestSQSQueueLifecycle},
		{"SQSQueueErrors", TestSQSQueueErrors},
		{"SQSQueueFind", TestSQSQueueFind},
		{"SSMParameterLifecycle", TestSSMParameterLifecycle},
		{"SecretsManagerSecretLifecycle", TestSecretsManagerSecretLifecycle},
	} {
		t.Run(tc.name, tc.run)
	}
}

// emulatorName names the emulator the test runs against.
func emulatorName(t testing.TB) string {
	if strings.HasPrefix(t.Name(), onMoto) {
		return "moto"
	}
	return "kumo"
}

// gap reports whether the test runs on emulator, logging "<emulator> gap:
// <why>" when it does: the caller then skips the one assertion that emulator
// fails where AWS's documented behaviour is the reference (docs/testing.md).
func gap(t testing.TB, emulator, format string, args ...any) bool {
	t.Helper()
	if emulatorName(t) != emulator {
		return false
	}
	t.Logf(emulator+" gap: "+format, args...)
	return true
}

// emulatorFor returns the endpoint a test talks to: moto under TestMoto,
// kumo otherwise.
func emulatorFor(t testing.TB) string {
	if strings.HasPrefix(t.Name(), onMoto) {
		return motoserver.URL(t)
	}
	return emulatorURL
}
