package spec

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const varsProject = `
app "v" {
  tags = {
    color  = var.color
    stage  = var.stage
    size   = tostring(var.size)
    names  = join(",", var.names)
  }
}

variable "stage" {}

variable "color" {
  default = "red"
}

variable "size" {
  type    = number
  default = 1
}

variable "names" {
  type    = list(string)
  default = ["a"]
}
`

func TestVariablePrecedence(t *testing.T) {
	dir := t.TempDir()
	write := func(name, src string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write(DefaultFile, varsProject)
	f1 := write("one.vars.hcl", `color = "green"`+"\n"+`size = 2`)
	f2 := write("two.vars.hcl", `color = "blue"`)

	tests := []struct {
		name string
		env  map[string]string
		opts Options
		want map[string]string
	}{
		{
			name: "defaults, stage from --stage",
			opts: Options{Stage: "prod"},
			want: map[string]string{"color": "red", "stage": "prod", "size": "1", "names": "a"},
		},
		{
			name: "default stage",
			want: map[string]string{"color": "red", "stage": "dev", "size": "1", "names": "a"},
		},
		{
			name: "environment beats default",
			env:  map[string]string{"EVDEPLOY_VAR_color": "pink", "EVDEPLOY_VAR_size": "3", "EVDEPLOY_VAR_names": `["x", "y"]`},
			want: map[string]string{"color": "pink", "stage": "dev", "size": "3", "names": "x,y"},
		},
		{
			name: "var files beat the environment, later files win",
			env:  map[string]string{"EVDEPLOY_VAR_color": "pink"},
			opts: Options{VarFiles: []string{f1, f2}},
			want: map[string]string{"color": "blue", "stage": "dev", "size": "2", "names": "a"},
		},
		{
			name: "--var beats everything, even for stage",
			env:  map[string]string{"EVDEPLOY_VAR_color": "pink"},
			opts: Options{Stage: "prod", VarFiles: []string{f1}, Vars: map[string]string{"color": "black", "stage": "qa", "size": "10"}},
			want: map[string]string{"color": "black", "stage": "qa", "size": "10", "names": "a"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := tt.opts
			opts.Getenv = func(k string) string { return tt.env[k] }
			app, files, diags := Load(dir, opts)
			if diags.HasErrors() {
				t.Fatal(render(files, diags))
			}
			if diff := cmp.Diff(tt.want, app.Tags); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestStageVariableMismatchWarns(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, DefaultFile), []byte(varsProject), 0o644); err != nil {
		t.Fatal(err)
	}
	app, _, diags := Load(dir, Options{Stage: "dev", Getenv: func(k string) string {
		return map[string]string{"EVDEPLOY_VAR_stage": "prod"}[k]
	}})
	if app == nil || app.Tags["stage"] != "prod" {
		t.Fatalf("app %v, diags %v", app, diags)
	}
	if diff := cmp.Diff([]string{"evdeploy.evd.hcl:11: warning: Stage variable differs from the stage"}, diagLines(diags)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestVariableErrors(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, DefaultFile), []byte(varsProject), 0o644); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.vars.hcl")
	if err := os.WriteFile(bad, []byte("colour = \"x\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		opts Options
		env  map[string]string
		want []string
	}{
		{"undeclared --var", Options{Vars: map[string]string{"colour": "x"}}, nil,
			[]string{"(no subject): error: Value for undeclared variable"}},
		{"undeclared in a var file", Options{VarFiles: []string{bad}}, nil,
			[]string{"bad.vars.hcl:1: error: Value for undeclared variable"}},
		{"missing var file", Options{VarFiles: []string{filepath.Join(dir, "nope.hcl")}}, nil,
			[]string{"(no subject): error: Cannot read variables file"}},
		{"number that is not", Options{Vars: map[string]string{"size": "big"}}, nil,
			[]string{"evdeploy.evd.hcl:17: error: Invalid value for variable"}},
		{"bad environment value", Options{}, map[string]string{"EVDEPLOY_VAR_size": "[1"},
			[]string{"evdeploy.evd.hcl:17: error: Invalid value for variable"}},
		{"bad stage", Options{Stage: "Prod!"}, nil,
			[]string{"(no subject): error: Invalid stage"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := tt.opts
			opts.Getenv = func(k string) string { return tt.env[k] }
			app, _, diags := Load(dir, opts)
			if app != nil {
				t.Errorf("got an App despite errors")
			}
			if diff := cmp.Diff(tt.want, diagLines(diags)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestLoadFolderProblems(t *testing.T) {
	_, _, diags := Load(filepath.Join(t.TempDir(), "missing"), Options{})
	if diff := cmp.Diff([]string{"(no subject): error: Cannot read project folder"}, diagLines(diags)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	_, _, diags = Load(t.TempDir(), Options{})
	if diff := cmp.Diff([]string{"(no subject): error: No project files"}, diagLines(diags)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
