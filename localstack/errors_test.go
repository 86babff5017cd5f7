package localstack

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigatewayv2"
	apitypes "github.com/aws/aws-sdk-go-v2/service/apigatewayv2/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// errorCase is one function of the error suite and what Lambda answers for it.
type errorCase struct {
	name     string // subtest and function name suffix
	interp   string // needed on PATH ("" for Go)
	runtime  string
	handler  string
	files    map[string]string
	env      map[string]string
	timeout  int32
	memory   int32
	errType  string
	message  []string // substrings of errorMessage (RequestId is the invoke's)
	trace    string   // a substring of the first stack line ("" = none asked)
	stack    string   // a substring of some stack line ("" = none asked)
	ordered  []string // prefixes of log events that come in this order (others may come between)
	logs     []string // substrings of one log event each
	logs2    []string // more of them
	noPython bool
}

const pyRaise = `import json

def helper():
    raise ValueError("boom")

def handler(event, context):
    helper()
`

func errorSuite(goZip []byte) []errorCase {
	py := func(name, handler, code string) map[string]string { return map[string]string{"app.py": code} }
	js := func(code string) map[string]string { return map[string]string{"index.js": code} }
	return []errorCase{
		// Python, as awslambdaric answers.
		{name: "py-syntax", interp: "python3", runtime: "python3.12", handler: "app.handler",
			files: py("", "", "def handler(event, context)\n    return 1\n"), errType: "Runtime.UserCodeSyntaxError",
			message: []string{"Syntax error in module 'app': ", "(app.py, line 1)"}, trace: `File "/var/task/app.py" Line 1`,
			logs: []string{"[ERROR] Runtime.UserCodeSyntaxError: Syntax error in module 'app': ", "REPORT RequestId: ", "\u00a0\u00a0File \"/var/task/app.py\" Line 1"}},
		{name: "py-import", interp: "python3", runtime: "python3.12", handler: "app.handler",
			files: py("", "", "import nonexistent_mod_xyz\n\ndef handler(e, c):\n    return 1\n"), errType: "Runtime.ImportModuleError",
			message: []string{"Unable to import module 'app': No module named 'nonexistent_mod_xyz'"},
			logs:    []string{"[ERROR] Runtime.ImportModuleError: Unable to import module 'app': No module named 'nonexistent_mod_xyz'\nTraceback (most recent call last):"},
			// As Lambda logs a failed init: at the start, then again when
			// the invoke runs it.
			ordered: []string{"[ERROR] Runtime.ImportModuleError: ", "INIT_REPORT Init Duration: ", "[ERROR] Runtime.ImportModuleError: ",
				"INIT_REPORT Init Duration: ", "START RequestId: ", "END RequestId: ", "REPORT RequestId: "},
			logs2: []string{"\tPhase: init\tStatus: error\tError Type: Runtime.ImportModuleError", "\tPhase: invoke\tStatus: error\tError Type: Runtime.ImportModuleError"}},
		{name: "py-nohandler", interp: "python3", runtime: "python3.12", handler: "app.nope",
			files: py("", "", "def handler(e, c):\n    return 1\n"), errType: "Runtime.HandlerNotFound",
			message: []string{"Handler 'nope' missing on module 'app'"},
			logs:    []string{"[ERROR] Runtime.HandlerNotFound: Handler 'nope' missing on module 'app'"}},
		{name: "py-raise", interp: "python3", runtime: "python3.12", handler: "app.handler",
			files: py("", "", pyRaise), errType: "ValueError", message: []string{"boom"},
			trace: `  File "/var/task/app.py", line 7, in handler`,
			logs:  []string{"[ERROR] ValueError: boom\nTraceback (most recent call last):\n\u00a0\u00a0File \"/var/task/app.py\", line 7, in handler", "File \"/var/task/app.py\", line 4, in helper\n\u00a0\u00a0\u00a0\u00a0raise ValueError(\"boom\")"}},
		// What the handler prints itself names /var/task too.
		{name: "py-printexc", interp: "python3", runtime: "python3.12", handler: "app.handler",
			files:   py("", "", "import traceback\n\ndef handler(e, c):\n    try:\n        raise KeyError('k')\n    except KeyError:\n        traceback.print_exc()\n    raise ValueError('after')\n"),
			errType: "ValueError", message: []string{"after"}, trace: `  File "/var/task/app.py", line 8, in handler`,
			logs: []string{`  File "/var/task/app.py", line 5, in handler`, "KeyError: 'k'"}},
		{name: "py-exit", interp: "python3", runtime: "python3.12", handler: "app.handler",
			files: py("", "", "import sys\n\ndef handler(e, c):\n    sys.exit(3)\n"), errType: "Runtime.ExitError",
			message: []string{"RequestId: ", " Error: Runtime exited with error: exit status 3"},
			logs:    []string{"Error: Runtime exited with error: exit status 3\nRuntime.ExitError", "Status: error\tError Type: Runtime.ExitError"}},
		{name: "py-timeout", interp: "python3", runtime: "python3.12", handler: "app.handler", timeout: 1,
			files: py("", "", "import time\n\ndef handler(e, c):\n    time.sleep(10)\n"), errType: "Sandbox.Timedout",
			message: []string{"Task timed out after 1.00 seconds"},
			logs:    []string{" Task timed out after 1.00 seconds", "Status: timeout"}},
		{name: "py-memory", interp: "python3", runtime: "python3.12", handler: "app.handler", memory: 128, timeout: 60,
			files: py("", "", "import time\n\ndef handler(e, c):\n    b = b'x' * (300 << 20)\n    time.sleep(0.2)\n    return len(b)\n"), errType: "Runtime.OutOfMemory",
			message: []string{"Error: Runtime exited with error: signal: killed"},
			logs:    []string{"Runtime.OutOfMemory", "Max Memory Used: 128 MB", "Status: error\tError Type: Runtime.OutOfMemory"}},

		// Node.js, as aws-lambda-nodejs-runtime-interface-client answers.
		{name: "node-syntax", interp: "node", runtime: "nodejs20.x", handler: "index.handler",
			files: js("exports.handler = async (e) => {\n"), errType: "Runtime.UserCodeSyntaxError",
			message: []string{"SyntaxError: "},
			logs: []string{"\tundefined\tERROR\tUncaught Exception \t{\"errorType\":\"Runtime.UserCodeSyntaxError\"",
				"\tPhase: init\tStatus: error\tError Type: Runtime.UserCodeSyntaxError", "\tPhase: invoke\tStatus: error\tError Type: Runtime.UserCodeSyntaxError"},
			ordered: []string{"INIT_REPORT Init Duration: ", "INIT_REPORT Init Duration: ", "START RequestId: ", "REPORT RequestId: "}},
		{name: "node-import", interp: "node", runtime: "nodejs20.x", handler: "index.handler",
			files: js("require('nonexistent-mod-xyz');\nexports.handler = async () => 1;\n"), errType: "Runtime.ImportModuleError",
			message: []string{"Error: Cannot find module 'nonexistent-mod-xyz'", "\n- /var/task/index.js"},
			logs:    []string{"ERROR\tUncaught Exception \t{\"errorType\":\"Runtime.ImportModuleError\""}},
		{name: "node-nohandler", interp: "node", runtime: "nodejs20.x", handler: "index.nope",
			files: js("exports.handler = async () => 1;\n"), errType: "Runtime.HandlerNotFound",
			message: []string{"index.nope is undefined or not exported"},
			logs:    []string{"Uncaught Exception \t{\"errorType\":\"Runtime.HandlerNotFound\""}},
		{name: "node-raise", interp: "node", runtime: "nodejs20.x", handler: "index.handler",
			files: js("exports.handler = async () => {\n  throw new Error('boom');\n};\n"), errType: "Error",
			message: []string{"boom"}, trace: "Error: boom", stack: "(/var/task/index.js:2:",
			logs: []string{"\tERROR\tInvoke Error \t{\"errorType\":\"Error\",\"errorMessage\":\"boom\"", "(/var/task/index.js:2:"}},
		{name: "node-uncaught", interp: "node", runtime: "nodejs20.x", handler: "index.handler",
			files:   js("exports.handler = async () => {\n  setTimeout(() => { throw new TypeError('late'); }, 10);\n  await new Promise((r) => setTimeout(r, 2000));\n  return 1;\n};\n"),
			errType: "TypeError", message: []string{"late"}, trace: "TypeError: late", stack: "(/var/task/index.js:2:",
			logs: []string{"\tERROR\tUncaught Exception \t{\"errorType\":\"TypeError\",\"errorMessage\":\"late\"", "/var/task/index.js:2:"}},
		{name: "node-write", interp: "node", runtime: "nodejs20.x", handler: "index.handler",
			files:   js("exports.handler = async () => {\n  process.stdout.write('at ' + __filename + '\\n');\n  throw new Error('written');\n};\n"),
			errType: "Error", message: []string{"written"}, logs: []string{"at /var/task/index.js"}},
		{name: "node-exit", interp: "node", runtime: "nodejs20.x", handler: "index.handler",
			files: js("exports.handler = async () => { process.exit(3); };\n"), errType: "Runtime.ExitError",
			message: []string{" Error: Runtime exited with error: exit status 3"},
			logs:    []string{"Runtime.ExitError"}},
		{name: "node-timeout", interp: "node", runtime: "nodejs20.x", handler: "index.handler", timeout: 1,
			files: js("exports.handler = () => new Promise((r) => setTimeout(r, 10000));\n"), errType: "Sandbox.Timedout",
			message: []string{"Task timed out after 1.00 seconds"}, logs: []string{"Task timed out after 1.00 seconds"}},
		{name: "node-memory", interp: "node", runtime: "nodejs20.x", handler: "index.handler", memory: 128, timeout: 60,
			files:   js("exports.handler = async () => { const b = Buffer.alloc(300 << 20, 1); await new Promise((r) => setTimeout(r, 200)); return b.length; };\n"),
			errType: "Runtime.OutOfMemory", message: []string{"signal: killed"}, logs: []string{"Runtime.OutOfMemory"}},

		// Go on provided.al2023: aws-lambda-go shapes its errors; the engine
		// the ones Lambda's platform reports.
		{name: "go-initpanic", runtime: "provided.al2023", handler: "bootstrap", env: map[string]string{"MODE": "initpanic"},
			errType: "Runtime.ExitError", message: []string{"RequestId: ", " Error: Runtime exited with error: exit status 2"},
			logs: []string{"panic: init failed as asked", "\tPhase: init\tStatus: error\tError Type: Runtime.ExitError", "\tPhase: invoke\tStatus: error\tError Type: Runtime.ExitError"},
			ordered: []string{"panic: init failed as asked", "INIT_REPORT Init Duration: ", "panic: init failed as asked", "INIT_REPORT Init Duration: ",
				"START RequestId: ", "RequestId: ", "END RequestId: ", "REPORT RequestId: "}},
		{name: "go-nobootstrap", runtime: "provided.al2023", handler: "bootstrap", files: map[string]string{"main": "not a bootstrap"},
			errType: "Runtime.InvalidEntrypoint", message: []string{"Couldn't find valid bootstrap(s): [/var/task/bootstrap /opt/bootstrap]"},
			logs: []string{"\tPhase: init\tStatus: error\tError Type: Runtime.InvalidEntrypoint", "\tPhase: invoke\tStatus: error\tError Type: Runtime.InvalidEntrypoint"},
			ordered: []string{"INIT_REPORT Init Duration: ", "INIT_REPORT Init Duration: ", "START RequestId: ",
				"RequestId: ", "END RequestId: ", "REPORT RequestId: "}},
		{name: "go-raise", runtime: "provided.al2023", handler: "bootstrap", env: map[string]string{"MODE": "raise"},
			errType: "errorString", message: []string{"boom"}, logs: []string{`{"errorMessage":"boom","errorType":"errorString"}`}},
		{name: "go-exit", runtime: "provided.al2023", handler: "bootstrap", env: map[string]string{"MODE": "exit"},
			errType: "Runtime.ExitError", message: []string{"Error: Runtime exited with error: exit status 3"}, logs: []string{"Runtime.ExitError"}},
		{name: "go-timeout", runtime: "provided.al2023", handler: "bootstrap", env: map[string]string{"MODE": "sleep"}, timeout: 1,
			errType: "Sandbox.Timedout", message: []string{"Task timed out after 1.00 seconds"}, logs: []string{"Task timed out after 1.00 seconds"}},
		{name: "go-memory", runtime: "provided.al2023", handler: "bootstrap", env: map[string]string{"MODE": "alloc"}, memory: 128, timeout: 60,
			errType: "Runtime.OutOfMemory", message: []string{"signal: killed"}, logs: []string{"Runtime.OutOfMemory"}},
	}
}

