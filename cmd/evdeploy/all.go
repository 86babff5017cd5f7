package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/hashicorp/hcl/v2"

	"github.com/evdeploy/evdeploy/spec"
)

// A monorepo is a folder whose subfolders are apps (each with *.evd.hcl
// files). `plan|apply|destroy|graph --all` run on every app: in dependency
// order from their app_outputs blocks (an app that reads another's outputs
// comes after it), independent apps in parallel; destroy goes in reverse.

// monoApp is one app of a monorepo.
type monoApp struct {
	name string // folder name
	dir  string // absolute folder
	app  *spec.App
	deps []string // folder names of the apps whose outputs it reads
	err  error    // the spec does not load
}

// discoverApps lists the app folders under root and their dependencies.
func discoverApps(f *Factory, root string) ([]*monoApp, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(abs)
	if err != nil {
		return nil, err
	}
	opts, err := specOptions(f.Global)
	if err != nil {
		return nil, err
	}
	var apps []*monoApp
	byDir := map[string]*monoApp{}
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		dir := filepath.Join(abs, e.Name())
		files, _ := filepath.Glob(filepath.Join(dir, "*"+spec.FileSuffix))
		if len(files) == 0 {
			continue
		}
		a := &monoApp{name: e.Name(), dir: dir}
		app, _, diags := spec.Load(dir, opts)
		if diags.HasErrors() {
			a.err = fmt.Errorf("its spec does not load (evdeploy validate -C %s)", filepath.Join(root, e.Name()))
		}
		a.app = app
		apps = append(apps, a)
		byDir[dir] = a
	}
	if len(apps) == 0 {
		return nil, fmt.Errorf("%s has no app folders (subfolders with *%s files)", root, spec.FileSuffix)
	}
	for _, a := range apps {
		if a.app == nil {
			continue
		}
		for _, o := range a.app.AppOutputs {
			if up := byDir[o.Path]; up != nil && up != a && !hasString(a.deps, up.name) {
				a.deps = append(a.deps, up.name)
			}
		}
		sort.Strings(a.deps)
	}
	if cycle := appCycle(apps); cycle != "" {
		return nil, fmt.Errorf("the apps' app_outputs form a cycle: %s", cycle)
	}
	return apps, nil
}

func hasString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// appCycle returns a dependency cycle as "a → b → a", or "".
func appCycle(apps []*monoApp) string {
	byName := map[string]*monoApp{}
	for _, a := range apps {
		byName[a.name] = a
	}
	state := map[string]int{} // 1 visiting, 2 done
	var path []string
	var visit func(n string) string
	visit = func(n string) string {
		switch state[n] {
		case 1:
			i := 0
			for path[i] != n {
				i++
			}
			return strings.Join(append(append([]string{}, path[i:]...), n), " → ")
		case 2:
			return ""
		}
		state[n] = 1
		path = append(path, n)
		for _, d := range byName[n].deps {
			if c := visit(d); c != "" {
				return c
			}
		}
		path = path[:len(path)-1]
		state[n] = 2
		return ""
	}
	for _, a := range apps {
		if c := visit(a.name); c != "" {
			return c
		}
	}
	return ""
}

// orderApps returns the apps in dependency order (upstream first), ties by
// name.
func orderApps(apps []*monoApp) []*monoApp {
	done := map[string]bool{}
	var out []*monoApp
	for len(out) < len(apps) {
		for _, a := range apps {
			if done[a.name] {
				continue
			}
			ready := true
			for _, d := range a.deps {
				if !done[d] {
					ready = false
				}
			}
			if ready {
				done[a.name] = true
				out = append(out, a)
			}
		}
	}
	return out
}

