package aws

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigatewayv2"
	apitypes "github.com/aws/aws-sdk-go-v2/service/apigatewayv2/types"

	"github.com/evdeploy/evdeploy/planner"
)

// apiRouteAPI is the part of the API Gateway v2 API the route handler uses.
type apiRouteAPI interface {
	CreateRoute(context.Context, *apigatewayv2.CreateRouteInput, ...func(*apigatewayv2.Options)) (*apigatewayv2.CreateRouteOutput, error)
	GetRoute(context.Context, *apigatewayv2.GetRouteInput, ...func(*apigatewayv2.Options)) (*apigatewayv2.GetRouteOutput, error)
	GetRoutes(context.Context, *apigatewayv2.GetRoutesInput, ...func(*apigatewayv2.Options)) (*apigatewayv2.GetRoutesOutput, error)
	UpdateRoute(context.Context, *apigatewayv2.UpdateRouteInput, ...func(*apigatewayv2.Options)) (*apigatewayv2.UpdateRouteOutput, error)
	DeleteRoute(context.Context, *apigatewayv2.DeleteRouteInput, ...func(*apigatewayv2.Options)) (*apigatewayv2.DeleteRouteOutput, error)
}

// apiGatewayRoute manages aws_apigatewayv2_route, id "<api id>/<route id>".
type apiGatewayRoute struct{ api apiRouteAPI }

func newAPIGatewayRoute(c *clients) planner.Handler { return &apiGatewayRoute{api: c.apigw} }

var _ planner.Finder = (*apiGatewayRoute)(nil)

func (h *apiGatewayRoute) Schema() planner.Schema {
	return planner.Schema{
		Type:     "aws_apigatewayv2_route",
		ForceNew: []string{"api_id"},
		Computed: []string{"route_id"},
	}
}

func routeAttrs(apiID, routeID string, key, target *string) planner.Attrs {
	a := planner.Attrs{"api_id": apiID, "route_id": routeID, "route_key": aws.ToString(key)}
	if t := aws.ToString(target); t != "" {
		a["target"] = t
	}
	return a
}

// withAuth adds a route's authorization as API Gateway reports it: type
// NONE without authorizer or scopes, JWT with them (scopes sorted; left out
// when there are none).
func withAuth(a planner.Attrs, typ apitypes.AuthorizationType, authorizer *string, scopes []string) planner.Attrs {
	if typ == "" {
		typ = apitypes.AuthorizationTypeNone
	}
	a["authorization_type"] = string(typ)
	if id := aws.ToString(authorizer); id != "" {
		a["authorizer_id"] = id
	}
	if len(scopes) > 0 {
		a["authorization_scopes"] = stringsAttr(slices.Sorted(slices.Values(scopes)))
	}
	return a
}

// authInput is the authorization a create or update sends.
func authInput(desired planner.Attrs) (typ apitypes.AuthorizationType, authorizer *string, scopes []string) {
	typ = apitypes.AuthorizationType(desired.String("authorization_type"))
	if typ == "" {
		typ = apitypes.AuthorizationTypeNone
	}
	if id := desired.String("authorizer_id"); id != "" && typ != apitypes.AuthorizationTypeNone {
		authorizer = aws.String(id)
	}
	scopes = desired.Strings("authorization_scopes")
	if scopes == nil {
		scopes = []string{} // clears scopes a previous version had
	}
	return typ, authorizer, scopes
}

func (h *apiGatewayRoute) Read(ctx context.Context, id string, _ planner.Attrs) (planner.Attrs, bool, error) {
	apiID, routeID, err := splitAPIChildID("route", id)
	if err != nil {
		return nil, false, err
	}
	out, err := h.api.GetRoute(ctx, &apigatewayv2.GetRouteInput{ApiId: aws.String(apiID), RouteId: aws.String(routeID)})
	if apiNotFound(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, classify(err)
	}
	return withAuth(routeAttrs(apiID, routeID, out.RouteKey, out.Target), out.AuthorizationType, out.AuthorizerId, out.AuthorizationScopes), true, nil
}

// checkRouteTarget accepts the only target form API Gateway takes for an
// integration, "integrations/<id>", so a typo fails before the call.
func checkRouteTarget(target string) error {
	if id, ok := strings.CutPrefix(target, "integrations/"); !ok || id == "" || strings.Contains(id, "/") {
		return fmt.Errorf("route target %q: want integrations/<integration id>", target)
	}
	return nil
}

