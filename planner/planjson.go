package planner

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
)

// PlanFormatVersion is the version of the JSON plan document (docs/plan-json.md).
// The major number changes only when a field is removed or changes meaning.
const PlanFormatVersion = "1.1"

// jsonPlan is the documented JSON form of a Plan (docs/plan-json.md). Saved
// plans embed the same document, so what `plan --json` shows is exactly what a
// saved plan holds.
type jsonPlan struct {
	FormatVersion string        `json:"format_version"`
	State         jsonStateRef  `json:"state"`
	Refreshed     bool          `json:"refreshed"`
	Destroy       bool          `json:"destroy"`
	HasChanges    bool          `json:"has_changes"`
	Summary       jsonSummary   `json:"summary"`
	Changes       []jsonChange  `json:"changes"`
	OutputChanges []jsonOutput  `json:"output_changes"`
	ForgetIntents []string      `json:"forget_intents"`
	Blocks        []jsonBlock   `json:"blocks"`
	DataLoss      []jsonAddress `json:"data_loss"`
	// Upstream is added in 1.1.
	Upstream []jsonUpstream `json:"upstream_changes"`
}

type jsonOutput struct {
	Name         string `json:"name"`
	Action       string `json:"action"`
	Symbol       string `json:"symbol"`
	Before       any    `json:"before"`
	After        any    `json:"after"`
	AfterUnknown bool   `json:"after_unknown"`
	Sensitive    bool   `json:"sensitive"`
}

type jsonStateRef struct {
	Lineage string `json:"lineage"`
	Serial  uint64 `json:"serial"`
}

type jsonSummary struct {
	Add      int `json:"add"`
	Change   int `json:"change"`
	Replace  int `json:"replace"`
	Destroy  int `json:"destroy"`
	Adopt    int `json:"adopt"`
	DataLoss int `json:"data_loss"`
}

type jsonAddress struct {
	Address string `json:"address"`
	Action  string `json:"action"`
}

type jsonBlock struct {
	Block   string   `json:"block"`
	Action  string   `json:"action"`
	Symbol  string   `json:"symbol"`
	Changed []string `json:"changed"`
}

