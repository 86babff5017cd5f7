package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/charmbracelet/log"
	"github.com/mattn/go-isatty"
	"github.com/muesli/termenv"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Exit codes. plan --detailed-exitcode uses exitChanges for "changes present".
const (
	exitOK      = 0
	exitError   = 1
	exitChanges = 2
)

// IOStreams are the command's terminal; tests use buffers.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
	// InTTY/OutTTY say whether the streams are terminals (interactive prompts,
	// colour). Tests set them explicitly.
	InTTY, OutTTY, ErrTTY bool
	Color                 bool
}

func defaultIOStreams() *IOStreams {
	outTTY := isatty.IsTerminal(os.Stdout.Fd())
	return &IOStreams{
		In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr,
		InTTY:  isatty.IsTerminal(os.Stdin.Fd()),
		OutTTY: outTTY,
		ErrTTY: isatty.IsTerminal(os.Stderr.Fd()),
		Color:  outTTY && os.Getenv("NO_COLOR") == "",
	}
}

// GlobalOptions are the flags every command shares.
type GlobalOptions struct {
	Dir      string
	Stage    string
	Vars     []string // k=v
	VarFiles []string
	Target   string // aws | local
	Endpoint string
	Region   string
	Profile  string
	LogLevel string
	NoColor  bool
}

// Factory carries what commands need, built lazily so that parse tests touch
// nothing.
type Factory struct {
	IO     *IOStreams
	Global *GlobalOptions
	Logger *log.Logger

	// redact scrubs sensitive values from IO.Out and IO.ErrOut (nil in
	// tests that build a Factory by hand); rawOut is stdout unscrubbed, for
	// `output NAME`, which prints a sensitive value on request.
	redact *redactor
	rawOut io.Writer

	// debugFns are the function blocks `dev --debug` debugs: loadApp gives
	// them the longest timeout, packageApp builds them for the debugger.
	debugFns map[string]bool
}

// stdoutRaw is where a value asked for by name is printed.
func (f *Factory) stdoutRaw() io.Writer {
	if f.rawOut != nil {
		return f.rawOut
	}
	return f.IO.Out
}

// exitError carries a specific exit code through cobra. A silent one has
// already been reported to the user.
type exitCodeError struct {
	code   int
	err    error
	silent bool
}

func (e *exitCodeError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}
func (e *exitCodeError) Unwrap() error { return e.err }

// silentExit ends the command with code, having already printed what matters.
func silentExit(code int) error { return &exitCodeError{code: code, silent: true} }

// verbs is filled by each verb file's init, so that adding a command touches
// one file.
var verbs []func(f *Factory) *cobra.Command

func registerVerb(newCmd func(f *Factory) *cobra.Command) { verbs = append(verbs, newCmd) }

func newRootCmd(f *Factory) *cobra.Command {
	g := f.Global
	root := &cobra.Command{
		Use:   "evdeploy",
		Short: "Deploy event-driven serverless applications described in HCL",
		Long: `evdeploy deploys functions, queues, topics, buses, buckets, tables, streams,
APIs and the triggers between them, described in *.evd.hcl files, to AWS, to
LocalStack, or to an embedded local cloud that needs neither Docker nor an account.`,
		Example: `  evdeploy init --template queue-worker orders && cd orders
  evdeploy validate
  evdeploy plan --target local
  evdeploy apply --target local --auto-approve
  evdeploy graph --out flow.svg`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			if g.NoColor || os.Getenv("NO_COLOR") != "" {
				f.IO.Color = false
			}
			if f.IO.Color && f.IO.ErrTTY {
				f.Logger.SetColorProfile(termenv.ANSI256)
			}
			lvl, err := log.ParseLevel(g.LogLevel)
			if err != nil {
				return fmt.Errorf("--log-level: %w", err)
			}
			f.Logger.SetLevel(lvl)
			switch g.Target {
			case "aws", "local":
			default:
				return fmt.Errorf("--target must be aws or local, not %q", g.Target)
			}
			return nil
		},
	}
	pf := root.PersistentFlags()
	pf.StringVarP(&g.Dir, "dir", "C", ".", "project folder")
	pf.StringVar(&g.Stage, "stage", "dev", "stage: selects separate state and physical names")
	pf.StringArrayVar(&g.Vars, "var", nil, "set a variable, `name=value` (repeatable)")
	pf.StringArrayVar(&g.VarFiles, "var-file", nil, "read variables from an HCL `file` (repeatable)")
	pf.StringVar(&g.Target, "target", "aws", "where to deploy: aws or local")
	pf.StringVar(&g.Endpoint, "endpoint", "", "AWS-compatible endpoint `URL` (implies a local target's conventions)")
	pf.StringVar(&g.Region, "region", "", "AWS region (default: spec, then AWS_REGION, then us-east-1)")
	pf.StringVar(&g.Profile, "profile", "", "AWS shared-config profile")
	pf.StringVar(&g.LogLevel, "log-level", "warn", "log level: debug, info, warn, error")
	pf.BoolVar(&g.NoColor, "no-color", false, "disable colour (also NO_COLOR)")

	for _, v := range verbs {
		root.AddCommand(v(f))
	}
	addCompletionExamples(root)
	return root
}

