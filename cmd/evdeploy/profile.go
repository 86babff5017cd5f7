package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"

	"github.com/evdeploy/evdeploy/planner"
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

// opTrace records, when $EVDEPLOY_OPTRACE names a file, one JSON line per
// finished operation of an apply or destroy: its address, kind, start and end
// (Unix nanoseconds), whether it failed, the plan's dependencies of the
// resource and the time it waited for API rate budgets. The benchmarks compute the critical-path bound of the run from it
// (BENCHMARKS.md). The returned observer is nil when tracing is off; close
// flushes the file.
func opTrace(p *planner.Plan) (observe func(planner.Event), closeTrace func()) {
	path := os.Getenv("EVDEPLOY_OPTRACE")
	if path == "" {
		return nil, func() {}
	}
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "warning: op trace:", err)
		return nil, func() {}
	}
	deps := make(map[string][]string, len(p.Changes))
	for _, c := range p.Changes {
		deps[c.Addr.String()] = c.Deps
	}
	w := bufio.NewWriter(f)
	enc := json.NewEncoder(w)
	type line struct {
		Addr   string   `json:"addr"`
		Op     string   `json:"op"`
		Start  int64    `json:"start"`
		End    int64    `json:"end"`
		Failed bool     `json:"failed,omitempty"`
		Deps   []string `json:"deps,omitempty"`
		// Waited: nanoseconds of the operation spent waiting for API
		// rate budgets (--api-quotas), not working.
		Waited int64 `json:"waited,omitempty"`
	}
	observe = func(e planner.Event) { // OnEvent calls are serialised
		if e.Phase != planner.Succeeded && e.Phase != planner.Failed {
			return
		}
		a := e.Addr.String()
		_ = enc.Encode(line{Addr: a, Op: e.Op, Start: e.Start.UnixNano(), End: e.At.UnixNano(),
			Failed: e.Phase == planner.Failed, Deps: deps[a], Waited: int64(e.Waited)})
	}
	return observe, func() {
		if err := w.Flush(); err != nil {
			fmt.Fprintln(os.Stderr, "warning: op trace:", err)
		}
		f.Close()
	}
}
