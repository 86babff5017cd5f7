package aws

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/google/go-cmp/cmp"

	"github.com/evdeploy/evdeploy/planner"
)

func TestSSMParameterLifecycle(t *testing.T) {
	ctx := testContext(t)
	cfg := testConfig(t)
	h := newSSMParameter(newClients(cfg))
	name := "/" + uniqueName("app") + "/dev/key"
	tags := map[string]any{"evdeploy:app": "app", "evdeploy:stage": "dev", "evdeploy:block": "secret.key"}
	id, created, err := h.Create(ctx, planner.Attrs{"name": name, "type": "SecureString", "description": "API key", "kms_key_id": "", "tags": tags})
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if id != name {
		t.Errorf("id = %q, want the parameter name", id)
	}
	want := planner.Attrs{"name": name, "type": "SecureString", "description": "API key", "kms_key_id": "", "tags": tags, "has_value": false, "arn": created.String("arn")}
	if d := cmp.Diff(want, created); d != "" {
		t.Errorf("Create (-want +got):\n%s", d)
	}
	if _, _, err := h.Create(ctx, planner.Attrs{"name": name, "type": "SecureString"}); !errors.Is(err, planner.ErrAlreadyExists) {
		t.Errorf("second Create = %v, want ErrAlreadyExists", err)
	}
	info, err := SecretStatus(ctx, cfg, StoreSSM, name)
	if err != nil || !info.Exists || info.HasValue {
		t.Fatalf("SecretStatus before set = %+v, %v; want exists without a value", info, err)
	}

	v, err := PutSecretValue(ctx, cfg, StoreSSM, name, []byte("s3cr3t-one"))
	if err != nil {
		t.Fatalf("PutSecretValue: %v", err)
	}
	got, exists, err := h.Read(ctx, id, nil)
	if err != nil || !exists {
		t.Fatalf("Read = %v, %v", exists, err)
	}
	want["has_value"] = true
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Read after set (-want +got):\n%s", d)
	}
	info, err = SecretStatus(ctx, cfg, StoreSSM, name)
	if err != nil || !info.HasValue || info.Version != v {
		t.Errorf("SecretStatus after set = %+v, %v; want a value at version %s", info, err, v)
	}

	// A new description keeps the value (SSM writes it back as a version).
	next := planner.Attrs{"name": name, "type": "SecureString", "description": "rotated key", "kms_key_id": "", "tags": tags}
	after, err := h.Update(ctx, id, got, next)
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	if after.String("description") != "rotated key" || !after.Bool("has_value") {
		t.Errorf("after Update: %v", after)
	}
	if val := ssmValue(t, ctx, cfg, name); val != "s3cr3t-one" {
		t.Errorf("value after Update = %q, want it unchanged", val)
	}
	if s := h.Schema(); !s.HoldsData || s.DataWhen != "has_value" {
		t.Errorf("schema: %+v", s)
	}
	assertDeletedForGood(t, ctx, h, id, nil)
}

func ssmValue(t *testing.T, ctx context.Context, cfg aws.Config, name string) string {
	t.Helper()
	out, err := ssm.NewFromConfig(cfg).GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(name), WithDecryption: aws.Bool(true)})
	if err != nil {
		t.Fatalf("GetParameter: %v", err)
	}
	return aws.ToString(out.Parameter.Value)
}

func TestSecretsManagerSecretLifecycle(t *testing.T) {
	ctx := testContext(t)
	cfg := testConfig(t)
	h := newSecretsManagerSecret(newClients(cfg))
	name := uniqueName("app") + "/dev/db"
	tags := map[string]any{"evdeploy:app": "app", "evdeploy:stage": "dev", "evdeploy:block": "secret.db"}
	desired := planner.Attrs{"name": name, "description": "db password", "kms_key_id": "", "resource_policy": "", "tags": tags}
	id, created, err := h.Create(ctx, desired)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	arn := created.String("arn")
	want := planner.Attrs{"name": name, "arn": arn, "description": "db password", "kms_key_id": "", "resource_policy": "", "tags": tags, "has_value": false}
	if d := cmp.Diff(want, created); d != "" {
		t.Errorf("Create (-want +got):\n%s", d)
	}
	if _, _, err := h.Create(ctx, desired); !errors.Is(err, planner.ErrAlreadyExists) {
		t.Errorf("second Create = %v, want ErrAlreadyExists", err)
	}
	v1, err := PutSecretValue(ctx, cfg, StoreSecretsManager, name, []byte("pw-one"))
	if err != nil {
		t.Fatalf("PutSecretValue: %v", err)
	}
	info, err := SecretStatus(ctx, cfg, StoreSecretsManager, name)
	if err != nil || !info.HasValue || info.Version != v1 {
		t.Errorf("SecretStatus = %+v, %v; want a value at version %s", info, err, v1)
	}

	// Drift: a description changed and a policy added by hand.
	sm := secretsmanager.NewFromConfig(cfg)
	if _, err := sm.UpdateSecret(ctx, &secretsmanager.UpdateSecretInput{SecretId: aws.String(name), Description: aws.String("edited")}); err != nil {
		t.Fatal(err)
	}
	policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}]}`
	if _, err := sm.PutResourcePolicy(ctx, &secretsmanager.PutResourcePolicyInput{SecretId: aws.String(name), ResourcePolicy: aws.String(policy)}); err != nil {
		t.Fatal(err)
	}
	got, _, err := h.Read(ctx, id, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got.String("description") != "edited" || got.String("resource_policy") == "" || !got.Bool("has_value") {
		t.Errorf("Read after drift = %v; want the edited description, the policy and a value", got)
	}
	after, err := h.Update(ctx, id, got, desired)
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	want["has_value"] = true
	if d := cmp.Diff(want, after); d != "" {
		t.Errorf("after Update (-want +got):\n%s", d)
	}
	out, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(name)})
	if err != nil || aws.ToString(out.SecretString) != "pw-one" {
		t.Errorf("value after Update = %v, %v; want it unchanged", out, err)
	}
	assertDeletedForGood(t, planner.WithAllowDataLoss(ctx), h, id, nil)
	// Deleted without recovery: the name is free again at once.
	id2, _, err := h.Create(ctx, desired)
	if err != nil {
		t.Fatalf("re-Create after a forced delete: %v", err)
	}
	if err := h.Delete(planner.WithAllowDataLoss(ctx), id2, nil); err != nil {
		t.Fatal(err)
	}
}
