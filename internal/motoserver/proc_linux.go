package motoserver

import (
	"os"
	"syscall"
)

// sysProcAttr puts the server in its own process group (so killGroup reaches
// anything it forks) and has the kernel kill it when the test binary dies,
// however it dies.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

func killGroup(p *os.Process) {
	_ = syscall.Kill(-p.Pid, syscall.SIGKILL)
	_ = p.Kill()
}