// errfnZip builds testdata/errfn as a provided.al2023 package.
func errfnZip(t *testing.T) []byte {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "bootstrap")
	cmd := exec.Command("go", "build", "-o", bin, "./testdata/errfn")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build testdata/errfn: %v\n%s", err, out)
	}
	return zipOf(t, map[string][]byte{"bootstrap": mustRead(t, bin)}, 0o755)
}

// The error suite: for each runtime, each way a function fails gives the
// error type and message Lambda documents in the invoke response, API
// Gateway's 502, and the log, with none of the engine's own frames.
func TestFunctionErrors(t *testing.T) {
	if testing.Short() {
		t.Skip("runs functions on three runtimes")
	}
	goZip := errfnZip(t)
	var logBuf lockedBuffer
	ep := serveRunning(t, &logBuf)
	cfg := localConfig(ep, "us-east-1")
	lc := lambda.NewFromConfig(cfg)
	logs := cloudwatchlogs.NewFromConfig(cfg)
	apis := apigatewayv2.NewFromConfig(cfg)
	api, err := apis.CreateApi(t.Context(), &apigatewayv2.CreateApiInput{Name: aws.String("errors"), ProtocolType: apitypes.ProtocolTypeHttp})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := apis.CreateStage(t.Context(), &apigatewayv2.CreateStageInput{ApiId: api.ApiId, StageName: aws.String("$default"), AutoDeploy: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	var apiMu sync.Mutex // kumo's route table is not safe to grow concurrently with requests? keep it simple
	for _, tc := range errorSuite(goZip) {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if tc.interp != "" {
				if _, err := exec.LookPath(tc.interp); err != nil {
					t.Skipf("no %s on this machine", tc.interp)
				}
			}
			name := fmt.Sprintf("evd-err-%s-%d", tc.name, os.Getpid())
			code := goZip
			if tc.files != nil {
				fs := map[string][]byte{}
				for f, c := range tc.files {
					fs[f] = []byte(c)
				}
				code = zipOf(t, fs, 0o644)
			}
			in := &lambda.CreateFunctionInput{
				FunctionName: aws.String(name), Role: aws.String("arn:aws:iam::000000000000:role/r"),
				Runtime: lambdatypes.Runtime(tc.runtime), Handler: aws.String(tc.handler),
				Code: &lambdatypes.FunctionCode{ZipFile: code},
			}
			if tc.env != nil {
				in.Environment = &lambdatypes.Environment{Variables: tc.env}
			}
			if tc.timeout > 0 {
				in.Timeout = aws.Int32(tc.timeout)
			}
			if tc.memory > 0 {
				in.MemorySize = aws.Int32(tc.memory)
			}
			fn, err := lc.CreateFunction(t.Context(), in)
			if err != nil {
				t.Fatal(err)
			}

			// The invoke response.
			out, err := lc.Invoke(t.Context(), &lambda.InvokeInput{FunctionName: aws.String(name), Payload: []byte(`{}`)})
			if err != nil {
				t.Fatalf("invoke: %v\n%s", err, logBuf.String())
			}
			if aws.ToString(out.FunctionError) != "Unhandled" || out.StatusCode != 200 {
				t.Errorf("invoke: status %d, function error %q; want 200, Unhandled (payload %s)", out.StatusCode, aws.ToString(out.FunctionError), out.Payload)
			}
			var doc struct {
				ErrorType    string   `json:"errorType"`
				ErrorMessage string   `json:"errorMessage"`
				StackTrace   []string `json:"stackTrace"`
				Trace        []string `json:"trace"`
			}
			if err := json.Unmarshal(out.Payload, &doc); err != nil {
				t.Fatalf("payload %s: %v", out.Payload, err)
			}
			if doc.ErrorType != tc.errType {
				t.Errorf("errorType = %q, want %q (payload %s)", doc.ErrorType, tc.errType, out.Payload)
			}
			for _, m := range tc.message {
				if !strings.Contains(doc.ErrorMessage, m) {
					t.Errorf("errorMessage = %q, want it to hold %q", doc.ErrorMessage, m)
				}
			}
			trace := append(doc.StackTrace, doc.Trace...)
			if tc.trace != "" && (len(trace) == 0 || !strings.Contains(trace[0], tc.trace)) {
				t.Errorf("first stack line of %q, want %q", trace, tc.trace)
			}
			if tc.stack != "" && !strings.Contains(strings.Join(trace, "\n"), tc.stack) {
				t.Errorf("stack %q holds no %q", trace, tc.stack)
			}
			for _, p := range []string{string(out.Payload)} {
				if strings.Contains(p, "-runtime.py") || strings.Contains(p, "-runtime.js") || strings.Contains(p, "importlib") || strings.Contains(p, "evdeploy-functions-") {
					t.Errorf("an engine frame in the response: %s", p)
				}
			}

			// The API's 502.
			apiMu.Lock()
			integ, err := apis.CreateIntegration(t.Context(), &apigatewayv2.CreateIntegrationInput{ApiId: api.ApiId,
				IntegrationType: apitypes.IntegrationTypeAwsProxy, IntegrationUri: fn.FunctionArn, PayloadFormatVersion: aws.String("2.0")})
			if err == nil {
				_, err = apis.CreateRoute(t.Context(), &apigatewayv2.CreateRouteInput{ApiId: api.ApiId,
					RouteKey: aws.String("GET /" + tc.name), Target: aws.String("integrations/" + aws.ToString(integ.IntegrationId))})
			}
			apiMu.Unlock()
			if err != nil {
				t.Fatal(err)
			}
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, ep+"/"+tc.name, nil)
			req.Host = aws.ToString(api.ApiId) + ".execute-api.localhost:" + ep[strings.LastIndex(ep, ":")+1:]
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadGateway || string(body) != `{"message":"Internal Server Error"}` {
				t.Errorf("API answered %d %s; want 502 {\"message\":\"Internal Server Error\"}", resp.StatusCode, body)
			}

			// The log: each expected text within one event, no engine frame.
			group := "/aws/lambda/" + name
			deadline := time.Now().Add(10 * time.Second)
			var events []string
			for {
				events = events[:0]
				lo, err := logs.FilterLogEvents(t.Context(), &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(group)})
				if err == nil {
					for _, e := range lo.Events {
						events = append(events, aws.ToString(e.Message))
					}
				}
				missing := missingIn(events, append(append(tc.logs, tc.logs2...), "REPORT RequestId: "))
				out := outOfOrder(events, tc.ordered)
				if len(missing) == 0 && out == "" || time.Now().After(deadline) {
					for _, m := range missing {
						t.Errorf("no log event holds %q; events:\n%s", m, strings.Join(events, "\n--\n"))
					}
					if out != "" {
						t.Errorf("log events out of order: no %q after the earlier ones of %q; events:\n%s", out, tc.ordered, strings.Join(events, "\n--\n"))
					}
					break
				}
				time.Sleep(200 * time.Millisecond)
			}
			for _, e := range events {
				if strings.Contains(e, "-runtime.py") || strings.Contains(e, "-runtime.js") || strings.Contains(e, "importlib._bootstrap") || strings.Contains(e, "evdeploy-functions-") {
					t.Errorf("an engine frame in the log: %q", e)
				}
			}
		})
	}
}

