package localstack

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Lambda versions and aliases for the embedded engine. kumo has neither
// (PublishVersion and CreateAlias are 400s, Invoke ignores its Qualifier,
// and a qualified DeleteFunction deletes the whole function), so the engine
// supplies them in front of kumo:
//
//   - PublishVersion snapshots $LATEST: its configuration is kept here and a
//     hidden kumo function "<fn>--v<N>" with the same code runs it (the
//     runner starts a handler process for it like for any function). As on
//     Lambda, publishing is refused when CodeSha256 names other code than
//     $LATEST's, and returns the last version again when nothing changed.
//   - Aliases (weights, RevisionId) and provisioned concurrency configs are
//     kept here; GetFunction(Configuration) and DeleteFunction honour the
//     Qualifier.
//   - A qualified Invoke (fn:live, fn:3, ?Qualifier=) picks a version by the
//     alias's weights, runs its hidden function and answers
//     X-Amz-Executed-Version; the invocation's metrics carry Resource and
//     ExecutedVersion (metrics.go's invocationQualifier).
//   - What targets an alias runs the version the alias picks. kumo drops the
//     qualifier of an API Gateway integration, an SNS subscription and an S3
//     notification when it invokes, so an unqualified invoke of a function
//     with aliases is traced back to the integration, subscription or
//     notification in its event, whose target names the qualifier.
//     EventBridge targets and asynchronous destinations keep it
//     (deliver.go); event source mappings on fn:live are created on the
//     function in kumo, the qualifier is kept here and given back in every
//     answer, and the runner's pollers invoke the qualified name.
//   - Hidden functions never appear in ListFunctions or the health document.
//
// All of it is kept in a JSON file beside kumo's state, so it survives an
// engine restart like the functions do.

const versionsFile = "evdeploy-versions.json"

// hiddenSep joins a function's name and a version number into the name of
// the kumo function that runs that version.
const hiddenSep = "--v"

type fnVersions struct {
	Arn      string                       `json:"arn"`  // unqualified
	Last     int                          `json:"last"` // the highest number published: numbers are never reused
	Versions map[string]*publishedVersion `json:"versions"`
	Aliases  map[string]*aliasState       `json:"aliases"`
	// Provisioned concurrency by qualifier (accepted and reported READY).
	Provisioned map[string]*provisionedConfig `json:"provisioned,omitempty"`
	// URLQualifier is the qualifier the function URL was created with.
	URLQualifier string `json:"url_qualifier,omitempty"`
}

type publishedVersion struct {
	// Config is the version's configuration as GetFunctionConfiguration
	// answers it.
	Config map[string]any `json:"config"`
	Hidden string         `json:"hidden"` // the kumo function that runs it
}

type aliasState struct {
	Name            string             `json:"name"`
	FunctionVersion string             `json:"function_version"`
	Description     string             `json:"description"`
	Weights         map[string]float64 `json:"weights,omitempty"`
	RevisionID      string             `json:"revision_id"`
}

type provisionedConfig struct {
	Requested    int    `json:"requested"`
	LastModified string `json:"last_modified"`
}

type storedVersions struct {
	Functions map[string]*fnVersions `json:"functions"`
	Mappings  map[string]string      `json:"mappings"` // event source mapping UUID → qualifier
	// event source mapping UUID → FunctionResponseTypes, which kumo drops
	ResponseTypes map[string][]string `json:"response_types,omitempty"`
}

// pendingInvoke is an invoke routed to a kumo function whose run has not
// yet ended: it names the alias or version invoked and the version run.
type pendingInvoke struct {
	base, resource, version string
}

type versionStore struct {
	next    http.Handler
	kc      kumoClient
	run     *runner // nil when the engine runs no functions
	dataDir string
	lg      *log.Logger

	idleMu sync.Mutex
	idle   map[string]bool // hidden functions whose handler this engine stopped (idleUnused)

	*versionState
}

// versionState is what the engine knows of versions and aliases. kumo's
// state is one per process, shared by every kumo server in it (and kumo's
// own calls reach whichever engine started last, selfcall.go), so this is
// one per process too (sharedVersions): engines in one process (tests) see
// the same functions and the same versions.
type versionState struct {
	mu        sync.Mutex
	loaded    bool
	fns       map[string]*fnVersions
	mappings  map[string]string
	respTypes map[string][]string        // mapping UUID → FunctionResponseTypes
	pending   map[string][]pendingInvoke // by kumo function name
	origins   map[string]originHit       // an event's origin → the qualifier it targets
}

func newVersionState() *versionState {
	return &versionState{
		fns: map[string]*fnVersions{}, mappings: map[string]string{}, respTypes: map[string][]string{},
		pending: map[string][]pendingInvoke{}, origins: map[string]originHit{},
	}
}

var sharedVersions = newVersionState()

type originHit struct {
	qualifier string
	at        time.Time
}

// The live stores of this process: the metrics hook and the runner's
// pollers find them here (kumo's own state is per process as well).
var versionStores struct {
	mu   sync.Mutex
	list []*versionStore
}

func init() { invocationQualifier = qualifiedInvocation }

func newVersionStore(next http.Handler, kumoURL string, run *runner, dataDir string, lg *log.Logger) (*versionStore, func()) {
	return newVersionStoreOn(sharedVersions, next, kumoURL, run, dataDir, lg)
}

// newVersionStoreOn serves st, read from dataDir if it was not yet.
func newVersionStoreOn(st *versionState, next http.Handler, kumoURL string, run *runner, dataDir string, lg *log.Logger) (*versionStore, func()) {
	v := &versionStore{next: next, kc: newKumoClient(kumoURL), run: run, dataDir: dataDir, lg: lg, versionState: st, idle: map[string]bool{}}
	st.mu.Lock()
	if !st.loaded {
		st.loaded = true
		v.load()
	}
	names := make([]string, 0, len(st.fns))
	for n := range st.fns {
		names = append(names, n)
	}
	st.mu.Unlock()
	for _, n := range names {
		v.idleUnused(n) // the runner restored every version's handler
	}
	versionStores.mu.Lock()
	versionStores.list = append(versionStores.list, v)
	versionStores.mu.Unlock()
	return v, func() {
		versionStores.mu.Lock()
		defer versionStores.mu.Unlock()
		for i, x := range versionStores.list {
			if x == v {
				versionStores.list = append(versionStores.list[:i], versionStores.list[i+1:]...)
				break
			}
		}
	}
}

func eachVersionStore(f func(v *versionStore) bool) {
	versionStores.mu.Lock()
	list := append([]*versionStore(nil), versionStores.list...)
	versionStores.mu.Unlock()
	for i := len(list) - 1; i >= 0; i-- {
		if f(list[i]) {
			return
		}
	}
}

func (v *versionStore) load() {
	if v.dataDir == "" {
		return
	}
	b, err := os.ReadFile(filepath.Join(v.dataDir, versionsFile))
	if err != nil {
		return
	}
	var st storedVersions
	if err := json.Unmarshal(b, &st); err != nil {
		v.lg.Printf("versions: ignoring %s: %v", versionsFile, err)
		return
	}
	if st.Functions != nil {
		v.fns = st.Functions
	}
	if st.Mappings != nil {
		v.mappings = st.Mappings
	}
	if st.ResponseTypes != nil {
		v.respTypes = st.ResponseTypes
	}
}

