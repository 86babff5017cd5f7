package state

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// countingBackend counts writes and can be told to fail them.
type countingBackend struct {
	Backend
	mu     sync.Mutex
	writes int
	fail   error
}

func (c *countingBackend) Write(ctx context.Context, d *Document) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fail != nil {
		return c.fail
	}
	if err := c.Backend.Write(ctx, d); err != nil {
		return err
	}
	c.writes++
	return nil
}

func TestSessionOperations(t *testing.T) {
	started := time.Date(2026, 11, 26, 21, 0, 0, 0, time.UTC)
	type step struct {
		op     func(s *Session) error
		writes bool
	}
	tests := []struct {
		name  string
		steps []step
		want  func(d *Document)
	}{
		{
			name: "upsert inserts sorted and replaces by address",
			steps: []step{
				{func(s *Session) error { return s.Upsert(Resource{Addr: "b", Type: "t", ID: "1"}) }, true},
				{func(s *Session) error { return s.Upsert(Resource{Addr: "a", Type: "t", ID: "2"}) }, true},
				{func(s *Session) error {
					return s.Upsert(Resource{Addr: "b", Type: "t", ID: "3", Attrs: map[string]any{"n": 5, "l": []string{"x"}}})
				}, true},
			},
			want: func(d *Document) {
				d.Resources = []Resource{{Addr: "a", Type: "t", ID: "2"},
					{Addr: "b", Type: "t", ID: "3", Attrs: map[string]any{"n": int64(5), "l": []any{"x"}}}}
			},
		},
		{
			name: "intent then upsert resolves the intent in the same write",
			steps: []step{
				{func(s *Session) error {
					return s.AddIntent(Intent{Addr: "q", Type: "t", Name: "app-dev-q", Started: started})
				}, true},
				{func(s *Session) error {
					return s.AddIntent(Intent{Addr: "p", Type: "t", Name: "app-dev-p", Started: started})
				}, true},
				{func(s *Session) error { return s.Upsert(Resource{Addr: "q", Type: "t", ID: "arn:q"}) }, true},
			},
			want: func(d *Document) {
				d.Resources = []Resource{{Addr: "q", Type: "t", ID: "arn:q"}}
				d.Journal = []Intent{{Addr: "p", Type: "t", Name: "app-dev-p", Started: started}}
			},
		},
		{
			name: "resolve intent; resolving an absent one writes nothing",
			steps: []step{
				{func(s *Session) error { return s.AddIntent(Intent{Addr: "q", Type: "t", Name: "n", Started: started}) }, true},
				{func(s *Session) error { return s.ResolveIntent("q") }, true},
				{func(s *Session) error { return s.ResolveIntent("q") }, false},
			},
			want: func(d *Document) {},
		},
		{
			name: "remove; removing an absent address writes nothing",
			steps: []step{
				{func(s *Session) error { return s.Upsert(Resource{Addr: "a", Type: "t"}) }, true},
				{func(s *Session) error { return s.Upsert(Resource{Addr: "b", Type: "t"}) }, true},
				{func(s *Session) error { return s.Remove("a") }, true},
				{func(s *Session) error { return s.Remove("a") }, false},
			},
			want: func(d *Document) { d.Resources = []Resource{{Addr: "b", Type: "t"}} },
		},
		{
			name: "outputs are replaced",
			steps: []step{
				{func(s *Session) error { return s.SetOutputs(map[string]Output{"a": {Value: "x"}, "b": {Value: 1}}) }, true},
				{func(s *Session) error { return s.SetOutputs(map[string]Output{"c": {Value: true, Sensitive: true}}) }, true},
			},
			want: func(d *Document) { d.Outputs = map[string]Output{"c": {Value: true, Sensitive: true}} },
		},
	}
	for name, newBackend := range backends {
		for _, tt := range tests {
			t.Run(name+"/"+tt.name, func(t *testing.T) {
				ctx := t.Context()
				b := &countingBackend{Backend: newBackend(t)}
				s, err := Open(ctx, b, "shop", "dev")
				if err != nil {
					t.Fatal(err)
				}
				lineage := s.Doc().Lineage
				wantWrites := 0
				for i, st := range tt.steps {
					if err := st.op(s); err != nil {
						t.Fatalf("step %d: %v", i, err)
					}
					if st.writes {
						wantWrites++
					}
					if b.writes != wantWrites {
						t.Fatalf("after step %d: %d writes, want %d", i, b.writes, wantWrites)
					}
					if got := s.Doc().Serial; got != uint64(wantWrites) {
						t.Fatalf("after step %d: serial %d, want %d", i, got, wantWrites)
					}
				}
				want := &Document{Version: FormatVersion, Serial: uint64(wantWrites), Lineage: lineage,
					App: "shop", Stage: "dev", Resources: []Resource{}}
				tt.want(want)
				if diff := cmp.Diff(want, s.Doc()); diff != "" {
					t.Errorf("Doc (-want +got):\n%s", diff)
				}
				// What the backend holds is what the session says.
				stored, err := twin(b.Backend).Read(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(want, stored); diff != "" {
					t.Errorf("stored (-want +got):\n%s", diff)
				}
				// A new session continues the serial.
				s2, err := Open(ctx, twin(b.Backend), "shop", "dev")
				if err != nil {
					t.Fatal(err)
				}
				if err := s2.Upsert(Resource{Addr: "zz", Type: "t"}); err != nil {
					t.Fatal(err)
				}
				if got := s2.Doc().Serial; got != uint64(wantWrites)+1 {
					t.Errorf("reopened session wrote serial %d, want %d", got, wantWrites+1)
				}
			})
		}
	}
}

func TestSessionWriteFailureKeepsDocument(t *testing.T) {
	ctx := t.Context()
	b := &countingBackend{Backend: backends["local"](t)}
	s, err := Open(ctx, b, "shop", "dev")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Upsert(Resource{Addr: "a", Type: "t"}); err != nil {
		t.Fatal(err)
	}
	before := s.Doc()
	b.fail = errors.New("disk full")
	if err := s.Upsert(Resource{Addr: "b", Type: "t"}); err == nil || !strings.Contains(err.Error(), "record b: disk full") {
		t.Errorf("Upsert with a failing backend: %v", err)
	}
	if diff := cmp.Diff(before, s.Doc()); diff != "" {
		t.Errorf("a failed write changed the document (-before +after):\n%s", diff)
	}
	b.fail = nil
	if err := s.Upsert(Resource{Addr: "b", Type: "t"}); err != nil {
		t.Fatal(err)
	}
	if got := s.Doc().Serial; got != 2 {
		t.Errorf("serial %d after one failed and two good writes, want 2", got)
	}
}

func TestSessionDocIsACopy(t *testing.T) {
	s, err := Open(t.Context(), backends["s3"](t), "shop", "dev")
	if err != nil {
		t.Fatal(err)
	}
	attrs := map[string]any{"tags": map[string]any{"k": "v"}}
	if err := s.Upsert(Resource{Addr: "a", Type: "t", Attrs: attrs, Deps: []string{"x"}}); err != nil {
		t.Fatal(err)
	}
	attrs["tags"].(map[string]any)["k"] = "changed by caller"
	d := s.Doc()
	d.Resources[0].Attrs["tags"].(map[string]any)["k"] = "changed by reader"
	d.Resources[0].Deps[0] = "y"
	d.Resources = append(d.Resources, Resource{Addr: "b"})
	want := []Resource{{Addr: "a", Type: "t", Attrs: map[string]any{"tags": map[string]any{"k": "v"}}, Deps: []string{"x"}}}
	if diff := cmp.Diff(want, s.Doc().Resources); diff != "" {
		t.Errorf("session document changed through an alias (-want +got):\n%s", diff)
	}
}

func TestSessionOpen(t *testing.T) {
	ctx := t.Context()
	b := backends["local"](t)
	s, err := Open(ctx, b, "shop", "dev")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Upsert(Resource{Addr: "a", Type: "t"}); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ app, stage string }{{"other", "dev"}, {"shop", "prod"}} {
		if _, err := Open(ctx, b, tt.app, tt.stage); err == nil || !strings.Contains(err.Error(), `belongs to app "shop" stage "dev"`) {
			t.Errorf("Open(%q, %q) of shop/dev state: %v", tt.app, tt.stage, err)
		}
	}
	if err := s.Upsert(Resource{Addr: "", Type: "t"}); err == nil {
		t.Error("Upsert without an address succeeded")
	}
}