type jsonChange struct {
	Address        string         `json:"address"`
	Block          string         `json:"block"`
	Type           string         `json:"type"`
	Name           string         `json:"name"`
	PhysicalName   string         `json:"physical_name,omitempty"`
	ID             string         `json:"id,omitempty"`
	Action         string         `json:"action"`
	Symbol         string         `json:"symbol"`
	Before         map[string]any `json:"before"`
	After          map[string]any `json:"after"`
	AfterUnknown   [][]any        `json:"after_unknown"`
	Changed        []string       `json:"changed"`
	ReplaceBecause []string       `json:"replace_because"`
	DataLoss       bool           `json:"data_loss"`
	Missing        bool           `json:"missing"`
	Adopted        bool           `json:"adopted"`
	Journaled      bool           `json:"journaled"`
	Deps           []string       `json:"deps"`
	PriorDeps      []string       `json:"prior_deps"`
	Reason         string         `json:"reason,omitempty"`
	// Sensitive names the attributes shown as "(sensitive)" in plan --json
	// (a saved plan keeps their values).
	Sensitive []string `json:"sensitive,omitempty"`
	// Release is a live alias's release: versions and each step.
	Release *ReleasePlan `json:"release,omitempty"`
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func toJSONPlan(p *Plan) jsonPlan {
	s := p.Summary()
	out := jsonPlan{
		FormatVersion: PlanFormatVersion,
		State:         jsonStateRef{Lineage: p.StateLineage, Serial: p.StateSerial},
		Refreshed:     p.Refreshed,
		Destroy:       p.Destroy,
		HasChanges:    p.HasChanges(),
		Summary:       jsonSummary{Add: s.Add, Change: s.Change, Replace: s.Replace, Destroy: s.Destroy, Adopt: s.Adopt, DataLoss: s.DataLoss},
		Changes:       []jsonChange{},
		OutputChanges: []jsonOutput{},
		ForgetIntents: nonNil(p.ForgetIntents),
		Blocks:        []jsonBlock{},
		DataLoss:      []jsonAddress{},
		Upstream:      toJSONUpstream(p.Upstream),
	}
	for _, c := range p.Changes {
		jc := jsonChange{
			Address: c.Addr.String(), Block: c.Block, Type: c.Addr.Type, Name: c.Addr.Name,
			PhysicalName: c.Name, ID: c.ID, Action: c.Action.String(), Symbol: c.Action.Symbol(),
			Changed: nonNil(c.Changed), ReplaceBecause: nonNil(c.ReplaceBecause),
			DataLoss: c.DataLoss, Missing: c.Missing, Adopted: c.Adopted, Journaled: c.Journaled,
			Deps: nonNil(c.Deps), PriorDeps: nonNil(c.PriorDeps), Reason: c.Reason,
			AfterUnknown: [][]any{}, Sensitive: c.Sensitive, Release: Release(c),
		}
		if c.Before != nil {
			jc.Before = map[string]any(c.Before)
		}
		if c.After != nil {
			after, unknown := splitUnknown(map[string]any(c.After), nil)
			jc.After = after.(map[string]any)
			jc.AfterUnknown = append(jc.AfterUnknown, unknown...)
		}
		out.Changes = append(out.Changes, jc)
		if c.DataLoss {
			out.DataLoss = append(out.DataLoss, jsonAddress{Address: c.Addr.String(), Action: c.Action.String()})
		}
	}
	for _, o := range p.Outputs {
		jo := jsonOutput{Name: o.Name, Action: o.Action.String(), Symbol: o.Action.Symbol(), Sensitive: o.Sensitive}
		if !o.Sensitive { // sensitive values never leave the process
			jo.Before = o.Before
			if IsUnknown(o.After) {
				jo.AfterUnknown = true
			} else {
				jo.After = o.After
			}
		}
		out.OutputChanges = append(out.OutputChanges, jo)
	}
	for _, b := range blockSummaries(p) {
		out.Blocks = append(out.Blocks, jsonBlock{Block: b.Block, Action: b.Action.String(), Symbol: b.Action.Symbol(), Changed: nonNil(b.Attrs)})
	}
	return out
}

// splitUnknown replaces every Unknown in v with null and returns the paths
// (keys and list indexes) where they were, in sorted key order.
func splitUnknown(v any, path []any) (any, [][]any) {
	switch x := v.(type) {
	case Unknown:
		return nil, [][]any{append([]any(nil), path...)}
	case map[string]any:
		out := make(map[string]any, len(x))
		var unk [][]any
		for _, k := range sortedKeys(x) {
			val, u := splitUnknown(x[k], append(path, k))
			out[k] = val
			unk = append(unk, u...)
		}
		return out, unk
	case Attrs:
		return splitUnknown(map[string]any(x), path)
	case []any:
		out := make([]any, len(x))
		var unk [][]any
		for i, e := range x {
			val, u := splitUnknown(e, append(path, i))
			out[i] = val
			unk = append(unk, u...)
		}
		return out, unk
	}
	return v, nil
}

// markUnknown puts Unknown back at path inside v.
func markUnknown(v any, path []any) (any, error) {
	if len(path) == 0 {
		return Unknown{}, nil
	}
	switch step := path[0].(type) {
	case string:
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("after_unknown path: %q is not inside an object", step)
		}
		r, err := markUnknown(m[step], path[1:])
		if err != nil {
			return nil, err
		}
		m[step] = r
		return m, nil
	case int64:
		l, ok := v.([]any)
		if !ok || step < 0 || int(step) >= len(l) {
			return nil, fmt.Errorf("after_unknown path: index %d is not inside a list", step)
		}
		r, err := markUnknown(l[step], path[1:])
		if err != nil {
			return nil, err
		}
		l[step] = r
		return l, nil
	}
	return nil, fmt.Errorf("after_unknown path: bad step %v", path[0])
}

