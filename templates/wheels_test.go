package templates

import (
	"archive/zip"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/evdeploy/evdeploy/internal/pkgfixture"
)

var (
	pyprojectName    = regexp.MustCompile(`(?m)^name\s*=\s*"([^"]+)"`)
	pyprojectVersion = regexp.MustCompile(`(?m)^version\s*=\s*"([^"]+)"`)
)

// TestTemplateWheels: a template that ships the team's own Python library as
// a wheel (wheels/NAME-VERSION-py3-none-any.whl, named by requirements.txt)
// ships its source too (libs/NAME), and the wheel holds exactly that source.
// -update rebuilds the wheels from the source (deterministically).
func TestTemplateWheels(t *testing.T) {
	for _, name := range Names() {
		libs, err := os.ReadDir(filepath.Join(name, "libs"))
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, lib := range libs {
			t.Run(name+"/"+lib.Name(), func(t *testing.T) {
				dir := filepath.Join(name, "libs", lib.Name())
				pyproject, err := os.ReadFile(filepath.Join(dir, "pyproject.toml"))
				if err != nil {
					t.Fatal(err)
				}
				n, v := pyprojectName.FindSubmatch(pyproject), pyprojectVersion.FindSubmatch(pyproject)
				if n == nil || v == nil {
					t.Fatalf("%s/pyproject.toml has no name or version", dir)
				}
				src := map[string]string{}
				err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
					if err != nil || d.IsDir() || filepath.Ext(p) != ".py" {
						return err
					}
					b, err := os.ReadFile(p)
					rel, _ := filepath.Rel(dir, p)
					src[filepath.ToSlash(rel)] = string(b)
					return err
				})
				if err != nil {
					t.Fatal(err)
				}
				wheelPath := filepath.Join(name, "wheels", string(n[1])+"-"+string(v[1])+"-py3-none-any.whl")
				if *update {
					if _, err := pkgfixture.Wheel(filepath.Dir(wheelPath), string(n[1]), string(v[1]), "py3-none-any", src); err != nil {
						t.Fatal(err)
					}
					return
				}
				zr, err := zip.OpenReader(wheelPath)
				if err != nil {
					t.Fatalf("%v (go test ./templates -run TestTemplateWheels -update rebuilds it)", err)
				}
				defer zr.Close()
				got := map[string]string{}
				for _, f := range zr.File {
					if filepath.Ext(f.Name) != ".py" {
						continue
					}
					r, err := f.Open()
					if err != nil {
						t.Fatal(err)
					}
					b, _ := io.ReadAll(r)
					r.Close()
					got[f.Name] = string(b)
				}
				if d := cmp.Diff(src, got); d != "" {
					t.Errorf("%s differs from %s (-source +wheel); go test ./templates -run TestTemplateWheels -update:\n%s", wheelPath, dir, d)
				}
			})
		}
	}
}
