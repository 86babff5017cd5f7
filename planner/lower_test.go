package planner

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/evdeploy/evdeploy/internal/speccorpus"
	"github.com/evdeploy/evdeploy/spec"
)

// The -update flag may be declared by another test file of this package;
// declare it only when nobody did (package-level vars initialise before init).
func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite golden files")
	}
}

func updateGolden() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// domainsDir is the project the domains end-to-end tests deploy: two apis on
// their own domains. Lowered here with domainsVars, the admin api on a
// certificate that exists.
var (
	domainsDir  = filepath.Join("..", "cmd", "evdeploy", "testdata", "domains")
	domainsVars = map[string]string{"admin_certificate": "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-1111-2222-3333-444455556666"}
)

// TestLowerGolden lowers each project under testdata/lower and compares a
// readable dump of the desired graph — every resource, its deterministic name,
// its edges and its attributes, with unknown values shown as <addr.attr> — with
// the golden file beside it. The dump of the SPEC example is the reference for
// the least-privilege policies evdeploy generates.
func TestLowerGolden(t *testing.T) {
	cases := []struct {
		dir  string
		opts LowerOptions
	}{
		{"shop", LowerOptions{Account: "123456789012", Region: "us-east-1",
			Packages: map[spec.Addr]*Package{
				{Kind: "function", Name: "api"}: {Path: "/tmp/api.zip", SHA256: "c2hhLWFwaQ==", Runtime: "provided.al2023", Handler: "bootstrap"},
				// Over the direct-upload limit: staged in the artifacts bucket.
				{Kind: "function", Name: "audit"}: {Path: "/tmp/audit.zip", SHA256: "n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=", Runtime: "provided.al2023", Handler: "bootstrap", Size: 60 << 20},
			}}},
		{"capabilities", LowerOptions{Account: "111111111111", Region: "eu-west-1", LocalEndpoint: "http://127.0.0.1:4566",
			APIURLFormat: "http://%s.execute-api.localhost:4566"}},
		{"routes", LowerOptions{Account: "123456789012", Region: "us-east-1"}},
		{"settings", LowerOptions{Account: "123456789012", Region: "us-east-1"}},
		{"release", LowerOptions{Account: "123456789012", Region: "us-east-1"}},
		{"alarms", LowerOptions{Account: "123456789012", Region: "us-east-1"}},
		{"layers", LowerOptions{Account: "123456789012", Region: "us-east-1",
			Packages: map[spec.Addr]*Package{
				{Kind: "layer", Name: "deps"}: {Path: "/tmp/deps.zip", SHA256: "bGF5ZXItZGVwcw==", Size: 1 << 10},
			}}},
		{"secrets", LowerOptions{Account: "123456789012", Region: "us-east-1"}},
		{"domains", LowerOptions{Account: "123456789012", Region: "us-east-1", Zones: map[string]string{"example.com": "Z0EXAMPLE"}}},
	}
	// Projects that live elsewhere, not under testdata/lower, so that no copy
	// drifts: the SPEC example itself, spec's corpus cases (speccorpus), and
	// the domains end-to-end project.
	fromCorpus := map[string]bool{"alarms": true, "secrets": true}
	elsewhere := map[string]struct {
		dir  string
		vars map[string]string
	}{
		"shop":    {dir: filepath.Join("..", "examples", "shop")},
		"domains": {dir: domainsDir, vars: domainsVars},
	}
	for _, c := range cases {
		t.Run(c.dir, func(t *testing.T) {
			dir := filepath.Join("testdata", "lower", c.dir)
			opts := spec.Options{Stage: "dev"}
			if e, ok := elsewhere[c.dir]; ok {
				dir, opts.Vars = e.dir, e.vars
			}
			if fromCorpus[c.dir] {
				dir = speccorpus.App(t, c.dir)
			}
			app, _, diags := spec.Load(dir, opts)
			if diags.HasErrors() {
				t.Fatalf("load: %s", diags.Error())
			}
			d, diags := Lower(app, c.opts)
			if diags.HasErrors() {
				t.Fatalf("lower: %s", diags.Error())
			}
			got := dumpDesired(t, d)
			golden := filepath.Join("testdata", "lower", c.dir+".golden")
			if updateGolden() {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./planner -run TestLowerGolden -update)", err)
			}
			if diff := cmp.Diff(string(want), got); diff != "" {
				t.Errorf("desired graph differs from %s (-want +got):\n%s", golden, diff)
			}
			// Lowering is deterministic.
			again, _ := Lower(app, c.opts)
			if diff := cmp.Diff(got, dumpDesired(t, again)); diff != "" {
				t.Errorf("second Lower differs:\n%s", diff)
			}
		})
	}
}

