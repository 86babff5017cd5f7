package planner

import "fmt"

// Action is what a plan does to one resource. Each value is the symbol the
// plan shows for it.
type Action rune

const (
	NoOp    Action = ' '
	Create  Action = '+'
	Update  Action = '~'
	Delete  Action = '-'
	Replace Action = '±'
)

// String gives the action's word, as used in JSON plans and error messages.
func (a Action) String() string {
	switch a {
	case NoOp:
		return "no-op"
	case Create:
		return "create"
	case Update:
		return "update"
	case Delete:
		return "delete"
	case Replace:
		return "replace"
	}
	return fmt.Sprintf("Action(%q)", rune(a))
}

// Symbol gives the one-character symbol the plan prints.
func (a Action) Symbol() string { return string(rune(a)) }

// ParseAction is the inverse of String.
func ParseAction(s string) (Action, error) {
	for _, a := range []Action{NoOp, Create, Update, Delete, Replace} {
		if a.String() == s {
			return a, nil
		}
	}
	return 0, fmt.Errorf("unknown plan action %q", s)
}

// Plan is the ordered set of changes that make the deployment match the spec.
// Its two consumers are the renderers and Apply: what the user reads is what
// apply does.
type Plan struct {
	// Changes holds one entry per desired or recorded resource (NoOps
	// included, so renderers can tell a block's untouched resources). Order:
	// desired resources in dependency order, then deletions in reverse
	// dependency order.
	Changes []*Change

	// StateSerial and StateLineage identify the state the plan was made
	// against; a saved plan applies only to that exact state.
	StateSerial  uint64
	StateLineage string

	// Refreshed reports whether the plan compared against what the services
	// reported (false with --refresh=false: state was trusted).
	Refreshed bool

	// Destroy marks a plan made by PlanDestroy.
	Destroy bool

	// Outputs are the app's outputs as apply will record them, compared with
	// the recorded ones (by name). They are shown to the user but do not make
	// HasChanges: apply always records outputs, even with nothing to change.
	Outputs []*OutputChange

	// ForgetIntents lists journal entries whose resource was looked for and
	// not found, and that no desired resource will create again: apply
	// removes them from the journal.
	ForgetIntents []string

	// Upstream lists the other apps' outputs this app reads whose value
	// changed since its last apply (set by the command, which reads them).
	Upstream []*UpstreamChange
}

// Change is the plan for one provider resource.
type Change struct {
	Addr   ResourceAddr
	Block  string // spec block address (Addr.Block), for grouping
	Action Action

	// Name is the deterministic physical name (journaled before a create).
	Name string

	// ID is the physical id the change acts on: the recorded id for
	// Update/Delete/Replace/NoOp, the expected id (when derivable) for Create.
	ID string

	// Before is what is deployed (state overlaid with what refresh read); nil
	// for Create. After is what the resource will look like; values not known
	// until apply are Unknown. nil for Delete.
	Before, After Attrs

	// Changed lists the attributes that differ (sorted). ReplaceBecause lists
	// the ForceNew attributes among them.
	Changed        []string
	ReplaceBecause []string

	// Sensitive names the attributes whose values plans show as (sensitive).
	Sensitive []string

	// DataLoss marks a replace or delete of a resource type that holds data.
	DataLoss bool
	// Missing marks a recorded resource that refresh found deleted outside
	// evdeploy.
	Missing bool

	// Deps are the resources this one depends on: desired edges for
	// Create/Update/Replace/NoOp, recorded edges for Delete.
	Deps []string
	// PriorDeps are the recorded edges of a resource in state; a replaced
	// resource's old instance is deleted in their reverse order.
	PriorDeps []string

	// Adopted marks a resource found by its journaled name after an
	// interrupted apply: apply records it in state even when nothing else
	// changes.
	Adopted bool

	// Journaled marks a Create (or a Delete from PlanDestroy) whose resource
	// has an intent in the journal: apply looks it up by name before acting.
	Journaled bool

	// Reason explains the action for the user ("deleted outside evdeploy").
	// It is for the UI only: Apply never decides anything from it.
	Reason string
}

// OutputChange is an app output's planned value.
type OutputChange struct {
	Name   string
	Action Action // NoOp, Create, Update or Delete
	// Before is the recorded value (nil for Create); After the value apply
	// will record (Unknown when known only after apply; nil for Delete).
	Before, After any
	Sensitive     bool
}

// OutputsChange reports whether any output's recorded value would change.
func (p *Plan) OutputsChange() bool {
	for _, o := range p.Outputs {
		if o.Action != NoOp {
			return true
		}
	}
	return false
}

// HasChanges reports whether applying the plan would do anything (including
// recording adopted resources or clearing stale journal entries).
func (p *Plan) HasChanges() bool {
	if len(p.ForgetIntents) > 0 {
		return true
	}
	for _, c := range p.Changes {
		if c.Action != NoOp || c.Adopted {
			return true
		}
	}
	return false
}

// Summary counts a plan's changes by resource.
type Summary struct {
	Add, Change, Replace, Destroy, Adopt int
	// DataLoss counts changes that would lose data.
	DataLoss int
}

// Summary counts the plan's changes.
func (p *Plan) Summary() Summary {
	var s Summary
	for _, c := range p.Changes {
		switch c.Action {
		case Create:
			s.Add++
		case Update:
			s.Change++
		case Replace:
			s.Replace++
		case Delete:
			s.Destroy++
		}
		if c.Adopted {
			s.Adopt++
		}
		if c.DataLoss {
			s.DataLoss++
		}
	}
	return s
}

// FlagDataLoss sets DataLoss on every replace or delete of a type whose schema
// holds data (unless refresh found it already gone). Diff sets it already;
// PlanDestroy, which has no registry, relies on this, and Apply calls it so
// the guard never depends on how the plan was made.
func (p *Plan) FlagDataLoss(reg Registry) {
	for _, c := range p.Changes {
		if c.Action != Delete && c.Action != Replace || c.Missing || c.DataLoss {
			continue
		}
		if h, ok := reg[c.Addr.Type]; ok && h.Schema().holdsData(c.Before) {
			c.DataLoss = true
		}
	}
}

// DataLossChanges returns the changes that would lose data.
func (p *Plan) DataLossChanges() []*Change {
	var out []*Change
	for _, c := range p.Changes {
		if c.DataLoss {
			out = append(out, c)
		}
	}
	return out
}

// Unknown stands for a value that is known only after apply (an ARN a create
// returns, or anything computed from one). It appears in Change.After, never in
// what a Handler receives.
type Unknown struct{}

// IsUnknown reports whether v is, or contains, an Unknown.
func IsUnknown(v any) bool {
	switch x := v.(type) {
	case Unknown:
		return true
	case []any:
		for _, e := range x {
			if IsUnknown(e) {
				return true
			}
		}
	case map[string]any:
		for _, e := range x {
			if IsUnknown(e) {
				return true
			}
		}
	case Attrs:
		for _, e := range x {
			if IsUnknown(e) {
				return true
			}
		}
	}
	return false
}
