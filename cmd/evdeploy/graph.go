package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/evdeploy/evdeploy/flow"
)

func init() { registerVerb(newCmdGraph) }

// GraphOptions are graph's flags.
type GraphOptions struct {
	Format string
	Out    string
	All    bool
}

func newCmdGraph(f *Factory) *cobra.Command {
	opts := &GraphOptions{}
	cmd := &cobra.Command{
		Use:   "graph",
		Short: "Draw the app's event flow: producers → routers → consumers",
		Long: `graph draws the app as its events flow, left to right: producers (APIs,
buckets, schedules, tables) → routers (topics, buses, queues, streams) →
consumers (functions). Every trigger, route and async destination is an edge
labelled with what selects its events (route key, filter, schedule); the
functions' uses grants are drawn dotted. It reads the spec only: nothing is
deployed or called.

Formats: text (for a terminal), mermaid (for a README: GitHub renders it),
dot (Graphviz), svg (self-contained, drawn by evdeploy itself: no Graphviz
needed). Without --format, --out's extension decides (.svg, .mmd/.mermaid,
.dot/.gv), else text.`,
		Example: `  evdeploy graph
  evdeploy graph --out docs/flow.svg
  evdeploy graph --format mermaid >> README.md
  evdeploy graph --format dot | dot -Tpng -o flow.png`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return graphRun(f, opts)
		},
	}
	cmd.Flags().StringVar(&opts.Format, "format", "", "text, mermaid, dot or svg (default: from --out's extension, else text)")
	cmd.Flags().StringVarP(&opts.Out, "out", "o", "", "write to `FILE` instead of stdout")
	cmd.Flags().BoolVar(&opts.All, "all", false, "draw the apps in the subfolders of --dir and the events between them (text or mermaid)")
	return cmd
}

func graphRun(f *Factory, opts *GraphOptions) error {
	format := opts.Format
	if format == "" {
		switch strings.ToLower(filepath.Ext(opts.Out)) {
		case ".svg":
			format = "svg"
		case ".mmd", ".mermaid":
			format = "mermaid"
		case ".dot", ".gv":
			format = "dot"
		default:
			format = "text"
		}
	}
	var b bytes.Buffer
	if opts.All {
		if err := graphAll(f, &b, format); err != nil {
			return err
		}
	} else {
		app, _, err := loadApp(f)
		if err != nil {
			return err
		}
		if err := flow.Write(&b, flow.FromApp(app), format); err != nil {
			return fmt.Errorf("--format: %w", err)
		}
	}
	if opts.Out == "" {
		_, err := f.IO.Out.Write(b.Bytes())
		return err
	}
	if err := os.WriteFile(opts.Out, b.Bytes(), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(f.IO.ErrOut, "Wrote %s (%s).\n", opts.Out, format)
	return nil
}
