// Package main is a stand-in: spec checks only that a Go function's folder has
// Go code.
package main

func main() {}
