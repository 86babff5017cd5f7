package aws

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/evdeploy/evdeploy/planner"
)

// Exclusive ownership of security surfaces (docs/architecture.md): evdeploy
// owns a function's execution role and the function's resource policy
// outright. Whatever is on them that evdeploy did not declare is drift, read
// as part of the resource that carries it (one Read per resource):
//
//   - aws_iam_role: extra_inline_policies lists inline policies other than
//     the ones evdeploy writes (inline_policy_names, default "evdeploy");
//     managed_policies lists every attached managed policy, against the
//     function's declared managed_policies. assume_role_policy (the trust
//     policy) was compared all along.
//   - aws_lambda_function: extra_statements lists the Sids of resource
//     policy statements evdeploy does not write (statement_ids, the Sids of
//     the function's permissions; "evdeploy-*" when unknown).
//
// The desired value of each extra_* attribute is the empty list, so plan shows
// every extra by name and Update removes it. The rule generalises to every
// resource policy evdeploy writes: statements keyed by the Sids it writes,
// anything else is drift (extraSids).

// declared reports whether name is one evdeploy writes on a surface: listed
// in a[key] when the attributes carry the list, else judged by fallback
// (state written before the list existed, an imported resource).
func declared(a planner.Attrs, key string, fallback func(string) bool) func(string) bool {
	if !a.Has(key) {
		return fallback
	}
	set := map[string]bool{}
	for _, s := range a.Strings(key) {
		set[s] = true
	}
	return func(s string) bool { return set[s] }
}

// keeps reports whether Update keeps name: declared, or listed in the desired
// extra_* attribute itself (an import records the extras as they are and
// changes nothing; the plan after it removes them).
func keeps(desired planner.Attrs, key, extraKey string, fallback func(string) bool) func(string) bool {
	d := declared(desired, key, fallback)
	extra := map[string]bool{}
	for _, s := range desired.Strings(extraKey) {
		extra[s] = true
	}
	return func(s string) bool { return d(s) || extra[s] }
}

// listAttr is a sorted list of strings in attribute form; never nil, so an
// empty list is reported (the service answered "none").
func listAttr(l []string) []any {
	sort.Strings(l)
	out := make([]any, 0, len(l))
	for _, s := range l {
		out = append(out, s)
	}
	return out
}

// extraSids returns the Sids of doc's statements that evdeploy does not write.
func extraSids(doc string, ours func(string) bool) ([]string, error) {
	var d policyDocument
	if err := json.Unmarshal([]byte(doc), &d); err != nil {
		return nil, fmt.Errorf("resource policy: %w", err)
	}
	stmts, err := d.statements()
	if err != nil {
		return nil, fmt.Errorf("resource policy statements: %w", err)
	}
	var extra []string
	for _, s := range stmts {
		if !ours(s.Sid) {
			extra = append(extra, s.Sid)
		}
	}
	return extra, nil
}

// isEvdeploySid is the fallback for resource policies: evdeploy's statement
// ids start with "evdeploy-".
func isEvdeploySid(sid string) bool { return strings.HasPrefix(sid, "evdeploy-") }

// isEvdeployPolicy is the fallback for a role's inline policies: evdeploy
// writes one, named "evdeploy".
func isEvdeployPolicy(name string) bool { return name == "evdeploy" }

// functionPolicyAPI is what the function handler needs of a function's
// resource policy.
type functionPolicyAPI interface {
	GetPolicy(context.Context, *lambda.GetPolicyInput, ...func(*lambda.Options)) (*lambda.GetPolicyOutput, error)
	RemovePermission(context.Context, *lambda.RemovePermissionInput, ...func(*lambda.Options)) (*lambda.RemovePermissionOutput, error)
}

// functionStatements returns the Sids of every statement of the function's
// resource policy (none when it has no policy).
func functionStatements(ctx context.Context, api functionPolicyAPI, function string) ([]string, error) {
	out, err := api.GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: aws.String(function)})
	if isLambdaNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, classify(err)
	}
	return extraSids(aws.ToString(out.Policy), func(string) bool { return false })
}

// readExtraStatements sets a["extra_statements"] from the function's policy,
// taking it from share when a Prefetch read it for this refresh.
func readExtraStatements(ctx context.Context, api functionPolicyAPI, share *readShare, function string, prior, a planner.Attrs) error {
	var sids []string
	var err error
	if v, ok := share.take(function); ok {
		if policy := v.(string); policy != "" { // "": no policy
			sids, err = extraSids(policy, func(string) bool { return false })
		}
	} else {
		sids, err = functionStatements(ctx, api, function)
	}
	if err != nil {
		return err
	}
	ours := declared(prior, "statement_ids", isEvdeploySid)
	var extra []string
	for _, s := range sids {
		if !ours(s) {
			extra = append(extra, s)
		}
	}
	a["extra_statements"] = listAttr(extra)
	return nil
}

