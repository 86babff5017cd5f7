package state

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"
)

// ObjectStore is the narrow view of an S3 bucket the S3 backend needs; the
// AWS implementation lives in providers/aws (this package does not import the
// AWS SDK), and MemoryStore implements it in memory.
type ObjectStore interface {
	// Get returns the object and its ETag, or an error matching ErrNotExist.
	Get(ctx context.Context, key string) (data []byte, etag string, err error)
	// Put stores the object if cond holds and returns the new ETag; a
	// condition that does not hold gives an error matching
	// ErrPreconditionFailed (an If-Match on an absent object may instead give
	// ErrNotExist, as S3 does).
	Put(ctx context.Context, key string, data []byte, cond PutCondition) (etag string, err error)
	// Delete removes the object; deleting an absent object is not an error.
	Delete(ctx context.Context, key string) error
}

// PutCondition is an S3 conditional write. The zero value is unconditional.
type PutCondition struct {
	// IfNoneMatch "*" writes only if the object does not exist.
	IfNoneMatch string
	// IfMatch writes only if the object's current ETag is this one.
	IfMatch string
}

// Errors an ObjectStore returns (wrapped is fine: they are matched with errors.Is).
var (
	ErrNotExist           = errors.New("object does not exist")
	ErrPreconditionFailed = errors.New("precondition failed")
)

// S3 stores the document in an object and the lock in the object key+".lock".
// The lock is created with If-None-Match: * (S3 conditional writes), so of
// two runs exactly one gets it; the document is written with If-Match on the
// ETag this backend last saw, so a write from anyone else in between (a run
// that ignored or force-removed the lock) is detected instead of lost.
type S3 struct {
	store       ObjectStore
	bucket, key string

	// PollInterval is how often a waiting Lock retries (default 200ms).
	PollInterval time.Duration

	mu   sync.Mutex
	seen bool      // etag/doc below describe the object as this backend last saw it
	etag string    // "" when the object did not exist
	doc  *Document // at least the header (see header)
	data []byte

	// The change log (s3log.go): bytes and serials of the change objects
	// written since the last whole write, and their background deletes.
	logSize  int64
	appended []uint64
	cleanup  sync.WaitGroup
}

// NewS3 stores the state at s3://bucket/key through store (which is bound to bucket).
func NewS3(store ObjectStore, bucket, key string) *S3 {
	return &S3{store: store, bucket: bucket, key: key}
}

func (s *S3) String() string { return "s3://" + s.bucket + "/" + s.key }

func (s *S3) lockKey() string { return s.key + ".lock" }

func (s *S3) Read(ctx context.Context) (*Document, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.fetch(ctx); err != nil {
		return nil, err
	}
	if s.doc == nil {
		return nil, nil
	}
	doc, err := s.doc.clone()
	if err != nil {
		return nil, err
	}
	if err := s.replayChanges(ctx, doc, s.etag); err != nil {
		return nil, err
	}
	if doc.Serial != s.doc.Serial {
		// The log continues the document: later writes follow it.
		s.doc = header(doc)
	}
	return doc, nil
}

// fetch reads the object and remembers its ETag for the next conditional write.
func (s *S3) fetch(ctx context.Context) error {
	data, etag, err := s.store.Get(ctx, s.key)
	if errors.Is(err, ErrNotExist) {
		s.seen, s.etag, s.doc, s.data = true, "", nil, nil
		return nil
	}
	if err != nil {
		return fmt.Errorf("read state %s: %w", s, err)
	}
	doc, err := Decode(data)
	if err != nil {
		s.seen = false
		return fmt.Errorf("%s: %w", s, err)
	}
	s.seen, s.etag, s.doc, s.data = true, etag, doc, data
	return nil
}

