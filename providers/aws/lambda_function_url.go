package aws

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/evdeploy/evdeploy/planner"
)

// lambdaFunctionURLAPI is the part of the Lambda API the function URL handler uses.
type lambdaFunctionURLAPI interface {
	CreateFunctionUrlConfig(context.Context, *lambda.CreateFunctionUrlConfigInput, ...func(*lambda.Options)) (*lambda.CreateFunctionUrlConfigOutput, error)
	GetFunctionUrlConfig(context.Context, *lambda.GetFunctionUrlConfigInput, ...func(*lambda.Options)) (*lambda.GetFunctionUrlConfigOutput, error)
	UpdateFunctionUrlConfig(context.Context, *lambda.UpdateFunctionUrlConfigInput, ...func(*lambda.Options)) (*lambda.UpdateFunctionUrlConfigOutput, error)
	DeleteFunctionUrlConfig(context.Context, *lambda.DeleteFunctionUrlConfigInput, ...func(*lambda.Options)) (*lambda.DeleteFunctionUrlConfigOutput, error)
}

// lambdaFunctionURL manages aws_lambda_function_url, a function's HTTPS
// endpoint; its physical id is the function name. The resource policy that
// makes a URL with auth NONE public is separate (aws_lambda_permission).
type lambdaFunctionURL struct{ api lambdaFunctionURLAPI }

func newLambdaFunctionURL(c *clients) *lambdaFunctionURL { return &lambdaFunctionURL{api: c.lambda} }

func (*lambdaFunctionURL) Schema() planner.Schema {
	return planner.Schema{
		Type:     "aws_lambda_function_url",
		ForceNew: []string{"function_name"},
		Computed: []string{"url", "function_arn"},
	}
}

func (h *lambdaFunctionURL) Read(ctx context.Context, id string, _ planner.Attrs) (planner.Attrs, bool, error) {
	out, err := h.api.GetFunctionUrlConfig(ctx, &lambda.GetFunctionUrlConfigInput{FunctionName: qualifiedName(id), Qualifier: qualifierOf(id)})
	if isLambdaNotFound(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, classify(err)
	}
	return planner.Attrs{
		"function_name": id,
		"auth_type":     string(out.AuthType),
		"url":           aws.ToString(out.FunctionUrl),
		"function_arn":  aws.ToString(out.FunctionArn),
	}, true, nil
}

func (h *lambdaFunctionURL) Create(ctx context.Context, desired planner.Attrs) (string, planner.Attrs, error) {
	name := desired.String("function_name")
	out, err := h.api.CreateFunctionUrlConfig(ctx, &lambda.CreateFunctionUrlConfigInput{
		FunctionName: qualifiedName(name), Qualifier: qualifierOf(name),
		AuthType: lambdatypes.FunctionUrlAuthType(desired.String("auth_type")),
	})
	if err != nil {
		if hasCode(err, "ResourceConflictException") {
			return "", nil, fmt.Errorf("function URL of %s: %w", name, planner.ErrAlreadyExists)
		}
		return "", nil, classify(err)
	}
	return name, planner.Attrs{
		"function_name": name,
		"auth_type":     string(out.AuthType),
		"url":           aws.ToString(out.FunctionUrl),
		"function_arn":  aws.ToString(out.FunctionArn),
	}, nil
}

func (h *lambdaFunctionURL) Update(ctx context.Context, id string, _, desired planner.Attrs) (planner.Attrs, error) {
	out, err := h.api.UpdateFunctionUrlConfig(ctx, &lambda.UpdateFunctionUrlConfigInput{
		FunctionName: qualifiedName(id), Qualifier: qualifierOf(id),
		AuthType: lambdatypes.FunctionUrlAuthType(desired.String("auth_type")),
	})
	if err != nil {
		return nil, classify(err)
	}
	return planner.Attrs{
		"function_name": id,
		"auth_type":     string(out.AuthType),
		"url":           aws.ToString(out.FunctionUrl),
		"function_arn":  aws.ToString(out.FunctionArn),
	}, nil
}

func (h *lambdaFunctionURL) Delete(ctx context.Context, id string, _ planner.Attrs) error {
	_, err := h.api.DeleteFunctionUrlConfig(ctx, &lambda.DeleteFunctionUrlConfigInput{FunctionName: qualifiedName(id), Qualifier: qualifierOf(id)})
	if err != nil && !isLambdaNotFound(err) {
		return classify(err)
	}
	return nil
}