// outOfOrder returns the first of prefixes that no event after the ones
// matching the earlier prefixes starts with ("" when all come in order).
func outOfOrder(events, prefixes []string) string {
	i := 0
	for _, e := range events {
		if i < len(prefixes) && strings.HasPrefix(e, prefixes[i]) {
			i++
		}
	}
	if i < len(prefixes) {
		return prefixes[i]
	}
	return ""
}

// missingIn returns the wants no single event contains.
func missingIn(events, wants []string) []string {
	var missing []string
	for _, w := range wants {
		found := false
		for _, e := range events {
			if strings.Contains(e, w) {
				found = true
				break
			}
		}
		if !found {
			missing = append(missing, w)
		}
	}
	return missing
}

// A function's output comes back from FilterLogEvents and GetLogEvents in
// the order it was written, lines of one millisecond included, and its
// traceback as one event: 20 invocations out of 20.
func TestFunctionLogOrder(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("no python3 on this machine")
	}
	var logBuf lockedBuffer
	ep := serveRunning(t, &logBuf)
	cfg := localConfig(ep, "us-east-1")
	lc := lambda.NewFromConfig(cfg)
	logs := cloudwatchlogs.NewFromConfig(cfg)
	name := fmt.Sprintf("evd-order-%d", os.Getpid())
	code := `def handler(event, context):
    n = event["n"]
    for i in range(150):
        print("line %d %03d" % (n, i))
    raise RuntimeError("failed %d" % n)
`
	if _, err := lc.CreateFunction(t.Context(), &lambda.CreateFunctionInput{
		FunctionName: aws.String(name), Role: aws.String("arn:aws:iam::000000000000:role/r"),
		Runtime: lambdatypes.RuntimePython312, Handler: aws.String("app.handler"),
		Code: &lambdatypes.FunctionCode{ZipFile: zipOf(t, map[string][]byte{"app.py": []byte(code)}, 0o644)},
	}); err != nil {
		t.Fatal(err)
	}
	group := "/aws/lambda/" + name
	for n := range 20 {
		out, err := lc.Invoke(t.Context(), &lambda.InvokeInput{FunctionName: aws.String(name), Payload: fmt.Appendf(nil, `{"n":%d}`, n)})
		if err != nil || aws.ToString(out.FunctionError) != "Unhandled" {
			t.Fatalf("invoke %d: %v %s", n, err, out.Payload)
		}
		var want []string
		for i := range 150 {
			want = append(want, fmt.Sprintf("line %d %03d", n, i))
		}
		want = append(want, fmt.Sprintf("[ERROR] RuntimeError: failed %d\nTraceback (most recent call last):", n), "END RequestId: ", "REPORT RequestId: ")
		var got []string
		var stream string
		deadline := time.Now().Add(10 * time.Second)
		for {
			got = got[:0]
			lo, err := logs.FilterLogEvents(t.Context(), &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(group)})
			if err != nil {
				if time.Now().After(deadline) {
					t.Fatal(err)
				}
				time.Sleep(100 * time.Millisecond)
				continue
			}
			for _, e := range lo.Events {
				m := aws.ToString(e.Message)
				if strings.HasPrefix(m, fmt.Sprintf("line %d ", n)) || strings.HasPrefix(m, fmt.Sprintf("[ERROR] RuntimeError: failed %d\n", n)) ||
					len(got) > 0 && len(got) < len(want) && (strings.HasPrefix(m, "END ") || strings.HasPrefix(m, "REPORT ")) {
					got = append(got, m)
					stream = aws.ToString(e.LogStreamName)
				}
			}
			if len(got) >= len(want) || time.Now().After(deadline) {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if len(got) != len(want) {
			t.Fatalf("invoke %d: %d events, want %d:\n%s", n, len(got), len(want), strings.Join(got, "\n"))
		}
		for i := range want {
			if !strings.HasPrefix(got[i], want[i]) {
				t.Fatalf("invoke %d: FilterLogEvents event %d = %q, want %q (order lost)", n, i, got[i], want[i])
			}
		}
		// GetLogEvents of the stream, from the head and (the default) the
		// newest page: the same order, oldest first.
		for _, head := range []bool{true, false} {
			ge, err := logs.GetLogEvents(t.Context(), &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String(group), LogStreamName: aws.String(stream), StartFromHead: aws.Bool(head)})
			if err != nil {
				t.Fatal(err)
			}
			j := 0
			for _, e := range ge.Events {
				if j < 150 && aws.ToString(e.Message) == want[j] {
					j++
				} else if j > 0 && j < 150 {
					t.Fatalf("invoke %d: GetLogEvents (startFromHead %v) has %q where %q belongs", n, head, aws.ToString(e.Message), want[j])
				}
			}
			if j != 150 {
				t.Fatalf("invoke %d: GetLogEvents (startFromHead %v) holds %d of the 150 lines in order", n, head, j)
			}
		}
	}
}

