package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	cwltypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/spf13/cobra"

	"github.com/evdeploy/evdeploy/planner"
)

func init() { registerVerb(newCmdLogs) }

// LogsOptions are logs' flags.
type LogsOptions struct {
	Function string
	Follow   bool
	Since    time.Duration
}

func newCmdLogs(f *Factory) *cobra.Command {
	opts := &LogsOptions{}
	cmd := &cobra.Command{
		Use:   "logs FUNCTION",
		Short: "Print a deployed function's logs",
		Long: `logs prints the CloudWatch Logs of a deployed function of this stage (log
group /aws/lambda/<name>): every stream, in time order, each line with its
time. --since bounds how far back (default 10m); --follow keeps printing new
lines until interrupted. The embedded local engine writes each handler's output
(with START, END and REPORT lines per request) into the same log group, so the
command is the same on AWS and locally.`,
		Example: `  evdeploy logs api --target local
  evdeploy logs worker --since 1h
  evdeploy logs api --follow`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Function = args[0]
			return logsRun(cmd.Context(), f, opts)
		},
	}
	cmd.Flags().BoolVarP(&opts.Follow, "follow", "f", false, "keep printing new lines until interrupted")
	cmd.Flags().DurationVar(&opts.Since, "since", 10*time.Minute, "print lines from this long ago")
	return cmd
}

func logsRun(ctx context.Context, f *Factory, opts *LogsOptions) error {
	if ctx == nil {
		ctx = context.Background()
	}
	block := opts.Function
	if !strings.HasPrefix(block, "function.") {
		block = "function." + block
	}
	doc, err := readState(ctx, f)
	if err != nil {
		return err
	}
	fn := findResource(doc, planner.ResourceAddr{Block: block, Type: planner.TypeFunction, Name: "main"}.String())
	if fn == nil {
		return fmt.Errorf("%s is not deployed in this stage: run apply first", block)
	}
	app, _, err := loadApp(f)
	if err != nil {
		return err
	}
	cfg, _, err := f.AWSConfig(ctx, app.Region)
	if err != nil {
		return err
	}
	t := &logTail{c: cloudwatchlogs.NewFromConfig(cfg), group: "/aws/lambda/" + fn.ID, seen: map[string]bool{}}
	start := time.Now().Add(-opts.Since)
	if err := t.print(ctx, f.IO.Out, start, ""); err != nil {
		return fmt.Errorf("%s: %w", block, err)
	}
	if !opts.Follow {
		return nil
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Second):
		}
		if err := t.print(ctx, f.IO.Out, time.UnixMilli(t.last), ""); err != nil && ctx.Err() == nil {
			return fmt.Errorf("%s: %w", block, err)
		}
	}
}

// logTail reads a log group from a time on, printing each event once.
type logTail struct {
	c     *cloudwatchlogs.Client
	group string
	last  int64           // newest timestamp printed (ms)
	seen  map[string]bool // events printed at timestamps ≥ last
}

// print writes the group's events since start (ms precision), oldest first;
// prefix is put before each line.
func (t *logTail) print(ctx context.Context, w io.Writer, start time.Time, prefix string) error {
	evs, err := t.read(ctx, start)
	if err != nil {
		return err
	}
	for _, e := range evs {
		ts := aws.ToInt64(e.Timestamp)
		k := aws.ToString(e.LogStreamName) + "/" + aws.ToString(e.EventId) + "/" + aws.ToString(e.Message)
		if ts < t.last || t.seen[k] {
			continue
		}
		if ts > t.last {
			t.last = ts
			t.seen = map[string]bool{}
		}
		t.seen[k] = true
		msg := strings.TrimRight(aws.ToString(e.Message), "\n")
		fmt.Fprintf(w, "%s%s %s\n", prefix, time.UnixMilli(ts).UTC().Format("2006-01-02T15:04:05.000Z"), msg)
	}
	return nil
}

// read returns the group's events from start on, in time order (a missing
// group is no events: nothing has run yet).
func (t *logTail) read(ctx context.Context, start time.Time) ([]cwltypes.FilteredLogEvent, error) {
	in := &cloudwatchlogs.FilterLogEventsInput{LogGroupName: &t.group, StartTime: aws.Int64(start.UnixMilli())}
	var all []cwltypes.FilteredLogEvent
	for page := 0; page < 100; page++ {
		out, err := t.c.FilterLogEvents(ctx, in)
		if err != nil {
			var nf *cwltypes.ResourceNotFoundException
			if errors.As(err, &nf) {
				return nil, nil
			}
			return nil, fmt.Errorf("read log group %s: %w", t.group, err)
		}
		all = append(all, out.Events...)
		if out.NextToken == nil || aws.ToString(out.NextToken) == aws.ToString(in.NextToken) {
			break
		}
		in.NextToken = out.NextToken
	}
	sort.SliceStable(all, func(i, j int) bool { return aws.ToInt64(all[i].Timestamp) < aws.ToInt64(all[j].Timestamp) })
	return all, nil
}
