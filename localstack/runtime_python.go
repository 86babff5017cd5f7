package localstack

import (
	"fmt"
	"path/filepath"
	"strings"
)

// Python functions run on the host's interpreter through a small runtime
// loop, the part of AWS's runtime interface client (awslambdaric) that a
// handler sees: poll next, call the handler, post the response or error.
// Errors are shaped as awslambdaric shapes them: Runtime.ImportModuleError,
// Runtime.UserCodeSyntaxError and Runtime.HandlerNotFound at init; for a
// raised exception {errorMessage, errorType, requestId, stackTrace} with the
// frames from the handler's down (none of the loop's), and the "[ERROR] T: m"
// log line with its traceback as one log event. sys.exit is not caught: the
// process ends and the engine reports Runtime.ExitError, as Lambda does.

type pythonRuntime struct{}

func (pythonRuntime) matches(runtime string) bool { return strings.HasPrefix(runtime, "python3") }

// launch prefers the runtime's version (python3.12 on PATH if it really runs:
// a version manager's shim may exist and refuse; else pyenv's), else python3.
func (pythonRuntime) launch(conf lambdaConf, dir, root string) ([]string, string) {
	path, note := exactInterpreter(conf.Runtime), ""
	if path == "" {
		var why string
		if path, why = interpreterFor(conf.Runtime, "python3"); path == "" {
			return nil, why
		}
		note = takeInterpreterNote(conf.Runtime, path)
	}
	loop, err := writeLoop(root, "python-runtime.py", pythonLoop)
	if err != nil {
		return nil, err.Error()
	}
	argv := []string{path, "-u", loop}
	if sdk := pythonSDKDir(path, root); sdk != "" {
		argv = append(argv, sdk)
	}
	return argv, note
}

