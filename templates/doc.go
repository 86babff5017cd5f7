// Package templates embeds the project scaffolds that `evdeploy init` writes, one
// folder per event-driven pattern, each a complete, deployable project with Go
// handlers and their tests.
//
// The template folders are also packages of this module, so `go vet ./...` and
// `go test ./...` cover every handler; this package's tests keep each
// template's go.mod/go.sum in step with the root module, build a scaffold as a
// module of its own, and run every function binary against the kumo emulator.
//
// templates imports no other evdeploy package.
package templates
