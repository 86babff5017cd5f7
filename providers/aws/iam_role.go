package aws

import (
	"context"
	"errors"
	"fmt"
	"maps"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/evdeploy/evdeploy/planner"
)

// iamRoleAPI is the part of the IAM API the role handler uses.
type iamRoleAPI interface {
	CreateRole(context.Context, *iam.CreateRoleInput, ...func(*iam.Options)) (*iam.CreateRoleOutput, error)
	GetRole(context.Context, *iam.GetRoleInput, ...func(*iam.Options)) (*iam.GetRoleOutput, error)
	UpdateRole(context.Context, *iam.UpdateRoleInput, ...func(*iam.Options)) (*iam.UpdateRoleOutput, error)
	UpdateAssumeRolePolicy(context.Context, *iam.UpdateAssumeRolePolicyInput, ...func(*iam.Options)) (*iam.UpdateAssumeRolePolicyOutput, error)
	TagRole(context.Context, *iam.TagRoleInput, ...func(*iam.Options)) (*iam.TagRoleOutput, error)
	UntagRole(context.Context, *iam.UntagRoleInput, ...func(*iam.Options)) (*iam.UntagRoleOutput, error)
	ListRolePolicies(context.Context, *iam.ListRolePoliciesInput, ...func(*iam.Options)) (*iam.ListRolePoliciesOutput, error)
	DeleteRolePolicy(context.Context, *iam.DeleteRolePolicyInput, ...func(*iam.Options)) (*iam.DeleteRolePolicyOutput, error)
	DeleteRole(context.Context, *iam.DeleteRoleInput, ...func(*iam.Options)) (*iam.DeleteRoleOutput, error)
	ListAttachedRolePolicies(context.Context, *iam.ListAttachedRolePoliciesInput, ...func(*iam.Options)) (*iam.ListAttachedRolePoliciesOutput, error)
	AttachRolePolicy(context.Context, *iam.AttachRolePolicyInput, ...func(*iam.Options)) (*iam.AttachRolePolicyOutput, error)
	DetachRolePolicy(context.Context, *iam.DetachRolePolicyInput, ...func(*iam.Options)) (*iam.DetachRolePolicyOutput, error)
}

// iamRole manages aws_iam_role; its physical id is the role name.
type iamRole struct {
	api   iamRoleAPI
	share *roleShares // what Prefetch read (iam_role_prefetch.go)
}

func newIAMRole(c *clients) *iamRole { return &iamRole{api: c.iam, share: &c.roleShares} }

func (*iamRole) Schema() planner.Schema {
	return planner.Schema{
		Type:     "aws_iam_role",
		ForceNew: []string{"name"},
		Computed: []string{"arn"},
		// inline_policy_names (the inline policies evdeploy writes) only
		// tells extra_inline_policies apart.
		NoDiff: []string{"inline_policy_names"},
	}
}

// isIAMNotFound reports IAM's NoSuchEntity, for roles and inline policies.
func isIAMNotFound(err error) bool {
	var nse *iamtypes.NoSuchEntityException
	return errors.As(err, &nse) || hasCode(err, "NoSuchEntity")
}

func (h *iamRole) Read(ctx context.Context, id string, prior planner.Attrs) (planner.Attrs, bool, error) {
	if h.share != nil {
		if v, ok := h.share.roles.take(id); ok {
			snap := v.(roleSnapshot)
			a := maps.Clone(snap.attrs)
			setRolePolicies(snap.inline, snap.attached, prior, a)
			return a, true, nil
		}
	}
	out, err := h.api.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(id)})
	if isIAMNotFound(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, classify(err)
	}
	a := roleAttrs(out.Role)
	// Its inline and managed policies are the role's own surface
	// (exclusive.go).
	err = readRolePolicies(ctx, h.api, id, prior, a)
	if isIAMNotFound(err) {
		return nil, false, nil // deleted between the calls
	}
	if err != nil {
		return nil, false, classify(err)
	}
	return a, true, nil
}

