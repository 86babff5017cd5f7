package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/evdeploy/evdeploy/localstack"
)

func init() { registerVerb(newCmdLocal) }

func newCmdLocal(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "local",
		Short: "Run and inspect a local cloud: the embedded engine or LocalStack",
		Long: `Run a local AWS-compatible cloud to deploy to with --target local.

The embedded engine (the default) is the kumo emulator run by a background
evdeploy process: no Docker, no account. --engine localstack runs LocalStack in
Docker instead (it needs LOCALSTACK_AUTH_TOKEN since 2026.03).

The running engine is recorded in $EVDEPLOY_STATE_HOME, else
$XDG_STATE_HOME/evdeploy, else ~/.local/state/evdeploy. See docs/local.md.`,
		Example: `  evdeploy local up
  evdeploy apply --target local --auto-approve
  evdeploy local status
  evdeploy local down`,
	}
	cmd.AddCommand(newCmdLocalUp(f), newCmdLocalStatus(f), newCmdLocalDown(f), newCmdLocalServe(f))
	return cmd
}

// localUpOptions are `local up`'s flags.
type localUpOptions struct {
	Engine  string
	Port    int
	Image   string
	Timeout time.Duration
	Fresh   bool
}

func newCmdLocalUp(f *Factory) *cobra.Command {
	opts := &localUpOptions{}
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Start a local cloud (the embedded engine, or LocalStack with --engine localstack)",
		Long: `up starts a local AWS-compatible cloud in the background and records where it
listens, so --target local finds it. The default engine is evdeploy's own
(an in-process emulator that also runs your functions; no Docker needed);
--engine localstack starts LocalStack in Docker instead. The embedded engine
keeps what is deployed to it across local down / local up (--fresh starts it
empty).`,
		Example: `  evdeploy local up
  evdeploy local up --engine localstack`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return localUpRun(cmd.Context(), f, opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Engine, "engine", localstack.KindEmbedded, "engine: embedded (no Docker) or localstack (Docker)")
	fl.IntVar(&opts.Port, "port", 0, "loopback port (default 4566, or $EVDEPLOY_LOCAL_PORT)")
	fl.BoolVar(&opts.Fresh, "fresh", false, "start the embedded engine empty, forgetting what earlier runs deployed")
	fl.StringVar(&opts.Image, "image", "", "LocalStack image (default "+localstack.DefaultImage+"; a tag from before 2026.03 needs no token)")
	fl.DurationVar(&opts.Timeout, "timeout", 0, "how long to wait for the engine to answer (default 30s embedded, 3m LocalStack)")
	return cmd
}

func localUpRun(ctx context.Context, f *Factory, opts *localUpOptions) error {
	if ctx == nil {
		ctx = context.Background()
	}
	port := opts.Port
	if port == 0 {
		p, err := localstack.LocalPort(nil)
		if err != nil {
			return err
		}
		port = p
	}
	var (
		rec *localstack.Record
		err error
	)
	switch opts.Engine {
	case localstack.KindEmbedded:
		if opts.Image != "" {
			return fmt.Errorf("--image applies to --engine localstack only")
		}
		rec, err = localstack.Start(ctx, localstack.StartOptions{Port: port, Version: evdeployVersion(), Timeout: opts.Timeout, Fresh: opts.Fresh})
	case localstack.KindLocalStack:
		rec, err = localstack.StartLocalStack(ctx, localstack.LocalStackOptions{
			Port: port, Image: opts.Image, Version: evdeployVersion(), HealthTimeout: opts.Timeout,
		})
	default:
		return fmt.Errorf("--engine must be embedded or localstack, not %q", opts.Engine)
	}
	if err != nil {
		return explainPortTaken(err, port)
	}
	w := f.IO.Out
	name := localEngineName(rec)
	if rec.AlreadyRunning {
		fmt.Fprintf(w, "%s is already running at %s%s.\n", localUpper(name), rec.Endpoint, localSince(rec))
		if opts.Fresh {
			fmt.Fprintln(w, "  (--fresh empties an engine that starts: run `evdeploy local down` first)")
		}
		if rec.Kind != opts.Engine {
			fmt.Fprintf(w, "  (you asked for --engine %s: run `evdeploy local down` first to switch)\n", opts.Engine)
		} else if !strings.HasSuffix(rec.Endpoint, ":"+strconv.Itoa(port)) {
			fmt.Fprintf(w, "  (you asked for port %d: run `evdeploy local down` first to move it)\n", port)
		}
	} else {
		fmt.Fprintf(w, "Started %s at %s%s.\n", name, rec.Endpoint, localPidNote(rec))
	}
	if rec.Log != "" {
		fmt.Fprintf(w, "  log: %s\n", rec.Log)
	}
	fmt.Fprintf(w, "Use it:\n  evdeploy apply --target local\n  export AWS_ENDPOINT_URL=%s   # for the AWS CLI and SDKs\nStop it: evdeploy local down\n", rec.Endpoint)
	return nil
}

