package aws

import (
	"context"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/apigatewayv2"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/evdeploy/evdeploy/planner"
)

// createOnceAttempts bounds the attempts of a create the service does not
// deduplicate.
const createOnceAttempts = 4

// sdkRetryable is the SDK's own judgement of whether a failed call may be
// retried (throttling, 5xx, connection errors), used where the SDK's retries
// are turned off.
var sdkRetryable = retry.IsErrorRetryables(retry.DefaultRetryables)

// createOnce runs a create the service does not make idempotent and whose
// resource a name does not identify (API Gateway CreateApi, CreateIntegration,
// CreateRoute; Lambda CreateEventSourceMapping, which the emulators do not
// deduplicate either). The SDK must not retry such a call blindly: when the
// answer to a call that succeeded is lost, a retry makes a second resource and
// orphans the first. So create runs with SDK retries off, and after a
// retryable failure find looks for what the failed attempt may have made; only
// when there is nothing does the create run again. find matches on the
// resource's full identity, including evdeploy's tags where it has them.
func createOnce(ctx context.Context, create func(context.Context) (string, planner.Attrs, error),
	find func(context.Context) (string, planner.Attrs, bool, error)) (string, planner.Attrs, error) {
	var lastErr error
	for attempt := 0; attempt < createOnceAttempts; attempt++ {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return "", nil, ctx.Err()
			case <-time.After(time.Duration(100<<attempt) * time.Millisecond):
			}
			id, a, found, err := find(ctx)
			if err != nil {
				return "", nil, err
			}
			if found {
				return id, a, nil
			}
		}
		id, a, err := create(ctx)
		if err == nil {
			return id, a, nil
		}
		if sdkRetryable.IsErrorRetryable(err) != awssdk.TrueTernary {
			return "", nil, err
		}
		lastErr = err
	}
	return "", nil, classify(lastErr)
}

// noSDKRetriesAPIGW and noSDKRetriesLambda turn the SDK's retries off for one
// call: createOnce retries such calls itself, after looking for what a lost
// attempt made.
func noSDKRetriesAPIGW(o *apigatewayv2.Options) { o.RetryMaxAttempts = 1 }

func noSDKRetriesLambda(o *lambda.Options) { o.RetryMaxAttempts = 1 }
