package planner

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/evdeploy/evdeploy/state"
)

// Import records an existing resource as it is, adding only the ownership
// tags, and refuses what another deployment or this state already owns.
func TestImport(t *testing.T) {
	ours := map[string]any{"evdeploy:app": "shop", "evdeploy:stage": "dev", "evdeploy:block": "function.api"}
	tests := []struct {
		name     string
		found    Attrs // what the cloud holds under shop-dev-api-role; nil: nothing
		recorded []state.Resource
		addr, id string
		wantErr  string
		wantTags map[string]any
	}{
		{name: "untagged: tagged and recorded", found: Attrs{"name": "shop-dev-api-role", "policy": "theirs", "tags": map[string]any{"team": "x"}},
			addr: roleA.String(), id: "shop-dev-api-role",
			wantTags: map[string]any{"team": "x", "evdeploy:app": "shop", "evdeploy:stage": "dev", "evdeploy:block": "function.api"}},
		{name: "another stage's", found: Attrs{"name": "shop-dev-api-role", "tags": map[string]any{"evdeploy:app": "shop", "evdeploy:stage": "prod", "evdeploy:block": "function.api"}},
			addr: roleA.String(), id: "shop-dev-api-role", wantErr: `import refused: shop-dev-api-role is another deployment's (its tags say evdeploy:stage="prod")`},
		{name: "already recorded", found: Attrs{"name": "shop-dev-api-role"}, recorded: []state.Resource{{Addr: roleA.String(), ID: "shop-dev-api-role"}},
			addr: roleA.String(), id: "shop-dev-api-role", wantErr: "import refused: state already records it"},
		{name: "missing", addr: roleA.String(), id: "shop-dev-api-role", wantErr: "shop-dev-api-role does not exist"},
		{name: "a block address", addr: "function.api", id: "x", wantErr: "function.api is not a resource of the spec; import one of: " + funcA.String() + ", " + roleA.String()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{}
			fc := newFakeCloud(rec)
			reg := fc.registry()
			d := appDesired(128)
			for _, r := range d.Resources {
				if r.Addr.Block == "function.api" {
					r.Attrs["tags"] = ours
				}
			}
			if tt.found != nil {
				fc.put("fake_role", "shop-dev-api-role", tt.found)
			}
			doc := &state.Document{Lineage: "l", Resources: tt.recorded}
			st := newFakeState(rec, doc)
			r, err := Import(context.Background(), d, doc, reg, st, tt.addr, tt.id)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				if strings.Contains(tt.wantErr, "refused") && !errors.Is(err, ErrImportRefused) {
					t.Errorf("err does not wrap ErrImportRefused")
				}
				if got, _ := fc.get("fake_role", "shop-dev-api-role"); tt.found != nil && !Equal(map[string]any(got), map[string]any(tt.found.Norm())) {
					t.Errorf("a refused import changed the resource: %v", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, _ := fc.get("fake_role", "shop-dev-api-role")
			if d := cmp.Diff(tt.wantTags, got["tags"]); d != "" {
				t.Errorf("tags (-want +got):\n%s", d)
			}
			if got.String("policy") != tt.found.String("policy") {
				t.Errorf("import changed more than the tags: %v", got)
			}
			if r.ID != tt.id || indexOf(st.addrs(), tt.addr) < 0 {
				t.Errorf("recorded %+v; state has %v", r, st.addrs())
			}
		})
	}
}
