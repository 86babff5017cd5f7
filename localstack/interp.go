package localstack

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Python and Node functions run on the host's interpreter through a small
// runtime loop (the part of AWS's runtime interface clients that a handler
// needs): poll next, call the handler, post the response or error. The host's
// interpreter version is used whatever the function's runtime says, and the
// handler's dependencies must be in its package or installed on the host.

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

const nodeLoop = `const http = require("http");
const fs = require("fs");
const path = require("path");
const { pathToFileURL } = require("url");

const [hostport, ...prefix] = process.env.AWS_LAMBDA_RUNTIME_API.split("/");
const [host, port] = hostport.split(":");
const base = "/" + prefix.join("/") + "/2018-06-01/runtime";

function call(method, p, body) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host, port, path: base + p, method, headers: { "Content-Type": "application/json" } }, (res) => {
      let data = "";
      res.setEncoding("utf8");
      res.on("data", (c) => (data += c));
      res.on("end", () => resolve({ headers: res.headers, body: data }));
    });
    req.on("error", reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

const failure = (e) => JSON.stringify({ errorMessage: String((e && e.message) || e), errorType: (e && e.name) || "Error" });

(async () => {
  const h = process.env._HANDLER;
  const i = h.lastIndexOf(".");
  const root = process.env.LAMBDA_TASK_ROOT;
  let handler;
  try {
    const file = [".js", ".mjs", ".cjs"].map((ext) => path.join(root, h.slice(0, i) + ext)).find((f) => fs.existsSync(f));
    if (!file) throw new Error("no " + h.slice(0, i) + ".js/.mjs/.cjs in the package");
    const mod = await import(pathToFileURL(file).href);
    handler = mod[h.slice(i + 1)] || (mod.default && mod.default[h.slice(i + 1)]);
    if (typeof handler !== "function") throw new Error(h + " is not a function");
  } catch (e) {
    console.error(e);
    await call("POST", "/init/error", failure(e));
    process.exit(1);
  }
  for (;;) {
    const next = await call("GET", "/invocation/next");
    const id = next.headers["lambda-runtime-aws-request-id"];
    const deadline = Number(next.headers["lambda-runtime-deadline-ms"] || 0);
    const context = {
      awsRequestId: id,
      invokedFunctionArn: next.headers["lambda-runtime-invoked-function-arn"],
      functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
      functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
      memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
      logGroupName: "/aws/lambda/" + process.env.AWS_LAMBDA_FUNCTION_NAME,
      logStreamName: "local",
      callbackWaitsForEmptyEventLoop: true,
      getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    };
    try {
      const result = await new Promise((resolve, reject) => {
        const r = handler(JSON.parse(next.body || "null"), context, (err, v) => (err ? reject(err) : resolve(v)));
        if (r && typeof r.then === "function") r.then(resolve, reject);
        else if (handler.length < 3) resolve(r);
      });
      await call("POST", "/invocation/" + id + "/response", JSON.stringify(result === undefined ? null : result));
    } catch (e) {
      console.error(e);
      await call("POST", "/invocation/" + id + "/error", failure(e));
    }
  }
})();
`

// interpreted returns the command that runs an interpreted runtime's handler
// (the loop script is written into root once), or why it cannot run here.
func interpreted(runtime, root string) ([]string, string) {
	var interp, script, file string
	switch {
	case strings.HasPrefix(runtime, "python3"):
		// Prefer the exact version (python3.12) if it really runs (a version
		// manager's shim may exist and refuse), else any python3.
		interp, script, file = "python3", pythonLoop, "python-runtime.py"
		if p, err := exec.LookPath(runtime); err == nil && works(p) {
			interp = runtime
		}
	case strings.HasPrefix(runtime, "nodejs"):
		interp, script, file = "node", nodeLoop, "node-runtime.js"
	default:
		return nil, ""
	}
	path, err := exec.LookPath(interp)
	if err == nil && !works(path) {
		err = fmt.Errorf("%s does not run", path)
	}
	if err != nil {
		return nil, fmt.Sprintf("runtime %s needs %s on this machine's PATH", runtime, interp)
	}
	loop := filepath.Join(root, file)
	if _, err := os.Stat(loop); err != nil {
		if err := os.WriteFile(loop, []byte(script), 0o644); err != nil {
			return nil, err.Error()
		}
	}
	if strings.HasPrefix(runtime, "python") {
		return []string{path, "-u", loop}, ""
	}
	return []string{path, loop}, ""
}

var interpWorks sync.Map // path → bool

// works reports whether the interpreter at path starts (checked once).
func works(path string) bool {
	if v, ok := interpWorks.Load(path); ok {
		return v.(bool)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ok := exec.CommandContext(ctx, path, "--version").Run() == nil
	interpWorks.Store(path, ok)
	return ok
}
