package localstack

import (
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/apigatewayv2"
	apitypes "github.com/aws/aws-sdk-go-v2/service/apigatewayv2/types"
	"github.com/google/go-cmp/cmp"
)

// TestDomainsSurviveRestart: the engine's domain names and mappings, made
// through the SDK, are there again for an engine started on the same data
// folder, and a request for the domain reaches the mapped API's host with
// the base path stripped.
func TestDomainsSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	var seen []string
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = append(seen, r.Host+" "+r.URL.Path)
		w.WriteHeader(http.StatusTeapot)
	})
	start := func() (*httptest.Server, *apigatewayv2.Client) {
		srv := httptest.NewServer(nil)
		srv.Config.Handler = newDomains(next, srv.URL, dir, log.New(io.Discard, "", 0))
		t.Cleanup(srv.Close)
		return srv, apigatewayv2.NewFromConfig(aws.Config{Region: "eu-west-1", BaseEndpoint: aws.String(srv.URL),
			Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")})
	}
	_, c := start()
	ctx := t.Context()
	if _, err := c.CreateDomainName(ctx, &apigatewayv2.CreateDomainNameInput{DomainName: aws.String("api.example.com"),
		DomainNameConfigurations: []apitypes.DomainNameConfiguration{{CertificateArn: aws.String("arn:aws:acm:eu-west-1:000000000000:certificate/x"), EndpointType: "REGIONAL", SecurityPolicy: "TLS_1_2"}},
		Tags:                     map[string]string{"evdeploy:app": "a"}}); err != nil {
		t.Fatal(err)
	}
	m, err := c.CreateApiMapping(ctx, &apigatewayv2.CreateApiMappingInput{DomainName: aws.String("api.example.com"), ApiId: aws.String("abc123"), Stage: aws.String("$default"), ApiMappingKey: aws.String("v1")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateDomainName(ctx, &apigatewayv2.CreateDomainNameInput{DomainName: aws.String("api.example.com"),
		DomainNameConfigurations: []apitypes.DomainNameConfiguration{{EndpointType: "REGIONAL"}}}); err == nil {
		t.Errorf("a second CreateDomainName of the name succeeded; want ConflictException")
	}

	srv, c := start() // the engine restarted on the same data folder
	d, err := c.GetDomainName(ctx, &apigatewayv2.GetDomainNameInput{DomainName: aws.String("api.example.com")})
	if err != nil {
		t.Fatalf("after restart: %v", err)
	}
	cfg := d.DomainNameConfigurations[0]
	if aws.ToString(cfg.ApiGatewayDomainName) == "" || aws.ToString(cfg.HostedZoneId) == "" || cfg.SecurityPolicy != "TLS_1_2" ||
		aws.ToString(d.DomainNameArn) != "arn:aws:apigateway:eu-west-1::/domainnames/api.example.com" || d.Tags["evdeploy:app"] != "a" {
		t.Errorf("domain after restart: %+v %+v", d, cfg)
	}
	got, err := c.GetApiMapping(ctx, &apigatewayv2.GetApiMappingInput{DomainName: aws.String("api.example.com"), ApiMappingId: m.ApiMappingId})
	if err != nil || aws.ToString(got.ApiMappingKey) != "v1" || aws.ToString(got.ApiId) != "abc123" {
		t.Fatalf("mapping after restart: %+v %v", got, err)
	}

	port := srv.Listener.Addr().(interface{ String() string }).String()
	port = port[len("127.0.0.1:"):]
	for _, tc := range []struct{ host, path string }{
		{"api.example.com", "/v1/hello"},
		{"api.example.com.localhost:" + port, "/v1/hello"},
		{"api.example.com", "/v1"},
	} {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+tc.path, nil)
		req.Host = tc.host
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	want := []string{
		"abc123.execute-api.localhost:" + port + " /hello",
		"abc123.execute-api.localhost:" + port + " /hello",
		"abc123.execute-api.localhost:" + port + " /",
	}
	if d := cmp.Diff(want, seen); d != "" {
		t.Errorf("requests the API saw (-want +got):\n%s", d)
	}
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/v2/hello", nil)
	req.Host = "api.example.com"
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("a path no mapping covers: %s, want 404", resp.Status)
	}

	if _, err := c.DeleteDomainName(ctx, &apigatewayv2.DeleteDomainNameInput{DomainName: aws.String("api.example.com")}); err != nil {
		t.Fatal(err)
	}
	_, c = start()
	if _, err := c.GetDomainName(ctx, &apigatewayv2.GetDomainNameInput{DomainName: aws.String("api.example.com")}); err == nil {
		t.Errorf("a deleted domain came back after restart")
	}
}
