package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/spf13/cobra"

	"github.com/evdeploy/evdeploy/planner"
	"github.com/evdeploy/evdeploy/spec"
	"github.com/evdeploy/evdeploy/state"
)

func init() { registerVerb(newCmdReplay) }

// ReplayOptions are replay's flags.
type ReplayOptions struct {
	Bus      string
	From, To string
	Rules    []string
	// Now is the clock (tests fix it); nil means time.Now.
	Now func() time.Time
}

func newCmdReplay(f *Factory) *cobra.Command {
	opts := &ReplayOptions{}
	cmd := &cobra.Command{
		Use:   "replay BUS --from TIME [--to TIME]",
		Short: "Send a bus's archived events to its rules again",
		Long: `replay re-delivers the events a bus archived (its archive block) between
--from and --to (default: now) to the bus's rules, or only to the rules of the
triggers and routes named with --rule. It starts an EventBridge replay and
follows it until it completes. Each replayed event carries "replay-name", so a
consumer can tell it from the original; consumers must be idempotent, as with
any redelivery. TIME is RFC 3339 (2026-12-07T10:00:00Z), a date (2026-12-07,
UTC midnight), or a duration ago (30m, 2h, 1d).`,
		Example: `  evdeploy replay bus.events --from 2h
  evdeploy replay events --from 2026-12-07T09:00:00Z --to 2026-12-07T10:00:00Z
  evdeploy replay events --from 1d --rule trigger.order_placed`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Bus = args[0]
			return replayRun(cmd.Context(), f, opts)
		},
	}
	cmd.Flags().StringVar(&opts.From, "from", "", "replay events from TIME (required)")
	cmd.Flags().StringVar(&opts.To, "to", "", "replay events up to TIME (default: now)")
	cmd.Flags().StringSliceVar(&opts.Rules, "rule", nil, "replay only to the rule of this trigger or route (repeatable)")
	_ = cmd.MarkFlagRequired("from")
	return cmd
}

// parseWhen reads a --from/--to TIME.
func parseWhen(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "now" {
		return now, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, nil
	}
	if d, err := spec.ParseDuration(strings.TrimSuffix(s, " ago")); err == nil {
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("%q is not a time: write RFC 3339 (2026-12-07T10:00:00Z), a date (2026-12-07) or a duration ago (30m, 2h, 1d)", s)
}

func replayRun(ctx context.Context, f *Factory, opts *ReplayOptions) error {
	if ctx == nil {
		ctx = context.Background()
	}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	t0 := now()
	from, err := parseWhen(opts.From, t0)
	if err != nil {
		return fmt.Errorf("--from: %w", err)
	}
	to := t0
	if opts.To != "" {
		if to, err = parseWhen(opts.To, t0); err != nil {
			return fmt.Errorf("--to: %w", err)
		}
	}
	if !from.Before(to) {
		return fmt.Errorf("--from (%s) must be before --to (%s)", from.Format(time.RFC3339), to.Format(time.RFC3339))
	}
	addr, err := resolveBlock(opts.Bus, spec.KindBus)
	if err != nil {
		return err
	}
	app, _, err := loadApp(f)
	if err != nil {
		return err
	}
	var bus *spec.Bus
	for _, b := range app.Buses {
		if b.Addr == addr {
			bus = b
		}
	}
	if bus == nil {
		return fmt.Errorf("the spec has no %s", addr)
	}
	if bus.Archive == nil {
		return fmt.Errorf("%s has no archive: add archive { retention = \"30d\" } to it and apply; only events put after that can be replayed", addr)
	}
	doc, err := readState(ctx, f)
	if err != nil {
		return err
	}
	res := resources(doc)
	ar, ok := res[planner.ResourceAddr{Block: addr.String(), Type: planner.TypeArchive, Name: "main"}.String()]
	bs, ok2 := res[planner.ResourceAddr{Block: addr.String(), Type: planner.TypeBus, Name: "main"}.String()]
	if !ok || !ok2 {
		return fmt.Errorf("%s's archive is not deployed in this stage: run apply first", addr)
	}
	archiveArn, _ := ar.Attrs["arn"].(string)
	busArn, _ := bs.Attrs["arn"].(string)
	dest := &ebtypes.ReplayDestination{Arn: aws.String(busArn)}
	for _, r := range opts.Rules {
		arn, err := ruleArnOf(res, r)
		if err != nil {
			return err
		}
		dest.FilterArns = append(dest.FilterArns, arn)
	}
	cfg, _, err := f.AWSConfig(ctx, app.Region)
	if err != nil {
		return err
	}
	c := eventbridge.NewFromConfig(cfg)
	name := ar.ID + "-" + t0.UTC().Format("20060102T150405")
	if len(name) > 64 {
		name = name[len(name)-64:]
	}
	if _, err := c.StartReplay(ctx, &eventbridge.StartReplayInput{ReplayName: aws.String(name), EventSourceArn: aws.String(archiveArn),
		Destination: dest, EventStartTime: aws.Time(from), EventEndTime: aws.Time(to),
		Description: aws.String("evdeploy replay of " + addr.String())}); err != nil {
		return fmt.Errorf("%s: start replay: %w", addr, err)
	}
	fmt.Fprintf(f.IO.ErrOut, "%s: replaying events from %s to %s (replay %s)\n", addr, from.UTC().Format(time.RFC3339), to.UTC().Format(time.RFC3339), name)
	for {
		out, err := c.DescribeReplay(ctx, &eventbridge.DescribeReplayInput{ReplayName: aws.String(name)})
		if err != nil {
			return fmt.Errorf("%s: follow replay %s: %w", addr, name, err)
		}
		switch out.State {
		case ebtypes.ReplayStateCompleted:
			last := "no event in the window"
			if out.EventLastReplayedTime != nil {
				last = "last event of " + out.EventLastReplayedTime.UTC().Format(time.RFC3339)
			}
			fmt.Fprintf(f.IO.Out, "%s: replay %s completed (%s)\n", addr, name, last)
			return nil
		case ebtypes.ReplayStateFailed, ebtypes.ReplayStateCancelled:
			return fmt.Errorf("%s: replay %s %s: %s", addr, name, strings.ToLower(string(out.State)), aws.ToString(out.StateReason))
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: interrupted; replay %s goes on in EventBridge (cancel it with aws events cancel-replay): %w", addr, name, ctx.Err())
		case <-time.After(time.Second):
		}
	}
}

// ruleArnOf finds the EventBridge rule a trigger or route lowered to.
func ruleArnOf(res map[string]state.Resource, block string) (string, error) {
	for _, r := range res {
		if r.Type == planner.TypeRule && (r.Block == block || r.Block == "trigger."+block || r.Block == "route."+block) {
			if arn, _ := r.Attrs["arn"].(string); arn != "" {
				return arn, nil
			}
		}
	}
	return "", fmt.Errorf("--rule %s: no EventBridge rule of that trigger or route is deployed", block)
}
