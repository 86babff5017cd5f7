package bench

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/evdeploy/evdeploy/internal/apicalls"
	awsprov "github.com/evdeploy/evdeploy/providers/aws"
)

// quotaSizes are the app sizes BenchmarkQuota runs; select one with
// -bench 'Quota/functions=100$'.
var quotaSizes = []int{100, 1000}

// BenchmarkQuota applies the benchmark app from empty through a proxy that
// plays AWS's API quotas (providers/aws QuotaTable: Lambda's control plane at
// 15/s, GetFunction 100/s, IAM writes 10/s, …; a call beyond its budget's
// rate gets that service's throttling error) with 50 ms per call, twice:
// "quota", evdeploy pacing its calls by the same table (--api-quotas on, its
// default cap of 64 calls in flight), and "fixed10", the executor as it was
// (--api-quotas off --parallelism 10, the SDK's default retries). It prints
// one line per size and mode:
//
//	quota N=<n> wall=<s> bound=<s> ratio=<wall/bound> throttled=<count> failed=<count>
//
// bound is the longest of the critical path, the work over the calls in
// flight, and for every budget its calls over its rate.
func BenchmarkQuota(b *testing.B) {
	bin, emu := setup(b)
	for _, n := range quotaSizes {
		b.Run(fmt.Sprintf("functions=%d", n), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				for _, m := range []struct {
					name        string
					env         []string
					args        []string
					parallelism int
				}{
					{"quota", []string{"EVDEPLOY_API_QUOTAS=on"}, nil, 64},
					{"fixed10", []string{"EVDEPLOY_API_QUOTAS=off"}, []string{"--parallelism", "10"}, 10},
				} {
					r := quotaRun(b, bin, emu, n, m.env, m.args, m.parallelism)
					line := fmt.Sprintf("%s N=%d wall=%.1f bound=%.1f ratio=%.2f throttled=%d failed=%d",
						m.name, n, r.wall.Seconds(), r.bound.Seconds(), r.wall.Seconds()/r.bound.Seconds(), r.throttled, r.failed)
					fmt.Println(line)
					b.Logf("%s\n  exit %d; critical path %.1fs, work/cap %.1fs, slowest budget %s %.1fs\n%s",
						line, r.exit, r.cp.Seconds(), r.workCap.Seconds(), r.slowest, r.slowestT.Seconds(), r.budgets)
					b.ReportMetric(r.wall.Seconds()/r.bound.Seconds(), m.name+"-wall/bound")
					b.ReportMetric(float64(r.throttled), m.name+"-throttled")
					b.ReportMetric(float64(r.failed), m.name+"-failed")
				}
			}
			b.ReportMetric(0, "ns/op")
		})
	}
}

type quotaResult struct {
	wall, bound, cp, workCap, slowestT time.Duration
	slowest, budgets                   string
	throttled, failed, exit            int
}

// quotaRun applies the n-function app from empty through a fresh quota proxy
// (full buckets: an idle account).
func quotaRun(tb testing.TB, bin, emu string, n int, env, args []string, parallelism int) quotaResult {
	tb.Helper()
	q := &apicalls.Quotas{Budget: awsprov.QuotaForCall}
	c := apicalls.NewCounter(emu)
	c.Latency = 50 * time.Millisecond
	c.Quotas = q
	defer c.Close()
	dir := project(tb, n)
	stage := fmt.Sprintf("q%d", stageSeq.Add(1))
	trace := filepath.Join(tb.TempDir(), "ops.jsonl")
	cmd := exec.Command(bin, append([]string{"apply", "--auto-approve", "-C", dir, "--stage", stage,
		"--target", "local", "--endpoint", c.URL}, args...)...)
	cmd.Env = append(append(os.Environ(), env...), "EVDEPLOY_OPTRACE="+trace)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	r := quotaResult{wall: time.Since(start)}
	if ee, ok := err.(*exec.ExitError); ok {
		r.exit = ee.ExitCode()
	} else if err != nil {
		tb.Fatal(err)
	}
	if r.exit != 0 {
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		tb.Logf("apply exit %d; last lines:\n%s", r.exit, strings.Join(lines[max(0, len(lines)-5):], "\n"))
	}
	sch, err := criticalPath(trace, parallelism)
	if err != nil {
		tb.Fatal(err)
	}
	r.cp, r.workCap, r.failed = sch.cp, sch.work/time.Duration(parallelism), sch.failed
	calls, throttled := q.Counts()
	names := make([]string, 0, len(calls)+len(throttled))
	for k := range calls {
		names = append(names, k)
	}
	for k := range throttled {
		if _, ok := calls[k]; !ok {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	var sb strings.Builder
	for _, name := range names {
		qq, _ := awsprov.QuotaFor(name)
		t := time.Duration(float64(calls[name]) / qq.Rate * float64(time.Second))
		if t > r.slowestT {
			r.slowest, r.slowestT = name, t
		}
		r.throttled += throttled[name]
		fmt.Fprintf(&sb, "  %-24s %5d calls %5d throttled  %6.1f/s  calls/rate %6.1fs\n", name, calls[name], throttled[name], qq.Rate, t.Seconds())
	}
	r.budgets = sb.String()
	r.bound = max(r.cp, r.workCap, r.slowestT)
	return r
}
