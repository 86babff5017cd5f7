package main

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/spf13/cobra"

	"github.com/evdeploy/evdeploy/localstack"
	"github.com/evdeploy/evdeploy/planner"
)

func init() { registerVerb(newCmdDev) }

// DevOptions are dev's flags.
type DevOptions struct {
	Port int
	Down bool
	// Poll is how often the project folder is scanned for changes.
	Poll time.Duration
	// Debug are the functions run under their debugger: FUNCTION[=PORT].
	Debug []string
}

func newCmdDev(f *Factory) *cobra.Command {
	opts := &DevOptions{}
	cmd := &cobra.Command{
		Use:   "dev",
		Short: "Run the app on the embedded local cloud and redeploy on every save",
		Long: `dev starts the embedded local engine (or reuses the one running), applies the
app to it (printing the plan), prints the outputs, then watches the project
folder until Ctrl-C:

  - an edit to a function's source rebuilds and redeploys that function alone;
  - an edit to the spec re-plans and applies the difference;
  - a spec that does not load is shown and waited out: nothing is destroyed.

Every function's output (from its CloudWatch log group, which the engine
fills) is printed prefixed with the function's name, in a colour per function
on a terminal (none with NO_COLOR or --no-color). Ctrl-C stops watching and
exits 0; the engine stays up for the next run unless --down is given.

--debug FUNCTION[=PORT] runs that function under its runtime's debugger on
127.0.0.1:PORT (Node.js --inspect, Go under a headless Delve, Python under
debugpy) and prints how to attach; see docs/local.md, "Debugging".`,
		Example: `  evdeploy dev
  evdeploy dev --port 4577 --down
  evdeploy dev --debug api            # Node :9229, Go (Delve) :2345, Python (debugpy) :5678
  evdeploy dev --debug api=9230 --debug worker`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if fl := cmd.Flag("target"); fl != nil && fl.Changed && fl.Value.String() != "local" {
				return fmt.Errorf("dev runs on the embedded local engine; --target %s is not for it", fl.Value.String())
			}
			return devRun(cmd.Context(), f, opts)
		},
	}
	cmd.Flags().IntVar(&opts.Port, "port", 0, "the engine's port when dev starts it (default 4566, or $EVDEPLOY_LOCAL_PORT)")
	cmd.Flags().BoolVar(&opts.Down, "down", false, "stop the engine when dev exits")
	cmd.Flags().DurationVar(&opts.Poll, "poll", 100*time.Millisecond, "how often the project folder is checked for changes")
	_ = cmd.Flags().MarkHidden("poll")
	cmd.Flags().StringArrayVar(&opts.Debug, "debug", nil, "run `FUNCTION[=PORT]` under its runtime's debugger (repeatable)")
	return cmd
}

func devRun(ctx context.Context, f *Factory, opts *DevOptions) error {
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	f.Global.Target = "local"
	w := f.IO.ErrOut
	var debugs []*debugTarget
	if len(opts.Debug) > 0 {
		app, _, err := loadApp(f)
		if err != nil {
			return err
		}
		if debugs, err = parseDebugFlags(opts.Debug, app); err != nil {
			return err
		}
		f.debugFns = map[string]bool{}
		for _, d := range debugs {
			f.debugFns[d.block] = true
		}
	}
	endpoint := f.Global.Endpoint
	if f.Global.Endpoint == "" {
		rec, err := localstack.Start(ctx, localstack.StartOptions{Port: opts.Port, Version: evdeployVersion()})
		if err != nil {
			return err
		}
		endpoint = rec.Endpoint
		if rec.AlreadyRunning {
			fmt.Fprintf(w, "dev: using the engine running at %s\n", rec.Endpoint)
			if opts.Port != 0 && !strings.HasSuffix(rec.Endpoint, fmt.Sprintf(":%d", opts.Port)) {
				fmt.Fprintf(w, "dev: (you asked for port %d: run `evdeploy local down` first to move it)\n", opts.Port)
			}
		} else {
			fmt.Fprintf(w, "dev: started the embedded engine at %s (pid %d)\n", rec.Endpoint, rec.PID)
		}
	}
	if opts.Down {
		defer func() {
			if _, err := localstack.Stop(context.Background(), localstack.StopOptions{}); err == nil {
				fmt.Fprintln(w, "dev: stopped the engine")
			}
		}()
	}
	if opts.Poll <= 0 {
		opts.Poll = 100 * time.Millisecond
	}

	tails := &devTails{f: f, since: time.Now(), tails: map[string]*logTail{}, color: f.IO.Color && !f.Global.NoColor}
	apply := func(refresh bool) {
		err := applyRun(ctx, f, &ApplyOptions{AutoApprove: true, engineOptions: engineOptions{Refresh: refresh, Parallelism: planner.DefaultParallelism}})
		if err != nil && ctx.Err() == nil {
			fmt.Fprintf(w, "dev: %v\ndev: waiting for the next change (nothing was destroyed)\n", err)
		}
		tails.follow(ctx)
	}
	apply(true)
	if f.Global.Endpoint == "" {
		endStaleDebugging(ctx, f, endpoint, debugs)
	}
	if len(debugs) > 0 {
		defer endDebugging(f, endpoint, debugs)
		if err := startDebugging(ctx, f, endpoint, debugs); err != nil {
			return err
		}
	}
	root := f.Global.Dir
	if root == "" {
		root = "."
	}
	snap := scanProject(root)
	fmt.Fprintf(w, "dev: watching %s — Ctrl-C to stop\n", root)

	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); tails.run(ctx) }()
	defer wg.Wait()

	tick := time.NewTicker(opts.Poll)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			fmt.Fprintln(w, "dev: stopped watching")
			return nil
		case <-tick.C:
		}
		now := scanProject(root)
		changed := diffSnapshots(snap, now)
		if len(changed) == 0 {
			continue
		}
		// Let an editor finish writing (several files, temp file + rename).
		time.Sleep(30 * time.Millisecond)
		snap = scanProject(root)
		fmt.Fprintf(w, "dev: changed: %s\n", strings.Join(changed, ", "))
		started := time.Now()
		apply(false)
		fmt.Fprintf(w, "dev: deployed in %s\n", time.Since(started).Round(time.Millisecond))
	}
}

