package aws

import (
	"strings"
	"testing"

	"github.com/evdeploy/evdeploy/planner"
)

// TestPriorARN: Update takes the ARN from prior, or — from state written
// before ARNs were recorded — reads it; a resource gone since is an error
// naming it.
func TestPriorARN(t *testing.T) {
	ctx := testContext(t)
	h := newEventBridgeBus(newClients(testConfig(t)))
	name := uniqueName("bus")
	_, created, err := h.Create(ctx, planner.Attrs{"name": name})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Delete(ctx, name, nil) })
	if got, err := priorARN(ctx, h, name, planner.Attrs{"name": name, "arn": "arn:recorded"}, "event bus"); err != nil || got != "arn:recorded" {
		t.Errorf("priorARN with a recorded arn = %q, %v", got, err)
	}
	if got, err := priorARN(ctx, h, name, planner.Attrs{"name": name}, "event bus"); err != nil || got != created.String("arn") {
		t.Errorf("priorARN without one = %q, %v; want %q", got, err, created.String("arn"))
	}
	gone := name + "-gone"
	if _, err := priorARN(ctx, h, gone, planner.Attrs{"name": gone}, "event bus"); err == nil || !strings.Contains(err.Error(), `event bus "`+gone+`" no longer exists`) {
		t.Errorf("priorARN of a deleted bus: %v", err)
	}
}
