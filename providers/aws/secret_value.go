package aws

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

// Secret stores, as the spec names them.
const (
	StoreSSM            = "ssm"
	StoreSecretsManager = "secretsmanager"
)

// SecretInfo is what `evdeploy secret list` shows of a secret: never its
// value.
type SecretInfo struct {
	Exists      bool
	HasValue    bool
	Version     string // SSM: the parameter version; Secrets Manager: AWSCURRENT's version id
	LastChanged time.Time
}

// ErrNoSecret is returned when the secret's container does not exist.
var ErrNoSecret = errors.New("secret container does not exist")

// SecretStatus reads a secret's metadata (id: the parameter name or the
// secret's name or ARN) without reading its value.
func SecretStatus(ctx context.Context, cfg aws.Config, store, id string) (SecretInfo, error) {
	switch store {
	case StoreSSM:
		api := ssm.NewFromConfig(cfg)
		p, err := describeParameter(ctx, api, id)
		if err != nil || p == nil {
			return SecretInfo{}, err
		}
		info := SecretInfo{Exists: true, HasValue: true, Version: strconv.FormatInt(p.Version, 10), LastChanged: aws.ToTime(p.LastModifiedDate)}
		tags, err := api.ListTagsForResource(ctx, &ssm.ListTagsForResourceInput{ResourceType: ssmtypes.ResourceTypeForTaggingParameter, ResourceId: aws.String(id)})
		if err != nil {
			return SecretInfo{}, err
		}
		for _, t := range tags.TagList {
			if aws.ToString(t.Key) == UnsetTag {
				info.HasValue = false
			}
		}
		return info, nil
	case StoreSecretsManager:
		out, err := secretsmanager.NewFromConfig(cfg).DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(id)})
		if isSMNotFound(err) {
			return SecretInfo{}, nil
		}
		if err != nil {
			return SecretInfo{}, err
		}
		if out.DeletedDate != nil {
			return SecretInfo{}, nil
		}
		info := SecretInfo{Exists: true, HasValue: len(out.VersionIdsToStages) > 0, LastChanged: aws.ToTime(out.LastChangedDate)}
		for v, stages := range out.VersionIdsToStages {
			for _, s := range stages {
				if s == "AWSCURRENT" {
					info.Version = v
				}
			}
		}
		return info, nil
	}
	return SecretInfo{}, fmt.Errorf("unknown secret store %q", store)
}

// PutSecretValue writes value as a new version of the secret evdeploy made
// (id: the parameter or secret name) and returns the new version. It
// changes nothing else: not the description, the key, the tags evdeploy
// set, a function or the state. For SSM it removes the "no value yet" tag.
func PutSecretValue(ctx context.Context, cfg aws.Config, store, id string, value []byte) (string, error) {
	switch store {
	case StoreSSM:
		api := ssm.NewFromConfig(cfg)
		p, err := describeParameter(ctx, api, id)
		if err != nil {
			return "", err
		}
		if p == nil {
			return "", fmt.Errorf("parameter %s: %w", id, ErrNoSecret)
		}
		key, desc := p.KeyId, p.Description
		// Without KeyId an overwrite would fall back to the default key, and
		// some endpoints (kumo) drop the description: pass both as they are.
		put, err := api.PutParameter(ctx, &ssm.PutParameterInput{
			Name: aws.String(id), Type: ssmtypes.ParameterTypeSecureString, Overwrite: aws.Bool(true),
			Value: aws.String(string(value)), KeyId: key, Description: desc,
		})
		if err != nil {
			return "", err
		}
		if _, err := api.RemoveTagsFromResource(ctx, &ssm.RemoveTagsFromResourceInput{
			ResourceType: ssmtypes.ResourceTypeForTaggingParameter, ResourceId: aws.String(id), TagKeys: []string{UnsetTag},
		}); err != nil {
			return "", fmt.Errorf("parameter %s: value written (version %d), but the %s tag stays: %w", id, put.Version, UnsetTag, err)
		}
		return strconv.FormatInt(put.Version, 10), nil
	case StoreSecretsManager:
		out, err := secretsmanager.NewFromConfig(cfg).PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{
			SecretId: aws.String(id), SecretString: aws.String(string(value)),
		})
		if isSMNotFound(err) {
			return "", fmt.Errorf("secret %s: %w", id, ErrNoSecret)
		}
		if err != nil {
			return "", err
		}
		return aws.ToString(out.VersionId), nil
	}
	return "", fmt.Errorf("unknown secret store %q", store)
}