// runAll runs one command on every app of the monorepo in f.Global.Dir:
// each app starts once the apps it must follow have succeeded (its
// upstreams; with reverse, its downstreams), independent apps in parallel;
// an app whose predecessor failed is not run. Each app's output is printed
// whole, under its name, when it ends.
func runAll(ctx context.Context, f *Factory, verb string, reverse bool, run func(ctx context.Context, sub *Factory) error) error {
	apps, err := discoverApps(f, f.Global.Dir)
	if err != nil {
		return err
	}
	// after[a] are the apps that must succeed before a runs.
	after := map[string][]string{}
	for _, a := range apps {
		for _, d := range a.deps {
			if reverse {
				after[d] = append(after[d], a.name)
			} else {
				after[a.name] = append(after[a.name], d)
			}
		}
	}
	type outcome struct {
		err     error
		skipped bool
	}
	var (
		mu       sync.Mutex
		outMu    sync.Mutex
		results  = map[string]*outcome{}
		finished = map[string]chan struct{}{}
		wg       sync.WaitGroup
	)
	for _, a := range apps {
		finished[a.name] = make(chan struct{})
	}
	order := orderApps(apps)
	if reverse {
		for i, j := 0, len(order)-1; i < j; i, j = i+1, j-1 {
			order[i], order[j] = order[j], order[i]
		}
	}
	fmt.Fprintf(f.IO.ErrOut, "%s --all: %d apps in %s, in order: %s\n", verb, len(apps), f.Global.Dir, appNames(order))
	for _, a := range order {
		wg.Add(1)
		go func(a *monoApp) {
			defer wg.Done()
			defer close(finished[a.name])
			var blocked []string
			for _, p := range after[a.name] {
				<-finished[p]
				mu.Lock()
				// A plan with changes (--detailed-exitcode) succeeded.
				var ec *exitCodeError
				if r := results[p]; r.skipped || r.err != nil && !(errors.As(r.err, &ec) && ec.code == exitChanges) {
					blocked = append(blocked, p)
				}
				mu.Unlock()
			}
			var out, errOut bytes.Buffer
			res := &outcome{}
			switch {
			case len(blocked) > 0:
				res.skipped = true
				fmt.Fprintf(&errOut, "not run: %s did not succeed\n", strings.Join(blocked, ", "))
			case a.err != nil:
				res.err = a.err
				fmt.Fprintf(&errOut, "Error: %v\n", a.err)
			default:
				sub := subFactory(f, a.dir, &out, &errOut)
				res.err = run(ctx, sub)
				var ec *exitCodeError
				if res.err != nil && !(errors.As(res.err, &ec) && ec.silent) {
					fmt.Fprintf(&errOut, "Error: %v\n", res.err)
				}
			}
			mu.Lock()
			results[a.name] = res
			mu.Unlock()
			outMu.Lock()
			defer outMu.Unlock()
			fmt.Fprintf(f.IO.Out, "\n=== %s (%s) ===\n", a.name, verb)
			f.IO.Out.Write(out.Bytes())
			f.IO.ErrOut.Write(errOut.Bytes())
		}(a)
	}
	wg.Wait()
	var failed, skipped []string
	changes := false
	for _, a := range order {
		r := results[a.name]
		var ec *exitCodeError
		switch {
		case r.skipped:
			skipped = append(skipped, a.name)
		case r.err != nil && errors.As(r.err, &ec) && ec.code == exitChanges:
			changes = true
		case r.err != nil:
			failed = append(failed, a.name)
		}
	}
	fmt.Fprintf(f.IO.Out, "\n%s --all: %d apps", verb, len(apps))
	if len(failed) > 0 {
		fmt.Fprintf(f.IO.Out, ", failed: %s", strings.Join(failed, ", "))
	}
	if len(skipped) > 0 {
		fmt.Fprintf(f.IO.Out, ", not run (after a failure): %s", strings.Join(skipped, ", "))
	}
	fmt.Fprintln(f.IO.Out)
	switch {
	case len(failed) > 0 || len(skipped) > 0:
		return silentExit(exitError)
	case changes:
		return silentExit(exitChanges)
	}
	return nil
}

func appNames(apps []*monoApp) string {
	names := make([]string, len(apps))
	for i, a := range apps {
		names[i] = a.name
	}
	return strings.Join(names, ", ")
}

// subFactory is f for one app of the monorepo, writing to its own buffers.
func subFactory(f *Factory, dir string, out, errOut *bytes.Buffer) *Factory {
	g := *f.Global
	g.Dir = dir
	io := *f.IO
	io.Out, io.ErrOut = out, errOut
	io.InTTY, io.OutTTY, io.ErrTTY = false, false, false
	lg := newLogger(errOut)
	lg.SetLevel(f.Logger.GetLevel())
	return &Factory{IO: &io, Global: &g, Logger: lg, redact: f.redact, rawOut: out}
}

// appEdge is an event flowing from one app's block to another app's block
// through app_outputs: core's bus.events, read by orders as bus.core.
type appEdge struct {
	from, fromBlock string // upstream app, its block (bus.events)
	to, toBlock     string // downstream app, its existing block (bus.core)
	via             string // app_outputs.core.bus_name
	consumers       []string
}

