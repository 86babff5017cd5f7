package state

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// backends are the Backend implementations every contract test runs against.
// The S3 backend runs over MemoryStore here; providers/aws runs it over S3
// itself (kumo).
var backends = map[string]func(t *testing.T) Backend{
	"local": func(t *testing.T) Backend {
		l := NewLocal(t.TempDir(), "dev")
		l.PollInterval = 10 * time.Millisecond
		l.Warn = func(msg string) { t.Log("warning: " + msg) }
		return l
	},
	"s3": func(t *testing.T) Backend {
		s := NewS3(NewMemoryStore(), "bucket", "apps/shop/dev.json")
		s.PollInterval = 10 * time.Millisecond
		return s
	},
}

// twin opens a second backend instance on the same storage, as a second
// evdeploy process would.
func twin(b Backend) Backend {
	switch b := b.(type) {
	case *Local:
		l := NewLocalPath(b.Path())
		l.PollInterval, l.Warn = b.PollInterval, b.Warn
		return l
	case *S3:
		s := NewS3(b.store, b.bucket, b.key)
		s.PollInterval = b.PollInterval
		return s
	}
	panic("unknown backend")
}

func TestBackendReadMissing(t *testing.T) {
	for name, newBackend := range backends {
		t.Run(name, func(t *testing.T) {
			d, err := newBackend(t).Read(t.Context())
			if d != nil || err != nil {
				t.Errorf("Read of absent state = %v, %v; want nil, nil", d, err)
			}
		})
	}
}

func TestBackendWriteRead(t *testing.T) {
	for name, newBackend := range backends {
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			b := newBackend(t)
			d := sampleDoc()
			if err := b.Write(ctx, d); err != nil {
				t.Fatal(err)
			}
			for _, reader := range []Backend{b, twin(b)} {
				got, err := reader.Read(ctx)
				if err != nil {
					t.Fatal(err)
				}
				want := sampleDoc()
				sortResources(want.Resources)
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("read back (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestBackendConflicts(t *testing.T) {
	tests := []struct {
		name string
		// other writes through a second instance after both have read.
		other func(d *Document)
		mine  func(d *Document)
		want  string
	}{
		{
			name:  "concurrent writer",
			other: func(d *Document) { d.Serial = 8; d.Target = "other" },
			mine:  func(d *Document) { d.Serial = 8; d.Target = "mine" },
			want:  "",
		},
		{
			name:  "other lineage",
			other: func(d *Document) { d.Serial = 8 },
			mine:  func(d *Document) { d.Serial = 9; d.Lineage = "ffff" },
			want:  "lineage",
		},
		{
			name:  "stale serial",
			other: func(d *Document) { d.Serial = 9 },
			mine:  func(d *Document) { d.Serial = 8 },
			want:  "",
		},
	}
	for name, newBackend := range backends {
		for _, tt := range tests {
			t.Run(name+"/"+tt.name, func(t *testing.T) {
				ctx := t.Context()
				a := newBackend(t)
				if err := a.Write(ctx, sampleDoc()); err != nil {
					t.Fatal(err)
				}
				b := twin(a)
				da, err := a.Read(ctx)
				if err != nil {
					t.Fatal(err)
				}
				db, err := b.Read(ctx)
				if err != nil {
					t.Fatal(err)
				}
				tt.other(db)
				if err := b.Write(ctx, db); err != nil {
					t.Fatalf("first writer: %v", err)
				}
				tt.mine(da)
				err = a.Write(ctx, da)
				if !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("second writer: err = %v; want ErrConflict mentioning %q", err, tt.want)
				}
				got, err := twin(a).Read(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(db, got); diff != "" {
					t.Errorf("the first writer's state was not kept (-want +got):\n%s", diff)
				}
			})
		}
	}
}

func TestBackendRewriteSameIsNoop(t *testing.T) {
	for name, newBackend := range backends {
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			b := newBackend(t)
			d := sampleDoc()
			for range 2 {
				if err := b.Write(ctx, d); err != nil {
					t.Fatal(err)
				}
			}
			// The same serial with other content is a conflict, not a no-op.
			d.Target = "changed"
			if err := b.Write(ctx, d); !errors.Is(err, ErrConflict) {
				t.Errorf("same serial, other content: err = %v, want ErrConflict", err)
			}
		})
	}
}

func fixedLock(id string) LockInfo {
	return LockInfo{ID: id, Operation: OpApply, Who: "ana@build-7", PID: 4242, Host: "build-7",
		Created: time.Date(2026, 11, 26, 21, 30, 0, 0, time.UTC)}
}

func TestLockContentionGoroutines(t *testing.T) {
	for name, newBackend := range backends {
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			a := newBackend(t)
			b := twin(a)
			unlock, err := a.Lock(ctx, NewLockInfo(OpApply), 0)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := b.Lock(ctx, NewLockInfo(OpPlan), 0); !errors.Is(err, ErrLocked) {
				t.Fatalf("second Lock while held: err = %v, want ErrLocked", err)
			}
			// A waiter gets the lock once the holder releases it.
			got := make(chan error, 1)
			start := time.Now()
			go func() {
				unlock2, err := b.Lock(ctx, NewLockInfo(OpPlan), 5*time.Second)
				if err == nil {
					err = unlock2()
				}
				got <- err
			}()
			time.Sleep(100 * time.Millisecond)
			if err := unlock(); err != nil {
				t.Fatal(err)
			}
			if err := <-got; err != nil {
				t.Fatalf("waiting Lock: %v", err)
			}
			if waited := time.Since(start); waited < 100*time.Millisecond {
				t.Errorf("the waiter got the lock after %v, before it was released", waited)
			}
		})
	}
}

