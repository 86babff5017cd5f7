package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/hashicorp/hcl/v2"
	"github.com/spf13/pflag"

	"github.com/evdeploy/evdeploy/build"
	"github.com/evdeploy/evdeploy/planner"
	awsprov "github.com/evdeploy/evdeploy/providers/aws"
	"github.com/evdeploy/evdeploy/spec"
	"github.com/evdeploy/evdeploy/state"
)

// engineOptions are the flags plan, apply and destroy share.
type engineOptions struct {
	Refresh      bool
	Parallelism  int
	LockTimeout  time.Duration
	TargetBlocks []string
	Detail       bool
	JSON         bool
	APIQuotas    string // quotas.go

	// All runs the command on every app of the monorepo in --dir (all.go).
	All bool
	// planAll is set on each app's plan within `plan --all`: the folders of
	// the run's apps, whose missing state means "not applied yet" rather
	// than an error (upstreamNotApplied).
	planAll map[string]bool

	flags *pflag.FlagSet // to tell a flag given from its default

	// events: apply and destroy follow the plan document with the event
	// stream, so the plan goes on one line (the stream is line-delimited).
	events bool
	// started is when the command started, for the wall time it reports.
	started time.Time
}

func (o *engineOptions) addFlags(fs *pflag.FlagSet) {
	fs.BoolVar(&o.Refresh, "refresh", true, "read every deployed resource to detect drift (--refresh=false trusts state)")
	fs.StringArrayVar(&o.TargetBlocks, "target-block", nil, "limit the plan to this block `ADDR` and its dependencies (repeatable)")
	o.addCommonFlags(fs)
}

// addCommonFlags registers the flags destroy shares with plan and apply
// (destroy plans from state alone: no refresh, no targeting).
func (o *engineOptions) addCommonFlags(fs *pflag.FlagSet) {
	fs.IntVar(&o.Parallelism, "parallelism", planner.DefaultParallelism, "maximum concurrent API operations")
	fs.StringVar(&o.APIQuotas, "api-quotas", "auto", "pace API calls by AWS's quotas: auto (on for --target aws), on, off")
	o.flags = fs
	fs.DurationVar(&o.LockTimeout, "lock-timeout", 0, "wait this long for the state lock (0: fail at once)")
	fs.BoolVar(&o.Detail, "detail", false, "show the plan at the resource level")
	fs.BoolVar(&o.JSON, "json", false, "print the plan as JSON (docs/plan-json.md)")
	fs.BoolVar(&o.All, "all", false, "run on every app in the subfolders of --dir, in dependency order (docs/monorepo.md)")
}

// session is one plan/apply/destroy run: the loaded spec, the target, the locked
// state and the desired graph.
type session struct {
	f       *Factory
	app     *spec.App
	files   map[string]*hcl.File
	cfg     aws.Config
	target  *TargetInfo
	backend state.Backend
	unlock  func() error
	doc     *state.Document
	reg     planner.Registry
	budgets *awsprov.Budgets // nil unless calls are paced by AWS's quotas
	desired *planner.Desired
	// external is what the plan read from outside the app (other apps'
	// outputs, resources made elsewhere).
	external *external
	// specHash binds a saved plan to the spec, variables, stage, target and
	// code it was made from.
	specHash string
}

