package planner

// Ownership: evdeploy adopts a resource it finds under a journaled name only
// when the resource says it is evdeploy's. Every taggable resource is created
// with evdeploy:app, evdeploy:stage and evdeploy:block tags; a resource found
// by name whose reported tags lack them, or name another app, stage or block,
// belongs to someone else and is never adopted.

// ownershipTags are the tags that identify what evdeploy created.
var ownershipTags = []string{"evdeploy:app", "evdeploy:stage", "evdeploy:block"}

// ownedBy reports whether actual (what the service reports of a resource found
// by name) is the resource desired describes. Types without tags, and
// services that do not report tags, are judged by the lookup alone (their
// Finders match on the resource's full identity: function and source, API and
// route key…).
func ownedBy(desired, actual Attrs) bool {
	want := desired.StringMap("tags")
	if want == nil || want["evdeploy:block"] == "" {
		return true
	}
	if !actual.Has("tags") {
		return true
	}
	got := actual.StringMap("tags")
	for _, k := range ownershipTags {
		if got[k] != want[k] {
			return false
		}
	}
	return true
}