// Many goroutines racing for one lock: at most one holds it at any time.
func TestLockMutualExclusion(t *testing.T) {
	for name, newBackend := range backends {
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			a := newBackend(t)
			var mu sync.Mutex
			holders, maxHolders, acquired := 0, 0, 0
			var wg sync.WaitGroup
			for range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					b := twin(a)
					unlock, err := b.Lock(ctx, NewLockInfo(OpApply), 10*time.Second)
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					holders++
					acquired++
					maxHolders = max(maxHolders, holders)
					mu.Unlock()
					time.Sleep(5 * time.Millisecond)
					mu.Lock()
					holders--
					mu.Unlock()
					if err := unlock(); err != nil {
						t.Error(err)
					}
				}()
			}
			wg.Wait()
			if maxHolders != 1 || acquired != 8 {
				t.Errorf("max simultaneous holders %d (want 1), acquisitions %d (want 8)", maxHolders, acquired)
			}
		})
	}
}

func TestLockTimeoutMessage(t *testing.T) {
	for name, newBackend := range backends {
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			a := newBackend(t)
			// Another host, so the local backend never judges it stale.
			if _, err := a.Lock(ctx, fixedLock("abc123"), 0); err != nil {
				t.Fatal(err)
			}
			_, err := twin(a).Lock(ctx, NewLockInfo(OpPlan), 0)
			want := "state " + a.String() + ` is locked by ana@build-7 (pid 4242, operation "apply") since 2026-11-26T21:30:00Z; did not wait (--lock-timeout 0).` +
				"\nIf that process is no longer running, release the lock with: evdeploy state unlock abc123"
			if err == nil {
				t.Fatal("Lock succeeded while held")
			}
			if diff := cmp.Diff(want, err.Error()); diff != "" {
				t.Errorf("message (-want +got):\n%s", diff)
			}

			start := time.Now()
			_, err = twin(a).Lock(ctx, NewLockInfo(OpPlan), 150*time.Millisecond)
			var le *LockedError
			if !errors.As(err, &le) {
				t.Fatalf("err = %v, want *LockedError", err)
			}
			if el := time.Since(start); el < 150*time.Millisecond || le.Waited < 150*time.Millisecond {
				t.Errorf("gave up after %v (reported %v), before the 150ms timeout", el, le.Waited)
			}
			if !strings.Contains(err.Error(), "; waited "+le.Waited.Round(time.Millisecond).String()+".") {
				t.Errorf("message does not say how long it waited: %v", err)
			}
		})
	}
}

func TestLockCancelled(t *testing.T) {
	for name, newBackend := range backends {
		t.Run(name, func(t *testing.T) {
			a := newBackend(t)
			if _, err := a.Lock(t.Context(), fixedLock("held"), 0); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
			defer cancel()
			_, err := twin(a).Lock(ctx, NewLockInfo(OpPlan), time.Minute)
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("err = %v, want the context's error", err)
			}
		})
	}
}

func TestForceUnlock(t *testing.T) {
	for name, newBackend := range backends {
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			a := newBackend(t)
			if err := a.ForceUnlock(ctx, "x"); err == nil || !strings.Contains(err.Error(), "is not locked") {
				t.Errorf("ForceUnlock without a lock: %v", err)
			}
			unlock, err := a.Lock(ctx, fixedLock("abc123"), 0)
			if err != nil {
				t.Fatal(err)
			}
			b := twin(a)
			if err := b.ForceUnlock(ctx, "wrong"); err == nil || !strings.Contains(err.Error(), "the lock has ID abc123") {
				t.Errorf("ForceUnlock with the wrong ID: %v", err)
			}
			if err := b.ForceUnlock(ctx, "abc123"); err != nil {
				t.Fatalf("ForceUnlock: %v", err)
			}
			unlock2, err := b.Lock(ctx, NewLockInfo(OpApply), 0)
			if err != nil {
				t.Fatalf("Lock after ForceUnlock: %v", err)
			}
			// The first holder's unlock must not release the new holder's lock.
			if err := unlock(); err == nil || !strings.Contains(err.Error(), "no longer ours") {
				t.Errorf("unlock of a force-removed lock: %v", err)
			}
			if _, err := a.Lock(ctx, NewLockInfo(OpPlan), 0); !errors.Is(err, ErrLocked) {
				t.Errorf("the new lock was released by the old holder: %v", err)
			}
			if err := unlock2(); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestLocalDefaultPath(t *testing.T) {
	l := NewLocal("/proj", "prod")
	if got, want := l.String(), filepath.Join("/proj", ".evdeploy", "state", "prod.json"); got != want {
		t.Errorf("path %q, want %q", got, want)
	}
	if got, want := l.LockPath(), "/proj/.evdeploy/state/prod.json.lock"; got != want {
		t.Errorf("lock path %q, want %q", got, want)
	}
	if got, want := NewS3(NewMemoryStore(), "b", "k/dev.json").String(), "s3://b/k/dev.json"; got != want {
		t.Errorf("S3 String() = %q, want %q", got, want)
	}
}
