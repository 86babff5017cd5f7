package main

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/evdeploy/evdeploy/spec"
	"github.com/evdeploy/evdeploy/state"
)

// stateSealer is the app's state_encryption as a state.Sealer; nil when the
// app has none (state in clear). KMS keys are used through cfg's endpoint.
func stateSealer(app *spec.App, cfg aws.Config) state.Sealer {
	se := app.StateEncryption
	if se == nil {
		return nil
	}
	var k *kmsClient
	key := func(e spec.EncryptionKey) state.Key {
		if e.KMSKey == "" {
			return state.Key{Passphrase: e.Passphrase}
		}
		if k == nil {
			k = &kmsClient{api: kms.NewFromConfig(cfg)}
		}
		return state.Key{KMSKey: e.KMSKey, KMS: k}
	}
	enc := &state.Encryption{Primary: key(se.Key)}
	for _, fb := range se.Fallbacks {
		enc.Fallbacks = append(enc.Fallbacks, key(fb))
	}
	return enc
}

// sealBackend encrypts a backend's bytes at rest with the app's key.
func sealBackend(b state.Backend, s state.Sealer) state.Backend {
	if s == nil {
		return b
	}
	if l, ok := b.(*state.Local); ok {
		l.Sealer = s
	}
	return b
}

// kmsClient encrypts and decrypts a state data key with KMS.
type kmsClient struct{ api *kms.Client }

func (c *kmsClient) Encrypt(ctx context.Context, keyID string, plain []byte) ([]byte, error) {
	out, err := c.api.Encrypt(ctx, &kms.EncryptInput{KeyId: aws.String(keyID), Plaintext: plain,
		EncryptionContext: map[string]string{"evdeploy": "state"}})
	if err != nil {
		return nil, err
	}
	return out.CiphertextBlob, nil
}

func (c *kmsClient) Decrypt(ctx context.Context, keyID string, blob []byte) ([]byte, error) {
	out, err := c.api.Decrypt(ctx, &kms.DecryptInput{KeyId: aws.String(keyID), CiphertextBlob: blob,
		EncryptionContext: map[string]string{"evdeploy": "state"}})
	if err != nil {
		return nil, err
	}
	if len(out.Plaintext) != 32 {
		return nil, fmt.Errorf("KMS returned a %d-byte data key, want 32", len(out.Plaintext))
	}
	return out.Plaintext, nil
}

func usesKMS(se *spec.StateEncryption) bool {
	for _, k := range append([]spec.EncryptionKey{se.Key}, se.Fallbacks...) {
		if k.KMSKey != "" {
			return true
		}
	}
	return false
}
