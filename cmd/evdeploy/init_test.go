package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/google/go-cmp/cmp"
	"github.com/zclconf/go-cty/cty"

	"github.com/evdeploy/evdeploy/planner"
	awsprov "github.com/evdeploy/evdeploy/providers/aws"
	"github.com/evdeploy/evdeploy/spec"
	"github.com/evdeploy/evdeploy/templates"
)

func TestNewCmdInit(t *testing.T) {
	tests := []struct {
		name    string
		global  string // --dir
		args    []string
		want    InitOptions
		wantErr bool
	}{
		{name: "defaults", global: ".", args: nil, want: InitOptions{Dir: "."}},
		{name: "template and folder", global: ".", args: []string{"--template", "cron", "shop"}, want: InitOptions{Template: "cron", Dir: "shop"}},
		{name: "folder below --dir", global: "work", args: []string{"-t", "cron", "shop"}, want: InitOptions{Template: "cron", Dir: "work/shop"}},
		{name: "absolute folder", global: "work", args: []string{"-t", "cron", "/srv/shop"}, want: InitOptions{Template: "cron", Dir: "/srv/shop"}},
		{name: "--dir alone", global: "work", args: []string{"-t", "cron"}, want: InitOptions{Template: "cron", Dir: "work"}},
		{name: "list", global: ".", args: []string{"--list"}, want: InitOptions{List: true, Dir: "."}},
		{name: "force and name", global: ".", args: []string{"-t", "http-api", "--force", "--name", "my-api", "x"},
			want: InitOptions{Template: "http-api", Force: true, Name: "my-api", Dir: "x"}},
		{name: "two folders", global: ".", args: []string{"a", "b"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &Factory{IO: &IOStreams{Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}}, Global: &GlobalOptions{Dir: tt.global}}
			var got *InitOptions
			cmd := newCmdInit(f, func(o *InitOptions) error { got = o; return nil })
			cmd.SetArgs(tt.args)
			cmd.SetOut(&bytes.Buffer{})
			cmd.SetErr(&bytes.Buffer{})
			err := cmd.Execute()
			if (err != nil) != tt.wantErr {
				t.Fatalf("Execute error = %v, want error: %v", err, tt.wantErr)
			}
			if tt.wantErr {
				return
			}
			got.IO = nil
			if d := cmp.Diff(tt.want, *got); d != "" {
				t.Errorf("options (-want +got):\n%s", d)
			}
		})
	}
}

func TestInitList(t *testing.T) {
	var out bytes.Buffer
	if err := initRun(&InitOptions{IO: &IOStreams{Out: &out}, List: true}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(out.String(), "\n"), "\n")
	if len(lines) != len(templates.List()) {
		t.Fatalf("%d lines, want one per template:\n%s", len(lines), out.String())
	}
	for i, tmpl := range templates.List() {
		fields := strings.Fields(lines[i])
		if fields[0] != tmpl.Name || !strings.HasSuffix(lines[i], tmpl.Description) {
			t.Errorf("line %d = %q, want %s and its description", i+1, lines[i], tmpl.Name)
		}
	}
	// Descriptions line up in one column.
	col := strings.Index(lines[0], templates.List()[0].Description)
	for i, tmpl := range templates.List() {
		if strings.Index(lines[i], tmpl.Description) != col {
			t.Errorf("line %d: description not in column %d: %q", i+1, col, lines[i])
		}
	}
}

