package spec

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
)

// FileSuffix is how a project file's name ends.
const FileSuffix = ".evd.hcl"

// DefaultFile is the conventional name of a one-file project.
const DefaultFile = "evdeploy" + FileSuffix

// DefaultStage is the stage used when none is given.
const DefaultStage = "dev"

// Options are the inputs to Load that do not come from the project's files.
type Options struct {
	Stage    string            // "" means DefaultStage
	Vars     map[string]string // --var name=value
	VarFiles []string          // --var-file, in order; later files win
	// Getenv reads the process environment (EVDEPLOY_VAR_<name> and env());
	// nil means os.Getenv.
	Getenv func(string) string
}

// source is one project file's bytes and the name diagnostics show.
type source struct {
	name string
	src  []byte
}

// Load reads every *.evd.hcl file in dir, decodes and validates the project for
// opts.Stage, and returns the App with the parsed files (keyed by file name,
// for hcl.NewDiagnosticTextWriter). The App is nil when diags has errors;
// warnings may come with a valid App.
func Load(dir string, opts Options) (*App, map[string]*hcl.File, hcl.Diagnostics) {
	if dir == "" {
		dir = "."
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, map[string]*hcl.File{}, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Cannot read project folder",
			Detail:   fmt.Sprintf("%s: %v", dir, unwrapPathErr(err)),
		}}
	}
	var srcs []source
	var diags hcl.Diagnostics
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), FileSuffix) {
			continue
		}
		name := filepath.Join(dir, e.Name())
		b, err := os.ReadFile(name)
		if err != nil {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Cannot read file",
				Detail:   fmt.Sprintf("%s: %v", name, unwrapPathErr(err)),
			})
			continue
		}
		srcs = append(srcs, source{name: name, src: b})
	}
	if len(srcs) == 0 && !diags.HasErrors() {
		return nil, map[string]*hcl.File{}, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "No project files",
			Detail:   fmt.Sprintf("%s has no *%s files. Create %s with an app block, or pass --dir.", dir, FileSuffix, filepath.Join(dir, DefaultFile)),
		}}
	}
	app, files, d := loadSources(dir, srcs, opts)
	return app, files, append(diags, d...)
}

// topSchema is the set of top-level blocks.
var topSchema = &hcl.BodySchema{
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "app", LabelNames: []string{"name"}},
		{Type: "variable", LabelNames: []string{"name"}},
		{Type: "locals"},
		{Type: KindFunction, LabelNames: []string{"name"}},
		{Type: KindQueue, LabelNames: []string{"name"}},
		{Type: KindTopic, LabelNames: []string{"name"}},
		{Type: KindBus, LabelNames: []string{"name"}},
		{Type: KindBucket, LabelNames: []string{"name"}},
		{Type: KindTable, LabelNames: []string{"name"}},
		{Type: KindStream, LabelNames: []string{"name"}},
		{Type: KindAPI, LabelNames: []string{"name"}},
		{Type: KindTrigger, LabelNames: []string{"name"}},
		{Type: KindRoute, LabelNames: []string{"name"}},
		{Type: KindOutput, LabelNames: []string{"name"}},
		{Type: KindLayer, LabelNames: []string{"name"}},
		{Type: KindSecret, LabelNames: []string{"name"}},
		{Type: KindAlarm, LabelNames: []string{"name"}},
		{Type: KindAppOutputs, LabelNames: []string{"name"}},
	},
}

var (
	labelRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]{0,63}$`)
	stageRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,15}$`)
)

