// Package bench holds whole-command benchmarks: the evdeploy binary against the
// kumo emulator at several app sizes, reporting each command's wall time and
// the API calls (reads, writes) it made. Run:
//
//	go test ./bench -run '^$' -bench Commands -benchtime 3x
//
// Results, with the command and the machine, go in BENCHMARKS.md. Nothing here
// is a timed assertion: `go test ./bench` only checks the harness.
package bench