func fromJSONPlan(jp jsonPlan) (*Plan, error) {
	if major(jp.FormatVersion) != major(PlanFormatVersion) {
		return nil, fmt.Errorf("plan format %q is not supported (this evdeploy reads %s)", jp.FormatVersion, PlanFormatVersion)
	}
	p := &Plan{StateSerial: jp.State.Serial, StateLineage: jp.State.Lineage, Refreshed: jp.Refreshed, Destroy: jp.Destroy}
	if len(jp.ForgetIntents) > 0 {
		p.ForgetIntents = jp.ForgetIntents
	}
	p.Upstream = fromJSONUpstream(jp.Upstream)
	for _, jc := range jp.Changes {
		addr, err := ParseResourceAddr(jc.Address)
		if err != nil {
			return nil, err
		}
		act, err := ParseAction(jc.Action)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", jc.Address, err)
		}
		c := &Change{Addr: addr, Block: jc.Block, Action: act, Name: jc.PhysicalName, ID: jc.ID,
			Changed: emptyNil(jc.Changed), ReplaceBecause: emptyNil(jc.ReplaceBecause), DataLoss: jc.DataLoss,
			Missing: jc.Missing, Adopted: jc.Adopted, Journaled: jc.Journaled,
			Deps: emptyNil(jc.Deps), PriorDeps: emptyNil(jc.PriorDeps), Reason: jc.Reason, Sensitive: jc.Sensitive}
		if jc.Before != nil {
			c.Before = Attrs(jc.Before).Norm()
		}
		if jc.After != nil {
			after := map[string]any(Attrs(jc.After).Norm())
			for _, path := range jc.AfterUnknown {
				if len(path) == 0 {
					return nil, fmt.Errorf("%s: after_unknown: empty path", jc.Address)
				}
				np := make([]any, len(path))
				for i, s := range path {
					np[i] = Norm(s)
				}
				v, err := markUnknown(after, np)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", jc.Address, err)
				}
				after = v.(map[string]any)
			}
			c.After = Attrs(after)
		}
		p.Changes = append(p.Changes, c)
	}
	for _, jo := range jp.OutputChanges {
		act, err := ParseAction(jo.Action)
		if err != nil {
			return nil, fmt.Errorf("output %s: %w", jo.Name, err)
		}
		o := &OutputChange{Name: jo.Name, Action: act, Sensitive: jo.Sensitive}
		if jo.Before != nil {
			o.Before = Norm(jo.Before)
		}
		if jo.After != nil {
			o.After = Norm(jo.After)
		}
		if jo.AfterUnknown {
			o.After = Unknown{}
		}
		p.Outputs = append(p.Outputs, o)
	}
	return p, nil
}

func emptyNil(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}

func major(v string) string {
	if i := bytes.IndexByte([]byte(v), '.'); i >= 0 {
		return v[:i]
	}
	return v
}

// RenderJSON writes the plan as the JSON document described in
// docs/plan-json.md (indented, keys in a fixed order, map keys sorted).
func RenderJSON(w io.Writer, p *Plan) error {
	return newIndentEncoder(w).Encode(toJSONPlan(masked(p)))
}

func newIndentEncoder(w io.Writer) *json.Encoder {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false) // policies and patterns stay readable
	return enc
}

// decodeJSON decodes with numbers kept exact (then normalised to int64).
func decodeJSON(r io.Reader, v any) error {
	dec := json.NewDecoder(r)
	dec.UseNumber()
	return dec.Decode(v)
}

// blockSummary is one spec block's aggregated change (the default plan view).
type blockSummary struct {
	Block   string
	Action  Action
	Attrs   []string // changed attribute names, sorted, deduplicated
	Changes []*Change
}

// blockSummaries groups the plan's changes by spec block, in block address
// order, skipping blocks with nothing to do. A block is '+' when all its
// resources are created, '-' when all are deleted, '±' when one is replaced,
// '~' otherwise.
func blockSummaries(p *Plan) []blockSummary {
	by := map[string][]*Change{}
	var blocks []string
	for _, c := range p.Changes {
		if _, ok := by[c.Block]; !ok {
			blocks = append(blocks, c.Block)
		}
		by[c.Block] = append(by[c.Block], c)
	}
	sort.Strings(blocks)
	var out []blockSummary
	for _, b := range blocks {
		cs := by[b]
		var creates, deletes, replaces, active int
		attrs := map[string]bool{}
		for _, c := range cs {
			switch c.Action {
			case Create:
				creates++
			case Delete:
				deletes++
			case Replace:
				replaces++
			}
			if c.Action != NoOp || c.Adopted {
				active++
			}
			for _, a := range c.Changed {
				attrs[a] = true
			}
		}
		if active == 0 {
			continue
		}
		act := Update
		switch {
		case creates == len(cs):
			act = Create
		case deletes == len(cs):
			act = Delete
		case replaces > 0:
			act = Replace
		}
		names := make([]string, 0, len(attrs))
		for a := range attrs {
			names = append(names, a)
		}
		sort.Strings(names)
		out = append(out, blockSummary{Block: b, Action: act, Attrs: names, Changes: cs})
	}
	return out
}
