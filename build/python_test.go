package build

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/evdeploy/evdeploy/internal/pkgfixture"
)

func wheel(tb testing.TB, dir, name, version, tag string, files map[string]string) string {
	tb.Helper()
	p, err := pkgfixture.Wheel(dir, name, version, tag, files)
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

func needPip(tb testing.TB) {
	tb.Helper()
	if err := exec.Command("python3", "-m", "pip", "--version").Run(); err != nil {
		tb.Skip("python3 -m pip does not run here")
	}
}

// pyProject writes pkgfixture's Python function (requirements: a wheel
// through --find-links and one by path) and returns its folder.
func pyProject(tb testing.TB, project string) string {
	tb.Helper()
	fn, err := pkgfixture.PyFunction(project)
	if err != nil {
		tb.Fatal(err)
	}
	return fn
}

// TestPythonRequirements: requirements.txt is installed with pip for
// Lambda's platform into the package (a --find-links wheel and a wheel by
// path), without bytecode, console scripts or build-machine paths; two
// projects in different folders package to the same bytes; nothing changed
// means no install; an edit to the handler rebuilds without reinstalling.
func TestPythonRequirements(t *testing.T) {
	needPip(t)
	t.Parallel()
	ctx := context.Background()
	var blobs [][]byte
	var contents []map[string]string
	var b *Builder
	var fn Function
	for i := range 2 {
		project := filepath.Join(t.TempDir(), fmt.Sprintf("checkout%d", i))
		src := pyProject(t, project)
		b = &Builder{Dir: project}
		fn = Function{Addr: "function.calc", Runtime: "python3.12", Source: src, Handler: "handler.handler", Architecture: "x86_64"}
		a, err := b.Build(ctx, fn)
		if err != nil {
			t.Fatal(err)
		}
		if b.Installs() != 1 || len(a.Warnings) != 0 {
			t.Fatalf("installs=%d warnings=%q; want one install, no warnings", b.Installs(), a.Warnings)
		}
		files := zipFiles(t, a.Path)
		want := []string{
			"handler.py",
			"owndep-2.0.dist-info/INSTALLER", "owndep-2.0.dist-info/METADATA", "owndep-2.0.dist-info/RECORD", "owndep-2.0.dist-info/REQUESTED", "owndep-2.0.dist-info/WHEEL",
			"owndep.py",
			"requirements.txt",
			"tinydep-1.0.dist-info/INSTALLER", "tinydep-1.0.dist-info/METADATA", "tinydep-1.0.dist-info/RECORD", "tinydep-1.0.dist-info/REQUESTED", "tinydep-1.0.dist-info/WHEEL",
			"tinydep/__init__.py",
		}
		if diff := cmp.Diff(want, sortedKeys(files)); diff != "" {
			t.Errorf("zip entries (-want +got):\n%s", diff)
		}
		for name, body := range files {
			if strings.Contains(body, project) {
				t.Errorf("%s names the build machine's folder %s", name, project)
			}
		}
		data, err := os.ReadFile(a.Path)
		if err != nil {
			t.Fatal(err)
		}
		blobs = append(blobs, data)
		contents = append(contents, files)
	}
	if !bytes.Equal(blobs[0], blobs[1]) {
		t.Errorf("the two projects' packages differ (-first +second):\n%s", cmp.Diff(contents[0], contents[1]))
	}

	a, err := b.Build(ctx, fn)
	if err != nil || !a.Cached || b.Installs() != 1 {
		t.Fatalf("unchanged: cached=%v installs=%d err=%v; want a cache hit, no install", a != nil && a.Cached, b.Installs(), err)
	}
	handler := filepath.Join(fn.Source, "handler.py")
	if err := os.WriteFile(handler, []byte(readString(t, handler)+"# edited\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	b2 := &Builder{Dir: b.Dir} // a new process: the installed folder is on disk
	if a, err := b2.Build(ctx, fn); err != nil || a.Cached || b2.Installs() != 0 {
		t.Fatalf("after an edit: cached=%v installs=%d err=%v; want a rebuild without install", a != nil && a.Cached, b2.Installs(), err)
	}
	// Another architecture is another install.
	fn.Architecture = "arm64"
	if _, err := b2.Build(ctx, fn); err != nil || b2.Installs() != 1 {
		t.Fatalf("arm64: installs=%d err=%v; want one install", b2.Installs(), err)
	}
}

// TestPythonRequirementErrors: a requirement without a wheel for the
// function's platform names both; requirements vendored by hand are not
// installed again.
func TestPythonRequirementErrors(t *testing.T) {
	needPip(t)
	t.Parallel()
	ctx := context.Background()
	project := t.TempDir()
	wheel(t, filepath.Join(project, "wheels"), "tinynative", "1.0", "cp312-cp312-manylinux2014_aarch64", map[string]string{"tinynative/__init__.py": ""})
	src := filepath.Join(project, "fn")
	tree{
		"main.py":          "import tinynative\n",
		"requirements.txt": "--no-index\n--find-links ../wheels\ntinynative==1.0\n",
	}.write(t, src, 0o644, 0o755, time.Now())
	b := &Builder{Dir: project}
	_, err := b.Build(ctx, Function{Addr: "function.native", Runtime: "python3.12", Source: src, Handler: "main.handler", Architecture: "x86_64"})
	want := "function.native: requirements.txt: no wheel of tinynative==1.0 for manylinux2014_x86_64 (or manylinux_2_28_x86_64), CPython 3.12 (Lambda's platform for architecture x86_64)"
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error = %v\nwant it to start with %q", err, want)
	}
	if _, err := os.Stat(filepath.Join(project, ".evdeploy", "deps", "python")); err == nil {
		if ents, _ := os.ReadDir(filepath.Join(project, ".evdeploy", "deps", "python")); len(ents) != 0 {
			t.Errorf("a failed install left %d entries in the deps cache", len(ents))
		}
	}
	// The same wheel suits arm64.
	if _, err := b.Build(ctx, Function{Addr: "function.native", Runtime: "python3.12", Source: src, Handler: "main.handler", Architecture: "arm64"}); err != nil {
		t.Errorf("arm64: %v", err)
	}

	// A manylinux_2_28 wheel suits the Amazon Linux 2023 runtimes (python3.12
	// and later, glibc 2.34), not python3.11's Amazon Linux 2 (glibc 2.26).
	wheel(t, filepath.Join(project, "wheels"), "tinynew", "1.0", "cp39-abi3-manylinux_2_28_x86_64", map[string]string{"tinynew/__init__.py": ""})
	newer := filepath.Join(project, "newer")
	tree{"main.py": "import tinynew\n", "requirements.txt": "--no-index\n--find-links ../wheels\ntinynew==1.0\n"}.write(t, newer, 0o644, 0o755, time.Now())
	if _, err := b.Build(ctx, Function{Addr: "function.n", Runtime: "python3.12", Source: newer, Handler: "main.handler", Architecture: "x86_64"}); err != nil {
		t.Errorf("manylinux_2_28 on python3.12: %v", err)
	}
	_, err = b.Build(ctx, Function{Addr: "function.n", Runtime: "python3.11", Source: newer, Handler: "main.handler", Architecture: "x86_64"})
	if want := "no wheel of tinynew==1.0 for manylinux2014_x86_64, CPython 3.11"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("manylinux_2_28 on python3.11: %v; want %q", err, want)
	}

	vendored := t.TempDir()
	tree{"main.py": "import six\n", "requirements.txt": "six==1.16.0\n", "six.py": "# vendored\n"}.write(t, vendored, 0o644, 0o755, time.Now())
	b = &Builder{Dir: t.TempDir()}
	if _, err := b.Build(ctx, Function{Addr: "function.v", Runtime: "python3.12", Source: vendored, Handler: "main.handler"}); err != nil || b.Installs() != 0 {
		t.Errorf("vendored: installs=%d err=%v; want no install", b.Installs(), err)
	}
}

// TestPythonDepsKey: the install key follows what pip would install — the
// requirements, the platform and Python version, and the content of the
// local wheels and folders they name — and nothing else.
func TestPythonDepsKey(t *testing.T) {
	t.Parallel()
	project := t.TempDir()
	src := pyProject(t, project)
	key := func() string {
		k, err := PythonDepsKey(src, "python3.12", "arm64")
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	k0 := key()
	if err := os.WriteFile(filepath.Join(src, "handler.py"), []byte("# edited\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if key() != k0 {
		t.Errorf("editing the handler changed the install key")
	}
	for _, other := range []struct{ rt, arch string }{{"python3.13", "arm64"}, {"python3.12", "x86_64"}} {
		if k, _ := PythonDepsKey(src, other.rt, other.arch); k == k0 {
			t.Errorf("%s/%s has the key of python3.12/arm64", other.rt, other.arch)
		}
	}
	// The team's wheel rebuilt under the same name and version.
	wheel(t, filepath.Join(project, "own"), "owndep", "2.0", "py3-none-any", map[string]string{"owndep.py": "GREETING = 'hello'\n"})
	k1 := key()
	if k1 == k0 {
		t.Errorf("a rebuilt local wheel did not change the install key")
	}
	// A wheel added to the --find-links folder could be picked: it counts too.
	wheel(t, filepath.Join(project, "wheels"), "tinydep", "1.1", "py3-none-any", map[string]string{"tinydep/__init__.py": ""})
	if key() == k1 {
		t.Errorf("a new wheel in the --find-links folder did not change the install key")
	}
}
