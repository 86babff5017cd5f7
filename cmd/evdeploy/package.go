package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"text/tabwriter"

	"github.com/evdeploy/evdeploy/build"
	"github.com/evdeploy/evdeploy/spec"
	"github.com/spf13/cobra"
)

func init() { registerVerb(func(f *Factory) *cobra.Command { return newCmdPackage(f, nil) }) }

// PackageOptions are package's inputs.
type PackageOptions struct {
	Factory  *Factory
	Out      string // copy every package here as <name>.zip; "" keeps them in the build cache only
	JSON     bool
	Parallel int
}

func newCmdPackage(f *Factory, runF func(*PackageOptions) error) *cobra.Command {
	opts := &PackageOptions{Factory: f}
	cmd := &cobra.Command{
		Use:   "package",
		Short: "Build every function's deployment package",
		Long: `package builds each function's Lambda package: Go functions are cross-compiled
into bootstrap, Python and Node folders are zipped. Packages are deterministic
(the same source gives the same bytes and SHA-256 everywhere) and cached in
.evdeploy/build by a hash of their inputs, so unchanged functions are not
rebuilt. The SHA-256 printed is the base64 form Lambda reports as CodeSha256.`,
		Example: `  evdeploy package
  evdeploy package --out dist --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return packageRun(cmd, opts)
		},
	}
	cmd.Flags().StringVar(&opts.Out, "out", "", "also write each package to `DIR`/<function>.zip")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the result as JSON")
	cmd.Flags().IntVar(&opts.Parallel, "parallel", 0, "how many functions to build at once (default: number of CPUs)")
	return cmd
}

// packageJSON is one function in package --json.
type packageJSON struct {
	Function  string   `json:"function"`
	Runtime   string   `json:"runtime"` // as deployed: go → provided.al2023
	Handler   string   `json:"handler,omitempty"`
	Size      int64    `json:"size"`
	SHA256    string   `json:"sha256"` // base64, as Lambda's CodeSha256
	SHA256Hex string   `json:"sha256_hex"`
	Path      string   `json:"path"`
	Cached    bool     `json:"cached"`
	Warnings  []string `json:"warnings,omitempty"`
}

func packageRun(cmd *cobra.Command, opts *PackageOptions) error {
	f := opts.Factory
	app, _, err := loadApp(f)
	if err != nil {
		return err
	}
	arts, err := packageApp(cmd.Context(), f, app, opts.Parallel)
	if err != nil {
		return err
	}
	cacheDir := (&build.Builder{Dir: app.Dir}).CacheDir()

	out := make([]packageJSON, len(arts))
	for i, a := range arts {
		path := a.Path
		if opts.Out != "" {
			path = filepath.Join(opts.Out, app.Functions[i].Addr.Name+".zip")
			if err := copyFile(a.Path, path); err != nil {
				return fmt.Errorf("%s: %w", a.Addr, err)
			}
		}
		out[i] = packageJSON{
			Function: a.Addr, Runtime: a.Runtime, Handler: a.Handler, Size: a.Size,
			SHA256: a.SHA256, SHA256Hex: a.Hex, Path: path, Cached: a.Cached, Warnings: a.Warnings,
		}
	}

	if opts.JSON {
		enc := json.NewEncoder(f.IO.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			Functions []packageJSON `json:"functions"`
		}{out})
	}
	if len(out) == 0 {
		fmt.Fprintln(f.IO.Out, "No functions to package.")
		return nil
	}
	tw := tabwriter.NewWriter(f.IO.Out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "FUNCTION\tRUNTIME\tSIZE\tSHA-256\tBUILD")
	built := 0
	for i, p := range out {
		state := "built"
		if p.Cached {
			state = "cached"
		} else {
			built++
		}
		if arts[i].NeedsBucket() {
			state += ", upload via S3"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", p.Function, p.Runtime, humanSize(p.Size), p.SHA256, state)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	where := "in " + cacheDir
	if opts.Out != "" {
		where = "written to " + opts.Out
	}
	fmt.Fprintf(f.IO.Out, "\n%d packaged (%d built, %d cached), %s.\n", len(out), built, len(out)-built, where)
	return nil
}

// packageApp builds every function of app (at most parallel at a time; NumCPU
// when <= 0) and logs their warnings. The artifacts are in app.Functions'
// order. apply uses it too, so that what is deployed is what package shows.
func packageApp(ctx context.Context, f *Factory, app *spec.App, parallel int) ([]*build.Artifact, error) {
	fns := make([]build.Function, len(app.Functions))
	for i, fn := range app.Functions {
		fns[i] = build.Function{
			Addr: fn.Addr.String(), Runtime: fn.Runtime, Source: fn.Source,
			Handler: fn.Handler, Architecture: fn.Architecture,
			Debug: f.debugFns[fn.Addr.Name],
		}
		if bd := fn.Bundle; bd != nil {
			fns[i].Bundle = build.Bundle{Off: bd.Disabled, External: bd.External, SourceMap: bd.SourceMap}
		}
	}
	b := &build.Builder{Dir: app.Dir, Log: f.Logger.Infof}
	arts, err := b.BuildAll(ctx, fns, parallel)
	if err != nil {
		return nil, explainToolchain(err)
	}
	for _, a := range arts {
		for _, w := range a.Warnings {
			f.Logger.Warn(w)
		}
	}
	return arts, nil
}

// humanSize formats n bytes with a binary unit.
func humanSize(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// copyFile copies src to dst through a temporary file, so dst is never half
// written.
func copyFile(src, dst string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".evdeploy-*.zip")
	if err != nil {
		return err
	}
	if _, err := io.Copy(tmp, in); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), dst)
}
