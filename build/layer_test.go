package build

import (
	"archive/zip"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestBuildLayer: a layer folder is zipped as laid out (python/...), the same
// files give the same bytes (so the same CodeSha256: no new version), and a
// content change gives another hash.
func TestBuildLayer(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "layers", "deps")
	write := func(rel, body string) {
		t.Helper()
		p := filepath.Join(src, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("python/util.py", "X = 1\n")
	write("python/pkg/__init__.py", "")
	b := &Builder{Dir: dir}
	l := Layer{Addr: "layer.deps", Source: src}
	first, err := b.BuildLayer(context.Background(), l)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := zip.OpenReader(first.Path)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
	}
	zr.Close()
	if d := cmp.Diff([]string{"python/pkg/__init__.py", "python/util.py"}, names); d != "" {
		t.Errorf("zip entries (-want +got):\n%s", d)
	}
	// Touching the files (new mtimes) changes nothing.
	write("python/util.py", "X = 1\n")
	again, err := b.BuildLayer(context.Background(), l)
	if err != nil || again.SHA256 != first.SHA256 {
		t.Errorf("rebuild = %v, %v; want the same hash %s", again, err, first.SHA256)
	}
	write("python/util.py", "X = 2\n")
	changed, err := b.BuildLayer(context.Background(), l)
	if err != nil || changed.SHA256 == first.SHA256 {
		t.Errorf("content change = %v, %v; want a new hash", changed, err)
	}
	if _, err := b.BuildLayer(context.Background(), Layer{Addr: "layer.empty", Source: t.TempDir()}); err == nil {
		t.Error("empty folder: no error")
	}
}
