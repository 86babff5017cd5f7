package state

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// The S3 backend's change log (issue 25): like Local's log, each batch of
// changes a Session commits is made durable on its own, as one object
// <key>.changes/<serial, 20 digits> written with If-None-Match: * (so of two
// writers of the same step exactly one succeeds), holding the batch as a
// gzip-compressed JSON log entry. The document at <key> is rewritten whole
// only when the Session compacts (the log has grown large enough, see
// LogSize) and when the command ends; the change objects it covers are then
// deleted in the background. A read applies the change objects that continue
// the document (its lineage, serials from its serial + 1, without a gap), so
// a process killed at any point loses no change it recorded, and an apply of
// N resources uploads O(N) bytes instead of rewriting the document per batch.

// Header is implemented by object stores that can read an object's ETag
// without its content (S3's HeadObject). The S3 backend asks, beside each
// change object it writes, whether the document is still the one it
// continues; without it a replaced document is noticed at the next whole
// write (readers are safe either way: see logEntry.Base).
type Header interface {
	Head(ctx context.Context, key string) (etag string, err error)
}

// Lister is implemented by object stores that can list keys by prefix (S3's
// ListObjectsV2). Without it the S3 backend finds change objects by asking
// for the next serial until one is missing.
type Lister interface {
	List(ctx context.Context, prefix string) ([]string, error)
}

const (
	// maxChangeObjects bounds the change objects a reader may have to
	// fetch: LogSize reports the log as full when there are this many.
	maxChangeObjects = 4096
	// fetchers is how many change objects a read fetches at once.
	fetchers = 16
)

func (s *S3) changePrefix() string { return s.key + ".changes/" }

func (s *S3) changeKey(serial uint64) string {
	return fmt.Sprintf("%s%020d", s.changePrefix(), serial)
}

// encodeChange renders a batch as a change object.
func encodeChange(e logEntry) ([]byte, error) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	enc := json.NewEncoder(zw)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(e); err != nil {
		return nil, fmt.Errorf("state: encode change: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func decodeChange(data []byte) (logEntry, error) {
	var e logEntry
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return e, err
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		return e, err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	err = dec.Decode(&e)
	return e, err
}

// Append implements Appender: one change object for the step to serial.
func (s *S3) Append(ctx context.Context, lineage string, serial uint64, changes []Change) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.doc == nil || s.doc.Lineage != lineage || s.etag == "" {
		return fmt.Errorf("state: append to %s: the document was never read or written", s)
	}
	data, err := encodeChange(logEntry{Lineage: lineage, Serial: serial, Changes: changes, Base: s.etag})
	if err != nil {
		return err
	}
	// Is the document still the one this log continues? Asked beside the
	// write, so it costs no round trip.
	headErr := make(chan error, 1)
	if h, ok := s.store.(Header); ok {
		go func() {
			etag, err := h.Head(ctx, s.key)
			if err == nil && etag != s.etag {
				err = fmt.Errorf("%w: %s was replaced by another writer since this run wrote it; re-run the command", ErrConflict, s)
			} else if err != nil {
				err = fmt.Errorf("write state %s: %w", s, err)
			}
			headErr <- err
		}()
	} else {
		headErr <- nil
	}
	key := s.changeKey(serial)
	_, err = s.store.Put(ctx, key, data, PutCondition{IfNoneMatch: "*"})
	if herr := <-headErr; herr != nil {
		s.seen = false // re-read before any further whole write
		return herr
	}
	if errors.Is(err, ErrPreconditionFailed) {
		// An earlier attempt whose answer was lost may have written it:
		// the same bytes are that attempt, anything else another writer.
		if prev, _, gerr := s.store.Get(ctx, key); gerr == nil && bytes.Equal(prev, data) {
			err = nil
		} else {
			return fmt.Errorf("%w: s3://%s/%s was written by another writer; re-run the command", ErrConflict, s.bucket, key)
		}
	}
	if err != nil {
		return fmt.Errorf("write state %s: %w", s, err)
	}
	s.logSize += int64(len(data))
	s.appended = append(s.appended, serial)
	return nil
}