// openSession loads the spec, resolves the target, takes the state lock for
// operation and reads the state. The caller must call close.
func openSession(ctx context.Context, f *Factory, opts *engineOptions, operation string, needDesired bool) (*session, error) {
	app, files, err := loadApp(f)
	if err != nil && !needDesired {
		// Destroy needs only state: a spec that no longer loads (a deleted
		// function folder, a half-edited file) must not strand what is
		// deployed.
		if stand, ok := appFromLocalState(f); ok {
			fmt.Fprintf(f.IO.ErrOut, "Warning: the spec does not load (above); going on from the state in %s alone.\n",
				state.NewLocal(stand.Dir, stand.Stage))
			app, err = stand, nil
		}
	}
	if err != nil {
		return nil, err
	}
	cfg, target, err := f.AWSConfig(ctx, app.Region)
	if err != nil {
		return nil, err
	}
	warnShortAlarmPeriods(f, app, target)
	budgets, err := opts.budgets(target)
	if err != nil {
		return nil, err
	}
	s := &session{f: f, app: app, files: files, cfg: cfg, target: target, budgets: budgets,
		reg: awsprov.New(cfg, awsprov.WithCaller(target.Account, target.Partition), awsprov.WithBudgets(budgets))}
	s.backend, err = stateBackend(ctx, app, cfg)
	if err != nil {
		return nil, err
	}
	s.unlock, err = s.backend.Lock(ctx, state.NewLockInfo(operation), opts.LockTimeout)
	if err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			s.close()
		}
	}()
	s.doc, err = s.backend.Read(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading state from %s: %w", s.backend, err)
	}
	if s.doc != nil && (operation == state.OpApply || operation == state.OpDestroy) && state.NeedsReseal(s.backend) {
		// Read with a fallback key: seal it with the new one now, so the
		// rotation completes even when nothing else changes.
		if err := s.backend.Write(ctx, s.doc); err != nil {
			return nil, fmt.Errorf("re-encrypting state %s with the new key: %w", s.backend, err)
		}
	}
	if s.doc == nil {
		// Nothing deployed yet. The lineage stays empty until the first
		// write creates the document, so a plan saved now still matches the
		// (still absent) state when it is applied.
		s.doc = state.New(app.Name, app.Stage)
		s.doc.Lineage = ""
	}
	if s.doc.Target != "" && s.doc.Target != target.ID() && len(s.doc.Resources) > 0 {
		return nil, fmt.Errorf("state %s records resources on %s, but this run targets %s: use the matching --target/--endpoint/--region, or a different --stage",
			s.backend, s.doc.Target, target.ID())
	}
	if needDesired {
		apiURLFormat := ""
		var uploadLimit int64
		if target.Engine == "embedded" {
			if err := engineLayers(app); err != nil {
				return nil, err
			}
			runHere(f, app)
			// The embedded engine takes any package inline, and never fetches
			// code from S3 (it could neither run a staged package nor report
			// its hash): no artifacts bucket there.
			uploadLimit = math.MaxInt64
			// The embedded engine routes API requests by host name.
			if u, err := url.Parse(target.Endpoint); err == nil {
				apiURLFormat = "http://%s.execute-api.localhost:" + u.Port()
			}
		}
		pkgs, err := buildPackages(ctx, f, app)
		if err != nil {
			return nil, err
		}
		local := ""
		if target.Target == "local" {
			local = target.Endpoint
		}
		ext, diags := readExternal(ctx, app, cfg, target)
		if w := waitsForUpstream(ext, opts); w != nil {
			return nil, w
		}
		if diags.HasErrors() {
			printDiagnostics(f, files, diags)
			return nil, silentExit(exitError)
		}
		s.external = ext
		zones, zdiags := lookupZones(ctx, app, cfg)
		if zdiags.HasErrors() {
			printDiagnostics(f, files, zdiags)
			return nil, silentExit(exitError)
		}
		domainURLFormat := ""
		if target.Engine == "embedded" {
			// The embedded engine serves a domain at <domain>.localhost.
			if u, err := url.Parse(target.Endpoint); err == nil {
				domainURLFormat = "http://%s.localhost:" + u.Port()
			}
		}
		desired, diags := planner.Lower(app, planner.LowerOptions{
			Zones:             zones,
			DomainURLFormat:   domainURLFormat,
			Account:           target.Account,
			Region:            target.Region,
			Packages:          pkgs,
			LocalEndpoint:     local,
			APIURLFormat:      apiURLFormat,
			DirectUploadLimit: uploadLimit,
			Existing:          ext.existing,
			AppOutputs:        ext.outputs,
		})
		if diags.HasErrors() {
			printDiagnostics(f, files, diags)
			return nil, silentExit(exitError)
		}
		s.desired = desired
		f.redact.add(desired.Secrets...)
		s.specHash = hashSpec(app, files, target, pkgs, variableInputs(f)+ext.hashInput())
	}
	ok = true
	return s, nil
}

