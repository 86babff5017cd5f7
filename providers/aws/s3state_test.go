package aws

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/google/go-cmp/cmp"

	"github.com/evdeploy/evdeploy/state"
)

// newStateBucket creates a bucket in the emulator for one test.
func newStateBucket(t *testing.T) string {
	t.Helper()
	client := s3.NewFromConfig(testConfig(t), func(o *s3.Options) { o.UsePathStyle = true })
	bucket := uniqueName("evd-state")
	if _, err := client.CreateBucket(testContext(t), &s3.CreateBucketInput{Bucket: &bucket}); err != nil {
		t.Fatalf("CreateBucket: %v", err)
	}
	return bucket
}

// TestS3StateStoreConditionalWrites runs one sequence of S3 object operations
// against the S3 adapter (kumo) and against state.MemoryStore, which the
// state package's own tests rely on, so both are held to S3's semantics.
func TestS3StateStoreConditionalWrites(t *testing.T) {
	stores := map[string]func(t *testing.T) state.ObjectStore{
		"s3":     func(t *testing.T) state.ObjectStore { return NewS3StateStore(testConfig(t), newStateBucket(t)) },
		"memory": func(t *testing.T) state.ObjectStore { return state.NewMemoryStore() },
	}
	for name, newStore := range stores {
		t.Run(name, func(t *testing.T) {
			ctx := testContext(t)
			st := newStore(t)
			const key = "apps/shop/dev.json"

			if _, _, err := st.Get(ctx, key); !errors.Is(err, state.ErrNotExist) {
				t.Fatalf("Get of an absent key: %v, want ErrNotExist", err)
			}
			etag1, err := st.Put(ctx, key, []byte(`{"v":1}`), state.PutCondition{IfNoneMatch: "*"})
			if err != nil || etag1 == "" {
				t.Fatalf("create with If-None-Match *: etag %q, %v", etag1, err)
			}
			data, etag, err := st.Get(ctx, key)
			if err != nil || string(data) != `{"v":1}` || etag != etag1 {
				t.Fatalf("Get = %q, %q, %v; want the object with ETag %q", data, etag, err, etag1)
			}
			// The lock's guarantee: a second create fails.
			if _, err := st.Put(ctx, key, []byte(`{"v":"other"}`), state.PutCondition{IfNoneMatch: "*"}); !errors.Is(err, state.ErrPreconditionFailed) {
				t.Errorf("second create with If-None-Match *: %v, want ErrPreconditionFailed", err)
			}
			// The document's guarantee: a write based on an old ETag fails.
			etag2, err := st.Put(ctx, key, []byte(`{"v":2}`), state.PutCondition{IfMatch: etag1})
			if err != nil || etag2 == etag1 {
				t.Fatalf("replace with If-Match on the current ETag: %q, %v", etag2, err)
			}
			if _, err := st.Put(ctx, key, []byte(`{"v":"lost update"}`), state.PutCondition{IfMatch: etag1}); !errors.Is(err, state.ErrPreconditionFailed) {
				t.Errorf("replace with If-Match on a stale ETag: %v, want ErrPreconditionFailed", err)
			}
			if data, _, err := st.Get(ctx, key); err != nil || string(data) != `{"v":2}` {
				t.Errorf("after the refused writes: %q, %v; want {\"v\":2}", data, err)
			}
			// S3 answers If-Match on an absent key with 404 NoSuchKey.
			if _, err := st.Put(ctx, "absent.json", []byte(`{}`), state.PutCondition{IfMatch: etag2}); !errors.Is(err, state.ErrNotExist) {
				t.Errorf("If-Match on an absent key: %v, want ErrNotExist", err)
			}
			if err := st.Delete(ctx, key); err != nil {
				t.Fatal(err)
			}
			if _, _, err := st.Get(ctx, key); !errors.Is(err, state.ErrNotExist) {
				t.Errorf("Get after Delete: %v, want ErrNotExist", err)
			}
			if err := st.Delete(ctx, key); err != nil {
				t.Errorf("Delete of an absent key: %v", err)
			}
		})
	}
}

func TestS3StateStoreMissingBucket(t *testing.T) {
	st := NewS3StateStore(testConfig(t), uniqueName("evd-no-such-bucket"))
	_, _, err := st.Get(testContext(t), "dev.json")
	if err == nil || errors.Is(err, state.ErrNotExist) || !strings.Contains(err.Error(), "does not exist (create it") {
		t.Errorf("Get in a missing bucket: %v; want a configuration error, not \"no state yet\"", err)
	}
}

// The S3 backend end to end on the emulator: a session's writes, the lock
// between two runs, and a concurrent writer detected by If-Match.
func TestS3StateBackend(t *testing.T) {
	ctx := testContext(t)
	cfg := testConfig(t)
	bucket := newStateBucket(t)
	const key = "shop/dev.json"
	newBackend := func() *state.S3 {
		b := NewS3StateBackend(cfg, bucket, key)
		b.PollInterval = 20 * time.Millisecond
		return b
	}
	a, b := newBackend(), newBackend()
	if got, want := a.String(), "s3://"+bucket+"/"+key; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}

	unlock, err := a.Lock(ctx, state.NewLockInfo(state.OpApply), 0)
	if err != nil {
		t.Fatalf("Lock: %v", err)
	}
	_, err = b.Lock(ctx, state.NewLockInfo(state.OpPlan), 100*time.Millisecond)
	var le *state.LockedError
	if !errors.As(err, &le) || le.Holder.Operation != state.OpApply {
		t.Fatalf("second Lock: %v; want a LockedError naming the apply", err)
	}

	s, err := state.Open(ctx, a, "shop", "dev")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.AddIntent(state.Intent{Addr: "queue.q/aws_sqs_queue", Type: "aws_sqs_queue", Name: "shop-dev-q"}); err != nil {
		t.Fatal(err)
	}
	res := state.Resource{Addr: "queue.q/aws_sqs_queue", Block: "queue.q", Type: "aws_sqs_queue", ID: "shop-dev-q",
		Attrs: map[string]any{"visibility_timeout": int64(30)}}
	if err := s.Upsert(res); err != nil {
		t.Fatal(err)
	}
	stored, err := b.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(s.Doc(), stored); diff != "" {
		t.Errorf("stored in S3 (-session +read):\n%s", diff)
	}
	if stored.Serial != 2 {
		t.Errorf("serial %d after two changes, want 2", stored.Serial)
	}

	// A run that got in despite the lock (force-unlocked) writes in between:
	// the session's next write must fail rather than overwrite it.
	stored.Serial++
	stored.Target = "someone else"
	if err := b.Write(ctx, stored); err != nil {
		t.Fatal(err)
	}
	if err := s.Remove(res.Addr); !errors.Is(err, state.ErrConflict) {
		t.Errorf("write after a concurrent write: %v, want ErrConflict", err)
	}

	if err := unlock(); err != nil {
		t.Fatalf("unlock: %v", err)
	}
	unlock2, err := b.Lock(ctx, state.NewLockInfo(state.OpPlan), 0)
	if err != nil {
		t.Fatalf("Lock after unlock: %v", err)
	}
	if err := a.ForceUnlock(ctx, le.Holder.ID+"-wrong"); err == nil {
		t.Error("ForceUnlock with a wrong ID succeeded")
	}
	if err := unlock2(); err != nil {
		t.Fatal(err)
	}
}
