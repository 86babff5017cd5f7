package bench

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/sivchari/kumo"

	"github.com/evdeploy/evdeploy/internal/apicalls"
)

var (
	setupOnce sync.Once
	binPath   string
	emuURL    string
	setupErr  error
	stageSeq  atomic.Int64
)

func setup(tb testing.TB) (bin, emu string) {
	tb.Helper()
	setupOnce.Do(func() {
		dir, err := os.MkdirTemp("", "evdeploy-bench")
		if err != nil {
			setupErr = err
			return
		}
		binPath = filepath.Join(dir, "evdeploy")
		if out, err := exec.Command("go", "build", "-o", binPath, "../cmd/evdeploy").CombinedOutput(); err != nil {
			setupErr = fmt.Errorf("go build: %v\n%s", err, out)
			return
		}
		// Another emulator (moto answers the IAM list the role reads share,
		// which kumo lacks) when one is named.
		if emuURL = os.Getenv("EVDEPLOY_BENCH_ENDPOINT"); emuURL == "" {
			emuURL = kumo.NewServer().URL
		}
	})
	if setupErr != nil {
		tb.Fatal(setupErr)
	}
	return binPath, emuURL
}

// project writes an app of n queue workers: n functions (Python, so no
// compiler time is measured), n queues with DLQs, n triggers, one table they
// all write — about 8n provider resources. Function w0 has a source folder of
// its own (fn0), so the benchmark can change one function's code; the others
// share ./fn.
func project(tb testing.TB, n int) string {
	tb.Helper()
	dir := tb.TempDir()
	var b strings.Builder
	b.WriteString("app \"bench\" {}\n\ntable \"items\" {\n  hash_key = \"id\"\n}\n")
	for i := 0; i < n; i++ {
		src := "./fn"
		if i == 0 {
			src = "./fn0"
		}
		fmt.Fprintf(&b, `
function "w%[1]d" {
  runtime = "python3.12"
  source  = "%[2]s"
  handler = "main.handler"
  uses    = [table.items.write]
  environment = {
    TABLE = table.items.name
  }
}

queue "q%[1]d" {
  dead_letter {
    max_receives = 3
  }
}

trigger "t%[1]d" {
  function = function.w%[1]d
  queue {
    queue = queue.q%[1]d
  }
}
`, i, src)
	}
	for _, fn := range []string{"fn", "fn0"} {
		must(tb, os.MkdirAll(filepath.Join(dir, fn), 0o755))
		must(tb, os.WriteFile(filepath.Join(dir, fn, "main.py"), []byte("def handler(event, context):\n    return None\n"), 0o644))
	}
	must(tb, os.WriteFile(filepath.Join(dir, "evdeploy.evd.hcl"), []byte(b.String()), 0o644))
	return dir
}

func must(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
}

// usage is what one evdeploy process cost.
type usage struct {
	wall, cpu time.Duration // cpu: user + system time of the process
	rssMB     float64       // peak resident set size
}

// evd runs evdeploy and returns what it cost. With $EVDEPLOY_BENCH_PROFILE set
// to a directory and a non-empty profile name, the process writes its CPU
// profile there as <profile>.pprof.
func evd(tb testing.TB, bin string, want int, profile string, args ...string) usage {
	return evdEnv(tb, bin, want, profile, nil, args...)
}

// evdEnv is evd with extra environment variables.
func evdEnv(tb testing.TB, bin string, want int, profile string, env []string, args ...string) usage {
	tb.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	if dir := os.Getenv("EVDEPLOY_BENCH_PROFILE"); dir != "" && profile != "" {
		cmd.Env = append(cmd.Env, "EVDEPLOY_CPUPROFILE="+filepath.Join(dir, profile+".pprof"))
	}
	start := time.Now()
	out, err := cmd.CombinedOutput()
	wall := time.Since(start)
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		tb.Fatal(err)
	}
	if code != want {
		tb.Fatalf("evdeploy %s: exit %d, want %d\n%s", strings.Join(args, " "), code, want, out)
	}
	u := usage{wall: wall, cpu: cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		u.rssMB = float64(ru.Maxrss) / 1024 // KiB on Linux
	}
	return u
}

