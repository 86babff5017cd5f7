// Package spec loads an evdeploy project — a folder of *.evd.hcl files — into a
// typed, validated App, and reports every problem as an hcl.Diagnostic that names
// file:line:col.
//
// Loading runs in phases (variables, then locals, then blocks) so that every
// diagnostic can point at the exact source range. Cross-block checks (duplicate
// names, reference kinds, cycles, overlapping S3 filters) live in validate.go.
//
// spec knows nothing about AWS APIs or deployed state: it imports only hcl/v2
// and go-cty, never another evdeploy package.
package spec
