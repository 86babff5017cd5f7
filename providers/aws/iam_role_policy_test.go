package aws

import (
	"errors"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/evdeploy/evdeploy/planner"
)

const logsPolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["logs:CreateLogStream","logs:PutLogEvents"],"Resource":"arn:aws:logs:us-east-1:000000000000:log-group:/aws/lambda/f:*"}]}`

func TestIAMRolePolicyLifecycle(t *testing.T) {
	ctx := testContext(t)
	c := newClients(testConfig(t))
	roles, h := newIAMRole(c), newIAMRolePolicy(c)
	role, _, err := roles.Create(ctx, planner.Attrs{"name": uniqueName("role"), "assume_role_policy": lambdaTrust})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { roles.Delete(ctx, role, nil) })

	id, created, err := h.Create(ctx, planner.Attrs{"role": role, "name": "logs", "policy": logsPolicy})
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if id != role+":logs" {
		t.Errorf("id = %q", id)
	}
	canon, _ := canonicalJSON(logsPolicy)
	want := planner.Attrs{"role": role, "name": "logs", "policy": canon}
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

	// A name collision: the policy exists and evdeploy did not record creating it.
	if _, _, err := h.Create(ctx, planner.Attrs{"role": role, "name": "logs", "policy": logsPolicy}); !errors.Is(err, planner.ErrAlreadyExists) {
		t.Errorf("Create over an existing policy = %v, want ErrAlreadyExists", err)
	}

	next := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sqs:ReceiveMessage","Resource":"arn:aws:sqs:us-east-1:000000000000:q"}]}`
	after, err := h.Update(ctx, id, got, planner.Attrs{"role": role, "name": "logs", "policy": next})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	want["policy"], _ = canonicalJSON(next)
	if d := cmp.Diff(want, after); d != "" {
		t.Errorf("after Update (-want +got):\n%s", d)
	}
	if got, _, _ := h.Read(ctx, id, nil); !cmp.Equal(want, got) {
		t.Errorf("Read after Update (-want +got):\n%s", cmp.Diff(want, got))
	}

	for _, a := range []string{"role", "name"} {
		if !slices.Contains(h.Schema().ForceNew, a) {
			t.Errorf("%s is not ForceNew", a)
		}
	}
	assertDeletedForGood(t, ctx, h, id, nil)
	// Replacement under a new name.
	id2, _, err := h.Create(ctx, planner.Attrs{"role": role, "name": "logs2", "policy": next})
	if err != nil {
		t.Fatalf("Create replacement: %v", err)
	}
	if err := h.Delete(ctx, id2, nil); err != nil {
		t.Fatal(err)
	}
	// A role that does not exist reads as gone, and deleting its policy succeeds.
	if _, exists, err := h.Read(ctx, "no-such-role-x:logs", nil); err != nil || exists {
		t.Errorf("Read on a missing role = %v, %v", exists, err)
	}
	if err := h.Delete(ctx, "no-such-role-x:logs", nil); err != nil {
		t.Errorf("Delete on a missing role: %v", err)
	}
	if _, _, err := h.Read(ctx, "not-an-id", nil); err == nil {
		t.Errorf("Read of a malformed id succeeded")
	}
}

func TestCanonicalJSON(t *testing.T) {
	tests := []struct{ in, want string }{
		{`{ "b": 1, "a": [ "x", {"d": 2.50, "c": null} ] }`, `{"a":["x",{"c":null,"d":2.50}],"b":1}`},
		// IAM returns documents URL-encoded.
		{"%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%5D%7D", `{"Statement":[],"Version":"2012-10-17"}`},
		{`{"Condition":{"ArnLike":{"aws:SourceArn":"arn:aws:s3:::a&b<c>"}}}`, `{"Condition":{"ArnLike":{"aws:SourceArn":"arn:aws:s3:::a&b<c>"}}}`},
		{"", ""},
	}
	for _, tt := range tests {
		got, err := canonicalJSON(tt.in)
		if err != nil {
			t.Errorf("canonicalJSON(%q): %v", tt.in, err)
			continue
		}
		if got != tt.want {
			t.Errorf("canonicalJSON(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if _, err := canonicalJSON(`{"a":`); err == nil {
		t.Errorf("truncated JSON accepted")
	}
}
