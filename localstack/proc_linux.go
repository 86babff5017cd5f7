package localstack

import "syscall"

// handlerAttr gives a handler its own process group and kills it with the
// engine (Pdeathsig), even when the engine is killed without cleanup.
func handlerAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
