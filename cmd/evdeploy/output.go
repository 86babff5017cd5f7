package main

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/aws/aws-sdk-go-v2/aws"
	"sort"

	"github.com/spf13/cobra"

	"github.com/evdeploy/evdeploy/planner"
	"github.com/evdeploy/evdeploy/state"
)

func init() { registerVerb(newCmdOutput) }

// OutputOptions are output's flags.
type OutputOptions struct {
	JSON bool
	Name string
}

func newCmdOutput(f *Factory) *cobra.Command {
	opts := &OutputOptions{}
	cmd := &cobra.Command{
		Use:   "output [NAME]",
		Short: "Print the outputs recorded by the last apply",
		Long: `output prints the app's outputs from state, without calling AWS. With NAME it
prints that value alone (raw, for scripts: URL=$(evdeploy output api_url)).`,
		Example: `  evdeploy output
  evdeploy output --json
  URL=$(evdeploy output api_url)`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.Name = args[0]
			}
			return outputRun(cmd.Context(), f, opts)
		},
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print JSON")
	return cmd
}

func outputRun(ctx context.Context, f *Factory, opts *OutputOptions) error {
	if ctx == nil {
		ctx = context.Background()
	}
	doc, err := readState(ctx, f)
	if err != nil {
		return err
	}
	outs := map[string]state.Output{}
	if doc != nil {
		outs = doc.Outputs
	}
	if opts.Name != "" {
		o, ok := outs[opts.Name]
		if !ok {
			return fmt.Errorf("no output named %q in state (known: %v); has the app been applied?", opts.Name, sortedOutputNames(outs))
		}
		// Asked for by name: printed in clear, sensitive or not (as
		// Terraform does), for scripts.
		if opts.JSON {
			return json.NewEncoder(f.stdoutRaw()).Encode(o.Value)
		}
		fmt.Fprintln(f.stdoutRaw(), o.Value)
		return nil
	}
	if opts.JSON {
		m := map[string]any{}
		for k, o := range outs {
			v := o.Value
			if o.Sensitive {
				v = planner.SensitiveText // by name only: `output NAME`
			}
			m[k] = map[string]any{"value": v, "sensitive": o.Sensitive}
		}
		enc := json.NewEncoder(f.IO.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(m)
	}
	for _, k := range sortedOutputNames(outs) {
		o := outs[k]
		if o.Sensitive {
			fmt.Fprintf(f.IO.Out, "%s = (sensitive)\n", k)
			continue
		}
		fmt.Fprintf(f.IO.Out, "%s = %v\n", k, o.Value)
	}
	return nil
}

// stageBackend is the stage's state backend, reached without building or
// planning anything.
func stageBackend(ctx context.Context, f *Factory) (state.Backend, error) {
	app, _, err := loadApp(f)
	if err != nil {
		return nil, err
	}
	if app.Backend == nil && (app.StateEncryption == nil || !usesKMS(app.StateEncryption)) {
		return sealBackend(state.NewLocal(app.Dir, app.Stage), stateSealer(app, aws.Config{})), nil
	}
	cfg, _, err := f.AWSConfig(ctx, app.Region)
	if err != nil {
		return nil, err
	}
	return stateBackend(ctx, app, cfg)
}

// readState reads the stage's state without locking (read-only commands).
func readState(ctx context.Context, f *Factory) (*state.Document, error) {
	backend, err := stageBackend(ctx, f)
	if err != nil {
		return nil, err
	}
	doc, err := backend.Read(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading state from %s: %w", backend, err)
	}
	return doc, nil
}

func sortedOutputNames(outs map[string]state.Output) []string {
	names := make([]string, 0, len(outs))
	for k := range outs {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}
