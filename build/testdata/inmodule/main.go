// Command inmodule is a test fixture: a Go function that is a package of the
// evdeploy module itself, like examples/shop/functions/api.
package main

import "os"

func main() { os.Stdout.WriteString("ok\n") }
