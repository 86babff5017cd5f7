package state

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
)

// Encryption at rest. A Sealer turns the bytes of a state document, a change
// log line, an S3 object or a saved plan into an envelope and back; the
// backends and the plan file go through it, so everything written is sealed
// the same way. An envelope is one line of JSON:
//
//	{"evdeploy_encrypted":1,"method":"passphrase","salt":…,"iterations":…,"nonce":…,"ciphertext":…}
//	{"evdeploy_encrypted":1,"method":"kms","kms_key":…,"data_key":…,"nonce":…,"ciphertext":…}
//
// The data is encrypted with AES-256-GCM; the key comes from the passphrase
// through PBKDF2-HMAC-SHA256 (a fresh salt per process), or is a random data
// key that KMS encrypts (kept, encrypted, in the envelope).

// Sealer seals bytes at rest and opens them.
type Sealer interface {
	Seal(plain []byte) ([]byte, error)
	Open(data []byte) ([]byte, error)
}

// ErrDecrypt is wrapped by every failure to open an envelope: a wrong or
// missing key. Nothing is overwritten after it.
var ErrDecrypt = errors.New("cannot decrypt")

// ErrEncrypted is returned when encrypted bytes are read without a key.
var ErrEncrypted = errors.New("the state is encrypted, and no state_encryption key is configured")

// pbkdf2Iterations is OWASP's recommendation for PBKDF2-HMAC-SHA256.
const pbkdf2Iterations = 600_000

type envelope struct {
	Encrypted  int    `json:"evdeploy_encrypted"`
	Method     string `json:"method"`
	Salt       []byte `json:"salt,omitempty"`
	Iterations int    `json:"iterations,omitempty"`
	KMSKey     string `json:"kms_key,omitempty"`
	DataKey    []byte `json:"data_key,omitempty"`
	Nonce      []byte `json:"nonce"`
	Ciphertext []byte `json:"ciphertext"`
}

var envelopePrefix = []byte(`{"evdeploy_encrypted":`)

// IsSealed reports whether data is an envelope.
func IsSealed(data []byte) bool { return bytes.HasPrefix(bytes.TrimSpace(data), envelopePrefix) }

// KMS is the part of AWS KMS a KMS key needs (the command layer supplies it).
type KMS interface {
	Encrypt(ctx context.Context, keyID string, plain []byte) ([]byte, error)
	Decrypt(ctx context.Context, keyID string, blob []byte) ([]byte, error)
}

// Key is one way to get the data key: a passphrase or a KMS key.
type Key struct {
	Passphrase string
	KMSKey     string
	KMS        KMS // for KMSKey
}

func (k Key) method() string {
	if k.KMSKey != "" {
		return "kms"
	}
	return "passphrase"
}

// Encryption seals with Primary and opens with Primary or any Fallback (a
// key being rotated out): the next write seals with Primary.
type Encryption struct {
	Primary   Key
	Fallbacks []Key

	mu sync.Mutex
	// The sealing key of this process: one salt (or one KMS data key) for
	// all it writes, so PBKDF2 or KMS runs once, not per write.
	sealKey  []byte
	sealSalt []byte
	sealBlob []byte
	// opened caches keys derived to open envelopes, by salt or data key.
	opened map[string][]byte
	// fallback: something was opened with a fallback key, so what is
	// stored should be sealed again with the primary one.
	fallback atomic.Bool
}

// NeedsReseal reports whether something read was sealed with a fallback key
// (a key being rotated out): the next write must not be skipped even if the
// content is the same.
func (e *Encryption) NeedsReseal() bool { return e.fallback.Load() }

// needsReseal asks a sealer or a sealed store.
func needsReseal(x any) bool {
	r, ok := x.(interface{ NeedsReseal() bool })
	return ok && r.NeedsReseal()
}

func (e *Encryption) sealingKey() ([]byte, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.sealKey != nil {
		return e.sealKey, nil
	}
	switch e.Primary.method() {
	case "kms":
		dk := make([]byte, 32)
		_, _ = rand.Read(dk)
		blob, err := e.Primary.KMS.Encrypt(context.Background(), e.Primary.KMSKey, dk)
		if err != nil {
			return nil, fmt.Errorf("state encryption: KMS Encrypt with %s: %w", e.Primary.KMSKey, err)
		}
		e.sealKey, e.sealBlob = dk, blob
	default:
		salt := make([]byte, 16)
		_, _ = rand.Read(salt)
		k, err := pbkdf2.Key(sha256.New, e.Primary.Passphrase, salt, pbkdf2Iterations, 32)
		if err != nil {
			return nil, err
		}
		e.sealKey, e.sealSalt = k, salt
	}
	return e.sealKey, nil
}

// Seal encrypts plain into an envelope (one line, no newline).
func (e *Encryption) Seal(plain []byte) ([]byte, error) {
	key, err := e.sealingKey()
	if err != nil {
		return nil, err
	}
	gcm, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, gcm.NonceSize())
	_, _ = rand.Read(nonce)
	env := envelope{Encrypted: 1, Method: e.Primary.method(), Nonce: nonce}
	if env.Method == "kms" {
		env.KMSKey, env.DataKey = e.Primary.KMSKey, e.sealBlob
	} else {
		env.Salt, env.Iterations = e.sealSalt, pbkdf2Iterations
	}
	env.Ciphertext = gcm.Seal(nil, nonce, plain, envelopePrefix)
	return json.Marshal(env)
}

