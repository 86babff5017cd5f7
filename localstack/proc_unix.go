//go:build unix

package localstack

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// Process management for Linux and macOS (per-OS files keep the engine
// building everywhere: proc_linux.go, proc_bsd.go, proc_windows.go).

var errNoProcess = syscall.ESRCH

// detachedAttr puts the engine in its own session: it outlives the terminal.
func detachedAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setsid: true} }

func terminatePID(pid int) error { return syscall.Kill(pid, syscall.SIGTERM) }
func killPID(pid int) error      { return syscall.Kill(pid, syscall.SIGKILL) }

// terminateGroup and killGroup signal a handler's whole process group.
func terminateGroup(pgid int) error { return syscall.Kill(-pgid, syscall.SIGTERM) }
func killGroup(pgid int) error      { return syscall.Kill(-pgid, syscall.SIGKILL) }

func lockFd(f *os.File) error { return syscall.Flock(int(f.Fd()), syscall.LOCK_EX) }
func unlockFd(f *os.File)     { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN) }

// processAlive reports whether pid is a live process (a zombie is dead).
func processAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	if err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
		// Format: pid (comm) state …; comm may hold spaces, so look after the last ')'.
		for i := len(b) - 1; i >= 0; i-- {
			if b[i] == ')' {
				if i+2 < len(b) && b[i+2] == 'Z' {
					return false
				}
				break
			}
		}
	}
	return true
}
