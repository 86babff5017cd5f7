package aws

import (
	"errors"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigatewayv2"
	"github.com/google/go-cmp/cmp"

	"github.com/evdeploy/evdeploy/planner"
)

func TestAPIGatewayIntegrationLifecycle(t *testing.T) {
	ctx := testContext(t)
	c := newClients(testConfig(t))
	h := newAPIGatewayIntegration(c)
	api := testAPI(ctx, t, c)
	desired := planner.Attrs{"api_id": api, "integration_type": "AWS_PROXY", "integration_uri": fnArnA, "payload_format_version": "2.0"}
	if _, _, found, err := h.(planner.Finder).Find(ctx, desired); err != nil || found {
		t.Fatalf("Find before Create = %v, %v", found, err)
	}
	id, created, err := h.Create(ctx, desired)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	integID := created.String("integration_id")
	if integID == "" || id != api+"/"+integID {
		t.Fatalf("id = %q, integration_id = %q, want <api>/<integration id>", id, integID)
	}
	want := desired.Norm()
	want["integration_id"] = integID
	if d := cmp.Diff(want, created); d != "" {
		t.Errorf("Create (-want +got):\n%s", d)
	}
	got, exists, err := h.Read(ctx, id, nil)
	if err != nil || !exists {
		t.Fatalf("Read = %v, %v", exists, err)
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Read (-want +got):\n%s", d)
	}
	// An interrupted apply finds the integration instead of making another.
	foundID, _, found, err := h.(planner.Finder).Find(ctx, desired)
	if err != nil || !found || foundID != id {
		t.Errorf("Find = %q, %v, %v, want %q", foundID, found, err, id)
	}

	update := planner.Attrs{"api_id": api, "integration_type": "AWS_PROXY", "integration_uri": fnArnB, "payload_format_version": "2.0"}
	want = update.Norm()
	want["integration_id"] = integID
	got = assertUpdated(t, ctx, h, id, got, update, want)

	if !slices.Contains(h.Schema().ForceNew, "api_id") {
		t.Errorf("api_id is not ForceNew")
	}
	assertDeletedForGood(t, ctx, h, id, got)
}

func TestAPIGatewayIntegrationErrors(t *testing.T) {
	ctx := testContext(t)
	c := newClients(testConfig(t))
	h := newAPIGatewayIntegration(c)
	api := testAPI(ctx, t, c)
	bad := []struct {
		name  string
		attrs planner.Attrs
	}{
		{"malformed function ARN", planner.Attrs{"api_id": api, "integration_type": "AWS_PROXY", "integration_uri": "my-function", "payload_format_version": "2.0"}},
		{"missing API", planner.Attrs{"api_id": "nosuchapi", "integration_type": "AWS_PROXY", "integration_uri": fnArnA, "payload_format_version": "2.0"}},
	}
	for _, tt := range bad {
		_, _, err := h.Create(ctx, tt.attrs)
		if err == nil || errors.Is(err, planner.ErrThrottled) {
			t.Errorf("%s: Create = %v, want a non-retryable error", tt.name, err)
		}
	}
	for _, id := range []string{"", "api", "api/", "/integ"} {
		if _, _, err := h.Read(ctx, id, nil); err == nil {
			t.Errorf("Read(%q) of a malformed id succeeded", id)
		}
	}
	if _, exists, err := h.Read(ctx, api+"/nosuch", nil); err != nil || exists {
		t.Errorf("Read of a missing integration = %v, %v, want gone", exists, err)
	}
}

// An integration repointed outside evdeploy reads with its new function.
func TestAPIGatewayIntegrationDrift(t *testing.T) {
	ctx := testContext(t)
	c := newClients(testConfig(t))
	h := newAPIGatewayIntegration(c)
	api := testAPI(ctx, t, c)
	id, created, err := h.Create(ctx, planner.Attrs{"api_id": api, "integration_type": "AWS_PROXY", "integration_uri": fnArnA, "payload_format_version": "2.0"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.apigw.UpdateIntegration(ctx, &apigatewayv2.UpdateIntegrationInput{
		ApiId: aws.String(api), IntegrationId: aws.String(created.String("integration_id")), IntegrationUri: aws.String(fnArnB),
	}); err != nil {
		t.Fatal(err)
	}
	got, _, err := h.Read(ctx, id, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got.String("integration_uri") != fnArnB {
		t.Errorf("integration_uri = %q after an outside change, want %s", got.String("integration_uri"), fnArnB)
	}
}
