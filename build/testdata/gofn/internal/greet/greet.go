// Package greet is a local dependency of the fixture's main package.
package greet

// Hello greets name.
func Hello(name string) string { return "hello, " + name }
