package templates

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// The template folders. `all:` keeps dotfiles such as .gitignore. Each folder is
// also an ordinary part of the evdeploy module, so its handlers are vetted and
// their tests run in `make test`; go.mod.tmpl/go.sum.tmpl become the written
// project's own go.mod/go.sum (a real go.mod here would cut the folder out of
// the module).
//
//go:embed all:cron all:dynamodb-stream all:event-bus all:fan-out all:http-api all:kinesis-consumer all:queue-worker all:s3-file-processing
//go:embed all:queue-worker-ts all:http-api-python all:monorepo all:http-api-canary
var files embed.FS

// AppNamePlaceholder stands for the app's name in template files; Write
// replaces it.
const AppNamePlaceholder = "__APP_NAME__"

// Template is one scaffold.
type Template struct {
	Name        string
	Description string
}

// catalog is the list `evdeploy init --list` prints; a test checks that it and
// the embedded folders agree.
var catalog = []Template{
	{"cron", "EventBridge schedule → Lambda that writes a report object to a bucket"},
	{"dynamodb-stream", "DynamoDB table stream → Lambda that writes an audit record to a second table"},
	{"event-bus", "producer → custom EventBridge bus → rules routing to consumers, plus an SNS fan-out"},
	{"fan-out", "SNS topic → routes to two SQS queues (one filtered, raw) → two workers, failures to dead-letter queues"},
	{"http-api", "API Gateway HTTP API → Lambda → DynamoDB: a small CRUD service"},
	{"http-api-canary", "API Gateway HTTP API → Lambda released as a canary through a live alias, rolled back by an alarm or its error rate"},
	{"http-api-python", "API Gateway HTTP API → Python Lambda using the team's own library (a wheel in requirements.txt)"},
	{"kinesis-consumer", "Kinesis stream → Lambda aggregating records, with partial-batch failures"},
	{"monorepo", "three apps: core (bus, table), orders (HTTP → core's bus), billing (core's bus → core's table) via app_outputs"},
	{"queue-worker", "SQS queue with a dead-letter queue → Lambda reporting batch item failures"},
	{"queue-worker-ts", "SQS queue with a dead-letter queue → TypeScript Lambda validating with zod (bundled by esbuild)"},
	{"s3-file-processing", "upload bucket → Lambda that writes a derived object to an output bucket"},
}

