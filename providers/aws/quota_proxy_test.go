package aws

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigatewayv2"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/pipes"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/evdeploy/evdeploy/internal/apicalls"
	"github.com/evdeploy/evdeploy/planner"
)

// TestQuotaProxyThrottles checks the benchmark's quota proxy against the SDK:
// the second call in a second of a budget of 1/s is answered with the
// service's own throttling error, which the SDK decodes to the code AWS
// sends and evdeploy classifies as throttling.
func TestQuotaProxyThrottles(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer backend.Close()
	q := &apicalls.Quotas{Budget: func(service, api string) (string, float64) { return service, 1 }}
	c := apicalls.NewCounter(backend.URL)
	c.Quotas = q
	defer c.Close()
	cfg := aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(c.URL), RetryMaxAttempts: 1,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "AKID", SecretAccessKey: "secret"}, nil
		})}
	cl := newClients(cfg)
	ctx := context.Background()
	tests := []struct {
		service, code string
		call          func() error
	}{
		{"lambda", "TooManyRequestsException", func() error {
			_, err := cl.lambda.GetAccountSettings(ctx, &lambda.GetAccountSettingsInput{})
			return err
		}},
		{"iam", "Throttling", func() error { _, err := cl.iam.ListRoles(ctx, &iam.ListRolesInput{}); return err }},
		{"sqs", "RequestThrottled", func() error { _, err := cl.sqs.ListQueues(ctx, &sqs.ListQueuesInput{}); return err }},
		{"sns", "ThrottlingException", func() error { _, err := cl.sns.ListTopics(ctx, &sns.ListTopicsInput{}); return err }},
		{"logs", "ThrottlingException", func() error {
			_, err := cl.logs.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{})
			return err
		}},
		{"events", "ThrottlingException", func() error { _, err := cl.events.ListRules(ctx, &eventbridge.ListRulesInput{}); return err }},
		{"s3", "SlowDown", func() error { _, err := cl.s3.ListBuckets(ctx, &s3.ListBucketsInput{}); return err }},
		{"dynamodb", "ThrottlingException", func() error { _, err := cl.ddb.ListTables(ctx, &dynamodb.ListTablesInput{}); return err }},
		{"kinesis", "LimitExceededException", func() error { _, err := cl.kin.ListStreams(ctx, &kinesis.ListStreamsInput{}); return err }},
		{"apigateway", "TooManyRequestsException", func() error { _, err := cl.apigw.GetApis(ctx, &apigatewayv2.GetApisInput{}); return err }},
		{"pipes", "ThrottlingException", func() error { _, err := cl.pipes.ListPipes(ctx, &pipes.ListPipesInput{}); return err }},
		{"sts", "Throttling", func() error { _, err := cl.sts.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.service, func(t *testing.T) {
			_ = tt.call() // takes the budget's one token (the empty answer may not decode)
			err := tt.call()
			if got := apiErrorCode(err); got != tt.code {
				t.Fatalf("code %q (%v), want %q", got, err, tt.code)
			}
			if !isThrottle(err) || !errors.Is(classify(err), planner.ErrThrottled) {
				t.Errorf("%v: not classified as throttling", err)
			}
		})
	}
	if _, throttled := q.Counts(); len(throttled) != len(tests) {
		t.Errorf("throttled by budget: %v", throttled)
	}
	if d := retryAfterOf(t, cl); d == "" {
		t.Error("Lambda's answer has no Retry-After")
	}
}

func retryAfterOf(t *testing.T, cl *clients) string {
	_, err := cl.lambda.GetAccountSettings(context.Background(), &lambda.GetAccountSettingsInput{})
	if d := retryAfter(err); d > 0 {
		return fmt.Sprint(d)
	}
	return ""
}

func TestQuotaForCall(t *testing.T) {
	for _, tt := range []struct {
		svc, api, budget string
		rate             float64
	}{
		{"lambda", "GetFunction", "lambda:GetFunction", 100},
		{"lambda", "", "lambda", 15},
		{"iam", "CreateRole", "iam:write", 10},
		{"logs", "CreateLogGroup", "logs:CreateLogGroup", 5},
		{"s3", "Get/bucket/key", "s3:read", 5500},
		{"dynamodb", "PutItem", "", 0},
	} {
		b, r := QuotaForCall(tt.svc, tt.api)
		if b != tt.budget || r != tt.rate {
			t.Errorf("QuotaForCall(%q, %q) = %q, %v; want %q, %v", tt.svc, tt.api, b, r, tt.budget, tt.rate)
		}
	}
}
