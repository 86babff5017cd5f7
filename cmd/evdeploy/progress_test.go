package main

import (
	"bufio"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"
)

var (
	totalsRE  = regexp.MustCompile(`Apply complete: 2 added, 0 changed, 0 replaced, 0 destroyed in \d+(\.\d)? s\.`)
	destroyRE = regexp.MustCompile(`Destroy complete: 0 added, 0 changed, 0 replaced, 2 destroyed in \d+(\.\d)? s\.`)
)

// Without a terminal (CI), apply and destroy print one plain line per
// operation start and end with a running count, and end with the totals and
// the wall time; no escape code.
func TestProgressPlain(t *testing.T) {
	emu := emulator(t)
	dir := smallProject(t)
	common := []string{"-C", dir, "--stage", uniqueStage("p"), "--target", "local", "--endpoint", emu}
	r := mustEvd(t, 0, append([]string{"apply", "--auto-approve"}, common...)...)
	all := r.out + r.errOut
	for _, want := range []string{
		"queue.jobs/aws_sqs_queue.main: creating…",
		"queue.other/aws_sqs_queue.main: creating…",
		"] queue.jobs/aws_sqs_queue.main: created (",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("plain apply output lacks %q:\n%s", want, all)
		}
	}
	if !regexp.MustCompile(`\[2/2\] queue\.\w+/aws_sqs_queue\.main: created \(`).MatchString(all) {
		t.Errorf("no running count reaching 2/2:\n%s", all)
	}
	if !totalsRE.MatchString(r.out) {
		t.Errorf("no totals with wall time on stdout:\n%s", r.out)
	}
	if strings.Contains(all, "\x1b") {
		t.Errorf("escape code without a terminal:\n%q", all)
	}
	r = mustEvd(t, 0, append([]string{"apply", "--auto-approve"}, common...)...)
	if !regexp.MustCompile(`No changes to apply \(\d+\.\d s\)\.`).MatchString(r.out) {
		t.Errorf("a no-change apply should say so with its wall time:\n%s", r.out)
	}
	r = mustEvd(t, 0, append([]string{"destroy", "--auto-approve", "--allow-data-loss"}, common...)...)
	if !destroyRE.MatchString(r.out) {
		t.Errorf("destroy totals:\n%s%s", r.out, r.errOut)
	}
	r = mustEvd(t, 0, append([]string{"destroy", "--auto-approve"}, common...)...)
	if !regexp.MustCompile(`Nothing to destroy \(\d+\.\d s\)\.`).MatchString(r.out) {
		t.Errorf("empty destroy:\n%s", r.out)
	}
}

