package aws

import (
	"errors"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/evdeploy/evdeploy/planner"
)

// testFunction creates a function to hang permissions and mappings on.
func testFunction(t *testing.T, c *clients) (name, arn string) {
	t.Helper()
	ctx := testContext(t)
	h := newLambdaFunction(c)
	zipPath, sha := testZip(t, "fn")
	name = uniqueName("fn")
	_, a, err := h.Create(ctx, planner.Attrs{
		"function_name": name, "role": testRoleARN(t, c), "runtime": "provided.al2023", "handler": "bootstrap",
		"code_path": zipPath, "code_sha256": sha,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Delete(ctx, name, nil) })
	return name, a.String("arn")
}

func TestLambdaPermissionLifecycle(t *testing.T) {
	ctx := testContext(t)
	c := newClients(testConfig(t))
	h := newLambdaPermission(c)
	fn, _ := testFunction(t, c)

	// No policy at all yet: gone.
	if _, exists, err := h.Read(ctx, fn+"/s3-uploads", nil); err != nil || exists {
		t.Fatalf("Read before Create = %v, %v", exists, err)
	}
	tests := []planner.Attrs{
		{"function_name": fn, "statement_id": "s3-uploads", "action": "lambda:InvokeFunction", "principal": "s3.amazonaws.com",
			"source_arn": "arn:aws:s3:::uploads-bucket", "source_account": "000000000000"},
		{"function_name": fn, "statement_id": "sns-orders", "action": "lambda:InvokeFunction", "principal": "sns.amazonaws.com",
			"source_arn": "arn:aws:sns:us-east-1:000000000000:orders"},
	}
	var ids []string
	for _, desired := range tests {
		id, created, err := h.Create(ctx, desired)
		if err != nil {
			t.Fatalf("Create %v: %v", desired, err)
		}
		if want := fn + "/" + desired.String("statement_id"); id != want {
			t.Errorf("id = %q, want %q", id, want)
		}
		if d := cmp.Diff(desired, created); d != "" {
			t.Errorf("Create (-want +got):\n%s", d)
		}
		got, exists, err := h.Read(ctx, id, nil)
		if err != nil || !exists {
			t.Fatalf("Read %s = %v, %v", id, exists, err)
		}
		if d := cmp.Diff(desired, got); d != "" {
			t.Errorf("Read %s (-want +got):\n%s", id, d)
		}
		ids = append(ids, id)
	}
	if _, _, err := h.Create(ctx, tests[0]); !errors.Is(err, planner.ErrAlreadyExists) {
		t.Errorf("Create of an existing statement = %v, want ErrAlreadyExists", err)
	}
	if _, exists, err := h.Read(ctx, fn+"/other", nil); err != nil || exists {
		t.Errorf("Read of a missing statement = %v, %v", exists, err)
	}

	// Prefetch reads the function's policy once for its permissions and the
	// function; each Read answers from it, the same as alone, once.
	if err := h.Prefetch(ctx, append(slices.Clone(ids), fn+"/other")); err != nil {
		t.Fatal(err)
	}
	if e := c.functionPolicies.m[fn]; e == nil || e.left != 4 {
		t.Fatalf("prefetched %+v for %s, want the policy for 3 permissions and the function", e, fn)
	}
	for i, id := range ids {
		got, exists, err := h.Read(ctx, id, nil)
		if err != nil || !exists {
			t.Fatalf("prefetched Read %s = %v, %v", id, exists, err)
		}
		if d := cmp.Diff(tests[i], got); d != "" {
			t.Errorf("prefetched Read %s (-want +got):\n%s", id, d)
		}
	}
	if _, exists, err := h.Read(ctx, fn+"/other", nil); err != nil || exists {
		t.Errorf("prefetched Read of a missing statement = %v, %v", exists, err)
	}
	fa, exists, err := newLambdaFunction(c).Read(ctx, fn, nil)
	if err != nil || !exists {
		t.Fatalf("function Read after Prefetch = %v, %v", exists, err)
	}
	if d := cmp.Diff([]any{"s3-uploads", "sns-orders"}, fa["extra_statements"]); d != "" {
		t.Errorf("function Read from the prefetched policy: extra_statements (-want +got):\n%s", d)
	}
	if len(c.functionPolicies.m) != 0 {
		t.Errorf("prefetched policies left after one Read each: %v", c.functionPolicies.m)
	}

	// Every attribute forces replacement: delete and create anew.
	for _, a := range []string{"function_name", "statement_id", "action", "principal", "source_arn", "source_account"} {
		if !slices.Contains(h.Schema().ForceNew, a) {
			t.Errorf("%s is not ForceNew", a)
		}
	}
	if err := h.Delete(ctx, ids[1], nil); err != nil {
		t.Fatal(err)
	}
	replaced := tests[1].Norm()
	replaced["source_arn"] = "arn:aws:sns:us-east-1:000000000000:orders-v2"
	if _, _, err := h.Create(ctx, replaced); err != nil {
		t.Fatalf("Create replacement: %v", err)
	}
	if got, _, _ := h.Read(ctx, ids[1], nil); !cmp.Equal(replaced, got) {
		t.Errorf("replacement (-want +got):\n%s", cmp.Diff(replaced, got))
	}

	for _, id := range ids {
		if err := h.Delete(ctx, id, nil); err != nil {
			t.Fatalf("Delete %s: %v", id, err)
		}
		if _, exists, err := h.Read(ctx, id, nil); err != nil || exists {
			t.Fatalf("Read after Delete %s = %v, %v", id, exists, err)
		}
		if err := h.Delete(ctx, id, nil); err != nil {
			t.Errorf("second Delete %s: %v", id, err)
		}
	}
	if err := h.Delete(ctx, "no-such-function-x/s", nil); err != nil {
		t.Errorf("Delete on a missing function: %v", err)
	}
}

