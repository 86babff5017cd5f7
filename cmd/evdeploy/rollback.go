package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/evdeploy/evdeploy/planner"
	awsprov "github.com/evdeploy/evdeploy/providers/aws"
	"github.com/evdeploy/evdeploy/spec"
	"github.com/evdeploy/evdeploy/state"
)

func init() { registerVerb(newCmdRollback) }

// RollbackOptions are rollback's flags.
type RollbackOptions struct {
	Function    string
	LockTimeout time.Duration
}

func newCmdRollback(f *Factory) *cobra.Command {
	opts := &RollbackOptions{}
	cmd := &cobra.Command{
		Use:   "rollback FUNCTION",
		Short: "Point a released function's live alias back at the previous version, at once",
		Long: `rollback moves a function's live alias (a function with a release block) back
to the version before the one it serves, with one UpdateAlias call: every
trigger, route and URL runs the previous version from the next request. A
release in progress is ended the same way (all traffic on its stable version).
The state records it, and the next apply releases the spec's code again:
revert the code in the spec to keep the previous version.`,
		Example: `  evdeploy rollback api
  evdeploy rollback function.api --target local`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Function = args[0]
			return rollbackRun(cmd.Context(), f, opts)
		},
	}
	cmd.Flags().DurationVar(&opts.LockTimeout, "lock-timeout", 0, "wait this long for the state lock (0: fail at once)")
	return cmd
}

func rollbackRun(ctx context.Context, f *Factory, opts *RollbackOptions) (retErr error) {
	if ctx == nil {
		ctx = context.Background()
	}
	started := time.Now()
	block := opts.Function
	if !strings.HasPrefix(block, "function.") {
		block = "function." + block
	}
	s, err := openSession(ctx, f, &engineOptions{LockTimeout: opts.LockTimeout}, "rollback", false)
	if err != nil {
		return err
	}
	defer s.close()
	addr := planner.ResourceAddr{Block: block, Type: planner.TypeAlias, Name: spec.LiveAlias}.String()
	var rec *state.Resource
	for i := range s.doc.Resources {
		if s.doc.Resources[i].Addr == addr {
			rec = &s.doc.Resources[i]
		}
	}
	if rec == nil {
		return fmt.Errorf("%s has no live alias in this stage's state (no %s): only a function with a release block, applied, can be rolled back", block, addr)
	}
	fn, _ := rec.Attrs["function_name"].(string)
	from, to, err := awsprov.Rollback(ctx, s.cfg, fn, spec.LiveAlias)
	if err != nil {
		return fmt.Errorf("%s: %w", addr, err)
	}
	st, err := state.Open(ctx, s.backend, s.app.Name, s.app.Stage)
	if err != nil {
		return err
	}
	defer func() {
		if err := st.Close(); err != nil && retErr == nil {
			retErr = err
		}
	}()
	attrs := map[string]any{}
	for k, v := range rec.Attrs {
		attrs[k] = v
	}
	// The alias serves the previous version, and no release key: the next
	// plan shows the spec's code as a release again.
	attrs["function_version"], attrs["routing"], attrs["rollout"], attrs["release_key"] = to, nil, nil, ""
	r := *rec
	r.Attrs = attrs
	if err := st.Upsert(r); err != nil {
		return err
	}
	fmt.Fprintf(f.IO.Out, "%s: live moved back from v%s to v%s (%s).\nThe next apply releases the spec's code again; revert it in the spec to stay on v%s.\n",
		block, from, to, time.Since(started).Round(time.Millisecond), to)
	return nil
}
