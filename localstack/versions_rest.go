package localstack

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
)

// restTarget finds the function (with its qualifier) behind a REST API's
// (v1) method: kumo invokes a Lambda proxy integration on fn:live by its
// bare name, and its proxy event names the API, the resource path and the
// request's method, not the integration. The method falls back to ANY, as
// API Gateway routes it. A ${stageVariables.x} in the URI (the documented
// way to pick an alias per stage) takes the stage's value from the event.
//
// kumo lists a REST API's resources 25 at most and ignores the position, so
// on an API with more resources the method may not be found; the invoke
// then runs $LATEST (docs/testing.md).
func (v *versionStore) restTarget(ctx context.Context, api, resourcePath, method string, stageVars map[string]string) string {
	b, _, err := v.kc.call(ctx, http.MethodGet, "/restapis/"+url.PathEscape(api)+"/resources?limit=500", "apigateway", "", nil)
	if err != nil {
		return ""
	}
	var list struct {
		Items []struct {
			ID              string `json:"id"`
			Path            string `json:"path"`
			ResourceMethods map[string]struct {
				Integration *struct {
					URI string `json:"uri"`
				} `json:"methodIntegration"`
			} `json:"resourceMethods"`
		} `json:"item"`
	}
	if json.Unmarshal(b, &list) != nil {
		return ""
	}
	uri := ""
	for _, r := range list.Items {
		if r.Path != resourcePath {
			continue
		}
		m, ok := r.ResourceMethods[method]
		if !ok {
			m, ok = r.ResourceMethods["ANY"]
		}
		if ok && m.Integration != nil {
			uri = m.Integration.URI
		}
	}
	for k, val := range stageVars {
		uri = strings.ReplaceAll(uri, "${stageVariables."+k+"}", val)
	}
	return integrationFunction(uri)
}