// Open decrypts an envelope with the primary key or a fallback. Bytes that
// are not an envelope (state written before encryption was turned on) are
// returned as they are: the next write encrypts them.
func (e *Encryption) Open(data []byte) ([]byte, error) {
	if !IsSealed(data) {
		return data, nil
	}
	var env envelope
	if err := json.Unmarshal(bytes.TrimSpace(data), &env); err != nil {
		return nil, fmt.Errorf("%w: the encrypted envelope is damaged: %v", ErrDecrypt, err)
	}
	var tried []string
	for i, k := range append([]Key{e.Primary}, e.Fallbacks...) {
		if k.method() != env.Method || k.KMSKey != "" && env.KMSKey != k.KMSKey {
			continue
		}
		key, err := e.openingKey(k, &env)
		if err != nil {
			return nil, err
		}
		gcm, err := newGCM(key)
		if err != nil {
			return nil, err
		}
		plain, err := gcm.Open(nil, env.Nonce, env.Ciphertext, envelopePrefix)
		if err == nil {
			if i > 0 {
				e.fallback.Store(true)
			}
			return plain, nil
		}
		tried = append(tried, describeKey(k))
	}
	if len(tried) == 0 {
		what := "a passphrase"
		if env.Method == "kms" {
			what = "the KMS key " + env.KMSKey
		}
		return nil, fmt.Errorf("%w: it was encrypted with %s, and state_encryption has no such key (add it as the key or a fallback)", ErrDecrypt, what)
	}
	return nil, fmt.Errorf("%w: wrong key (tried %s); set the key it was written with, or keep it as a fallback while rotating", ErrDecrypt, strings.Join(tried, ", "))
}

func describeKey(k Key) string {
	if k.KMSKey != "" {
		return "kms_key " + k.KMSKey
	}
	return "a passphrase"
}

func (e *Encryption) openingKey(k Key, env *envelope) ([]byte, error) {
	id := string(env.Salt) + "\x00" + string(env.DataKey) + "\x00" + k.Passphrase
	e.mu.Lock()
	if key, ok := e.opened[id]; ok {
		e.mu.Unlock()
		return key, nil
	}
	e.mu.Unlock()
	var key []byte
	var err error
	if env.Method == "kms" {
		if key, err = k.KMS.Decrypt(context.Background(), k.KMSKey, env.DataKey); err != nil {
			return nil, fmt.Errorf("%w: KMS Decrypt with %s: %v", ErrDecrypt, k.KMSKey, err)
		}
	} else {
		iter := env.Iterations
		if iter <= 0 {
			iter = pbkdf2Iterations
		}
		if key, err = pbkdf2.Key(sha256.New, k.Passphrase, env.Salt, iter, 32); err != nil {
			return nil, err
		}
	}
	e.mu.Lock()
	if e.opened == nil {
		e.opened = map[string][]byte{}
	}
	e.opened[id] = key
	e.mu.Unlock()
	return key, nil
}

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// openBytes opens data with s; without s, an envelope is an error.
func openBytes(s Sealer, data []byte) ([]byte, error) {
	if s == nil {
		if IsSealed(data) {
			return nil, ErrEncrypted
		}
		return data, nil
	}
	return s.Open(data)
}

// SealStore wraps an ObjectStore so every object is sealed on Put and opened
// on Get: the S3 backend's document, change objects and lock. The wrapper
// keeps the store's optional Header and Lister.
func SealStore(inner ObjectStore, s Sealer) ObjectStore {
	base := &sealedStore{inner: inner, sealer: s}
	h, isH := inner.(Header)
	l, isL := inner.(Lister)
	switch {
	case isH && isL:
		return struct {
			*sealedStore
			Header
			Lister
		}{base, h, l}
	case isH:
		return struct {
			*sealedStore
			Header
		}{base, h}
	case isL:
		return struct {
			*sealedStore
			Lister
		}{base, l}
	}
	return base
}

type sealedStore struct {
	inner  ObjectStore
	sealer Sealer
}

func (s *sealedStore) Get(ctx context.Context, key string) ([]byte, string, error) {
	data, etag, err := s.inner.Get(ctx, key)
	if err != nil {
		return nil, "", err
	}
	plain, err := openBytes(s.sealer, data)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", key, err)
	}
	return plain, etag, nil
}

func (s *sealedStore) Put(ctx context.Context, key string, data []byte, cond PutCondition) (string, error) {
	sealed, err := s.sealer.Seal(data)
	if err != nil {
		return "", err
	}
	return s.inner.Put(ctx, key, sealed, cond)
}

func (s *sealedStore) Delete(ctx context.Context, key string) error { return s.inner.Delete(ctx, key) }

// NeedsReseal: see Encryption.NeedsReseal.
func (s *sealedStore) NeedsReseal() bool { return needsReseal(s.sealer) }

// NeedsReseal reports whether the backend read something sealed with a
// fallback key, so the caller should write the state again (same content)
// to seal it with the primary key.
func NeedsReseal(b Backend) bool {
	switch x := b.(type) {
	case *Local:
		return needsReseal(x.Sealer)
	case *S3:
		return needsReseal(x.store)
	}
	return false
}
