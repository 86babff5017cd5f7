package build

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
)

// sourceFile is one file that goes into a package.
type sourceFile struct {
	Rel  string // slash-separated path inside the zip
	Abs  string // where to read it from (symlinks already resolved)
	Exec bool   // any execute bit set, or named bootstrap at the root
	Size int64
}

// collectFiles lists the files of dir that a package contains, sorted by Rel.
// Symbolic links are followed (the zip stores the target's content) so that
// node_modules/.bin and linked workspaces work; a link cycle is an error.
func collectFiles(dir string) ([]sourceFile, error) { return collectFilesSkip(dir, nil) }

// collectFilesSkip is collectFiles without descending into the folders for
// which skip (given a slash-separated relative path) is true.
func collectFilesSkip(dir string, skip func(rel string) bool) ([]sourceFile, error) {
	m := &ignoreMatcher{}
	for i, p := range DefaultIgnore {
		r, ok, err := parseIgnoreLine(p)
		if err != nil || !ok {
			panic(fmt.Sprintf("DefaultIgnore[%d] %q: %v", i, p, err))
		}
		m.rules = append(m.rules, r)
	}
	data, err := os.ReadFile(filepath.Join(dir, IgnoreFile))
	switch {
	case err == nil:
		rules, err := parseIgnore(bytes.NewReader(data), filepath.Join(dir, IgnoreFile))
		if err != nil {
			return nil, err
		}
		m.rules = append(m.rules, rules...)
	case !os.IsNotExist(err):
		return nil, err
	}

	var files []sourceFile
	var walk func(abs, rel string, chain []string) error
	walk = func(abs, rel string, chain []string) error {
		real, err := filepath.EvalSymlinks(abs)
		if err != nil {
			return err
		}
		for _, c := range chain {
			if c == real {
				return fmt.Errorf("symbolic link cycle at %s", abs)
			}
		}
		chain = append(chain, real)
		entries, err := os.ReadDir(abs)
		if err != nil {
			return err
		}
		for _, e := range entries {
			childAbs := filepath.Join(abs, e.Name())
			childRel := e.Name()
			if rel != "" {
				childRel = rel + "/" + e.Name()
			}
			info, err := os.Stat(childAbs) // follows links
			if err != nil {
				return fmt.Errorf("%s: %w", childAbs, err)
			}
			if m.ignored(childRel, info.IsDir()) {
				continue
			}
			switch {
			case info.IsDir():
				if skip != nil && skip(childRel) {
					continue
				}
				if err := walk(childAbs, childRel, chain); err != nil {
					return err
				}
			case info.Mode().IsRegular():
				files = append(files, sourceFile{
					Rel:  childRel,
					Abs:  childAbs,
					Exec: info.Mode()&0o111 != 0 || childRel == "bootstrap",
					Size: info.Size(),
				})
			default:
				// Sockets, devices and pipes have no place in a package.
				continue
			}
		}
		return nil
	}
	info, err := os.Stat(dir)
	if err != nil {
		return nil, err
	}
	if !info.IsDir() {
		return nil, fmt.Errorf("%s is not a directory", dir)
	}
	if err := walk(dir, "", nil); err != nil {
		return nil, err
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Rel < files[j].Rel })
	return files, nil
}
