package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/evdeploy/evdeploy/spec"
	"github.com/evdeploy/evdeploy/templates"
	"github.com/spf13/cobra"
)

func init() { registerVerb(func(f *Factory) *cobra.Command { return newCmdInit(f, nil) }) }

// InitOptions are init's inputs.
type InitOptions struct {
	IO       *IOStreams
	Template string // "" asks (on a terminal) or fails
	Dir      string // target folder
	Name     string // app name; "" derives it from the folder's name
	List     bool
	Force    bool
	// Cwd is the folder next steps are relative to; "" means os.Getwd.
	Cwd string
}

func newCmdInit(f *Factory, runF func(*InitOptions) error) *cobra.Command {
	opts := &InitOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "init [DIR]",
		Short: "Create a new project from a template",
		Long: `init writes a complete, deployable project — an evdeploy.evd.hcl spec, Go
handlers with their tests, a README, go.mod and go.sum — for one event-driven
pattern into DIR (default: the --dir folder, "."). The app is named after the
folder (lowercased, other characters turned into hyphens) unless --name says
otherwise.

init refuses to write into a folder that has files in it (a lone .git folder
is fine) unless --force is given, and never writes outside DIR.

Without --template, init lists the templates and asks when run on a terminal.`,
		Example: `  evdeploy init --list
  evdeploy init --template queue-worker orders
  evdeploy init                    # choose interactively`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Dir = f.Global.Dir
			if len(args) == 1 {
				opts.Dir = args[0]
				if !filepath.IsAbs(args[0]) {
					opts.Dir = filepath.Join(f.Global.Dir, args[0])
				}
			}
			if runF != nil {
				return runF(opts)
			}
			return initRun(opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&opts.Template, "template", "t", "", "template `NAME` (see --list)")
	fl.BoolVar(&opts.List, "list", false, "list the templates and exit")
	fl.BoolVar(&opts.Force, "force", false, "write into a folder that is not empty (files of the same name are overwritten)")
	fl.StringVar(&opts.Name, "name", "", "app `name` (default: derived from the folder name)")
	return cmd
}

func initRun(opts *InitOptions) error {
	if opts.List {
		return listTemplates(opts.IO.Out)
	}
	name := opts.Template
	if name == "" {
		if !opts.IO.InTTY {
			var b strings.Builder
			fmt.Fprintln(&b, "no template named; choose one with --template NAME:")
			listTemplatesIndented(&b)
			return errors.New(strings.TrimRight(b.String(), "\n"))
		}
		var err error
		if name, err = promptTemplate(opts.IO); err != nil {
			return err
		}
	}
	if _, ok := templates.Lookup(name); !ok {
		var b strings.Builder
		fmt.Fprintf(&b, "unknown template %q; the templates are:\n", name)
		listTemplatesIndented(&b)
		return errors.New(strings.TrimRight(b.String(), "\n"))
	}

	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return err
	}
	app := opts.Name
	if app == "" {
		app = templates.AppNameFor(name, filepath.Base(dir))
	}
	files, err := templates.Write(name, dir, templates.WriteOptions{AppName: app, Force: opts.Force})
	if err != nil {
		return err
	}

	out := opts.IO.Out
	shown := displayDir(dir, opts.Cwd)
	fmt.Fprintf(out, "Created the %s project %q in %s (%d files).\n\nNext steps:\n", name, app, shown, len(files))
	if shown != "." {
		fmt.Fprintf(out, "  cd %s\n", shellQuote(shown))
	}
	switch templates.Language(name) {
	case "typescript":
		fmt.Fprint(out, "  (cd functions/* && npm ci && npm test)  # type-check and unit-test the handler\n")
	case "python":
		fmt.Fprint(out, "  (cd functions/* && PYTHONPATH=../../libs/textkit python3 -m unittest)  # the handler's tests\n")
	default:
		fmt.Fprint(out, "  go test ./...                    # the handlers' unit tests\n")
	}
	if apps := templates.Apps(name); apps != nil {
		fmt.Fprintf(out, `  evdeploy validate --all          # check every app's spec (%s)
  evdeploy local up                # start the embedded local cloud (no Docker, no account)
  evdeploy plan --all --target local                  # see what would be created
  evdeploy apply --all --target local --auto-approve  # deploy the apps in dependency order
  evdeploy destroy --all --target local --auto-approve%s  # and take them all down again, in reverse

README.md explains the apps and how they use each other. Drop --target local to deploy to AWS.
`, strings.Join(apps, ", "), dataLossFlag(dir, apps...))
		return nil
	}
	fmt.Fprintf(out, `  evdeploy validate                # check the spec
  evdeploy local up                # start the embedded local cloud (no Docker, no account)
  evdeploy plan --target local     # see what would be created
  evdeploy apply --target local    # deploy it
  evdeploy destroy --target local%s  # and take it all down again

README.md explains the pattern and how to try it. Drop --target local to deploy to AWS.
`, dataLossFlag(dir))
	return nil
}

