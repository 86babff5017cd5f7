// Package spec loads an evdeploy project — a folder of *.evd.hcl files — into a
// typed, validated App, and reports every problem as an hcl.Diagnostic that names
// file:line:col.
//
// Loading runs in phases (load.go): parse every file; decode variables and
// settle their values (variables.go); declare every block, so references
// resolve in any order and duplicates are caught; order and evaluate locals;
// decode each block kind from its own file (function.go, queue.go, trigger.go
// …) into the typed structs of types.go, keeping DeclRange; then run the checks
// that span blocks (validate.go: creation-order cycles, trigger/source
// compatibility, overlapping S3 notifications, duplicate routes and mappings).
// References are checked where they are decoded (decode.go), so each error
// points at the reference itself. Expressions that read block attributes known
// only after deploy are kept and evaluated later with App.Eval (eval.go).
//
// spec knows nothing about AWS APIs or deployed state: it imports hcl/v2,
// go-cty and levenshtein (hcl's own suggestion metric), never another evdeploy
// package.
package spec
