package localstack

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	agtypes "github.com/aws/aws-sdk-go-v2/service/apigateway/types"
	"github.com/aws/aws-sdk-go-v2/service/apigatewayv2"
	apitypes "github.com/aws/aws-sdk-go-v2/service/apigatewayv2/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// TestAliasRestAPI: a REST API (v1) Lambda proxy integration on fn:live
// runs the version the alias picks, though kumo invokes the bare name: all
// of v2 while the alias names v2, all of v1 once it names v1, both with a
// 50/50 split, never $LATEST. A method on ANY whose URI picks the alias by a
// stage variable runs the version that stage names. A version published
// and on no alias holds no process until something invokes it.
func TestAliasRestAPI(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("no python3 here")
	}
	// Not parallel: kumo's execute-api invoke reaches the newest engine of
	// the process (selfcall.go), which holds it for a restarting version's
	// handler only if that engine runs it; moving the alias wakes an idle
	// version, so this test wants its engine to be the only one.
	var logBuf lockedBuffer
	ep := serveRunning(t, &logBuf)
	cfg := localConfig(ep, "us-east-1")
	c := lambda.NewFromConfig(cfg)
	ctx := t.Context()
	name := fmt.Sprintf("evd-aliasrest-%d", os.Getpid())
	zipFor := func(tag string) []byte {
		return zipOf(t, map[string][]byte{"app.py": []byte(`import json, os

def handler(event, context):
    return {"statusCode": 200, "body": json.dumps({"code": "` + tag + `", "version": os.environ["AWS_LAMBDA_FUNCTION_VERSION"]})}
`)}, 0o644)
	}
	created := createPythonFunction(t, c, name, zipFor("one"))
	arn := aws.ToString(created.FunctionArn)
	for i, tag := range []string{"one", "two", "latest"} {
		if i > 0 {
			if _, err := c.UpdateFunctionCode(ctx, &lambda.UpdateFunctionCodeInput{FunctionName: aws.String(name), ZipFile: zipFor(tag)}); err != nil {
				t.Fatal(err)
			}
		}
		if i < 2 {
			if _, err := c.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String(name)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Published and on no alias yet: neither version holds a process.
	for _, h := range []string{name + "--v1", name + "--v2"} {
		if !strings.Contains(logBuf.String(), "function "+h+": idle, no alias uses it") {
			t.Errorf("%s was not made idle after its publish\n%s", h, logBuf.String())
		}
	}
	if _, err := c.CreateAlias(ctx, &lambda.CreateAliasInput{FunctionName: aws.String(name), Name: aws.String("live"), FunctionVersion: aws.String("2")}); err != nil {
		t.Fatal(err)
	}

	ag := apigateway.NewFromConfig(cfg)
	api, err := ag.CreateRestApi(ctx, &apigateway.CreateRestApiInput{Name: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	res, err := ag.GetResources(ctx, &apigateway.GetResourcesInput{RestApiId: api.Id})
	if err != nil || len(res.Items) == 0 {
		t.Fatalf("root resource: %v", err)
	}
	root := res.Items[0].Id
	uriOf := func(qualifier string) string {
		return "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/" + arn + ":" + qualifier + "/invocations"
	}
	for _, m := range []struct{ part, method, uri string }{
		{"hello", "GET", uriOf("live")},
		{"staged", "ANY", uriOf("${stageVariables.alias}")},
	} {
		r, err := ag.CreateResource(ctx, &apigateway.CreateResourceInput{RestApiId: api.Id, ParentId: root, PathPart: aws.String(m.part)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ag.PutMethod(ctx, &apigateway.PutMethodInput{RestApiId: api.Id, ResourceId: r.Id, HttpMethod: aws.String(m.method), AuthorizationType: aws.String("NONE")}); err != nil {
			t.Fatal(err)
		}
		if _, err := ag.PutIntegration(ctx, &apigateway.PutIntegrationInput{RestApiId: api.Id, ResourceId: r.Id, HttpMethod: aws.String(m.method),
			Type: agtypes.IntegrationTypeAwsProxy, IntegrationHttpMethod: aws.String("POST"), Uri: aws.String(m.uri)}); err != nil {
			t.Fatal(err)
		}
	}
	// The stage made by CreateStage: kumo drops a CreateDeployment's Variables.
	dep, err := ag.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: api.Id})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ag.CreateStage(ctx, &apigateway.CreateStageInput{RestApiId: api.Id, DeploymentId: dep.Id, StageName: aws.String("prod"),
		Variables: map[string]string{"alias": "1"}}); err != nil {
		t.Fatal(err)
	}

	// An HTTP API whose integration on fn:live takes payload format 1.0
	// (kumo's 1.0 event names no route key: the route is found by path).
	hc := apigatewayv2.NewFromConfig(cfg)
	hapi, err := hc.CreateApi(ctx, &apigatewayv2.CreateApiInput{Name: aws.String(name), ProtocolType: apitypes.ProtocolTypeHttp})
	if err != nil {
		t.Fatal(err)
	}
	integ, err := hc.CreateIntegration(ctx, &apigatewayv2.CreateIntegrationInput{ApiId: hapi.ApiId, IntegrationType: apitypes.IntegrationTypeAwsProxy,
		IntegrationUri: aws.String(arn + ":live"), PayloadFormatVersion: aws.String("1.0")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := hc.CreateRoute(ctx, &apigatewayv2.CreateRouteInput{ApiId: hapi.ApiId, RouteKey: aws.String("GET /items/{id}"),
		Target: aws.String("integrations/" + aws.ToString(integ.IntegrationId))}); err != nil {
		t.Fatal(err)
	}
	if _, err := hc.CreateStage(ctx, &apigatewayv2.CreateStageInput{ApiId: hapi.ApiId, StageName: aws.String("prod"), AutoDeploy: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}

	// get sends n requests to the REST API's stage (or the HTTP API's) and
	// counts the versions that answered.
	get := func(method, path string, n int) map[string]int {
		t.Helper()
		id := aws.ToString(api.Id)
		if strings.HasPrefix(path, "/items/") {
			id = aws.ToString(hapi.ApiId)
		}
		seen := map[string]int{}
		for range n {
			req, _ := http.NewRequestWithContext(ctx, method, ep+"/prod"+path, nil)
			req.Host = id + ".execute-api.localhost:" + ep[strings.LastIndex(ep, ":")+1:]
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			var reply struct{ Code, Version string }
			if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &reply) != nil {
				t.Fatalf("%s %s answered %d %s\n%s", method, path, resp.StatusCode, body, logBuf.String())
			}
			seen[reply.Version+"/"+reply.Code]++
		}
		return seen
	}
	want := func(what string, got map[string]int, keys ...string) {
		t.Helper()
		if len(got) != len(keys) {
			t.Errorf("%s: versions answered %v, want only %v", what, got, keys)
			return
		}
		for _, k := range keys {
			if got[k] == 0 {
				t.Errorf("%s: versions answered %v, want %v", what, got, keys)
			}
		}
	}

	want("alias on v2", get("GET", "/hello", 5), "2/two")
	want("alias on v2, HTTP API payload 1.0", get("GET", "/items/7", 3), "2/two")
	if _, err := c.UpdateAlias(ctx, &lambda.UpdateAliasInput{FunctionName: aws.String(name), Name: aws.String("live"), FunctionVersion: aws.String("1")}); err != nil {
		t.Fatal(err)
	}
	want("alias moved to v1", get("GET", "/hello", 5), "1/one")
	want("alias moved to v1, HTTP API payload 1.0", get("GET", "/items/7", 3), "1/one")
	if _, err := c.UpdateAlias(ctx, &lambda.UpdateAliasInput{FunctionName: aws.String(name), Name: aws.String("live"), FunctionVersion: aws.String("1"),
		RoutingConfig: &lambdatypes.AliasRoutingConfiguration{AdditionalVersionWeights: map[string]float64{"2": 0.5}}}); err != nil {
		t.Fatal(err)
	}
	// 40 requests at 50/50: one version alone comes once in 2^39 runs.
	want("alias 50/50 on v1 and v2", get("GET", "/hello", 40), "1/one", "2/two")
	want("stage variable naming version 1, on ANY", get("POST", "/staged", 3), "1/one")
}

func TestRouteScore(t *testing.T) {
	routes := []string{"GET /items/{id}", "ANY /items/{id}", "GET /items/special", "ANY /{proxy+}", "GET /", "$default", "POST /items/{id}"}
	for _, tt := range []struct{ method, path, want string }{
		{"GET", "/items/7", "GET /items/{id}"},
		{"PUT", "/items/7", "ANY /items/{id}"},
		{"GET", "/items/special", "GET /items/special"},
		{"GET", "/other/a/b", "ANY /{proxy+}"},
		{"GET", "/", "GET /"},
		{"DELETE", "/", "$default"},
		{"POST", "/items/7", "POST /items/{id}"},
	} {
		best, score := "", -1
		for _, r := range routes {
			if n := routeScore(r, tt.method, tt.path); n > score {
				best, score = r, n
			}
		}
		if best != tt.want {
			t.Errorf("%s %s matched %q, want %q", tt.method, tt.path, best, tt.want)
		}
	}
}
