package aws

import (
	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/evdeploy/evdeploy/planner"
)

// New builds the handler for every resource type evdeploy deploys, talking to
// whatever endpoint cfg points at (AWS, LocalStack, the embedded engine).
// Adding a type: one file with its handler, one line here, its tests.
func New(cfg aws.Config, opts ...Option) planner.Registry {
	c := newClients(cfg)
	for _, o := range opts {
		o(c)
	}
	if c.budgets != nil {
		c.paced(c.budgets)
	}
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
		newLambdaAlias(c),
		newSSMParameter(c),
		newSecretsManagerSecret(c),
		newACMCertificate(c),
		newACMCertificateValidation(c),
		newRoute53Record(c),
		newAPIGatewayDomainName(c),
		newAPIGatewayAPIMapping(c),
		newMetricAlarm(c),
		newEventBridgeArchive(c),
	}
	reg := planner.Registry{}
	for _, h := range handlers {
		reg[h.Schema().Type] = h
	}
	return reg
}

// Option adjusts the clients New builds.
type Option func(*clients)

// WithCaller gives the account id and partition the caller already knows (the
// CLI asks STS once to name the target), so the handlers do not ask again.
// Empty values are ignored.
func WithCaller(account, partition string) Option {
	return func(c *clients) {
		if account == "" || partition == "" {
			return
		}
		c.account, c.partition = account, partition
	}
}