// The apply executor calls the session from many goroutines at once: every
// change must land, each in its own write, with no lost update.
func TestSessionConcurrentWriters(t *testing.T) {
	for name, newBackend := range backends {
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			b := &countingBackend{Backend: newBackend(t)}
			s, err := Open(ctx, b, "shop", "dev")
			if err != nil {
				t.Fatal(err)
			}
			const workers = 16
			var wg sync.WaitGroup
			for w := range workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					addr := fmt.Sprintf("block.%02d/res", w)
					steps := []func() error{
						func() error { return s.AddIntent(Intent{Addr: addr, Type: "t", Name: addr}) },
						func() error {
							return s.Upsert(Resource{Addr: addr, Type: "t", ID: addr, Attrs: map[string]any{"w": w}})
						},
						func() error { return s.AddIntent(Intent{Addr: addr + "-gone", Type: "t", Name: "x"}) },
						func() error { return s.ResolveIntent(addr + "-gone") },
						func() error { return s.Upsert(Resource{Addr: addr + "-tmp", Type: "t"}) },
						func() error { return s.Remove(addr + "-tmp") },
					}
					for _, step := range steps {
						if err := step(); err != nil {
							t.Error(err)
							return
						}
						_ = s.Doc() // readers run alongside writers
					}
				}()
			}
			wg.Wait()
			d := s.Doc()
			// Concurrent changes are committed in batches: one write per
			// batch, at most one per change, and the serial counts writes.
			if max := workers * 6; d.Serial != uint64(b.writes) || b.writes > max || b.writes == 0 {
				t.Errorf("serial %d, writes %d; want equal, between 1 and %d", d.Serial, b.writes, max)
			}
			t.Logf("%d changes in %d writes", workers*6, b.writes)
			var want []Resource
			for w := range workers {
				addr := fmt.Sprintf("block.%02d/res", w)
				want = append(want, Resource{Addr: addr, Type: "t", ID: addr, Attrs: map[string]any{"w": int64(w)}})
			}
			if diff := cmp.Diff(want, d.Resources); diff != "" {
				t.Errorf("resources (-want +got):\n%s", diff)
			}
			if len(d.Journal) != 0 {
				t.Errorf("journal left: %v", d.Journal)
			}
			stored, err := twin(b.Backend).Read(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(d, stored); diff != "" {
				t.Errorf("stored (-want +got):\n%s", diff)
			}
		})
	}
}

