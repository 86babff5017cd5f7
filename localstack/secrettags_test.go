package localstack

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/google/go-cmp/cmp"
)

// The engine supplies Secrets Manager's TagResource and UntagResource
// (kumo: InvalidAction): tags set and removed show in DescribeSecret and
// ListSecrets, and a secret made again under that name starts afresh.
func TestSecretsManagerTagging(t *testing.T) {
	ep := serveRunning(t, &lockedBuffer{})
	cfg, err := (&Target{Endpoint: ep, Region: "us-east-1"}).AWSConfig(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	sm := secretsmanager.NewFromConfig(cfg)
	created, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("tags/one"),
		Tags: []smtypes.Tag{{Key: aws.String("a"), Value: aws.String("1")}, {Key: aws.String("b"), Value: aws.String("2")}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sm.TagResource(ctx, &secretsmanager.TagResourceInput{SecretId: created.ARN,
		Tags: []smtypes.Tag{{Key: aws.String("c"), Value: aws.String("3")}, {Key: aws.String("a"), Value: aws.String("one")}}}); err != nil {
		t.Fatalf("TagResource: %v", err)
	}
	if _, err := sm.UntagResource(ctx, &secretsmanager.UntagResourceInput{SecretId: aws.String("tags/one"), TagKeys: []string{"b"}}); err != nil {
		t.Fatalf("UntagResource: %v", err)
	}
	want := map[string]string{"a": "one", "c": "3"}
	desc, err := sm.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("tags/one")})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want, smTagMap(desc.Tags)); d != "" {
		t.Errorf("DescribeSecret tags (-want +got):\n%s", d)
	}
	list, err := sm.ListSecrets(ctx, &secretsmanager.ListSecretsInput{})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, s := range list.SecretList {
		if aws.ToString(s.Name) == "tags/one" {
			found = true
			if d := cmp.Diff(want, smTagMap(s.Tags)); d != "" {
				t.Errorf("ListSecrets tags (-want +got):\n%s", d)
			}
		}
	}
	if !found {
		t.Errorf("ListSecrets does not list tags/one")
	}
	if _, err := sm.TagResource(ctx, &secretsmanager.TagResourceInput{SecretId: aws.String("tags/none"),
		Tags: []smtypes.Tag{{Key: aws.String("a"), Value: aws.String("1")}}}); err == nil {
		t.Errorf("TagResource of a missing secret succeeded")
	}
	if _, err := sm.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{SecretId: aws.String("tags/one"), ForceDeleteWithoutRecovery: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	if _, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("tags/one"),
		Tags: []smtypes.Tag{{Key: aws.String("z"), Value: aws.String("9")}}}); err != nil {
		t.Fatal(err)
	}
	desc, err = sm.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("tags/one")})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(map[string]string{"z": "9"}, smTagMap(desc.Tags)); d != "" {
		t.Errorf("tags of a secret made again (-want +got):\n%s", d)
	}
}

func smTagMap(tags []smtypes.Tag) map[string]string {
	m := map[string]string{}
	for _, t := range tags {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}
