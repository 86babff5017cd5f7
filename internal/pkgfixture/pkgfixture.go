package pkgfixture

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// WriteFiles writes rel path → content under dir.
func WriteFiles(dir string, files map[string]string) error {
	for _, name := range sorted(files) {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, []byte(files[name]), 0o644); err != nil {
			return err
		}
	}
	return nil
}

func sorted(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// NpmTarball is an npm package tarball (files under package/).
func NpmTarball(files map[string]string) ([]byte, error) {
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, n := range sorted(files) {
		c := files[n]
		if err := tw.WriteHeader(&tar.Header{Name: "package/" + n, Mode: 0o644, Size: int64(len(c)), ModTime: time.Unix(0, 0), Typeflag: tar.TypeReg}); err != nil {
			return nil, err
		}
		if _, err := tw.Write([]byte(c)); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := gz.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// ShoutLib is a tiny ES-module npm package, tiny-shout@1.0.0: shout is what
// handlers use, unused must be tree-shaken out of a bundle.
var ShoutLib = shoutLib("1.0.0", "!")

// shoutLib is tiny-shout at version, its shout ending in suffix.
func shoutLib(version, suffix string) map[string]string {
	return map[string]string{
		"package.json": `{"name": "tiny-shout", "version": "` + version + `", "type": "module", "exports": "./index.js"}`,
		"index.js":     "export function shout(s) { return s.toUpperCase() + " + fmt.Sprintf("%q", suffix) + "; }\nexport function unused() { return \"tree-shaken away\"; }\n",
	}
}

// TSHandler is a TypeScript handler using tiny-shout: for {"name": "x"} it
// returns {"message": "HELLO X!"}.
const TSHandler = `import { shout } from "tiny-shout";

interface Event { name: string }

export const handler = async (event: Event): Promise<{ message: string }> => {
  return { message: shout("hello " + event.name) };
};
`

// TSFunction writes a TypeScript function folder to dir: handler.ts
// (handler "handler.handler"), importing tiny-shout, declared in package.json
// as a local tarball dependency with the package-lock.json npm writes for
// it, so `npm ci` installs it without a registry.
func TSFunction(dir string) error { return TSFunctionWith(dir, "1.0.0", "!") }

// TSFunctionWith is TSFunction with tiny-shout at version, its shout ending
// in suffix: writing another version over a folder changes its lockfile the
// way an upgrade does.
func TSFunctionWith(dir, version, suffix string) error {
	ball, err := NpmTarball(shoutLib(version, suffix))
	if err != nil {
		return err
	}
	sum := sha512.Sum512(ball)
	integrity := "sha512-" + base64.StdEncoding.EncodeToString(sum[:])
	tgz := "tiny-shout-" + version + ".tgz"
	return WriteFiles(dir, map[string]string{
		"handler.ts": TSHandler,
		"package.json": fmt.Sprintf(`{"name": "fn", "version": "1.0.0", "private": true,
  "dependencies": {"tiny-shout": "file:%s"}}
`, tgz),
		"package-lock.json": fmt.Sprintf(`{
  "name": "fn",
  "version": "1.0.0",
  "lockfileVersion": 3,
  "requires": true,
  "packages": {
    "": {"name": "fn", "version": "1.0.0", "dependencies": {"tiny-shout": "file:%[1]s"}},
    "node_modules/tiny-shout": {"version": %[2]q, "resolved": "file:%[1]s", "integrity": %[3]q}
  }
}
`, tgz, version, integrity),
		tgz:         string(ball),
		"README.md": "not part of the bundle\n",
	})
}

// Wheel writes a minimal wheel (the files plus a dist-info) to dir and
// returns its path. tag is the wheel's compatibility tag, like
// "py3-none-any" or "cp312-cp312-manylinux2014_aarch64".
func Wheel(dir, name, version, tag string, files map[string]string) (string, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	info := name + "-" + version + ".dist-info/"
	all := map[string]string{
		info + "METADATA": fmt.Sprintf("Metadata-Version: 2.1\nName: %s\nVersion: %s\n", name, version),
		info + "WHEEL":    fmt.Sprintf("Wheel-Version: 1.0\nGenerator: evdeploy-test\nRoot-Is-Purelib: true\nTag: %s\n", tag),
	}
	for n, c := range files {
		all[n] = c
	}
	// RECORD lists every file with its hash and size, as the wheel spec says.
	var record strings.Builder
	for _, n := range sorted(all) {
		sum := sha256.Sum256([]byte(all[n]))
		fmt.Fprintf(&record, "%s,sha256=%s,%d\n", n, base64.RawURLEncoding.EncodeToString(sum[:]), len(all[n]))
	}
	fmt.Fprintf(&record, "%sRECORD,,\n", info)
	all[info+"RECORD"] = record.String()
	for _, n := range sorted(all) {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: n, Method: zip.Deflate, Modified: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)})
		if err != nil {
			return "", err
		}
		if _, err := w.Write([]byte(all[n])); err != nil {
			return "", err
		}
	}
	if err := zw.Close(); err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	p := filepath.Join(dir, fmt.Sprintf("%s-%s-%s.whl", name, version, tag))
	return p, os.WriteFile(p, buf.Bytes(), 0o644)
}

// PyFunction writes project/fn, a Python function (handler
// "handler.handler") whose requirements.txt names tinydep from the
// project's wheels/ folder (--no-index --find-links) and owndep by the path
// of its wheel, and returns the function folder. For {"n": 21} the handler
// returns {"value": 42, "greeting": "hi"}, both computed by the dependencies.
func PyFunction(project string) (string, error) {
	if _, err := Wheel(filepath.Join(project, "wheels"), "tinydep", "1.0", "py3-none-any", map[string]string{
		"tinydep/__init__.py":      "def double(x):\n    return 2 * x\n",
		"tinydep/tests/test_it.py": "def test(): pass\n",
	}); err != nil {
		return "", err
	}
	if _, err := Wheel(filepath.Join(project, "own"), "owndep", "2.0", "py3-none-any", map[string]string{
		"owndep.py": "GREETING = 'hi'\n",
	}); err != nil {
		return "", err
	}
	fn := filepath.Join(project, "fn")
	return fn, WriteFiles(fn, map[string]string{
		"handler.py":       "import tinydep, owndep\n\ndef handler(event, context):\n    return {'value': tinydep.double(event['n']), 'greeting': owndep.GREETING}\n",
		"requirements.txt": "--no-index\n--find-links ../wheels\ntinydep==1.0\n../own/owndep-2.0-py3-none-any.whl\n",
	})
}
