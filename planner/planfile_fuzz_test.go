package planner

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoadPlanFile: a saved plan file is user-controlled input; loading any
// bytes returns a plan or an error, never a panic, and a loaded plan renders.
// (Fuzzing this package is slow — the test binary also holds the kumo
// emulator — so `go test` runs the seeds; mutate by hand with -fuzz.)
func FuzzLoadPlanFile(f *testing.F) {
	goldens, _ := filepath.Glob(filepath.Join("testdata", "plan", "*.json.golden"))
	for _, g := range goldens {
		b, err := os.ReadFile(g)
		if err != nil {
			f.Fatal(err)
		}
		f.Add([]byte(`{"format":"evdeploy-plan","spec_hash":"h","plan":` + string(b) + `}`))
	}
	f.Add([]byte(`{"format":"evdeploy-plan","plan":{"format_version":"1.1","changes":[{"address":"a.b/t.n","action":"create","after":{"x":[1,{"y":2}]},"after_unknown":[["x",1,"y"],["x",5],[true]]}]}}`))
	// Found by mutating the goldens: an empty path once panicked.
	f.Add([]byte(`{"format":"evdeploy-plan","plan":{"format_version":"1.1","changes":[{"address":"a.b/t.n","action":"create","after":{},"after_unknown":[[]]}]}}`))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(dir, "plan")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		pf, err := LoadPlanFile(path)
		if err != nil {
			return
		}
		var buf bytes.Buffer
		_ = Render(&buf, pf.Plan, RenderOptions{Detail: true})
		_ = RenderJSON(&buf, pf.Plan)
		_ = SameChanges(pf.Plan, pf.Plan)
	})
}
