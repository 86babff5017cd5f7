package main

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/google/go-cmp/cmp"
)

// TestE2ESecurityDrift: evdeploy owns a function's role and resource policy
// outright. An admin inline policy put on the role, a customer-managed policy
// attached to it, a changed trust policy and lambda:InvokeFunction granted to
// "*" each show in `plan --detailed-exitcode` (exit 2) by name; apply removes
// them (the declared managed policies and evdeploy's own statements stay);
// the next plan is clean. On kumo and on moto, checked with independent SDK
// reads.
func TestE2ESecurityDrift(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	for _, e := range emulators {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			securityDrift(t, e.name, e.url(t))
		})
	}
}

func securityDrift(t *testing.T, emuName, endpoint string) {
	ctx := context.Background()
	cfg := sdkConfig(endpoint)
	ic, lc := iam.NewFromConfig(cfg), lambda.NewFromConfig(cfg)
	stage := uniqueStage("s")

	// The declared managed policies: a customer-managed one made here, and
	// an AWS-managed one where the emulator has them (kumo has none).
	declared, err := ic.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("declared-" + stage),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListAllMyBuckets","Resource":"*"}]}`)})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{aws.ToString(declared.Policy.Arn)}
	if emuName == "moto" {
		want = append(want, "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole")
	} else {
		t.Log("kumo gap: no AWS-managed policies; a customer-managed one stands in")
	}
	sort.Strings(want)
	quoted := make([]string, len(want))
	for i, a := range want {
		quoted[i] = fmt.Sprintf("%q", a)
	}

	dir := t.TempDir()
	writeTestFile(t, filepath.Join(dir, "evdeploy.evd.hcl"), `
app "sec" {}

function "sweeper" {
  runtime          = "python3.12"
  source           = "./fn"
  handler          = "main.handler"
  managed_policies = [`+strings.Join(quoted, ", ")+`]
}

topic "alerts" {}

trigger "alerts" {
  function = function.sweeper
  topic {
    topic = topic.alerts
  }
}
`)
	writeTestFile(t, filepath.Join(dir, "fn", "main.py"), "def handler(event, context):\n    return 'ok'\n")
	args := []string{"-C", dir, "--stage", stage, "--target", "local", "--endpoint", endpoint}
	fn := "sec-" + stage + "-sweeper"
	role := fn + "-us-east-1"

	mustEvd(t, 0, append([]string{"apply", "--auto-approve"}, args...)...)
	mustEvd(t, 0, append([]string{"plan", "--detailed-exitcode"}, args...)...)
	if d := cmp.Diff(want, roleAttached(t, ic, role)); d != "" {
		t.Errorf("declared managed policies after apply (-want +got):\n%s", d)
	}

	// Out of band: an admin inline policy, a customer-managed policy
	// attached, the trust policy opened to EC2, the function open to anyone.
	extra, err := ic.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("extra-" + stage), PolicyDocument: aws.String(adminPolicyDoc)})
	if err != nil {
		t.Fatal(err)
	}
	extraARN := aws.ToString(extra.Policy.Arn)
	t.Cleanup(func() {
		for _, a := range []*string{extra.Policy.Arn, declared.Policy.Arn} {
			ic.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: a})
		}
	})
	steps := []error{
		func() error {
			_, err := ic.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(role), PolicyName: aws.String("admin"), PolicyDocument: aws.String(adminPolicyDoc)})
			return err
		}(),
		func() error {
			_, err := ic.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String(role), PolicyArn: aws.String(extraARN)})
			return err
		}(),
		func() error {
			_, err := ic.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String(role), PolicyDocument: aws.String(ec2Trust)})
			return err
		}(),
		func() error {
			_, err := lc.AddPermission(ctx, &lambda.AddPermissionInput{FunctionName: aws.String(fn), StatementId: aws.String("open"),
				Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("*")})
			return err
		}(),
	}
	for _, err := range steps {
		if err != nil {
			t.Fatal(err)
		}
	}

	// plan names each one and exits 2.
	r := mustEvd(t, 2, append([]string{"plan", "--detailed-exitcode", "--detail"}, args...)...)
	for _, w := range []string{`"admin"`, extraARN, `"open"`, "ec2.amazonaws.com", "extra_inline_policies", "managed_policies", "extra_statements", "assume_role_policy"} {
		if !strings.Contains(r.out, w) {
			t.Errorf("plan does not show %s:\n%s", w, r.out)
		}
	}
	got := planChanges(t, args...)
	for _, w := range []string{
		"function.sweeper/aws_iam_role.main update assume_role_policy,extra_inline_policies,managed_policies",
		"function.sweeper/aws_lambda_function.main update extra_statements",
	} {
		if !contains(got, w) {
			t.Errorf("plan lacks %q:\n%s", w, strings.Join(got, "\n"))
		}
	}

	// apply removes them; what evdeploy declared stays.
	mustEvd(t, 0, append([]string{"apply", "--auto-approve"}, args...)...)
	if d := cmp.Diff(want, roleAttached(t, ic, role)); d != "" {
		t.Errorf("managed policies after apply (-want +got):\n%s", d)
	}
	inline, err := ic.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: aws.String(role)})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{"evdeploy"}, inline.PolicyNames); d != "" {
		t.Errorf("inline policies after apply (-want +got):\n%s", d)
	}
	gr, err := ic.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(role)})
	if err != nil {
		t.Fatal(err)
	}
	if doc := aws.ToString(gr.Role.AssumeRolePolicyDocument); strings.Contains(doc, "ec2") {
		t.Errorf("trust policy after apply: %s", doc)
	}
	pol, err := lc.GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: aws.String(fn)})
	if err != nil {
		t.Fatal(err)
	}
	if p := aws.ToString(pol.Policy); strings.Contains(p, `"open"`) || !strings.Contains(p, "evdeploy-alerts") {
		t.Errorf("resource policy after apply: %s", p)
	}
	mustEvd(t, 0, append([]string{"plan", "--detailed-exitcode"}, args...)...)

	// Undeclared managed policies are detached.
	editFile(t, filepath.Join(dir, "evdeploy.evd.hcl"), "managed_policies = ["+strings.Join(quoted, ", ")+"]", "managed_policies = []")
	mustEvd(t, 0, append([]string{"apply", "--auto-approve"}, args...)...)
	if d := cmp.Diff([]string(nil), roleAttached(t, ic, role)); d != "" {
		t.Errorf("managed policies after undeclaring them (-want +got):\n%s", d)
	}
	mustEvd(t, 0, append([]string{"plan", "--detailed-exitcode"}, args...)...)
	mustEvd(t, 0, append([]string{"destroy", "--auto-approve", "--allow-data-loss"}, args...)...)
}

const adminPolicyDoc = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`

func roleAttached(t *testing.T, ic *iam.Client, role string) []string {
	t.Helper()
	out, err := ic.ListAttachedRolePolicies(context.Background(), &iam.ListAttachedRolePoliciesInput{RoleName: aws.String(role)})
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
