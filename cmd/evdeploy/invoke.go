package main

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/spf13/cobra"

	"github.com/evdeploy/evdeploy/planner"
)

func init() { registerVerb(newCmdInvoke) }

// InvokeOptions are invoke's flags.
type InvokeOptions struct {
	Function string
	Payload  string
	Async    bool
}

func newCmdInvoke(f *Factory) *cobra.Command {
	opts := &InvokeOptions{}
	cmd := &cobra.Command{
		Use:   "invoke FUNCTION",
		Short: "Invoke a deployed function and print its result",
		Long: `invoke calls a deployed function of this stage (by its block name, e.g. "api"
or "function.api") with a JSON payload, prints what it returned on stdout and
the tail of its log on stderr. A function error exits 1. With --target local it
runs the function on the local cloud.`,
		Example: `  evdeploy invoke report --target local --payload '{"time":"2026-11-26T02:00:00Z"}'
  evdeploy invoke worker --payload @event.json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Function = args[0]
			return invokeRun(cmd.Context(), f, opts)
		},
	}
	cmd.Flags().StringVar(&opts.Payload, "payload", "{}", "the event: JSON, or @FILE to read it from a file")
	cmd.Flags().BoolVar(&opts.Async, "async", false, "invoke asynchronously (Event): return once Lambda has queued it")
	return cmd
}

func invokeRun(ctx context.Context, f *Factory, opts *InvokeOptions) error {
	if ctx == nil {
		ctx = context.Background()
	}
	block := opts.Function
	if !strings.HasPrefix(block, "function.") {
		block = "function." + block
	}
	payload := []byte(opts.Payload)
	if name, ok := strings.CutPrefix(opts.Payload, "@"); ok {
		b, err := os.ReadFile(name)
		if err != nil {
			return fmt.Errorf("--payload: %w", err)
		}
		payload = b
	}

	doc, err := readState(ctx, f)
	if err != nil {
		return err
	}
	addr := planner.ResourceAddr{Block: block, Type: planner.TypeFunction, Name: "main"}.String()
	name := ""
	if doc != nil {
		for _, r := range doc.Resources {
			if r.Addr == addr {
				name = r.ID
			}
		}
	}
	if name == "" {
		return fmt.Errorf("%s is not deployed in this stage (no %s in state): run apply first", block, addr)
	}
	app, _, err := loadApp(f)
	if err != nil {
		return err
	}
	cfg, target, err := f.AWSConfig(ctx, app.Region)
	if err != nil {
		return err
	}
	in := &lambda.InvokeInput{FunctionName: aws.String(name), Payload: payload, LogType: lambdatypes.LogTypeTail}
	if opts.Async {
		in.InvocationType = lambdatypes.InvocationTypeEvent
		in.LogType = lambdatypes.LogTypeNone
	}
	out, err := lambda.NewFromConfig(cfg).Invoke(ctx, in)
	if err != nil {
		return explainInvoke(err, block, name, target.Endpoint)
	}
	if logs := aws.ToString(out.LogResult); logs != "" {
		if b, err := base64.StdEncoding.DecodeString(logs); err == nil {
			f.IO.ErrOut.Write(b)
		}
	}
	if opts.Async {
		fmt.Fprintf(f.IO.ErrOut, "%s: queued (status %d)\n", block, out.StatusCode)
		return nil
	}
	f.IO.Out.Write(out.Payload)
	if len(out.Payload) > 0 && out.Payload[len(out.Payload)-1] != '\n' {
		fmt.Fprintln(f.IO.Out)
	}
	if fe := aws.ToString(out.FunctionError); fe != "" {
		return fmt.Errorf("%s returned a function error (%s)", block, fe)
	}
	return nil
}
