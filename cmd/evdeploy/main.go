// Command evdeploy deploys event-driven serverless applications described in HCL.
package main

import (
	"os"
)

func main() {
	stop := startProfiles()
	code := run(os.Args[1:], defaultIOStreams())
	stop()
	os.Exit(code)
}