// appFromLocalState stands in for a spec that does not load, from the stage's
// local state file: its app name and, for AWS targets, its region. An S3
// backend is declared in the spec, so it cannot be found this way.
func appFromLocalState(f *Factory) (*spec.App, bool) {
	dir, err := filepath.Abs(f.Global.Dir)
	if err != nil {
		return nil, false
	}
	stage := f.Global.Stage
	doc, err := state.NewLocal(dir, stage).Read(context.Background())
	if err != nil || doc == nil {
		return nil, false
	}
	app := &spec.App{Name: doc.App, Stage: stage, Dir: dir}
	// Target ids read "aws:<account>:<region>[:<endpoint>]".
	if parts := strings.SplitN(doc.Target, ":", 4); len(parts) >= 3 && parts[0] == "aws" {
		app.Region = parts[2]
	}
	return app, true
}

func (s *session) close() {
	if s.unlock != nil {
		if err := s.unlock(); err != nil {
			s.f.Logger.Warn("releasing the state lock", "err", err)
		}
		s.unlock = nil
	}
}

// plan refreshes (unless told not to) and diffs.
func (s *session) plan(ctx context.Context, opts *engineOptions) (*planner.Plan, error) {
	var obs map[string]planner.Observation
	if opts.Refresh {
		var err error
		obs, err = planner.Refresh(ctx, s.doc, s.reg, opts.Parallelism)
		if err != nil {
			return nil, fmt.Errorf("refreshing state: %w", err)
		}
	}
	p, err := planner.Diff(s.desired, s.doc, obs, s.reg)
	if err != nil {
		return nil, err
	}
	if len(opts.TargetBlocks) > 0 {
		if p, err = planner.TargetBlocks(p, opts.TargetBlocks); err != nil {
			return nil, err
		}
	}
	// Names shared with others (custom domains, DNS records) are checked
	// now, so a taken one stops the plan before any write.
	if err := planner.CheckClaims(ctx, p, s.reg); err != nil {
		return nil, err
	}
	p.FlagDataLoss(s.reg)
	if err := secretDataLoss(ctx, s.cfg, p); err != nil {
		return nil, err
	}
	p.Upstream = s.upstreamChanges()
	return p, nil
}

// stateBackend picks the app's backend: S3 when the spec declares one, else
// the local file .evdeploy/state/<stage>.json.
func stateBackend(ctx context.Context, app *spec.App, cfg aws.Config) (state.Backend, error) {
	if app.Backend == nil {
		return sealBackend(state.NewLocal(app.Dir, app.Stage), stateSealer(app, cfg)), nil
	}
	b := app.Backend
	bcfg := cfg.Copy()
	if b.Region != "" {
		bcfg.Region = b.Region
	}
	// One key per stage: a key that does not name the stage (HCL has already
	// interpolated "${var.stage}") gets it before ".json".
	key := b.Key
	if !strings.Contains(key, app.Stage) {
		key = strings.TrimSuffix(key, ".json") + "-" + app.Stage + ".json"
	}
	if sealer := stateSealer(app, cfg); sealer != nil {
		return state.NewS3(state.SealStore(awsprov.NewS3StateStore(bcfg, b.Bucket), sealer), b.Bucket, key), nil
	}
	return awsprov.NewS3StateBackend(bcfg, b.Bucket, key), nil
}

// runHere builds every function for this machine's architecture: the embedded
// engine runs deployed functions on this host, and an arm64 bootstrap does not
// run on an amd64 machine. The plan shows the architecture the engine gets.
func runHere(f *Factory, app *spec.App) {
	host := "x86_64"
	if runtime.GOARCH == "arm64" {
		host = "arm64"
	}
	for _, fn := range app.Functions {
		if fn.Architecture != host {
			f.Logger.Info("building for this machine so the embedded engine can run it", "function", fn.Addr, "architecture", host)
			fn.Architecture = host
		}
	}
}