// benchSizes are the app sizes BenchmarkCommands runs; select one with
// -bench 'Commands/functions=1000$'.
var benchSizes = []int{10, 100, 1000}

// BenchmarkCommands times each command of an app's life at several sizes and
// reports the API calls it made, evdeploy's CPU time and its peak RSS. The
// steps: apply from empty, plan and apply with no change, apply after one
// function's code changed, destroy. $EVDEPLOY_BENCH_LATENCY (a Go duration,
// e.g. 50ms) delays every API call by that much.
func BenchmarkCommands(b *testing.B) {
	bin, emu := setup(b)
	var latency time.Duration
	if s := os.Getenv("EVDEPLOY_BENCH_LATENCY"); s != "" {
		d, err := time.ParseDuration(s)
		must(b, err)
		latency = d
	}
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("functions=%d", n), func(b *testing.B) {
			c := apicalls.NewCounter(emu)
			c.Latency = latency
			b.Cleanup(c.Close)
			dir := project(b, n)
			type step struct {
				name string
				args []string
			}
			type acc struct {
				ms, cpuMS, rssMB, reads, writes float64
				boundMS, walkMS                 float64 // critical-path bound and the executor's span
				emuCPUMS                        float64 // this process: the emulator and the counting proxy
			}
			steps := map[string]acc{}
			order := []string{"apply-create", "plan-nochange", "apply-nochange", "apply-codechange", "destroy"}
			for i := 0; i < b.N; i++ {
				stage := fmt.Sprintf("b%d", stageSeq.Add(1))
				common := []string{"-C", dir, "--stage", stage, "--target", "local", "--endpoint", c.URL}
				for _, s := range []step{
					{"apply-create", []string{"apply", "--auto-approve"}},
					{"plan-nochange", []string{"plan", "--detailed-exitcode"}},
					{"apply-nochange", []string{"apply", "--auto-approve"}},
					{"apply-codechange", []string{"apply", "--auto-approve"}},
					{"destroy", []string{"destroy", "--auto-approve", "--allow-data-loss"}},
				} {
					if s.name == "apply-codechange" {
						must(b, os.WriteFile(filepath.Join(dir, "fn0", "main.py"),
							[]byte(fmt.Sprintf("def handler(event, context):\n    return %q\n", stage)), 0o644))
					}
					c.Reset()
					trace := filepath.Join(b.TempDir(), "ops.jsonl")
					emuBefore := selfCPU()
					u := evdEnv(b, bin, 0, fmt.Sprintf("n%d-%s", n, s.name), []string{"EVDEPLOY_OPTRACE=" + trace}, append(s.args, common...)...)
					if s.name == "plan-nochange" && i == 0 {
						logOps(b, n, c.Ops())
					}
					r, w := c.Reset()
					a := steps[s.name]
					a.ms += float64(u.wall) / 1e6
					a.cpuMS += float64(u.cpu) / 1e6
					a.rssMB = max(a.rssMB, u.rssMB)
					a.reads += float64(r)
					a.writes += float64(len(w))
					a.emuCPUMS += float64(selfCPU()-emuBefore) / 1e6
					if cp, err := criticalPath(trace, 10); err == nil {
						a.boundMS += float64(cp.bound) / 1e6
						a.walkMS += float64(cp.span) / 1e6
					} else if !os.IsNotExist(err) {
						b.Fatal(err)
					}
					steps[s.name] = a
				}
			}
			for _, name := range order {
				a := steps[name]
				b.ReportMetric(a.ms/float64(b.N), name+"-ms")
				b.ReportMetric(a.cpuMS/float64(b.N), name+"-cpu-ms")
				b.ReportMetric(a.emuCPUMS/float64(b.N), name+"-emu-cpu-ms")
				b.ReportMetric(a.rssMB, name+"-MB")
				b.ReportMetric(a.reads/float64(b.N), name+"-reads")
				b.ReportMetric(a.writes/float64(b.N), name+"-writes")
				if a.boundMS > 0 && (name == "apply-create" || name == "destroy") {
					b.ReportMetric(a.boundMS/float64(b.N), name+"-bound-ms")
					b.ReportMetric(a.walkMS/a.boundMS, name+"-walk/bound")
					b.ReportMetric(a.ms/a.boundMS, name+"-wall/bound")
				}
			}
			b.ReportMetric(0, "ns/op")
		})
	}
}

