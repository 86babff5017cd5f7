package state

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestLocalModes(t *testing.T) {
	dir := t.TempDir()
	l := NewLocal(dir, "dev")
	if err := l.Write(t.Context(), sampleDoc()); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Lock(t.Context(), NewLockInfo(OpApply), 0); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]os.FileMode{
		filepath.Join(dir, ".evdeploy"):                           os.ModeDir | 0o700,
		filepath.Join(dir, ".evdeploy", "state"):                  os.ModeDir | 0o700,
		filepath.Join(dir, ".evdeploy", "state", "dev.json"):      0o600,
		filepath.Join(dir, ".evdeploy", "state", "dev.json.lock"): 0o600,
	} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode() != want {
			t.Errorf("%s: mode %v, want %v", path, fi.Mode(), want)
		}
	}
	assertNoTemp(t, filepath.Dir(l.Path()))
}

func assertNoTemp(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("temporary file left behind: %s", e.Name())
		}
	}
}

// A write that fails half-way leaves the previous document intact and no
// partial or temporary file.
func TestLocalAtomicWrite(t *testing.T) {
	tests := []struct {
		name  string
		write func(w io.Writer, p []byte) (int, error)
	}{
		{"fails half-way", func(w io.Writer, p []byte) (int, error) {
			n, _ := w.Write(p[:len(p)/2])
			return n, errors.New("disk full")
		}},
		{"fails at once", func(w io.Writer, p []byte) (int, error) { return 0, errors.New("disk full") }},
	}
	for _, tt := range tests {
		for _, first := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/first write %v", tt.name, first), func(t *testing.T) {
				ctx := t.Context()
				l := NewLocal(t.TempDir(), "dev")
				var before []byte
				if !first {
					if err := l.Write(ctx, sampleDoc()); err != nil {
						t.Fatal(err)
					}
					var err error
					if before, err = os.ReadFile(l.Path()); err != nil {
						t.Fatal(err)
					}
				}
				next := sampleDoc()
				next.Serial++
				next.Target = "changed"
				l.writeData = tt.write
				if err := l.Write(ctx, next); err == nil || !strings.Contains(err.Error(), "disk full") {
					t.Fatalf("Write: err = %v, want the write error", err)
				}
				after, err := os.ReadFile(l.Path())
				if first {
					if !errors.Is(err, os.ErrNotExist) {
						t.Errorf("a failed first write left a state file (err %v): %q", err, after)
					}
				} else if diff := cmp.Diff(string(before), string(after)); diff != "" {
					t.Errorf("the state file changed after a failed write (-before +after):\n%s", diff)
				}
				assertNoTemp(t, filepath.Dir(l.Path()))

				// The backend still works once writes succeed again.
				l.writeData = nil
				if err := l.Write(ctx, next); err != nil {
					t.Fatal(err)
				}
			})
		}
	}
}

func TestLocalCorruptedState(t *testing.T) {
	tests := []struct {
		name, content, want string
	}{
		{"truncated", `{"version": 1, "serial": 3, "lineage": "ab`, "invalid JSON at byte 42 (line 1, column 43): document is truncated"},
		{"garbage", "{\n  \"version\": 1,\n  <<<<<<< HEAD\n}", "invalid JSON at byte 20 (line 3, column 3)"},
		{"future", `{"version": 9}`, "format version 9 was written by a newer evdeploy"},
		{"empty", "", "document is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			l := NewLocal(t.TempDir(), "dev")
			if err := os.MkdirAll(filepath.Dir(l.Path()), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(l.Path(), []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := l.Read(ctx)
			if err == nil || !strings.Contains(err.Error(), l.Path()+": state: ") || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Read: err = %v\nwant the path and %q", err, tt.want)
			}
			if _, err := Open(ctx, l, "shop", "dev"); err == nil {
				t.Error("Open of a corrupted state succeeded")
			}
			err = l.Write(ctx, New("shop", "dev"))
			if err == nil || !strings.Contains(err.Error(), "refusing to overwrite") || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Write over a corrupted state: err = %v", err)
			}
			got, err := os.ReadFile(l.Path())
			if err != nil || string(got) != tt.content {
				t.Errorf("the corrupted file was changed: %q, %v", got, err)
			}
		})
	}
}

