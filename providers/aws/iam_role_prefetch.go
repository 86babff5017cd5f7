package aws

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/evdeploy/evdeploy/planner"
)

// roleListAPI is what the role Prefetch needs: the account's roles with their
// inline policies, attached managed policies, trust policy and tags
// (GetAccountAuthorizationDetails), and their descriptions, which that call
// leaves out (ListRoles).
type roleListAPI interface {
	GetAccountAuthorizationDetails(context.Context, *iam.GetAccountAuthorizationDetailsInput, ...func(*iam.Options)) (*iam.GetAccountAuthorizationDetailsOutput, error)
	ListRoles(context.Context, *iam.ListRolesInput, ...func(*iam.Options)) (*iam.ListRolesOutput, error)
}

// roleSnapshot is what the role Prefetch saw of one role: everything its
// Read reports.
type roleSnapshot struct {
	attrs    planner.Attrs // roleAttrs
	inline   []string      // inline policy names
	attached []string      // attached managed policy ARNs
}

// rolePolicyKey keys a role's inline policy document in the share; it is the
// aws_iam_role_policy id.
func rolePolicyKey(role, name string) string { return role + ":" + name }

// Prefetch reads every role of the account with two paginated calls instead
// of three per role (GetRole, ListRolePolicies, ListAttachedRolePolicies) and
// one per inline policy (GetRolePolicy): each role's Read and each of its
// inline policies' Reads then answer from it. Where the service does not
// offer the calls (kumo lacks GetAccountAuthorizationDetails) Prefetch fails
// and the Reads ask per role, as before. A role in ids that the lists do not
// show is left to its own Read, which decides whether it is gone.
func (h *iamRole) Prefetch(ctx context.Context, ids []string) error {
	api, ok := h.api.(roleListAPI)
	if !ok || h.share == nil {
		return fmt.Errorf("role lists not available")
	}
	want := map[string]bool{}
	for _, id := range ids {
		want[id] = true
	}
	details := map[string]iamtypes.RoleDetail{}
	// The lists cover every role of the account, not only evdeploy's: pages
	// of the largest size IAM allows keep that to two calls up to 1,000 roles.
	p := iam.NewGetAccountAuthorizationDetailsPaginator(api, &iam.GetAccountAuthorizationDetailsInput{
		Filter: []iamtypes.EntityType{iamtypes.EntityTypeRole}, MaxItems: aws.Int32(1000),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return classify(err)
		}
		for _, r := range page.RoleDetailList {
			if name := aws.ToString(r.RoleName); want[name] {
				details[name] = r
			}
		}
	}
	roles := map[string]*shared{}
	docs := map[string]*shared{}
	lp := iam.NewListRolesPaginator(api, &iam.ListRolesInput{MaxItems: aws.Int32(1000)})
	for lp.HasMorePages() {
		page, err := lp.NextPage(ctx)
		if err != nil {
			return classify(err)
		}
		for _, r := range page.Roles {
			name := aws.ToString(r.RoleName)
			d, ok := details[name]
			if !ok || aws.ToString(r.Arn) != aws.ToString(d.Arn) {
				continue // not ours to read, or replaced between the calls
			}
			snap := roleSnapshot{attrs: roleAttrs(&iamtypes.Role{
				RoleName: d.RoleName, Arn: d.Arn, AssumeRolePolicyDocument: d.AssumeRolePolicyDocument,
				Description: r.Description, Tags: d.Tags,
			})}
			for _, ip := range d.RolePolicyList {
				snap.inline = append(snap.inline, aws.ToString(ip.PolicyName))
				docs[rolePolicyKey(name, aws.ToString(ip.PolicyName))] = &shared{v: aws.ToString(ip.PolicyDocument), left: 1}
			}
			for _, ap := range d.AttachedManagedPolicies {
				snap.attached = append(snap.attached, aws.ToString(ap.PolicyArn))
			}
			roles[name] = &shared{v: snap, left: 1}
		}
	}
	h.share.roles.reset(roles)
	h.share.rolePolicies.reset(docs)
	return nil
}

// roleShares are the role Prefetch's answers: roles by name, inline policy
// documents by rolePolicyKey.
type roleShares struct {
	roles        readShare
	rolePolicies readShare
}

// forgetAll drops everything prefetched: a role is being changed, and with
// it possibly its inline policies.
func (s *roleShares) forgetAll() {
	if s == nil {
		return
	}
	s.roles.reset(nil)
	s.rolePolicies.reset(nil)
}
