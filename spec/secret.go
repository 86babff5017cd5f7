package spec

import (
	"regexp"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// KindSecret is the `secret` block: a value kept in SSM Parameter Store or
// Secrets Manager, never in the spec, the state or a plan.
const KindSecret = "secret"

// Secret stores.
const (
	StoreSSM            = "ssm"
	StoreSecretsManager = "secretsmanager"
)

// Secret is a `secret` block. evdeploy makes the container (an SSM
// SecureString parameter or a Secrets Manager secret) unless Existing names
// one made elsewhere; its value is written only by `evdeploy secret set`.
type Secret struct {
	Addr        Addr
	DeclRange   hcl.Range
	Store       string // StoreSSM (default) or StoreSecretsManager
	Description string
	// Existing is the ARN of a parameter or secret evdeploy reads but never
	// writes or deletes; "" when evdeploy makes the container.
	Existing string
	// KMSKey is the ARN of a customer managed KMS key that encrypts the
	// value; "" for the store's AWS managed key.
	KMSKey string
	Tags   map[string]string
}

var secretSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "store"}, {Name: "description"}, {Name: "existing"}, {Name: "kms_key"}, {Name: "tags"},
		// Accepted only to refuse it with a message that says what to do.
		{Name: "value"},
	},
}

var (
	ssmParamARNRE = regexp.MustCompile(`^arn:aws[a-z-]*:ssm:[a-z0-9-]+:\d{12}:parameter/.+$`)
	smSecretARNRE = regexp.MustCompile(`^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+$`)
	kmsKeyARNRE   = regexp.MustCompile(`^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/.+$`)
)

func (d *decoder) secret(addr Addr, b *hcl.Block) *Secret {
	c := d.content(b.Body, secretSchema)
	a := c.Attributes
	if v := a["value"]; v != nil {
		d.errorf(v.Range, "A secret's value cannot be written in the spec",
			"The value of %s would then sit in clear in the project's files, in state and in plans. Remove \"value\" and set it with `evdeploy secret set %s` (it reads the value from stdin or --from-file).", addr, addr.Name)
	}
	s := &Secret{
		Addr:        addr,
		DeclRange:   b.DefRange,
		Store:       d.enum(a, "store", "", []string{StoreSSM, StoreSecretsManager}),
		Description: d.str(a, "description", ""),
		Existing:    d.str(a, "existing", ""),
		KMSKey:      d.str(a, "kms_key", ""),
		Tags:        d.tags(a),
	}
	if attr := a["kms_key"]; attr != nil && s.KMSKey != "" && !kmsKeyARNRE.MatchString(s.KMSKey) {
		d.errorf(attr.Expr.Range(), "Invalid kms_key", "kms_key must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>); got %q.", s.KMSKey)
	}
	if attr := a["existing"]; attr != nil {
		store := ""
		switch {
		case ssmParamARNRE.MatchString(s.Existing):
			store = StoreSSM
		case smSecretARNRE.MatchString(s.Existing):
			store = StoreSecretsManager
		default:
			d.errorf(attr.Expr.Range(), "Invalid existing secret",
				"existing must be the ARN of an SSM parameter (arn:aws:ssm:<region>:<account>:parameter/<name>) or a Secrets Manager secret (arn:aws:secretsmanager:<region>:<account>:secret:<name>); got %q.", s.Existing)
		}
		if s.Store != "" && store != "" && s.Store != store {
			d.errorf(a["store"].Expr.Range(), "Conflicting settings", "store = %q, but the existing ARN is a %s one; remove store.", s.Store, store)
		}
		if store != "" {
			s.Store = store
		}
		for _, n := range []string{"description", "kms_key", "tags"} {
			if x := a[n]; x != nil {
				d.errorf(x.Range, "Conflicting settings", "%s is made elsewhere: evdeploy never changes it, so %q has no effect. Remove it.", addr, n)
			}
		}
	}
	if s.Store == "" {
		s.Store = StoreSSM
	}
	return s
}

// SecretName is the secret's physical name for app and stage: an SSM
// parameter path (/app/stage/name) or a Secrets Manager name (app/stage/name).
func SecretName(store, app, stage, name string) string {
	n := app + "/" + stage + "/" + name
	if store == StoreSSM {
		return "/" + n
	}
	return n
}

// ExistingName is the name an existing secret's ARN carries: the parameter
// path, or the secret's name without Secrets Manager's random suffix.
func ExistingName(arn string) string {
	if i := strings.Index(arn, ":parameter"); i >= 0 {
		n := arn[i+len(":parameter"):]
		if !strings.HasPrefix(n, "/") {
			return n
		}
		// arn:…:parameter/a/b names /a/b; arn:…:parameter/x names x.
		if strings.Count(n, "/") == 1 {
			return n[1:]
		}
		return n
	}
	if i := strings.Index(arn, ":secret:"); i >= 0 {
		n := arn[i+len(":secret:"):]
		// Secrets Manager appends -XXXXXX (6 random characters).
		if j := strings.LastIndex(n, "-"); j >= 0 && len(n)-j == 7 {
			return n[:j]
		}
		return n
	}
	return arn
}
