package localstack

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"os/exec"
	"strings"
	"time"
)

// The invocation lifecycle as Lambda runs it, which kumo leaves to the
// handler: START, END and REPORT lines (Duration, Billed Duration, Memory
// Size, Max Memory Used, Init Duration on a cold start); the function's
// timeout enforced (the process is replaced); memory measured, and an
// invocation above the function's memory ended as Runtime.OutOfMemory; a
// process that exits mid-invocation reported as Runtime.ExitError; and a
// function whose init fails answered with its init error (200 and
// X-Amz-Function-Error: Unhandled), as Lambda answers, where kumo answers 500
// ServiceException, which SDKs retry.

// invocation is the one a handler process is working on.
type invocation struct {
	id      string
	started time.Time
	timer   *time.Timer
	stopMem chan struct{}
	ended   bool
	peakMB  int // highest memory seen by the watcher
}

// timeoutLead: the engine ends a timed-out invocation this much before kumo
// would, so the answer is the engine's (Lambda's wording, with the request id).
const timeoutLead = 25 * time.Millisecond

// invocationStarted: fn's handler took invocation id.
func (r *runner) invocationStarted(name, id string) {
	r.mu.Lock()
	fn := r.fns[name]
	if fn == nil || fn.cmd == nil {
		r.mu.Unlock()
		r.fnLine(name, "START RequestId: "+id+" Version: "+publishedVersionOf(name))
		return
	}
	inv := &invocation{id: id, started: time.Now(), stopMem: make(chan struct{})}
	fn.inflight = inv
	gen, pid, limit := fn.gen, fn.cmd.Process.Pid, fn.conf.MemorySize
	timeout := fn.conf.Timeout
	if timeout <= 0 {
		timeout = 3
	}
	debugged := fn.debugPort != 0 // a breakpoint may hold it: no timeout, no memory limit
	if !debugged {
		inv.timer = time.AfterFunc(time.Duration(timeout)*time.Second-timeoutLead, func() { r.timedOut(fn, gen, inv, timeout) })
	}
	r.mu.Unlock()
	r.fnLine(name, "START RequestId: "+id+" Version: "+publishedVersionOf(name))
	if limit > 0 && memoryMeasured && !debugged {
		go r.watchMemory(fn, gen, inv, pid, limit)
	}
}

// watchMemory ends inv as Lambda would once fn's process tree uses more
// than its memory.
func (r *runner) watchMemory(fn *fnRun, gen int, inv *invocation, pid, limitMB int) {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-inv.stopMem:
			return
		case <-t.C:
		}
		mb := treeMemoryMB(pid, false)
		r.mu.Lock()
		if mb > inv.peakMB {
			inv.peakMB = mb
		}
		r.mu.Unlock()
		if mb > limitMB {
			r.outOfMemory(fn, gen, inv)
			return
		}
	}
}

// invocationFinishing is called when fn's handler posts id's response or
// error, before it goes on to kumo. It returns false when the engine has
// ended the invocation instead (over its memory: the post is dropped), and
// otherwise a function that writes END and REPORT once the post went on.
func (r *runner) invocationFinishing(name, id string) (report func(), ok bool) {
	r.mu.Lock()
	fn := r.fns[name]
	if fn == nil || fn.inflight == nil || fn.inflight.id != id || fn.inflight.ended {
		r.mu.Unlock()
		return func() {}, fn == nil || fn.inflight == nil || fn.inflight.id != id
	}
	inv, gen, limit := fn.inflight, fn.gen, fn.conf.MemorySize
	peak := inv.peakMB
	if fn.cmd != nil && memoryMeasured {
		peak = max(peak, treeMemoryMB(fn.cmd.Process.Pid, true))
	}
	if limit > 0 && memoryMeasured && peak > limit && fn.debugPort == 0 {
		r.mu.Unlock()
		r.outOfMemory(fn, gen, inv)
		return nil, false
	}
	r.endLocked(fn, inv)
	initDur := r.takeInitLocked(fn)
	r.mu.Unlock()
	d := time.Since(inv.started)
	return func() { r.report(name, id, d, limit, peak, initDur, "", "") }, true
}