type fileStamp struct {
	mod  time.Time
	size int64
}

// scanProject stamps every file of the project except evdeploy's own.
func scanProject(root string) map[string]fileStamp {
	m := map[string]fileStamp{}
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		name := d.Name()
		if d.IsDir() {
			if p != root && (name == ".evdeploy" || name == ".git" || name == "node_modules" || name == "__pycache__") {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(name, "~") || strings.HasPrefix(name, ".#") || strings.HasSuffix(name, ".swp") {
			return nil // editor scratch files
		}
		if info, err := d.Info(); err == nil {
			m[p] = fileStamp{info.ModTime(), info.Size()}
		}
		return nil
	})
	return m
}

func diffSnapshots(a, b map[string]fileStamp) []string {
	var out []string
	for p, s := range b {
		if o, ok := a[p]; !ok || o != s {
			out = append(out, p)
		}
	}
	for p := range a {
		if _, ok := b[p]; !ok {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

// devTails streams every deployed function's log group, each line prefixed
// with the function's block name.
type devTails struct {
	f     *Factory
	since time.Time
	color bool

	mu    sync.Mutex
	c     *cloudwatchlogs.Client
	tails map[string]*logTail // by block name
	order []string
}

var devColors = []string{"36", "33", "35", "32", "34", "91", "96", "93"}

// follow picks up the functions in state (after an apply).
func (d *devTails) follow(ctx context.Context) {
	doc, err := readState(ctx, d.f)
	if err != nil || doc == nil {
		return
	}
	app, _, err := loadApp(d.f)
	region := ""
	if err == nil {
		region = app.Region
	}
	cfg, _, err := d.f.AWSConfig(ctx, region)
	if err != nil {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.c == nil {
		d.c = cloudwatchlogs.NewFromConfig(cfg)
	}
	present := map[string]bool{}
	for _, r := range doc.Resources {
		if r.Type != planner.TypeFunction {
			continue
		}
		name := strings.TrimPrefix(r.Block, "function.")
		present[name] = true
		if t := d.tails[name]; t == nil || t.group != "/aws/lambda/"+r.ID {
			d.tails[name] = &logTail{c: d.c, group: "/aws/lambda/" + r.ID, seen: map[string]bool{}, last: d.since.UnixMilli()}
			if t == nil {
				d.order = append(d.order, name)
			}
		}
	}
	for name := range d.tails {
		if !present[name] {
			delete(d.tails, name)
		}
	}
}

func (d *devTails) run(ctx context.Context) {
	width := 0
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(250 * time.Millisecond):
		}
		d.mu.Lock()
		type entry struct {
			name  string
			t     *logTail
			color string
		}
		var es []entry
		for i, n := range d.order {
			if t := d.tails[n]; t != nil {
				es = append(es, entry{n, t, devColors[i%len(devColors)]})
				width = max(width, len(n))
			}
		}
		d.mu.Unlock()
		for _, e := range es {
			prefix := fmt.Sprintf("%-*s | ", width, e.name)
			if d.color {
				prefix = "\x1b[" + e.color + "m" + prefix + "\x1b[0m"
			}
			_ = e.t.print(ctx, &prefixWriter{w: d.f.IO.Out}, time.UnixMilli(e.t.last), prefix)
		}
	}
}

// prefixWriter serialises lines from several tails.
type prefixWriter struct{ w io.Writer }

var devOutMu sync.Mutex

func (p *prefixWriter) Write(b []byte) (int, error) {
	devOutMu.Lock()
	defer devOutMu.Unlock()
	return p.w.Write(b)
}
