package build

import (
	"bufio"
	"bytes"
	"debug/elf"
	"encoding/json"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// dependencyWarnings reports declared dependencies that are not in the package:
// a requirements.txt (Python) or package.json (Node) whose dependencies are
// missing from the zipped files would fail at import time on Lambda, which does
// not install anything. files is the package's content after ignore rules, so
// a vendored folder that .evdignore excludes counts as missing.
func dependencyWarnings(fn Function, arch string, files []sourceFile) ([]string, error) {
	var warnings []string
	var err error
	switch {
	case strings.HasPrefix(fn.Runtime, "python"):
		warnings, err = pythonWarnings(fn, files)
	case strings.HasPrefix(fn.Runtime, "nodejs"):
		warnings, err = nodeWarnings(fn, files)
	}
	if err != nil {
		return nil, err
	}
	return append(warnings, nativeWarnings(fn, arch, files)...), nil
}

// nativeWarnings reports native extensions (Python .so, Node .node) that
// Lambda cannot load: built for another OS (a wheel installed on a Mac) or
// for the other architecture. This is the usual way a vendored package works
// locally and fails on Lambda.
func nativeWarnings(fn Function, arch string, files []sourceFile) []string {
	want := elf.EM_AARCH64
	if arch == "x86_64" {
		want = elf.EM_X86_64
	}
	var foreign, wrongArch []string
	for _, f := range files {
		base := path.Base(f.Rel)
		if !strings.HasSuffix(base, ".so") && !strings.Contains(base, ".so.") && !strings.HasSuffix(base, ".node") {
			continue
		}
		ef, err := elf.Open(f.Abs)
		if err != nil {
			foreign = append(foreign, f.Rel)
			continue
		}
		if ef.Machine != want {
			wrongArch = append(wrongArch, f.Rel+" ("+machineName(ef.Machine)+")")
		}
		ef.Close()
	}
	var out []string
	if len(foreign) > 0 {
		verb := "are not Linux ELF binaries"
		if len(foreign) == 1 {
			verb = "is not a Linux ELF binary"
		}
		out = append(out, fmt.Sprintf("%s: %s %s (installed on another OS?); Lambda cannot load it. Reinstall the dependencies for Linux (see docs/packaging.md)",
			fn.Addr, listSome(foreign), verb))
	}
	if len(wrongArch) > 0 {
		out = append(out, fmt.Sprintf("%s: %s built for another architecture than the function's %s; Lambda cannot load it. Reinstall the dependencies for %s (see docs/packaging.md) or change the function's architecture",
			fn.Addr, listSome(wrongArch), arch, arch))
	}
	return out
}

func machineName(m elf.Machine) string {
	switch m {
	case elf.EM_AARCH64:
		return "arm64"
	case elf.EM_X86_64:
		return "x86_64"
	}
	return m.String()
}

// listSome lists up to three names and counts the rest.
func listSome(names []string) string {
	if len(names) <= 3 {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:3], ", "), len(names)-3)
}

var (
	reqName  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*`)
	pepSeps  = regexp.MustCompile(`[-_.]+`)
	distInfo = regexp.MustCompile(`^([^/]+?)(-[^/]*)?\.(dist-info|egg-info)/`)
)

// normPy is the PEP 503 normalised project name.
func normPy(name string) string { return pepSeps.ReplaceAllString(strings.ToLower(name), "-") }

func pythonWarnings(fn Function, files []sourceFile) ([]string, error) {
	data, err := os.ReadFile(filepath.Join(fn.Source, "requirements.txt"))
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	// What is vendored: pip install -t leaves NAME-VERSION.dist-info folders;
	// a hand-copied package leaves a folder or module named after the import.
	have := map[string]bool{}
	for _, f := range files {
		if m := distInfo.FindStringSubmatch(f.Rel); m != nil {
			have[normPy(m[1])] = true
		}
		top, _, _ := strings.Cut(f.Rel, "/")
		have[normPy(strings.TrimSuffix(top, ".py"))] = true
	}
	var missing []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := sc.Text()
		if i := strings.Index(line, "#"); i >= 0 {
			line = line[:i]
		}
		line = strings.TrimSpace(line)
		// Options (-r, -e, --index-url …) and direct URLs are not checked.
		if line == "" || strings.HasPrefix(line, "-") || strings.Contains(line, "://") {
			continue
		}
		name := reqName.FindString(line)
		if name != "" && !have[normPy(name)] {
			missing = append(missing, name)
		}
	}
	if len(missing) == 0 {
		return nil, nil
	}
	return []string{fmt.Sprintf("%s: requirements.txt lists %s, not vendored in %s; Lambda installs nothing, so imports would fail at runtime. Vendor them with `pip install -r requirements.txt -t .` in that folder (see docs/packaging.md)",
		fn.Addr, strings.Join(missing, ", "), fn.Source)}, nil
}

func nodeWarnings(fn Function, files []sourceFile) ([]string, error) {
	data, err := os.ReadFile(filepath.Join(fn.Source, "package.json"))
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var pkg struct {
		Dependencies map[string]string `json:"dependencies"`
	}
	if err := json.Unmarshal(data, &pkg); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(fn.Source, "package.json"), err)
	}
	var missing []string
	for name := range pkg.Dependencies {
		prefix := "node_modules/" + name + "/"
		i := sort.Search(len(files), func(i int) bool { return files[i].Rel >= prefix })
		if i == len(files) || !strings.HasPrefix(files[i].Rel, prefix) {
			missing = append(missing, name)
		}
	}
	if len(missing) == 0 {
		return nil, nil
	}
	sort.Strings(missing)
	return []string{fmt.Sprintf("%s: package.json depends on %s, not in %s/node_modules; Lambda installs nothing, so require() would fail at runtime. Vendor them with `npm install --omit=dev` in that folder (see docs/packaging.md)",
		fn.Addr, strings.Join(missing, ", "), fn.Source)}, nil
}
