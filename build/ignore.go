package build

import (
	"bufio"
	"fmt"
	"io"
	"path"
	"strings"
)

// IgnoreFile is the per-function file of ignore patterns, read from the root of
// the function's source folder.
const IgnoreFile = ".evdignore"

// DefaultIgnore are the patterns applied before a folder's .evdignore, so a
// `!pattern` line in .evdignore can re-include any of them.
var DefaultIgnore = []string{
	".git/",
	".hg/",
	".svn/",
	".evdeploy/",
	IgnoreFile,
	".DS_Store",
	"__pycache__/",
	"*.pyc",
	"**/node_modules/.cache/",
	"tests/",
	"__tests__/",
	"test_*.py",
	"*_test.py",
	"*.test.js",
}

// ignoreRule is one parsed pattern line.
type ignoreRule struct {
	segs     []string // pattern split on "/"
	negate   bool     // "!pattern": re-include
	dirOnly  bool     // "pattern/": directories only
	anchored bool     // contains a "/" before its end: relative to the folder root
	src      string   // the line as written, for error messages
}

// ignoreMatcher applies gitignore-like rules: the last matching rule wins, and
// an ignored directory is not descended into (as in git, a file below an
// ignored directory cannot be re-included).
type ignoreMatcher struct{ rules []ignoreRule }

// parseIgnore reads patterns from r; name is used in error messages.
func parseIgnore(r io.Reader, name string) ([]ignoreRule, error) {
	var rules []ignoreRule
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		rule, ok, err := parseIgnoreLine(sc.Text())
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, n, err)
		}
		if ok {
			rules = append(rules, rule)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return rules, nil
}

func parseIgnoreLine(line string) (ignoreRule, bool, error) {
	src := line
	line = strings.TrimRight(line, " \t\r")
	if line == "" || strings.HasPrefix(line, "#") {
		return ignoreRule{}, false, nil
	}
	r := ignoreRule{src: src}
	if strings.HasPrefix(line, `\`) { // "\#file" or "\!file": a literal first character
		line = line[1:]
	} else if strings.HasPrefix(line, "!") {
		r.negate = true
		line = line[1:]
	}
	if strings.HasSuffix(line, "/") {
		r.dirOnly = true
		line = strings.TrimRight(line, "/")
	}
	if strings.Contains(line, "/") {
		r.anchored = true
		line = strings.TrimLeft(line, "/")
	}
	if line == "" {
		return ignoreRule{}, false, fmt.Errorf("empty pattern %q", src)
	}
	r.segs = strings.Split(line, "/")
	for _, s := range r.segs {
		if s == "**" {
			continue
		}
		if _, err := path.Match(s, ""); err != nil {
			return ignoreRule{}, false, fmt.Errorf("bad pattern %q: %w", src, err)
		}
	}
	return r, true, nil
}

// ignored reports whether the slash-separated relative path rel is excluded.
func (m *ignoreMatcher) ignored(rel string, isDir bool) bool {
	segs := strings.Split(rel, "/")
	ignored := false
	for _, r := range m.rules {
		if r.dirOnly && !isDir {
			continue
		}
		if r.matches(segs) {
			ignored = !r.negate
		}
	}
	return ignored
}

func (r ignoreRule) matches(segs []string) bool {
	if !r.anchored {
		// A pattern without a slash matches the name at any depth.
		ok, _ := path.Match(r.segs[0], segs[len(segs)-1])
		return ok
	}
	return matchSegs(r.segs, segs)
}

// matchSegs matches pattern segments against path segments; "**" matches zero
// or more whole segments.
func matchSegs(pat, segs []string) bool {
	for len(pat) > 0 {
		if pat[0] == "**" {
			rest := pat[1:]
			if len(rest) == 0 {
				return len(segs) > 0 // "dir/**" matches everything inside dir
			}
			for i := 0; i <= len(segs); i++ {
				if matchSegs(rest, segs[i:]) {
					return true
				}
			}
			return false
		}
		if len(segs) == 0 {
			return false
		}
		if ok, _ := path.Match(pat[0], segs[0]); !ok {
			return false
		}
		pat, segs = pat[1:], segs[1:]
	}
	return len(segs) == 0
}
