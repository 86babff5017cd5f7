package aws

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigatewayv2"
	apitypes "github.com/aws/aws-sdk-go-v2/service/apigatewayv2/types"

	"github.com/evdeploy/evdeploy/planner"
)

// apiIntegrationAPI is the part of the API Gateway v2 API the integration
// handler uses.
type apiIntegrationAPI interface {
	CreateIntegration(context.Context, *apigatewayv2.CreateIntegrationInput, ...func(*apigatewayv2.Options)) (*apigatewayv2.CreateIntegrationOutput, error)
	GetIntegration(context.Context, *apigatewayv2.GetIntegrationInput, ...func(*apigatewayv2.Options)) (*apigatewayv2.GetIntegrationOutput, error)
	GetIntegrations(context.Context, *apigatewayv2.GetIntegrationsInput, ...func(*apigatewayv2.Options)) (*apigatewayv2.GetIntegrationsOutput, error)
	UpdateIntegration(context.Context, *apigatewayv2.UpdateIntegrationInput, ...func(*apigatewayv2.Options)) (*apigatewayv2.UpdateIntegrationOutput, error)
	DeleteIntegration(context.Context, *apigatewayv2.DeleteIntegrationInput, ...func(*apigatewayv2.Options)) (*apigatewayv2.DeleteIntegrationOutput, error)
}

// apiGatewayIntegration manages aws_apigatewayv2_integration, id
// "<api id>/<integration id>": a Lambda proxy integration of an HTTP API.
type apiGatewayIntegration struct{ api apiIntegrationAPI }

func newAPIGatewayIntegration(c *clients) planner.Handler {
	return &apiGatewayIntegration{api: c.apigw}
}

var _ planner.Finder = (*apiGatewayIntegration)(nil)

func (h *apiGatewayIntegration) Schema() planner.Schema {
	return planner.Schema{
		Type:     "aws_apigatewayv2_integration",
		ForceNew: []string{"api_id"},
		Computed: []string{"integration_id"},
	}
}

func integrationAttrs(apiID, id string, typ apitypes.IntegrationType, uri, payload *string) planner.Attrs {
	a := planner.Attrs{"api_id": apiID, "integration_id": id, "integration_type": string(typ)}
	if v := aws.ToString(uri); v != "" {
		a["integration_uri"] = v
	}
	if v := aws.ToString(payload); v != "" {
		a["payload_format_version"] = v
	}
	return a
}

func (h *apiGatewayIntegration) Read(ctx context.Context, id string, _ planner.Attrs) (planner.Attrs, bool, error) {
	apiID, integID, err := splitAPIChildID("integration", id)
	if err != nil {
		return nil, false, err
	}
	out, err := h.api.GetIntegration(ctx, &apigatewayv2.GetIntegrationInput{ApiId: aws.String(apiID), IntegrationId: aws.String(integID)})
	if apiNotFound(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, classify(err)
	}
	return integrationAttrs(apiID, integID, out.IntegrationType, out.IntegrationUri, out.PayloadFormatVersion), true, nil
}

// integrationSettings validates desired and returns its type and method.
func integrationSettings(desired planner.Attrs) (apitypes.IntegrationType, *string, error) {
	typ := apitypes.IntegrationType(desired.String("integration_type"))
	if typ == "" {
		typ = apitypes.IntegrationTypeAwsProxy
	}
	if typ == apitypes.IntegrationTypeAwsProxy {
		// A Lambda proxy integration's URI is the function's ARN; API Gateway
		// itself only fails when the route is invoked.
		if err := checkARN("integration_uri", desired.String("integration_uri")); err != nil {
			return "", nil, err
		}
		// Lambda is invoked with POST whatever the route's method.
		return typ, aws.String("POST"), nil
	}
	return typ, nil, nil
}

func (h *apiGatewayIntegration) Create(ctx context.Context, desired planner.Attrs) (string, planner.Attrs, error) {
	apiID := desired.String("api_id")
	typ, method, err := integrationSettings(desired)
	if err != nil {
		return "", nil, err
	}
	in := &apigatewayv2.CreateIntegrationInput{
		ApiId:             aws.String(apiID),
		IntegrationType:   typ,
		IntegrationMethod: method,
		IntegrationUri:    aws.String(desired.String("integration_uri")),
	}
	if v := desired.String("payload_format_version"); v != "" {
		in.PayloadFormatVersion = aws.String(v)
	}
	return createOnce(ctx, func(ctx context.Context) (string, planner.Attrs, error) {
		out, err := h.api.CreateIntegration(ctx, in, noSDKRetriesAPIGW)
		if err != nil {
			return "", nil, err
		}
		integID := aws.ToString(out.IntegrationId)
		return apiID + "/" + integID, integrationAttrs(apiID, integID, out.IntegrationType, out.IntegrationUri, out.PayloadFormatVersion), nil
	}, func(ctx context.Context) (string, planner.Attrs, bool, error) { return h.Find(ctx, desired) })
}

func (h *apiGatewayIntegration) Update(ctx context.Context, id string, _, desired planner.Attrs) (planner.Attrs, error) {
	apiID, integID, err := splitAPIChildID("integration", id)
	if err != nil {
		return nil, err
	}
	typ, method, err := integrationSettings(desired)
	if err != nil {
		return nil, err
	}
	in := &apigatewayv2.UpdateIntegrationInput{
		ApiId:             aws.String(apiID),
		IntegrationId:     aws.String(integID),
		IntegrationType:   typ,
		IntegrationMethod: method,
		IntegrationUri:    aws.String(desired.String("integration_uri")),
	}
	if v := desired.String("payload_format_version"); v != "" {
		in.PayloadFormatVersion = aws.String(v)
	}
	out, err := h.api.UpdateIntegration(ctx, in)
	if err != nil {
		return nil, classify(err)
	}
	return integrationAttrs(apiID, integID, out.IntegrationType, out.IntegrationUri, out.PayloadFormatVersion), nil
}

func (h *apiGatewayIntegration) Delete(ctx context.Context, id string, _ planner.Attrs) error {
	apiID, integID, err := splitAPIChildID("integration", id)
	if err != nil {
		return err
	}
	_, err = h.api.DeleteIntegration(ctx, &apigatewayv2.DeleteIntegrationInput{ApiId: aws.String(apiID), IntegrationId: aws.String(integID)})
	if err != nil && !apiNotFound(err) {
		return classify(err)
	}
	return nil
}

// Find recognises the integration an interrupted apply created: on the same
// API, of the same type, to the same function. An integration id is assigned
// by API Gateway, so without this a retried apply would create a second one.
func (h *apiGatewayIntegration) Find(ctx context.Context, desired planner.Attrs) (string, planner.Attrs, bool, error) {
	apiID := desired.String("api_id")
	typ, _, err := integrationSettings(desired)
	if err != nil {
		return "", nil, false, err
	}
	var token *string
	for {
		out, err := h.api.GetIntegrations(ctx, &apigatewayv2.GetIntegrationsInput{ApiId: aws.String(apiID), NextToken: token})
		if apiNotFound(err) {
			return "", nil, false, nil
		}
		if err != nil {
			return "", nil, false, classify(err)
		}
		for _, i := range out.Items {
			if i.IntegrationType == typ && aws.ToString(i.IntegrationUri) == desired.String("integration_uri") {
				id := aws.ToString(i.IntegrationId)
				return apiID + "/" + id, integrationAttrs(apiID, id, i.IntegrationType, i.IntegrationUri, i.PayloadFormatVersion), true, nil
			}
		}
		if token = out.NextToken; token == nil || *token == "" {
			return "", nil, false, nil
		}
	}
}
