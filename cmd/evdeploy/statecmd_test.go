package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/evdeploy/evdeploy/state"
)

// A lock left by a crashed apply blocks the next one with a message naming the
// lock, and `state unlock ID` removes it.
func TestStateUnlock(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "evdeploy.evd.hcl"), []byte("app \"locked\" {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	backend := state.NewLocal(dir, "dev")
	info := state.NewLockInfo(state.OpApply)
	info.Host = "another-host" // a holder evdeploy cannot prove dead
	if _, err := backend.Lock(context.Background(), info, 0); err != nil {
		t.Fatal(err)
	}
	lock, err := os.ReadFile(backend.LockPath())
	if err != nil {
		t.Fatal(err)
	}
	id := lockID(t, string(lock))

	r := mustEvd(t, 1, "plan", "-C", dir, "--target", "local", "--endpoint", emulator(t))
	if !strings.Contains(r.errOut, id) || !strings.Contains(r.errOut, "state unlock") {
		t.Errorf("plan under a held lock should name the lock and the way out:\n%s", r.errOut)
	}
	mustEvd(t, 1, "state", "unlock", "-C", dir, "not-the-id")
	mustEvd(t, 0, "state", "unlock", "-C", dir, id)
	if _, err := os.Stat(backend.LockPath()); !os.IsNotExist(err) {
		t.Errorf("lock file still there after unlock: %v", err)
	}
	mustEvd(t, 0, "plan", "-C", dir, "--target", "local", "--endpoint", emulator(t))
}

func lockID(t *testing.T, lock string) string {
	t.Helper()
	i := strings.Index(lock, `"id": "`)
	if i < 0 {
		i = strings.Index(lock, `"id":"`)
	}
	if i < 0 {
		t.Fatalf("no id in lock file %s", lock)
	}
	rest := lock[i:]
	rest = rest[strings.Index(rest, `:`)+1:]
	rest = strings.TrimLeft(rest, ` "`)
	return rest[:strings.Index(rest, `"`)]
}
