package bench

import (
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
		emuURL = kumo.NewServer().URL
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
	tb.Helper()
	cmd := exec.Command(bin, args...)
	if dir := os.Getenv("EVDEPLOY_BENCH_PROFILE"); dir != "" && profile != "" {
		cmd.Env = append(os.Environ(), "EVDEPLOY_CPUPROFILE="+filepath.Join(dir, profile+".pprof"))
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
					u := evd(b, bin, 0, fmt.Sprintf("n%d-%s", n, s.name), append(s.args, common...)...)
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
					steps[s.name] = a
				}
			}
			for _, name := range order {
				a := steps[name]
				b.ReportMetric(a.ms/float64(b.N), name+"-ms")
				b.ReportMetric(a.cpuMS/float64(b.N), name+"-cpu-ms")
				b.ReportMetric(a.rssMB, name+"-MB")
				b.ReportMetric(a.reads/float64(b.N), name+"-reads")
				b.ReportMetric(a.writes/float64(b.N), name+"-writes")
			}
			b.ReportMetric(0, "ns/op")
		})
	}
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
	evd(t, bin, 0, "", append([]string{"apply", "--auto-approve"}, common...)...)
	if _, w := c.Reset(); len(w) == 0 {
		t.Error("apply from empty made no write calls")
	}
	evd(t, bin, 0, "", append([]string{"apply", "--auto-approve"}, common...)...)
	if _, w := c.Reset(); len(w) != 0 {
		t.Errorf("a no-change apply made %d write calls: %v", len(w), w)
	}
	evd(t, bin, 0, "", append([]string{"destroy", "--auto-approve", "--allow-data-loss"}, common...)...)
}
