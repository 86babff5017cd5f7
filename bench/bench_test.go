package bench

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
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
// all write — about 8n provider resources.
func project(tb testing.TB, n int) string {
	tb.Helper()
	dir := tb.TempDir()
	var b strings.Builder
	b.WriteString("app \"bench\" {}\n\ntable \"items\" {\n  hash_key = \"id\"\n}\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, `
function "w%[1]d" {
  runtime = "python3.12"
  source  = "./fn"
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
`, i)
	}
	must(tb, os.MkdirAll(filepath.Join(dir, "fn"), 0o755))
	must(tb, os.WriteFile(filepath.Join(dir, "fn", "main.py"), []byte("def handler(event, context):\n    return None\n"), 0o644))
	must(tb, os.WriteFile(filepath.Join(dir, "evdeploy.evd.hcl"), []byte(b.String()), 0o644))
	return dir
}

func must(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
}

func evd(tb testing.TB, bin string, want int, args ...string) {
	tb.Helper()
	out, err := exec.Command(bin, args...).CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		tb.Fatal(err)
	}
	if code != want {
		tb.Fatalf("evdeploy %s: exit %d, want %d\n%s", strings.Join(args, " "), code, want, out)
	}
}

// BenchmarkCommands times each command of an app's life at several sizes and
// reports the API calls it made.
func BenchmarkCommands(b *testing.B) {
	bin, emu := setup(b)
	for _, n := range []int{10, 50, 100} {
		b.Run(fmt.Sprintf("functions=%d", n), func(b *testing.B) {
			c := apicalls.NewCounter(emu)
			b.Cleanup(c.Close)
			dir := project(b, n)
			type step struct {
				name string
				args []string
				code int
			}
			var steps map[string][3]float64 = map[string][3]float64{}
			order := []string{"apply-create", "plan-nochange", "apply-nochange", "destroy"}
			for i := 0; i < b.N; i++ {
				stage := fmt.Sprintf("b%d", stageSeq.Add(1))
				common := []string{"-C", dir, "--stage", stage, "--target", "local", "--endpoint", c.URL}
				for _, s := range []step{
					{"apply-create", []string{"apply", "--auto-approve"}, 0},
					{"plan-nochange", []string{"plan", "--detailed-exitcode"}, 0},
					{"apply-nochange", []string{"apply", "--auto-approve"}, 0},
					{"destroy", []string{"destroy", "--auto-approve", "--allow-data-loss"}, 0},
				} {
					c.Reset()
					start := time.Now()
					evd(b, bin, s.code, append(s.args, common...)...)
					elapsed := time.Since(start)
					r, w := c.Reset()
					acc := steps[s.name]
					acc[0] += float64(elapsed) / 1e6
					acc[1] += float64(r)
					acc[2] += float64(len(w))
					steps[s.name] = acc
				}
			}
			for _, name := range order {
				acc := steps[name]
				b.ReportMetric(acc[0]/float64(b.N), name+"-ms")
				b.ReportMetric(acc[1]/float64(b.N), name+"-reads")
				b.ReportMetric(acc[2]/float64(b.N), name+"-writes")
			}
			b.ReportMetric(0, "ns/op")
		})
	}
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
	evd(t, bin, 0, append([]string{"apply", "--auto-approve"}, common...)...)
	if _, w := c.Reset(); len(w) == 0 {
		t.Error("apply from empty made no write calls")
	}
	evd(t, bin, 0, append([]string{"apply", "--auto-approve"}, common...)...)
	if _, w := c.Reset(); len(w) != 0 {
		t.Errorf("a no-change apply made %d write calls: %v", len(w), w)
	}
	evd(t, bin, 0, append([]string{"destroy", "--auto-approve", "--allow-data-loss"}, common...)...)
}
