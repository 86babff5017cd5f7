package planner

// UpstreamChange is one output of another app (read through app_outputs)
// whose value differs from the one this app read at its last apply: the
// plan's changes that read it follow from it.
type UpstreamChange struct {
	// Name is the reference, app_outputs.<block>.<output>.
	Name string
	// Before is the value read at the last apply, After the value read now
	// (decoded JSON values). Both are nil for a sensitive output.
	Before, After any
	// Sensitive marks an output the upstream app records as sensitive: its
	// values never appear in a plan.
	Sensitive bool
}

type jsonUpstream struct {
	Name      string `json:"name"`
	Before    any    `json:"before"`
	After     any    `json:"after"`
	Sensitive bool   `json:"sensitive"`
}

func toJSONUpstream(us []*UpstreamChange) []jsonUpstream {
	out := []jsonUpstream{}
	for _, u := range us {
		j := jsonUpstream{Name: u.Name, Sensitive: u.Sensitive}
		if !u.Sensitive {
			j.Before, j.After = u.Before, u.After
		}
		out = append(out, j)
	}
	return out
}

func fromJSONUpstream(js []jsonUpstream) []*UpstreamChange {
	var out []*UpstreamChange
	for _, j := range js {
		u := &UpstreamChange{Name: j.Name, Sensitive: j.Sensitive}
		if j.Before != nil {
			u.Before = Norm(j.Before)
		}
		if j.After != nil {
			u.After = Norm(j.After)
		}
		out = append(out, u)
	}
	return out
}
