package aws

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigatewayv2"
	apitypes "github.com/aws/aws-sdk-go-v2/service/apigatewayv2/types"

	"github.com/evdeploy/evdeploy/planner"
)

// apiGatewayAPI is the part of the API Gateway v2 API the API handler uses.
type apiGatewayAPI interface {
	CreateApi(context.Context, *apigatewayv2.CreateApiInput, ...func(*apigatewayv2.Options)) (*apigatewayv2.CreateApiOutput, error)
	GetApi(context.Context, *apigatewayv2.GetApiInput, ...func(*apigatewayv2.Options)) (*apigatewayv2.GetApiOutput, error)
	GetApis(context.Context, *apigatewayv2.GetApisInput, ...func(*apigatewayv2.Options)) (*apigatewayv2.GetApisOutput, error)
	UpdateApi(context.Context, *apigatewayv2.UpdateApiInput, ...func(*apigatewayv2.Options)) (*apigatewayv2.UpdateApiOutput, error)
	DeleteApi(context.Context, *apigatewayv2.DeleteApiInput, ...func(*apigatewayv2.Options)) (*apigatewayv2.DeleteApiOutput, error)
	apigwTagger
	DeleteCorsConfiguration(context.Context, *apigatewayv2.DeleteCorsConfigurationInput, ...func(*apigatewayv2.Options)) (*apigatewayv2.DeleteCorsConfigurationOutput, error)
}

// apiGatewayV2API manages aws_apigatewayv2_api, id = the API id API Gateway
// assigns. API names are not unique, so Create never checks them; Find
// recognises an API this deployment created by its name and evdeploy tags.
type apiGatewayV2API struct {
	api    apiGatewayAPI
	region string
	// identity gives the account for execution_arn, which API Gateway never
	// returns: one STS call per run (cached in clients).
	identity func(context.Context) (account, partition string, err error)
}

func newAPIGatewayAPI(c *clients) planner.Handler {
	return &apiGatewayV2API{api: c.apigw, region: c.cfg.Region, identity: c.callerIdentity}
}

var _ planner.Finder = (*apiGatewayV2API)(nil)

func (h *apiGatewayV2API) Schema() planner.Schema {
	return planner.Schema{
		Type:     "aws_apigatewayv2_api",
		ForceNew: []string{"protocol_type"},
		Computed: []string{"api_endpoint", "execution_arn", "id"},
	}
}

// apiNotFound reports an API Gateway resource that does not exist.
func apiNotFound(err error) bool { return hasCode(err, "NotFoundException") }

func (h *apiGatewayV2API) attrs(ctx context.Context, id, name string, protocol apitypes.ProtocolType, endpoint string, tags map[string]string) (planner.Attrs, error) {
	account, partition, err := h.identity(ctx)
	if err != nil {
		return nil, err
	}
	a := planner.Attrs{
		"id":            id,
		"name":          name,
		"protocol_type": string(protocol),
		"execution_arn": fmt.Sprintf("arn:%s:execute-api:%s:%s:%s", partition, h.region, account, id),
	}
	if endpoint != "" {
		a["api_endpoint"] = endpoint
	}
	setMap(a, "tags", tags)
	return a, nil
}

func (h *apiGatewayV2API) Read(ctx context.Context, id string, _ planner.Attrs) (planner.Attrs, bool, error) {
	out, err := h.api.GetApi(ctx, &apigatewayv2.GetApiInput{ApiId: aws.String(id)})
	if apiNotFound(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, classify(err)
	}
	a, err := h.attrs(ctx, id, aws.ToString(out.Name), out.ProtocolType, aws.ToString(out.ApiEndpoint), out.Tags)
	if err != nil {
		return nil, false, err
	}
	if c := corsFrom(out.CorsConfiguration); c != nil {
		a["cors"] = c
	}
	return a, true, nil
}

// corsFrom is the cors attribute of an API's CORS configuration: nil when it
// has none; lists sorted and left out when empty.
func corsFrom(c *apitypes.Cors) any {
	if c == nil {
		return nil
	}
	m := map[string]any{"allow_credentials": aws.ToBool(c.AllowCredentials), "max_age": int64(aws.ToInt32(c.MaxAge))}
	for k, l := range map[string][]string{
		"allow_origins": c.AllowOrigins, "allow_methods": c.AllowMethods,
		"allow_headers": c.AllowHeaders, "expose_headers": c.ExposeHeaders,
	} {
		if len(l) > 0 {
			m[k] = stringsAttr(slices.Sorted(slices.Values(l)))
		}
	}
	if len(m) == 2 && !aws.ToBool(c.AllowCredentials) && aws.ToInt32(c.MaxAge) == 0 {
		return nil // an empty configuration is none
	}
	return m
}

