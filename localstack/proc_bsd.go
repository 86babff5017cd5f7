//go:build unix && !linux

package localstack

import "syscall"

// handlerAttr gives a handler its own process group. macOS has no
// Pdeathsig: a handler outlives an engine killed with SIGKILL (a clean stop
// ends them all).
func handlerAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }
