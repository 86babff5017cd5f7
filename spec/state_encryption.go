package spec

import (
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// StateEncryption is the app's `state_encryption` block: state, its change
// log and saved plans are encrypted at rest with Key; Fallbacks hold the
// previous keys, tried when Key does not open what is stored, so a key can
// be rotated (the next write uses Key).
type StateEncryption struct {
	Key       EncryptionKey
	Fallbacks []EncryptionKey
	Range     hcl.Range
}

// EncryptionKey is one key: a passphrase (PBKDF2 → AES-256-GCM) or a KMS
// key (a data key encrypted by KMS).
type EncryptionKey struct {
	Passphrase string // "" when KMSKey is set
	KMSKey     string // key ARN
	Range      hcl.Range
}

var stateEncryptionSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "passphrase"}, {Name: "kms_key"}},
	Blocks:     []hcl.BlockHeaderSchema{{Type: "fallback"}},
}

var fallbackSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "passphrase"}, {Name: "kms_key"}},
}

// minPassphrase is the shortest passphrase accepted: PBKDF2 slows guessing,
// it does not make a short passphrase strong.
const minPassphrase = 16

func (d *decoder) stateEncryption(b *hcl.Block) *StateEncryption {
	c := d.content(b.Body, stateEncryptionSchema)
	se := &StateEncryption{Key: d.encryptionKey(b, c.Attributes), Range: b.DefRange}
	for _, fb := range c.Blocks {
		fc := d.content(fb.Body, fallbackSchema)
		se.Fallbacks = append(se.Fallbacks, d.encryptionKey(fb, fc.Attributes))
	}
	return se
}

func (d *decoder) encryptionKey(b *hcl.Block, a hcl.Attributes) EncryptionKey {
	k := EncryptionKey{Range: b.DefRange}
	pass, kms := a["passphrase"], a["kms_key"]
	switch {
	case pass != nil && kms != nil:
		d.errorf(kms.Range, "Conflicting settings", "A %s block has either a passphrase or a kms_key, not both.", b.Type)
	case pass == nil && kms == nil:
		d.errorf(b.DefRange, "Missing key", "A %s block needs a passphrase (passphrase = var.state_passphrase) or a KMS key (kms_key = \"arn:aws:kms:…\").", b.Type)
	case kms != nil:
		k.KMSKey = d.str(a, "kms_key", "")
		if k.KMSKey != "" && !kmsKeyARNRE.MatchString(k.KMSKey) {
			d.errorf(kms.Expr.Range(), "Invalid kms_key", "kms_key must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>); got %q.", k.KMSKey)
		}
	default:
		// A passphrase is a secret: it may (and should) come from a
		// sensitive variable, and is never shown.
		v, ok := d.secretValue(pass)
		if !ok {
			return k
		}
		if v.IsNull() || !v.IsKnown() || v.Type() != cty.String {
			d.errorf(pass.Expr.Range(), "Invalid passphrase", "The passphrase must be a string, like passphrase = var.state_passphrase (set it with EVDEPLOY_VAR_state_passphrase).")
			return k
		}
		k.Passphrase = v.AsString()
		if len(k.Passphrase) < minPassphrase {
			d.errorf(pass.Expr.Range(), "Passphrase too short", "The state passphrase must be at least %d characters; this one has %d.", minPassphrase, len(k.Passphrase))
		}
	}
	return k
}
