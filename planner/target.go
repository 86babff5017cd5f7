package planner

import (
	"fmt"
	"sort"
	"strings"
)

// TargetBlocks narrows a plan to the named spec blocks and everything they
// depend on (--target-block). Changes of other blocks are dropped, so applying
// the result leaves them as they are; the caller warns that the plan is partial.
// An address that names no block in the plan is an error listing the known
// blocks.
func TargetBlocks(p *Plan, blocks []string) (*Plan, error) {
	if len(blocks) == 0 {
		return p, nil
	}
	byAddr := map[string]*Change{}
	known := map[string]bool{}
	for _, c := range p.Changes {
		byAddr[c.Addr.String()] = c
		known[c.Block] = true
	}
	keep := map[string]bool{}
	var queue []string
	for _, b := range blocks {
		if !known[b] {
			var all []string
			for k := range known {
				all = append(all, k)
			}
			sort.Strings(all)
			return nil, fmt.Errorf("--target-block %s: no such block in this plan (blocks: %s)", b, strings.Join(all, ", "))
		}
		for _, c := range p.Changes {
			if c.Block == b && !keep[c.Addr.String()] {
				keep[c.Addr.String()] = true
				queue = append(queue, c.Addr.String())
			}
		}
	}
	// Follow dependencies: a targeted function needs its role and policy.
	for len(queue) > 0 {
		a := queue[0]
		queue = queue[1:]
		c := byAddr[a]
		if c == nil || c.Action == Delete {
			continue
		}
		for _, d := range c.Deps {
			if !keep[d] {
				keep[d] = true
				queue = append(queue, d)
			}
		}
	}
	out := *p
	out.Changes = nil
	for _, c := range p.Changes {
		if keep[c.Addr.String()] {
			out.Changes = append(out.Changes, c)
		}
	}
	out.ForgetIntents = nil
	return &out, nil
}
