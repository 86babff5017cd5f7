package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/evdeploy/evdeploy/spec"
	"github.com/hashicorp/hcl/v2"
	"github.com/spf13/cobra"
)

func init() { registerVerb(func(f *Factory) *cobra.Command { return newCmdValidate(f, nil) }) }

// ValidateOptions are validate's inputs.
type ValidateOptions struct {
	Factory *Factory
	JSON    bool
	All     bool // every app of the monorepo in --dir (validateAll)
}

func newCmdValidate(f *Factory, runF func(*ValidateOptions) error) *cobra.Command {
	opts := &ValidateOptions{Factory: f}
	cmd := &cobra.Command{
		Use:   "validate",
		Short: "Check the project's spec without touching AWS",
		Long: `validate loads every *.evd.hcl file in the project folder and checks it
against the language and against AWS's limits, reporting every problem with
its file:line:col. Exit status: 0 valid, 1 invalid.`,
		Example: `  evdeploy validate
  evdeploy validate -C examples/shop --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return validateRun(opts)
		},
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the result as JSON")
	cmd.Flags().BoolVar(&opts.All, "all", false, "check every app in the subfolders of --dir (docs/monorepo.md)")
	return cmd
}

func validateRun(opts *ValidateOptions) error {
	f := opts.Factory
	if opts.All {
		return validateAll(opts)
	}
	if !opts.JSON {
		app, _, err := loadApp(f)
		if err != nil {
			return err
		}
		fmt.Fprintf(f.IO.Out, "The project %q is valid (stage %s): %s.\n", app.Name, app.Stage, summary(app))
		return nil
	}
	var diags hcl.Diagnostics
	if sopts, err := specOptions(f.Global); err != nil {
		// Still JSON: a consumer parses stdout whatever went wrong.
		diags = hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid command line", Detail: err.Error()}}
	} else {
		_, _, diags = spec.Load(f.Global.Dir, sopts)
	}
	out := jsonResult{Valid: !diags.HasErrors(), Diagnostics: []jsonDiag{}}
	for _, d := range diags {
		out.Diagnostics = append(out.Diagnostics, toJSONDiag(d))
	}
	enc := json.NewEncoder(f.IO.Out)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return err
	}
	if !out.Valid {
		return silentExit(exitError)
	}
	return nil
}

func summary(app *spec.App) string {
	parts := []struct {
		n    int
		name string
	}{
		{len(app.Functions), "function"}, {len(app.Queues), "queue"}, {len(app.Topics), "topic"},
		{len(app.Buses), "bus"}, {len(app.Buckets), "bucket"}, {len(app.Tables), "table"},
		{len(app.Streams), "stream"}, {len(app.APIs), "api"}, {len(app.Triggers), "trigger"},
		{len(app.Routes), "route"}, {len(app.Layers), "layer"}, {len(app.Secrets), "secret"}, {len(app.Outputs), "output"},
	}
	s := ""
	for _, p := range parts {
		if p.n == 0 {
			continue
		}
		if s != "" {
			s += ", "
		}
		name := p.name
		if p.n != 1 {
			if name == "bus" {
				name = "buses"
			} else {
				name += "s"
			}
		}
		s += fmt.Sprintf("%d %s", p.n, name)
	}
	if s == "" {
		return "no resources"
	}
	return s
}

type jsonResult struct {
	Valid       bool       `json:"valid"`
	Diagnostics []jsonDiag `json:"diagnostics"`
}

type jsonDiag struct {
	Severity string     `json:"severity"`
	Summary  string     `json:"summary"`
	Detail   string     `json:"detail,omitempty"`
	Range    *jsonRange `json:"range,omitempty"`
}

type jsonRange struct {
	Filename string  `json:"filename"`
	Start    jsonPos `json:"start"`
	End      jsonPos `json:"end"`
}

type jsonPos struct {
	Line   int `json:"line"`
	Column int `json:"column"`
	Byte   int `json:"byte"`
}

func toJSONDiag(d *hcl.Diagnostic) jsonDiag {
	jd := jsonDiag{Severity: "error", Summary: d.Summary, Detail: d.Detail}
	if d.Severity == hcl.DiagWarning {
		jd.Severity = "warning"
	}
	if r := d.Subject; r != nil {
		jd.Range = &jsonRange{
			Filename: r.Filename,
			Start:    jsonPos{Line: r.Start.Line, Column: r.Start.Column, Byte: r.Start.Byte},
			End:      jsonPos{Line: r.End.Line, Column: r.End.Column, Byte: r.End.Byte},
		}
	}
	return jd
}

// validateAll checks every app of the monorepo in --dir, each in full (an app
// whose spec does not load is reported with its diagnostics, and the others
// are still checked): validating needs no other app's state.
func validateAll(opts *ValidateOptions) error {
	f := opts.Factory
	if opts.JSON {
		return fmt.Errorf("validate --all prints text; run validate --json -C <app> for each app")
	}
	apps, err := discoverApps(f, f.Global.Dir)
	if err != nil {
		return err
	}
	var failed []string
	for _, a := range orderApps(apps) {
		var out, errOut bytes.Buffer
		o := *opts
		o.All, o.Factory = false, subFactory(f, a.dir, &out, &errOut)
		if err := validateRun(&o); err != nil {
			failed = append(failed, a.name)
			var ec *exitCodeError
			if !(errors.As(err, &ec) && ec.silent) {
				fmt.Fprintf(&errOut, "Error: %v\n", err)
			}
		}
		fmt.Fprintf(f.IO.Out, "=== %s (validate) ===\n", a.name)
		f.IO.Out.Write(out.Bytes())
		f.IO.ErrOut.Write(errOut.Bytes())
	}
	if len(failed) > 0 {
		fmt.Fprintf(f.IO.Out, "\nvalidate --all: %d apps, invalid: %s\n", len(apps), strings.Join(failed, ", "))
		return silentExit(exitError)
	}
	fmt.Fprintf(f.IO.Out, "\nvalidate --all: %d apps, all valid\n", len(apps))
	return nil
}