// endLocked marks inv ended. r.mu is held.
func (r *runner) endLocked(fn *fnRun, inv *invocation) {
	inv.ended = true
	if inv.timer != nil {
		inv.timer.Stop()
	}
	close(inv.stopMem)
	if fn.inflight == inv {
		fn.inflight = nil
	}
}

// takeInitLocked returns the Init Duration to report once per process.
func (r *runner) takeInitLocked(fn *fnRun) time.Duration {
	if !fn.reportInit {
		return 0
	}
	fn.reportInit = false
	return fn.initDur
}

// report writes END and REPORT for one invocation.
func (r *runner) report(name, id string, d time.Duration, memMB, usedMB int, initDur time.Duration, status, errType string) {
	r.fnLine(name, "END RequestId: "+id)
	ms := float64(d.Microseconds()) / 1000
	line := fmt.Sprintf("REPORT RequestId: %s\tDuration: %.2f ms\tBilled Duration: %d ms\tMemory Size: %d MB", id, ms, int(math.Ceil(ms)), memMB)
	if memoryMeasured {
		line += fmt.Sprintf("\tMax Memory Used: %d MB", usedMB)
	}
	if initDur > 0 {
		line += fmt.Sprintf("\tInit Duration: %.2f ms", float64(initDur.Microseconds())/1000)
	}
	if status != "" {
		line += "\tStatus: " + status
	}
	if errType != "" {
		line += "\tError Type: " + errType
	}
	r.fnLine(name, line)
}

// fail ends inv on the engine's side: the error document goes to kumo as
// the invocation's error (the invoker gets it), the log gets logMsg, END and
// REPORT. It reports false if inv had already ended.
func (r *runner) fail(fn *fnRun, inv *invocation, errType, errMsg, logMsg, status string, usedMB int) bool {
	r.mu.Lock()
	if inv.ended {
		r.mu.Unlock()
		return false
	}
	r.endLocked(fn, inv)
	initDur := r.takeInitLocked(fn)
	if usedMB == 0 {
		usedMB = inv.peakMB
	}
	name, memMB := fn.name, fn.conf.MemorySize
	r.mu.Unlock()
	d := time.Since(inv.started)
	r.fnLine(name, logMsg)
	body, _ := json.Marshal(map[string]string{"errorType": errType, "errorMessage": errMsg})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost,
		r.kumoURL+"/_runtime/"+name+"/2018-06-01/runtime/invocation/"+inv.id+"/error", bytes.NewReader(body))
	if err == nil {
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Lambda-Runtime-Function-Error-Type", errType)
		if resp, err := r.client.Do(req); err == nil {
			resp.Body.Close()
		}
	}
	if status == "error" && errType != "" {
		r.report(name, inv.id, d, memMB, usedMB, initDur, status, errType)
	} else {
		r.report(name, inv.id, d, memMB, usedMB, initDur, status, "")
	}
	return true
}

// timedOut ends inv after fn's timeout and replaces the process.
func (r *runner) timedOut(fn *fnRun, gen int, inv *invocation, timeout int) {
	secs := fmt.Sprintf("%.2f", float64(timeout))
	now := time.Now().UTC().Format("2006-01-02T15:04:05.000Z")
	if !r.fail(fn, inv, "Sandbox.Timedout", "RequestId: "+inv.id+" Error: Task timed out after "+secs+" seconds",
		now+" "+inv.id+" Task timed out after "+secs+" seconds", "timeout", 0) {
		return
	}
	r.replace(fn, gen)
}

// outOfMemory ends inv as Lambda ends a function over its memory.
func (r *runner) outOfMemory(fn *fnRun, gen int, inv *invocation) {
	r.mu.Lock()
	if fn.gen == gen && fn.cmd != nil {
		_ = killGroup(fn.cmd.Process.Pid)
	}
	limit := fn.conf.MemorySize
	r.mu.Unlock()
	msg := "RequestId: " + inv.id + " Error: Runtime exited with error: signal: killed"
	if r.fail(fn, inv, "Runtime.OutOfMemory", msg, msg+"\nRuntime.OutOfMemory", "error", limit) {
		r.replace(fn, gen)
	}
}

// replace starts a fresh process for fn (the next invocation's), unless fn
// was redeployed or deleted meanwhile.
func (r *runner) replace(fn *fnRun, gen int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.closed && fn.gen == gen && r.fns[fn.name] == fn {
		fn.quick = 0
		r.restartLocked(fn)
	}
}