// addCompletionExamples gives cobra's generated `completion` commands the
// examples every command has (cobra adds them lazily; adding them now lets
// us annotate them).
func addCompletionExamples(root *cobra.Command) {
	root.InitDefaultCompletionCmd()
	examples := map[string]string{
		"completion": `  evdeploy completion bash > /etc/bash_completion.d/evdeploy
  evdeploy completion zsh > "${fpath[1]}/_evdeploy"`,
		"bash": `  source <(evdeploy completion bash)
  evdeploy completion bash > /etc/bash_completion.d/evdeploy`,
		"zsh":        `  evdeploy completion zsh > "${fpath[1]}/_evdeploy"`,
		"fish":       `  evdeploy completion fish > ~/.config/fish/completions/evdeploy.fish`,
		"powershell": `  evdeploy completion powershell | Out-String | Invoke-Expression`,
	}
	for _, c := range root.Commands() {
		if c.Name() != "completion" {
			continue
		}
		c.Example = examples["completion"]
		for _, sh := range c.Commands() {
			sh.Example = examples[sh.Name()]
		}
	}
}

// newLogger logs to w without colour until PersistentPreRunE knows whether
// colour is wanted. The writer is hidden behind a plain io.Writer because
// charmbracelet/log, handed a terminal, queries it for its colours (OSC 10/11
// and a cursor report) and waits up to 5 s per query for an answer that a
// pseudo-terminal without an emulator (script(1), some CI runners) never
// gives: seconds of delay and stray escape codes even under NO_COLOR.
func newLogger(w io.Writer) *log.Logger {
	return log.NewWithOptions(plainWriter{w}, log.Options{Prefix: "evdeploy"})
}

type plainWriter struct{ w io.Writer }

func (p plainWriter) Write(b []byte) (int, error) { return p.w.Write(b) }

// run executes the CLI with args and returns the process exit code.
func run(args []string, streams *IOStreams) int {
	// Everything written goes through the redactor, which learns the
	// sensitive values once the spec is loaded.
	red := &redactor{}
	scrubbed := *streams
	scrubbed.Out, scrubbed.ErrOut = red.writer(streams.Out), red.writer(streams.ErrOut)
	io := &scrubbed
	f := &Factory{
		IO:     io,
		Global: &GlobalOptions{},
		Logger: newLogger(io.ErrOut),
		redact: red,
		rawOut: streams.Out,
	}
	root := newRootCmd(f)
	root.SetArgs(terraformStyleFlags(root, args))
	root.SetIn(io.In)
	root.SetOut(io.Out)
	root.SetErr(io.ErrOut)
	err := root.Execute()
	if err == nil {
		return exitOK
	}
	var ec *exitCodeError
	if errors.As(err, &ec) {
		if !ec.silent && ec.err != nil {
			fmt.Fprintln(io.ErrOut, "Error:", ec.err)
		}
		return ec.code
	}
	msg := err.Error()
	if !strings.HasSuffix(msg, "\n") {
		msg += "\n"
	}
	fmt.Fprint(io.ErrOut, "Error: ", msg)
	return exitError
}

// terraformStyleFlags accepts the single-dash long flags Terraform users type
// (`plan -out FILE`, `output -json`): "-name" or "-name=v" becomes "--name…"
// when name is a long flag of some command. Shorthand clusters ("-C dir") are
// left alone because no long flag is one letter.
func terraformStyleFlags(root *cobra.Command, args []string) []string {
	long := map[string]bool{}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		c.Flags().VisitAll(func(f *pflag.Flag) { long[f.Name] = true })
		c.PersistentFlags().VisitAll(func(f *pflag.Flag) { long[f.Name] = true })
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = a
		if a == "--" {
			copy(out[i:], args[i:])
			break
		}
		if len(a) > 2 && a[0] == '-' && a[1] != '-' {
			name, _, _ := strings.Cut(a[1:], "=")
			if len(name) > 1 && long[name] {
				out[i] = "-" + a
			}
		}
	}
	return out
}