// corsTo is the API Gateway form of the cors attribute; nil for none.
func corsTo(v any) *apitypes.Cors {
	m, ok := v.(map[string]any)
	if !ok {
		return nil
	}
	a := planner.Attrs(m)
	c := &apitypes.Cors{
		AllowOrigins: a.Strings("allow_origins"), AllowMethods: a.Strings("allow_methods"),
		AllowHeaders: a.Strings("allow_headers"), ExposeHeaders: a.Strings("expose_headers"),
		AllowCredentials: aws.Bool(a.Bool("allow_credentials")),
	}
	if n := a.Int("max_age"); n > 0 {
		c.MaxAge = aws.Int32(int32(n))
	}
	return c
}

func (h *apiGatewayV2API) Create(ctx context.Context, desired planner.Attrs) (string, planner.Attrs, error) {
	protocol := apitypes.ProtocolType(desired.String("protocol_type"))
	if protocol == "" {
		protocol = apitypes.ProtocolTypeHttp
	}
	return createOnce(ctx, func(ctx context.Context) (string, planner.Attrs, error) {
		out, err := h.api.CreateApi(ctx, &apigatewayv2.CreateApiInput{
			Name:              aws.String(desired.String("name")),
			ProtocolType:      protocol,
			Tags:              desired.StringMap("tags"),
			CorsConfiguration: corsTo(desired["cors"]),
		}, noSDKRetriesAPIGW)
		if err != nil {
			return "", nil, err
		}
		id := aws.ToString(out.ApiId)
		a, err := h.attrs(ctx, id, aws.ToString(out.Name), out.ProtocolType, aws.ToString(out.ApiEndpoint), out.Tags)
		if err != nil {
			return id, nil, err
		}
		if c := corsFrom(out.CorsConfiguration); c != nil {
			a["cors"] = c
		}
		return id, a, nil
	}, func(ctx context.Context) (string, planner.Attrs, bool, error) { return h.Find(ctx, desired) })
}

// arn is the API's ARN for the tagging API (not the execution ARN).
func (h *apiGatewayV2API) arn(ctx context.Context, id string) (string, error) {
	_, partition, err := h.identity(ctx)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("arn:%s:apigateway:%s::/apis/%s", partition, h.region, id), nil
}

// apigwTagger is the part of API Gateway v2 that tags a resource by ARN.
type apigwTagger interface {
	TagResource(context.Context, *apigatewayv2.TagResourceInput, ...func(*apigatewayv2.Options)) (*apigatewayv2.TagResourceOutput, error)
	UntagResource(context.Context, *apigatewayv2.UntagResourceInput, ...func(*apigatewayv2.Options)) (*apigatewayv2.UntagResourceOutput, error)
}

// apigwRetag brings an API Gateway v2 resource's tags from prior's to
// desired's: removed keys first, then the new and changed ones. arn is asked
// only when a tag changes (an API's ARN costs an STS call).
func apigwRetag(ctx context.Context, api apigwTagger, arn func() (string, error), prior, desired planner.Attrs) error {
	set, remove := tagDiff(prior.StringMap("tags"), desired.StringMap("tags"))
	if len(set) == 0 && len(remove) == 0 {
		return nil
	}
	a, err := arn()
	if err != nil {
		return err
	}
	if len(remove) > 0 {
		if _, err := api.UntagResource(ctx, &apigatewayv2.UntagResourceInput{ResourceArn: aws.String(a), TagKeys: remove}); err != nil {
			return classify(err)
		}
	}
	if len(set) > 0 {
		if _, err := api.TagResource(ctx, &apigatewayv2.TagResourceInput{ResourceArn: aws.String(a), Tags: set}); err != nil {
			return classify(err)
		}
	}
	return nil
}

