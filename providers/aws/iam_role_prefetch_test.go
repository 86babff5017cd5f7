package aws

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/google/go-cmp/cmp"

	"github.com/evdeploy/evdeploy/planner"
)

// TestIAMRolePrefetch: the roles' and their inline policies' Reads answer
// from the role Prefetch exactly as they do alone — trust policy,
// description, tags, foreign inline and managed policies included — each
// once. On an emulator without GetAccountAuthorizationDetails (kumo) Prefetch
// fails and the Reads ask per role, with the same answers.
func TestIAMRolePrefetch(t *testing.T) {
	ctx := testContext(t)
	c := newClients(testConfig(t))
	roles, policies := newIAMRole(c), newIAMRolePolicy(c)
	cm, err := c.iam.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String(uniqueName("pf-cm")), PolicyDocument: aws.String(adminPolicy)})
	if err != nil {
		t.Fatal(err)
	}
	cmARN := aws.ToString(cm.Policy.Arn)
	t.Cleanup(func() { c.iam.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: aws.String(cmARN)}) })

	prior := planner.Attrs{"inline_policy_names": []any{"evdeploy"}}
	var roleIDs, policyIDs []string
	for i, desc := range []string{"first role", "second role"} {
		name, _, err := roles.Create(ctx, planner.Attrs{
			"name": uniqueName("pf"), "assume_role_policy": lambdaTrust, "description": desc,
			"tags": map[string]any{"evdeploy:app": "demo"},
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			c.iam.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: aws.String(name), PolicyArn: aws.String(cmARN)})
			roles.Delete(ctx, name, nil)
		})
		id, _, err := policies.Create(ctx, planner.Attrs{"role": name, "name": "evdeploy", "policy": logsPolicy})
		if err != nil {
			t.Fatal(err)
		}
		roleIDs, policyIDs = append(roleIDs, name), append(policyIDs, id)
		if i == 1 { // out of band: an admin inline policy and a managed policy
			if _, err := c.iam.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String("admin"), PolicyDocument: aws.String(adminPolicy)}); err != nil {
				t.Fatal(err)
			}
			if _, err := c.iam.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String(name), PolicyArn: aws.String(cmARN)}); err != nil {
				t.Fatal(err)
			}
			policyIDs = append(policyIDs, name+":admin")
		}
	}

	// What each Read reports alone (a fresh process: nothing prefetched).
	alone := newClients(testConfig(t))
	want := map[string]planner.Attrs{}
	for _, id := range roleIDs {
		a, ok, err := newIAMRole(alone).Read(ctx, id, prior)
		if err != nil || !ok {
			t.Fatalf("Read %s = %v, %v", id, ok, err)
		}
		want[id] = a
	}
	for _, id := range policyIDs {
		a, ok, err := newIAMRolePolicy(alone).Read(ctx, id, nil)
		if err != nil || !ok {
			t.Fatalf("Read %s = %v, %v", id, ok, err)
		}
		want[id] = a
	}
	if got := want[roleIDs[1]]["extra_inline_policies"]; cmp.Diff([]any{"admin"}, got) != "" {
		t.Fatalf("the foreign inline policy is not reported: %v", got)
	}

	err = roles.Prefetch(ctx, roleIDs)
	switch {
	case err != nil && gap(t, "kumo", "no GetAccountAuthorizationDetails: the Reads ask per role (%v)", err):
	case err != nil:
		t.Fatalf("Prefetch: %v", err)
	default:
		if n, m := len(c.roleShares.roles.m), len(c.roleShares.rolePolicies.m); n != 2 || m != 3 {
			t.Fatalf("prefetched %d roles and %d inline policies, want 2 and 3", n, m)
		}
	}
	for _, id := range roleIDs {
		got, ok, err := roles.Read(ctx, id, prior)
		if err != nil || !ok {
			t.Fatalf("prefetched Read %s = %v, %v", id, ok, err)
		}
		if d := cmp.Diff(want[id], got); d != "" {
			t.Errorf("prefetched Read %s (-alone +prefetched):\n%s", id, d)
		}
	}
	for _, id := range policyIDs {
		got, ok, err := policies.Read(ctx, id, nil)
		if err != nil || !ok {
			t.Fatalf("prefetched Read %s = %v, %v", id, ok, err)
		}
		if d := cmp.Diff(want[id], got); d != "" {
			t.Errorf("prefetched Read %s (-alone +prefetched):\n%s", id, d)
		}
	}
	if n, m := len(c.roleShares.roles.m), len(c.roleShares.rolePolicies.m); n != 0 || m != 0 {
		t.Errorf("%d roles and %d policies left after one Read each", n, m)
	}

	// A change forgets what was prefetched: the next Read asks again.
	if err := roles.Prefetch(ctx, roleIDs); err == nil {
		if _, err := policies.Update(ctx, policyIDs[0], nil, planner.Attrs{"role": roleIDs[0], "name": "evdeploy", "policy": adminPolicy}); err != nil {
			t.Fatal(err)
		}
		got, _, err := policies.Read(ctx, policyIDs[0], nil)
		if err != nil {
			t.Fatal(err)
		}
		if canon, _ := canonicalJSON(adminPolicy); got.String("policy") != canon {
			t.Errorf("Read after Update = %v, want the new document", got)
		}
	}
}