// selfCPU is the CPU time this process (the emulator and the counting proxy)
// has used so far.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// schedule is what an op trace says of one run of the executor.
type schedule struct {
	// bound is the least time any schedule could take with the operations'
	// measured durations: the longer of the critical path (the chain of
	// dependent operations with the largest total duration) and the total
	// work divided by the parallelism.
	bound time.Duration
	span  time.Duration // first start to last end: what the executor took
	// cp and work are the critical path and the total work (each
	// operation's duration less what it waited for API rate budgets).
	cp, work time.Duration
	failed   int // operations that failed
}

// criticalPath reads an op trace ($EVDEPLOY_OPTRACE: one JSON line per
// operation with its start, end and the resource's dependencies) and computes
// the schedule's bound. A create or update waits for the puts of the
// resources it depends on; a delete waits for the deletes of the resources
// that depend on it.
func criticalPath(path string, parallelism int) (schedule, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return schedule{}, err
	}
	type opRec struct {
		Addr       string   `json:"addr"`
		Op         string   `json:"op"`
		Start, End int64    // Unix nanoseconds
		Deps       []string `json:"deps"`
		Waited     int64    `json:"waited"` // for rate budgets, not working
		Failed     bool     `json:"failed"`
	}
	var ops []opRec
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if line == "" {
			continue
		}
		var o opRec
		if err := json.Unmarshal([]byte(line), &o); err != nil {
			return schedule{}, fmt.Errorf("%s: %w", path, err)
		}
		ops = append(ops, o)
	}
	if len(ops) == 0 {
		return schedule{}, os.ErrNotExist
	}
	puts := map[string]int{}
	dels := map[string]int{}
	users := map[string][]int{} // resource → deletes of resources depending on it
	for i, o := range ops {
		if o.Op == "delete" {
			dels[o.Addr] = i
			for _, d := range o.Deps {
				users[d] = append(users[d], i)
			}
		} else {
			puts[o.Addr] = i
		}
	}
	preds := func(i int) []int {
		o := ops[i]
		var out []int
		if o.Op == "delete" {
			out = users[o.Addr]
		} else {
			for _, d := range o.Deps {
				if j, ok := puts[d]; ok {
					out = append(out, j)
				}
			}
		}
		if j, ok := dels[o.Addr]; ok && o.Op != "delete" {
			out = append(out, j) // a replace creates after deleting
		}
		return out
	}
	finish := make([]time.Duration, len(ops)) // earliest finish with unbounded parallelism
	state := make([]int8, len(ops))
	var longest func(i int) time.Duration
	longest = func(i int) time.Duration {
		if state[i] == 2 {
			return finish[i]
		}
		state[i] = 1
		var before time.Duration
		for _, j := range preds(i) {
			if state[j] != 1 { // ignore a cycle rather than loop (cannot happen)
				before = max(before, longest(j))
			}
		}
		finish[i] = before + time.Duration(ops[i].End-ops[i].Start-ops[i].Waited)
		state[i] = 2
		return finish[i]
	}
	var cp, work time.Duration
	failed := 0
	first, last := ops[0].Start, ops[0].End
	for i, o := range ops {
		cp = max(cp, longest(i))
		work += time.Duration(o.End - o.Start - o.Waited)
		first, last = min(first, o.Start), max(last, o.End)
		if o.Failed {
			failed++
		}
	}
	return schedule{bound: max(cp, work/time.Duration(parallelism)), span: time.Duration(last - first),
		cp: cp, work: work, failed: failed}, nil
}

// logOps logs the calls of a no-change plan by operation, most first, for
// finding reads that could be fewer (run with -v).
func logOps(b *testing.B, n int, ops map[string]int) {
	names := make([]string, 0, len(ops))
	for k := range ops {
		names = append(names, k)
	}
	sort.Slice(names, func(i, j int) bool {
		return ops[names[i]] > ops[names[j]] || ops[names[i]] == ops[names[j]] && names[i] < names[j]
	})
	var sb strings.Builder
	for _, k := range names {
		fmt.Fprintf(&sb, "\n  %6d %s", ops[k], k)
	}
	b.Logf("functions=%d: no-change plan calls by operation:%s", n, sb.String())
}

