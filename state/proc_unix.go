//go:build unix

package state

import (
	"errors"
	"os"
	"syscall"
)

// processAlive reports whether pid exists on this host. Signal 0 checks for
// existence without delivering anything; EPERM means it exists but belongs to
// another user, which still counts as alive.
func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return !errors.Is(err, syscall.ESRCH)
}

// lockDir takes an exclusive flock on dir, serialising lock takeovers and
// releases between processes. The flock is released if the process dies.
func lockDir(dir string) (func(), error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}
