package aws

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	"github.com/aws/aws-sdk-go-v2/service/apigatewayv2"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/pipes"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/evdeploy/evdeploy/planner"
)

// clients holds one SDK client per service, built once from the target's config.
type clients struct {
	cfg    aws.Config
	iam    *iam.Client
	logs   *cloudwatchlogs.Client
	lambda *lambda.Client
	sqs    *sqs.Client
	sns    *sns.Client
	events *eventbridge.Client
	s3     *s3.Client
	ddb    *dynamodb.Client
	kin    *kinesis.Client
	apigw  *apigatewayv2.Client
	pipes  *pipes.Client
	sts    *sts.Client
	acm    *acm.Client
	r53    *route53.Client

	// functionPolicies shares a function's resource policy, read once in a
	// refresh, between the function's Read and its permissions' Reads.
	functionPolicies readShare
	// roleShares holds what the role Prefetch read, for the roles' and
	// their inline policies' Reads.
	roleShares roleShares

	// budgets, when set, paces every call by AWS's API quotas (budget.go).
	budgets *Budgets

	// caller caches GetCallerIdentity: the account and partition for ARNs a
	// handler must derive before the resource exists (an SNS topic's).
	callerMu  sync.Mutex
	account   string
	partition string
}

// callerIdentity returns the account id and partition of the credentials,
// asking STS once.
func (c *clients) callerIdentity(ctx context.Context) (account, partition string, err error) {
	c.callerMu.Lock()
	defer c.callerMu.Unlock()
	if c.account != "" {
		return c.account, c.partition, nil
	}
	out, err := c.sts.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return "", "", fmt.Errorf("looking up the account: %w", classify(err))
	}
	c.account = aws.ToString(out.Account)
	c.partition = "aws"
	// The caller's ARN names the partition: arn:<partition>:sts::<account>:...
	if parts := strings.SplitN(aws.ToString(out.Arn), ":", 3); len(parts) == 3 && parts[0] == "arn" {
		c.partition = parts[1]
	}
	return c.account, c.partition, nil
}

// paced rebuilds the service clients with b's middleware in every stack.
func (c *clients) paced(b *Budgets) {
	cfg := c.cfg.Copy()
	cfg.APIOptions = append(cfg.APIOptions, b.apiOption)
	n := newClients(cfg)
	c.cfg, c.iam, c.logs, c.lambda, c.sqs, c.sns, c.events = n.cfg, n.iam, n.logs, n.lambda, n.sqs, n.sns, n.events
	c.s3, c.ddb, c.kin, c.apigw, c.pipes, c.sts = n.s3, n.ddb, n.kin, n.apigw, n.pipes, n.sts
	c.budgets = b
}

func newClients(cfg aws.Config) *clients {
	return &clients{
		cfg:    cfg,
		iam:    iam.NewFromConfig(cfg),
		logs:   cloudwatchlogs.NewFromConfig(cfg),
		lambda: lambda.NewFromConfig(cfg),
		sqs:    sqs.NewFromConfig(cfg),
		sns:    sns.NewFromConfig(cfg),
		events: eventbridge.NewFromConfig(cfg),
		// Path-style addressing works on AWS and is what every local endpoint
		// (LocalStack, the embedded engine) needs.
		s3:    s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = cfg.BaseEndpoint != nil }),
		ddb:   dynamodb.NewFromConfig(cfg),
		kin:   kinesis.NewFromConfig(cfg),
		apigw: apigatewayv2.NewFromConfig(cfg),
		pipes: pipes.NewFromConfig(cfg),
		sts:   sts.NewFromConfig(cfg),
		acm:   acm.NewFromConfig(cfg),
		r53:   route53.NewFromConfig(cfg),
	}
}

// apiErrorCode returns the service's error code ("ResourceNotFoundException"),
// or "" when err is not an API error. Matching on codes through errors.As
// (never on message text) is how every handler classifies failures.
func apiErrorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// hasCode reports whether err is an API error with one of the codes.
func hasCode(err error, codes ...string) bool {
	code := apiErrorCode(err)
	if code == "" {
		return false
	}
	for _, c := range codes {
		if code == c {
			return true
		}
	}
	return false
}

var throttlingCodes = []string{
	"Throttling", "ThrottlingException", "ThrottledException", "TooManyRequestsException",
	"RequestLimitExceeded", "SlowDown", "ProvisionedThroughputExceededException",
	"RequestThrottled", "RequestThrottledException", "LimitExceededException",
}

// classify marks errors the executor may retry: throttling as
// planner.ErrThrottled. Handlers wrap IAM-propagation errors they recognise as
// planner.ErrPropagating themselves, since the signal differs per API.
func classify(err error) error {
	if err == nil {
		return nil
	}
	if hasCode(err, throttlingCodes...) {
		return errors.Join(planner.ErrThrottled, err)
	}
	return err
}