func listTemplates(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, t := range templates.List() {
		fmt.Fprintf(tw, "%s\t%s\n", t.Name, t.Description)
	}
	return tw.Flush()
}

func listTemplatesIndented(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, t := range templates.List() {
		fmt.Fprintf(tw, "  %s\t%s\n", t.Name, t.Description)
	}
	tw.Flush()
}

// promptTemplate asks for a template by number or name, three times at most.
func promptTemplate(s *IOStreams) (string, error) {
	list := templates.List()
	fmt.Fprintln(s.ErrOut, "Choose a template:")
	tw := tabwriter.NewWriter(s.ErrOut, 0, 0, 2, ' ', 0)
	for i, t := range list {
		fmt.Fprintf(tw, "  %d.\t%s\t%s\n", i+1, t.Name, t.Description)
	}
	tw.Flush()
	in := bufio.NewReader(s.In)
	for range 3 {
		fmt.Fprintf(s.ErrOut, "Template [1-%d]: ", len(list))
		line, err := in.ReadString('\n')
		answer := strings.TrimSpace(line)
		if answer != "" {
			if n, convErr := strconv.Atoi(answer); convErr == nil && n >= 1 && n <= len(list) {
				return list[n-1].Name, nil
			}
			if _, ok := templates.Lookup(answer); ok {
				return answer, nil
			}
			fmt.Fprintf(s.ErrOut, "%q is neither a number from 1 to %d nor a template name.\n", answer, len(list))
		}
		if err != nil {
			if err == io.EOF {
				return "", errors.New("no template chosen")
			}
			return "", err
		}
	}
	return "", errors.New("no template chosen")
}

// displayDir shows dir relative to cwd when it is below it.
func displayDir(dir, cwd string) string {
	if cwd == "" {
		cwd, _ = os.Getwd()
	}
	if rel, err := filepath.Rel(cwd, dir); err == nil && filepath.IsLocal(rel) {
		return rel
	}
	return dir
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./+@%:,", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// dataLossFlag is " --allow-data-loss" when the app in dir (or in one of its
// app folders) makes a queue, table, bucket or stream: destroy refuses to
// delete those without it, and a next step that fails when pasted teaches
// nothing.
func dataLossFlag(dir string, apps ...string) string {
	dirs := []string{dir}
	if len(apps) > 0 {
		dirs = dirs[:0]
		for _, a := range apps {
			dirs = append(dirs, filepath.Join(dir, a))
		}
	}
	for _, d := range dirs {
		app, _, diags := spec.Load(d, spec.Options{})
		if diags.HasErrors() || app == nil {
			continue
		}
		for _, q := range app.Queues {
			if q.Existing == nil {
				return " --allow-data-loss"
			}
		}
		for _, t := range app.Tables {
			if t.Existing == nil {
				return " --allow-data-loss"
			}
		}
		for _, b := range app.Buckets {
			if b.Existing == nil {
				return " --allow-data-loss"
			}
		}
		for _, st := range app.Streams {
			if st.Existing == nil {
				return " --allow-data-loss"
			}
		}
	}
	return ""
}
