// Package unused is in the fixture's module but not imported by main: editing
// it must not rebuild the function.
package unused

// Unused is not called.
func Unused() int { return 1 }
