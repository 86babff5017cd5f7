package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/evdeploy/evdeploy/planner"
	"github.com/evdeploy/evdeploy/state"
)

func init() { registerVerb(newCmdImport) }

// ImportOptions are import's flags and arguments.
type ImportOptions struct {
	LockTimeout time.Duration
	Addr, ID    string
}

func newCmdImport(f *Factory) *cobra.Command {
	opts := &ImportOptions{}
	cmd := &cobra.Command{
		Use:   "import ADDR ID",
		Short: "Adopt an existing resource into this stage's state, on purpose",
		Long: `import takes over a resource evdeploy did not create — one that stops apply
because it has the name evdeploy would give a resource of the spec. ADDR is the
resource's address in the spec (e.g. function.sweeper/aws_lambda_function.main;
` + "`plan --detail`" + ` lists them), ID its physical id (a function's, role's, table's,
bucket's name; a queue's name or URL). import reads the resource, tags it as this
deployment's and records it in state; nothing else of it changes. The next plan
shows what it takes to bring it to the spec.

import refuses a resource whose evdeploy tags name another app, stage or block:
it is in that deployment's state.`,
		Example: "  evdeploy import function.sweeper/aws_lambda_function.main shop-dev-sweeper",
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Addr, opts.ID = args[0], args[1]
			return importRun(cmd.Context(), f, opts)
		},
	}
	cmd.Flags().DurationVar(&opts.LockTimeout, "lock-timeout", 0, "wait this long for the state lock (0: fail at once)")
	return cmd
}

func importRun(ctx context.Context, f *Factory, opts *ImportOptions) (retErr error) {
	if ctx == nil {
		ctx = context.Background()
	}
	s, err := openSession(ctx, f, &engineOptions{LockTimeout: opts.LockTimeout}, "import", true)
	if err != nil {
		return err
	}
	defer s.close()
	st, err := state.Open(ctx, s.backend, s.app.Name, s.app.Stage)
	if err != nil {
		return err
	}
	defer func() {
		if err := st.Close(); err != nil && retErr == nil {
			retErr = err
		}
	}()
	r, err := planner.Import(ctx, s.desired, s.doc, s.reg, st, opts.Addr, opts.ID)
	if err != nil {
		return err
	}
	if err := st.SetTarget(s.target.ID()); err != nil {
		return err
	}
	fmt.Fprintf(f.IO.Out, "Imported %s (%s): it is now this deployment's.\nRun `evdeploy plan` to see what it takes to bring it to the spec.\n", r.Addr, r.ID)
	return nil
}
