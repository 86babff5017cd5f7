package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/evdeploy/evdeploy/planner"
	"github.com/evdeploy/evdeploy/state"
)

func init() { registerVerb(newCmdDestroy) }

// DestroyOptions are destroy's flags.
type DestroyOptions struct {
	engineOptions
	AutoApprove   bool
	AllowDataLoss bool
}

func newCmdDestroy(f *Factory) *cobra.Command {
	opts := &DestroyOptions{}
	cmd := &cobra.Command{
		Use:   "destroy",
		Short: "Delete everything this stage deployed",
		Long: `destroy deletes every resource that state or the intent journal knows of, in
reverse dependency order. Buckets, tables, queues and streams hold data: their
deletion needs --allow-data-loss (a non-empty bucket is emptied only then).`,
		Example: `  evdeploy destroy
  # CI: no prompt; buckets, tables, queues and streams go too
  evdeploy destroy --target local --auto-approve --allow-data-loss`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return destroyRun(cmd.Context(), f, opts)
		},
	}
	opts.addCommonFlags(cmd.Flags())
	cmd.Flags().BoolVar(&opts.AutoApprove, "auto-approve", false, "destroy without asking (required without a terminal)")
	cmd.Flags().BoolVar(&opts.AllowDataLoss, "allow-data-loss", false, "allow deleting buckets, tables, queues and streams (and emptying buckets)")
	return cmd
}

func destroyRun(ctx context.Context, f *Factory, opts *DestroyOptions) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if opts.All {
		if !opts.AutoApprove {
			return fmt.Errorf("destroy --all destroys several apps and cannot ask for each: pass --auto-approve (review with plan --all --destroy first)")
		}
		o := *opts
		o.All = false
		return runAll(ctx, f, "destroy", true, func(ctx context.Context, sub *Factory) error { return destroyRun(ctx, sub, &o) })
	}
	opts.started, opts.events = time.Now(), opts.JSON
	s, err := openSession(ctx, f, &opts.engineOptions, state.OpDestroy, false)
	if err != nil {
		return err
	}
	defer s.close()
	p := planner.PlanDestroy(s.doc)
	p.FlagDataLoss(s.reg)
	if err := secretDataLoss(ctx, s.cfg, p); err != nil {
		return err
	}
	if err := renderPlan(f, p, &opts.engineOptions); err != nil {
		return err
	}
	if !p.HasChanges() {
		out := f.IO.Out
		if opts.JSON {
			out = f.IO.ErrOut
		}
		newProgress(f, "destroy", opts.JSON, opts.started).summary(out, "no_changes", p.Summary(), nil)
		return nil
	}
	return execute(ctx, f, s, p, opts.AutoApprove, opts.AllowDataLoss, &opts.engineOptions, "destroy")
}
