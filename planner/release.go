package planner

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/evdeploy/evdeploy/spec"
)

// A release (issue 19) is one long Update of a function's live alias: it
// publishes a version and shifts traffic to it step by step. Two hooks let
// the handler report on it while it runs, without the executor knowing
// about releases.

type checkpointKey struct{}
type releaseProgressKey struct{}

// withCheckpoint gives a handler's Create or Update a way to record its
// progress in state before it returns (see Checkpoint).
func withCheckpoint(ctx context.Context, f func(Attrs) error) context.Context {
	return context.WithValue(ctx, checkpointKey{}, f)
}

// Checkpoint records attrs as the resource's state now, while its Update
// is still running: a release records each step of its rollout, so an
// apply killed in the middle leaves the rollout in state for the next
// plan to show and the next apply to resume. Without an executor (a
// handler called directly in a test) it does nothing.
func Checkpoint(ctx context.Context, attrs Attrs) error {
	if f, ok := ctx.Value(checkpointKey{}).(func(Attrs) error); ok {
		return f(attrs)
	}
	return nil
}

// WithReleaseProgress makes ReleaseProgress and ReleaseStatus calls under ctx
// reach f (the CLI prints them); transient marks a ReleaseStatus.
func WithReleaseProgress(ctx context.Context, f func(addr, msg string, transient bool)) context.Context {
	return context.WithValue(ctx, releaseProgressKey{}, f)
}

type progressAddrKey struct{}

// withProgressAddr names the resource whose handler runs under ctx.
func withProgressAddr(ctx context.Context, addr string) context.Context {
	return context.WithValue(ctx, progressAddrKey{}, addr)
}

// ReleaseProgress reports a step of a release (a traffic shift, a rollback): a
// line of its own in the output and an event in the --json stream.
func ReleaseProgress(ctx context.Context, msg string) { report(ctx, msg, false) }

// ReleaseStatus reports how a step is going (time left, alarm states): at a
// terminal it shows on the operation's progress line; elsewhere it is not
// shown.
func ReleaseStatus(ctx context.Context, msg string) { report(ctx, msg, true) }

func report(ctx context.Context, msg string, transient bool) {
	if f, ok := ctx.Value(releaseProgressKey{}).(func(addr, msg string, transient bool)); ok {
		addr, _ := ctx.Value(progressAddrKey{}).(string)
		f(addr, msg, transient)
	}
}

// ReleaseStep is one step of a planned release: the candidate's share of
// traffic and how long it holds before the next step (0 for the last).
type ReleaseStep struct {
	Percent     int64 `json:"percent"`
	WaitSeconds int64 `json:"wait_seconds"`
}

// ReleasePlan is what a change of a live alias will do: publish version To
// and shift traffic from From to it by Steps.
type ReleasePlan struct {
	From     string        `json:"from,omitempty"`
	To       string        `json:"to,omitempty"`
	Strategy string        `json:"strategy"`
	Steps    []ReleaseStep `json:"steps"`
	// Resume is set when a killed apply left a rollout in state: the next
	// apply resumes it (or reverts it, when an alarm is in ALARM or the
	// alias was changed outside evdeploy).
	Resume bool `json:"resume,omitempty"`
}

// Release describes c when it is a release (an update or create of a live
// alias), else nil.
func Release(c *Change) *ReleasePlan {
	if c.Addr.Type != TypeAlias || (c.Action != Update && c.Action != Create) {
		return nil
	}
	after := c.After
	r := &ReleasePlan{Strategy: after.String("strategy")}
	p, wait := after.Int("percent"), after.Int("wait_seconds")
	switch r.Strategy {
	case "canary":
		r.Steps = []ReleaseStep{{Percent: p, WaitSeconds: wait}}
	case "linear":
		for s := p; s < 100 && p > 0; s += p {
			r.Steps = append(r.Steps, ReleaseStep{Percent: s, WaitSeconds: wait})
		}
	}
	r.Steps = append(r.Steps, ReleaseStep{Percent: 100})
	if c.Action == Create {
		r.To = "1"
		r.Steps = []ReleaseStep{{Percent: 100}}
		return r
	}
	r.From = c.Before.String("function_version")
	if rec, ok := c.Before["rollout"].(map[string]any); ok {
		r.Resume = true
		r.From, _ = rec["stable"].(string)
		r.To, _ = rec["candidate"].(string)
		return r
	}
	if n, err := strconv.Atoi(c.Before.String("latest_version")); err == nil {
		r.To = strconv.Itoa(n + 1)
		if k := c.Before.String("latest_release_key"); k != "" && k == c.After.String("release_key") {
			// The last version already holds these settings (a rollback
			// since): Lambda publishes nothing and returns it.
			r.To = strconv.Itoa(n)
		}
	}
	return r
}

// Line is the plan's words for the release:
// "release v7 → v8 (canary 10% for 5m)".
func (r *ReleasePlan) Line() string {
	ver := func(v string) string {
		if v == "" {
			return "?"
		}
		return "v" + v
	}
	how := "all at once"
	if len(r.Steps) > 1 {
		s := r.Steps[0]
		wait := FormatSeconds(s.WaitSeconds)
		if r.Strategy == "canary" {
			how = fmt.Sprintf("canary %d%% for %s", s.Percent, wait)
		} else {
			how = fmt.Sprintf("linear %d%% every %s", s.Percent, wait)
		}
	}
	verb := "release"
	if r.Resume {
		verb = "resume release"
	}
	if r.From == "" {
		return fmt.Sprintf("%s %s (%s)", verb, ver(r.To), "first version")
	}
	return fmt.Sprintf("%s %s → %s (%s)", verb, ver(r.From), ver(r.To), how)
}

// FormatSeconds writes a wait as the spec does ("5m", "1m30s").
func FormatSeconds(s int64) string { return spec.FormatDuration(time.Duration(s) * time.Second) }