// appEdges finds, for each downstream app, the existing blocks that name an
// upstream app's output, and what upstream block that output reads.
func appEdges(apps []*monoApp) []appEdge {
	byDir := map[string]*monoApp{}
	for _, a := range apps {
		byDir[a.dir] = a
	}
	var edges []appEdge
	for _, a := range apps {
		if a.app == nil {
			continue
		}
		ups := map[string]*monoApp{}
		for _, o := range a.app.AppOutputs {
			if up := byDir[o.Path]; up != nil {
				ups[o.Addr.Name] = up
			}
		}
		for _, addr := range a.app.ExistingBlocks() {
			ex := a.app.ExistingOf(addr)
			for _, tr := range ex.Expr.Variables() {
				if tr.RootName() != spec.KindAppOutputs || len(tr) < 3 {
					continue
				}
				name, _ := tr[1].(hcl.TraverseAttr)
				out, _ := tr[2].(hcl.TraverseAttr)
				up := ups[name.Name]
				if up == nil || up.app == nil {
					continue
				}
				e := appEdge{from: up.name, fromBlock: "output." + out.Name, to: a.name, toBlock: addr.String(),
					via: "app_outputs." + name.Name + "." + out.Name}
				for _, o := range up.app.Outputs {
					if o.Addr.Name != out.Name || o.Value == nil {
						continue
					}
					for _, v := range o.Value.Variables() {
						if _, ok := spec.RefAttrs[v.RootName()]; ok && len(v) > 1 {
							if s, ok := v[1].(hcl.TraverseAttr); ok {
								e.fromBlock = v.RootName() + "." + s.Name
								break
							}
						}
					}
				}
				e.consumers = consumersOf(a.app, addr)
				edges = append(edges, e)
			}
		}
	}
	return edges
}

// consumersOf lists the triggers and routes of app that take events from
// block.
func consumersOf(app *spec.App, block spec.Addr) []string {
	var out []string
	for _, t := range app.Triggers {
		if t.SourceAddr() == block {
			out = append(out, t.Addr.String()+" → "+t.Function.String())
		}
	}
	for _, r := range app.Routes {
		if r.SourceAddr() == block {
			out = append(out, r.Addr.String()+" → "+r.To.String())
		}
	}
	return out
}

// graphAll draws the monorepo: its apps in dependency order and the events
// that flow from one app's blocks to another app's triggers and routes.
func graphAll(f *Factory, w *bytes.Buffer, format string) error {
	apps, err := discoverApps(f, f.Global.Dir)
	if err != nil {
		return err
	}
	order := orderApps(apps)
	edges := appEdges(apps)
	switch format {
	case "text":
		fmt.Fprintln(w, "Apps (dependency order):")
		for _, a := range order {
			line := "  " + a.name
			if a.app != nil {
				line += " (app " + a.app.Name + ")"
			}
			if len(a.deps) > 0 {
				line += "  ← " + strings.Join(a.deps, ", ")
			}
			if a.err != nil {
				line += "  [" + a.err.Error() + "]"
			}
			fmt.Fprintln(w, line)
		}
		fmt.Fprintln(w, "\nEvents between apps:")
		if len(edges) == 0 {
			fmt.Fprintln(w, "  (none)")
		}
		for _, e := range edges {
			fmt.Fprintf(w, "  %s/%s ──▶ %s/%s (%s)\n", e.from, e.fromBlock, e.to, e.toBlock, e.via)
			for _, c := range e.consumers {
				fmt.Fprintf(w, "      └▶ %s/%s\n", e.to, c)
			}
		}
	case "mermaid":
		id := func(s string) string {
			return strings.NewReplacer(".", "_", "/", "__", "-", "_", " ", "_").Replace(s)
		}
		fmt.Fprintln(w, "flowchart LR")
		for _, a := range order {
			fmt.Fprintf(w, "  subgraph %s[\"%s\"]\n", id(a.name), a.name)
			for _, e := range edges {
				if e.from == a.name {
					fmt.Fprintf(w, "    %s[\"%s\"]\n", id(a.name+"/"+e.fromBlock), e.fromBlock)
				}
				if e.to == a.name {
					fmt.Fprintf(w, "    %s[\"%s\"]\n", id(a.name+"/"+e.toBlock), e.toBlock)
					for _, c := range e.consumers {
						fmt.Fprintf(w, "    %s[\"%s\"]\n", id(a.name+"/"+c), c)
					}
				}
			}
			fmt.Fprintln(w, "  end")
		}
		for _, a := range order {
			for _, d := range a.deps {
				fmt.Fprintf(w, "  %s -. app_outputs .-> %s\n", id(d), id(a.name))
			}
		}
		for _, e := range edges {
			fmt.Fprintf(w, "  %s -->|%s| %s\n", id(e.from+"/"+e.fromBlock), e.via, id(e.to+"/"+e.toBlock))
			for _, c := range e.consumers {
				fmt.Fprintf(w, "  %s --> %s\n", id(e.to+"/"+e.toBlock), id(e.to+"/"+c))
			}
		}
	default:
		return fmt.Errorf("graph --all draws text or mermaid, not %q", format)
	}
	return nil
}
