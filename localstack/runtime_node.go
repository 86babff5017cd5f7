package localstack

import "strings"

// Node.js functions run on the host's node through a small runtime loop, the
// part of AWS's runtime interface client (aws-lambda-nodejs-runtime-interface-
// client) that a handler sees: the handler is loaded as Lambda loads it
// (extensionless, .js as CommonJS unless package.json says "module", .mjs,
// .cjs), console is patched to write "time\trequestId\tLEVEL\tmessage" events
// (one event per call, however many lines), and errors are shaped as the
// client shapes them: Runtime.ImportModuleError, Runtime.UserCodeSyntaxError
// and Runtime.HandlerNotFound at init, {errorType, errorMessage, trace} for
// a thrown error with the "Invoke Error" log line; none of the loop's frames.
// process.exit ends the process and the engine reports Runtime.ExitError.

type nodeRuntime struct{}

func (nodeRuntime) matches(runtime string) bool { return strings.HasPrefix(runtime, "nodejs") }

func (nodeRuntime) launch(conf lambdaConf, dir, root string) ([]string, string) {
	path, note := exactInterpreter(conf.Runtime), ""
	if path == "" {
		var why string
		if path, why = interpreterFor(conf.Runtime, "node"); path == "" {
			return nil, why
		}
		note = takeInterpreterNote(conf.Runtime, path)
	}
	loop, err := writeLoop(root, "node-runtime.js", nodeLoop)
	if err != nil {
		return nil, err.Error()
	}
	return []string{path, loop}, note
}