func TestInitRun(t *testing.T) {
	tests := []struct {
		name      string
		folder    string // below a temp dir
		setup     func(t *testing.T, base, dir string)
		opts      InitOptions
		stdin     string
		tty       bool
		wantErr   string // substring
		wantApp   string // app name in the written spec
		wantOut   string // substring of stdout
		wantFiles []string
	}{
		{
			name: "template into a new folder", folder: "My Shop", opts: InitOptions{Template: "cron"},
			wantApp: "my-shop", wantOut: "Created the cron project \"my-shop\" in My Shop (9 files).\n\nNext steps:\n  cd 'My Shop'\n",
			wantFiles: []string{"evdeploy.evd.hcl", "go.mod", "functions/report/main.go"},
		},
		{
			name: "explicit app name", folder: "x", opts: InitOptions{Template: "http-api", Name: "orders-api"},
			wantApp: "orders-api", wantFiles: []string{"functions/api/handler.go"},
		},
		{name: "invalid app name", folder: "x", opts: InitOptions{Template: "cron", Name: "Orders"}, wantErr: "app name \"Orders\""},
		{
			name: "non-empty folder refused", folder: "busy",
			setup:   func(t *testing.T, base, dir string) { writeTestFile(t, filepath.Join(dir, "main.go"), "package main") },
			opts:    InitOptions{Template: "cron"},
			wantErr: "folder is not empty (it has main.go); use --force",
		},
		{
			name: "non-empty folder with --force", folder: "busy",
			setup:   func(t *testing.T, base, dir string) { writeTestFile(t, filepath.Join(dir, "notes.md"), "keep") },
			opts:    InitOptions{Template: "cron", Force: true},
			wantApp: "busy", wantFiles: []string{"notes.md", "evdeploy.evd.hcl"},
		},
		{
			name: "symlink escaping the folder", folder: "trap",
			setup: func(t *testing.T, base, dir string) {
				if err := os.MkdirAll(filepath.Join(base, "outside"), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.MkdirAll(dir, 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.Symlink(filepath.Join(base, "outside"), filepath.Join(dir, "functions")); err != nil {
					t.Skip(err)
				}
			},
			opts:    InitOptions{Template: "cron", Force: true},
			wantErr: "escapes",
		},
		{name: "no template, not a terminal", folder: "x", wantErr: "no template named; choose one with --template NAME:\n  cron "},
		{name: "unknown template", folder: "x", opts: InitOptions{Template: "crud"}, wantErr: "unknown template \"crud\"; the templates are:\n  cron "},
		{
			name: "terminal: choose by number", folder: "picked", tty: true, stdin: "5\n",
			wantApp: "picked", wantFiles: []string{"functions/api/main.go"}, // 5th in name order: http-api
		},
		{
			name: "terminal: wrong answer, then a name", folder: "picked", tty: true, stdin: "99\nqueue-worker\n",
			wantApp: "picked", wantFiles: []string{"functions/worker/main.go"},
		},
		{name: "terminal: no answer", folder: "x", tty: true, stdin: "", wantErr: "no template chosen"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := t.TempDir()
			dir := filepath.Join(base, tt.folder)
			if tt.setup != nil {
				tt.setup(t, base, dir)
			}
			var out, errOut bytes.Buffer
			opts := tt.opts
			opts.IO = &IOStreams{In: strings.NewReader(tt.stdin), Out: &out, ErrOut: &errOut, InTTY: tt.tty}
			opts.Dir = dir
			opts.Cwd = base
			err := initRun(&opts)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("initRun error = %v, want it to contain %q", err, tt.wantErr)
				}
				if outside, _ := os.ReadDir(filepath.Join(base, "outside")); len(outside) != 0 {
					t.Errorf("wrote outside the target folder: %v", outside)
				}
				return
			}
			if err != nil {
				t.Fatalf("initRun: %v\nstderr: %s", err, errOut.String())
			}
			if !strings.Contains(out.String(), tt.wantOut) || !strings.Contains(out.String(), "evdeploy apply --target local") {
				t.Errorf("stdout = %q, want %q and the next steps", out.String(), tt.wantOut)
			}
			for _, f := range tt.wantFiles {
				if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
					t.Errorf("missing %s: %v", f, err)
				}
			}
			b, err := os.ReadFile(filepath.Join(dir, "evdeploy.evd.hcl"))
			if err != nil {
				t.Fatal(err)
			}
			if want := `app "` + tt.wantApp + `" {`; !strings.Contains(string(b), want) {
				t.Errorf("spec does not contain %s", want)
			}
		})
	}
}