// TestHarness checks the harness itself on a tiny app (what `go test ./...`
// runs): one full life, with a no-change apply making no writes.
func TestHarness(t *testing.T) {
	if testing.Short() {
		t.Skip("builds evdeploy")
	}
	bin, emu := setup(t)
	c := apicalls.NewCounter(emu)
	t.Cleanup(c.Close)
	dir := project(t, 2)
	common := []string{"-C", dir, "--stage", "h", "--target", "local", "--endpoint", c.URL}
	trace := filepath.Join(t.TempDir(), "ops.jsonl")
	evdEnv(t, bin, 0, "", []string{"EVDEPLOY_OPTRACE=" + trace}, append([]string{"apply", "--auto-approve"}, common...)...)
	_, w := c.Reset()
	if len(w) == 0 {
		t.Error("apply from empty made no write calls")
	}
	// The op trace has every operation: one per resource created.
	if cp, err := criticalPath(trace, 10); err != nil || cp.bound <= 0 || cp.span < cp.bound/10 {
		t.Errorf("op trace: %+v, %v", cp, err)
	}
	if n := strings.Count(string(readAll(t, trace)), "\n"); n == 0 || n > len(w) {
		t.Errorf("op trace has %d operations, apply made %d writes (at least one per create)", n, len(w))
	}
	evd(t, bin, 0, "", append([]string{"apply", "--auto-approve"}, common...)...)
	if _, w := c.Reset(); len(w) != 0 {
		t.Errorf("a no-change apply made %d write calls: %v", len(w), w)
	}
	evd(t, bin, 0, "", append([]string{"destroy", "--auto-approve", "--allow-data-loss"}, common...)...)
}

// TestCriticalPath checks the bound on hand-made traces.
func TestCriticalPath(t *testing.T) {
	ms := int64(time.Millisecond)
	tests := []struct {
		name        string
		trace       string
		parallelism int
		bound, span time.Duration
	}{
		{
			name: "creates: the chain a → b is longer than c",
			trace: fmt.Sprintf(`{"addr":"a","op":"create","start":0,"end":%d}
{"addr":"b","op":"create","start":%d,"end":%d,"deps":["a"]}
{"addr":"c","op":"create","start":0,"end":%d}`, 100*ms, 120*ms, 320*ms, 50*ms),
			parallelism: 10, bound: 300 * time.Millisecond, span: 320 * time.Millisecond,
		},
		{
			name: "deletes wait for their dependents' deletes",
			trace: fmt.Sprintf(`{"addr":"b","op":"delete","start":0,"end":%d,"deps":["a"]}
{"addr":"a","op":"delete","start":%d,"end":%d}`, 100*ms, 100*ms, 150*ms),
			parallelism: 10, bound: 150 * time.Millisecond, span: 150 * time.Millisecond,
		},
		{
			name: "independent work bounded by the parallelism",
			trace: fmt.Sprintf(`{"addr":"a","op":"create","start":0,"end":%d}
{"addr":"b","op":"create","start":0,"end":%d}
{"addr":"c","op":"create","start":%d,"end":%d}`, 100*ms, 100*ms, 100*ms, 200*ms),
			parallelism: 2, bound: 150 * time.Millisecond, span: 200 * time.Millisecond,
		},
		{
			name: "time waiting for a rate budget is not work",
			trace: fmt.Sprintf(`{"addr":"a","op":"create","start":0,"end":%d,"waited":%d}
{"addr":"b","op":"create","start":%d,"end":%d,"deps":["a"]}`, 300*ms, 250*ms, 300*ms, 350*ms),
			parallelism: 10, bound: 100 * time.Millisecond, span: 350 * time.Millisecond,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "ops.jsonl")
			must(t, os.WriteFile(path, []byte(tt.trace), 0o644))
			got, err := criticalPath(path, tt.parallelism)
			if err != nil {
				t.Fatal(err)
			}
			if got.bound != tt.bound || got.span != tt.span {
				t.Errorf("bound %v span %v, want %v and %v", got.bound, got.span, tt.bound, tt.span)
			}
		})
	}
}

func readAll(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	must(t, err)
	return data
}