func TestLambdaPermissionErrors(t *testing.T) {
	ctx := testContext(t)
	p := newFaultProxy(t)
	c := newClients(p.config(t))
	h := newLambdaPermission(c)
	fn, _ := testFunction(t, c)
	_, _, err := h.Create(ctx, planner.Attrs{"function_name": fn, "statement_id": "x", "action": "lambda:InvokeFunction", "principal": "s3.amazonaws.com", "source_arn": "garbage"})
	if err == nil {
		t.Logf("%s gap: AddPermission accepts a SourceArn that is not an ARN", emulatorName(t))
		h.Delete(ctx, fn+"/x", nil)
	} else if errors.Is(err, planner.ErrThrottled) || errors.Is(err, planner.ErrPropagating) {
		t.Errorf("malformed source ARN classified as retryable: %v", err)
	}
	// What AWS answers instead (pattern validation on SourceArn).
	p.failNext("POST /2015-03-31/functions/"+fn+"/policy", 400, "ValidationException", "1 validation error detected: Value 'garbage' at 'sourceArn' failed to satisfy constraint")
	_, _, err = h.Create(ctx, planner.Attrs{"function_name": fn, "statement_id": "z", "action": "lambda:InvokeFunction", "principal": "s3.amazonaws.com", "source_arn": "garbage"})
	if err == nil || errors.Is(err, planner.ErrThrottled) || errors.Is(err, planner.ErrPropagating) {
		t.Errorf("AWS's answer to a malformed source ARN = %v, want a non-retryable error", err)
	}
	if _, _, err := h.Read(ctx, "no-slash", nil); err == nil {
		t.Errorf("Read of a malformed id succeeded")
	}
	p.throttleNext("POST /2015-03-31/functions/"+fn+"/policy", 1)
	_, _, err = h.Create(ctx, planner.Attrs{"function_name": fn, "statement_id": "y", "action": "lambda:InvokeFunction", "principal": "s3.amazonaws.com"})
	if !errors.Is(err, planner.ErrThrottled) {
		t.Errorf("throttled AddPermission = %v, want ErrThrottled", err)
	}
	p.throttleNext("GET /2015-03-31/functions/"+fn+"/policy", 1)
	if _, _, err := h.Read(ctx, fn+"/y", nil); !errors.Is(err, planner.ErrThrottled) {
		t.Errorf("throttled GetPolicy = %v, want ErrThrottled", err)
	}
}

func TestPrincipalAttr(t *testing.T) {
	tests := []struct {
		in   any
		want string
	}{
		{map[string]any{"Service": "s3.amazonaws.com"}, "s3.amazonaws.com"},
		{map[string]any{"AWS": "arn:aws:iam::123456789012:root"}, "123456789012"},
		{"*", "*"},
	}
	for _, tt := range tests {
		if got := principalAttr(tt.in); got != tt.want {
			t.Errorf("principalAttr(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
