package aws

import (
	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/evdeploy/evdeploy/planner"
)

// New builds the handler for every resource type evdeploy deploys, talking to
// whatever endpoint cfg points at (AWS, LocalStack, the embedded engine).
// Adding a type: one file with its handler, one line here, its tests.
func New(cfg aws.Config) planner.Registry {
	c := newClients(cfg)
	handlers := []planner.Handler{
		newIAMRole(c),
		newIAMRolePolicy(c),
		newLogGroup(c),
		newLambdaFunction(c),
		newLambdaPermission(c),
		newEventSourceMapping(c),
		newSQSQueue(c),
		newSNSTopic(c),
		newSNSSubscription(c),
		newEventBridgeBus(c),
		newEventBridgeRule(c),
		newEventBridgeTarget(c),
		newS3Bucket(c),
		newS3BucketNotification(c),
		newDynamoDBTable(c),
		newKinesisStream(c),
		newAPIGatewayAPI(c),
		newAPIGatewayIntegration(c),
		newAPIGatewayRoute(c),
		newAPIGatewayStage(c),
		newLambdaFunctionURL(c),
		newAPIGatewayAuthorizer(c),
		newSQSQueuePolicy(c),
		newSNSTopicPolicy(c),
		newLambdaEventInvokeConfig(c),
		newPipesPipe(c),
		newLambdaLayerVersion(c),
	}
	reg := planner.Registry{}
	for _, h := range handlers {
		reg[h.Schema().Type] = h
	}
	return reg
}
