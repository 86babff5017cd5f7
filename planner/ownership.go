package planner

import (
	"fmt"
	"sort"
	"strings"
)

// Ownership: evdeploy changes only what it can prove it made. A resource
// found under the name evdeploy would use (a create that hit ErrAlreadyExists,
// or a journaled create looked up after an interrupted apply) is adopted only
// when:
//
//   - it carries evdeploy's ownership tags (evdeploy:app, evdeploy:stage,
//     evdeploy:block) and they name this app, stage and block; or
//   - its type's tags come in a call after the create (Schema.TagsAfterCreate:
//     an apply killed in between leaves it untagged), it carries no ownership
//     tags at all, the journal of a previous apply of this deployment records
//     that it issued that create, and every ForceNew attribute the service
//     reports equals the journaled one (its full identity matches) — or,
//     within one apply, an earlier attempt of the same create found the name
//     free and sent the create (ErrCreateSent) and the identity matches; or
//   - its type has no tags (inline policies, permissions, mappings,
//     subscriptions, targets, routes…): each lives inside a parent resource
//     (role, function, topic, rule, API) that is itself evdeploy's — apply
//     creates or proves the parent first — and the lookup matched its full
//     identity.
//
// Anything else — no tags, or tags naming another app, stage or block — is
// someone else's: apply stops before changing anything of it (ForeignError).

// ownershipTags are the tags that identify what evdeploy created.
var ownershipTags = []string{"evdeploy:app", "evdeploy:stage", "evdeploy:block"}

// OwnershipTags returns the ownership tags of a desired resource (nil for
// types evdeploy does not tag).
func OwnershipTags(desired Attrs) map[string]string {
	tags := desired.StringMap("tags")
	if tags == nil || tags["evdeploy:block"] == "" {
		return nil
	}
	out := make(map[string]string, len(ownershipTags))
	for _, k := range ownershipTags {
		out[k] = tags[k]
	}
	return out
}

// proof says why a lookup may trust what it found.
type proof int

const (
	// proofTags: the resource was found because this run's create collided
	// with it; only its tags can prove it is evdeploy's.
	proofTags proof = iota
	// proofJournal: a previous apply of this deployment journaled the
	// create; an untagged resource of a TagsAfterCreate type whose identity
	// matches may be what it made.
	proofJournal
	// proofSent: an earlier attempt of this very create found the name free
	// (its pre-create check) and sent the create call (ErrCreateSent), so
	// an untagged resource of a TagsAfterCreate type whose identity matches
	// is what that attempt made — the SDK's retry or the executor's retry
	// of a create whose answer was lost collides with it.
	proofSent
)

// judgeOwnership reports whether actual (what the service reports of a
// resource found by name) is the resource desired describes, and if not, why.
func judgeOwnership(sch Schema, desired, actual Attrs, p proof) (owned bool, why string) {
	want := OwnershipTags(desired)
	if want == nil && sch.ForeignParent {
		if p == proofTags {
			return false, "evdeploy did not write it"
		}
		if bad := attrMismatch(desired, actual); len(bad) > 0 {
			return false, "it differs from what evdeploy wrote in " + strings.Join(bad, ", ")
		}
		return true, ""
	}
	if want == nil {
		return true, "" // a type without tags: the lookup matched its identity
	}
	got := actual.StringMap("tags")
	var present []string
	for _, k := range ownershipTags {
		if _, ok := got[k]; ok {
			present = append(present, k)
		}
	}
	if len(present) > 0 {
		var differ []string
		for _, k := range ownershipTags {
			if got[k] != want[k] {
				differ = append(differ, fmt.Sprintf("%s=%q", k, got[k]))
			}
		}
		if len(differ) == 0 {
			return true, ""
		}
		return false, "its ownership tags name another owner: " + strings.Join(differ, ", ")
	}
	if (p == proofJournal || p == proofSent) && sch.TagsAfterCreate {
		if bad := identityMismatch(sch, desired, actual); len(bad) > 0 {
			return false, "it carries no evdeploy ownership tags and differs from what evdeploy would have created in " + strings.Join(bad, ", ")
		}
		return true, ""
	}
	return false, "it carries no evdeploy ownership tags"
}

// identityMismatch lists the ForceNew attributes the service reports
// differently from desired (an attribute it does not report is not held
// against the resource).
func identityMismatch(sch Schema, desired, actual Attrs) []string {
	var bad []string
	for _, k := range sch.ForceNew {
		got, ok := actual[k]
		if !ok {
			continue
		}
		if want, set := desired[k]; set && !IsUnknown(want) && !Equal(Norm(want), Norm(got)) {
			bad = append(bad, k)
		}
	}
	sort.Strings(bad)
	return bad
}

// attrMismatch lists the known desired attributes the service reports
// differently.
func attrMismatch(desired, actual Attrs) []string {
	var bad []string
	for k, want := range desired {
		got, ok := actual[k]
		if !ok || IsUnknown(want) {
			continue
		}
		if !Equal(Norm(want), Norm(got)) {
			bad = append(bad, k)
		}
	}
	sort.Strings(bad)
	return bad
}

// ForeignError is returned when a create finds the name taken by a resource
// evdeploy cannot prove it made. Nothing of that resource has been changed.
type ForeignError struct {
	Addr ResourceAddr
	Name string // the physical name (or id) that is taken
	Why  string // why it is not evdeploy's
}

func (e *ForeignError) Error() string {
	return fmt.Sprintf("%q already exists and evdeploy did not make it (%s); nothing of it was changed. Either:\n"+
		"  - delete it, if nothing needs it;\n"+
		"  - deploy under another name: set name = \"…\" in %s (or rename the block);\n"+
		"  - adopt it on purpose: evdeploy import %s %s",
		e.Name, e.Why, e.Addr.Block, e.Addr, e.Name)
}

// Unwrap lets callers match the collision with errors.Is(err, ErrAlreadyExists).
func (e *ForeignError) Unwrap() error { return ErrAlreadyExists }