// A file corrupted while a session is writing (someone edits it mid-apply)
// is detected at the next write, not overwritten.
func TestLocalCorruptedBetweenWrites(t *testing.T) {
	ctx := t.Context()
	l := NewLocal(t.TempDir(), "dev")
	s, err := Open(ctx, l, "shop", "dev")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Upsert(Resource{Addr: "a", Type: "t"}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(l.Path(), []byte("oops"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := s.Upsert(Resource{Addr: "b", Type: "t"}); err == nil || !strings.Contains(err.Error(), "refusing to overwrite") {
		t.Errorf("Upsert over a corrupted file: %v", err)
	}
	if got, _ := os.ReadFile(l.Path()); string(got) != "oops" {
		t.Errorf("file overwritten: %q", got)
	}
}

func writeLockFile(t *testing.T, l *Local, info LockInfo) {
	t.Helper()
	data, err := json.Marshal(info)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(l.Path()), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(l.LockPath(), data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// deadPID is above any Linux pid_max (4194304), so no such process exists.
const deadPID = 1 << 30

func TestLocalStaleLock(t *testing.T) {
	host, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		holder    LockInfo
		takenOver bool
	}{
		{"dead process on this host", LockInfo{ID: "old", Operation: OpApply, Who: "ana@" + host, PID: deadPID, Host: host}, true},
		{"live process on this host", LockInfo{ID: "old", Operation: OpApply, Who: "ana@" + host, PID: os.Getpid(), Host: host}, false},
		{"dead pid on another host", LockInfo{ID: "old", Operation: OpApply, Who: "ana@elsewhere", PID: deadPID, Host: "elsewhere-" + host}, false},
		{"no pid", LockInfo{ID: "old", Operation: OpApply, Who: "ana@" + host, Host: host}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := NewLocal(t.TempDir(), "dev")
			var warnings []string
			l.Warn = func(msg string) { warnings = append(warnings, msg) }
			tt.holder.Created = time.Date(2026, 11, 26, 21, 0, 0, 0, time.UTC)
			writeLockFile(t, l, tt.holder)
			unlock, err := l.Lock(t.Context(), NewLockInfo(OpApply), 0)
			if !tt.takenOver {
				if !errors.Is(err, ErrLocked) {
					t.Errorf("Lock: err = %v, want ErrLocked", err)
				}
				if len(warnings) != 0 {
					t.Errorf("warnings: %q", warnings)
				}
				return
			}
			if err != nil {
				t.Fatalf("Lock: %v", err)
			}
			want := []string{fmt.Sprintf("taking over the state lock of %s: it was held by ana@%s (pid %d, operation \"apply\", since 2026-11-26T21:00:00Z), and that process is no longer running", l.Path(), host, deadPID)}
			if diff := cmp.Diff(want, warnings); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
			if err := unlock(); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestLocalUnreadableLock(t *testing.T) {
	l := NewLocal(t.TempDir(), "dev")
	if err := os.MkdirAll(filepath.Dir(l.Path()), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(l.LockPath(), []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := l.Lock(t.Context(), NewLockInfo(OpApply), 0)
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), "cannot be read") || !strings.Contains(err.Error(), "delete "+l.LockPath()) {
		t.Errorf("Lock with an unreadable lock file: %v", err)
	}
}

// Many processes taking over one stale lock at once: exactly one wins each
// round; nobody removes a fresh lock thinking it is the stale one.
func TestLocalConcurrentTakeover(t *testing.T) {
	host, _ := os.Hostname()
	dir := t.TempDir()
	base := NewLocal(dir, "dev")
	writeLockFile(t, base, LockInfo{ID: "old", Operation: OpApply, Who: "x@" + host, PID: deadPID, Host: host})
	var mu sync.Mutex
	warnings := 0
	var wg sync.WaitGroup
	results := make(chan error, 6)
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l := NewLocal(dir, "dev")
			l.Warn = func(string) { mu.Lock(); warnings++; mu.Unlock() }
			_, err := l.Lock(t.Context(), NewLockInfo(OpApply), 0)
			results <- err
		}()
	}
	wg.Wait()
	close(results)
	ok := 0
	for err := range results {
		if err == nil {
			ok++
		} else if !errors.Is(err, ErrLocked) {
			t.Error(err)
		}
	}
	if ok != 1 || warnings != 1 {
		t.Errorf("%d lockers succeeded and %d took over; want exactly 1 and 1", ok, warnings)
	}
}

// Lock contention between processes: the test binary re-executes itself as a
// helper that takes the lock and holds it.
const helperEnv = "EVDEPLOY_STATE_LOCK_HELPER"

func TestLockHelperProcess(t *testing.T) {
	path := os.Getenv(helperEnv)
	if path == "" {
		t.Skip("helper process for TestLocalLockProcesses")
	}
	l := NewLocalPath(path)
	unlock, err := l.Lock(t.Context(), NewLockInfo(OpApply), 10*time.Second)
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	fmt.Println("locked")
	// Hold the lock until the parent closes our stdin (or kills us).
	_, _ = io.Copy(io.Discard, os.Stdin)
	if err := unlock(); err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// startHolder starts a helper process holding the lock of path and returns
// once it has the lock; closing release makes it unlock and exit.
func startHolder(t *testing.T, path string) (cmd *exec.Cmd, release io.Closer) {
	t.Helper()
	cmd = exec.Command(os.Args[0], "-test.run=^TestLockHelperProcess$")
	cmd.Env = append(os.Environ(), helperEnv+"="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "locked\n" {
		t.Fatalf("helper: %q, %v", line, err)
	}
	return cmd, in
}

func TestLocalLockProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	ctx := t.Context()

	t.Run("live holder blocks, then releases", func(t *testing.T) {
		l := NewLocal(t.TempDir(), "dev")
		l.PollInterval = 20 * time.Millisecond
		cmd, release := startHolder(t, l.Path())
		_, err := l.Lock(ctx, NewLockInfo(OpPlan), 0)
		var le *LockedError
		if !errors.As(err, &le) || le.Holder.PID != cmd.Process.Pid {
			t.Fatalf("Lock while a live process holds it: %v; want a LockedError naming pid %d", err, cmd.Process.Pid)
		}
		var mu sync.Mutex
		released := false
		got := make(chan error, 1)
		var unlock func() error
		go func() {
			var err error
			unlock, err = l.Lock(ctx, NewLockInfo(OpPlan), 30*time.Second)
			mu.Lock()
			if err == nil && !released {
				err = errors.New("got the lock while the helper still held it")
			}
			mu.Unlock()
			got <- err
		}()
		time.Sleep(200 * time.Millisecond) // the waiter polls meanwhile
		mu.Lock()
		released = true
		mu.Unlock()
		release.Close()
		if err := <-got; err != nil {
			t.Fatalf("waiting Lock: %v", err)
		}
		if err := unlock(); err != nil {
			t.Error(err)
		}
		if err := cmd.Wait(); err != nil {
			t.Errorf("helper: %v", err)
		}
	})

	t.Run("SIGKILLed holder is taken over", func(t *testing.T) {
		l := NewLocal(t.TempDir(), "dev")
		var warnings []string
		l.Warn = func(msg string) { warnings = append(warnings, msg) }
		cmd, _ := startHolder(t, l.Path())
		pid := cmd.Process.Pid
		if _, err := l.Lock(ctx, NewLockInfo(OpPlan), 0); !errors.Is(err, ErrLocked) {
			t.Fatalf("Lock while the helper lives: %v", err)
		}
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		_ = cmd.Wait() // reap it: a zombie still answers kill(pid, 0)
		unlock, err := l.Lock(ctx, NewLockInfo(OpApply), 0)
		if err != nil {
			t.Fatalf("Lock after the holder was killed: %v", err)
		}
		if len(warnings) != 1 || !strings.Contains(warnings[0], fmt.Sprintf("(pid %d, operation \"apply\"", pid)) ||
			!strings.Contains(warnings[0], "no longer running") {
			t.Errorf("warnings: %q; want one naming pid %d", warnings, pid)
		}
		if err := unlock(); err != nil {
			t.Error(err)
		}
		if _, err := os.Stat(l.LockPath()); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("lock file still present after unlock: %v", err)
		}
	})
}
