// Command gofn is a test fixture: a Go function that is its own module.
package main

import (
	"fmt"

	"example.com/gofn/internal/greet"
)

func main() { fmt.Println(greet.Hello("lambda")) }
