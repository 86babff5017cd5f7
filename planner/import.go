package planner

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/evdeploy/evdeploy/state"
)

// ErrImportRefused is wrapped when import will not take a resource over: it
// belongs to another deployment, or this one already records it.
var ErrImportRefused = errors.New("import refused")

// Import adopts an existing resource on purpose (`evdeploy import ADDR ID`):
// it reads the resource with physical id id, refuses it when its ownership
// tags name another app, stage or block (it is in that deployment's state),
// tags it as this deployment's, and records it in state as it is. Nothing
// else of it changes: the next plan shows what it takes to bring it to the
// spec (a ForceNew attribute that differs is a replacement there).
//
// addr is a resource address of the desired graph
// ("function.sweeper/aws_lambda_function.main"); a block address is answered
// with the list of its resources.
func Import(ctx context.Context, desired *Desired, doc *state.Document, reg Registry, st StateWriter, addr, id string) (state.Resource, error) {
	var d *DesiredResource
	var inBlock []string
	for _, r := range desired.Resources {
		if r.Addr.String() == addr {
			d = r
		}
		if r.Addr.Block == addr || r.Addr.Block == strings.SplitN(addr, "/", 2)[0] {
			inBlock = append(inBlock, r.Addr.String())
		}
	}
	if d == nil {
		sort.Strings(inBlock)
		if len(inBlock) > 0 {
			return state.Resource{}, fmt.Errorf("%s is not a resource of the spec; import one of: %s", addr, strings.Join(inBlock, ", "))
		}
		return state.Resource{}, fmt.Errorf("%s is not a resource of the spec (see `evdeploy plan --detail` for resource addresses)", addr)
	}
	if doc != nil {
		for _, r := range doc.Resources {
			if r.Addr == addr {
				return state.Resource{}, fmt.Errorf("%s: %w: state already records it (as %s)", addr, ErrImportRefused, r.ID)
			}
			if r.Type == d.Addr.Type && r.ID == id {
				return state.Resource{}, fmt.Errorf("%s: %w: %s is already recorded as %s", addr, ErrImportRefused, id, r.Addr)
			}
		}
	}
	h, ok := reg[d.Addr.Type]
	if !ok {
		return state.Resource{}, fmt.Errorf("%s: no handler for resource type %q", addr, d.Addr.Type)
	}

	actual, foundID, found, err := importRead(ctx, h, d, id)
	if err != nil {
		return state.Resource{}, fmt.Errorf("%s: reading %s: %w", addr, id, err)
	}
	if !found {
		return state.Resource{}, fmt.Errorf("%s: %s does not exist (or is not where this target looks)", addr, id)
	}
	id = foundID
	actual = actual.Norm()

	want := OwnershipTags(d.Attrs)
	recorded := actual
	if want != nil {
		got := actual.StringMap("tags")
		var other []string
		for _, k := range ownershipTags {
			if v, ok := got[k]; ok && v != want[k] {
				other = append(other, fmt.Sprintf("%s=%q", k, v))
			}
		}
		if len(other) > 0 {
			return state.Resource{}, fmt.Errorf("%s: %w: %s is another deployment's (its tags say %s); it is in that deployment's state",
				addr, ErrImportRefused, id, strings.Join(other, ", "))
		}
		missing := false
		merged := map[string]any{}
		for k, v := range got {
			merged[k] = v
		}
		for k, v := range want {
			if got[k] != v {
				missing = true
			}
			merged[k] = v
		}
		if missing {
			tagged := overlay(actual, Attrs{"tags": merged}, nil)
			updated, err := h.Update(ctx, id, actual, tagged)
			if err != nil {
				return state.Resource{}, fmt.Errorf("%s: tagging %s as this deployment's: %w", addr, id, err)
			}
			recorded = overlay(tagged, updated.Norm(), nil)
		}
	}
	var deps []string
	for _, p := range d.Deps() {
		deps = append(deps, p.String())
	}
	r := state.Resource{Addr: addr, Block: d.Addr.Block, Type: d.Addr.Type, ID: id, Attrs: map[string]any(recorded), Deps: deps}
	if err := st.Upsert(r); err != nil {
		return state.Resource{}, err
	}
	return r, nil
}

// importRead reads the resource to import. A type whose id the service
// assigns (a queue's URL) can also be named by its name: its Finder looks it
// up.
func importRead(ctx context.Context, h Handler, d *DesiredResource, id string) (Attrs, string, bool, error) {
	if f, ok := h.(Finder); ok && d.Attrs.Has("name") && !strings.Contains(id, "/") && !strings.HasPrefix(id, "arn:") {
		look := Attrs{}
		for k, v := range d.Attrs {
			switch v.(type) {
			case string, bool, int64:
				look[k] = v
			}
		}
		look["name"] = id
		fid, actual, found, err := f.Find(ctx, look)
		if err != nil || found {
			return actual, fid, found, err
		}
	}
	actual, found, err := h.Read(ctx, id, nil)
	return actual, id, found, err
}