// save writes the state; called with mu held.
func (v *versionStore) save() {
	if v.dataDir == "" {
		return
	}
	b, _ := json.MarshalIndent(storedVersions{Functions: v.fns, Mappings: v.mappings, ResponseTypes: v.respTypes}, "", "  ")
	if err := os.MkdirAll(v.dataDir, 0o755); err != nil {
		v.lg.Printf("versions: %v", err)
		return
	}
	p := filepath.Join(v.dataDir, versionsFile)
	if err := os.WriteFile(p+".tmp", b, 0o644); err != nil {
		v.lg.Printf("versions: %v", err)
		return
	}
	if err := os.Rename(p+".tmp", p); err != nil {
		v.lg.Printf("versions: %v", err)
	}
}

// hiddenOf reports whether kumo function name runs a published version, and
// which.
func (v *versionStore) hiddenOf(name string) (base, version string, ok bool) {
	i := strings.LastIndex(name, hiddenSep)
	if i <= 0 {
		return "", "", false
	}
	base, version = name[:i], name[i+len(hiddenSep):]
	v.mu.Lock()
	defer v.mu.Unlock()
	if f := v.fns[base]; f != nil {
		if pv := f.Versions[version]; pv != nil && pv.Hidden == name {
			return base, version, true
		}
	}
	return "", "", false
}

// isHiddenFunction reports whether a kumo function runs a published version
// (and is not a function of its own).
func isHiddenFunction(name string) bool {
	hidden := false
	eachVersionStore(func(v *versionStore) bool {
		_, _, hidden = v.hiddenOf(name)
		return hidden
	})
	return hidden
}

// publicFunction is the function and version a kumo function runs: a
// hidden function's base and number, or name and $LATEST.
func publicFunction(name string) (function, version string) {
	function, version = name, "$LATEST"
	eachVersionStore(func(v *versionStore) bool {
		if b, n, ok := v.hiddenOf(name); ok {
			function, version = b, n
			return true
		}
		return false
	})
	return function, version
}

// publishedVersionOf is the version kumo function name runs ($LATEST, or a
// published version's number), for its log lines.
func publishedVersionOf(name string) string {
	_, v := publicFunction(name)
	return v
}

// qualifiedInvocation is metrics.go's hook: an invocation of kumo function
// name ended; it returns the function, the alias or version invoked and the
// version run ("" when the invocation was unqualified).
func qualifiedInvocation(name, requestID string) (function, resource, executedVersion string) {
	eachVersionStore(func(v *versionStore) bool {
		function, resource, executedVersion = v.invocationEnded(name)
		return function != ""
	})
	return function, resource, executedVersion
}

func (v *versionStore) invocationEnded(name string) (function, resource, version string) {
	v.mu.Lock()
	if q := v.pending[name]; len(q) > 0 {
		p := q[0]
		v.pending[name] = q[1:]
		v.mu.Unlock()
		return p.base, p.resource, p.version
	}
	v.mu.Unlock()
	if base, n, ok := v.hiddenOf(name); ok {
		// Its invoke was not seen here (its entry was dropped): the alias
		// that routes to it, else the version itself.
		v.mu.Lock()
		defer v.mu.Unlock()
		res := base + ":" + n
		if f := v.fns[base]; f != nil {
			for _, a := range sortedAliases(f) {
				if a.FunctionVersion == n || a.Weights[n] > 0 {
					res = base + ":" + a.Name
					break
				}
			}
		}
		return base, res, n
	}
	return "", "", ""
}

// mappingFunction is the function ARN of event source mapping uuid as the
// client created it (with its qualifier).
func mappingFunction(uuid, fnArn string) string {
	eachVersionStore(func(v *versionStore) bool {
		v.mu.Lock()
		q := v.mappings[uuid]
		v.mu.Unlock()
		if q != "" {
			fnArn = withQualifier(fnArn, q)
			return true
		}
		return false
	})
	return fnArn
}

// mappingReportsFailures reports whether the mapping uuid was made with
// FunctionResponseTypes ReportBatchItemFailures (kept here: kumo drops it).
func mappingReportsFailures(uuid string) bool {
	found := false
	eachVersionStore(func(v *versionStore) bool {
		v.mu.Lock()
		found = slices.Contains(v.respTypes[uuid], "ReportBatchItemFailures")
		v.mu.Unlock()
		return found
	})
	return found
}

// splitQualifier splits a function identifier (name, name:qualifier, ARN,
// ARN:qualifier) into the name and the qualifier.
func splitQualifier(ident string) (name, qualifier string) {
	if strings.HasPrefix(ident, "arn:") {
		p := strings.Split(ident, ":")
		if len(p) >= 7 {
			if len(p) >= 8 {
				return p[6], p[7]
			}
			return p[6], ""
		}
		return ident, ""
	}
	name, qualifier, _ = strings.Cut(ident, ":")
	return name, qualifier
}

// qualifiedName is a function ARN's name with its qualifier, if any
// (name:live).
func qualifiedName(arn string) string {
	n, q := splitQualifier(arn)
	if q == "" {
		return n
	}
	return n + ":" + q
}

func withQualifier(arn, q string) string {
	if _, has := splitQualifier(arn); has != "" || q == "" {
		return arn
	}
	return arn + ":" + q
}