// TestInitTemplatesValidate scaffolds every template and loads it with the
// real spec loader: each must be a valid project whose function sources
// exist. A monorepo template is loaded app folder by app folder.
func TestInitTemplatesValidate(t *testing.T) {
	for _, tmpl := range templates.List() {
		t.Run(tmpl.Name, func(t *testing.T) {
			root := filepath.Join(t.TempDir(), "tpl-"+tmpl.Name)
			var out bytes.Buffer
			if err := initRun(&InitOptions{IO: &IOStreams{Out: &out, ErrOut: &out}, Template: tmpl.Name, Dir: root}); err != nil {
				t.Fatal(err)
			}
			functions, triggers := 0, 0
			for _, sub := range templateApps(tmpl.Name) {
				dir, wantName := filepath.Join(root, sub), "tpl-"+tmpl.Name
				if sub != "" {
					wantName += "-" + sub
				}
				app, files, diags := spec.Load(dir, spec.Options{Stage: "dev", Getenv: func(string) string { return "" }})
				if len(diags) > 0 {
					var b bytes.Buffer
					writeDiagnostics(&Factory{IO: &IOStreams{ErrOut: &b}}, files, diags)
					t.Fatalf("spec.Load %s reported:\n%s", sub, b.String())
				}
				if app.Name != wantName {
					t.Errorf("app name = %q, want %q", app.Name, wantName)
				}
				if len(app.Outputs) == 0 {
					t.Errorf("app %s has no outputs", app.Name)
				}
				functions, triggers = functions+len(app.Functions), triggers+len(app.Triggers)
				// The file the runtime starts from: main.go, or the handler's module.
				for _, fn := range app.Functions {
					want := []string{"main.go"}
					if module, _, ok := strings.Cut(fn.Handler, "."); ok {
						want = []string{module + ".py", module + ".ts"}
					}
					found := false
					for _, f := range want {
						_, err := os.Stat(filepath.Join(fn.Source, f))
						found = found || err == nil
					}
					if !found {
						t.Errorf("%s: source %s has none of %v", fn.Addr, fn.Source, want)
					}
				}
			}
			if functions == 0 || triggers == 0 {
				t.Errorf("%d functions, %d triggers; want some of each", functions, triggers)
			}
		})
	}
}

// templateApps are the app folders of a scaffolded template, relative to
// it: "" for a template that is one app, each app's folder for a monorepo
// (upstream first: core before the apps that read its outputs).
func templateApps(name string) []string {
	apps := templates.Apps(name)
	if apps == nil {
		return []string{""}
	}
	sort.SliceStable(apps, func(i, j int) bool { return apps[i] == "core" && apps[j] != "core" })
	return apps
}