// loadSources is Load after the files are read: parse, then decode in phases
// (variables → block declarations → locals → blocks → cross-block checks).
func loadSources(dir string, srcs []source, opts Options) (*App, map[string]*hcl.File, hcl.Diagnostics) {
	parser := hclparse.NewParser()
	var diags hcl.Diagnostics
	var bodies []*hcl.BodyContent
	sort.Slice(srcs, func(i, j int) bool { return srcs[i].name < srcs[j].name })
	var contentDiags hcl.Diagnostics
	for _, s := range srcs {
		f, d := parser.ParseHCL(s.src, s.name)
		diags = append(diags, d...)
		if f == nil || f.Body == nil {
			continue
		}
		c, d := f.Body.Content(topSchema)
		contentDiags = append(contentDiags, d...)
		bodies = append(bodies, c)
	}
	if diags.HasErrors() {
		// Syntax errors make everything after them guesswork; report them alone.
		return nil, parser.Files(), diags
	}

	stage := opts.Stage
	if stage == "" {
		stage = DefaultStage
	}
	if !stageRE.MatchString(stage) {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Invalid stage",
			Detail:   fmt.Sprintf("The stage %q must be 1 to 16 lowercase letters, digits and hyphens, starting with a letter or digit: it becomes part of every physical name.", stage),
		})
	}
	getenv := opts.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	absDir, err := filepath.Abs(dir)
	if err != nil {
		absDir = dir
	}

	byType := map[string][]*hcl.Block{}
	for _, c := range bodies {
		for _, b := range c.Blocks {
			byType[b.Type] = append(byType[b.Type], b)
		}
	}
	d := &decoder{
		dir: absDir, relDir: dir, declared: map[Addr]hcl.Range{}, locals: map[string]*local{},
		badVars: map[string]bool{}, badLocals: map[string]bool{},
		diags: contentDiags, // unknown top-level blocks: report, and check the rest
	}
	if len(srcs) > 0 {
		d.start = hcl.Range{Filename: srcs[0].name, Start: hcl.InitialPos, End: hcl.InitialPos}
	}
	funcs := stdFunctions(absDir, getenv)

	// Phase 1: variables.
	vars := d.variables(byType["variable"], parser, stage, opts, getenv)

	// Phase 2: declarations, so references can be checked in any order.
	declBlocks := map[Addr]*hcl.Block{}
	for _, kind := range kindOrder {
		for _, b := range byType[kind] {
			name := b.Labels[0]
			if !labelRE.MatchString(name) {
				d.errorf(b.LabelRanges[0], "Invalid block name",
					"A %s name must start with a letter and contain only letters, digits, underscores and hyphens (at most 64): %q.", kind, name)
				continue
			}
			addr := Addr{Kind: kind, Name: name}
			if first, dup := declBlocks[addr]; dup {
				d.errorf(b.LabelRanges[0], "Duplicate "+kind+" block",
					"A %s named %q was already declared at %s. Names must be unique per kind.", kind, name, first.DefRange)
				continue
			}
			declBlocks[addr] = b
			if kind != KindTrigger && kind != KindRoute && kind != KindOutput {
				d.declared[addr] = b.DefRange
			}
		}
	}
	ev := &evaluator{vars: vars, funcs: funcs, declared: make(map[Addr]bool, len(d.declared))}
	for addr := range d.declared {
		ev.blocks = append(ev.blocks, addr)
		ev.declared[addr] = true
	}
	sort.Slice(ev.blocks, func(i, j int) bool { return ev.blocks[i].String() < ev.blocks[j].String() })

	// Phase 3: locals, ordered so each is evaluated after what it reads.
	ev.locals = d.localValues(byType["locals"])

	ctx, ldiags, failed := ev.context(nil, nil)
	d.diags = append(d.diags, ldiags...)
	d.ctx = ctx
	// A local that failed, or reads one that did, is unknown; expressions
	// reading it are skipped rather than reported again as "not known".
	for _, l := range ev.locals {
		if failed[l.name] {
			d.badLocals[l.name] = true
		}
		for _, dep := range l.deps {
			if d.badLocals[dep] {
				d.badLocals[l.name] = true
			}
		}
	}

	// Phase 4: blocks.
	app := &App{Stage: stage, Dir: absDir, eval: ev}
	d.app(byType["app"], app)
	deps := map[Addr][]dep{}
	for _, kind := range kindOrder {
		for _, b := range byType[kind] {
			addr := Addr{Kind: kind, Name: b.Labels[0]}
			if declBlocks[addr] != b {
				continue // invalid or duplicate: reported above
			}
			switch kind {
			case KindFunction:
				fn, fdeps := d.function(addr, b)
				app.Functions = append(app.Functions, fn)
				deps[addr] = fdeps
			case KindQueue:
				app.Queues = append(app.Queues, d.queue(addr, b))
			case KindTopic:
				app.Topics = append(app.Topics, d.topic(addr, b))
			case KindBus:
				app.Buses = append(app.Buses, d.bus(addr, b))
			case KindBucket:
				app.Buckets = append(app.Buckets, d.bucket(addr, b))
			case KindTable:
				app.Tables = append(app.Tables, d.table(addr, b))
			case KindStream:
				app.Streams = append(app.Streams, d.stream(addr, b))
			case KindAPI:
				app.APIs = append(app.APIs, d.api(addr, b))
			case KindTrigger:
				app.Triggers = append(app.Triggers, d.trigger(addr, b))
			case KindRoute:
				app.Routes = append(app.Routes, d.route(addr, b))
			case KindOutput:
				app.Outputs = append(app.Outputs, d.output(addr, b))
			case KindLayer:
				app.Layers = append(app.Layers, d.layer(addr, b))
			case KindSecret:
				app.Secrets = append(app.Secrets, d.secret(addr, b))
			case KindAlarm:
				app.Alarms = append(app.Alarms, d.alarm(addr, b))
			case KindAppOutputs:
				app.AppOutputs = append(app.AppOutputs, d.appOutputs(addr, b))
			}
		}
	}
	sortApp(app)
	d.resolveAlarms(app)

	// Phase 5: checks across blocks.
	d.validate(app, deps)
	app.AppOutputRefs = dedupAppOutputRefs(d.appOutputRefs)
	diags = append(diags, sortDiags(d.diags)...)
	if diags.HasErrors() {
		return nil, parser.Files(), diags
	}
	return app, parser.Files(), diags
}

