package aws

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigatewayv2"

	"github.com/evdeploy/evdeploy/planner"
)

// apiGatewayAPIMapping manages aws_apigatewayv2_api_mapping: an API's stage
// served under a domain name at a base path, id = "<domain>/<mapping id>".
type apiGatewayAPIMapping struct{ api apiGatewayDomainAPI }

func newAPIGatewayAPIMapping(c *clients) planner.Handler {
	return &apiGatewayAPIMapping{api: c.apigw}
}

var _ planner.Finder = (*apiGatewayAPIMapping)(nil)

func (h *apiGatewayAPIMapping) Schema() planner.Schema {
	return planner.Schema{
		Type:                "aws_apigatewayv2_api_mapping",
		ForceNew:            []string{"domain_name", "api_mapping_key"},
		Computed:            []string{"id"},
		CreateBeforeDestroy: true,
	}
}

func apiMappingAttrs(domain string, apiID, mappingID, key, stage *string) planner.Attrs {
	return planner.Attrs{
		"domain_name":     fqdn(domain),
		"api_id":          aws.ToString(apiID),
		"id":              aws.ToString(mappingID),
		"api_mapping_key": aws.ToString(key),
		"stage":           aws.ToString(stage),
	}
}

func (h *apiGatewayAPIMapping) Read(ctx context.Context, id string, _ planner.Attrs) (planner.Attrs, bool, error) {
	domain, mid, err := splitAPIChildID("api mapping", id)
	if err != nil {
		return nil, false, err
	}
	out, err := h.api.GetApiMapping(ctx, &apigatewayv2.GetApiMappingInput{DomainName: aws.String(domain), ApiMappingId: aws.String(mid)})
	if apiNotFound(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, classify(err)
	}
	return apiMappingAttrs(domain, out.ApiId, out.ApiMappingId, out.ApiMappingKey, out.Stage), true, nil
}

func (h *apiGatewayAPIMapping) Create(ctx context.Context, desired planner.Attrs) (string, planner.Attrs, error) {
	domain := desired.String("domain_name")
	in := &apigatewayv2.CreateApiMappingInput{
		DomainName: aws.String(domain),
		ApiId:      aws.String(desired.String("api_id")),
		Stage:      aws.String(desired.String("stage")),
	}
	if k := desired.String("api_mapping_key"); k != "" {
		in.ApiMappingKey = aws.String(k)
	}
	return createOnce(ctx, func(ctx context.Context) (string, planner.Attrs, error) {
		out, err := h.api.CreateApiMapping(ctx, in, noSDKRetriesAPIGW)
		if hasCode(err, "ConflictException") {
			return "", nil, fmt.Errorf("mapping %q on %s: %w", desired.String("api_mapping_key"), domain, planner.ErrAlreadyExists)
		}
		if err != nil {
			return "", nil, err
		}
		id := domain + "/" + aws.ToString(out.ApiMappingId)
		return id, apiMappingAttrs(domain, out.ApiId, out.ApiMappingId, out.ApiMappingKey, out.Stage), nil
	}, func(ctx context.Context) (string, planner.Attrs, bool, error) { return h.Find(ctx, desired) })
}

func (h *apiGatewayAPIMapping) Update(ctx context.Context, id string, prior, desired planner.Attrs) (planner.Attrs, error) {
	domain, mid, err := splitAPIChildID("api mapping", id)
	if err != nil {
		return nil, err
	}
	if _, err := h.api.UpdateApiMapping(ctx, &apigatewayv2.UpdateApiMappingInput{
		DomainName: aws.String(domain), ApiMappingId: aws.String(mid),
		ApiId: aws.String(desired.String("api_id")), Stage: aws.String(desired.String("stage")),
	}); err != nil {
		return nil, classify(err)
	}
	a, ok, err := h.Read(ctx, id, prior)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("api mapping %s disappeared during update", id)
	}
	return a, nil
}

func (h *apiGatewayAPIMapping) Delete(ctx context.Context, id string, _ planner.Attrs) error {
	domain, mid, err := splitAPIChildID("api mapping", id)
	if err != nil {
		return err
	}
	_, err = h.api.DeleteApiMapping(ctx, &apigatewayv2.DeleteApiMappingInput{DomainName: aws.String(domain), ApiMappingId: aws.String(mid)})
	if err != nil && !apiNotFound(err) {
		return classify(err)
	}
	return nil
}

// Find looks for the mapping at the desired key of the domain (a key maps
// one API), so an interrupted create is adopted; it must map the desired API.
func (h *apiGatewayAPIMapping) Find(ctx context.Context, desired planner.Attrs) (string, planner.Attrs, bool, error) {
	domain, key := desired.String("domain_name"), desired.String("api_mapping_key")
	var token *string
	for {
		out, err := h.api.GetApiMappings(ctx, &apigatewayv2.GetApiMappingsInput{DomainName: aws.String(domain), NextToken: token})
		if apiNotFound(err) {
			return "", nil, false, nil
		}
		if err != nil {
			return "", nil, false, classify(err)
		}
		for _, m := range out.Items {
			if aws.ToString(m.ApiMappingKey) == key && aws.ToString(m.ApiId) == desired.String("api_id") {
				return domain + "/" + aws.ToString(m.ApiMappingId), apiMappingAttrs(domain, m.ApiId, m.ApiMappingId, m.ApiMappingKey, m.Stage), true, nil
			}
		}
		if token = out.NextToken; token == nil || *token == "" {
			return "", nil, false, nil
		}
	}
}
