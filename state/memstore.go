package state

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// MemoryStore is an ObjectStore in memory with S3's conditional-write
// semantics (the providers/aws tests hold the S3 implementation to the same
// behaviour). It backs tests of code that takes a Backend: NewS3(NewMemoryStore(), "mem", "state.json").
type MemoryStore struct {
	mu      sync.Mutex
	objects map[string]memObject
}

type memObject struct {
	data []byte
	etag string
}

func NewMemoryStore() *MemoryStore { return &MemoryStore{objects: map[string]memObject{}} }

func (m *MemoryStore) Get(ctx context.Context, key string) ([]byte, string, error) {
	if err := ctx.Err(); err != nil {
		return nil, "", err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	o, ok := m.objects[key]
	if !ok {
		return nil, "", fmt.Errorf("get %s: %w", key, ErrNotExist)
	}
	return slices.Clone(o.data), o.etag, nil
}

func (m *MemoryStore) Put(ctx context.Context, key string, data []byte, cond PutCondition) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	o, exists := m.objects[key]
	switch {
	case cond.IfNoneMatch == "*" && exists:
		return "", fmt.Errorf("put %s: %w", key, ErrPreconditionFailed)
	case cond.IfMatch != "" && !exists:
		return "", fmt.Errorf("put %s: %w", key, ErrNotExist)
	case cond.IfMatch != "" && cond.IfMatch != o.etag:
		return "", fmt.Errorf("put %s: %w", key, ErrPreconditionFailed)
	}
	// S3's ETag of a single-part upload is the quoted MD5 of the content.
	sum := md5.Sum(data)
	etag := `"` + hex.EncodeToString(sum[:]) + `"`
	m.objects[key] = memObject{data: slices.Clone(data), etag: etag}
	return etag, nil
}

func (m *MemoryStore) Delete(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.objects, key)
	return nil
}

// List implements Lister: the keys with prefix, in order.
func (m *MemoryStore) List(ctx context.Context, prefix string) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var keys []string
	for k := range m.objects {
		if strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys, nil
}

// Head implements Header.
func (m *MemoryStore) Head(ctx context.Context, key string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	o, ok := m.objects[key]
	if !ok {
		return "", fmt.Errorf("head %s: %w", key, ErrNotExist)
	}
	return o.etag, nil
}