// LogSize implements Appender: half the bytes of the change objects
// (compressed), and the log counts as full once it has maxChangeObjects
// objects. The Session rewrites the document when the log is as large as it,
// so the document is rewritten once the change objects are twice its size:
// with c the change objects' bytes per byte of state (about 1 when every
// change is an object of its own, a third when batched), an apply uploads
// about 1 + c/2 + c times the final document in all.
func (s *S3) LogSize() (log, whole int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	whole = int64(len(s.data))
	log = s.logSize / 2
	if len(s.appended) >= maxChangeObjects {
		log = max(log, whole, 1<<62)
	}
	return log, whole
}

// afterWhole forgets the change objects a whole write of serial covers and
// deletes them in the background (s.mu held). A change object left behind
// (a failed delete, a killed process) is harmless: reads skip serials the
// document already has.
func (s *S3) afterWhole(serial uint64) {
	covered := s.appended
	s.appended, s.logSize = nil, 0
	if len(covered) == 0 {
		return
	}
	keys := make([]string, 0, len(covered))
	for _, n := range covered {
		if n <= serial {
			keys = append(keys, s.changeKey(n))
		}
	}
	s.cleanup.Add(1)
	go func() {
		defer s.cleanup.Done()
		ctx := context.Background()
		work := make(chan string)
		var wg sync.WaitGroup
		for range min(fetchers, len(keys)) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for k := range work {
					_ = s.store.Delete(ctx, k)
				}
			}()
		}
		for _, k := range keys {
			work <- k
		}
		close(work)
		wg.Wait()
	}()
}

// waitCleanup waits for the background deletes of covered change objects
// (Session.Close calls it, so a finished command leaves only the document).
func (s *S3) waitCleanup() { s.cleanup.Wait() }

// replayChanges applies the change objects that continue doc, whose ETag is
// etag.
func (s *S3) replayChanges(ctx context.Context, doc *Document, etag string) error {
	var serials []uint64
	if l, ok := s.store.(Lister); ok {
		keys, err := l.List(ctx, s.changePrefix())
		if err != nil {
			return fmt.Errorf("read state %s: list changes: %w", s, err)
		}
		for _, k := range keys {
			n, err := strconv.ParseUint(strings.TrimPrefix(k, s.changePrefix()), 10, 64)
			if err == nil && n > doc.Serial {
				serials = append(serials, n)
			}
		}
		slices.Sort(serials)
		// Only a run without a gap continues the document.
		for i := range serials {
			if serials[i] != doc.Serial+uint64(i)+1 {
				serials = serials[:i]
				break
			}
		}
	}
	var entries []logEntry
	if serials != nil {
		got := make([]logEntry, len(serials))
		errs := make([]error, len(serials))
		work := make(chan int)
		var wg sync.WaitGroup
		for range min(fetchers, len(serials)) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range work {
					got[i], errs[i] = s.getChange(ctx, serials[i])
				}
			}()
		}
		for i := range serials {
			work <- i
		}
		close(work)
		wg.Wait()
		for i := range serials {
			if errors.Is(errs[i], ErrNotExist) {
				break // deleted after the list: a newer document covers it
			}
			if errs[i] != nil {
				return errs[i]
			}
			if got[i].Base != etag {
				break // made on another document than this one
			}
			entries = append(entries, got[i])
		}
	} else if _, ok := s.store.(Lister); !ok {
		for n := doc.Serial + 1; ; n++ {
			e, err := s.getChange(ctx, n)
			if errors.Is(err, ErrNotExist) {
				break
			}
			if err != nil {
				return err
			}
			if e.Base != etag {
				break
			}
			entries = append(entries, e)
		}
	}
	if len(entries) == 0 {
		return nil
	}
	return replayEntries(s.String(), doc, entries)
}

func (s *S3) getChange(ctx context.Context, serial uint64) (logEntry, error) {
	key := s.changeKey(serial)
	data, _, err := s.store.Get(ctx, key)
	if err != nil {
		if errors.Is(err, ErrNotExist) {
			return logEntry{}, err
		}
		return logEntry{}, fmt.Errorf("read state s3://%s/%s: %w", s.bucket, key, err)
	}
	e, err := decodeChange(data)
	if err != nil {
		return logEntry{}, fmt.Errorf("state s3://%s/%s: %w", s.bucket, key, err)
	}
	return e, nil
}
