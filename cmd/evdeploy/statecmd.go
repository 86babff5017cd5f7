package main

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"

	"github.com/spf13/cobra"
)

func init() { registerVerb(newCmdState) }

func newCmdState(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "state",
		Short: "Inspect recorded state",
		Long: `state reads what the last apply recorded for this stage (no AWS call), and
removes a lock left behind by a process that is gone.`,
		Example: `  evdeploy state list
  evdeploy state show function.api/aws_lambda_function.main
  evdeploy state unlock 6f1c2a9e`,
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "list",
		Short: "List every resource in state",
		Long: `list prints every resource recorded in this stage's state, one address per
line with its physical id, and any create journaled but not yet recorded.`,
		Example: `  evdeploy state list
  evdeploy state list --stage prod`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			return stateListRun(c.Context(), f)
		},
	})
	var showJSON bool
	show := &cobra.Command{
		Use:   "show ADDR",
		Short: "Show one resource's recorded attributes",
		Long: `show prints the attributes recorded for one resource address (as state list
prints it).`,
		Example: `  evdeploy state show function.api/aws_lambda_function.main`,
		Args:    cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return stateShowRun(c.Context(), f, args[0], showJSON)
		},
	}
	show.Flags().BoolVar(&showJSON, "json", false, "print JSON")
	cmd.AddCommand(show)
	cmd.AddCommand(&cobra.Command{
		Use:   "unlock LOCK_ID",
		Short: "Remove a state lock left behind by a process that is gone",
		Long: `unlock removes the stage's state lock if its ID is LOCK_ID (the lock error
prints both). Use it only when the holder is certainly not running: two applies
at once can orphan resources.`,
		Example: `  evdeploy state unlock 6f1c2a9e`,
		Args:    cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return stateUnlockRun(c.Context(), f, args[0])
		},
	})
	return cmd
}

func stateUnlockRun(ctx context.Context, f *Factory, id string) error {
	if ctx == nil {
		ctx = context.Background()
	}
	backend, err := stageBackend(ctx, f)
	if err != nil {
		return err
	}
	if err := backend.ForceUnlock(ctx, id); err != nil {
		return fmt.Errorf("unlocking %s: %w", backend, err)
	}
	fmt.Fprintf(f.IO.Out, "Removed lock %s from %s.\n", id, backend)
	return nil
}

func stateListRun(ctx context.Context, f *Factory) error {
	if ctx == nil {
		ctx = context.Background()
	}
	doc, err := readState(ctx, f)
	if err != nil {
		return err
	}
	if doc == nil {
		return nil
	}
	for _, r := range doc.Resources {
		fmt.Fprintf(f.IO.Out, "%s\t%s\n", r.Addr, r.ID)
	}
	for _, i := range doc.Journal {
		fmt.Fprintf(f.IO.Out, "%s\t(journaled create of %s, not confirmed)\n", i.Addr, i.Name)
	}
	return nil
}

func stateShowRun(ctx context.Context, f *Factory, addr string, asJSON bool) error {
	if ctx == nil {
		ctx = context.Background()
	}
	doc, err := readState(ctx, f)
	if err != nil {
		return err
	}
	if doc != nil {
		for _, r := range doc.Resources {
			if r.Addr != addr {
				continue
			}
			if asJSON {
				enc := json.NewEncoder(f.IO.Out)
				enc.SetIndent("", "  ")
				return enc.Encode(r)
			}
			fmt.Fprintf(f.IO.Out, "# %s\n  id   = %s\n  type = %s\n", r.Addr, r.ID, r.Type)
			keys := make([]string, 0, len(r.Attrs))
			for k := range r.Attrs {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				b, _ := json.Marshal(r.Attrs[k])
				fmt.Fprintf(f.IO.Out, "  %s = %s\n", k, b)
			}
			return nil
		}
	}
	return fmt.Errorf("no resource %s in state; `evdeploy state list` shows what is recorded", addr)
}