var (
	versionRE   = regexp.MustCompile(`^[0-9]+$`)
	aliasNameRE = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,128}$`)
)

func newRevisionID() string { return newRequestID() }

func lambdaTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000+0000") }

func (v *versionStore) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	p := req.URL.Path
	switch {
	case strings.HasPrefix(p, lambdaPrefix):
		v.serveLambda(w, req)
	case strings.HasPrefix(p, "/2019-09-30/functions/") && strings.Contains(p, "/provisioned-concurrency"):
		v.serveProvisioned(w, req)
	case strings.HasPrefix(p, "/2015-03-31/event-source-mappings"):
		v.serveMapping(w, req)
	case strings.HasPrefix(p, "/2021-10-31/functions/") && strings.HasSuffix(strings.TrimSuffix(p, "/"), "/url"):
		v.serveURLConfig(w, req)
	default:
		v.next.ServeHTTP(w, req)
	}
}

// state returns fn's versions (nil if it has none); create makes them.
func (v *versionStore) state(name string, create bool) *fnVersions {
	v.mu.Lock()
	defer v.mu.Unlock()
	f := v.fns[name]
	if f == nil && create {
		f = &fnVersions{Versions: map[string]*publishedVersion{}, Aliases: map[string]*aliasState{}}
		v.fns[name] = f
	}
	return f
}

func (v *versionStore) serveLambda(w http.ResponseWriter, req *http.Request) {
	rest := strings.Trim(strings.TrimPrefix(req.URL.Path, lambdaPrefix), "/")
	if rest == "" {
		if req.Method == http.MethodGet {
			v.listFunctions(w, req)
			return
		}
		v.next.ServeHTTP(w, req)
		return
	}
	parts := strings.Split(rest, "/")
	name, qual := splitQualifier(mustUnescape(parts[0]))
	if q := req.URL.Query().Get("Qualifier"); q != "" {
		qual = q
	}
	sub := strings.Join(parts[1:], "/")
	switch {
	case sub == "versions" && req.Method == http.MethodPost:
		v.publish(w, req, name)
		return
	case sub == "versions" && req.Method == http.MethodGet:
		v.listVersions(w, req, name)
		return
	case sub == "aliases" || strings.HasPrefix(sub, "aliases/"):
		v.serveAlias(w, req, name, strings.TrimPrefix(strings.TrimPrefix(sub, "aliases"), "/"))
		return
	case sub == "invocations" && req.Method == http.MethodPost:
		v.invoke(w, req, name, qual)
		return
	case sub == "" && req.Method == http.MethodDelete:
		v.deleteFunction(w, req, name, qual)
		return
	case (sub == "" || sub == "configuration") && req.Method == http.MethodGet && qual != "" && qual != "$LATEST":
		v.getQualified(w, req, name, qual, sub == "configuration")
		return
	}
	// Anything else addresses the function itself (policies take the
	// qualifier as a parameter): kumo knows it by its bare name.
	if strings.Contains(parts[0], ":") {
		parts[0] = url.PathEscape(name)
		req.URL.Path = lambdaPrefix + "/" + strings.Join(parts, "/")
		req.URL.RawPath = ""
	}
	if qual == "$LATEST" {
		q := req.URL.Query()
		q.Del("Qualifier")
		req.URL.RawQuery = q.Encode()
	}
	v.next.ServeHTTP(w, req)
}

// kumoConfig reads a function's configuration from kumo.
func (v *versionStore) kumoConfig(ctx context.Context, name string) (map[string]any, error) {
	b, _, err := v.kc.call(ctx, http.MethodGet, lambdaPrefix+"/"+url.PathEscape(name), "lambda", "", nil)
	if err != nil {
		return nil, err
	}
	var out struct {
		Configuration map[string]any `json:"Configuration"`
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, err
	}
	if out.Configuration == nil {
		return nil, fmt.Errorf("GetFunction %s: no configuration", name)
	}
	return out.Configuration, nil
}

func fnArnOf(cfg map[string]any) string {
	s, _ := cfg["FunctionArn"].(string)
	return s
}

func fnNotFound(w http.ResponseWriter, what string) {
	lambdaError(w, http.StatusNotFound, "ResourceNotFoundException", "Function not found: "+what)
}

// exists answers 404 and returns nil when kumo has no function name.
func (v *versionStore) exists(w http.ResponseWriter, req *http.Request, name string) map[string]any {
	cfg, err := v.kumoConfig(req.Context(), name)
	if err != nil || isHiddenFunction(name) {
		fnNotFound(w, "arn:aws:lambda:"+signingRegion(req)+":000000000000:function:"+name)
		return nil
	}
	return cfg
}

// versionedKeys are the settings a version captures; a publish with none of
// them changed since the last version returns that version.
var versionedKeys = []string{
	"CodeSha256", "Runtime", "Handler", "Role", "MemorySize", "Timeout", "Environment",
	"Layers", "TracingConfig", "EphemeralStorage", "VpcConfig", "DeadLetterConfig",
	"Architectures", "KMSKeyArn", "Description", "ImageConfigResponse", "LoggingConfig", "PackageType",
}

func sameVersion(a, b map[string]any) bool {
	for _, k := range versionedKeys {
		if k == "Description" {
			continue // the version's own description, not the function's
		}
		x, _ := json.Marshal(a[k])
		y, _ := json.Marshal(b[k])
		if !bytes.Equal(x, y) {
			return false
		}
	}
	return true
}

// emptyZip is the code of a hidden function when the engine runs no
// functions (and so kept no code): kumo needs a package.
var emptyZip = func() []byte {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	_ = zw.Close()
	return b.Bytes()
}()

func (v *versionStore) publish(w http.ResponseWriter, req *http.Request, name string) {
	var in struct {
		CodeSha256  string `json:"CodeSha256"`
		Description string `json:"Description"`
		RevisionID  string `json:"RevisionId"`
	}
	if b, _ := io.ReadAll(req.Body); len(bytes.TrimSpace(b)) > 0 {
		if err := json.Unmarshal(b, &in); err != nil {
			lambdaError(w, http.StatusBadRequest, "InvalidRequestContentException", "Could not parse request body into json: "+err.Error())
			return
		}
	}
	cfg := v.exists(w, req, name)
	if cfg == nil {
		return
	}
	sha, _ := cfg["CodeSha256"].(string)
	if in.CodeSha256 != "" && in.CodeSha256 != sha {
		lambdaError(w, http.StatusBadRequest, "InvalidParameterValueException",
			fmt.Sprintf("CodeSHA256 (%s) is different from current CodeSHA256 in $LATEST (%s). Please try again with the current CodeSHA256.", in.CodeSha256, sha))
		return
	}
	if rev, _ := cfg["RevisionId"].(string); in.RevisionID != "" && rev != "" && in.RevisionID != rev {
		lambdaError(w, http.StatusPreconditionFailed, "PreconditionFailedException",
			"The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id")
		return
	}
	f := v.state(name, true)
	v.mu.Lock()
	f.Arn = fnArnOf(cfg)
	if last := f.Versions[strconv.Itoa(f.Last)]; last != nil && sameVersion(last.Config, cfg) {
		// Lambda publishes nothing when neither code nor configuration
		// changed since the last version: it returns that one.
		out := last.Config
		v.mu.Unlock()
		writeJSONStatus(w, http.StatusCreated, out)
		return
	}
	f.Last++
	n := strconv.Itoa(f.Last)
	hidden := name + hiddenSep + n
	v.mu.Unlock()

	snap := map[string]any{}
	for k, x := range cfg {
		snap[k] = x
	}
	snap["Version"] = n
	snap["FunctionArn"] = f.Arn + ":" + n
	snap["Description"] = in.Description
	snap["LastModified"] = lambdaTime(time.Now())
	snap["RevisionId"] = newRevisionID()
	snap["State"] = "Active"
	snap["LastUpdateStatus"] = "Successful"
	// Recorded first: the handler started for the hidden function asks
	// which function and version it runs (publicFunction).
	v.mu.Lock()
	f.Versions[n] = &publishedVersion{Config: snap, Hidden: hidden}
	v.mu.Unlock()

	// The hidden function runs the version's code: created through the
	// runner, which starts its handler and keeps its code.
	code := emptyZip
	if v.run != nil {
		v.run.mu.Lock()
		if fn := v.run.fns[name]; fn != nil && fn.zip != nil {
			code = fn.zip
		}
		v.run.mu.Unlock()
	}
	create := map[string]any{"FunctionName": hidden, "Code": map[string]any{"ZipFile": code}}
	for _, k := range []string{"Runtime", "Role", "Handler", "Timeout", "MemorySize", "Environment", "Architectures", "PackageType"} {
		if x, ok := cfg[k]; ok && x != nil {
			create[k] = x
		}
	}
	if err := v.through(req, http.MethodPost, lambdaPrefix, create); err != nil {
		v.mu.Lock()
		delete(f.Versions, n)
		if strconv.Itoa(f.Last) == n {
			f.Last-- // nothing was published
		}
		v.mu.Unlock()
		lambdaError(w, http.StatusInternalServerError, "ServiceException", "publishing version "+n+": "+err.Error())
		return
	}
	v.mu.Lock()
	v.save()
	v.mu.Unlock()
	v.lg.Printf("function %s: published version %s", name, n)
	// No alias uses it yet: its handler is stopped like any unused
	// version's, and the first invoke (or alias naming it) starts it.
	v.idleUnused(name)
	writeJSONStatus(w, http.StatusCreated, snap)
}

// through sends a Lambda control-plane request down the engine (so the
// runner follows it), signed like req.
func (v *versionStore) through(req *http.Request, method, path string, body any) error {
	var rd io.Reader = http.NoBody
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	out, err := http.NewRequestWithContext(context.WithoutCancel(req.Context()), method, path, rd)
	if err != nil {
		return err
	}
	out.Header.Set("Authorization", req.Header.Get("Authorization"))
	if out.Header.Get("Authorization") == "" {
		out.Header.Set("Authorization", authHeader("lambda"))
	}
	out.Header.Set("Content-Type", "application/json")
	buf := &bufferedResponse{header: http.Header{}}
	v.next.ServeHTTP(buf, out)
	if buf.status/100 != 2 && buf.status != 0 {
		return fmt.Errorf("%s %s: %d %s", method, path, buf.status, bytes.TrimSpace(buf.body.Bytes()))
	}
	return nil
}

func writeJSONStatus(w http.ResponseWriter, status int, x any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(x)
}

func sortedVersions(f *fnVersions) []*publishedVersion {
	out := make([]*publishedVersion, 0, len(f.Versions))
	for _, pv := range f.Versions {
		out = append(out, pv)
	}
	num := func(pv *publishedVersion) int { n, _ := strconv.Atoi(fmt.Sprint(pv.Config["Version"])); return n }
	sort.Slice(out, func(i, j int) bool { return num(out[i]) < num(out[j]) })
	return out
}

func sortedAliases(f *fnVersions) []*aliasState {
	out := make([]*aliasState, 0, len(f.Aliases))
	for _, a := range f.Aliases {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func (v *versionStore) listVersions(w http.ResponseWriter, req *http.Request, name string) {
	cfg := v.exists(w, req, name)
	if cfg == nil {
		return
	}
	latest := map[string]any{}
	for k, x := range cfg {
		latest[k] = x
	}
	latest["Version"] = "$LATEST"
	latest["FunctionArn"] = fnArnOf(cfg) + ":$LATEST"
	list := []any{latest}
	v.mu.Lock()
	if f := v.fns[name]; f != nil {
		for _, pv := range sortedVersions(f) {
			list = append(list, pv.Config)
		}
	}
	v.mu.Unlock()
	writeJSON(w, page(req, "Versions", list))
}

// getQualified answers GetFunction / GetFunctionConfiguration for a version
// or an alias (the configuration of the version it points to).
func (v *versionStore) getQualified(w http.ResponseWriter, req *http.Request, name, qual string, configOnly bool) {
	cfg := v.exists(w, req, name)
	if cfg == nil {
		return
	}
	arn := fnArnOf(cfg)
	v.mu.Lock()
	f := v.fns[name]
	var snap map[string]any
	if f != nil {
		ver := qual
		if a := f.Aliases[qual]; a != nil {
			ver = a.FunctionVersion
		}
		if pv := f.Versions[ver]; pv != nil {
			snap = map[string]any{}
			for k, x := range pv.Config {
				snap[k] = x
			}
		} else if ver == "$LATEST" && f.Aliases[qual] != nil {
			snap = map[string]any{}
			for k, x := range cfg {
				snap[k] = x
			}
			snap["Version"] = "$LATEST"
		}
		if snap != nil && f.Aliases[qual] != nil {
			snap["FunctionArn"] = arn + ":" + qual
		}
	}
	v.mu.Unlock()
	if snap == nil {
		fnNotFound(w, arn+":"+qual)
		return
	}
	if configOnly {
		writeJSON(w, snap)
		return
	}
	out := map[string]any{"Configuration": snap, "Code": map[string]any{"RepositoryType": "S3", "Location": ""}}
	if b, _, err := v.kc.call(req.Context(), http.MethodGet, lambdaPrefix+"/"+url.PathEscape(name), "lambda", "", nil); err == nil {
		var full map[string]any
		if json.Unmarshal(b, &full) == nil {
			if c, ok := full["Code"]; ok {
				out["Code"] = c
			}
			if t, ok := full["Tags"]; ok {
				out["Tags"] = t
			}
		}
	}
	writeJSON(w, out)
}

func (v *versionStore) deleteFunction(w http.ResponseWriter, req *http.Request, name, qual string) {
	if qual == "" {
		// The function and everything published of it.
		buf := &bufferedResponse{header: http.Header{}}
		v.next.ServeHTTP(buf, req)
		if buf.status == 0 {
			buf.status = http.StatusOK
		}
		if buf.status/100 == 2 {
			v.mu.Lock()
			f := v.fns[name]
			delete(v.fns, name)
			v.save()
			v.mu.Unlock()
			if f != nil {
				for _, pv := range f.Versions {
					if err := v.through(req, http.MethodDelete, lambdaPrefix+"/"+url.PathEscape(pv.Hidden), nil); err != nil {
						v.lg.Printf("function %s: deleting version %v: %v", name, pv.Config["Version"], err)
					}
				}
			}
		}
		writeBuffered(w, buf, buf.body.Bytes())
		return
	}
	cfg := v.exists(w, req, name)
	if cfg == nil {
		return
	}
	arn := fnArnOf(cfg)
	if qual == "$LATEST" {
		lambdaError(w, http.StatusBadRequest, "InvalidParameterValueException", "$LATEST version cannot be deleted without deleting all versions and aliases.")
		return
	}
	v.mu.Lock()
	f := v.fns[name]
	if f != nil && f.Aliases[qual] != nil {
		v.mu.Unlock()
		lambdaError(w, http.StatusBadRequest, "InvalidParameterValueException", "Deletion of aliases is not supported.")
		return
	}
	var pv *publishedVersion
	if f != nil {
		pv = f.Versions[qual]
	}
	if pv == nil {
		v.mu.Unlock()
		fnNotFound(w, arn+":"+qual)
		return
	}
	var users []string
	for _, a := range sortedAliases(f) {
		if a.FunctionVersion == qual || a.Weights[qual] > 0 {
			users = append(users, a.Name)
		}
	}
	if len(users) > 0 {
		v.mu.Unlock()
		lambdaError(w, http.StatusConflict, "ResourceConflictException",
			fmt.Sprintf("Unable to delete version because the following aliases reference it: [%s]", strings.Join(users, ", ")))
		return
	}
	delete(f.Versions, qual)
	delete(f.Provisioned, qual)
	v.save()
	v.mu.Unlock()
	if err := v.through(req, http.MethodDelete, lambdaPrefix+"/"+url.PathEscape(pv.Hidden), nil); err != nil {
		v.lg.Printf("function %s: deleting version %s: %v", name, qual, err)
	}
	w.WriteHeader(http.StatusNoContent)
}

// listFunctions leaves the hidden functions out of kumo's answer.
func (v *versionStore) listFunctions(w http.ResponseWriter, req *http.Request) {
	buf := &bufferedResponse{header: http.Header{}}
	v.next.ServeHTTP(buf, req)
	writeEdited(w, buf, func(out map[string]any) {
		list, ok := out["Functions"].([]any)
		if !ok {
			return
		}
		kept := make([]any, 0, len(list))
		for _, x := range list {
			m, _ := x.(map[string]any)
			if n, _ := m["FunctionName"].(string); n != "" {
				if _, _, hidden := v.hiddenOf(n); hidden {
					continue
				}
			}
			kept = append(kept, x)
		}
		out["Functions"] = kept
	})
}

// aliasInput is CreateAlias's and UpdateAlias's request.
type aliasInput struct {
	Name            *string `json:"Name"`
	FunctionVersion *string `json:"FunctionVersion"`
	Description     *string `json:"Description"`
	RoutingConfig   *struct {
		AdditionalVersionWeights map[string]float64 `json:"AdditionalVersionWeights"`
	} `json:"RoutingConfig"`
	RevisionID string `json:"RevisionId"`
}

func aliasDoc(arn string, a *aliasState) map[string]any {
	doc := map[string]any{
		"AliasArn": arn + ":" + a.Name, "Name": a.Name, "FunctionVersion": a.FunctionVersion,
		"Description": a.Description, "RevisionId": a.RevisionID,
	}
	if len(a.Weights) > 0 {
		doc["RoutingConfig"] = map[string]any{"AdditionalVersionWeights": a.Weights}
	}
	return doc
}

func (v *versionStore) serveAlias(w http.ResponseWriter, req *http.Request, name, alias string) {
	cfg := v.exists(w, req, name)
	if cfg == nil {
		return
	}
	arn := fnArnOf(cfg)
	var in aliasInput
	if req.Method == http.MethodPost || req.Method == http.MethodPut {
		if err := json.NewDecoder(req.Body).Decode(&in); err != nil {
			lambdaError(w, http.StatusBadRequest, "InvalidRequestContentException", "Could not parse request body into json: "+err.Error())
			return
		}
	}
	f := v.state(name, req.Method == http.MethodPost)
	if f == nil {
		f = &fnVersions{}
	}
	if req.Method != http.MethodGet {
		defer v.idleUnused(name) // after the unlock below
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if f.Arn == "" {
		f.Arn = arn
	}
	switch {
	case alias == "" && req.Method == http.MethodGet:
		fv := req.URL.Query().Get("FunctionVersion")
		list := []any{}
		for _, a := range sortedAliases(f) {
			if fv == "" || a.FunctionVersion == fv {
				list = append(list, aliasDoc(arn, a))
			}
		}
		writeJSON(w, page(req, "Aliases", list))
	case alias == "" && req.Method == http.MethodPost:
		if in.Name == nil || !aliasNameRE.MatchString(*in.Name) || versionRE.MatchString(*in.Name) {
			n := ""
			if in.Name != nil {
				n = *in.Name
			}
			lambdaError(w, http.StatusBadRequest, "ValidationException",
				fmt.Sprintf("1 validation error detected: Value '%s' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)", n))
			return
		}
		if f.Aliases[*in.Name] != nil {
			lambdaError(w, http.StatusConflict, "ResourceConflictException", "Alias already exists: "+arn+":"+*in.Name)
			return
		}
		a := &aliasState{Name: *in.Name}
		if !v.applyAlias(w, arn, f, a, &in) {
			return
		}
		f.Aliases[a.Name] = a
		v.save()
		writeJSONStatus(w, http.StatusCreated, aliasDoc(arn, a))
	default:
		a := f.Aliases[alias]
		if a == nil {
			lambdaError(w, http.StatusNotFound, "ResourceNotFoundException", "Cannot find alias arn: "+arn+":"+alias)
			return
		}
		switch req.Method {
		case http.MethodGet:
			writeJSON(w, aliasDoc(arn, a))
		case http.MethodDelete:
			delete(f.Aliases, alias)
			delete(f.Provisioned, alias)
			v.save()
			w.WriteHeader(http.StatusNoContent)
		case http.MethodPut:
			if in.RevisionID != "" && in.RevisionID != a.RevisionID {
				lambdaError(w, http.StatusPreconditionFailed, "PreconditionFailedException",
					"The Revision Id provided does not match the latest Revision Id. Call the GetAlias API to retrieve the latest Revision Id")
				return
			}
			next := *a
			if !v.applyAlias(w, arn, f, &next, &in) {
				return
			}
			*a = next
			v.save()
			writeJSON(w, aliasDoc(arn, a))
		default:
			lambdaError(w, http.StatusMethodNotAllowed, "InvalidParameterValueException", req.Method+" not supported")
		}
	}
}

// applyAlias validates in against f as Lambda does and applies it to a
// (a new RevisionId). mu is held.
func (v *versionStore) applyAlias(w http.ResponseWriter, arn string, f *fnVersions, a *aliasState, in *aliasInput) bool {
	next := *a
	if in.FunctionVersion != nil {
		next.FunctionVersion = *in.FunctionVersion
	}
	if in.Description != nil {
		next.Description = *in.Description
	}
	if in.RoutingConfig != nil {
		next.Weights = in.RoutingConfig.AdditionalVersionWeights
	}
	if next.FunctionVersion == "" {
		lambdaError(w, http.StatusBadRequest, "ValidationException", "1 validation error detected: Value null at 'functionVersion' failed to satisfy constraint: Member must not be null")
		return false
	}
	if next.FunctionVersion != "$LATEST" && f.Versions[next.FunctionVersion] == nil {
		lambdaError(w, http.StatusNotFound, "ResourceNotFoundException", "Function not found: "+arn+":"+next.FunctionVersion)
		return false
	}
	if len(next.Weights) > 0 {
		weights, _ := json.Marshal(next.Weights)
		if len(next.Weights) > 1 {
			lambdaError(w, http.StatusBadRequest, "ValidationException",
				fmt.Sprintf("1 validation error detected: Value '%s' at 'routingConfig.additionalVersionWeights' failed to satisfy constraint: Member must have length less than or equal to 1", weights))
			return false
		}
		for ver, wt := range next.Weights {
			if wt < 0 || wt > 1 {
				lambdaError(w, http.StatusBadRequest, "ValidationException",
					fmt.Sprintf("1 validation error detected: Value '%s' at 'routingConfig.additionalVersionWeights' failed to satisfy constraint: Map value must satisfy constraint: [Member must have value less than or equal to 1.0, Member must have value greater than or equal to 0.0]", weights))
				return false
			}
			if next.FunctionVersion == "$LATEST" || ver == "$LATEST" {
				lambdaError(w, http.StatusBadRequest, "InvalidParameterValueException", "$LATEST is not supported for an alias pointing to more than 1 version")
				return false
			}
			if ver == next.FunctionVersion {
				lambdaError(w, http.StatusBadRequest, "InvalidParameterValueException",
					fmt.Sprintf("Invalid function version %s. Function version %s is already included in routing configuration.", ver, ver))
				return false
			}
			if f.Versions[ver] == nil {
				lambdaError(w, http.StatusBadRequest, "InvalidParameterValueException", fmt.Sprintf("Version %s of function %s does not exist", ver, arn))
				return false
			}
		}
	} else {
		next.Weights = nil
	}
	next.RevisionID = newRevisionID()
	*a = next
	return true
}

// resolve picks the kumo function that runs fn's qual for one invocation
// (by the alias's weights) and the version it runs.
func (v *versionStore) resolve(name, qual string) (kumoName, version string, ok bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	f := v.fns[name]
	if f == nil {
		return "", "", false
	}
	ver := qual
	if a := f.Aliases[qual]; a != nil {
		ver = a.FunctionVersion
		for extra, wt := range a.Weights {
			if rand.Float64() < wt {
				ver = extra
			}
		}
	}
	if ver == "$LATEST" {
		return name, ver, true
	}
	pv := f.Versions[ver]
	if pv == nil {
		return "", "", false
	}
	return pv.Hidden, ver, true
}

// executedWriter answers X-Amz-Executed-Version.
type executedWriter struct {
	http.ResponseWriter
	version string
	status  int
}

func (e *executedWriter) WriteHeader(code int) {
	if e.status == 0 {
		e.status = code
		e.Header().Set("X-Amz-Executed-Version", e.version)
	}
	e.ResponseWriter.WriteHeader(code)
}

func (e *executedWriter) Write(b []byte) (int, error) {
	if e.status == 0 {
		e.WriteHeader(http.StatusOK)
	}
	return e.ResponseWriter.Write(b)
}

func (e *executedWriter) Flush() {
	if f, ok := e.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (v *versionStore) invoke(w http.ResponseWriter, req *http.Request, name, qual string) {
	if qual == "" && v.hasAliases(name) {
		qual = v.originQualifier(req, name)
	}
	if qual == "" || qual == "$LATEST" {
		if strings.Contains(req.URL.Path, ":") || req.URL.Query().Has("Qualifier") {
			setInvokeTarget(req, name)
		}
		v.next.ServeHTTP(w, req)
		return
	}
	kumoName, version, ok := v.resolve(name, qual)
	if !ok {
		arn := "arn:aws:lambda:" + signingRegion(req) + ":000000000000:function:" + name
		v.mu.Lock()
		if f := v.fns[name]; f != nil && f.Arn != "" {
			arn = f.Arn
		}
		v.mu.Unlock()
		fnNotFound(w, arn+":"+qual)
		return
	}
	entry := pendingInvoke{base: name, resource: name + ":" + qual, version: version}
	v.mu.Lock()
	v.pending[kumoName] = append(v.pending[kumoName], entry)
	v.mu.Unlock()
	v.wake(kumoName)
	// The runner below holds an invoke for a starting handler only if it
	// runs it; kumo's self-call may have reached another engine of the
	// process (tests), so every engine's runner is waited on.
	awaitGates(req.Context(), kumoName)
	setInvokeTarget(req, kumoName)
	ew := &executedWriter{ResponseWriter: w, version: version}
	v.next.ServeHTTP(ew, req)
	if ew.status != http.StatusOK && ew.status != http.StatusAccepted && ew.status != 0 {
		// It never ran: its entry is not the one a later run takes.
		v.mu.Lock()
		q := v.pending[kumoName]
		for i := len(q) - 1; i >= 0; i-- {
			if q[i] == entry {
				v.pending[kumoName] = append(q[:i:i], q[i+1:]...)
				break
			}
		}
		v.mu.Unlock()
	}
}

func setInvokeTarget(req *http.Request, kumoName string) {
	req.URL.Path = lambdaPrefix + "/" + url.PathEscape(kumoName) + "/invocations"
	req.URL.RawPath = ""
	q := req.URL.Query()
	q.Del("Qualifier")
	req.URL.RawQuery = q.Encode()
}

func (v *versionStore) hasAliases(name string) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	f := v.fns[name]
	return f != nil && (len(f.Aliases) > 0 || f.URLQualifier != "")
}

// originQualifier finds what an unqualified invoke from kumo targeted: the
// API Gateway integration, SNS subscription, S3 notification or function
// URL its event came from ("" if none, or it names no qualifier).
func (v *versionStore) originQualifier(req *http.Request, name string) string {
	body, err := io.ReadAll(req.Body)
	req.Body = io.NopCloser(bytes.NewReader(body))
	if err != nil || len(body) == 0 || body[0] != '{' {
		return ""
	}
	var ev struct {
		Records []struct {
			EventSource          string `json:"EventSource"`
			EventSubscriptionArn string `json:"EventSubscriptionArn"`
			LowerSource          string `json:"eventSource"`
			S3                   struct {
				ConfigurationID string `json:"configurationId"`
				Bucket          struct {
					Name string `json:"name"`
				} `json:"bucket"`
			} `json:"s3"`
		} `json:"Records"`
		RequestContext struct {
			APIID       string `json:"apiId"`
			RouteKey    string `json:"routeKey"`
			DomainName  string `json:"domainName"`
			ResourceID  string `json:"resourceId"`
			HTTPMethod  string `json:"httpMethod"`
			ResourceStr string `json:"resourcePath"`
			Stage       string `json:"stage"`
		} `json:"requestContext"`
		StageVariables map[string]string `json:"stageVariables"`
	}
	if json.Unmarshal(body, &ev) != nil {
		return ""
	}
	ctx := req.Context()
	var key string
	var find func() string
	switch {
	case len(ev.Records) > 0 && ev.Records[0].EventSource == "aws:sns" && ev.Records[0].EventSubscriptionArn != "":
		sub := ev.Records[0].EventSubscriptionArn
		key, find = "sns\x00"+sub, func() string { return v.snsEndpoint(ctx, sub) }
	case len(ev.Records) > 0 && ev.Records[0].LowerSource == "aws:s3":
		s3 := ev.Records[0].S3
		key, find = "s3\x00"+s3.Bucket.Name+"\x00"+s3.ConfigurationID, func() string { return v.s3Target(ctx, s3.Bucket.Name, s3.ConfigurationID) }
	case strings.Contains(ev.RequestContext.DomainName, ".lambda-url."):
		v.mu.Lock()
		defer v.mu.Unlock()
		if f := v.fns[name]; f != nil {
			return f.URLQualifier
		}
		return ""
	case ev.RequestContext.APIID != "" && ev.RequestContext.RouteKey != "":
		api, route := ev.RequestContext.APIID, ev.RequestContext.RouteKey
		key, find = "api\x00"+api+"\x00"+route, func() string { return v.apiTarget(ctx, api, route) }
	case ev.RequestContext.APIID != "" && ev.RequestContext.ResourceStr != "" && ev.RequestContext.HTTPMethod != "":
		// A REST API's (v1) proxy event names no route but its resource
		// path and method (versions_rest.go).
		api, res, method := ev.RequestContext.APIID, ev.RequestContext.ResourceStr, ev.RequestContext.HTTPMethod
		key, find = "rest\x00"+api+"\x00"+ev.RequestContext.Stage+"\x00"+res+"\x00"+method, func() string { return v.restTarget(ctx, api, res, method, ev.StageVariables) }
	default:
		return ""
	}
	v.mu.Lock()
	hit, ok := v.origins[key]
	v.mu.Unlock()
	if !ok || time.Since(hit.at) > 2*time.Second {
		target := find()
		hit = originHit{at: time.Now()}
		if n, q := splitQualifier(target); n == name {
			hit.qualifier = q
		}
		v.mu.Lock()
		v.origins[key] = hit
		v.mu.Unlock()
	}
	return hit.qualifier
}

var snsEndpointRE = regexp.MustCompile(`<key>Endpoint</key>\s*<value>([^<]*)</value>`)

func (v *versionStore) snsEndpoint(ctx context.Context, sub string) string {
	form := url.Values{"Action": {"GetSubscriptionAttributes"}, "Version": {"2010-03-31"}, "SubscriptionArn": {sub}}
	b, _, err := v.kc.do(ctx, http.MethodPost, "/", "sns", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, []byte(form.Encode()))
	if err != nil {
		return ""
	}
	if m := snsEndpointRE.FindSubmatch(b); m != nil {
		return string(m[1])
	}
	var out struct {
		Attributes map[string]string `json:"Attributes"`
	}
	if json.Unmarshal(b, &out) == nil {
		return out.Attributes["Endpoint"]
	}
	return ""
}

var s3FunctionRE = regexp.MustCompile(`(?s)<CloudFunctionConfiguration>(.*?)</CloudFunctionConfiguration>`)

func (v *versionStore) s3Target(ctx context.Context, bucket, id string) string {
	b, _, err := v.kc.do(ctx, http.MethodGet, "/"+url.PathEscape(bucket)+"?notification", "s3", nil, nil)
	if err != nil {
		return ""
	}
	for _, m := range s3FunctionRE.FindAllSubmatch(b, -1) {
		cfg := string(m[1])
		if id != "" && !strings.Contains(cfg, "<Id>"+id+"</Id>") {
			continue
		}
		if _, after, ok := strings.Cut(cfg, "<CloudFunction>"); ok {
			arn, _, _ := strings.Cut(after, "</CloudFunction>")
			return strings.TrimSpace(arn)
		}
	}
	return ""
}

func (v *versionStore) apiTarget(ctx context.Context, api, routeKey string) string {
	return v.apiRouteTarget(ctx, api, func(key string) int {
		if key == routeKey {
			return 0
		}
		return -1
	})
}

// apiRouteTarget is the function behind the HTTP API route that scores
// highest (a negative score is no match).
func (v *versionStore) apiRouteTarget(ctx context.Context, api string, score func(routeKey string) int) string {
	b, _, err := v.kc.call(ctx, http.MethodGet, "/v2/apis/"+url.PathEscape(api)+"/routes", "apigateway", "", nil)
	if err != nil {
		return ""
	}
	var routes struct {
		Items []struct {
			RouteKey string `json:"routeKey"`
			Target   string `json:"target"`
		} `json:"items"`
	}
	if json.Unmarshal(b, &routes) != nil {
		return ""
	}
	target, best := "", -1
	for _, r := range routes.Items {
		if n := score(r.RouteKey); n > best {
			target, best = r.Target, n
		}
	}
	id, ok := strings.CutPrefix(target, "integrations/")
	if !ok {
		return ""
	}
	b, _, err = v.kc.call(ctx, http.MethodGet, "/v2/apis/"+url.PathEscape(api)+"/integrations/"+url.PathEscape(id), "apigateway", "", nil)
	if err != nil {
		return ""
	}
	var integ struct {
		URI string `json:"integrationUri"`
	}
	if json.Unmarshal(b, &integ) != nil {
		return ""
	}
	return integrationFunction(integ.URI)
}

// integrationFunction is the function (with its qualifier) an integration
// URI names: a function ARN, or the REST form that wraps it in an
// apigateway ARN (arn:aws:apigateway:…:lambda:path/2015-03-31/functions/…/invocations).
func integrationFunction(uri string) string {
	if i := strings.Index(uri, "/functions/"); i >= 0 {
		uri = strings.TrimSuffix(uri[i+len("/functions/"):], "/invocations")
	}
	return uri
}

// serveProvisioned answers the provisioned concurrency API: the engine
// runs no warm pool, so a config is accepted and reported READY.
func (v *versionStore) serveProvisioned(w http.ResponseWriter, req *http.Request) {
	rest := strings.TrimPrefix(req.URL.Path, "/2019-09-30/functions/")
	ident, _, _ := strings.Cut(rest, "/")
	name, qual := splitQualifier(mustUnescape(ident))
	if q := req.URL.Query().Get("Qualifier"); q != "" {
		qual = q
	}
	cfg := v.exists(w, req, name)
	if cfg == nil {
		return
	}
	arn := fnArnOf(cfg)
	doc := func(q string, p *provisionedConfig) map[string]any {
		return map[string]any{
			"FunctionArn": arn + ":" + q,
			"RequestedProvisionedConcurrentExecutions": p.Requested,
			"AvailableProvisionedConcurrentExecutions": p.Requested,
			"AllocatedProvisionedConcurrentExecutions": p.Requested,
			"Status":       "READY",
			"LastModified": p.LastModified,
		}
	}
	f := v.state(name, req.Method == http.MethodPut)
	if f == nil {
		f = &fnVersions{}
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if req.Method == http.MethodGet && req.URL.Query().Get("List") != "" {
		list := []any{}
		keys := make([]string, 0, len(f.Provisioned))
		for q := range f.Provisioned {
			keys = append(keys, q)
		}
		sort.Strings(keys)
		for _, q := range keys {
			list = append(list, doc(q, f.Provisioned[q]))
		}
		writeJSON(w, map[string]any{"ProvisionedConcurrencyConfigs": list})
		return
	}
	if qual == "" || qual == "$LATEST" {
		lambdaError(w, http.StatusBadRequest, "InvalidParameterValueException", "Provisioned Concurrency Configs cannot be applied to unpublished function versions.")
		return
	}
	if f.Aliases[qual] == nil && f.Versions[qual] == nil {
		fnNotFound(w, arn+":"+qual)
		return
	}
	switch req.Method {
	case http.MethodGet:
		p := f.Provisioned[qual]
		if p == nil {
			lambdaError(w, http.StatusNotFound, "ProvisionedConcurrencyConfigNotFoundException", "No Provisioned Concurrency Config found for this function")
			return
		}
		writeJSON(w, doc(qual, p))
	case http.MethodDelete:
		delete(f.Provisioned, qual)
		v.save()
		w.WriteHeader(http.StatusNoContent)
	case http.MethodPut:
		var in struct {
			ProvisionedConcurrentExecutions int `json:"ProvisionedConcurrentExecutions"`
		}
		if err := json.NewDecoder(req.Body).Decode(&in); err != nil || in.ProvisionedConcurrentExecutions < 1 {
			lambdaError(w, http.StatusBadRequest, "ValidationException",
				"1 validation error detected: Value at 'provisionedConcurrentExecutions' failed to satisfy constraint: Member must have value greater than or equal to 1")
			return
		}
		if a := f.Aliases[qual]; a != nil && len(a.Weights) > 0 {
			lambdaError(w, http.StatusBadRequest, "InvalidParameterValueException",
				"Alias with weights can not be used with Provisioned Concurrency")
			return
		}
		if f.Provisioned == nil {
			f.Provisioned = map[string]*provisionedConfig{}
		}
		p := &provisionedConfig{Requested: in.ProvisionedConcurrentExecutions, LastModified: lambdaTime(time.Now())}
		f.Provisioned[qual] = p
		v.save()
		d := doc(qual, p)
		writeJSONStatus(w, http.StatusAccepted, d)
	default:
		lambdaError(w, http.StatusMethodNotAllowed, "InvalidParameterValueException", req.Method+" not supported")
	}
}

// serveMapping lets event source mappings target a qualified function: kumo
// gets the bare name, the qualifier is kept here and put back in answers.
func (v *versionStore) serveMapping(w http.ResponseWriter, req *http.Request) {
	qual := ""
	var respTypes []string // FunctionResponseTypes, when the request sets them
	setsTypes := false
	if req.Method == http.MethodPost || req.Method == http.MethodPut {
		body, err := io.ReadAll(req.Body)
		if err != nil {
			lambdaError(w, http.StatusBadRequest, "InvalidRequestContentException", err.Error())
			return
		}
		var in map[string]any
		if json.Unmarshal(body, &in) == nil {
			if list, ok := in["FunctionResponseTypes"].([]any); ok {
				setsTypes = true
				for _, x := range list {
					if t, ok := x.(string); ok {
						respTypes = append(respTypes, t)
					}
				}
			}
			if fn, ok := in["FunctionName"].(string); ok {
				var name string
				name, qual = splitQualifier(fn)
				if qual == "$LATEST" {
					qual = ""
				}
				if qual != "" {
					if _, _, ok := v.resolveCheck(name, qual); !ok {
						fnNotFound(w, fn)
						return
					}
					// kumo needs the function's ARN or name without it.
					if strings.HasPrefix(fn, "arn:") {
						in["FunctionName"] = strings.TrimSuffix(fn, ":"+qual)
					} else {
						in["FunctionName"] = name
					}
					body, _ = json.Marshal(in)
				}
			}
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
		req.ContentLength = int64(len(body))
	}
	buf := &bufferedResponse{header: http.Header{}}
	v.next.ServeHTTP(buf, req)
	writeEdited(w, buf, func(out map[string]any) { v.keepMappingQualifier(req.Method, qual, respTypes, setsTypes, out) })
}

// keepMappingQualifier records the qualifier (fn:live) and the
// FunctionResponseTypes a mapping was made or updated with, which kumo
// drops, and gives them back in the answer.
func (v *versionStore) keepMappingQualifier(method, qual string, respTypes []string, setsTypes bool, out map[string]any) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if uuid, _ := out["UUID"].(string); uuid != "" {
		if method == http.MethodPost || (method == http.MethodPut && setsTypes) {
			if len(respTypes) > 0 {
				v.respTypes[uuid] = respTypes
			} else {
				delete(v.respTypes, uuid)
			}
			v.save()
		}
		switch {
		case method == http.MethodDelete:
			delete(v.mappings, uuid)
			delete(v.respTypes, uuid)
			v.save()
		case method == http.MethodPost || (method == http.MethodPut && qual != ""):
			if qual != "" {
				v.mappings[uuid] = qual
			} else {
				delete(v.mappings, uuid)
			}
			v.save()
		}
	}
	fix := func(m map[string]any) {
		uuid, _ := m["UUID"].(string)
		arn, _ := m["FunctionArn"].(string)
		if q := v.mappings[uuid]; q != "" && arn != "" {
			m["FunctionArn"] = withQualifier(arn, q)
		}
		if t := v.respTypes[uuid]; len(t) > 0 {
			m["FunctionResponseTypes"] = t
		}
	}
	if list, ok := out["EventSourceMappings"].([]any); ok {
		for _, x := range list {
			if m, ok := x.(map[string]any); ok {
				fix(m)
			}
		}
	} else {
		fix(out)
	}
}

// resolveCheck reports whether fn's qual names a version or alias.
func (v *versionStore) resolveCheck(name, qual string) (string, string, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	f := v.fns[name]
	if f == nil {
		return "", "", false
	}
	if f.Aliases[qual] != nil || f.Versions[qual] != nil {
		return name, qual, true
	}
	return "", "", false
}

// serveURLConfig lets a function URL be created on an alias: kumo gets the
// bare function, the qualifier is kept here, put back in answers and used
// to route the URL's invokes.
func (v *versionStore) serveURLConfig(w http.ResponseWriter, req *http.Request) {
	rest := strings.TrimPrefix(req.URL.Path, "/2021-10-31/functions/")
	ident, tail, _ := strings.Cut(rest, "/")
	name, qual := splitQualifier(mustUnescape(ident))
	if q := req.URL.Query().Get("Qualifier"); q != "" {
		qual = q
	}
	if qual == "" || qual == "$LATEST" {
		v.next.ServeHTTP(w, req)
		return
	}
	if _, _, ok := v.resolveCheck(name, qual); !ok {
		fnNotFound(w, name+":"+qual)
		return
	}
	req.URL.Path = "/2021-10-31/functions/" + url.PathEscape(name) + "/" + tail
	req.URL.RawPath = ""
	q := req.URL.Query()
	q.Del("Qualifier")
	req.URL.RawQuery = q.Encode()
	buf := &bufferedResponse{header: http.Header{}}
	v.next.ServeHTTP(buf, req)
	if buf.status == 0 {
		buf.status = http.StatusOK
	}
	if buf.status/100 == 2 {
		if f := v.state(name, false); f != nil {
			v.mu.Lock()
			if req.Method == http.MethodDelete {
				f.URLQualifier = ""
			} else {
				f.URLQualifier = qual
			}
			v.save()
			v.mu.Unlock()
		}
	}
	writeEdited(w, buf, func(out map[string]any) {
		if arn, _ := out["FunctionArn"].(string); arn != "" {
			out["FunctionArn"] = withQualifier(arn, qual)
		}
	})
}

// frontClients are kumoClients of engines' own endpoints, by endpoint.
var frontClients sync.Map

// invokeMapped invokes an event source mapping's function with event: a
// qualified one (fn:live) through the engine's front, where versions are
// resolved; an unqualified one straight in kumo, as before.
func (r *runner) invokeMapped(ctx context.Context, fnArn string, event []byte) ([]byte, http.Header, error) {
	target := qualifiedName(fnArn)
	if !strings.Contains(target, ":") {
		return r.call(ctx, http.MethodPost, lambdaPrefix+"/"+target+"/invocations", "lambda", "", json.RawMessage(event))
	}
	c, ok := frontClients.Load(r.endpoint)
	if !ok {
		c, _ = frontClients.LoadOrStore(r.endpoint, newKumoClient(r.endpoint))
	}
	return c.(kumoClient).call(ctx, http.MethodPost, lambdaPrefix+"/"+url.PathEscape(target)+"/invocations", "lambda", "", json.RawMessage(event))
}

// idleUnused stops the handlers of fn's versions that no alias uses (kept
// for a rollback, or published and never released): each would otherwise
// hold a process. The next invoke of one starts it again (wake), a cold
// start as on Lambda.
func (v *versionStore) idleUnused(name string) {
	if v.run == nil {
		return
	}
	v.mu.Lock()
	var unused []string
	if f := v.fns[name]; f != nil {
		used := map[string]bool{}
		for _, a := range f.Aliases {
			used[a.FunctionVersion] = true
			for x := range a.Weights {
				used[x] = true
			}
		}
		for n, pv := range f.Versions {
			if !used[n] {
				unused = append(unused, pv.Hidden)
			}
		}
	}
	v.mu.Unlock()
	for _, h := range unused {
		v.run.mu.Lock()
		if fn := v.run.fns[h]; fn != nil && fn.cmd != nil && fn.inflight == nil && !v.run.closed {
			stopFn(fn)
			fn.status = "idle: a version no alias uses (started by its next invoke)"
			v.idleMu.Lock()
			v.idle[h] = true
			v.idleMu.Unlock()
			v.lg.Printf("function %s: idle, no alias uses it: handler stopped until its next invoke", h)
		}
		v.run.mu.Unlock()
	}
}

// wake starts the handler of a version idleUnused stopped, before an invoke
// of it goes on (the runner then holds the invoke until the handler polls).
// The engine that stopped it may not be the one kumo's self-call reached
// (engines in one process, as in tests), so every live store is asked.
func (v *versionStore) wake(kumoName string) {
	versionStores.mu.Lock()
	stores := append([]*versionStore{v}, versionStores.list...)
	versionStores.mu.Unlock()
	for _, s := range stores {
		s.wakeOwn(kumoName)
	}
}

func (v *versionStore) wakeOwn(kumoName string) {
	v.idleMu.Lock()
	idle := v.idle[kumoName]
	delete(v.idle, kumoName)
	v.idleMu.Unlock()
	if !idle || v.run == nil {
		return
	}
	v.run.mu.Lock()
	defer v.run.mu.Unlock()
	if fn := v.run.fns[kumoName]; fn != nil && fn.cmd == nil && !v.run.closed {
		v.run.restartLocked(fn)
	}
}

// page answers one page of a list as Lambda pages them: MaxItems (default
// 50) from Marker, with NextMarker when more follow.
func page(req *http.Request, key string, list []any) map[string]any {
	q := req.URL.Query()
	from, _ := strconv.Atoi(q.Get("Marker"))
	n, err := strconv.Atoi(q.Get("MaxItems"))
	if err != nil || n <= 0 {
		n = 50
	}
	from = min(max(from, 0), len(list))
	to := min(from+n, len(list))
	out := map[string]any{key: list[from:to]}
	if to < len(list) {
		out["NextMarker"] = strconv.Itoa(to)
	}
	return out
}
