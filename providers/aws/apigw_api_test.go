package aws

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigatewayv2"
	"github.com/google/go-cmp/cmp"

	"github.com/evdeploy/evdeploy/planner"
)

// testAPI creates an HTTP API deleted with the test.
func testAPI(ctx context.Context, t *testing.T, c *clients) string {
	t.Helper()
	h := newAPIGatewayAPI(c)
	id, _, err := h.Create(ctx, planner.Attrs{"name": uniqueName("api"), "protocol_type": "HTTP"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Delete(ctx, id, nil) })
	return id
}

func TestAPIGatewayAPILifecycle(t *testing.T) {
	ctx := testContext(t)
	c := newClients(testConfig(t))
	h := newAPIGatewayAPI(c)
	account, _, err := c.callerIdentity(ctx)
	if err != nil {
		t.Fatal(err)
	}
	name := uniqueName("api")
	desired := planner.Attrs{"name": name, "protocol_type": "HTTP", "tags": map[string]any{"evdeploy:app": "demo", "team": "a"}}
	id, created, err := h.Create(ctx, desired)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if id == "" {
		t.Fatal("Create returned no id")
	}
	want := desired.Norm()
	want["id"] = id
	want["execution_arn"] = "arn:aws:execute-api:us-east-1:" + account + ":" + id
	want["api_endpoint"] = created["api_endpoint"]
	if ep := created.String("api_endpoint"); !strings.Contains(ep, id) {
		t.Errorf("api_endpoint = %q, want one naming the API id", ep)
	}
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

	// In place: the name (not unique, not identity) and the tags.
	update := planner.Attrs{"name": name + "-v2", "protocol_type": "HTTP", "tags": map[string]any{"evdeploy:app": "demo", "env": "dev"}}
	for k, v := range update.Norm() {
		want[k] = v
	}
	got = assertUpdated(t, ctx, h, id, got, update, want)

	s := h.Schema()
	if !slices.Contains(s.ForceNew, "protocol_type") || slices.Contains(s.ForceNew, "name") {
		t.Errorf("ForceNew = %v, want protocol_type and not name", s.ForceNew)
	}
	assertDeletedForGood(t, ctx, h, id, got)
}

// API names are not unique: Find tells this deployment's API from others with
// the same name by its evdeploy tags, and refuses to guess between two.
func TestAPIGatewayAPIFind(t *testing.T) {
	ctx := testContext(t)
	h := newAPIGatewayAPI(newClients(testConfig(t)))
	f := h.(planner.Finder)
	name := uniqueName("api")
	mk := func(stage string) planner.Attrs {
		return planner.Attrs{"name": name, "protocol_type": "HTTP", "tags": map[string]any{
			"evdeploy:app": "demo", "evdeploy:stage": stage, "evdeploy:block": "api.public",
		}}
	}
	create := func(a planner.Attrs) string {
		id, _, err := h.Create(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { h.Delete(ctx, id, nil) })
		return id
	}
	if _, _, found, err := f.Find(ctx, mk("dev")); err != nil || found {
		t.Fatalf("Find before Create = %v, %v", found, err)
	}
	dev := create(mk("dev"))
	prod := create(mk("prod"))
	// A user tag added since does not hide the API.
	want := mk("prod")
	want["tags"].(map[string]any)["owner"] = "someone"
	id, attrs, found, err := f.Find(ctx, want)
	if err != nil || !found || id != prod {
		t.Fatalf("Find(prod) = %q, %v, %v; want %q (dev is %q)", id, found, err, prod, dev)
	}
	if attrs.String("id") != prod || attrs.String("execution_arn") == "" {
		t.Errorf("Find attrs = %v", attrs)
	}
	create(mk("prod"))
	if _, _, _, err := f.Find(ctx, mk("prod")); err == nil || !strings.Contains(err.Error(), "2 APIs") {
		t.Errorf("Find with two matches = %v, want an error naming both", err)
	}
	if _, _, _, err := f.Find(ctx, planner.Attrs{"name": name, "protocol_type": "HTTP"}); err == nil {
		t.Errorf("Find without evdeploy tags succeeded; any API with the name would match")
	}
}

func TestAPIGatewayAPIErrors(t *testing.T) {
	ctx := testContext(t)
	h := newAPIGatewayAPI(newClients(testConfig(t)))
	_, _, err := h.Create(ctx, planner.Attrs{"name": "", "protocol_type": "HTTP"})
	switch {
	case err == nil && gap(t, "moto", "CreateApi accepts an empty name (AWS: BadRequestException)"):
	case err == nil || errors.Is(err, planner.ErrThrottled):
		t.Errorf("Create without a name = %v, want a non-retryable error", err)
	}
	if _, exists, err := h.Read(ctx, "nosuchapi", nil); err != nil || exists {
		t.Errorf("Read of a missing API = %v, %v, want gone", exists, err)
	}

	p := newFaultProxy(t)
	h = newAPIGatewayAPI(newClients(p.config(t)))
	// CreateApi is not idempotent: the handler retries it itself, looking
	// for what a lost attempt made first; once every attempt is throttled
	// the error says so.
	p.throttleNext("POST /v2/apis", createOnceAttempts)
	tags := map[string]any{"evdeploy:app": "t", "evdeploy:stage": "dev", "evdeploy:block": "api.throttled"}
	if _, _, err := h.Create(ctx, planner.Attrs{"name": uniqueName("api"), "protocol_type": "HTTP", "tags": tags}); !errors.Is(err, planner.ErrThrottled) {
		t.Errorf("throttled CreateApi = %v, want ErrThrottled", err)
	}
	p.throttleNext("POST /v2/apis", 1)
	id, _, err := h.Create(ctx, planner.Attrs{"name": uniqueName("api"), "protocol_type": "HTTP", "tags": tags})
	if err != nil {
		t.Errorf("CreateApi throttled once = %v, want success on the next attempt", err)
	}
	h.Delete(ctx, id, nil)
}

// A rename outside evdeploy shows in Read.
func TestAPIGatewayAPIDrift(t *testing.T) {
	ctx := testContext(t)
	c := newClients(testConfig(t))
	h := newAPIGatewayAPI(c)
	id := testAPI(ctx, t, c)
	if _, err := c.apigw.UpdateApi(ctx, &apigatewayv2.UpdateApiInput{ApiId: aws.String(id), Name: aws.String("renamed")}); err != nil {
		t.Fatal(err)
	}
	got, _, err := h.Read(ctx, id, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got.String("name") != "renamed" {
		t.Errorf("name = %q after an outside rename", got.String("name"))
	}
}
