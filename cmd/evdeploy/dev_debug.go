package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/evdeploy/evdeploy/localstack"
	"github.com/evdeploy/evdeploy/planner"
	"github.com/evdeploy/evdeploy/spec"
)

// dev --debug FUNCTION[=PORT]: the engine runs that function's process under
// its runtime's debugger (localstack/debug.go); dev deploys it for that (a Go
// function built with -gcflags=all=-N -l and its DWARF, a Node bundle with
// its source map, the longest timeout so that kumo does not end a held
// invocation), tells the engine, prints how to attach, and ends the debugging
// when it exits.

// debugDefaultPorts are each debugger's usual port.
var debugDefaultPorts = map[string]int{"node": 9229, "go": 2345, "python": 5678}

// debugKind is the debugger family of a function's runtime, or "".
func debugKind(runtime string) string {
	switch {
	case strings.HasPrefix(runtime, "nodejs"):
		return "node"
	case strings.HasPrefix(runtime, "python3"):
		return "python"
	case runtime == "go" || strings.HasPrefix(runtime, "provided") || runtime == "go1.x":
		return "go"
	}
	return ""
}

// debugTarget is one --debug.
type debugTarget struct {
	block   string // the function block's name
	runtime string
	source  string // the function's source folder
	port    int

	physical string                   // its deployed name, once applied
	session  *localstack.DebugSession // once the engine debugs it
}

// parseDebugFlags checks each FUNCTION[=PORT] against the app's functions.
func parseDebugFlags(flags []string, app *spec.App) ([]*debugTarget, error) {
	fns := map[string]*spec.Function{}
	var names []string
	for _, fn := range app.Functions {
		fns[fn.Addr.Name] = fn
		names = append(names, fn.Addr.Name)
	}
	sort.Strings(names)
	var out []*debugTarget
	seen, ports := map[string]bool{}, map[int]string{}
	for _, fl := range flags {
		name, portText, hasPort := strings.Cut(fl, "=")
		name = strings.TrimPrefix(name, "function.")
		fn := fns[name]
		if fn == nil {
			known := "the app has no functions"
			if len(names) > 0 {
				known = "its functions: " + strings.Join(names, ", ")
			}
			return nil, fmt.Errorf("--debug %s: no function %q in app %s (%s)", fl, name, app.Name, known)
		}
		if seen[name] {
			return nil, fmt.Errorf("--debug %s: function %s is already debugged by another --debug; give it once", fl, name)
		}
		seen[name] = true
		kind := debugKind(fn.Runtime)
		if kind == "" {
			return nil, fmt.Errorf("--debug %s: runtime %s cannot be debugged on the embedded engine (Node.js, Go and Python can)", fl, fn.Runtime)
		}
		port := debugDefaultPorts[kind]
		if hasPort {
			p, err := strconv.Atoi(portText)
			if err != nil || p < 1 || p > 65535 {
				return nil, fmt.Errorf("--debug %s: the port must be a number from 1 to 65535", fl)
			}
			port = p
		} else {
			for ports[port] != "" { // two functions of one runtime: the next port up
				port++
			}
		}
		if other := ports[port]; other != "" {
			return nil, fmt.Errorf("--debug %s: port %d is already given to function %s", fl, port, other)
		}
		ports[port] = name
		out = append(out, &debugTarget{block: name, runtime: fn.Runtime, source: fn.Source, port: port})
	}
	return out, nil
}

// debugTimeouts gives the debugged functions Lambda's longest timeout: a
// breakpoint holds the invocation, and kumo would end it after the
// function's timeout (the engine itself does not time out a debugged one).
func debugTimeouts(f *Factory, app *spec.App) {
	for _, fn := range app.Functions {
		if f.debugFns[fn.Addr.Name] {
			fn.Timeout = spec.MaxTimeout
		}
	}
}

// deployedFunctions maps the app's function blocks to their deployed names.
func deployedFunctions(ctx context.Context, f *Factory) (map[string]string, error) {
	doc, err := readState(ctx, f)
	if err != nil {
		return nil, err
	}
	ids := map[string]string{}
	if doc != nil {
		for _, r := range doc.Resources {
			if r.Type == planner.TypeFunction {
				ids[strings.TrimPrefix(r.Block, "function.")] = r.ID
			}
		}
	}
	return ids, nil
}

