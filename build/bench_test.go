package build

import (
	"context"
	"os"
	"path/filepath"
	"testing"
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
