package planner

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/evdeploy/evdeploy/state"
)

// PlanFileFormat identifies a saved plan file.
const PlanFileFormat = "evdeploy-plan"

// PlanFile is a saved plan (`plan -out FILE`): the plan, bound to the state it
// was made against (lineage and serial, inside Plan) and to a hash of its
// inputs (spec files, variables, stage, target) that the caller computes.
type PlanFile struct {
	Plan     *Plan
	SpecHash string
	Created  time.Time
}

type planFileJSON struct {
	Format   string    `json:"format"`
	SpecHash string    `json:"spec_hash"`
	Created  time.Time `json:"created"`
	Plan     jsonPlan  `json:"plan"`
}

// ErrStalePlan is wrapped by CheckFresh when a saved plan no longer applies.
var ErrStalePlan = errors.New("saved plan is stale")

// SavePlanFile writes p to path (mode 0600: plans carry attribute values),
// replacing the file atomically.
//
// With a sealer (the app's state_encryption), the file is encrypted as state
// is: a plan carries the same names and values.
func SavePlanFile(path string, p *Plan, specHash string, sealer ...state.Sealer) error {
	doc := planFileJSON{Format: PlanFileFormat, SpecHash: specHash, Created: time.Now().UTC().Truncate(time.Second), Plan: toJSONPlan(p)}
	var buf bytes.Buffer
	enc := newIndentEncoder(&buf)
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("saving plan: %w", err)
	}
	if len(sealer) > 0 && sealer[0] != nil {
		sealed, err := sealer[0].Seal(buf.Bytes())
		if err != nil {
			return fmt.Errorf("saving plan: %w", err)
		}
		buf.Reset()
		buf.Write(sealed)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("saving plan: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("saving plan: %w", err)
	}
	if _, err := tmp.Write(buf.Bytes()); err != nil {
		tmp.Close()
		return fmt.Errorf("saving plan: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("saving plan: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("saving plan: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("saving plan: %w", err)
	}
	return nil
}

// LoadPlanFile reads a plan saved by SavePlanFile.
func LoadPlanFile(path string, sealer ...state.Sealer) (*PlanFile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading saved plan: %w", err)
	}
	if state.IsSealed(b) {
		if len(sealer) == 0 || sealer[0] == nil {
			return nil, fmt.Errorf("%s: %w", path, state.ErrEncrypted)
		}
		if b, err = sealer[0].Open(b); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	var doc planFileJSON
	if err := decodeJSON(bytes.NewReader(b), &doc); err != nil {
		return nil, fmt.Errorf("%s: not a saved evdeploy plan: %w", path, err)
	}
	if doc.Format != PlanFileFormat {
		return nil, fmt.Errorf("%s: not a saved evdeploy plan (format %q)", path, doc.Format)
	}
	p, err := fromJSONPlan(doc.Plan)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &PlanFile{Plan: p, SpecHash: doc.SpecHash, Created: doc.Created}, nil
}

// CheckFresh refuses a saved plan that no longer describes what apply would
// do: the state was replaced (lineage) or changed (serial) since, or the spec,
// variables, stage or target changed (specHash).
func (pf *PlanFile) CheckFresh(doc *state.Document, specHash string) error {
	var lineage string
	var serial uint64
	if doc != nil {
		lineage, serial = doc.Lineage, doc.Serial
	}
	p := pf.Plan
	switch {
	case lineage != p.StateLineage:
		return fmt.Errorf("%w: it was made against a different state (lineage %q, now %q); run plan again", ErrStalePlan, p.StateLineage, lineage)
	case serial != p.StateSerial:
		return fmt.Errorf("%w: the state changed since it was made (serial %d, now %d); run plan again", ErrStalePlan, p.StateSerial, serial)
	case specHash != pf.SpecHash:
		return fmt.Errorf("%w: the spec, variables, stage, target, code or what it read from other apps and existing resources changed since it was made; run plan again", ErrStalePlan)
	}
	return nil
}

// SameChanges reports how b differs from a in what apply would do: actions,
// changed attributes, new values, data loss, adoption. Apply of a saved plan
// re-plans and refuses when the recomputed plan is not the saved one (the
// world drifted between plan and apply). nil when they agree.
func SameChanges(a, b *Plan) error {
	ca, cb := map[string]*Change{}, map[string]*Change{}
	var addrs []string
	for _, c := range a.Changes {
		ca[c.Addr.String()] = c
		addrs = append(addrs, c.Addr.String())
	}
	for _, c := range b.Changes {
		if _, ok := ca[c.Addr.String()]; !ok {
			addrs = append(addrs, c.Addr.String())
		}
		cb[c.Addr.String()] = c
	}
	sort.Strings(addrs)
	var diffs []string
	if a.Destroy != b.Destroy {
		diffs = append(diffs, fmt.Sprintf("destroy plan in saved plan: %t, now: %t", a.Destroy, b.Destroy))
	}
	for _, addr := range addrs {
		x, y := ca[addr], cb[addr]
		if d := changeDiff(x, y); d != "" {
			diffs = append(diffs, addr+": "+d)
		}
	}
	if !equalStrings(a.ForgetIntents, b.ForgetIntents) {
		diffs = append(diffs, fmt.Sprintf("journal entries to clear: %v, now %v", a.ForgetIntents, b.ForgetIntents))
	}
	if len(diffs) == 0 {
		return nil
	}
	return &changesDiffer{diffs: diffs}
}

// changesDiffer is SameChanges' error: it is an ErrStalePlan, but its text does
// not repeat "saved plan is stale" (callers add their own context).
type changesDiffer struct{ diffs []string }

func (e *changesDiffer) Error() string {
	return "what apply would do now differs from the saved plan:\n  " + strings.Join(e.diffs, "\n  ")
}

func (e *changesDiffer) Is(target error) bool { return target == ErrStalePlan }

func actionOf(c *Change) Action {
	if c == nil {
		return NoOp
	}
	return c.Action
}

func changeDiff(x, y *Change) string {
	ax, ay := actionOf(x), actionOf(y)
	if ax != ay {
		return fmt.Sprintf("saved plan: %s, now: %s", ax, ay)
	}
	if x == nil || y == nil || ax == NoOp && !x.Adopted && !y.Adopted {
		return ""
	}
	switch {
	case x.Adopted != y.Adopted:
		return fmt.Sprintf("adopted in saved plan: %t, now: %t", x.Adopted, y.Adopted)
	case x.DataLoss != y.DataLoss:
		return fmt.Sprintf("data loss in saved plan: %t, now: %t", x.DataLoss, y.DataLoss)
	case !equalStrings(x.Changed, y.Changed):
		return fmt.Sprintf("changed attributes in saved plan: %v, now: %v", x.Changed, y.Changed)
	case ax != Create && x.ID != y.ID:
		return fmt.Sprintf("physical id in saved plan: %q, now: %q", x.ID, y.ID)
	}
	for _, k := range unionKeys(x.After, y.After) {
		if !Equal(x.After[k], y.After[k]) {
			return fmt.Sprintf("%s in saved plan: %s, now: %s", k, formatValue(x.After[k], 60), formatValue(y.After[k], 60))
		}
	}
	return ""
}

func unionKeys(a, b Attrs) []string {
	m := map[string]bool{}
	for k := range a {
		m[k] = true
	}
	for k := range b {
		m[k] = true
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