func (h *apiGatewayRoute) Create(ctx context.Context, desired planner.Attrs) (string, planner.Attrs, error) {
	apiID, key, target := desired.String("api_id"), desired.String("route_key"), desired.String("target")
	if err := checkRouteTarget(target); err != nil {
		return "", nil, err
	}
	return createOnce(ctx, func(ctx context.Context) (string, planner.Attrs, error) {
		typ, authorizer, scopes := authInput(desired)
		in := &apigatewayv2.CreateRouteInput{
			ApiId: aws.String(apiID), RouteKey: aws.String(key), Target: aws.String(target),
			AuthorizationType: typ, AuthorizerId: authorizer,
		}
		if len(scopes) > 0 {
			in.AuthorizationScopes = scopes
		}
		out, err := h.api.CreateRoute(ctx, in, noSDKRetriesAPIGW)
		if hasCode(err, "ConflictException") { // route keys are unique per API
			return "", nil, fmt.Errorf("route %q on API %s: %w", key, apiID, planner.ErrAlreadyExists)
		}
		if err != nil {
			return "", nil, err
		}
		routeID := aws.ToString(out.RouteId)
		return apiID + "/" + routeID, withAuth(routeAttrs(apiID, routeID, out.RouteKey, out.Target), out.AuthorizationType, out.AuthorizerId, out.AuthorizationScopes), nil
	}, func(ctx context.Context) (string, planner.Attrs, bool, error) { return h.Find(ctx, desired) })
}

func (h *apiGatewayRoute) Update(ctx context.Context, id string, _, desired planner.Attrs) (planner.Attrs, error) {
	apiID, routeID, err := splitAPIChildID("route", id)
	if err != nil {
		return nil, err
	}
	target := desired.String("target")
	if err := checkRouteTarget(target); err != nil {
		return nil, err
	}
	typ, authorizer, scopes := authInput(desired)
	out, err := h.api.UpdateRoute(ctx, &apigatewayv2.UpdateRouteInput{
		ApiId: aws.String(apiID), RouteId: aws.String(routeID),
		RouteKey: aws.String(desired.String("route_key")), Target: aws.String(target),
		AuthorizationType: typ, AuthorizerId: authorizer, AuthorizationScopes: scopes,
	})
	if hasCode(err, "ConflictException") {
		return nil, fmt.Errorf("route %q on API %s: %w", desired.String("route_key"), apiID, planner.ErrAlreadyExists)
	}
	if err != nil {
		return nil, classify(err)
	}
	return withAuth(routeAttrs(apiID, routeID, out.RouteKey, out.Target), out.AuthorizationType, out.AuthorizerId, out.AuthorizationScopes), nil
}

func (h *apiGatewayRoute) Delete(ctx context.Context, id string, _ planner.Attrs) error {
	apiID, routeID, err := splitAPIChildID("route", id)
	if err != nil {
		return err
	}
	_, err = h.api.DeleteRoute(ctx, &apigatewayv2.DeleteRouteInput{ApiId: aws.String(apiID), RouteId: aws.String(routeID)})
	if err != nil && !apiNotFound(err) {
		return classify(err)
	}
	return nil
}

// Find recognises the route an interrupted apply created by its route key,
// unique within an API, when it targets the desired integration.
func (h *apiGatewayRoute) Find(ctx context.Context, desired planner.Attrs) (string, planner.Attrs, bool, error) {
	apiID, key := desired.String("api_id"), desired.String("route_key")
	var token *string
	for {
		out, err := h.api.GetRoutes(ctx, &apigatewayv2.GetRoutesInput{ApiId: aws.String(apiID), NextToken: token})
		if apiNotFound(err) {
			return "", nil, false, nil
		}
		if err != nil {
			return "", nil, false, classify(err)
		}
		for _, r := range out.Items {
			if aws.ToString(r.RouteKey) == key && aws.ToString(r.Target) == desired.String("target") {
				id := aws.ToString(r.RouteId)
				return apiID + "/" + id, withAuth(routeAttrs(apiID, id, r.RouteKey, r.Target), r.AuthorizationType, r.AuthorizerId, r.AuthorizationScopes), true, nil
			}
		}
		if token = out.NextToken; token == nil || *token == "" {
			return "", nil, false, nil
		}
	}
}
