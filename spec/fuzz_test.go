package spec

import (
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

// FuzzLoad feeds arbitrary bytes to the loader as a one-file project. No input
// may panic; every diagnostic must have a subject (the loader is given no
// command-line input here, so every problem is somewhere in the file); an
// error-free load must produce an App; and rendering must work.
//
// Run it with a bounded minimisation, or the default 60s spent shrinking
// each new input looks like a hang on a busy machine:
//
//	go test ./spec -run '^$' -fuzz FuzzLoad -fuzztime 60s -fuzzminimizetime 50x
func FuzzLoad(f *testing.F) {
	// The SPEC example is a seed too (its ./functions folders exist under
	// testdata/valid, where the fuzzed sources are loaded).
	if b, err := os.ReadFile("../examples/shop/evdeploy.evd.hcl"); err == nil {
		f.Add(b)
	} else {
		f.Fatal(err)
	}
	for _, dir := range []string{"testdata/valid", "testdata/invalid"} {
		paths, _ := filepath.Glob(filepath.Join(dir, "*"+FileSuffix))
		more, _ := filepath.Glob(filepath.Join(dir, "*", "*"+FileSuffix))
		for _, p := range append(paths, more...) {
			b, err := os.ReadFile(p)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
	opts := Options{Getenv: func(string) string { return "" }}
	f.Fuzz(func(t *testing.T, src []byte) {
		app, files, diags := loadSources("testdata/valid", []source{{name: "testdata/valid/fuzz.evd.hcl", src: src}}, opts)
		for _, d := range diags {
			if d.Subject == nil {
				t.Errorf("diagnostic without a subject: %s: %s", d.Summary, d.Detail)
			}
		}
		if !diags.HasErrors() && app == nil {
			t.Errorf("no errors but no App")
		}
		if diags.HasErrors() && app != nil {
			t.Errorf("errors and an App")
		}
		w := hcl.NewDiagnosticTextWriter(io.Discard, files, 80, false)
		if err := w.WriteDiagnostics(diags); err != nil {
			t.Errorf("render: %v", err)
		}
		if app != nil {
			for _, fn := range app.Functions {
				if _, d := app.Eval(fn.Environment, nil); d.HasErrors() {
					t.Errorf("Eval of a validated environment failed: %s", d.Error())
				}
			}
		}
	})
}
