package localstack

import (
	"errors"
	"os"
	"syscall"
)

// Windows: the engine and its handlers build and run, with these limits
// (docs/local.md): a stop is always forceful (no SIGTERM), a handler's
// helper processes are not stopped with it, and engine.lock does not
// serialise concurrent `local up`s.

var errNoProcess = errors.New("no such process")

const detachedProcess = 0x00000008

func detachedAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{CreationFlags: syscall.CREATE_NEW_PROCESS_GROUP | detachedProcess}
}

func handlerAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{CreationFlags: syscall.CREATE_NEW_PROCESS_GROUP}
}

func killPID(pid int) error {
	p, err := os.FindProcess(pid)
	if err != nil {
		return errNoProcess
	}
	return p.Kill()
}

func terminatePID(pid int) error    { return killPID(pid) }
func terminateGroup(pgid int) error { return killPID(pgid) }
func killGroup(pgid int) error      { return killPID(pgid) }

func lockFd(*os.File) error { return nil }
func unlockFd(*os.File)     {}

func processAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	_ = p.Release()
	return true
}
