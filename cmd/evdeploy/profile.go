package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
)

// startProfiles writes a CPU profile to $EVDEPLOY_CPUPROFILE and a heap
// profile to $EVDEPLOY_MEMPROFILE (at exit) when they are set, so a slow
// command can be profiled as users run it (see BENCHMARKS.md). The returned
// function finishes them; errors only warn: profiling never fails a command.
func startProfiles() (stop func()) {
	warn := func(err error) { fmt.Fprintln(os.Stderr, "warning: profile:", err) }
	cpu, mem := os.Getenv("EVDEPLOY_CPUPROFILE"), os.Getenv("EVDEPLOY_MEMPROFILE")
	var cpuFile *os.File
	if cpu != "" {
		f, err := os.Create(cpu)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			warn(err)
		} else {
			cpuFile = f
		}
	}
	return func() {
		if cpuFile != nil {
			pprof.StopCPUProfile()
			if err := cpuFile.Close(); err != nil {
				warn(err)
			}
		}
		if mem != "" {
			f, err := os.Create(mem)
			if err != nil {
				warn(err)
				return
			}
			runtime.GC()
			if err := pprof.WriteHeapProfile(f); err != nil {
				warn(err)
			}
			f.Close()
		}
	}
}