func (s *S3) Write(ctx context.Context, d *Document) error {
	data, err := Encode(d)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.seen {
		if err := s.fetch(ctx); err != nil {
			return fmt.Errorf("refusing to overwrite the existing state: %w", err)
		}
	}
	if err := checkSuccessor(s.String(), s.doc, d, s.data, data); err != nil {
		return err
	}
	if s.doc != nil && bytes.Equal(s.data, data) && !needsReseal(s.store) {
		return nil
	}
	cond := PutCondition{IfNoneMatch: "*"}
	if s.etag != "" {
		cond = PutCondition{IfMatch: s.etag}
	}
	etag, err := s.store.Put(ctx, s.key, data, cond)
	if errors.Is(err, ErrPreconditionFailed) || (cond.IfMatch != "" && errors.Is(err, ErrNotExist)) {
		s.seen = false // re-read before any further attempt
		return fmt.Errorf("%w: %s was changed by another writer since this run read it; re-run the command", ErrConflict, s)
	}
	if err != nil {
		return fmt.Errorf("write state %s: %w", s, err)
	}
	s.etag, s.doc, s.data = etag, header(d), data
	s.afterWhole(d.Serial)
	return nil
}

// Lock creates key.lock with If-None-Match: *. A lock object is never judged
// stale automatically (its process may run on another machine); a lock left
// by a killed run is removed with ForceUnlock.
func (s *S3) Lock(ctx context.Context, info LockInfo, timeout time.Duration) (func() error, error) {
	info.fill()
	data, err := json.MarshalIndent(info, "", "  ")
	if err != nil {
		return nil, err
	}
	poll := s.PollInterval
	if poll <= 0 {
		poll = defaultPollInterval
	}
	lockURL := "s3://" + s.bucket + "/" + s.lockKey()
	return waitLock(ctx, timeout, poll, func() (func() error, error) {
		for attempt := 0; ; attempt++ {
			_, err := s.store.Put(ctx, s.lockKey(), data, PutCondition{IfNoneMatch: "*"})
			if err == nil {
				return s.unlockFunc(info.ID), nil
			}
			if !errors.Is(err, ErrPreconditionFailed) {
				return nil, fmt.Errorf("lock state %s: %w", s, err)
			}
			raw, _, err := s.store.Get(ctx, s.lockKey())
			if errors.Is(err, ErrNotExist) && attempt < 10 {
				continue // released between our put and our get
			}
			if err != nil {
				return nil, fmt.Errorf("lock state %s: read lock: %w", s, err)
			}
			holder, err := decodeLock(raw)
			if err != nil {
				return nil, &LockedError{Backend: s.String(), LockPath: lockURL, Unreadable: err}
			}
			return nil, &LockedError{Backend: s.String(), Holder: holder}
		}
	})
}

// removeLock deletes the lock object if it still names id. The read and the
// delete are two requests; the window between them only matters if someone
// force-unlocks and re-locks within it.
func (s *S3) removeLock(ctx context.Context, id string) (LockInfo, bool, error) {
	raw, _, err := s.store.Get(ctx, s.lockKey())
	if errors.Is(err, ErrNotExist) {
		return LockInfo{}, false, nil
	}
	if err != nil {
		return LockInfo{}, false, err
	}
	holder, err := decodeLock(raw)
	if err != nil {
		return LockInfo{}, false, err
	}
	if holder.ID != id {
		return holder, false, nil
	}
	return holder, true, s.store.Delete(ctx, s.lockKey())
}

func (s *S3) unlockFunc(id string) func() error {
	var once sync.Once
	var err error
	return func() error {
		once.Do(func() {
			// Unlock runs on the way out, often after ctx was cancelled
			// (Ctrl-C): it must still release the lock.
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			var removed bool
			if _, removed, err = s.removeLock(ctx, id); err == nil && !removed {
				err = fmt.Errorf("unlock state %s: the lock was no longer ours (it was force-unlocked)", s)
			}
			if err != nil && !removed {
				err = fmt.Errorf("unlock state %s: %w", s, err)
			}
		})
		return err
	}
}

// ForceUnlock deletes the lock object if its ID is id.
func (s *S3) ForceUnlock(ctx context.Context, id string) error {
	holder, removed, err := s.removeLock(ctx, id)
	switch {
	case err != nil:
		return fmt.Errorf("force-unlock %s: %w", s, err)
	case removed:
		return nil
	case holder.ID == "":
		return fmt.Errorf("state %s is not locked", s)
	}
	return fmt.Errorf("force-unlock %s: the lock has ID %s (held by %s, pid %d, since %s), not %s",
		s, holder.ID, holder.Who, holder.PID, holder.Created.UTC().Format(time.RFC3339), id)
}
