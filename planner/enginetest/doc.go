// Package enginetest drives the planner with the real AWS handlers against the
// kumo emulator: the engine's end-to-end check below the CLI. It is test-only,
// and separate from package planner so that planner's unit tests (run again
// with -race in make test) do not link the emulator.
package enginetest