// removeExtraStatements removes every statement desired does not keep and
// returns those left that are not declared.
func removeExtraStatements(ctx context.Context, api functionPolicyAPI, function string, desired planner.Attrs) ([]any, error) {
	sids, err := functionStatements(ctx, api, function)
	if err != nil {
		return nil, err
	}
	keep := keeps(desired, "statement_ids", "extra_statements", isEvdeploySid)
	ours := declared(desired, "statement_ids", isEvdeploySid)
	var left []string
	for _, s := range sids {
		if keep(s) {
			if !ours(s) {
				left = append(left, s)
			}
			continue
		}
		_, err := api.RemovePermission(ctx, &lambda.RemovePermissionInput{FunctionName: aws.String(function), StatementId: aws.String(s)})
		if err != nil && !isLambdaNotFound(err) {
			return nil, fmt.Errorf("removing statement %q from the function's resource policy: %w", s, classify(err))
		}
	}
	return listAttr(left), nil
}

// rolePoliciesAPI is what the role handler needs of a role's inline and
// attached managed policies.
type rolePoliciesAPI interface {
	ListRolePolicies(context.Context, *iam.ListRolePoliciesInput, ...func(*iam.Options)) (*iam.ListRolePoliciesOutput, error)
	DeleteRolePolicy(context.Context, *iam.DeleteRolePolicyInput, ...func(*iam.Options)) (*iam.DeleteRolePolicyOutput, error)
	ListAttachedRolePolicies(context.Context, *iam.ListAttachedRolePoliciesInput, ...func(*iam.Options)) (*iam.ListAttachedRolePoliciesOutput, error)
	AttachRolePolicy(context.Context, *iam.AttachRolePolicyInput, ...func(*iam.Options)) (*iam.AttachRolePolicyOutput, error)
	DetachRolePolicy(context.Context, *iam.DetachRolePolicyInput, ...func(*iam.Options)) (*iam.DetachRolePolicyOutput, error)
}

func inlinePolicyNames(ctx context.Context, api rolePoliciesAPI, role string) ([]string, error) {
	var names []string
	p := iam.NewListRolePoliciesPaginator(api, &iam.ListRolePoliciesInput{RoleName: aws.String(role)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		names = append(names, page.PolicyNames...)
	}
	return names, nil
}

func attachedPolicyARNs(ctx context.Context, api rolePoliciesAPI, role string) ([]string, error) {
	var arns []string
	p := iam.NewListAttachedRolePoliciesPaginator(api, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String(role)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, ap := range page.AttachedPolicies {
			arns = append(arns, aws.ToString(ap.PolicyArn))
		}
	}
	return arns, nil
}

// readRolePolicies sets a["extra_inline_policies"] and a["managed_policies"].
func readRolePolicies(ctx context.Context, api rolePoliciesAPI, role string, prior, a planner.Attrs) error {
	names, err := inlinePolicyNames(ctx, api, role)
	if err != nil {
		return err
	}
	arns, err := attachedPolicyARNs(ctx, api, role)
	if err != nil {
		return err
	}
	setRolePolicies(names, arns, prior, a)
	return nil
}

// setRolePolicies sets a["extra_inline_policies"] (the inline policy names
// prior does not declare) and a["managed_policies"].
func setRolePolicies(names, arns []string, prior, a planner.Attrs) {
	ours := declared(prior, "inline_policy_names", isEvdeployPolicy)
	var extra []string
	for _, n := range names {
		if !ours(n) {
			extra = append(extra, n)
		}
	}
	a["extra_inline_policies"] = listAttr(extra)
	a["managed_policies"] = listAttr(slices.Clone(arns))
}

// syncRolePolicies deletes the inline policies desired does not keep and
// attaches/detaches managed policies to exactly desired's managed_policies
// (left alone when desired does not say). It returns the attributes as they
// now are.
func syncRolePolicies(ctx context.Context, api rolePoliciesAPI, role string, desired planner.Attrs) (planner.Attrs, error) {
	out := planner.Attrs{}
	names, err := inlinePolicyNames(ctx, api, role)
	if err != nil {
		return nil, classify(err)
	}
	keep := keeps(desired, "inline_policy_names", "extra_inline_policies", isEvdeployPolicy)
	ours := declared(desired, "inline_policy_names", isEvdeployPolicy)
	var left []string
	for _, n := range names {
		if keep(n) {
			if !ours(n) {
				left = append(left, n)
			}
			continue
		}
		_, err := api.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String(role), PolicyName: aws.String(n)})
		if err != nil && !isIAMNotFound(err) {
			return nil, fmt.Errorf("deleting inline policy %q: %w", n, classify(err))
		}
	}
	out["extra_inline_policies"] = listAttr(left)

	attached, err := attachedPolicyARNs(ctx, api, role)
	if err != nil {
		return nil, classify(err)
	}
	if !desired.Has("managed_policies") {
		out["managed_policies"] = listAttr(attached)
		return out, nil
	}
	want := desired.Strings("managed_policies")
	wantSet, have := map[string]bool{}, map[string]bool{}
	for _, a := range want {
		wantSet[a] = true
	}
	for _, a := range attached {
		have[a] = true
		if wantSet[a] {
			continue
		}
		_, err := api.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: aws.String(role), PolicyArn: aws.String(a)})
		if err != nil && !isIAMNotFound(err) {
			return nil, fmt.Errorf("detaching managed policy %s: %w", a, classify(err))
		}
	}
	for _, a := range want {
		if have[a] {
			continue
		}
		if _, err := api.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String(role), PolicyArn: aws.String(a)}); err != nil {
			return nil, fmt.Errorf("attaching managed policy %s: %w", a, classify(err))
		}
	}
	out["managed_policies"] = listAttr(append([]string(nil), want...))
	return out, nil
}
