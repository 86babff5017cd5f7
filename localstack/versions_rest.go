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
		// Not a REST API: an HTTP API route with payload format 1.0, whose
		// event (kumo's) names no route key but the request's path.
		return v.apiRouteTarget(ctx, api, func(key string) int { return routeScore(key, method, resourcePath) })
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

// routeScore is how well an HTTP API route key matches a request, as API
// Gateway picks routes: the most literal path segments win, a method beats
// ANY, and $default matches anything last; -1 is no match.
func routeScore(key, method, path string) int {
	if key == "$default" {
		return 0
	}
	m, p, ok := strings.Cut(key, " ")
	if !ok || m != method && m != "ANY" {
		return -1
	}
	want := strings.Split(strings.Trim(p, "/"), "/")
	got := strings.Split(strings.Trim(path, "/"), "/")
	score := 2
	if m == method {
		score++
	}
	for i, w := range want {
		switch {
		case strings.HasPrefix(w, "{") && strings.HasSuffix(w, "+}"):
			if i < len(got) && got[i] != "" {
				return score
			}
			return -1
		case i >= len(got):
			return -1
		case strings.HasPrefix(w, "{") && strings.HasSuffix(w, "}"):
			if got[i] == "" {
				return -1
			}
			score += 2
		case w == got[i]:
			score += 4
		default:
			return -1
		}
	}
	if len(got) != len(want) {
		return -1
	}
	return score
}
