package build

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/evdeploy/evdeploy/internal/pkgfixture"
)

// BenchmarkPackage100 packages 100 small Python functions (two files each):
// cold (empty build cache: hash, zip, write) and cached (hash only).
func BenchmarkPackage100(b *testing.B) {
	fns := pyFunctions(b, b.TempDir(), 100)
	ctx := context.Background()
	b.Run("cold", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			dir, err := os.MkdirTemp(b.TempDir(), "cache")
			if err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			if _, err := (&Builder{Dir: dir}).BuildAll(ctx, fns, 0); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			os.RemoveAll(dir)
			b.StartTimer()
		}
	})
	b.Run("cached", func(b *testing.B) {
		bld := &Builder{Dir: b.TempDir()}
		if _, err := bld.BuildAll(ctx, fns, 0); err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			arts, err := bld.BuildAll(ctx, fns, 0)
			if err != nil {
				b.Fatal(err)
			}
			if !arts[0].Cached {
				b.Fatal("not cached")
			}
		}
	})
}

// BenchmarkGoFunction builds the gofn fixture: cold is an empty evdeploy cache
// (go list + go build; Go's own build cache is warm after the first run),
// cached is go env + go list + hashing.
func BenchmarkGoFunction(b *testing.B) {
	src, err := filepath.Abs("testdata/gofn")
	if err != nil {
		b.Fatal(err)
	}
	fn := Function{Addr: "function.api", Runtime: "go", Source: src}
	ctx := context.Background()
	b.Run("cold", func(b *testing.B) {
		for b.Loop() {
			if _, err := (&Builder{Dir: b.TempDir()}).Build(ctx, fn); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("cached", func(b *testing.B) {
		bld := &Builder{Dir: b.TempDir()}
		if _, err := bld.Build(ctx, fn); err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			if a, err := bld.Build(ctx, fn); err != nil || !a.Cached {
				b.Fatal(err, "or not cached")
			}
		}
	})
}

// BenchmarkBundle is the edit loop of a TypeScript function with an npm
// dependency (pkgfixture's tiny-shout, installed once by npm ci before the
// timer): edit is an edited handler.ts rebuilt (hash the folder, esbuild,
// zip, write), edit-incremental the same with esbuild's parse cache kept
// between builds (Builder.Incremental), cached the no-change path. None
// installs anything.
func BenchmarkBundle(b *testing.B) {
	if _, err := exec.LookPath("npm"); err != nil {
		b.Skip("npm is not on PATH")
	}
	// EVDEPLOY_BENCH_BUNDLE names a real function folder instead (handler.ts,
	// dependencies installed); handler.ts is restored afterwards.
	dir := os.Getenv("EVDEPLOY_BENCH_BUNDLE")
	base := pkgfixture.TSHandler
	if dir == "" {
		dir = filepath.Join(b.TempDir(), "fn")
		if err := pkgfixture.TSFunction(dir); err != nil {
			b.Fatal(err)
		}
	} else {
		orig, err := os.ReadFile(filepath.Join(dir, "handler.ts"))
		if err != nil {
			b.Fatal(err)
		}
		base = string(orig)
		b.Cleanup(func() { os.WriteFile(filepath.Join(dir, "handler.ts"), orig, 0o644) })
	}
	fn := Function{Addr: "function.greet", Runtime: "nodejs20.x", Source: dir, Handler: "handler.handler"}
	ctx := context.Background()
	bld := &Builder{Dir: b.TempDir()}
	if _, err := bld.Build(ctx, fn); err != nil {
		b.Fatal(err)
	}
	i := 0 // across rounds: a repeated edit would be a cache hit
	edit := func(b *testing.B, bld *Builder) {
		for b.Loop() {
			b.StopTimer()
			i++
			src := base + fmt.Sprintf("export const evdeployBenchEdit%d = %d;\n", i, i)
			if err := os.WriteFile(filepath.Join(dir, "handler.ts"), []byte(src), 0o644); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			if a, err := bld.Build(ctx, fn); err != nil || a.Cached {
				b.Fatal(err, "or cached")
			}
		}
	}
	b.Run("edit", func(b *testing.B) { edit(b, bld) })
	b.Run("edit-incremental", func(b *testing.B) {
		inc := &Builder{Dir: bld.Dir, Incremental: true}
		defer inc.Close()
		edit(b, inc)
	})
	b.Run("cached", func(b *testing.B) {
		for b.Loop() {
			if a, err := bld.Build(ctx, fn); err != nil || !a.Cached {
				b.Fatal(err, "or not cached")
			}
		}
	})
	if bld.Installs() > 1 {
		b.Fatalf("%d installs; want at most the one before the timer", bld.Installs())
	}
}
