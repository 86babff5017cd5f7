package aws

import (
	"context"
	"errors"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/evdeploy/evdeploy/planner"
)

// eventInvokeConfigAPI is the part of the Lambda API the async settings
// handler uses.
type eventInvokeConfigAPI interface {
	PutFunctionEventInvokeConfig(context.Context, *lambda.PutFunctionEventInvokeConfigInput, ...func(*lambda.Options)) (*lambda.PutFunctionEventInvokeConfigOutput, error)
	GetFunctionEventInvokeConfig(context.Context, *lambda.GetFunctionEventInvokeConfigInput, ...func(*lambda.Options)) (*lambda.GetFunctionEventInvokeConfigOutput, error)
	DeleteFunctionEventInvokeConfig(context.Context, *lambda.DeleteFunctionEventInvokeConfigInput, ...func(*lambda.Options)) (*lambda.DeleteFunctionEventInvokeConfigOutput, error)
}

// lambdaEventInvokeConfig manages aws_lambda_event_invoke_config (a function's
// asynchronous invocation settings: retries, maximum event age and
// destinations), id = the function's name.
type lambdaEventInvokeConfig struct{ api eventInvokeConfigAPI }

func newLambdaEventInvokeConfig(c *clients) *lambdaEventInvokeConfig {
	return &lambdaEventInvokeConfig{api: c.lambda}
}

func (*lambdaEventInvokeConfig) Schema() planner.Schema {
	return planner.Schema{Type: "aws_lambda_event_invoke_config", ForceNew: []string{"function_name"}}
}

func (h *lambdaEventInvokeConfig) Read(ctx context.Context, id string, _ planner.Attrs) (planner.Attrs, bool, error) {
	out, err := h.api.GetFunctionEventInvokeConfig(ctx, &lambda.GetFunctionEventInvokeConfigInput{FunctionName: qualifiedName(id), Qualifier: qualifierOf(id)})
	if isLambdaNotFound(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, classify(err)
	}
	a := planner.Attrs{"function_name": id}
	if out.MaximumRetryAttempts != nil {
		a["maximum_retry_attempts"] = int64(*out.MaximumRetryAttempts)
	}
	if out.MaximumEventAgeInSeconds != nil {
		a["maximum_event_age"] = int64(*out.MaximumEventAgeInSeconds)
	}
	if dc := out.DestinationConfig; dc != nil {
		if dc.OnFailure != nil && aws.ToString(dc.OnFailure.Destination) != "" {
			a["on_failure"] = aws.ToString(dc.OnFailure.Destination)
		}
		if dc.OnSuccess != nil && aws.ToString(dc.OnSuccess.Destination) != "" {
			a["on_success"] = aws.ToString(dc.OnSuccess.Destination)
		}
	}
	return a, true, nil
}

// roleCannotWriteDestination recognises Lambda's answer when the function's
// role may not (yet) write to a destination ("The function's execution role
// does not have permissions to call SendMessage on …"): usually IAM
// propagation of the policy just written. Only the message tells it apart
// from other InvalidParameterValueExceptions.
func roleCannotWriteDestination(err error) bool {
	var ipv *lambdatypes.InvalidParameterValueException
	return errors.As(err, &ipv) && strings.Contains(ipv.ErrorMessage(), "execution role does not have permissions")
}

// put writes the whole configuration: PutFunctionEventInvokeConfig replaces
// every setting, so a destination removed from the spec is removed here.
func (h *lambdaEventInvokeConfig) put(ctx context.Context, desired planner.Attrs) (planner.Attrs, error) {
	name := desired.String("function_name")
	in := &lambda.PutFunctionEventInvokeConfigInput{
		FunctionName: qualifiedName(name), Qualifier: qualifierOf(name),
		MaximumRetryAttempts:     aws.Int32(int32(desired.Int("maximum_retry_attempts"))),
		MaximumEventAgeInSeconds: aws.Int32(int32(desired.Int("maximum_event_age"))),
		DestinationConfig:        &lambdatypes.DestinationConfig{},
	}
	attrs := planner.Attrs{
		"function_name":          name,
		"maximum_retry_attempts": desired.Int("maximum_retry_attempts"),
		"maximum_event_age":      desired.Int("maximum_event_age"),
	}
	for _, k := range []string{"on_failure", "on_success"} {
		dst := desired.String(k)
		if dst == "" {
			continue
		}
		if err := checkARN(k, dst); err != nil {
			return nil, err
		}
		attrs[k] = dst
		if k == "on_failure" {
			in.DestinationConfig.OnFailure = &lambdatypes.OnFailure{Destination: aws.String(dst)}
		} else {
			in.DestinationConfig.OnSuccess = &lambdatypes.OnSuccess{Destination: aws.String(dst)}
		}
	}
	if _, err := h.api.PutFunctionEventInvokeConfig(ctx, in); err != nil {
		if roleCannotWriteDestination(err) || roleNotAssumable(err) {
			return nil, propagating(err)
		}
		return nil, classify(err)
	}
	return attrs, nil
}

func (h *lambdaEventInvokeConfig) Create(ctx context.Context, desired planner.Attrs) (string, planner.Attrs, error) {
	attrs, err := h.put(ctx, desired)
	if err != nil {
		return "", nil, err
	}
	return desired.String("function_name"), attrs, nil
}

func (h *lambdaEventInvokeConfig) Update(ctx context.Context, _ string, _, desired planner.Attrs) (planner.Attrs, error) {
	return h.put(ctx, desired)
}

func (h *lambdaEventInvokeConfig) Delete(ctx context.Context, id string, _ planner.Attrs) error {
	_, err := h.api.DeleteFunctionEventInvokeConfig(ctx, &lambda.DeleteFunctionEventInvokeConfigInput{FunctionName: qualifiedName(id), Qualifier: qualifierOf(id)})
	if err != nil && !isLambdaNotFound(err) {
		return classify(err)
	}
	return nil
}