// A python3.12 function runs on Python 3.12 when the machine has one (on
// PATH or in pyenv's layout), and every invocation gets its REPORT line.
func TestPythonRuntimeVersion(t *testing.T) {
	py := exactInterpreter("python3.12")
	if py == "" {
		t.Skip("no python3.12 on this machine (PATH, pyenv): nothing to pick")
	}
	var logBuf lockedBuffer
	ep := serveRunning(t, &logBuf)
	cfg := localConfig(ep, "us-east-1")
	lc := lambda.NewFromConfig(cfg)
	logs := cloudwatchlogs.NewFromConfig(cfg)
	name := fmt.Sprintf("evd-py312-%d", os.Getpid())
	if _, err := lc.CreateFunction(t.Context(), &lambda.CreateFunctionInput{
		FunctionName: aws.String(name), Role: aws.String("arn:aws:iam::000000000000:role/r"),
		Runtime: lambdatypes.RuntimePython312, Handler: aws.String("app.handler"),
		Code: &lambdatypes.FunctionCode{ZipFile: zipOf(t, map[string][]byte{"app.py": []byte("import sys\n\ndef handler(e, c):\n    return '%d.%d' % sys.version_info[:2]\n")}, 0o644)},
	}); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		out, err := lc.Invoke(t.Context(), &lambda.InvokeInput{FunctionName: aws.String(name)})
		if err != nil || out.FunctionError != nil {
			t.Fatalf("invoke %d: %v %s", i, err, out.Payload)
		}
		if string(out.Payload) != `"3.12"` {
			t.Errorf("invoke %d ran on Python %s, want 3.12 (%s)", i, out.Payload, py)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		lo, err := logs.FilterLogEvents(t.Context(), &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String("/aws/lambda/" + name)})
		reports, inits := 0, 0
		if err == nil {
			for _, e := range lo.Events {
				if m := aws.ToString(e.Message); strings.HasPrefix(m, "REPORT RequestId: ") {
					reports++
					if strings.Contains(m, "\tInit Duration: ") {
						inits++
					}
				}
			}
		}
		if reports == 3 && inits == 1 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d REPORT lines (%d with Init Duration), want 3 (1)", reports, inits)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
