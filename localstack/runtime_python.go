package localstack

import "strings"

// Python functions run on the host's interpreter through a small runtime
// loop (the part of AWS's runtime interface client that a handler needs):
// poll next, call the handler, post the response or error. The loop shapes
// the errors the invoke returns.

type pythonRuntime struct{}

func (pythonRuntime) matches(runtime string) bool { return strings.HasPrefix(runtime, "python3") }

// launch prefers the exact version (python3.12) if it really runs (a version
// manager's shim may exist and refuse), else any python3.
func (pythonRuntime) launch(conf lambdaConf, dir, root string) ([]string, string) {
	interp := "python3"
	if _, ok := lookInterpreter(conf.Runtime); ok {
		interp = conf.Runtime
	}
	path, why := interpreterFor(conf.Runtime, interp)
	if path == "" {
		return nil, why
	}
	loop, err := writeLoop(root, "python-runtime.py", pythonLoop)
	if err != nil {
		return nil, err.Error()
	}
	return []string{path, "-u", loop}, ""
}

const pythonLoop = `import importlib, json, os, sys, time, traceback, urllib.request

api = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2018-06-01/runtime"
sys.path.insert(0, os.environ["LAMBDA_TASK_ROOT"])


def post(path, body):
    req = urllib.request.Request(api + path, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    urllib.request.urlopen(req).read()


def failure(e):
    return {"errorMessage": str(e), "errorType": type(e).__name__,
            "stackTrace": traceback.format_exc().splitlines()}


class Context:
    def __init__(self, rid, deadline, arn):
        self.aws_request_id = rid
        self.invoked_function_arn = arn
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        self.log_group_name = "/aws/lambda/" + self.function_name
        self.log_stream_name = "local"
        self._deadline = deadline

    def get_remaining_time_in_millis(self):
        return max(0, self._deadline - int(time.time() * 1000))


module, _, name = os.environ["_HANDLER"].rpartition(".")
try:
    handler = getattr(importlib.import_module(module.replace("/", ".")), name)
except Exception as e:
    traceback.print_exc()
    post("/init/error", failure(e))
    sys.exit(1)

while True:
    with urllib.request.urlopen(api + "/invocation/next") as r:
        rid = r.headers["Lambda-Runtime-Aws-Request-Id"]
        ctx = Context(rid, int(r.headers.get("Lambda-Runtime-Deadline-Ms") or 0),
                      r.headers.get("Lambda-Runtime-Invoked-Function-Arn", ""))
        event = json.loads(r.read() or b"null")
    try:
        result = handler(event, ctx)
    except Exception as e:
        traceback.print_exc()
        post("/invocation/" + rid + "/error", failure(e))
        continue
    post("/invocation/" + rid + "/response", result)
`