// pythonLoop writes log events that span lines (the [ERROR] block, logging
// records) as one frame on stdout, in the telemetry framing Lambda's runtimes
// use (type 0xa55a0003, length, µs timestamp, message); the engine splits
// everything else into lines (frameLogger).
const pythonLoop = `import importlib, json, logging, os, sys, time, traceback, urllib.request

_api = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2018-06-01/runtime"
sys.path.insert(0, os.environ["LAMBDA_TASK_ROOT"])
_roots = sorted({os.environ["LAMBDA_TASK_ROOT"].rstrip("/"), os.path.realpath(os.environ["LAMBDA_TASK_ROOT"])}, key=len, reverse=True)
# The AWS SDK the engine lends an interpreter without one (pysdk.go): last,
# as /var/runtime is behind the function's own folder on Lambda.
sys.path.extend(sys.argv[1:])
_out = sys.stdout.buffer


def _frame(msg):
    b = msg.encode("utf8")
    sys.stdout.flush()
    _out.write(b"\xa5\x5a\x00\x03" + len(b).to_bytes(4, "big") + (time.time_ns() // 1000).to_bytes(8, "big") + b)
    _out.flush()


def _post(path, body, error_type=None):
    headers = {"Content-Type": "application/json"}
    if error_type:
        headers["Lambda-Runtime-Function-Error-Type"] = error_type
    req = urllib.request.Request(_api + path, data=json.dumps(body).encode(), method="POST", headers=headers)
    urllib.request.urlopen(req).read()


def _task_path(s):
    # The function's folder as Lambda names it: /var/task, not the engine's.
    for r in _roots:
        s = s.replace(r + "/", "/var/task/")
    return s


class _TaskPaths:
    # What the handler prints (traceback.print_exc() too) names its folder
    # /var/task, as it would on Lambda.
    def __init__(self, stream):
        self._s = stream

    def write(self, t):
        return self._s.write(_task_path(t))

    def writelines(self, lines):
        self._s.writelines(_task_path(l) for l in lines)

    def __getattr__(self, name):
        return getattr(self._s, name)


sys.stdout, sys.stderr = _TaskPaths(sys.stdout), _TaskPaths(sys.stderr)


def _error(message, etype, trace, rid=""):
    return {"errorMessage": _task_path(message), "errorType": etype, "requestId": rid,
            "stackTrace": [_task_path(t) for t in trace or []]}


def _log_error(err):
    lines = ["[ERROR] " + err["errorType"] + ": " + err["errorMessage"] if err["errorMessage"] else "[ERROR] " + err["errorType"]]
    lines.append("Traceback (most recent call last):")
    for t in err["stackTrace"]:
        for l in t.splitlines():
            n = len(l) - len(l.lstrip(" "))
            lines.append("\u00a0" * n + l[n:])
    _frame("\n".join(lines))


def _user_frames(tb):
    # Drop this loop's own frames: the trace starts at the handler.
    frames = traceback.extract_tb(tb)
    me = os.path.abspath(__file__)
    while frames and os.path.abspath(frames[0].filename) == me:
        frames = frames[1:]
    return traceback.format_list([f for f in frames if not f.filename.startswith("<frozen importlib")])


_request_id = ""


class _Filter(logging.Filter):
    def filter(self, record):
        record.aws_request_id = _request_id
        return True


class _Handler(logging.Handler):
    def emit(self, record):
        _frame(_task_path(self.format(record).rstrip("\n")))


def _setup_logging():
    logging.Formatter.converter = time.gmtime
    h = _Handler()
    h.setFormatter(logging.Formatter("[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n", "%Y-%m-%dT%H:%M:%S"))
    h.addFilter(_Filter())
    logging.getLogger().addHandler(h)


class Context:
    def __init__(self, rid, deadline, arn):
        self.aws_request_id = rid
        self.invoked_function_arn = arn
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        self.log_group_name = "/aws/lambda/" + self.function_name
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", "local")
        self._deadline = deadline

    def get_remaining_time_in_millis(self):
        return max(0, self._deadline - int(time.time() * 1000))


def _load(handler):
    try:
        modname, fname = handler.rsplit(".", 1)
    except ValueError as e:
        return None, _error("Bad handler '{}': {}".format(handler, e), "Runtime.MalformedHandlerName", [])
    try:
        m = importlib.import_module(modname.replace("/", "."))
    except ImportError as e:
        return None, _error("Unable to import module '{}': {}".format(modname, e), "Runtime.ImportModuleError", [])
    except SyntaxError as e:
        trace = ['  File "%s" Line %s\n    %s' % (e.filename, e.lineno, e.text)]
        return None, _error("Syntax error in module '{}': {}".format(modname, e), "Runtime.UserCodeSyntaxError", trace)
    except Exception as e:
        return None, _error(str(e), type(e).__name__, _user_frames(sys.exc_info()[2]))
    try:
        return getattr(m, fname), None
    except AttributeError:
        return None, _error("Handler '{}' missing on module '{}'".format(fname, modname), "Runtime.HandlerNotFound", [])


_setup_logging()
_handler, _err = _load(os.environ["_HANDLER"])
if _err is not None:
    _log_error(_err)
    _post("/init/error", _err, _err["errorType"])
    sys.exit(1)

while True:
    with urllib.request.urlopen(_api + "/invocation/next") as r:
        _request_id = r.headers["Lambda-Runtime-Aws-Request-Id"]
        ctx = Context(_request_id, int(r.headers.get("Lambda-Runtime-Deadline-Ms") or 0),
                      r.headers.get("Lambda-Runtime-Invoked-Function-Arn", ""))
        event = json.loads(r.read() or b"null")
    err = None
    try:
        result = _handler(event, ctx)
    except Exception as e:
        err = _error(str(e), type(e).__name__, _user_frames(sys.exc_info()[2]), _request_id)
    if err is None:
        try:
            result = json.dumps(result)
        except Exception as e:
            err = _error("Unable to marshal response: " + str(e), "Runtime.MarshalError", [], _request_id)
    if err is not None:
        _log_error(err)
        _post("/invocation/" + _request_id + "/error", err, err["errorType"])
        continue
    req = urllib.request.Request(_api + "/invocation/" + _request_id + "/response", data=result.encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    urllib.request.urlopen(req).read()
`

// debug runs the loop under debugpy listening on port (the Debug Adapter
// Protocol VS Code's Python debugger attaches with): the interpreter's own
// debugpy, else one lent from another python3 on PATH (pydebugpy.go).
func (pythonRuntime) debug(_ lambdaConf, argv []string, port int) ([]string, error) {
	// The interpreter's own options (-u) stay before debugpy's, which
	// takes the script and its arguments after its own.
	i := 1
	for i < len(argv) && strings.HasPrefix(argv[i], "-") {
		i++
	}
	if i >= len(argv) {
		return nil, fmt.Errorf("no runtime loop in %q", argv)
	}
	lent, err := debugpyDir(argv[0], filepath.Dir(argv[i]))
	if err != nil {
		return nil, err
	}
	// Frozen stdlib modules (3.11+) hide their source from the debugger,
	// which warns on every start; older versions ignore the option.
	out := append(append([]string{}, argv[:i]...), "-Xfrozen_modules=off")
	if lent == "" {
		out = append(out, "-m", "debugpy")
	} else {
		out = append(out, "-c", debugpyShim, lent)
	}
	out = append(out, "--listen", debugAddr(port))
	return append(out, argv[i:]...), nil
}
