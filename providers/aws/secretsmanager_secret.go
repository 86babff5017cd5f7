package aws

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/evdeploy/evdeploy/planner"
)

// secretsManagerSecret manages aws_secretsmanager_secret: the container of
// a `secret` block stored in Secrets Manager, made without a value (Secrets
// Manager allows that); `evdeploy secret set` writes versions. Its physical
// id is the secret's name. It never reads the value.
type secretsManagerSecret struct {
	api *secretsmanager.Client
}

func newSecretsManagerSecret(c *clients) *secretsManagerSecret {
	return &secretsManagerSecret{api: secretsmanager.NewFromConfig(c.cfg)}
}

func (*secretsManagerSecret) Schema() planner.Schema {
	return planner.Schema{
		Type:      planner.TypeSecret,
		ForceNew:  []string{"name"},
		Computed:  []string{"arn", "has_value"},
		HoldsData: true,
		DataWhen:  "has_value",
	}
}

func isSMNotFound(err error) bool {
	var nf *smtypes.ResourceNotFoundException
	return errors.As(err, &nf) || hasCode(err, "ResourceNotFoundException")
}

// smDefaultKey is the AWS managed key Secrets Manager reports when none was
// chosen (some endpoints report it, some report nothing).
const smDefaultKey = "alias/aws/secretsmanager"

func (h *secretsManagerSecret) Read(ctx context.Context, id string, _ planner.Attrs) (planner.Attrs, bool, error) {
	out, err := h.api.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(id)})
	if isSMNotFound(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, classify(err)
	}
	if out.DeletedDate != nil {
		// Scheduled for deletion: gone, as far as the app is concerned.
		return nil, false, nil
	}
	a := planner.Attrs{
		"name":        aws.ToString(out.Name),
		"arn":         aws.ToString(out.ARN),
		"description": aws.ToString(out.Description),
		"has_value":   len(out.VersionIdsToStages) > 0,
	}
	// "" is the store's AWS managed key, as the spec says it.
	a["kms_key_id"] = ""
	if k := aws.ToString(out.KmsKeyId); k != "" && k != smDefaultKey {
		a["kms_key_id"] = k
	}
	m := map[string]string{}
	for _, t := range out.Tags {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	setMap(a, "tags", m)
	pol, err := h.api.GetResourcePolicy(ctx, &secretsmanager.GetResourcePolicyInput{SecretId: aws.String(id)})
	switch {
	case isSMNotFound(err):
		return nil, false, nil
	case err != nil:
		return nil, false, classify(err)
	}
	a["resource_policy"] = ""
	if doc := aws.ToString(pol.ResourcePolicy); doc != "" {
		c, err := canonicalJSON(doc)
		if err != nil {
			c = doc
		}
		a["resource_policy"] = c
	}
	return a, true, nil
}

func smTags(m map[string]string) []smtypes.Tag {
	var out []smtypes.Tag
	for k, v := range m {
		out = append(out, smtypes.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	return out
}

// errScheduledForDeletion explains a name Secrets Manager keeps during a
// deleted secret's recovery window.
var errScheduledForDeletion = errors.New("a secret of that name is scheduled for deletion")

func (h *secretsManagerSecret) Create(ctx context.Context, desired planner.Attrs) (string, planner.Attrs, error) {
	name := desired.String("name")
	if _, exists, err := h.Read(ctx, name, nil); err != nil {
		return "", nil, err
	} else if exists {
		return "", nil, fmt.Errorf("secret %s: %w", name, planner.ErrAlreadyExists)
	}
	in := &secretsmanager.CreateSecretInput{Name: aws.String(name), Tags: smTags(desired.StringMap("tags"))}
	if d := desired.String("description"); d != "" {
		in.Description = aws.String(d)
	}
	if k := desired.String("kms_key_id"); k != "" {
		in.KmsKeyId = aws.String(k)
	}
	if _, err := h.api.CreateSecret(ctx, in); err != nil {
		switch {
		case hasCode(err, "ResourceExistsException"):
			return "", nil, fmt.Errorf("secret %s: %w", name, planner.ErrAlreadyExists)
		case hasCode(err, "InvalidRequestException"):
			return "", nil, fmt.Errorf("secret %s: %w (it was deleted without --allow-data-loss, so it can be recovered for 7 days: `aws secretsmanager restore-secret --secret-id %s`, or delete it for good with --force-delete-without-recovery): %v",
				name, errScheduledForDeletion, name, err)
		}
		return "", nil, classify(err)
	}
	actual, exists, err := h.Read(ctx, name, desired)
	if err != nil {
		return "", nil, err
	}
	if !exists {
		return "", nil, fmt.Errorf("secret %s not found right after creating it", name)
	}
	return name, actual, nil
}

func (h *secretsManagerSecret) Update(ctx context.Context, id string, prior, desired planner.Attrs) (planner.Attrs, error) {
	if prior.String("description") != desired.String("description") || prior.String("kms_key_id") != desired.String("kms_key_id") {
		// UpdateSecret without a value changes only the metadata.
		in := &secretsmanager.UpdateSecretInput{SecretId: aws.String(id), Description: aws.String(desired.String("description"))}
		if k := desired.String("kms_key_id"); k != "" {
			in.KmsKeyId = aws.String(k)
		}
		if _, err := h.api.UpdateSecret(ctx, in); err != nil {
			return nil, classify(err)
		}
	}
	if prior.String("resource_policy") != "" && desired.String("resource_policy") == "" {
		// A policy added by hand: evdeploy owns the secret's policy outright.
		if _, err := h.api.DeleteResourcePolicy(ctx, &secretsmanager.DeleteResourcePolicyInput{SecretId: aws.String(id)}); err != nil {
			return nil, classify(err)
		}
	}
	set, remove := tagDiff(prior.StringMap("tags"), desired.StringMap("tags"))
	if len(set) > 0 {
		if _, err := h.api.TagResource(ctx, &secretsmanager.TagResourceInput{SecretId: aws.String(id), Tags: smTags(set)}); err != nil {
			return nil, classify(err)
		}
	}
	if len(remove) > 0 {
		if _, err := h.api.UntagResource(ctx, &secretsmanager.UntagResourceInput{SecretId: aws.String(id), TagKeys: remove}); err != nil {
			return nil, classify(err)
		}
	}
	actual, exists, err := h.Read(ctx, id, desired)
	if err != nil {
		return nil, err
	}
	if !exists {
		return nil, fmt.Errorf("secret %s disappeared during update", id)
	}
	return actual, nil
}

// Delete schedules the secret's deletion with the shortest recovery window
// (7 days); with --allow-data-loss it deletes it at once, without recovery.
func (h *secretsManagerSecret) Delete(ctx context.Context, id string, _ planner.Attrs) error {
	in := &secretsmanager.DeleteSecretInput{SecretId: aws.String(id)}
	if planner.AllowDataLoss(ctx) {
		in.ForceDeleteWithoutRecovery = aws.Bool(true)
	} else {
		in.RecoveryWindowInDays = aws.Int64(7)
	}
	_, err := h.api.DeleteSecret(ctx, in)
	if err != nil && !isSMNotFound(err) {
		return classify(err)
	}
	return nil
}