// At a terminal, apply redraws a live region: a spinner line per operation
// in flight above the running count, finished operations kept above it; then
// the totals. NO_COLOR turns the redrawing off (it is made of escape codes).
func TestProgressLiveAtTerminal(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	emu := emulator(t)
	dir := smallProject(t)
	common := []string{"-C", dir, "--stage", uniqueStage("l"), "--target", "local", "--endpoint", emu}
	out, code := ptyRun(t, []string{"NO_COLOR="}, append([]string{"apply", "--auto-approve"}, common...)...)
	if code != 0 {
		t.Fatalf("apply at a terminal: exit %d\n%s", code, out)
	}
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] queue\.(jobs|other)/aws_sqs_queue\.main: creating \d+\.\d s`), // a live line
		regexp.MustCompile(`\d/2 done, \d in flight`),                       // the running count
		regexp.MustCompile(`\x1b\[\d+A\r\x1b\[J`),                           // the region redrawn in place
		regexp.MustCompile(`✓ queue\.jobs/aws_sqs_queue\.main: created \(`), // a finished line kept
		totalsRE,
	} {
		if !want.MatchString(out) {
			t.Errorf("live apply output lacks %s:\n%q", want, out)
		}
	}
	// The live region is cleared at the end: the last count line is erased
	// before the totals.
	if i, j := strings.LastIndex(out, "in flight"), strings.LastIndex(out, "\x1b[J"); j < i {
		t.Errorf("the live region is left on screen:\n%q", out)
	}

	out, code = ptyRun(t, []string{"NO_COLOR=1"}, append([]string{"destroy", "--auto-approve", "--allow-data-loss"}, common...)...)
	if code != 0 {
		t.Fatalf("destroy: exit %d\n%s", code, out)
	}
	if strings.Contains(out, "\x1b") || !destroyRE.MatchString(out) || !strings.Contains(out, "[2/2]") {
		t.Errorf("NO_COLOR destroy at a terminal should print plain lines and totals:\n%q", out)
	}
}

// apply --json and destroy --json print, on stdout, the plan document on one
// line and then one JSON object per operation start and end, then a summary.
func TestProgressJSONStream(t *testing.T) {
	emu := emulator(t)
	dir := smallProject(t)
	common := []string{"-C", dir, "--stage", uniqueStage("j"), "--target", "local", "--endpoint", emu}
	type event struct {
		Type, Address, Action, Time, Started, Status, Operation string
		Block                                                   string `json:"block"`
		Resource                                                string `json:"resource_type"`
		ElapsedMS                                               *int64 `json:"elapsed_ms"`
		Done, Total                                             int
		Added, Destroyed                                        *int
		FormatVersion                                           string `json:"format_version"`
	}
	parse := func(out string) []event {
		t.Helper()
		var evs []event
		sc := bufio.NewScanner(strings.NewReader(out))
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var e event
			if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
				t.Fatalf("line %d is not a JSON object: %v\n%s", len(evs)+1, err, sc.Text())
			}
			evs = append(evs, e)
		}
		return evs
	}
	for _, run := range []struct {
		args   []string
		action string
		check  func(e event) bool
	}{
		{[]string{"apply", "--auto-approve", "--json"}, "create", func(e event) bool { return *e.Added == 2 }},
		{[]string{"destroy", "--auto-approve", "--allow-data-loss", "--json"}, "delete", func(e event) bool { return *e.Destroyed == 2 }},
	} {
		r := mustEvd(t, 0, append(run.args, common...)...)
		evs := parse(r.out)
		if len(evs) != 6 {
			t.Fatalf("%s: want plan + 2×(start, end) + summary, got %d lines:\n%s", run.args[0], len(evs), r.out)
		}
		if evs[0].FormatVersion == "" {
			t.Errorf("first line is not the plan document: %+v", evs[0])
		}
		starts := map[string]time.Time{}
		for _, e := range evs[1:5] {
			if e.Action != run.action || e.Block == "" || e.Resource != "aws_sqs_queue" || e.Total != 2 {
				t.Errorf("%s: event %+v", run.args[0], e)
			}
			at, err := time.Parse(time.RFC3339Nano, e.Time)
			if err != nil {
				t.Errorf("time %q: %v", e.Time, err)
			}
			switch e.Type {
			case "start":
				starts[e.Address] = at
			case "end":
				if s, ok := starts[e.Address]; !ok || at.Before(s) || e.ElapsedMS == nil {
					t.Errorf("end of %s before its start or without elapsed_ms: %+v", e.Address, e)
				}
			default:
				t.Errorf("unexpected event type %q", e.Type)
			}
		}
		sum := evs[5]
		if sum.Type != "summary" || sum.Status != "complete" || sum.Operation != run.args[0] || sum.Done != 2 || !run.check(sum) || sum.ElapsedMS == nil {
			t.Errorf("%s summary = %+v", run.args[0], sum)
		}
	}
}

func TestFit(t *testing.T) {
	tests := []struct {
		s     string
		width int
		want  string
	}{
		{"short", 80, "short"},
		{"exactly9!", 10, "exactly9!"},
		{"0123456789", 10, "01234567…"},
		{"⠋ trigger.order_changes/aws_lambda_event_source_mapping.main: creating 1.2 s", 40, "⠋ trigger.order_changes/aws_lambda_eve…"},
	}
	for _, tt := range tests {
		if got := fit(tt.s, tt.width); got != tt.want || len([]rune(got)) >= tt.width {
			t.Errorf("fit(%q, %d) = %q, want %q", tt.s, tt.width, got, tt.want)
		}
	}
}
