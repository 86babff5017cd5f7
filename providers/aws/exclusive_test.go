package aws

import (
	"sort"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/google/go-cmp/cmp"

	"github.com/evdeploy/evdeploy/planner"
)

const adminPolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`

// TestIAMRoleExclusive: what is put on a role out of band — an admin inline
// policy, an attached customer-managed policy, another trust policy — is
// reported by Read by name and removed by Update; declared managed policies
// are attached and detached to exactly the declared set; Delete detaches
// what is attached (AWS refuses to delete a role that has policies).
func TestIAMRoleExclusive(t *testing.T) {
	ctx := testContext(t)
	c := newClients(testConfig(t))
	h := newIAMRole(c)
	name := uniqueName("xrole")
	desired := planner.Attrs{
		"name": name, "assume_role_policy": lambdaTrust, "tags": map[string]any{"evdeploy:app": "demo"},
		"inline_policy_names": []any{"evdeploy"}, "extra_inline_policies": []any{}, "managed_policies": []any{},
	}
	_, created, err := h.Create(ctx, desired)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Delete(ctx, name, nil) })
	if _, err := c.iam.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String("evdeploy"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"logs:PutLogEvents","Resource":"arn:aws:logs:us-east-1:000000000000:log-group:x:*"}]}`)}); err != nil {
		t.Fatal(err)
	}
	recorded := planner.Attrs(planner.Norm(map[string]any(created)).(map[string]any))
	for k, v := range desired {
		recorded[k] = v
	}

	// Out of band: admin inline policy, a customer-managed policy attached,
	// the trust policy opened to EC2.
	cm, err := c.iam.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String(name + "-cm"), PolicyDocument: aws.String(adminPolicy)})
	if err != nil {
		t.Fatal(err)
	}
	cmARN := aws.ToString(cm.Policy.Arn)
	t.Cleanup(func() { c.iam.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: aws.String(cmARN)}) })
	for _, f := range []func() error{
		func() error {
			_, err := c.iam.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String("admin"), PolicyDocument: aws.String(adminPolicy)})
			return err
		},
		func() error {
			_, err := c.iam.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String(name), PolicyArn: aws.String(cmARN)})
			return err
		},
		func() error {
			_, err := c.iam.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String(name), PolicyDocument: aws.String(
				`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)})
			return err
		},
	} {
		if err := f(); err != nil {
			t.Fatal(err)
		}
	}
	got, ok, err := h.Read(ctx, name, recorded)
	if err != nil || !ok {
		t.Fatalf("Read = %v, %v", ok, err)
	}
	drift := map[string]any{"extra_inline_policies": got["extra_inline_policies"], "managed_policies": got["managed_policies"], "trust": got["assume_role_policy"]}
	want := map[string]any{"extra_inline_policies": []any{"admin"}, "managed_policies": []any{cmARN},
		"trust": `{"Statement":[{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"}}],"Version":"2012-10-17"}`}
	if d := cmp.Diff(want, drift); d != "" {
		t.Errorf("Read after out-of-band changes (-want +got):\n%s", d)
	}

	// Update removes all three; what evdeploy writes stays.
	after, err := h.Update(ctx, name, got, desired)
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	if d := cmp.Diff([]any{}, after["extra_inline_policies"]); d != "" {
		t.Errorf("extra_inline_policies after Update:\n%s", d)
	}
	if d := cmp.Diff([]any{}, after["managed_policies"]); d != "" {
		t.Errorf("managed_policies after Update:\n%s", d)
	}
	if after.String("assume_role_policy") != `{"Statement":[{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"}}],"Version":"2012-10-17"}` {
		t.Errorf("trust policy after Update: %s", after.String("assume_role_policy"))
	}
	if d := cmp.Diff([]string{"evdeploy"}, roleInline(t, c, name)); d != "" {
		t.Errorf("inline policies seen by IAM after Update (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string(nil), roleAttached(t, c, name)); d != "" {
		t.Errorf("managed policies seen by IAM after Update (-want +got):\n%s", d)
	}

	// Declared managed policies: attached, and only those. AWS-managed
	// policies exist where the emulator has them.
	declaredARNs := []string{cmARN}
	if emulatorName(t) == "moto" {
		declaredARNs = append(declaredARNs, "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole")
	} else {
		gap(t, "kumo", "no AWS-managed policies; a customer-managed one stands in")
	}
	sort.Strings(declaredARNs)
	withManaged := planner.Attrs{}
	for k, v := range desired {
		withManaged[k] = v
	}
	withManaged["managed_policies"] = stringsAttr(declaredARNs)
	after, err = h.Update(ctx, name, after, withManaged)
	if err != nil {
		t.Fatalf("Update attaching: %v", err)
	}
	if d := cmp.Diff(declaredARNs, roleAttached(t, c, name)); d != "" {
		t.Errorf("attached after declaring (-want +got):\n%s", d)
	}
	if d := cmp.Diff(stringsAttr(declaredARNs), after["managed_policies"]); d != "" {
		t.Errorf("managed_policies after declaring (-want +got):\n%s", d)
	}

	// Delete with managed policies attached.
	assertDeletedForGood(t, ctx, h, name, after)
}

func roleInline(t *testing.T, c *clients, role string) []string {
	t.Helper()
	out, err := c.iam.ListRolePolicies(testContext(t), &iam.ListRolePoliciesInput{RoleName: aws.String(role)})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out.PolicyNames)
	return out.PolicyNames
}

func roleAttached(t *testing.T, c *clients, role string) []string {
	t.Helper()
	out, err := c.iam.ListAttachedRolePolicies(testContext(t), &iam.ListAttachedRolePoliciesInput{RoleName: aws.String(role)})
	if err != nil {
		t.Fatal(err)
	}
	var arns []string
	for _, p := range out.AttachedPolicies {
		arns = append(arns, aws.ToString(p.PolicyArn))
	}
	sort.Strings(arns)
	return arns
}

// TestLambdaFunctionExtraStatements: a statement evdeploy does not write on a
// function's resource policy (lambda:InvokeFunction to "*") is reported by
// Read by its Sid and removed by Update; evdeploy's own statements stay.
func TestLambdaFunctionExtraStatements(t *testing.T) {
	ctx := testContext(t)
	c := newClients(testConfig(t))
	h := newLambdaFunction(c)
	name, _ := testFunction(t, c)
	for _, p := range []struct{ sid, principal string }{{"evdeploy-orders", "sns.amazonaws.com"}, {"open", "*"}} {
		if _, err := c.lambda.AddPermission(ctx, &lambda.AddPermissionInput{FunctionName: aws.String(name), StatementId: aws.String(p.sid),
			Action: aws.String("lambda:InvokeFunction"), Principal: aws.String(p.principal)}); err != nil {
			t.Fatal(err)
		}
	}
	prior := planner.Attrs{"function_name": name, "statement_ids": []any{"evdeploy-orders"}}
	got, ok, err := h.Read(ctx, name, prior)
	if err != nil || !ok {
		t.Fatalf("Read = %v, %v", ok, err)
	}
	if d := cmp.Diff([]any{"open"}, got["extra_statements"]); d != "" {
		t.Errorf("extra_statements (-want +got):\n%s", d)
	}
	// Without the declared list (state from before it), evdeploy's own
	// statements are told apart by their "evdeploy-" Sid.
	got2, _, err := h.Read(ctx, name, nil)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]any{"open"}, got2["extra_statements"]); d != "" {
		t.Errorf("extra_statements without the declared list (-want +got):\n%s", d)
	}

	desired := planner.Attrs{}
	for k, v := range got {
		desired[k] = v
	}
	desired["statement_ids"] = []any{"evdeploy-orders"}
	desired["extra_statements"] = []any{}
	after, err := h.Update(ctx, name, got, desired)
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	if d := cmp.Diff([]any{}, after["extra_statements"]); d != "" {
		t.Errorf("extra_statements after Update (-want +got):\n%s", d)
	}
	sids, err := functionStatements(ctx, c.lambda, name)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{"evdeploy-orders"}, sids); d != "" {
		t.Errorf("resource policy after Update (-want +got):\n%s", d)
	}
}
