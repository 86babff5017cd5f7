package aws

import (
	"context"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigatewayv2"
	apitypes "github.com/aws/aws-sdk-go-v2/service/apigatewayv2/types"

	"github.com/evdeploy/evdeploy/planner"
)

// apiAuthorizerAPI is the part of the API Gateway v2 API the authorizer handler uses.
type apiAuthorizerAPI interface {
	CreateAuthorizer(context.Context, *apigatewayv2.CreateAuthorizerInput, ...func(*apigatewayv2.Options)) (*apigatewayv2.CreateAuthorizerOutput, error)
	GetAuthorizer(context.Context, *apigatewayv2.GetAuthorizerInput, ...func(*apigatewayv2.Options)) (*apigatewayv2.GetAuthorizerOutput, error)
	GetAuthorizers(context.Context, *apigatewayv2.GetAuthorizersInput, ...func(*apigatewayv2.Options)) (*apigatewayv2.GetAuthorizersOutput, error)
	UpdateAuthorizer(context.Context, *apigatewayv2.UpdateAuthorizerInput, ...func(*apigatewayv2.Options)) (*apigatewayv2.UpdateAuthorizerOutput, error)
	DeleteAuthorizer(context.Context, *apigatewayv2.DeleteAuthorizerInput, ...func(*apigatewayv2.Options)) (*apigatewayv2.DeleteAuthorizerOutput, error)
}

// apiGatewayAuthorizer manages aws_apigatewayv2_authorizer (JWT authorizers
// of HTTP APIs), id "<api id>/<authorizer id>".
type apiGatewayAuthorizer struct{ api apiAuthorizerAPI }

func newAPIGatewayAuthorizer(c *clients) planner.Handler { return &apiGatewayAuthorizer{api: c.apigw} }

var _ planner.Finder = (*apiGatewayAuthorizer)(nil)

func (h *apiGatewayAuthorizer) Schema() planner.Schema {
	return planner.Schema{
		Type:     "aws_apigatewayv2_authorizer",
		ForceNew: []string{"api_id", "authorizer_type"},
		Computed: []string{"authorizer_id"},
	}
}

func authorizerAttrs(apiID, id, name string, typ apitypes.AuthorizerType, sources []string, jwt *apitypes.JWTConfiguration) planner.Attrs {
	a := planner.Attrs{"api_id": apiID, "authorizer_id": id, "name": name, "authorizer_type": string(typ)}
	if len(sources) > 0 {
		a["identity_source"] = sources[0]
	}
	if jwt != nil {
		a["issuer"] = aws.ToString(jwt.Issuer)
		a["audience"] = stringsAttr(slices.Sorted(slices.Values(jwt.Audience)))
	}
	return a
}

func jwtConfig(desired planner.Attrs) *apitypes.JWTConfiguration {
	return &apitypes.JWTConfiguration{Issuer: aws.String(desired.String("issuer")), Audience: desired.Strings("audience")}
}

func (h *apiGatewayAuthorizer) Read(ctx context.Context, id string, _ planner.Attrs) (planner.Attrs, bool, error) {
	apiID, authID, err := splitAPIChildID("authorizer", id)
	if err != nil {
		return nil, false, err
	}
	out, err := h.api.GetAuthorizer(ctx, &apigatewayv2.GetAuthorizerInput{ApiId: aws.String(apiID), AuthorizerId: aws.String(authID)})
	if apiNotFound(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, classify(err)
	}
	return authorizerAttrs(apiID, authID, aws.ToString(out.Name), out.AuthorizerType, out.IdentitySource, out.JwtConfiguration), true, nil
}

func (h *apiGatewayAuthorizer) Create(ctx context.Context, desired planner.Attrs) (string, planner.Attrs, error) {
	apiID := desired.String("api_id")
	return createOnce(ctx, func(ctx context.Context) (string, planner.Attrs, error) {
		out, err := h.api.CreateAuthorizer(ctx, &apigatewayv2.CreateAuthorizerInput{
			ApiId:            aws.String(apiID),
			Name:             aws.String(desired.String("name")),
			AuthorizerType:   apitypes.AuthorizerType(desired.String("authorizer_type")),
			IdentitySource:   []string{desired.String("identity_source")},
			JwtConfiguration: jwtConfig(desired),
		}, noSDKRetriesAPIGW)
		if err != nil {
			return "", nil, err
		}
		id := aws.ToString(out.AuthorizerId)
		return apiID + "/" + id, authorizerAttrs(apiID, id, aws.ToString(out.Name), out.AuthorizerType, out.IdentitySource, out.JwtConfiguration), nil
	}, func(ctx context.Context) (string, planner.Attrs, bool, error) { return h.Find(ctx, desired) })
}

func (h *apiGatewayAuthorizer) Update(ctx context.Context, id string, _, desired planner.Attrs) (planner.Attrs, error) {
	apiID, authID, err := splitAPIChildID("authorizer", id)
	if err != nil {
		return nil, err
	}
	out, err := h.api.UpdateAuthorizer(ctx, &apigatewayv2.UpdateAuthorizerInput{
		ApiId: aws.String(apiID), AuthorizerId: aws.String(authID),
		Name:             aws.String(desired.String("name")),
		IdentitySource:   []string{desired.String("identity_source")},
		JwtConfiguration: jwtConfig(desired),
	})
	if err != nil {
		return nil, classify(err)
	}
	return authorizerAttrs(apiID, authID, aws.ToString(out.Name), out.AuthorizerType, out.IdentitySource, out.JwtConfiguration), nil
}

func (h *apiGatewayAuthorizer) Delete(ctx context.Context, id string, _ planner.Attrs) error {
	apiID, authID, err := splitAPIChildID("authorizer", id)
	if err != nil {
		return err
	}
	_, err = h.api.DeleteAuthorizer(ctx, &apigatewayv2.DeleteAuthorizerInput{ApiId: aws.String(apiID), AuthorizerId: aws.String(authID)})
	if err != nil && !apiNotFound(err) {
		return classify(err)
	}
	return nil
}

// Find recognises the authorizer an interrupted apply created by its name,
// unique within an API in evdeploy's lowering.
func (h *apiGatewayAuthorizer) Find(ctx context.Context, desired planner.Attrs) (string, planner.Attrs, bool, error) {
	apiID, name := desired.String("api_id"), desired.String("name")
	var token *string
	for {
		out, err := h.api.GetAuthorizers(ctx, &apigatewayv2.GetAuthorizersInput{ApiId: aws.String(apiID), NextToken: token})
		if apiNotFound(err) {
			return "", nil, false, nil
		}
		if err != nil {
			return "", nil, false, classify(err)
		}
		for _, a := range out.Items {
			if aws.ToString(a.Name) == name {
				id := aws.ToString(a.AuthorizerId)
				return apiID + "/" + id, authorizerAttrs(apiID, id, name, a.AuthorizerType, a.IdentitySource, a.JwtConfiguration), true, nil
			}
		}
		if token = out.NextToken; token == nil || *token == "" {
			return "", nil, false, nil
		}
	}
}
