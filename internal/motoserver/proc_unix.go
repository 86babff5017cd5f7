//go:build unix && !linux

package motoserver

import (
	"os"
	"syscall"
)

// sysProcAttr puts the server in its own process group so killGroup reaches
// anything it forks. There is no parent-death signal outside Linux: a test
// binary killed with SIGKILL there can leave the server running.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

func killGroup(p *os.Process) {
	_ = syscall.Kill(-p.Pid, syscall.SIGKILL)
	_ = p.Kill()
}
