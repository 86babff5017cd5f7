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
	Diff    bool     // print a unified diff of each change
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
		Example: `  evdeploy fmt
  # CI: list unformatted files and exit 1, change nothing
  evdeploy fmt --check --diff`,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Files = args
			if runF != nil {
				return runF(opts)
			}
			return fmtRun(opts)
		},
	}
	cmd.Flags().BoolVar(&opts.Check, "check", false, "list files that need formatting and exit 1 if any; change nothing")
	cmd.Flags().BoolVar(&opts.Diff, "diff", false, "print the changes as a unified diff")
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
		if opts.Diff {
			fmt.Fprint(f.IO.Out, unifiedDiff(name, string(src), string(out)))
		}
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
	if len(unformatted) > 0 && !opts.Diff {
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

// unifiedDiff renders the change from a to b as a unified diff with three
// lines of context. Spec files are small, so a quadratic LCS is fine.
func unifiedDiff(name, a, b string) string {
	x, y := splitLines(a), splitLines(b)
	// lcs[i][j] is the length of the longest common subsequence of x[i:], y[j:].
	lcs := make([][]int, len(x)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(y)+1)
	}
	for i := len(x) - 1; i >= 0; i-- {
		for j := len(y) - 1; j >= 0; j-- {
			if x[i] == y[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	type op struct {
		kind byte // ' ', '-', '+'
		text string
		i, j int // line numbers (0-based) in x and y before this op
	}
	var ops []op
	i, j := 0, 0
	for i < len(x) || j < len(y) {
		switch {
		case i < len(x) && j < len(y) && x[i] == y[j]:
			ops = append(ops, op{' ', x[i], i, j})
			i++
			j++
		case i < len(x) && (j == len(y) || lcs[i+1][j] >= lcs[i][j+1]):
			ops = append(ops, op{'-', x[i], i, j}) // deletions first, as diff -u
			i++
		default:
			ops = append(ops, op{'+', y[j], i, j})
			j++
		}
	}
	const context = 3
	var w strings.Builder
	fmt.Fprintf(&w, "--- %s\n+++ %s (formatted)\n", name, name)
	for k := 0; k < len(ops); {
		if ops[k].kind == ' ' {
			k++
			continue
		}
		// A hunk: from context lines before the change to context lines after
		// the last change that is within 2*context of the previous one.
		start := max(k-context, 0)
		end := k
		for end < len(ops) {
			if ops[end].kind != ' ' {
				end++
				continue
			}
			run := end
			for run < len(ops) && ops[run].kind == ' ' {
				run++
			}
			if run == len(ops) || run-end > 2*context {
				end = min(end+context, len(ops))
				break
			}
			end = run
		}
		oldLines, newLines := 0, 0
		for _, o := range ops[start:end] {
			if o.kind != '+' {
				oldLines++
			}
			if o.kind != '-' {
				newLines++
			}
		}
		fmt.Fprintf(&w, "@@ -%d,%d +%d,%d @@\n", ops[start].i+1, oldLines, ops[start].j+1, newLines)
		for _, o := range ops[start:end] {
			fmt.Fprintf(&w, "%c%s\n", o.kind, o.text)
		}
		k = end
	}
	return w.String()
}

func splitLines(s string) []string {
	s = strings.TrimSuffix(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}
