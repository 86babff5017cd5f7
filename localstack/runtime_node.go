package localstack

import "strings"

// Node.js functions run on the host's node through a small runtime loop (the
// part of AWS's runtime interface client that a handler needs): poll next,
// call the handler, post the response or error. The loop shapes the errors
// the invoke returns.

type nodeRuntime struct{}

func (nodeRuntime) matches(runtime string) bool { return strings.HasPrefix(runtime, "nodejs") }

func (nodeRuntime) launch(conf lambdaConf, dir, root string) ([]string, string) {
	path, why := interpreterFor(conf.Runtime, "node")
	if path == "" {
		return nil, why
	}
	loop, err := writeLoop(root, "node-runtime.js", nodeLoop)
	if err != nil {
		return nil, err.Error()
	}
	return []string{path, loop}, ""
}

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
