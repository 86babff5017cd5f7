package planner

import (
	"fmt"
	"strings"

	"github.com/evdeploy/evdeploy/spec"
)

// Secret resource types: the container of a `secret` block's value. The value
// itself is never an attribute: evdeploy neither writes it on apply nor reads
// it on refresh (`evdeploy secret set` writes it).
const (
	TypeSSMParameter = "aws_ssm_parameter"
	TypeSecret       = "aws_secretsmanager_secret"
)

// secretCapabilities are what `uses = [secret.x.read]` grants, per store.
var secretReadActions = map[string][]string{
	spec.StoreSSM:            {"ssm:GetParameter"},
	spec.StoreSecretsManager: {"secretsmanager:GetSecretValue"},
}

// secret lowers a secret block: a SecureString parameter or a Secrets
// Manager secret, tagged as evdeploy's; an `existing` one lowers to nothing
// (evdeploy only reads it).
func (l *lowering) secret(s *spec.Secret) {
	if s.Existing != "" {
		l.blockAttrs[s.Addr] = map[string]any{"arn": s.Existing, "name": spec.ExistingName(s.Existing)}
		return
	}
	name := spec.SecretName(s.Store, l.app.Name, l.app.Stage, s.Addr.Name)
	attrs := Attrs{
		"name":        name,
		"description": s.Description,
		"kms_key_id":  s.KMSKey,
		"tags":        l.tags(s.Addr, s.Tags),
	}
	switch s.Store {
	case spec.StoreSSM:
		attrs["type"] = "SecureString"
		l.add(s.Addr, TypeSSMParameter, "main", attrs, name, name)
		// Parameter ARNs derive from region, account and path.
		l.blockAttrs[s.Addr] = map[string]any{"name": name, "arn": l.arn("ssm", "parameter"+name)}
	default:
		// Only evdeploy's statements may be in the secret's resource policy:
		// one added by hand is drift, removed on apply.
		attrs["resource_policy"] = ""
		addr := l.add(s.Addr, TypeSecret, "main", attrs, name, name)
		// Secrets Manager appends 6 random characters to the ARN.
		l.blockAttrs[s.Addr] = map[string]any{"name": name, "arn": Ref{Resource: addr, Attr: "arn"}}
	}
}

// secretStatements are the statements `uses = [secret.x.read]` grants: the
// store's read action on exactly that ARN, and kms:Decrypt on the secret's
// own key, only through that store.
func (l *lowering) secretStatements(sid string, c spec.Capability) []iamStatement {
	s := l.secretBlock(c.Target)
	if s == nil {
		return nil
	}
	arn := l.blockAttrs[c.Target]["arn"]
	out := []iamStatement{{Sid: sid, Effect: "Allow", Actions: secretReadActions[s.Store], Resources: []any{arn}}}
	if s.KMSKey != "" {
		service := "ssm"
		if s.Store == spec.StoreSecretsManager {
			service = "secretsmanager"
		}
		out = append(out, iamStatement{
			Sid: sid + "Kms", Effect: "Allow", Actions: []string{"kms:Decrypt"}, Resources: []any{s.KMSKey},
			Condition: map[string]any{"StringEquals": map[string]any{"kms:ViaService": fmt.Sprintf("%s.%s.amazonaws.com", service, l.opts.Region)}},
		})
	}
	return out
}

func (l *lowering) secretBlock(a spec.Addr) *spec.Secret {
	for _, s := range l.app.Secrets {
		if s.Addr == a {
			return s
		}
	}
	return nil
}

// SecretNoValueWarning is what plan and apply say about a secret whose
// container has no value yet.
func SecretNoValueWarning(block, name string) string {
	return fmt.Sprintf("%s has no value yet; run evdeploy secret set %s", block, strings.TrimPrefix(name, "secret."))
}
