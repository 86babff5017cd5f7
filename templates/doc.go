// Package templates embeds the project scaffolds that `evdeploy init` writes, one
// folder per event-driven pattern, each a complete, deployable project with Go
// handlers and their tests.
//
// templates imports no other evdeploy package.
package templates