// exitText is how Lambda words a process's end: "exit status 1", "signal: killed".
func exitText(err error) string {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.Error()
	}
	if err == nil {
		return "exit status 0"
	}
	return err.Error()
}

// initError records the error document a runtime posted to init/error.
func (r *runner) initError(name string, body []byte, errType string) {
	if errType == "" {
		var d struct {
			ErrorType string `json:"errorType"`
		}
		_ = json.Unmarshal(body, &d)
		errType = d.ErrorType
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if fn := r.fns[name]; fn != nil {
		fn.initErr, fn.initType = body, errType
	}
}

// answerInitFailure answers an invoke of a function whose init failed as
// Lambda does: init runs again (a fresh process), and if it fails again the
// invoke gets 200, X-Amz-Function-Error: Unhandled and the init error.
func (r *runner) answerInitFailure(w http.ResponseWriter, req *http.Request, name string) bool {
	if req.Header.Get("X-Amz-Invocation-Type") == "Event" || req.Header.Get("X-Amz-Invocation-Type") == "DryRun" {
		return false
	}
	r.mu.Lock()
	fn := r.fns[name]
	if fn == nil || fn.cmd != nil || !fn.initFailed {
		r.mu.Unlock()
		return false
	}
	fn.nextPhase = "invoke"
	r.restartLocked(fn)
	r.mu.Unlock()
	r.awaitReady(req.Context(), name)
	id := newRequestID()
	r.mu.Lock()
	if r.fns[name] != fn || fn.cmd != nil || !fn.initFailed {
		r.mu.Unlock()
		return false
	}
	body, errType := fn.initErr, fn.initType
	logMsg := ""
	if body == nil {
		msg := "RequestId: " + id + " Error: " + fn.initExit
		body, _ = json.Marshal(map[string]string{"errorType": errType, "errorMessage": msg})
		logMsg = msg + "\n" + errType
	}
	var d time.Duration
	if !fn.startedAt.IsZero() {
		d = time.Since(fn.startedAt)
	}
	memMB := fn.conf.MemorySize
	if fn.stream == "" {
		fn.stream = newStreamName() // it never started: its log still gets the invoke
	}
	r.mu.Unlock()
	r.fnLine(name, "START RequestId: "+id+" Version: "+publishedVersionOf(name))
	if logMsg != "" {
		r.fnLine(name, logMsg)
	}
	r.report(name, id, d, memMB, 0, 0, "error", errType)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amz-Function-Error", "Unhandled")
	w.Header().Set("X-Amz-Executed-Version", publishedVersionOf(name))
	w.Header().Set("X-Amzn-Requestid", id)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
	return true
}

// initReportLocked writes the INIT_REPORT line Lambda writes when a
// function's init fails (the process ended before its first poll): "Phase:
// init" at the deploy or start, "Phase: invoke" when an invoke ran it again.
// A successful init has none (its duration is on the first REPORT). r.mu is
// held.
func (r *runner) initReportLocked(fn *fnRun) {
	errType, phase := fn.initType, fn.initPhase
	if errType == "" {
		errType = "Runtime.ExitError"
	}
	if phase == "" {
		phase = "init"
	}
	ms := float64(time.Since(fn.startedAt).Microseconds()) / 1000
	line := fmt.Sprintf("INIT_REPORT Init Duration: %.2f ms\tPhase: %s\tStatus: error\tError Type: %s", ms, phase, errType)
	if fn.logw != nil {
		if _, err := fn.logw.Write(logFrame(line)); err == nil {
			return
		}
	}
	r.lg.Print("[" + fn.name + "] " + line)
	if fn.stream != "" {
		r.logs.add(fn.name, fn.stream, line)
	}
}

// newRequestID is a request id in Lambda's (UUID) form.
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// runtimeInitError recognises a handler posting its init error.
func runtimeInitError(method, path string) (string, bool) {
	rest, ok := strings.CutPrefix(path, "/_runtime/")
	if !ok || method != http.MethodPost {
		return "", false
	}
	name, tail, _ := strings.Cut(rest, "/")
	return name, tail == "2018-06-01/runtime/init/error"
}
