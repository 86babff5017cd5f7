package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/evdeploy/evdeploy/planner"
	"github.com/evdeploy/evdeploy/state"
)

func init() { registerVerb(newCmdApply) }

// ApplyOptions are apply's flags.
type ApplyOptions struct {
	engineOptions
	PlanFile      string
	AutoApprove   bool
	AllowDataLoss bool
}

func newCmdApply(f *Factory) *cobra.Command {
	opts := &ApplyOptions{}
	cmd := &cobra.Command{
		Use:   "apply [PLANFILE]",
		Short: "Make the deployment match the spec",
		Long: `apply plans (as plan does), asks for confirmation, then creates, updates and
deletes resources in dependency order, recording state after every change.
Given a saved plan file, it applies exactly that plan and refuses it if the
state or the spec changed since.`,
		Example: `  # plan, confirm, apply
  evdeploy apply
  # CI: no prompt; deploy to the embedded local cloud
  evdeploy apply --target local --auto-approve
  # apply exactly the plan a reviewer saw (refused if stale)
  evdeploy plan -out plan.bin && evdeploy apply plan.bin
  # a line-delimited JSON event stream for scripts
  evdeploy apply --auto-approve --json`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.PlanFile = args[0]
			}
			return applyRun(cmd.Context(), f, opts)
		},
	}
	opts.addFlags(cmd.Flags())
	cmd.Flags().BoolVar(&opts.AutoApprove, "auto-approve", false, "apply without asking (required without a terminal)")
	cmd.Flags().BoolVar(&opts.AllowDataLoss, "allow-data-loss", false, "allow deleting or replacing buckets, tables, queues and streams (and emptying buckets)")
	return cmd
}

func applyRun(ctx context.Context, f *Factory, opts *ApplyOptions) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if opts.All {
		if opts.PlanFile != "" {
			return fmt.Errorf("apply --all plans each app itself: it takes no plan file")
		}
		if !opts.AutoApprove {
			return fmt.Errorf("apply --all applies several apps in parallel and cannot ask for each: pass --auto-approve (review with plan --all first)")
		}
		o := *opts
		o.All = false
		return runAll(ctx, f, "apply", false, func(ctx context.Context, sub *Factory) error { return applyRun(ctx, sub, &o) })
	}
	opts.started, opts.events = time.Now(), opts.JSON
	s, err := openSession(ctx, f, &opts.engineOptions, state.OpApply, true)
	if err != nil {
		return err
	}
	defer s.close()

	p, err := s.plan(ctx, &opts.engineOptions)
	if err != nil {
		return err
	}
	if opts.PlanFile != "" {
		saved, err := planner.LoadPlanFile(opts.PlanFile, stateSealer(s.app, s.cfg))
		if err != nil {
			return err
		}
		if err := saved.CheckFresh(s.doc, s.specHash); err != nil {
			return err
		}
		if err := planner.SameChanges(saved.Plan, p); err != nil {
			return fmt.Errorf("saved plan %s is stale: %w; run plan again", opts.PlanFile, err)
		}
	}
	if err := renderPlan(f, p, &opts.engineOptions); err != nil {
		return err
	}
	printUpstreamChanges(f, p, &opts.engineOptions)
	if err := execute(ctx, f, s, p, opts.AutoApprove || opts.PlanFile != "", opts.AllowDataLoss, &opts.engineOptions, "apply"); err != nil {
		return err
	}
	warnUnsetSecrets(ctx, f, s.app, s.cfg)
	return nil
}

// execute confirms and applies p, printing progress, what was done and what
// was not, and the outputs.
func execute(ctx context.Context, f *Factory, s *session, p *planner.Plan, approved, allowDataLoss bool, opts *engineOptions, verb string) (retErr error) {
	changes := p.HasChanges()
	if loss := p.DataLossChanges(); len(loss) > 0 && !allowDataLoss {
		return fmt.Errorf("refusing to %s: %d change(s) would delete or replace resources that hold data (first: %s); re-run with --allow-data-loss if that is what you want",
			verb, len(loss), loss[0].Addr)
	}
	if changes && !approved {
		if err := confirm(f, fmt.Sprintf("Do you want to %s these changes?", verb)); err != nil {
			return err
		}
	}

	st, err := state.Open(ctx, s.backend, s.app.Name, s.app.Stage)
	if err != nil {
		return err
	}
	// Changes are durable as they happen (a change log, for local state);
	// Close leaves the state file complete on its own, before the lock goes.
	defer func() {
		if err := st.Close(); err != nil && retErr == nil {
			retErr = err
		}
	}()
	// An interrupt lets in-flight operations finish and be recorded; a second
	// one kills the process (the journal makes that recoverable too).
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	// A plan without changes still goes through Apply: it makes no API call
	// but evaluates the outputs from state.
	trace, closeTrace := opTrace(p)
	defer closeTrace()
	prog := newProgress(f, verb, opts.JSON, opts.started)
	ctx = planner.WithReleaseProgress(ctx, prog.release)
	res, err := planner.Apply(ctx, p, s.desired, s.reg, st, planner.ApplyOptions{
		Parallelism:   opts.Parallelism,
		AllowDataLoss: allowDataLoss,
		Lanes:         s.lanes(),
		OnEvent: func(e planner.Event) {
			if trace != nil {
				trace(e)
			}
			prog.event(e)
		},
	})
	prog.close()
	if err == nil && res != nil {
		err = res.Err()
	}
	if err != nil {
		if res != nil {
			status := "failed"
			if len(res.Failed) == 0 {
				status = "interrupted"
			}
			prog.summary(f.IO.ErrOut, status, p.Summary(), res)
			for _, n := range res.NotStarted {
				fmt.Fprintf(f.IO.ErrOut, "  not started: %s (%s)\n", n.Addr, n.Op)
			}
		}
		return err
	}
	if verb == "destroy" {
		if err := st.SetOutputs(nil); err != nil {
			return err
		}
		if len(st.Doc().Inputs) > 0 {
			if err := st.SetInputs(nil); err != nil {
				return err
			}
		}
	} else {
		if err := st.SetTarget(s.target.ID()); err != nil {
			return err
		}
		if !sameOutputs(res.Outputs, st.Doc().Outputs) {
			if err := st.SetOutputs(res.Outputs); err != nil {
				return err
			}
		}
		if in := s.external.inputs(); !sameInputs(in, st.Doc().Inputs) {
			if err := st.SetInputs(in); err != nil {
				return err
			}
		}
	}
	// With --json, stdout holds the plan document and the event stream
	// alone; the human summary goes to stderr so a script can parse stdout.
	out := f.IO.Out
	if opts.JSON {
		out = f.IO.ErrOut
	}
	if !changes {
		prog.summary(out, "no_changes", p.Summary(), res)
	} else {
		prog.summary(out, "complete", p.Summary(), res)
	}
	printOutputs(out, res.Outputs)
	return nil
}

func sameOutputs(a, b map[string]state.Output) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || !planner.Equal(v.Value, w.Value) || v.Sensitive != w.Sensitive {
			return false
		}
	}
	return true
}

func printOutputs(w io.Writer, outs map[string]state.Output) {
	if len(outs) == 0 {
		return
	}
	fmt.Fprintln(w, "\nOutputs:")
	for _, k := range sortedOutputNames(outs) {
		v := outs[k]
		if v.Sensitive {
			fmt.Fprintf(w, "  %s = (sensitive)\n", k)
			continue
		}
		fmt.Fprintf(w, "  %s = %v\n", k, v.Value)
	}
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}