// dumpDesired renders d with every Ref resolved to a placeholder.
func dumpDesired(t *testing.T, d *Desired) string {
	t.Helper()
	var b strings.Builder
	for _, r := range d.Resources {
		fmt.Fprintf(&b, "%s\n  name: %s\n  id:   %s\n", r.Addr, r.Name, r.ID)
		deps := map[string]bool{}
		for _, dep := range r.DependsOn {
			deps[dep.String()] = true
		}
		for _, ref := range RefsIn(map[string]any(r.Attrs)) {
			deps[ref.Resource.String()] = true
		}
		var ds []string
		for k := range deps {
			ds = append(ds, k)
		}
		sort.Strings(ds)
		for _, dep := range ds {
			fmt.Fprintf(&b, "  after: %s\n", dep)
		}
		for _, k := range r.Attrs.Keys() {
			v, err := placeholders(r.Attrs[k])
			if err != nil {
				t.Fatalf("%s.%s: %v", r.Addr, k, err)
			}
			fmt.Fprintf(&b, "  %s = %s\n", k, dumpJSON(v))
		}
	}
	for _, o := range d.Outputs {
		v, err := placeholders(o.Value)
		if err != nil {
			t.Fatalf("output %s: %v", o.Name, err)
		}
		fmt.Fprintf(&b, "output %s = %s\n", o.Name, dumpJSON(v))
	}
	return b.String()
}

func placeholders(v any) (any, error) {
	resolved := map[Ref]any{}
	for _, r := range RefsIn(v) {
		resolved[r] = "<" + r.Resource.String() + "." + r.Attr + ">"
	}
	return lowerResolve(v, resolved)
}

// No generated policy statement grants "*".
func TestLowerPoliciesNameResources(t *testing.T) {
	app, _, diags := spec.Load(filepath.Join("testdata", "lower", "capabilities"), spec.Options{Stage: "dev"})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	d, _ := Lower(app, LowerOptions{Account: "1", Region: "eu-west-1"})
	for _, r := range d.Resources {
		if r.Addr.Type != TypeRolePolicy {
			continue
		}
		doc, err := placeholders(r.Attrs["policy"])
		if err != nil {
			t.Fatal(err)
		}
		var pol struct {
			Statement []struct{ Resource []string }
		}
		if err := json.Unmarshal([]byte(doc.(string)), &pol); err != nil {
			t.Fatal(err)
		}
		for _, s := range pol.Statement {
			for _, res := range s.Resource {
				if res == "*" {
					t.Errorf("%s grants Resource \"*\"", r.Addr)
				}
			}
		}
	}
}

// dumpJSON renders v readably: JSON documents held in strings (policies,
// patterns) are shown as the documents they are, and nothing is HTML-escaped.
func dumpJSON(v any) string {
	if s, ok := v.(string); ok && strings.HasPrefix(s, "{") {
		return s
	}
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
	return strings.TrimSuffix(b.String(), "\n")
}

// A domain's existing certificate must be in the app's region (a regional
// API Gateway domain takes no other), and its zone must have been found.
func TestLowerDomainErrors(t *testing.T) {
	app, _, diags := spec.Load(domainsDir, spec.Options{Stage: "dev", Vars: domainsVars})
	if diags.HasErrors() {
		t.Fatalf("load: %s", diags.Error())
	}
	var got []string
	_, diags = Lower(app, LowerOptions{Account: "123456789012", Region: "eu-west-1"})
	for _, d := range diags {
		got = append(got, fmt.Sprintf("%d %s", d.Subject.Start.Line, d.Summary))
	}
	want := []string{"31 Hosted zone not found", "31 Certificate in another region", "23 Hosted zone not found"} // apis in address order
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("diagnostics (-want +got):\n%s", diff)
	}
}
