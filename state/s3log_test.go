package state

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// countingStore counts the bytes of every Put.
type countingStore struct {
	*MemoryStore
	put atomic.Int64
}

func (c *countingStore) Put(ctx context.Context, key string, data []byte, cond PutCondition) (string, error) {
	c.put.Add(int64(len(data)))
	return c.MemoryStore.Put(ctx, key, data, cond)
}

// probeStore hides List, so the backend probes serials.
type probeStore struct{ ObjectStore }

// applyLike records n resources the way apply does (an intent, then the
// resource, which resolves it), from workers goroutines at once so the
// session batches them.
func applyLike(t *testing.T, s *Session, n, workers int) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	next := atomic.Int64{}
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				addr := fmt.Sprintf("function.w%d/aws_lambda_function.main", i)
				attrs := map[string]any{
					"function_name": fmt.Sprintf("bench-dev-w%d", i), "runtime": "python3.12", "handler": "main.handler",
					"role":        fmt.Sprintf("arn:aws:iam::000000000000:role/bench-dev-w%d-role", i),
					"memory_size": int64(128), "timeout": int64(30), "environment": map[string]any{"TABLE": "bench-dev-items"},
					"code_sha256": "6b2c8e4f1d9a0b3c5e7f9a1b3c5d7e9f0a2b4c6d8e0f1a3b5c7d9e1f3a5b7c9d",
					"tags":        map[string]any{"evdeploy:app": "bench", "evdeploy:stage": "dev", "evdeploy:block": fmt.Sprintf("function.w%d", i)},
				}
				if err := s.AddIntent(Intent{Addr: addr, Type: "aws_lambda_function", Name: fmt.Sprintf("bench-dev-w%d", i), Attrs: attrs}); err != nil {
					errs <- err
					return
				}
				attrs["arn"] = fmt.Sprintf("arn:aws:lambda:us-east-1:000000000000:function:bench-dev-w%d", i)
				if err := s.Upsert(Resource{Addr: addr, Block: fmt.Sprintf("function.w%d", i), Type: "aws_lambda_function",
					ID: fmt.Sprintf("bench-dev-w%d", i), Attrs: attrs, Deps: []string{"table.items/aws_dynamodb_table.main"}}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// TestS3ChangeLogBytes: recording n resources uploads a bounded multiple of
// the final document (change objects, not the document per batch), and the
// state read back equals the local backend's for the same changes. The bound
// (LogSize): the final write, the compactions before it (a geometric series,
// at most 1 + c/2 times the last), and the change objects (c times the final
// state; c ≈ 1 when every change is an object of its own, as with one
// worker, ≈ 1/3 when apply's parallel operations are batched): ≤ 3× batched,
// ≤ 3.5× one change at a time.
func TestS3ChangeLogBytes(t *testing.T) {
	ctx := t.Context()
	for _, tt := range []struct {
		workers int
		bound   float64
	}{{1, 3.5}, {10, 3}} {
		workers := tt.workers
		t.Run(fmt.Sprintf("workers=%d", workers), func(t *testing.T) {
			store := &countingStore{MemoryStore: NewMemoryStore()}
			s, err := Open(ctx, NewS3(store, "b", "app/dev.json"), "bench", "dev")
			if err != nil {
				t.Fatal(err)
			}
			const n = 600
			applyLike(t, s, n, workers)
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			final, _, err := store.Get(ctx, "app/dev.json")
			if err != nil {
				t.Fatal(err)
			}
			if ratio := float64(store.put.Load()) / float64(len(final)); ratio > tt.bound {
				t.Errorf("uploaded %d bytes for a %d-byte state: %.2f×, want ≤ %v×", store.put.Load(), len(final), ratio, tt.bound)
			} else {
				t.Logf("uploaded %d bytes for a %d-byte state: %.2f×", store.put.Load(), len(final), ratio)
			}
			left, _ := store.List(ctx, "app/dev.json.changes/")
			if len(left) != 0 {
				t.Errorf("%d change objects left after Close", len(left))
			}

			// The same changes through the local backend.
			l := NewLocal(t.TempDir(), "dev")
			ls, err := Open(ctx, l, "bench", "dev")
			if err != nil {
				t.Fatal(err)
			}
			applyLike(t, ls, n, 1)
			if err := ls.Close(); err != nil {
				t.Fatal(err)
			}
			want, err := l.Read(ctx)
			if err != nil {
				t.Fatal(err)
			}
			got, err := NewS3(store, "b", "app/dev.json").Read(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want.Resources, got.Resources); diff != "" || len(got.Journal) != 0 {
				t.Errorf("S3 state differs from local (-local +s3):\n%s\njournal %v", diff, got.Journal)
			}
		})
	}
}

// TestS3ChangeLogKill: a session that never closes (a killed process) loses
// nothing: a reader replays the change objects, with List or by probing.
func TestS3ChangeLogKill(t *testing.T) {
	ctx := t.Context()
	store := NewMemoryStore()
	s, err := Open(ctx, NewS3(store, "b", "k.json"), "bench", "dev")
	if err != nil {
		t.Fatal(err)
	}
	applyLike(t, s, 40, 4)
	// And an intent not yet resolved: a create in flight when killed.
	if err := s.AddIntent(Intent{Addr: "queue.q/aws_sqs_queue.main", Type: "aws_sqs_queue", Name: "q"}); err != nil {
		t.Fatal(err)
	}
	keys, _ := store.List(ctx, "k.json.changes/")
	if len(keys) == 0 {
		t.Fatal("no change objects: every batch rewrote the document")
	}
	want := s.Doc()
	for name, st := range map[string]ObjectStore{"list": store, "probe": probeStore{store}} {
		got, err := NewS3(st, "b", "k.json").Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: read after a kill (-session +read):\n%s", name, diff)
		}
	}
	// The next run continues from what it read, then compacts.
	b := NewS3(store, "b", "k.json")
	s2, err := Open(ctx, b, "bench", "dev")
	if err != nil {
		t.Fatal(err)
	}
	if err := s2.ResolveIntent("queue.q/aws_sqs_queue.main"); err != nil {
		t.Fatal(err)
	}
	if err := s2.Close(); err != nil {
		t.Fatal(err)
	}
	got, err := NewS3(store, "b", "k.json").Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Journal) != 0 || len(got.Resources) != 40 || got.Serial <= want.Serial {
		t.Errorf("after the next run: %d resources, journal %v, serial %d (was %d)", len(got.Resources), got.Journal, got.Serial, want.Serial)
	}
}

// TestS3ChangeLogConflict: a change object of the same serial written by
// someone else is a conflict, never overwritten.
func TestS3ChangeLogConflict(t *testing.T) {
	ctx := t.Context()
	store := NewMemoryStore()
	b := NewS3(store, "b", "c.json")
	s, err := Open(ctx, b, "bench", "dev")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Remove("x"); err != nil { // nothing to remove: no write
		t.Fatal(err)
	}
	if err := s.ResolveIntent("x"); err != nil {
		t.Fatal(err)
	}
	if err := s.AddIntent(Intent{Addr: "a/t", Type: "t"}); err != nil { // serial 1: whole
		t.Fatal(err)
	}
	doc := s.Doc()
	if _, err := store.Put(ctx, b.changeKey(doc.Serial+1), []byte("someone else's"), PutCondition{}); err != nil {
		t.Fatal(err)
	}
	err = s.AddIntent(Intent{Addr: "b/t", Type: "t"})
	if !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "another writer") {
		t.Errorf("append over another writer's change: %v, want a conflict", err)
	}
}
