package templates

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite each template's go.mod.tmpl and go.sum.tmpl from the root module")

// TestGoModFiles keeps every template's go.mod.tmpl and go.sum.tmpl true to
// the root module: the written project requires exactly the modules its
// packages and tests need, at the versions the root go.mod selects (the ones
// `make test` built and tested them with), and carries their go.sum lines, so
// it builds on its own without touching the network for checksums. After a
// dependency bump: go test ./templates -run TestGoModFiles -update.
func TestGoModFiles(t *testing.T) {
	rootSum := readGoSum(t, filepath.Join("..", "go.sum"))
	for _, name := range Names() {
		if Language(name) != "go" {
			continue
		}
		t.Run(name, func(t *testing.T) {
			mods, direct := templateModules(t, name)
			wantMod := renderGoMod(mods, direct)
			var sum []string
			for _, m := range mods {
				lines := rootSum[m.Path+" "+m.Version]
				if len(lines) == 0 {
					t.Fatalf("root go.sum has no lines for %s %s", m.Path, m.Version)
				}
				sum = append(sum, lines...)
			}
			sort.Strings(sum)
			wantSum := strings.Join(sum, "\n") + "\n"
			modPath, sumPath := filepath.Join(name, "go.mod.tmpl"), filepath.Join(name, "go.sum.tmpl")
			if *update {
				for p, s := range map[string]string{modPath: wantMod, sumPath: wantSum} {
					if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				return
			}
			for p, want := range map[string]string{modPath: wantMod, sumPath: wantSum} {
				got, err := os.ReadFile(p)
				if err != nil {
					t.Fatalf("%v (run go test ./templates -run TestGoModFiles -update)", err)
				}
				if d := cmp.Diff(want, string(got)); d != "" {
					t.Errorf("%s drifted from the root module (-want +got); run go test ./templates -run TestGoModFiles -update:\n%s", p, d)
				}
			}
		})
	}
}

type module struct{ Path, Version string }

// templateModules asks `go list` which modules the template's packages and
// their tests load, and which of those they import directly.
func templateModules(t *testing.T, name string) (mods []module, direct map[string]bool) {
	t.Helper()
	cmd := exec.Command("go", "list", "-deps", "-test", "-json=ImportPath,Dir,Module,Imports,TestImports,XTestImports", "./"+name+"/...")
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	type pkg struct {
		ImportPath string
		Dir        string
		Module     *struct {
			Path, Version string
			Main          bool
		}
		Imports, TestImports, XTestImports []string
	}
	byPath := map[string]pkg{}
	var own []pkg
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		id, _, _ := strings.Cut(p.ImportPath, " ")
		byPath[id] = p
		// The generated test main (pkg.test) imports the package under test;
		// it is not the template's code.
		if p.Module != nil && p.Module.Main && !strings.HasSuffix(id, ".test") {
			own = append(own, p)
		}
	}
	seen := map[module]bool{}
	for _, p := range byPath {
		if p.Module != nil && !p.Module.Main && !seen[module{p.Module.Path, p.Module.Version}] {
			seen[module{p.Module.Path, p.Module.Version}] = true
			mods = append(mods, module{p.Module.Path, p.Module.Version})
		}
	}
	sort.Slice(mods, func(i, j int) bool { return mods[i].Path < mods[j].Path })
	direct = map[string]bool{}
	for _, p := range own {
		for _, imp := range append(append(p.Imports, p.TestImports...), p.XTestImports...) {
			imp, _, _ = strings.Cut(imp, " ")
			if d, ok := byPath[imp]; ok && d.Module != nil && !d.Module.Main {
				direct[d.Module.Path] = true
			}
			if strings.HasPrefix(imp, "github.com/evdeploy/evdeploy") {
				t.Errorf("%s imports %s: a template's code must build outside this module", p.ImportPath, imp)
			}
		}
	}
	return mods, direct
}

func renderGoMod(mods []module, direct map[string]bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "module %s\n\ngo 1.26\n", AppNamePlaceholder)
	for _, wantDirect := range []bool{true, false} {
		var lines []string
		for _, m := range mods {
			if direct[m.Path] != wantDirect {
				continue
			}
			l := "\t" + m.Path + " " + m.Version
			if !wantDirect {
				l += " // indirect"
			}
			lines = append(lines, l)
		}
		if len(lines) > 0 {
			fmt.Fprintf(&b, "\nrequire (\n%s\n)\n", strings.Join(lines, "\n"))
		}
	}
	return b.String()
}

// readGoSum groups go.sum lines by "path version".
func readGoSum(t *testing.T, p string) map[string][]string {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string][]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) != 3 {
			continue
		}
		key := fields[0] + " " + strings.TrimSuffix(fields[1], "/go.mod")
		out[key] = append(out[key], sc.Text())
	}
	return out
}