func newCmdLocalDown(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "down",
		Short: "Stop the local cloud that `local up` started and forget it",
		Long: `down stops the local cloud that local up started (the embedded engine's
process or the LocalStack container) and removes its record. Everything
deployed to it is gone.`,
		Example: `  evdeploy local down`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			rec, err := localstack.Stop(ctx, localstack.StopOptions{})
			if errors.Is(err, localstack.ErrNotRunning) {
				dir, _ := localstack.StateDir(nil)
				fmt.Fprintf(f.IO.Out, "Nothing to stop: no engine is recorded in %s.\n", dir)
				return nil
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(f.IO.Out, "Stopped %s at %s%s.\n", localEngineName(rec), rec.Endpoint, localPidNote(rec))
			return nil
		},
	}
}

// localStatusEntry is one endpoint `local status` looked at.
type localStatusEntry struct {
	Endpoint string             `json:"endpoint"`
	Source   string             `json:"source"` // --endpoint, record, AWS_ENDPOINT_URL, default port
	Status   *localstack.Status `json:"status,omitempty"`
	Error    string             `json:"error,omitempty"`
}

type localStatusReport struct {
	StateDir  string              `json:"state_dir"`
	Record    *localstack.Record  `json:"record"`
	Endpoints []*localStatusEntry `json:"endpoints"`
	// Interpreters the embedded engine runs Python and Node.js functions
	// with on this machine (local_interp.go).
	Interpreters []localstack.Interpreter `json:"interpreters,omitempty"`
}

func newCmdLocalStatus(f *Factory) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Say what local cloud is running where (engine, version, services)",
		Long: `Say what local cloud is running where. Without --endpoint it looks at the
recorded engine, AWS_ENDPOINT_URL and localhost:4566. It recognises LocalStack
(/_localstack/health), the embedded engine, a bare kumo, and any other endpoint
that answers STS. Exits 1 when nothing answers.`,
		Example: `  evdeploy local status
  evdeploy local status --endpoint http://localhost:4566`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			return localStatusRun(ctx, f, asJSON)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the status as JSON")
	return cmd
}