const nodeLoop = `const http = require("http");
const fs = require("fs");
const path = require("path");
const util = require("util");
const { pathToFileURL } = require("url");

const [hostport, ...prefix] = process.env.AWS_LAMBDA_RUNTIME_API.split("/");
const [host, port] = hostport.split(":");
const base = "/" + prefix.join("/") + "/2018-06-01/runtime";
const self = __filename;

// The function's folder as Lambda names it (/var/task), in paths and file
// URLs; this loop's frames (in a stack a handler prints) as Lambda's runtime.
const roots = [...new Set([process.env.LAMBDA_TASK_ROOT, fs.realpathSync(process.env.LAMBDA_TASK_ROOT)])]
  .map((r) => r.replace(/\/+$/, "")).sort((a, b) => b.length - a.length);
const taskPath = (s) => roots.reduce((t, r) => t.split(pathToFileURL(r).href + "/").join("file:///var/task/").split(r + "/").join("/var/task/"),
  String(s).split(self).join("file:///var/runtime/index.mjs"));

let requestId = undefined;

// One log event per console call, framed as Lambda's runtimes frame them.
function frame(msg) {
  const b = Buffer.from(msg, "utf8");
  const h = Buffer.alloc(16);
  h.writeUInt32BE(0xa55a0003, 0);
  h.writeUInt32BE(b.length, 4);
  h.writeBigInt64BE(BigInt(Date.now()) * 1000n, 8);
  fs.writeSync(1, Buffer.concat([h, b]));
}
// What the handler writes to stdout and stderr itself names /var/task too.
for (const stream of [process.stdout, process.stderr]) {
  const write = stream.write.bind(stream);
  stream.write = (chunk, ...rest) => write(typeof chunk === "string" ? taskPath(chunk) : chunk, ...rest);
}
const levels = { log: "INFO", info: "INFO", warn: "WARN", error: "ERROR", debug: "DEBUG", trace: "TRACE" };
for (const [fn, level] of Object.entries(levels)) {
  console[fn] = (msg, ...params) => frame(new Date().toISOString() + "\t" + requestId + "\t" + level + "\t" + taskPath(util.format(msg, ...params)));
}

function call(method, p, body, errorType) {
  return new Promise((resolve, reject) => {
    const headers = { "Content-Type": "application/json" };
    if (errorType) headers["Lambda-Runtime-Function-Error-Type"] = errorType;
    const req = http.request({ host, port, path: base + p, method, headers }, (res) => {
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

// clean drops the loop's own lines from a stack or message, and names the
// function's folder as Lambda does.
const clean = (s) => taskPath(String(s).split("\n").filter((l) => !l.includes(self)).join("\n"));

class RuntimeError extends Error {
  constructor(name, message) {
    super(message);
    this.name = "Runtime." + name;
    this.stack = this.name + ": " + message;
  }
}

function rapid(e) {
  if (util.types.isNativeError(e) || (e && typeof e.name === "string" && typeof e.message === "string" && typeof e.stack === "string")) {
    return { errorType: e.name, errorMessage: clean(e.message), trace: clean(e.stack).split("\n") };
  }
  return { errorType: typeof e, errorMessage: String(e), trace: [] };
}

function formatted(e) {
  if (!(e instanceof Error)) e = new Error(e);
  const o = Object.assign({ errorType: e.name, errorMessage: clean(e.message), code: e.code }, e);
  o.stack = clean(e.stack).split("\n");
  return "\t" + taskPath(JSON.stringify(o));
}

function packageIsModule(dir) {
  for (;;) {
    if (dir.endsWith("/node_modules")) return false;
    const pj = path.join(dir, "package.json");
    if (fs.existsSync(pj)) {
      try { return JSON.parse(fs.readFileSync(pj)).type === "module"; } catch { return false; }
    }
    const up = path.resolve(dir, "..");
    if (up === dir) return false;
    dir = up;
  }
}

async function load(root, module) {
  const p = path.resolve(root, module);
  if (fs.existsSync(p)) return require(p);
  const isModule = fs.existsSync(p + ".js") && packageIsModule(path.dirname(p + ".js"));
  if (!isModule && fs.existsSync(p + ".js")) return require(p + ".js");
  if (isModule) return await import(pathToFileURL(p + ".js").href);
  if (fs.existsSync(p + ".mjs")) return await import(pathToFileURL(p + ".mjs").href);
  if (fs.existsSync(p + ".cjs")) return require(p + ".cjs");
  return require(require.resolve(module, { paths: [root] }));
}

async function handlerOf(full) {
  const root = process.env.LAMBDA_TASK_ROOT;
  const m = full.match(/^([^.]*)\.(.*)$/);
  if (!m) throw new RuntimeError("MalformedHandlerName", "Bad handler");
  let mod;
  try {
    mod = await load(root, m[1]);
  } catch (e) {
    if (e instanceof SyntaxError) throw new RuntimeError("UserCodeSyntaxError", clean(String(e)));
    if (e && e.code === "MODULE_NOT_FOUND") throw new RuntimeError("ImportModuleError", clean(String(e)));
    throw e;
  }
  const h = m[2].split(".").reduce((o, k) => o && o[k], mod);
  if (!h) throw new RuntimeError("HandlerNotFound", full + " is undefined or not exported");
  if (typeof h !== "function") throw new RuntimeError("HandlerNotFound", full + " is not a function");
  return h;
}

let current = null; // the invocation in progress, for unhandled rejections

// As the runtime interface client: an error thrown outside the handler's
// promise (a timer, an emitter) is logged as one event, fails the invocation
// in progress, and ends the process.
process.on("uncaughtException", async (e) => {
  console.error("Uncaught Exception", formatted(e));
  if (current) await call("POST", "/invocation/" + current + "/error", JSON.stringify(rapid(e)), e && e.name);
  process.exit(129);
});

process.on("unhandledRejection", async (reason) => {
  const e = new RuntimeError("UnhandledPromiseRejection", String(reason && reason.stack ? reason.name + ": " + reason.message : reason));
  console.error("Unhandled Promise Rejection", formatted(e));
  if (current) await call("POST", "/invocation/" + current + "/error", JSON.stringify(rapid(e)), e.name);
  process.exit(128);
});

(async () => {
  let handler;
  try {
    handler = await handlerOf(process.env._HANDLER);
  } catch (e) {
    console.error("Uncaught Exception", formatted(e));
    await call("POST", "/init/error", JSON.stringify(rapid(e)), e && e.name);
    process.exit(129);
  }
  for (;;) {
    const next = await call("GET", "/invocation/next");
    const id = next.headers["lambda-runtime-aws-request-id"];
    requestId = current = id;
    const deadline = Number(next.headers["lambda-runtime-deadline-ms"] || 0);
    const context = {
      awsRequestId: id,
      invokedFunctionArn: next.headers["lambda-runtime-invoked-function-arn"],
      functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
      functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
      memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
      logGroupName: "/aws/lambda/" + process.env.AWS_LAMBDA_FUNCTION_NAME,
      logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME || "local",
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
      console.error("Invoke Error", formatted(e));
      await call("POST", "/invocation/" + id + "/error", JSON.stringify(rapid(e)), e && e.name);
    }
    current = null;
  }
})();
`

// debug runs node with the inspector on port (Chrome DevTools protocol, what
// VS Code and chrome://inspect attach to). --inspect, not --inspect-brk: the
// function serves without a debugger; one attached before a request breaks
// in the handler.
func (nodeRuntime) debug(_ lambdaConf, argv []string, port int) ([]string, error) {
	out := []string{argv[0], "--inspect=" + debugAddr(port)}
	return append(out, argv[1:]...), nil
}
