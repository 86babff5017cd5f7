package state

import "time"

// FormatVersion is the version of the state document this package writes.
const FormatVersion = 1

// Document is the recorded state of one app and stage.
type Document struct {
	Version int    `json:"version"`
	Serial  uint64 `json:"serial"`  // incremented on every write
	Lineage string `json:"lineage"` // random id fixed when the document is first created
	App     string `json:"app"`
	Stage   string `json:"stage"`
	// Target identifies where the resources live (e.g. "aws:123456789012:us-east-1"
	// or "local:http://127.0.0.1:4566"), so a plan against the wrong account
	// refuses instead of planning to recreate everything.
	Target string `json:"target,omitempty"`

	Resources []Resource        `json:"resources"` // sorted by Addr
	Journal   []Intent          `json:"journal,omitempty"`
	Outputs   map[string]Output `json:"outputs,omitempty"`
	// Inputs are the other apps' output values this app read at its last
	// apply (app_outputs.<app>.<output> → the value as JSON), so a plan can
	// say which upstream outputs changed since.
	Inputs map[string]string `json:"inputs,omitempty"`
}

// Resource is one deployed provider resource.
type Resource struct {
	Addr  string         `json:"addr"`  // planner.ResourceAddr.String()
	Block string         `json:"block"` // spec block address, e.g. "function.api"
	Type  string         `json:"type"`  // e.g. "aws_lambda_function"
	ID    string         `json:"id"`    // physical id
	Attrs map[string]any `json:"attrs"` // last applied + computed attributes
	// Deps are the addresses this resource depended on when applied, so a
	// destroy can run in reverse dependency order without the spec.
	Deps []string `json:"deps,omitempty"`
	// Sensitive names the attributes that hold a sensitive value (a function's
	// environment built from a sensitive variable): plans show them as
	// (sensitive). The values themselves are in Attrs, in clear.
	Sensitive []string `json:"sensitive,omitempty"`
}

// Intent is a journaled create: written before the API call, removed once the
// created resource is recorded. An intent left behind by a killed apply tells
// the next plan to look the resource up by its deterministic name and adopt it.
type Intent struct {
	Addr    string         `json:"addr"`
	Block   string         `json:"block"`
	Type    string         `json:"type"`
	Name    string         `json:"name"`            // deterministic physical name
	Attrs   map[string]any `json:"attrs,omitempty"` // desired attributes, for Finder lookups
	Deps    []string       `json:"deps,omitempty"`
	Started time.Time      `json:"started"`
}

// Output is a recorded output value.
type Output struct {
	Value     any  `json:"value"`
	Sensitive bool `json:"sensitive,omitempty"`
}
