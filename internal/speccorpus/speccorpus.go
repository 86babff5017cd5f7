package speccorpus

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// testdata is spec/testdata, found from this file's own path so that a test
// of any package can call App.
func testdata(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("speccorpus: cannot locate spec/testdata")
	}
	return filepath.Join(filepath.Dir(file), "..", "..", "spec", "testdata")
}

// App copies spec/testdata/valid/<name>.evd.hcl into a fresh folder
// <tmp>/<name>, with the function sources the corpus names beside it as in
// spec/testdata/valid: links <tmp>/src to spec/testdata/src ("../src/...")
// and <tmp>/<name>/functions to spec/testdata/valid/functions
// ("./functions/..."). It returns the folder.
func App(t testing.TB, name string) string {
	t.Helper()
	td := testdata(t)
	body, err := os.ReadFile(filepath.Join(td, "valid", name+".evd.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	if err := os.Symlink(filepath.Join(td, "src"), filepath.Join(root, "src")); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, name)
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(td, "valid", "functions"), filepath.Join(dir, "functions")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "app.evd.hcl"), body, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}
