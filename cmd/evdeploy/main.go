// Command evdeploy deploys event-driven serverless applications described in HCL.
package main

import (
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], defaultIOStreams()))
}
