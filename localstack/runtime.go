package localstack

import "fmt"

// A lambdaRuntime is how the engine runs one family of Lambda runtimes: how
// its handler is launched (and, in its file, how its errors are shaped and
// how it is debugged). One file per family: runtime_provided.go (provided.*
// and go1.x), runtime_python.go, runtime_node.go. Process management is in
// process.go, log lines in loglines.go.
type lambdaRuntime interface {
	// matches reports whether this family runs the Lambda runtime id
	// (python3.12, nodejs20.x, provided.al2023…).
	matches(runtime string) bool
	// launch returns the command that runs conf's handler from dir (root
	// is the runner's scratch directory, where interpreted runtimes' loops
	// are written), or says why nothing can run it here. why with a
	// command is a note for the engine log (another interpreter version).
	launch(conf lambdaConf, dir, root string) (argv []string, why string)
	// debug returns the command that runs launch's argv under the runtime's
	// debugger, listening on 127.0.0.1:port (dev --debug, debug.go), or why
	// it cannot (the debugger is not installed).
	debug(conf lambdaConf, argv []string, port int) ([]string, error)
}

var lambdaRuntimes = []lambdaRuntime{providedRuntime{}, pythonRuntime{}, nodeRuntime{}}

// runtimeFor returns the family that runs runtime, or nil.
func runtimeFor(runtime string) lambdaRuntime {
	for _, rt := range lambdaRuntimes {
		if rt.matches(runtime) {
			return rt
		}
	}
	return nil
}

// launcher returns the command that runs conf's handler from dir (root holds
// the interpreted runtimes' loops), or says why nothing can run it here.
func launcher(conf lambdaConf, dir, root string) ([]string, string) {
	rt := runtimeFor(conf.Runtime)
	if rt == nil {
		return nil, fmt.Sprintf("runtime %s is not executed by the embedded engine (provided.*, python3.* and nodejs* are; use LocalStack to run it)", conf.Runtime)
	}
	return rt.launch(conf, dir, root)
}
