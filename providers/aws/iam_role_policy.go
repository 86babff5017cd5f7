package aws

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/evdeploy/evdeploy/planner"
)

// iamRolePolicyAPI is the part of the IAM API the inline policy handler uses.
type iamRolePolicyAPI interface {
	PutRolePolicy(context.Context, *iam.PutRolePolicyInput, ...func(*iam.Options)) (*iam.PutRolePolicyOutput, error)
	GetRolePolicy(context.Context, *iam.GetRolePolicyInput, ...func(*iam.Options)) (*iam.GetRolePolicyOutput, error)
	DeleteRolePolicy(context.Context, *iam.DeleteRolePolicyInput, ...func(*iam.Options)) (*iam.DeleteRolePolicyOutput, error)
}

// iamRolePolicy manages aws_iam_role_policy, a role's inline policy; its
// physical id is "<role>:<policy name>".
type iamRolePolicy struct {
	api   iamRolePolicyAPI
	share *roleShares // documents the role Prefetch read
}

func newIAMRolePolicy(c *clients) *iamRolePolicy {
	return &iamRolePolicy{api: c.iam, share: &c.roleShares}
}

func (*iamRolePolicy) Schema() planner.Schema {
	return planner.Schema{
		Type:     "aws_iam_role_policy",
		ForceNew: []string{"role", "name"},
	}
}

// splitRolePolicyID parses "<role>:<policy name>". Role names cannot contain
// ":", so the first colon separates them.
func splitRolePolicyID(id string) (role, name string, err error) {
	role, name, ok := strings.Cut(id, ":")
	if !ok || role == "" || name == "" {
		return "", "", fmt.Errorf("invalid inline policy id %q: want <role>:<policy name>", id)
	}
	return role, name, nil
}

func (h *iamRolePolicy) Read(ctx context.Context, id string, _ planner.Attrs) (planner.Attrs, bool, error) {
	role, name, err := splitRolePolicyID(id)
	if err != nil {
		return nil, false, err
	}
	if h.share != nil {
		if v, ok := h.share.rolePolicies.take(id); ok {
			return planner.Attrs{"role": role, "name": name, "policy": mustCanonicalJSON(v.(string))}, true, nil
		}
	}
	out, err := h.api.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(role), PolicyName: aws.String(name)})
	if isIAMNotFound(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, classify(err)
	}
	return planner.Attrs{
		"role":   aws.ToString(out.RoleName),
		"name":   aws.ToString(out.PolicyName),
		"policy": mustCanonicalJSON(aws.ToString(out.PolicyDocument)),
	}, true, nil
}

// put writes the policy document (PutRolePolicy creates or replaces).
func (h *iamRolePolicy) put(ctx context.Context, desired planner.Attrs) (planner.Attrs, error) {
	policy, err := canonicalJSON(desired.String("policy"))
	if err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	role, name := desired.String("role"), desired.String("name")
	h.forget(rolePolicyKey(role, name))
	if _, err := h.api.PutRolePolicy(ctx, &iam.PutRolePolicyInput{
		RoleName: aws.String(role), PolicyName: aws.String(name), PolicyDocument: aws.String(policy),
	}); err != nil {
		return nil, classify(err)
	}
	return planner.Attrs{"role": role, "name": name, "policy": policy}, nil
}

func (h *iamRolePolicy) Create(ctx context.Context, desired planner.Attrs) (string, planner.Attrs, error) {
	// PutRolePolicy silently replaces a policy of the same name, so look first:
	// Create must never take over a policy evdeploy has no record of.
	id := desired.String("role") + ":" + desired.String("name")
	h.forget(id)
	if _, exists, err := h.Read(ctx, id, nil); err != nil {
		return "", nil, err
	} else if exists {
		return "", nil, fmt.Errorf("inline policy %s: %w", id, planner.ErrAlreadyExists)
	}
	actual, err := h.put(ctx, desired)
	if err != nil {
		return "", nil, err
	}
	return id, actual, nil
}

func (h *iamRolePolicy) Update(ctx context.Context, _ string, _, desired planner.Attrs) (planner.Attrs, error) {
	return h.put(ctx, desired)
}

func (h *iamRolePolicy) Delete(ctx context.Context, id string, _ planner.Attrs) error {
	role, name, err := splitRolePolicyID(id)
	if err != nil {
		return err
	}
	h.forget(id)
	_, err = h.api.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String(role), PolicyName: aws.String(name)})
	if err != nil && !isIAMNotFound(err) {
		return classify(err)
	}
	return nil
}

// forget drops what the role Prefetch read of the policy (it is changing).
func (h *iamRolePolicy) forget(id string) {
	if h.share != nil {
		h.share.rolePolicies.forget(id)
	}
}