// buildPackages builds every function's package (cached by content).
func buildPackages(ctx context.Context, f *Factory, app *spec.App) (map[spec.Addr]*planner.Package, error) {
	arts, err := packageApp(ctx, f, app, 4)
	if err != nil {
		return nil, err
	}
	out := map[spec.Addr]*planner.Package{}
	for i, a := range arts {
		out[app.Functions[i].Addr] = &planner.Package{Path: a.Path, SHA256: a.SHA256, Runtime: a.Runtime, Handler: a.Handler, Size: a.Size}
	}
	b := &build.Builder{Dir: app.Dir, Log: f.Logger.Infof}
	for _, l := range app.Layers {
		a, err := b.BuildLayer(ctx, build.Layer{Addr: l.Addr.String(), Source: l.Source})
		if err != nil {
			return nil, err
		}
		if a.Size > build.DirectUploadLimit {
			return nil, fmt.Errorf("%s: the layer's zip is %s; evdeploy publishes layers inline, up to %s", l.Addr, humanSize(a.Size), humanSize(build.DirectUploadLimit))
		}
		out[l.Addr] = &planner.Package{Path: a.Path, SHA256: a.SHA256, Size: a.Size}
	}
	return out, nil
}

// engineLayers refuses a spec with layers on the embedded engine: kumo has no
// PublishLayerVersion (it answers 400), so say which block cannot deploy
// there instead of showing a deserialization error mid-apply.
func engineLayers(app *spec.App) error {
	if len(app.Layers) == 0 {
		return nil
	}
	var addrs []string
	for _, l := range app.Layers {
		addrs = append(addrs, l.Addr.String())
	}
	return fmt.Errorf("%s: the embedded engine (kumo) cannot publish Lambda layers (it has no PublishLayerVersion); deploy layers to AWS, LocalStack or moto (--endpoint), or remove the layer block for local runs", strings.Join(addrs, ", "))
}

// hashSpec identifies everything a plan was computed from.
func hashSpec(app *spec.App, files map[string]*hcl.File, target *TargetInfo, pkgs map[spec.Addr]*planner.Package, vars string) string {
	h := sha256.New()
	fmt.Fprintf(h, "vars %d\n%s", len(vars), vars)
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(h, "file %s %d\n", filepath.Base(n), len(files[n].Bytes))
		h.Write(files[n].Bytes)
	}
	fmt.Fprintf(h, "stage %s\ntarget %s\n", app.Stage, target.ID())
	code := make([]string, 0, len(pkgs))
	for a, p := range pkgs {
		code = append(code, fmt.Sprintf("code %s %s\n", a, p.SHA256))
	}
	sort.Strings(code)
	for _, line := range code {
		h.Write([]byte(line))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// variableInputs is every variable value given outside the spec files:
// --var, the --var-file contents and EVDEPLOY_VAR_* in the environment.
func variableInputs(f *Factory) string {
	var lines []string
	for _, v := range f.Global.Vars {
		lines = append(lines, "var "+v)
	}
	for _, p := range f.Global.VarFiles {
		b, err := os.ReadFile(filepath.Join(f.Global.Dir, p))
		if err != nil {
			b, _ = os.ReadFile(p)
		}
		lines = append(lines, fmt.Sprintf("var-file %s %x", p, sha256.Sum256(b)))
	}
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, spec.EnvVarPrefix) {
			lines = append(lines, "env "+kv)
		}
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

func printDiagnostics(f *Factory, files map[string]*hcl.File, diags hcl.Diagnostics) {
	w := hcl.NewDiagnosticTextWriter(f.IO.ErrOut, files, 100, f.IO.Color)
	_ = w.WriteDiagnostics(diags)
}

// confirm asks the user to approve. Without a terminal it refuses instead of
// hanging: CI must say --auto-approve.
func confirm(f *Factory, question string) error {
	if !f.IO.InTTY {
		return errors.New("refusing to apply without confirmation: stdin is not a terminal; pass --auto-approve")
	}
	fmt.Fprintf(f.IO.Out, "\n%s\n  Only 'yes' will be accepted: ", question)
	var answer string
	fmt.Fscanln(f.IO.In, &answer)
	if strings.TrimSpace(answer) != "yes" {
		return &exitCodeError{code: exitError, err: errors.New("cancelled: nothing was changed")}
	}
	return nil
}
