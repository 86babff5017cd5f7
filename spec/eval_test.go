package spec

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

func TestEval(t *testing.T) {
	app, files, diags := loadCase(t, "testdata/valid/variables.evd.hcl", testOptions())
	if diags.HasErrors() {
		t.Fatal(render(files, diags))
	}
	fn := app.Functions[0]
	jobs := Addr{Kind: KindQueue, Name: "jobs"}
	tests := []struct {
		name   string
		blocks map[Addr]map[string]cty.Value
		want   map[string]string // "?" for unknown
	}{
		{
			name: "nothing known",
			want: map[string]string{"QUEUE": "?", "QUEUE_ARN": "?"},
		},
		{
			name: "url known, through a local",
			blocks: map[Addr]map[string]cty.Value{
				jobs: {"url": cty.StringVal("https://sqs/jobs")},
			},
			want: map[string]string{"QUEUE": "https://sqs/jobs", "QUEUE_ARN": "?"},
		},
		{
			name: "all known; unrelated blocks ignored",
			blocks: map[Addr]map[string]cty.Value{
				jobs:                         {"url": cty.StringVal("https://sqs/jobs"), "arn": cty.StringVal("arn:aws:sqs:eu-west-1:1:jobs")},
				{Kind: KindQueue, Name: "x"}: {"url": cty.StringVal("ignored")},
			},
			want: map[string]string{"QUEUE": "https://sqs/jobs", "QUEUE_ARN": "arn:aws:sqs:eu-west-1:1:jobs"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, diags := app.Eval(fn.Environment, tt.blocks)
			if diags.HasErrors() {
				t.Fatal(diags.Error())
			}
			got := map[string]string{}
			for _, k := range []string{"QUEUE", "QUEUE_ARN"} {
				e := v.GetAttr(k)
				if !e.IsKnown() {
					got[k] = "?"
				} else {
					got[k] = e.AsString()
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			// Values not read from blocks are always known.
			if p := v.GetAttr("PREFIX"); !p.IsKnown() || p.AsString() != "VARS-DEV" {
				t.Errorf("PREFIX = %#v", p)
			}
		})
	}

	out, diags := app.Eval(app.Outputs[0].Value, map[Addr]map[string]cty.Value{jobs: {"url": cty.StringVal("u")}})
	if diags.HasErrors() || out != cty.StringVal("u") {
		t.Errorf("output queue_url = %#v, %v", out, diags)
	}
	if v, diags := app.Eval(nil, nil); diags.HasErrors() || !v.IsNull() {
		t.Errorf("Eval(nil) = %#v, %v", v, diags)
	}
	var zero App
	if _, diags := zero.Eval(fn.Environment, nil); !diags.HasErrors() {
		t.Errorf("Eval on an App not from Load succeeded")
	}
}

// TestEvalPolicyResources checks that policy resources reading block
// attributes are left to Eval and come out right once known.
func TestEvalPolicyResources(t *testing.T) {
	app, files, diags := loadCase(t, "testdata/valid/names.evd.hcl", testOptions())
	if diags.HasErrors() {
		t.Fatal(render(files, diags))
	}
	p := app.Functions[0].Policies[0]
	if p.Resources != nil {
		t.Errorf("Resources = %q, want nil (they read bucket.bk.arn)", p.Resources)
	}
	bk := Addr{Kind: KindBucket, Name: "bk"}
	v, diags := app.Eval(p.ResourcesExpr, map[Addr]map[string]cty.Value{bk: {"arn": cty.StringVal("arn:aws:s3:::b")}})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	want := cty.TupleVal([]cty.Value{cty.StringVal("arn:aws:s3:::b/*"), cty.StringVal("arn:aws:s3:::b")})
	if !v.RawEquals(want) {
		t.Errorf("resources = %#v, want %#v", v, want)
	}
	if got := app.Functions[0].Policies[1].Resources; !cmp.Equal(got, []string{"*"}) {
		t.Errorf("static resources = %q", got)
	}
}

// Eval builds only the part of the context an expression reads; an
// expression reading a kind as a whole still sees every block of it.
func TestEvalScope(t *testing.T) {
	app, files, diags := loadCase(t, "testdata/valid/variables.evd.hcl", testOptions())
	if diags.HasErrors() {
		t.Fatal(render(files, diags))
	}
	jobs := Addr{Kind: KindQueue, Name: "jobs"}
	blocks := map[Addr]map[string]cty.Value{jobs: {"url": cty.StringVal("https://sqs/jobs")}}
	for _, tt := range []struct {
		src  string
		want cty.Value
	}{
		{`queue.jobs.url`, cty.StringVal("https://sqs/jobs")},
		{`[for q in queue : q.url]`, cty.TupleVal([]cty.Value{cty.StringVal("https://sqs/jobs")})},
	} {
		expr, d := hclsyntax.ParseExpression([]byte(tt.src), "test.hcl", hcl.InitialPos)
		if d.HasErrors() {
			t.Fatal(d.Error())
		}
		got, d := app.Eval(expr, blocks)
		if d.HasErrors() {
			t.Errorf("%s: %s", tt.src, d.Error())
			continue
		}
		if !got.RawEquals(tt.want) {
			t.Errorf("%s = %#v, want %#v", tt.src, got, tt.want)
		}
	}
}