func (h *apiGatewayV2API) Update(ctx context.Context, id string, prior, desired planner.Attrs) (planner.Attrs, error) {
	if name := desired.String("name"); name != prior.String("name") {
		if _, err := h.api.UpdateApi(ctx, &apigatewayv2.UpdateApiInput{ApiId: aws.String(id), Name: aws.String(name)}); err != nil {
			return nil, classify(err)
		}
	}
	if desired.Has("cors") && !planner.Equal(prior["cors"], desired["cors"]) {
		if c := corsTo(desired["cors"]); c != nil {
			if _, err := h.api.UpdateApi(ctx, &apigatewayv2.UpdateApiInput{ApiId: aws.String(id), CorsConfiguration: c}); err != nil {
				return nil, fmt.Errorf("setting CORS: %w", classify(err))
			}
		} else if _, err := h.api.DeleteCorsConfiguration(ctx, &apigatewayv2.DeleteCorsConfigurationInput{ApiId: aws.String(id)}); err != nil && !apiNotFound(err) {
			return nil, fmt.Errorf("removing CORS: %w", classify(err))
		}
	}
	if err := apigwRetag(ctx, h.api, func() (string, error) { return h.arn(ctx, id) }, prior, desired); err != nil {
		return nil, err
	}
	a, ok, err := h.Read(ctx, id, prior)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("API %s disappeared during update", id)
	}
	return a, nil
}

func (h *apiGatewayV2API) Delete(ctx context.Context, id string, _ planner.Attrs) error {
	_, err := h.api.DeleteApi(ctx, &apigatewayv2.DeleteApiInput{ApiId: aws.String(id)})
	if err != nil && !apiNotFound(err) {
		return classify(err)
	}
	return nil
}

// Find looks for the API an interrupted apply created: same name and the same
// evdeploy:* tags (app, stage, block) as desired. Other tags are the user's
// and may have changed, so they do not take part. Two matches are an error:
// adopting either could take over the wrong one.
func (h *apiGatewayV2API) Find(ctx context.Context, desired planner.Attrs) (string, planner.Attrs, bool, error) {
	name := desired.String("name")
	ours := map[string]string{}
	for k, v := range desired.StringMap("tags") {
		if strings.HasPrefix(k, "evdeploy:") {
			ours[k] = v
		}
	}
	if len(ours) == 0 {
		// Without evdeploy tags any API with the name would match.
		return "", nil, false, fmt.Errorf("finding API %q: desired attributes carry no evdeploy:* tags to recognise it by", name)
	}
	var matches []apitypes.Api
	var token *string
	for {
		out, err := h.api.GetApis(ctx, &apigatewayv2.GetApisInput{NextToken: token})
		if err != nil {
			return "", nil, false, classify(err)
		}
		for _, a := range out.Items {
			if aws.ToString(a.Name) == name && tagsInclude(a.Tags, ours) {
				matches = append(matches, a)
			}
		}
		if token = out.NextToken; token == nil || *token == "" {
			break
		}
	}
	switch len(matches) {
	case 0:
		return "", nil, false, nil
	case 1:
		m := matches[0]
		id := aws.ToString(m.ApiId)
		a, err := h.attrs(ctx, id, aws.ToString(m.Name), m.ProtocolType, aws.ToString(m.ApiEndpoint), m.Tags)
		if err != nil {
			return "", nil, false, err
		}
		return id, a, true, nil
	}
	ids := make([]string, len(matches))
	for i, m := range matches {
		ids[i] = aws.ToString(m.ApiId)
	}
	sort.Strings(ids)
	return "", nil, false, fmt.Errorf("finding API %q: %d APIs carry its name and evdeploy tags (%s); delete the extra ones", name, len(ids), strings.Join(ids, ", "))
}

// tagsInclude reports whether have holds every key of want with the same value.
func tagsInclude(have, want map[string]string) bool {
	for k, v := range want {
		if hv, ok := have[k]; !ok || hv != v {
			return false
		}
	}
	return true
}

// splitAPIChildID splits "<api id>/<child id>" (API ids never contain "/").
func splitAPIChildID(kind, id string) (apiID, child string, err error) {
	apiID, child, ok := strings.Cut(id, "/")
	if !ok || apiID == "" || child == "" {
		return "", "", fmt.Errorf("malformed %s id %q: want <api id>/<%s id>", kind, id, kind)
	}
	return apiID, child, nil
}
