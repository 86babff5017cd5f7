package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/evdeploy/evdeploy/planner"
	"github.com/evdeploy/evdeploy/state"
)

func init() { registerVerb(newCmdPlan) }

// PlanOptions are plan's flags.
type PlanOptions struct {
	engineOptions
	Out              string
	DetailedExitCode bool
	Destroy          bool
}

func newCmdPlan(f *Factory) *cobra.Command {
	opts := &PlanOptions{}
	cmd := &cobra.Command{
		Use:   "plan",
		Short: "Show exactly what apply would change",
		Long: `plan compares the spec with what is deployed (refreshing every resource in
state to see drift) and prints the changes apply would make, one line per spec
block (--detail: per resource). Nothing is changed.`,
		Example: `  evdeploy plan
  # CI gate: exit 2 when there are changes, 0 when none
  evdeploy plan --detailed-exitcode
  # save the plan for apply, and as JSON for review
  evdeploy plan -out plan.bin --json > plan.json
  evdeploy plan --target local --detail`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return planRun(cmd.Context(), f, opts)
		},
	}
	opts.addFlags(cmd.Flags())
	cmd.Flags().StringVarP(&opts.Out, "out", "o", "", "save the plan to `FILE` for a later `apply FILE`")
	cmd.Flags().BoolVar(&opts.DetailedExitCode, "detailed-exitcode", false, "exit 0 when there are no changes, 2 when there are, 1 on error")
	cmd.Flags().BoolVar(&opts.Destroy, "destroy", false, "plan the deletion of everything deployed")
	return cmd
}

func planRun(ctx context.Context, f *Factory, opts *PlanOptions) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if opts.All {
		if opts.Out != "" {
			return fmt.Errorf("plan --all cannot save one plan file (-out) for several apps")
		}
		o := *opts
		o.All = false
		if !opts.Destroy {
			apps, err := discoverApps(f, f.Global.Dir)
			if err != nil {
				return err
			}
			o.planAll = map[string]bool{}
			for _, a := range apps {
				o.planAll[a.dir] = true
			}
		}
		return runAll(ctx, f, "plan", opts.Destroy, func(ctx context.Context, sub *Factory) error {
			err := planRun(ctx, sub, &o)
			var w *upstreamNotApplied
			if !errors.As(err, &w) {
				return err
			}
			// Not an error: the apps it reads are planned above, and
			// apply --all applies them first.
			fmt.Fprintf(sub.IO.Out, "Not planned yet: %s.\n", w.reason())
			if opts.DetailedExitCode {
				return silentExit(exitChanges)
			}
			return nil
		})
	}
	s, err := openSession(ctx, f, &opts.engineOptions, state.OpPlan, !opts.Destroy)
	if err != nil {
		return err
	}
	defer s.close()
	var p *planner.Plan
	if opts.Destroy {
		p = planner.PlanDestroy(s.doc)
		p.FlagDataLoss(s.reg)
		if err := secretDataLoss(ctx, s.cfg, p); err != nil {
			return err
		}
	} else if p, err = s.plan(ctx, &opts.engineOptions); err != nil {
		return err
	}
	if err := renderPlan(f, p, &opts.engineOptions); err != nil {
		return err
	}
	printUpstreamChanges(f, p, &opts.engineOptions)
	if !opts.Destroy {
		warnUnsetSecrets(ctx, f, s.app, s.cfg)
	}
	if opts.Out != "" {
		if err := planner.SavePlanFile(opts.Out, p, s.specHash, stateSealer(s.app, s.cfg)); err != nil {
			return err
		}
		if !opts.JSON {
			fmt.Fprintf(f.IO.Out, "\nSaved the plan to %s. Apply exactly it with: evdeploy apply %s\n", opts.Out, opts.Out)
		}
	}
	if opts.DetailedExitCode && p.HasChanges() {
		return silentExit(exitChanges)
	}
	return nil
}

func renderPlan(f *Factory, p *planner.Plan, opts *engineOptions) error {
	if opts.JSON && opts.events {
		var b bytes.Buffer
		if err := planner.RenderJSON(&b, p); err != nil {
			return err
		}
		var line bytes.Buffer
		if err := json.Compact(&line, b.Bytes()); err != nil {
			return err
		}
		line.WriteByte('\n')
		_, err := f.IO.Out.Write(line.Bytes())
		return err
	}
	if opts.JSON {
		return planner.RenderJSON(f.IO.Out, p)
	}
	if len(opts.TargetBlocks) > 0 {
		fmt.Fprintf(f.IO.ErrOut, "Warning: the plan is limited to %v and their dependencies; other changes are not shown and will not be applied.\n", opts.TargetBlocks)
	}
	return planner.Render(f.IO.Out, p, planner.RenderOptions{Detail: opts.Detail, Color: f.IO.Color})
}
