package aws

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigatewayv2"

	"github.com/evdeploy/evdeploy/planner"
)

// apiStageAPI is the part of the API Gateway v2 API the stage handler uses.
type apiStageAPI interface {
	CreateStage(context.Context, *apigatewayv2.CreateStageInput, ...func(*apigatewayv2.Options)) (*apigatewayv2.CreateStageOutput, error)
	GetStage(context.Context, *apigatewayv2.GetStageInput, ...func(*apigatewayv2.Options)) (*apigatewayv2.GetStageOutput, error)
	UpdateStage(context.Context, *apigatewayv2.UpdateStageInput, ...func(*apigatewayv2.Options)) (*apigatewayv2.UpdateStageOutput, error)
	DeleteStage(context.Context, *apigatewayv2.DeleteStageInput, ...func(*apigatewayv2.Options)) (*apigatewayv2.DeleteStageOutput, error)
}

// apiGatewayStage manages aws_apigatewayv2_stage, id "<api id>/<stage name>"
// (evdeploy uses the $default stage with auto-deploy).
type apiGatewayStage struct{ api apiStageAPI }

func newAPIGatewayStage(c *clients) planner.Handler { return &apiGatewayStage{api: c.apigw} }

func (h *apiGatewayStage) Schema() planner.Schema {
	return planner.Schema{
		Type:     "aws_apigatewayv2_stage",
		ForceNew: []string{"api_id", "name"},
	}
}

func (h *apiGatewayStage) Read(ctx context.Context, id string, _ planner.Attrs) (planner.Attrs, bool, error) {
	apiID, name, err := splitAPIChildID("stage", id)
	if err != nil {
		return nil, false, err
	}
	out, err := h.api.GetStage(ctx, &apigatewayv2.GetStageInput{ApiId: aws.String(apiID), StageName: aws.String(name)})
	if apiNotFound(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, classify(err)
	}
	return planner.Attrs{"api_id": apiID, "name": aws.ToString(out.StageName), "auto_deploy": aws.ToBool(out.AutoDeploy)}, true, nil
}

func (h *apiGatewayStage) Create(ctx context.Context, desired planner.Attrs) (string, planner.Attrs, error) {
	apiID, name := desired.String("api_id"), desired.String("name")
	out, err := h.api.CreateStage(ctx, &apigatewayv2.CreateStageInput{
		ApiId: aws.String(apiID), StageName: aws.String(name), AutoDeploy: aws.Bool(desired.Bool("auto_deploy")),
	})
	if hasCode(err, "ConflictException") {
		return "", nil, fmt.Errorf("stage %q on API %s: %w", name, apiID, planner.ErrAlreadyExists)
	}
	if err != nil {
		return "", nil, classify(err)
	}
	return apiID + "/" + name, planner.Attrs{"api_id": apiID, "name": aws.ToString(out.StageName), "auto_deploy": aws.ToBool(out.AutoDeploy)}, nil
}

func (h *apiGatewayStage) Update(ctx context.Context, id string, _, desired planner.Attrs) (planner.Attrs, error) {
	apiID, name, err := splitAPIChildID("stage", id)
	if err != nil {
		return nil, err
	}
	out, err := h.api.UpdateStage(ctx, &apigatewayv2.UpdateStageInput{
		ApiId: aws.String(apiID), StageName: aws.String(name), AutoDeploy: aws.Bool(desired.Bool("auto_deploy")),
	})
	if err != nil {
		return nil, classify(err)
	}
	return planner.Attrs{"api_id": apiID, "name": aws.ToString(out.StageName), "auto_deploy": aws.ToBool(out.AutoDeploy)}, nil
}

func (h *apiGatewayStage) Delete(ctx context.Context, id string, _ planner.Attrs) error {
	apiID, name, err := splitAPIChildID("stage", id)
	if err != nil {
		return err
	}
	_, err = h.api.DeleteStage(ctx, &apigatewayv2.DeleteStageInput{ApiId: aws.String(apiID), StageName: aws.String(name)})
	if err != nil && !apiNotFound(err) {
		return classify(err)
	}
	return nil
}

// Find looks the stage up on its API by name: the stage's id includes the API's
// id, which only the service assigns.
func (h *apiGatewayStage) Find(ctx context.Context, desired planner.Attrs) (string, planner.Attrs, bool, error) {
	apiID, name := desired.String("api_id"), desired.String("name")
	if apiID == "" || name == "" {
		return "", nil, false, nil
	}
	id := apiID + "/" + name
	actual, found, err := h.Read(ctx, id, nil)
	if err != nil || !found {
		return "", nil, false, err
	}
	return id, actual, true, nil
}

var _ planner.Finder = (*apiGatewayStage)(nil)