func writeTestFile(t *testing.T, p, s string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

// getenvRE finds the environment variables a handler's main.go requires.
var getenvRE = regexp.MustCompile(`os\.Getenv\("([A-Z0-9_]+)"\)`)

// TestInitTemplatesPlan lowers every scaffolded template and plans it against
// empty state with the real provider registry: the planner can deploy it (all
// creates, every block lowered), each function's environment sets every
// variable its main.go reads, and where a handler returns partial batch
// failures its event source mapping enables ReportBatchItemFailures. A
// monorepo's apps are planned upstream first, each downstream app reading
// the upstream's planned outputs (app_outputs) and its planned resources'
// names and ARNs for its existing blocks, as its plan would read them from
// state and AWS once the upstream is applied.
func TestInitTemplatesPlan(t *testing.T) {
	reg := awsprov.New(aws.Config{Region: "us-east-1"})
	for _, tmpl := range templates.List() {
		t.Run(tmpl.Name, func(t *testing.T) {
			root := filepath.Join(t.TempDir(), "plan-"+tmpl.Name)
			var out bytes.Buffer
			if err := initRun(&InitOptions{IO: &IOStreams{Out: &out, ErrOut: &out}, Template: tmpl.Name, Dir: root}); err != nil {
				t.Fatal(err)
			}
			planned := map[string]*planner.Desired{} // by absolute app folder
			for _, sub := range templateApps(tmpl.Name) {
				dir := filepath.Join(root, sub)
				app, _, diags := spec.Load(dir, spec.Options{Stage: "dev", Getenv: func(string) string { return "" }})
				if diags.HasErrors() {
					t.Fatalf("spec.Load: %s", diags.Error())
				}
				lopts := planner.LowerOptions{Account: "000000000000", Region: "us-east-1"}
				upstreamInputs(t, app, planned, &lopts)
				desired, diags := planner.Lower(app, lopts)
				if diags.HasErrors() {
					t.Fatalf("Lower %s: %s", sub, diags.Error())
				}
				planned[dir] = desired
				plan, err := planner.Diff(desired, nil, nil, reg)
				if err != nil {
					t.Fatalf("Diff: %v", err)
				}
				checkTemplatePlan(t, tmpl.Name, dir, app, plan)
			}
		})
	}
}

// upstreamInputs sets what a monorepo app's plan reads from the apps
// upstream, from their plans: each app_outputs block's outputs (known
// values), and for each existing block naming one of them the planned
// resource of that name.
func upstreamInputs(t *testing.T, app *spec.App, planned map[string]*planner.Desired, lopts *planner.LowerOptions) {
	t.Helper()
	if len(app.AppOutputs) == 0 {
		return
	}
	lopts.AppOutputs = map[string]map[string]cty.Value{}
	lopts.Existing = map[spec.Addr]map[string]any{}
	byName := map[string]*planner.DesiredResource{}
	for _, o := range app.AppOutputs {
		up := planned[o.Path]
		if up == nil {
			t.Fatalf("%s reads %s, which is not planned before it", o.Addr, o.Path)
		}
		outs := map[string]cty.Value{}
		for _, out := range up.Outputs {
			if s, ok := out.Value.(string); ok {
				outs[out.Name] = cty.StringVal(s)
			}
		}
		lopts.AppOutputs[o.Addr.Name] = outs
		for _, r := range up.Resources {
			if r.Name != "" {
				byName[r.Name] = r
			}
		}
	}
	for _, addr := range app.ExistingBlocks() {
		ref, diags := app.ExistingName(app.ExistingOf(addr), lopts.AppOutputs)
		if diags.HasErrors() {
			t.Fatalf("%s: %s", addr, diags.Error())
		}
		r := byName[ref]
		if r == nil {
			t.Fatalf("%s names %q, which no upstream app plans", addr, ref)
		}
		attrs := map[string]any{"name": ref}
		arn, ok := r.Attrs["arn"].(string)
		if !ok {
			// Computed by AWS: what it will be, as LookupExisting reads it.
			service := map[string]string{spec.KindBus: "events", spec.KindTable: "dynamodb", spec.KindQueue: "sqs", spec.KindTopic: "sns"}[addr.Kind]
			resource := map[string]string{spec.KindBus: "event-bus/", spec.KindTable: "table/"}[addr.Kind]
			arn = "arn:aws:" + service + ":us-east-1:000000000000:" + resource + ref
		}
		attrs["arn"] = arn
		lopts.Existing[addr] = attrs
	}
}

// checkTemplatePlan checks one app's plan against empty state.
func checkTemplatePlan(t *testing.T, tmplName, dir string, app *spec.App, plan *planner.Plan) {
	t.Helper()
	handlers, _ := filepath.Glob(filepath.Join(dir, "functions", "*", "handler.[gt][os]"))
	partial := false
	for _, h := range handlers {
		b, err := os.ReadFile(h)
		if err != nil {
			t.Fatal(err)
		}
		partial = partial || bytes.Contains(bytes.ToLower(b), []byte("batchitemfailures"))
	}
	blocks := map[string]bool{}
	for _, c := range plan.Changes {
		if c.Action != planner.Create {
			t.Errorf("%s: %s against empty state, want create", c.Addr, c.Action)
		}
		blocks[c.Block] = true
		switch c.Addr.Type {
		case planner.TypeFunction:
			if templates.Language(tmplName) != "go" {
				continue // their handlers read no environment
			}
			source := ""
			for _, fn := range app.Functions {
				if fn.Addr.String() == c.Block {
					source = fn.Source
				}
			}
			src, err := os.ReadFile(filepath.Join(source, "main.go"))
			if err != nil {
				t.Fatal(err)
			}
			env, _ := c.After["environment"].(map[string]any)
			if testing.Verbose() {
				t.Logf("%s environment: %v", c.Block, env)
			}
			for _, m := range getenvRE.FindAllStringSubmatch(string(src), -1) {
				if _, ok := env[m[1]]; !ok {
					t.Errorf("%s: main.go reads %s, the spec's environment does not set it", c.Block, m[1])
				}
			}
		case planner.TypeMapping:
			types := c.After.Strings("function_response_types")
			if partial && (len(types) != 1 || types[0] != "ReportBatchItemFailures") {
				t.Errorf("%s: function_response_types = %v, want [ReportBatchItemFailures] (the handler reports partial batch failures)", c.Addr, types)
			}
		}
	}
	for _, b := range specBlocks(app) {
		if !blocks[b] && !existingBlock(app, b) {
			t.Errorf("%s produced no resource", b)
		}
	}
	var rendered bytes.Buffer
	if err := planner.Render(&rendered, plan, planner.RenderOptions{Detail: testing.Verbose()}); err != nil {
		t.Errorf("Render: %v", err)
	}
	if testing.Verbose() {
		t.Logf("plan:\n%s", rendered.String())
	}
}

// existingBlock reports whether block is made elsewhere (existing = …):
// it becomes no resource.
func existingBlock(app *spec.App, block string) bool {
	for _, a := range app.ExistingBlocks() {
		if a.String() == block {
			return true
		}
	}
	return false
}

// specBlocks lists the addresses of the blocks that must become resources.
func specBlocks(app *spec.App) []string {
	var out []string
	for _, f := range app.Functions {
		out = append(out, f.Addr.String())
	}
	for _, tr := range app.Triggers {
		out = append(out, tr.Addr.String())
	}
	for _, q := range app.Queues {
		out = append(out, q.Addr.String())
	}
	for _, x := range app.Topics {
		out = append(out, x.Addr.String())
	}
	for _, x := range app.Buses {
		out = append(out, x.Addr.String())
	}
	for _, x := range app.Buckets {
		out = append(out, x.Addr.String())
	}
	for _, x := range app.Tables {
		out = append(out, x.Addr.String())
	}
	for _, x := range app.Streams {
		out = append(out, x.Addr.String())
	}
	for _, x := range app.APIs {
		out = append(out, x.Addr.String())
	}
	return out
}

// TestInitDestroyStep: the destroy step init prints, and the one in each
// template's README, carries --allow-data-loss exactly when the app makes a
// queue, table, bucket or stream: destroy refuses those without it, so a
// pasted step would fail.
func TestInitDestroyStep(t *testing.T) {
	known := map[string]bool{"queue-worker": true, "http-api-canary": false, "event-bus": false, "monorepo": true, "s3-file-processing": true}
	for _, name := range templates.Names() {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "app")
			var out bytes.Buffer
			if err := initRun(&InitOptions{Template: name, Dir: dir, IO: &IOStreams{Out: &out, ErrOut: &bytes.Buffer{}}}); err != nil {
				t.Fatal(err)
			}
			step := regexp.MustCompile(`(?m)^  (evdeploy destroy[^#\n]*)`).FindStringSubmatch(out.String())
			if step == nil {
				t.Fatalf("no destroy step in:\n%s", out.String())
			}
			flagged := strings.Contains(step[1], "--allow-data-loss")
			if want, ok := known[name]; ok && flagged != want {
				t.Errorf("printed %q: --allow-data-loss %v, want %v", step[1], flagged, want)
			}
			readme, err := os.ReadFile(filepath.Join(dir, "README.md"))
			if err != nil {
				t.Fatal(err)
			}
			for _, line := range regexp.MustCompile(`(?m)^evdeploy destroy.*$`).FindAllString(string(readme), -1) {
				if strings.Contains(line, "--allow-data-loss") != flagged {
					t.Errorf("README step %q disagrees with the printed %q", line, step[1])
				}
			}
		})
	}
}