func roleAttrs(r *iamtypes.Role) planner.Attrs {
	a := planner.Attrs{
		"name": aws.ToString(r.RoleName),
		"arn":  aws.ToString(r.Arn),
	}
	if r.AssumeRolePolicyDocument != nil {
		a["assume_role_policy"] = mustCanonicalJSON(*r.AssumeRolePolicyDocument)
	}
	if d := aws.ToString(r.Description); d != "" {
		a["description"] = d
	}
	tags := map[string]string{}
	for _, t := range r.Tags {
		tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	setMap(a, "tags", tags)
	return a
}

func iamTags(m map[string]string) []iamtypes.Tag {
	var out []iamtypes.Tag
	for k, v := range m {
		out = append(out, iamtypes.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	return out
}

func (h *iamRole) Create(ctx context.Context, desired planner.Attrs) (string, planner.Attrs, error) {
	h.share.forgetAll() // the role and its policies are changing
	name := desired.String("name")
	policy, err := canonicalJSON(desired.String("assume_role_policy"))
	if err != nil {
		return "", nil, fmt.Errorf("assume_role_policy: %w", err)
	}
	in := &iam.CreateRoleInput{
		RoleName:                 aws.String(name),
		AssumeRolePolicyDocument: aws.String(policy),
		Tags:                     iamTags(desired.StringMap("tags")),
	}
	if d := desired.String("description"); d != "" {
		in.Description = aws.String(d)
	}
	out, err := h.api.CreateRole(ctx, in)
	if err != nil {
		var exists *iamtypes.EntityAlreadyExistsException
		if errors.As(err, &exists) {
			return "", nil, fmt.Errorf("IAM role %s: %w", name, errors.Join(planner.ErrAlreadyExists, err))
		}
		return "", nil, classify(err)
	}
	a := roleAttrs(out.Role)
	a["extra_inline_policies"] = []any{}
	a["managed_policies"] = []any{}
	if len(desired.Strings("managed_policies")) > 0 {
		synced, err := syncRolePolicies(ctx, h.api, name, desired)
		if err != nil {
			return "", nil, err
		}
		a["managed_policies"] = synced["managed_policies"]
	}
	return name, a, nil
}

func (h *iamRole) Update(ctx context.Context, id string, prior, desired planner.Attrs) (planner.Attrs, error) {
	h.share.forgetAll() // the role and its policies are changing
	if !planner.Equal(prior["assume_role_policy"], desired["assume_role_policy"]) {
		policy, err := canonicalJSON(desired.String("assume_role_policy"))
		if err != nil {
			return nil, fmt.Errorf("assume_role_policy: %w", err)
		}
		if _, err := h.api.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{
			RoleName: aws.String(id), PolicyDocument: aws.String(policy),
		}); err != nil {
			return nil, classify(err)
		}
	}
	if prior.String("description") != desired.String("description") {
		// An empty description clears it.
		if _, err := h.api.UpdateRole(ctx, &iam.UpdateRoleInput{
			RoleName: aws.String(id), Description: aws.String(desired.String("description")),
		}); err != nil {
			return nil, classify(err)
		}
	}
	set, remove := tagDiff(prior.StringMap("tags"), desired.StringMap("tags"))
	if len(set) > 0 {
		if _, err := h.api.TagRole(ctx, &iam.TagRoleInput{RoleName: aws.String(id), Tags: iamTags(set)}); err != nil {
			return nil, classify(err)
		}
	}
	if len(remove) > 0 {
		if _, err := h.api.UntagRole(ctx, &iam.UntagRoleInput{RoleName: aws.String(id), TagKeys: remove}); err != nil {
			return nil, classify(err)
		}
	}
	if _, err := syncRolePolicies(ctx, h.api, id, desired); err != nil {
		return nil, err
	}
	actual, exists, err := h.Read(ctx, id, desired)
	if err != nil {
		return nil, err
	}
	if !exists {
		return nil, fmt.Errorf("IAM role %s disappeared during update", id)
	}
	return actual, nil
}

func (h *iamRole) Delete(ctx context.Context, id string, _ planner.Attrs) error {
	h.share.forgetAll() // the role and its policies are changing
	// AWS refuses to delete a role that still has inline policies
	// (DeleteConflict), so remove them first.
	p := iam.NewListRolePoliciesPaginator(h.api, &iam.ListRolePoliciesInput{RoleName: aws.String(id)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if isIAMNotFound(err) {
			return nil
		}
		if err != nil {
			return classify(err)
		}
		for _, name := range page.PolicyNames {
			_, err := h.api.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String(id), PolicyName: aws.String(name)})
			if err != nil && !isIAMNotFound(err) {
				return classify(err)
			}
		}
	}
	// And attached managed policies too.
	arns, err := attachedPolicyARNs(ctx, h.api, id)
	if isIAMNotFound(err) {
		return nil
	}
	if err != nil {
		return classify(err)
	}
	for _, a := range arns {
		_, err := h.api.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: aws.String(id), PolicyArn: aws.String(a)})
		if err != nil && !isIAMNotFound(err) {
			return classify(err)
		}
	}
	_, err = h.api.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String(id)})
	if err != nil && !isIAMNotFound(err) {
		return classify(err)
	}
	return nil
}