// endStaleDebugging runs the app's functions that this dev does not debug
// without a debugger: a dev --debug that did not exit cleanly (killed) left
// them under it. Engines that do not debug are left alone.
func endStaleDebugging(ctx context.Context, f *Factory, endpoint string, targets []*debugTarget) {
	ids, err := deployedFunctions(ctx, f)
	if err != nil {
		return
	}
	debugged := map[string]bool{}
	for _, t := range targets {
		debugged[t.block] = true
	}
	blocks := make([]string, 0, len(ids))
	for b := range ids {
		blocks = append(blocks, b)
	}
	sort.Strings(blocks)
	for _, b := range blocks {
		if debugged[b] {
			continue
		}
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		was, err := localstack.EndDebug(cctx, endpoint, ids[b])
		cancel()
		if err == nil && was {
			fmt.Fprintf(f.IO.ErrOut, "dev: %s was still under its debugger (left by a dev --debug that did not exit cleanly): it runs without it again\n", b)
		}
	}
}

// startDebugging asks the engine to debug each target and prints how to
// attach. Functions are found in state by their block.
func startDebugging(ctx context.Context, f *Factory, endpoint string, targets []*debugTarget) error {
	ids, err := deployedFunctions(ctx, f)
	if err != nil {
		return err
	}
	w := f.IO.ErrOut
	for _, t := range targets {
		t.physical = ids[t.block]
		if t.physical == "" {
			return fmt.Errorf("--debug %s: function.%s is not deployed (the apply above failed?)", t.block, t.block)
		}
		cctx, cancel := context.WithTimeout(ctx, 90*time.Second)
		s, err := localstack.StartDebug(cctx, endpoint, t.physical, t.port)
		cancel()
		if err != nil {
			return fmt.Errorf("--debug %s: %w", t.block, err)
		}
		t.session = s
		printAttach(w, t)
	}
	return nil
}

// endDebugging runs the targets without their debuggers again.
func endDebugging(f *Factory, endpoint string, targets []*debugTarget) {
	for _, t := range targets {
		if t.session == nil {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		if _, err := localstack.EndDebug(ctx, endpoint, t.physical); err != nil {
			fmt.Fprintf(f.IO.ErrOut, "dev: ending the debugging of %s: %v\n", t.block, err)
		} else {
			fmt.Fprintf(f.IO.ErrOut, "dev: %s runs without its debugger again (its %s timeout and debug build stay until the next apply or dev)\n", t.block, spec.FormatDuration(spec.MaxTimeout))
		}
		cancel()
	}
}

// printAttach says how to attach to t's debugger.
func printAttach(w io.Writer, t *debugTarget) {
	s := t.session
	addr := fmt.Sprintf("127.0.0.1:%d", s.Port)
	fmt.Fprintf(w, "dev: debugging %s (%s, pid %d): deployed with a %s timeout, and the engine ends no invocation of it (timeout, memory) while debugged\n",
		t.block, s.Runtime, s.PID, spec.FormatDuration(spec.MaxTimeout))
	switch debugKind(t.runtime) {
	case "node":
		fmt.Fprintf(w, "dev:   Node.js inspector (Chrome DevTools protocol) on %s: chrome://inspect, or VS Code launch.json:\n", addr)
		fmt.Fprintf(w, "dev:   {\"type\": \"node\", \"request\": \"attach\", \"name\": \"%s\", \"address\": \"127.0.0.1\", \"port\": %d, \"localRoot\": %q, \"remoteRoot\": %q, \"sourceMaps\": true, \"restart\": true}\n",
			t.block, s.Port, t.source, s.Root)
	case "go":
		fmt.Fprintf(w, "dev:   Delve (headless, API v2) on %s: `dlv connect %s`, or VS Code launch.json:\n", addr, addr)
		fmt.Fprintf(w, "dev:   {\"type\": \"go\", \"request\": \"attach\", \"name\": \"%s\", \"mode\": \"remote\", \"host\": \"127.0.0.1\", \"port\": %d}\n", t.block, s.Port)
		fmt.Fprintf(w, "dev:   (built from %s with -gcflags=all=-N -l: breakpoints in its files need no path mapping)\n", t.source)
	case "python":
		fmt.Fprintf(w, "dev:   debugpy on %s: VS Code launch.json:\n", addr)
		fmt.Fprintf(w, "dev:   {\"type\": \"debugpy\", \"request\": \"attach\", \"name\": \"%s\", \"connect\": {\"host\": \"127.0.0.1\", \"port\": %d}, \"pathMappings\": [{\"localRoot\": %q, \"remoteRoot\": %q}]}\n",
			t.block, s.Port, t.source, s.Root)
	}
}
