package build

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
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
func dependencyWarnings(fn Function, files []sourceFile) ([]string, error) {
	switch {
	case strings.HasPrefix(fn.Runtime, "python"):
		return pythonWarnings(fn, files)
	case strings.HasPrefix(fn.Runtime, "nodejs"):
		return nodeWarnings(fn, files)
	}
	return nil, nil
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
