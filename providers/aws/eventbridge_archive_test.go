package aws

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/evdeploy/evdeploy/internal/motoserver"
	"github.com/evdeploy/evdeploy/planner"
)

// TestEventBridgeArchiveLifecycle runs on moto: kumo has no archives (the
// embedded engine supplies them; cmd/evdeploy's replay test covers it).
func TestEventBridgeArchiveLifecycle(t *testing.T) {
	ctx := testContext(t)
	c := newClients(motoserver.Config(t))
	buses, h := newEventBridgeBus(c), newEventBridgeArchive(c)
	bus := uniqueName("bus")
	busID, busAttrs, err := buses.Create(ctx, planner.Attrs{"name": bus, "tags": map[string]any{"evdeploy:app": "demo"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { buses.Delete(ctx, busID, nil) })
	name := uniqueName("arch")
	if _, exists, err := h.Read(ctx, name, nil); err != nil || exists {
		t.Fatalf("Read before Create = %v, %v", exists, err)
	}
	desired := planner.Attrs{"name": name, "event_source_arn": busAttrs.String("arn"), "retention_days": int64(30), "description": "evdeploy: bus.events"}
	id, created, err := h.Create(ctx, desired)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if !strings.HasSuffix(created.String("arn"), ":archive/"+name) {
		t.Errorf("arn = %q", created.String("arn"))
	}
	want := desired.Norm()
	want["arn"] = created.String("arn")
	if d := cmp.Diff(want, created); d != "" {
		t.Errorf("Create (-want +got):\n%s", d)
	}
	if _, _, err := h.Create(ctx, desired); !errors.Is(err, planner.ErrAlreadyExists) {
		t.Errorf("Create of an existing archive = %v, want ErrAlreadyExists", err)
	}
	next := desired.Norm()
	next["retention_days"] = int64(7)
	after, err := h.Update(ctx, id, created, next)
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	next["arn"] = want["arn"]
	if d := cmp.Diff(next, after); d != "" {
		t.Errorf("Update (-want +got):\n%s", d)
	}
	assertDeletedForGood(t, ctx, h, id, after)
}
