package main

import (
	"fmt"
	"strings"

	"github.com/evdeploy/evdeploy/spec"
	"github.com/hashicorp/hcl/v2"
)

// loadApp loads the project named by the global flags (--dir, --stage, --var,
// --var-file) and prints its diagnostics, warnings included, to ErrOut with
// source snippets. When there are errors it returns silentExit(exitError): the
// user has already seen why.
func loadApp(f *Factory) (*spec.App, map[string]*hcl.File, error) {
	opts, err := specOptions(f.Global)
	if err != nil {
		return nil, nil, err
	}
	app, files, diags := spec.Load(f.Global.Dir, opts)
	f.redact.add(app.SensitiveValues()...)
	if len(diags) > 0 {
		if err := writeDiagnostics(f, files, diags); err != nil {
			return nil, files, err
		}
	}
	if diags.HasErrors() {
		return nil, files, silentExit(exitError)
	}
	debugTimeouts(f, app)
	return app, files, nil
}

// specOptions turns the global flags into spec.Options.
func specOptions(g *GlobalOptions) (spec.Options, error) {
	opts := spec.Options{Stage: g.Stage, VarFiles: g.VarFiles}
	for _, kv := range g.Vars {
		name, value, ok := strings.Cut(kv, "=")
		if !ok || name == "" {
			return opts, fmt.Errorf("--var %q: expected name=value", kv)
		}
		if opts.Vars == nil {
			opts.Vars = map[string]string{}
		}
		opts.Vars[name] = value
	}
	return opts, nil
}

// diagWidth is the wrap width of printed diagnostics.
const diagWidth = 100

func writeDiagnostics(f *Factory, files map[string]*hcl.File, diags hcl.Diagnostics) error {
	w := hcl.NewDiagnosticTextWriter(f.IO.ErrOut, files, diagWidth, f.IO.Color)
	return w.WriteDiagnostics(diags)
}
