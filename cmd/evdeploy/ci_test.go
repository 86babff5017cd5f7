package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The GitHub Actions workflow of docs/ci.md, run against the emulator: its
// commands, in its order, with the exit codes and outputs it gates on. Each
// command must appear in docs/ci.md exactly as run here (plus the flags that
// point it at the emulator), so the page cannot drift from what works.
func TestCIWorkflowCommands(t *testing.T) {
	doc, err := os.ReadFile("../../docs/ci.md")
	if err != nil {
		t.Fatal(err)
	}
	emu := emulator(t)
	app := uniqueStage("ci")
	dir := writeProject(t, map[string]string{
		"evdeploy.evd.hcl": "app \"" + app + "\" {}\n\nqueue \"jobs\" {}\n\ntopic \"events\" {}\n",
	})
	planFile := filepath.Join(t.TempDir(), "plan.bin")
	local := []string{"-C", dir, "--target", "local", "--endpoint", emu}
	step := func(want int, command string) result {
		t.Helper()
		if !strings.Contains(string(doc), command) {
			t.Errorf("docs/ci.md no longer shows %q", command)
		}
		args := strings.Fields(strings.TrimPrefix(command, "evdeploy "))
		for i, a := range args {
			if a == "plan.bin" {
				args[i] = planFile
			}
		}
		return mustEvd(t, want, append(args, local...)...)
	}

	// Pull request: check, plan with the exit code that says "changes", save.
	step(0, "evdeploy fmt --check")
	step(0, "evdeploy validate")
	r := step(2, "evdeploy plan --stage prod -out plan.bin --detailed-exitcode")
	if !strings.Contains(r.out, "Plan: 2 to add") {
		t.Errorf("the plan text for the PR comment:\n%s", r.out)
	}
	// `jq '.plan.summary' plan.bin`: the saved plan embeds the JSON document.
	var saved struct {
		Plan struct {
			Summary struct{ Add int } `json:"summary"`
		} `json:"plan"`
	}
	if b, err := os.ReadFile(planFile); err != nil || json.Unmarshal(b, &saved) != nil || saved.Plan.Summary.Add != 2 {
		t.Errorf("jq '.plan.summary' plan.bin: add = %d (%v)", saved.Plan.Summary.Add, err)
	}
	if !strings.Contains(string(doc), "jq '.plan.summary' plan.bin") {
		t.Error("docs/ci.md no longer reads the summary from the saved plan")
	}

	// Main: apply exactly the saved plan, with the event stream.
	r = step(0, "evdeploy apply plan.bin --stage prod --json")
	lines := strings.Split(strings.TrimSpace(r.out), "\n")
	var last struct{ Type, Status string }
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &last); err != nil || last.Type != "summary" || last.Status != "complete" {
		t.Errorf("last event = %+v (%v):\n%s", last, err, r.out)
	}
	errorsSeen := 0
	for _, l := range lines {
		var e struct{ Type string }
		if json.Unmarshal([]byte(l), &e) == nil && e.Type == "error" {
			errorsSeen++
		}
	}
	if errorsSeen != 0 || len(lines) != 1+2*2+1 {
		t.Errorf("want plan + start/end × 2 + summary, no error; got %d lines:\n%s", len(lines), r.out)
	}
	// Nothing left to do; and the same saved plan cannot be applied twice
	// (the state moved on), which is what protects main from a stale plan.
	mustEvd(t, 0, append([]string{"plan", "--stage", "prod", "--detailed-exitcode"}, local...)...)
	stale := mustEvd(t, 1, append([]string{"apply", planFile, "--stage", "prod", "--json"}, local...)...)
	if !strings.Contains(stale.errOut, "stale") {
		t.Errorf("a stale saved plan should be refused as stale:\n%s", stale.errOut)
	}
	mustEvd(t, 0, append([]string{"destroy", "--stage", "prod", "--auto-approve", "--allow-data-loss"}, local...)...)
}
