package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/evdeploy/evdeploy/spec"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/spf13/cobra"
)

func init() { registerVerb(func(f *Factory) *cobra.Command { return newCmdFmt(f, nil) }) }

// FmtOptions are fmt's inputs.
type FmtOptions struct {
	Factory *Factory
	Check   bool
	Files   []string // explicit files; empty: every *.evd.hcl in --dir
}

func newCmdFmt(f *Factory, runF func(*FmtOptions) error) *cobra.Command {
	opts := &FmtOptions{Factory: f}
	cmd := &cobra.Command{
		Use:   "fmt [FILE...]",
		Short: "Rewrite *.evd.hcl files in canonical form",
		Long: `fmt rewrites the project's *.evd.hcl files (or the files named) in HCL's
canonical layout: indentation, aligned equals signs, spacing. With --check it
changes nothing, lists the files that need formatting and exits 1 if any do.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Files = args
			if runF != nil {
				return runF(opts)
			}
			return fmtRun(opts)
		},
	}
	cmd.Flags().BoolVar(&opts.Check, "check", false, "list files that need formatting and exit 1 if any; change nothing")
	return cmd
}

func fmtRun(opts *FmtOptions) error {
	f := opts.Factory
	files := opts.Files
	if len(files) == 0 {
		matches, err := filepath.Glob(filepath.Join(f.Global.Dir, "*"+spec.FileSuffix))
		if err != nil {
			return err
		}
		sort.Strings(matches)
		files = matches
		if len(files) == 0 {
			return fmt.Errorf("%s has no *%s files", f.Global.Dir, spec.FileSuffix)
		}
	}
	var unformatted []string
	var diags hcl.Diagnostics
	parsed := map[string]*hcl.File{}
	for _, name := range files {
		src, err := os.ReadFile(name)
		if err != nil {
			return err
		}
		// Formatting a file with syntax errors could move the user's text in
		// surprising ways; report the errors instead.
		file, d := hclsyntax.ParseConfig(src, name, hcl.InitialPos)
		parsed[name] = file
		if d.HasErrors() {
			diags = append(diags, d...)
			continue
		}
		out := hclwrite.Format(src)
		if bytes.Equal(out, src) {
			continue
		}
		unformatted = append(unformatted, name)
		if opts.Check {
			continue
		}
		info, err := os.Stat(name)
		if err != nil {
			return err
		}
		if err := os.WriteFile(name, out, info.Mode().Perm()); err != nil {
			return err
		}
	}
	if len(unformatted) > 0 {
		verb := ""
		if opts.Check {
			verb = "needs formatting: "
		}
		for _, name := range unformatted {
			fmt.Fprintf(f.IO.Out, "%s%s\n", verb, name)
		}
	}
	if diags.HasErrors() {
		if err := writeDiagnostics(f, parsed, diags); err != nil {
			return err
		}
		return silentExit(exitError)
	}
	if opts.Check && len(unformatted) > 0 {
		fmt.Fprintf(f.IO.ErrOut, "%d file%s not formatted; run evdeploy fmt%s\n", len(unformatted), plural(len(unformatted)), dirFlag(f.Global.Dir))
		return silentExit(exitError)
	}
	return nil
}

func plural(n int) string {
	if n == 1 {
		return " is"
	}
	return "s are"
}

func dirFlag(dir string) string {
	if dir == "" || dir == "." {
		return ""
	}
	if strings.ContainsAny(dir, " \t'\"") {
		return fmt.Sprintf(" -C %q", dir)
	}
	return " -C " + dir
}