// Cancelling the apply's context must not stop the session recording what
// in-flight operations did.
func TestSessionWritesAfterCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	s, err := Open(ctx, backends["local"](t), "shop", "dev")
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := s.Upsert(Resource{Addr: "a", Type: "t"}); err != nil {
		t.Errorf("Upsert after cancel: %v", err)
	}
}

// BenchmarkSessionUpsert measures one recorded change (copy, normalise,
// encode, atomic write with two fsyncs) on a state of n resources.
func BenchmarkSessionUpsert(b *testing.B) {
	for _, n := range []int{10, 200, 1000} {
		for name, newBackend := range map[string]func() Backend{
			"local":  func() Backend { return NewLocal(b.TempDir(), "dev") },
			"memory": func() Backend { return NewS3(NewMemoryStore(), "b", "k") },
		} {
			b.Run(fmt.Sprintf("%s/%d", name, n), func(b *testing.B) {
				s, err := Open(b.Context(), newBackend(), "shop", "dev")
				if err != nil {
					b.Fatal(err)
				}
				attrs := map[string]any{"name": "shop-dev-x", "memory": 256, "timeout": 30,
					"environment": map[string]any{"A": "1", "B": "2"}, "arn": "arn:aws:lambda:us-east-1:000000000000:function:shop-dev-x"}
				for i := range n {
					if err := s.Upsert(Resource{Addr: fmt.Sprintf("function.f%04d/aws_lambda_function.main", i), Type: "aws_lambda_function", Attrs: attrs}); err != nil {
						b.Fatal(err)
					}
				}
				b.ResetTimer()
				for i := range b.N {
					attrs["memory"] = 128 + i%2
					if err := s.Upsert(Resource{Addr: "function.f0000/aws_lambda_function.main", Type: "aws_lambda_function", Attrs: attrs}); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
