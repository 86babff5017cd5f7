package state

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// changeSome makes every kind of change through s.
func changeSome(t *testing.T, s *Session, prefix string) {
	t.Helper()
	started := time.Date(2026, 12, 2, 6, 0, 0, 0, time.UTC)
	for i, step := range []func() error{
		func() error { return s.Upsert(Resource{Addr: prefix + "a", Type: "t", ID: "1"}) },
		func() error {
			return s.AddIntent(Intent{Addr: prefix + "b", Type: "t", Name: "n", Attrs: map[string]any{"k": 1}, Started: started})
		},
		func() error {
			return s.Upsert(Resource{Addr: prefix + "b", Type: "t", ID: "2", Attrs: map[string]any{"n": 1.5, "l": []string{"x"}}, Deps: []string{prefix + "a"}})
		},
		func() error { return s.AddIntent(Intent{Addr: prefix + "c", Type: "t", Name: "c", Started: started}) },
		func() error { return s.Upsert(Resource{Addr: prefix + "d", Type: "t"}) },
		func() error { return s.Remove(prefix + "d") },
		func() error { return s.AddIntent(Intent{Addr: prefix + "e", Type: "t", Name: "e", Started: started}) },
		func() error { return s.ResolveIntent(prefix + "e") },
	} {
		if err := step(); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
}

// After the first whole write a session appends changes to the log; a
// process killed before Close loses nothing (a fresh read replays the log),
// and Close leaves the state file complete on its own.
func TestSessionLogReplay(t *testing.T) {
	ctx := t.Context()
	l := NewLocal(t.TempDir(), "dev")
	s, err := Open(ctx, l, "shop", "dev")
	if err != nil {
		t.Fatal(err)
	}
	changeSome(t, s, "")
	want := s.Doc()
	if _, err := os.Stat(l.LogPath()); err != nil {
		t.Fatalf("no change log after 8 changes: %v", err)
	}
	fileOnly, err := Decode(readBytes(t, l.Path()))
	if err != nil {
		t.Fatal(err)
	}
	if fileOnly.Serial >= want.Serial {
		t.Fatalf("the state file is at serial %d, the session at %d: nothing was appended", fileOnly.Serial, want.Serial)
	}
	// "Killed" here: a new process reads file + log.
	got, err := twin(l).Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("replayed (-session +read):\n%s", diff)
	}
	// A torn last line (killed mid-append, never acknowledged) is ignored.
	log := readBytes(t, l.LogPath())
	torn := append(append([]byte{}, log...), []byte(`{"lineage":"`+want.Lineage+`","serial":99,"changes":[{"remove":"a"`)...)
	if err := os.WriteFile(l.LogPath(), torn, 0o600); err != nil {
		t.Fatal(err)
	}
	if got, err = twin(l).Read(ctx); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("replayed with a torn line (-session +read):\n%s", diff)
	}
	if err := os.WriteFile(l.LogPath(), log, 0o600); err != nil {
		t.Fatal(err)
	}

	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(l.LogPath()); !os.IsNotExist(err) {
		t.Errorf("change log still there after Close: %v", err)
	}
	fileOnly, err = Decode(readBytes(t, l.Path()))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, fileOnly); diff != "" {
		t.Errorf("state file after Close (-session +file):\n%s", diff)
	}
	// Killed between the whole write and emptying the log: the log's
	// entries are all covered by the file's serial and are skipped.
	if err := os.WriteFile(l.LogPath(), log, 0o600); err != nil {
		t.Fatal(err)
	}
	if got, err = twin(l).Read(ctx); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("read with a stale log (-session +read):\n%s", diff)
	}
	// The next session's first write is whole and drops the stale log.
	s2, err := Open(ctx, twin(l), "shop", "dev")
	if err != nil {
		t.Fatal(err)
	}
	changeSome(t, s2, "x.")
	if err := s2.Close(); err != nil {
		t.Fatal(err)
	}
	got, err = twin(l).Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(s2.Doc(), got); diff != "" {
		t.Errorf("second session (-session +read):\n%s", diff)
	}
}

// The log is folded into the state file once it is as large as the file, so
// many changes cost a bounded number of whole writes per byte of state.
func TestSessionLogCompacts(t *testing.T) {
	ctx := t.Context()
	b := &wholeCounter{Local: NewLocal(t.TempDir(), "dev")}
	s, err := Open(ctx, b, "shop", "dev")
	if err != nil {
		t.Fatal(err)
	}
	big := strings.Repeat("x", 4<<10)
	const n = 200
	for i := range n {
		if err := s.Upsert(Resource{Addr: fmt.Sprintf("r%03d", i), Type: "t", Attrs: map[string]any{"big": big}}); err != nil {
			t.Fatal(err)
		}
	}
	// 800 KiB of state in 4 KiB changes: compactions at 64 KiB, then each
	// time the log doubles the state, about log2(800/64) ≈ 4 of them (plus
	// the first write).
	if b.wholes < 2 || b.wholes > 10 {
		t.Errorf("%d whole writes for %d changes, want a handful", b.wholes, n)
	}
	got, err := twin(b.Local).Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(s.Doc(), got); diff != "" {
		t.Errorf("read (-session +read):\n%s", diff)
	}
}

// wholeCounter counts whole writes, keeping Local's Append.
type wholeCounter struct {
	*Local
	wholes int
}

func (w *wholeCounter) Write(ctx context.Context, d *Document) error {
	w.wholes++
	return w.Local.Write(ctx, d)
}

func readBytes(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