// kindOrder is the order blocks are decoded and listed in.
var kindOrder = []string{KindAppOutputs, KindLayer, KindSecret, KindFunction, KindQueue, KindTopic, KindBus, KindBucket, KindTable, KindStream, KindAPI, KindTrigger, KindRoute, KindOutput, KindAlarm}

func sortApp(a *App) {
	sortBy(a.Functions, func(x *Function) string { return x.Addr.Name })
	sortBy(a.Queues, func(x *Queue) string { return x.Addr.Name })
	sortBy(a.Topics, func(x *Topic) string { return x.Addr.Name })
	sortBy(a.Layers, func(x *Layer) string { return x.Addr.Name })
	sortBy(a.Secrets, func(x *Secret) string { return x.Addr.Name })
	sortBy(a.Buses, func(x *Bus) string { return x.Addr.Name })
	sortBy(a.Buckets, func(x *Bucket) string { return x.Addr.Name })
	sortBy(a.Tables, func(x *Table) string { return x.Addr.Name })
	sortBy(a.Streams, func(x *Stream) string { return x.Addr.Name })
	sortBy(a.APIs, func(x *API) string { return x.Addr.Name })
	sortBy(a.Triggers, func(x *Trigger) string { return x.Addr.Name })
	sortBy(a.Routes, func(x *Route) string { return x.Addr.Name })
	sortBy(a.Outputs, func(x *Output) string { return x.Addr.Name })
	sortBy(a.Alarms, func(x *Alarm) string { return x.Key() })
	sortBy(a.AppOutputs, func(x *AppOutputs) string { return x.Addr.Name })
}

func sortBy[T any](s []T, key func(T) string) {
	sort.SliceStable(s, func(i, j int) bool { return key(s[i]) < key(s[j]) })
}

// sortDiags orders diagnostics by file and position, so they read top to
// bottom whatever phase found them; those without a subject come first.
func sortDiags(diags hcl.Diagnostics) hcl.Diagnostics {
	sort.SliceStable(diags, func(i, j int) bool {
		a, b := diags[i].Subject, diags[j].Subject
		switch {
		case a == nil || b == nil:
			return a == nil && b != nil
		case a.Filename != b.Filename:
			return a.Filename < b.Filename
		}
		return a.Start.Byte < b.Start.Byte
	})
	return diags
}