// List returns the templates sorted by name.
func List() []Template {
	out := append([]Template(nil), catalog...)
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Lookup finds a template by name.
func Lookup(name string) (Template, bool) {
	for _, t := range catalog {
		if t.Name == name {
			return t, true
		}
	}
	return Template{}, false
}

// Names returns the template names, sorted.
func Names() []string {
	var out []string
	for _, t := range List() {
		out = append(out, t.Name)
	}
	return out
}

// Language is the language of a template's functions: "go" (the folder has
// go.mod.tmpl), "typescript" or "python".
func Language(name string) string {
	sub, err := FS(name)
	if err != nil {
		return ""
	}
	if _, err := fs.Stat(sub, "go.mod.tmpl"); err == nil {
		return "go"
	}
	if m, _ := fs.Glob(sub, "functions/*/package.json"); len(m) > 0 {
		return "typescript"
	}
	if m, _ := fs.Glob(sub, "*/functions/*/package.json"); len(m) > 0 {
		return "typescript" // a monorepo's apps
	}
	return "python"
}

// Apps lists the app folders of a monorepo template — subfolders each
// holding an app's evdeploy.evd.hcl, deployed with `plan|apply|destroy --all`
// — sorted; nil for a template that is one app.
func Apps(name string) []string {
	sub, err := FS(name)
	if err != nil {
		return nil
	}
	if _, err := fs.Stat(sub, "evdeploy.evd.hcl"); err == nil {
		return nil
	}
	specs, _ := fs.Glob(sub, "*/evdeploy.evd.hcl")
	var out []string
	for _, s := range specs {
		out = append(out, path.Dir(s))
	}
	sort.Strings(out)
	return out
}

// appNameSuffixRE finds what a spec appends to the placeholder in its app
// name: the apps of a monorepo are named "<name>-core", "<name>-orders"….
var appNameSuffixRE = regexp.MustCompile(`app "` + AppNamePlaceholder + `([a-z0-9-]*)"`)

// MaxAppName is the longest app name template name accepts: the spec's limit
// less the longest suffix one of its apps adds to the name.
func MaxAppName(name string) int {
	sub, err := FS(name)
	if err != nil {
		return maxAppName
	}
	longest := 0
	specs, _ := fs.Glob(sub, "evdeploy.evd.hcl")
	more, _ := fs.Glob(sub, "*/evdeploy.evd.hcl")
	for _, p := range append(specs, more...) {
		b, _ := fs.ReadFile(sub, p)
		for _, m := range appNameSuffixRE.FindAllSubmatch(b, -1) {
			longest = max(longest, len(m[1]))
		}
	}
	return maxAppName - longest
}

// AppNameFor is AppName(folder) cut to what template name accepts.
func AppNameFor(name, folder string) string {
	s := AppName(folder)
	if n := MaxAppName(name); len(s) > n {
		s = strings.TrimRight(s[:n], "-")
	}
	return s
}

// FS returns the files of one template as stored (placeholders not replaced,
// .tmpl suffixes kept).
func FS(name string) (fs.FS, error) {
	if _, ok := Lookup(name); !ok {
		return nil, unknownTemplateError(name)
	}
	return fs.Sub(files, name)
}

func unknownTemplateError(name string) error {
	return fmt.Errorf("unknown template %q; the templates are: %s", name, strings.Join(Names(), ", "))
}

// WriteOptions controls Write.
type WriteOptions struct {
	// AppName replaces AppNamePlaceholder; it must already satisfy the app
	// naming rules (see AppName).
	AppName string
	// Force allows writing into a folder that is not empty; files of the same
	// name are overwritten, other files are left alone.
	Force bool
}

// ErrNotEmpty is returned (wrapped) when the target folder has files and Force
// is not set.
var ErrNotEmpty = errors.New("folder is not empty")

// Write scaffolds template name into dir (created if missing) and returns the
// slash-separated paths it wrote, sorted. Files ending in .tmpl lose the
// suffix. Every write goes through an os.Root opened on dir, so nothing —
// not a `..` in a path, not a symlink planted in the folder — can make it
// write outside dir.
func Write(name, dir string, opts WriteOptions) ([]string, error) {
	sub, err := FS(name)
	if err != nil {
		return nil, err
	}
	if !validAppName(opts.AppName) {
		return nil, fmt.Errorf("app name %q: %s", opts.AppName, appNameRule)
	}
	if n := MaxAppName(name); len(opts.AppName) > n {
		return nil, fmt.Errorf("app name %q: the %s template names its apps after it with a suffix (%s-…), so it is at most %d characters", opts.AppName, name, opts.AppName, n)
	}
	if err := checkTarget(dir, opts.Force); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	return writeFS(root, sub, opts.AppName)
}

// checkTarget refuses a target that exists and is not a folder, and a folder
// with anything in it other than a .git folder (so `git init && evdeploy init`
// works) unless force is set.
func checkTarget(dir string, force bool) error {
	fi, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s exists and is not a folder", dir)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	var found []string
	for _, e := range entries {
		if e.Name() == ".git" {
			continue
		}
		found = append(found, e.Name())
	}
	if len(found) == 0 || force {
		return nil
	}
	if len(found) > 3 {
		found = append(found[:3], "…")
	}
	return fmt.Errorf("%s: %w (it has %s); use --force to write into it anyway", dir, ErrNotEmpty, strings.Join(found, ", "))
}

func writeFS(root *os.Root, sub fs.FS, app string) ([]string, error) {
	var written []string
	err := fs.WalkDir(sub, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(sub, p)
		if err != nil {
			return err
		}
		rel := strings.TrimSuffix(p, ".tmpl")
		if err := writeFile(root, rel, bytes.ReplaceAll(data, []byte(AppNamePlaceholder), []byte(app))); err != nil {
			return err
		}
		written = append(written, rel)
		return nil
	})
	sort.Strings(written)
	return written, err
}

// writeFile writes one file below root. rel must be a clean, local,
// slash-separated path; os.Root rejects anything that resolves outside root,
// including through symlinks.
func writeFile(root *os.Root, rel string, data []byte) error {
	if !filepath.IsLocal(filepath.FromSlash(rel)) || path.Clean(rel) != rel {
		return fmt.Errorf("template path %q escapes the target folder", rel)
	}
	if dir := path.Dir(rel); dir != "." {
		if err := root.MkdirAll(filepath.FromSlash(dir), 0o755); err != nil {
			return fmt.Errorf("%s: %w", rel, err)
		}
	}
	f, err := root.OpenFile(filepath.FromSlash(rel), os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("%s: %w", rel, err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", rel, err)
	}
	return f.Close()
}

const appNameRule = "an app name has lowercase letters, digits and hyphens, starts with a letter, and is at most 32 characters"

// maxAppName is the spec's limit: the app name prefixes every physical name.
const maxAppName = 32

// validAppName is the spec's app naming rule (spec/names.go), restated here
// because templates imports no evdeploy package; a cmd test checks that
// scaffolded projects validate.
func validAppName(s string) bool {
	if s == "" || len(s) > maxAppName || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}

// AppName derives an app name from a folder name: lowercased, every run of
// other characters turned into one hyphen, trimmed, prefixed with "app-" when it
// would not start with a letter, cut to 32 characters; "app" when nothing is
// left.
func AppName(folder string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(folder) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
			continue
		}
		dash = true
	}
	s := b.String()
	if s == "" {
		return "app"
	}
	if s[0] < 'a' || s[0] > 'z' {
		s = "app-" + s
	}
	if len(s) > maxAppName {
		s = strings.TrimRight(s[:maxAppName], "-")
	}
	return s
}
