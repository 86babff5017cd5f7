package state

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const secretName = "function.payments-gateway/aws_lambda_function.main"

func sessionWithChanges(t *testing.T, b Backend, n int) {
	t.Helper()
	ctx := context.Background()
	s, err := Open(ctx, b, "vault", "dev")
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		if err := s.Upsert(Resource{Addr: secretName + string(rune('a'+i)), Block: "function.payments-gateway", Type: "aws_lambda_function", ID: "vault-dev-payments-gateway", Attrs: map[string]any{"arn": "arn:aws:lambda:us-east-1:1:function:vault-dev-payments-gateway"}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

// Encrypted local state: the file and the change log hold no name in clear;
// the same key reads them back; a wrong key and no key are refused without
// touching a byte; a fallback opens what the old key wrote and the next
// write uses the new key.
func TestLocalEncryption(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "dev.json")
	oldKey := &Encryption{Primary: Key{Passphrase: "correct horse battery staple"}}
	l := NewLocalPath(path)
	l.Sealer = oldKey
	sessionWithChanges(t, l, 3)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !IsSealed(data) || bytes.Contains(data, []byte("payments-gateway")) || bytes.Contains(data, []byte("vault")) {
		t.Fatalf("state file is not sealed:\n%s", data)
	}

	// A change log written under encryption: each line sealed, replayed.
	l2 := NewLocalPath(path)
	l2.Sealer = &Encryption{Primary: Key{Passphrase: "correct horse battery staple"}}
	doc, err := l2.Read(ctx)
	if err != nil || len(doc.Resources) != 3 {
		t.Fatalf("Read with the key = %v, %v", doc, err)
	}
	if err := l2.Append(ctx, doc.Lineage, doc.Serial+1, []Change{{Remove: secretName + "a"}}); err != nil {
		t.Fatal(err)
	}
	logData, err := os.ReadFile(l2.LogPath())
	if err != nil {
		t.Fatal(err)
	}
	if !IsSealed(logData) || bytes.Contains(logData, []byte("payments-gateway")) {
		t.Fatalf("log line is not sealed:\n%s", logData)
	}
	l3 := NewLocalPath(path)
	l3.Sealer = &Encryption{Primary: Key{Passphrase: "correct horse battery staple"}}
	if doc, err = l3.Read(ctx); err != nil || len(doc.Resources) != 2 {
		t.Fatalf("Read with the log = %v, %v; want 2 resources", doc, err)
	}

	before, _ := os.ReadFile(path)
	beforeLog, _ := os.ReadFile(l2.LogPath())
	for name, s := range map[string]Sealer{"wrong key": &Encryption{Primary: Key{Passphrase: "wrong horse battery staple"}}, "no key": nil} {
		w := NewLocalPath(path)
		w.Sealer = s
		_, err := w.Read(ctx)
		if err == nil || !errors.Is(err, ErrDecrypt) && !errors.Is(err, ErrEncrypted) {
			t.Errorf("%s: Read = %v; want a decryption error", name, err)
		}
		if err := w.Write(ctx, New("vault", "dev")); err == nil {
			t.Errorf("%s: Write over an unreadable state succeeded", name)
		}
		after, _ := os.ReadFile(path)
		afterLog, _ := os.ReadFile(l2.LogPath())
		if !bytes.Equal(before, after) || !bytes.Equal(beforeLog, afterLog) {
			t.Errorf("%s: the state changed", name)
		}
	}
	if _, err := (&Encryption{Primary: Key{Passphrase: "wrong horse battery staple"}}).Open(before); err == nil || !strings.Contains(err.Error(), "wrong key") {
		t.Errorf("wrong key error = %v", err)
	}

	// Rotation: the new key with the old one as a fallback.
	rot := &Encryption{Primary: Key{Passphrase: "new passphrase for 2027"}, Fallbacks: []Key{{Passphrase: "correct horse battery staple"}}}
	r := NewLocalPath(path)
	r.Sealer = rot
	doc, err = r.Read(ctx)
	if err != nil {
		t.Fatalf("Read with the fallback: %v", err)
	}
	doc.Serial++
	if err := r.Write(ctx, doc); err != nil {
		t.Fatal(err)
	}
	n := NewLocalPath(path)
	n.Sealer = &Encryption{Primary: Key{Passphrase: "new passphrase for 2027"}}
	if got, err := n.Read(ctx); err != nil || len(got.Resources) != 2 {
		t.Fatalf("Read with the new key alone = %v, %v", got, err)
	}
}

// A plain state is encrypted by the first write once a key is configured.
func TestLocalEncryptionTurnedOn(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "dev.json")
	sessionWithChanges(t, NewLocalPath(path), 1)
	l := NewLocalPath(path)
	l.Sealer = &Encryption{Primary: Key{Passphrase: "correct horse battery staple"}}
	doc, err := l.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Write(ctx, doc); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(path); !IsSealed(data) {
		t.Errorf("an unchanged plain state stays plain after a write with a key")
	}
}

// The S3 backend through a sealed store: document and change objects are
// sealed; a wrong key cannot read them.
func TestS3Encryption(t *testing.T) {
	ctx := context.Background()
	mem := NewMemoryStore()
	key := &Encryption{Primary: Key{Passphrase: "correct horse battery staple"}}
	sessionWithChanges(t, NewS3(SealStore(mem, key), "b", "vault/dev.json"), 3)
	for k, o := range mem.objects {
		if !IsSealed(o.data) || bytes.Contains(o.data, []byte("payments-gateway")) {
			t.Errorf("object %s is not sealed:\n%s", k, o.data)
		}
	}
	doc, err := NewS3(SealStore(mem, &Encryption{Primary: Key{Passphrase: "correct horse battery staple"}}), "b", "vault/dev.json").Read(ctx)
	if err != nil || len(doc.Resources) != 3 {
		t.Fatalf("Read = %v, %v", doc, err)
	}
	if _, err := NewS3(SealStore(mem, &Encryption{Primary: Key{Passphrase: "wrong horse battery staple"}}), "b", "vault/dev.json").Read(ctx); !errors.Is(err, ErrDecrypt) {
		t.Errorf("Read with a wrong key = %v", err)
	}
}
