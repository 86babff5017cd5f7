package planner

import (
	"context"
	"fmt"
	"sort"
	"strings"
)

// ClaimError lists planned creates whose names are already taken by
// something evdeploy did not make (a custom domain, a DNS record). It is
// found while planning, so nothing has been written.
type ClaimError struct {
	Claims []string // "<address>: <why>", sorted
}

func (e *ClaimError) Error() string {
	return fmt.Sprintf("already claimed outside this deployment; nothing was changed:\n  - %s",
		strings.Join(e.Claims, "\n  - "))
}

// Unwrap lets callers match it as a collision.
func (e *ClaimError) Unwrap() error { return ErrAlreadyExists }

// CheckClaims asks the handler of every planned create that implements
// Claimer whether its name is taken, so a plan stops before any write rather
// than an apply half-way. A create adopting a journaled resource is not
// checked (what it finds may be its own); nor is one whose identity is still
// unknown (it is checked by its Create).
func CheckClaims(ctx context.Context, plan *Plan, reg Registry) error {
	if plan == nil {
		return nil
	}
	var claims []string
	for _, c := range plan.Changes {
		if c.Action != Create || c.Journaled {
			continue
		}
		cl, ok := reg[c.Addr.Type].(Claimer)
		if !ok {
			continue
		}
		known := Attrs{}
		for k, v := range c.After {
			if !IsUnknown(v) {
				known[k] = v
			}
		}
		why, err := cl.Claimed(ctx, known)
		if err != nil {
			return fmt.Errorf("%s: checking whether its name is free: %w", c.Addr, err)
		}
		if why != "" {
			claims = append(claims, fmt.Sprintf("%s: %s", c.Addr, why))
		}
	}
	if len(claims) == 0 {
		return nil
	}
	sort.Strings(claims)
	return &ClaimError{Claims: claims}
}