func localStatusRun(ctx context.Context, f *Factory, asJSON bool) error {
	dir, err := localstack.StateDir(nil)
	if err != nil {
		return err
	}
	rec, err := localstack.ReadRecord(dir)
	if err != nil {
		return err
	}
	rep := &localStatusReport{StateDir: dir, Record: rec}
	seen := map[string]bool{}
	add := func(ep, source string) {
		ep = strings.TrimRight(ep, "/")
		key := (&TargetInfo{Target: "local", Endpoint: ep}).ID()
		if ep == "" || seen[key] {
			return
		}
		seen[key] = true
		rep.Endpoints = append(rep.Endpoints, &localStatusEntry{Endpoint: ep, Source: source})
	}
	if f.Global.Endpoint != "" {
		add(f.Global.Endpoint, "--endpoint")
	} else {
		if rec != nil {
			add(rec.Endpoint, "record")
		}
		add(os.Getenv("AWS_ENDPOINT_URL"), "AWS_ENDPOINT_URL")
		port, err := localstack.LocalPort(nil)
		if err != nil {
			return err
		}
		add(fmt.Sprintf("http://localhost:%d", port), "default port")
	}
	answering := 0
	for _, e := range rep.Endpoints {
		st, err := localstack.Probe(ctx, e.Endpoint)
		if err != nil {
			e.Error = err.Error()
			continue
		}
		e.Status = st
		answering++
		if st.Kind == localstack.KindEmbedded && rep.Interpreters == nil {
			rep.Interpreters = localstack.Interpreters()
		}
	}
	if asJSON {
		enc := json.NewEncoder(f.IO.Out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		printLocalStatus(f.IO.Out, rep)
		printInterpreters(f.IO.Out, rep)
	}
	if answering == 0 {
		return silentExit(exitError)
	}
	return nil
}

func printLocalStatus(w io.Writer, rep *localStatusReport) {
	first := true
	for _, e := range rep.Endpoints {
		if e.Status == nil {
			// Only the explicitly named or recorded endpoints are worth a line
			// when silent; the default port is reported below if all are.
			switch e.Source {
			case "--endpoint", "AWS_ENDPOINT_URL":
				fmt.Fprintf(w, "Nothing answers at %s (%s): %s\n", e.Endpoint, e.Source, e.Error)
				first = false
			case "record":
				fmt.Fprintf(w, "The recorded %s at %s does not answer (stale record in %s: `evdeploy local down` clears it).\n",
					localEngineName(rep.Record), e.Endpoint, rep.StateDir)
				first = false
			}
			continue
		}
		if !first {
			fmt.Fprintln(w)
		}
		first = false
		st := e.Status
		fmt.Fprintf(w, "%s at %s\n", localUpper(st.Describe()), st.Endpoint)
		if st.Kind == localstack.KindEmbedded {
			fmt.Fprintf(w, "  started %s by evdeploy %s\n", st.Started.Local().Format("2006-01-02 15:04:05 MST"), st.EvdeployVersion)
		}
		if st.Account != "" {
			fmt.Fprintf(w, "  account %s\n", st.Account)
		}
		if e.Source == "record" && rep.Record != nil {
			fmt.Fprintf(w, "  recorded in %s", filepath.Join(rep.StateDir, "engine.json"))
			if rep.Record.Log != "" {
				fmt.Fprintf(w, "; log %s", rep.Record.Log)
			}
			fmt.Fprintln(w)
		}
		if len(st.Services) > 0 {
			fmt.Fprintln(w, "  services evdeploy needs:")
			for _, s := range localstack.NeededServices {
				state := st.Services[s]
				if state == "" {
					state = "(not reported)"
				}
				fmt.Fprintf(w, "    %-16s %s\n", s, state)
			}
			if miss := st.MissingServices(); len(miss) > 0 {
				fmt.Fprintf(w, "  not available: %s\n", strings.Join(miss, ", "))
			}
			others := 0
			for s := range st.Services {
				if !slices.Contains(localstack.NeededServices, s) {
					others++
				}
			}
			if others > 0 {
				fmt.Fprintf(w, "  (%d other services reported)\n", others)
			}
		} else if st.Kind == localstack.KindEmbedded {
			fmt.Fprintln(w, "  services: all served in-process (see docs/local.md for what runs)")
		}
		if len(st.Functions) > 0 {
			fmt.Fprintln(w, "  functions:")
			names := make([]string, 0, len(st.Functions))
			for n := range st.Functions {
				names = append(names, n)
			}
			sort.Strings(names)
			for _, n := range names {
				fmt.Fprintf(w, "    %s: %s\n", n, st.Functions[n])
			}
		}
		fmt.Fprintf(w, "  use it: evdeploy apply --target local   (or export AWS_ENDPOINT_URL=%s)\n", st.Endpoint)
	}
	if first {
		fmt.Fprintln(w, "No local cloud is running. Start one with `evdeploy local up`.")
	}
}

func newCmdLocalServe(f *Factory) *cobra.Command {
	var (
		port         int
		runFunctions bool
	)
	cmd := &cobra.Command{
		Use:    "serve",
		Short:  "Run the embedded engine in the foreground (what `local up` runs in the background)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
			defer stop()
			if port == 0 {
				p, err := localstack.LocalPort(nil)
				if err != nil {
					return err
				}
				port = p
			}
			lg := log.New(f.IO.ErrOut, "", log.LstdFlags)
			return localstack.Serve(ctx, net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), localstack.ServeOptions{
				Version: evdeployVersion(), Logger: lg, RunFunctions: runFunctions,
			})
		},
	}
	cmd.Flags().IntVar(&port, "port", 0, "loopback port (default 4566, or $EVDEPLOY_LOCAL_PORT)")
	cmd.Flags().BoolVar(&runFunctions, "run-functions", true, "run deployed functions whose bootstrap this machine can execute")
	return cmd
}

func localEngineName(rec *localstack.Record) string {
	if rec == nil {
		return "engine"
	}
	switch rec.Kind {
	case localstack.KindEmbedded:
		return fmt.Sprintf("the embedded engine (kumo %s)", rec.EngineVersion)
	case localstack.KindLocalStack:
		n := "LocalStack"
		if rec.EngineVersion != "" {
			n += " " + rec.EngineVersion
		}
		return n + " (container " + rec.Container + ", image " + rec.Image + ")"
	}
	return rec.Kind
}

func localPidNote(rec *localstack.Record) string {
	if rec.PID > 0 {
		return fmt.Sprintf(", pid %d", rec.PID)
	}
	return ""
}

func localSince(rec *localstack.Record) string {
	s := localPidNote(rec)
	if !rec.Started.IsZero() {
		s += ", since " + rec.Started.Local().Format("2006-01-02 15:04:05 MST")
	}
	return s
}

func localUpper(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
