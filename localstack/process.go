package localstack

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Handler processes: unpacking a function's code, starting its process with
// Lambda's environment, restarting one that dies, stopping one on purpose.
// What runs (the command line) is the runtime's business (runtime.go).

func (r *runner) remove(name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if fn := r.fns[name]; fn != nil {
		delete(r.fns, name)
		r.forget(name)
		stopFn(fn)
		closeLog(fn)
		os.RemoveAll(filepath.Join(r.root, name))
		r.lg.Printf("function %s: deleted; handler stopped", name)
	}
}

// restartLocked stops fn's process, unpacks its code and starts it again.
// r.mu is held.
func (r *runner) restartLocked(fn *fnRun) {
	// A debugged function's invocation has no timer (a breakpoint may hold
	// it) and kumo waits up to 15 minutes: one the old process was running
	// would never be answered, and kumo would queue every later request
	// behind it. Answer it now; others are ended by their timer.
	if inv := fn.inflight; inv != nil && !inv.ended && fn.debugPort != 0 {
		msg := "RequestId: " + inv.id + " Error: Runtime exited: the function was redeployed while this invocation ran"
		go r.fail(fn, inv, "Runtime.ExitError", msg, msg+"\nRuntime.ExitError", "error", 0)
	}
	stopFn(fn)
	closeLog(fn)
	fn.gen++
	fn.polled, fn.reportInit, fn.inflight = false, false, nil
	fn.initPhase, fn.nextPhase = fn.nextPhase, ""
	fn.initFailed, fn.initErr, fn.initType, fn.initExit = false, nil, "", ""
	if fn.zip == nil {
		fn.status = "not run: its code was not seen by this engine (deployed before it started?)"
		return
	}
	dir := filepath.Join(r.root, fn.name, strconv.Itoa(fn.gen))
	if fn.debugPort != 0 {
		dir = debugDir(r.root, fn.name)
	}
	os.RemoveAll(filepath.Join(r.root, fn.name))
	if err := unzip(fn.zip, dir); err != nil {
		fn.status = "not run: " + err.Error()
		r.lg.Printf("function %s: %s", fn.name, fn.status)
		return
	}
	argv, why := launcher(fn.conf, dir, r.root)
	if argv == nil {
		fn.status = "not run: " + why
		r.lg.Printf("function %s: %s", fn.name, fn.status)
		if _, ok := runtimeFor(fn.conf.Runtime).(providedRuntime); ok && strings.HasPrefix(why, "no ") {
			// As Lambda answers an invoke of a package without its bootstrap.
			fn.initFailed, fn.initType = true, "Runtime.InvalidEntrypoint"
			fn.initExit = "Couldn't find valid bootstrap(s): [/var/task/bootstrap /opt/bootstrap]"
			if fn.stream == "" {
				fn.stream = newStreamName()
			}
			fn.startedAt = time.Now()
			r.initReportLocked(fn)
		}
		return
	}
	if why != "" {
		r.lg.Printf("function %s: %s", fn.name, why)
	}
	if fn.debugPort != 0 {
		var err error
		if argv, err = runtimeFor(fn.conf.Runtime).debug(fn.conf, argv, fn.debugPort); err != nil {
			fn.status = "not run: " + err.Error()
			r.lg.Printf("function %s: %s", fn.name, fn.status)
			return
		}
	}
	env := r.handlerEnv(fn, dir)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = env
	// Own process group (stop kills helpers too); on Linux, die with the engine.
	cmd.SysProcAttr = handlerAttr()
	// A published version logs to its function's group, in streams named
	// 2026/12/07/[3]… as Lambda names them.
	public, version := publicFunction(fn.name)
	stream := strings.Replace(newStreamName(), "[$LATEST]", "["+version+"]", 1)
	cmd.Env = append(cmd.Env, "AWS_LAMBDA_LOG_STREAM_NAME="+stream, "AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/"+public)
	out := &lineLogger{line: func(l string) {
		r.lg.Print("[" + fn.name + "] " + l)
		r.logs.add(fn.name, stream, l)
	}}
	// The process's output and the engine's own lines about it (START, END,
	// REPORT, timeouts) share one pipe, so the log keeps the order in which
	// they happened: a line printed before the handler returned comes before
	// its END.
	pr, pw, err := os.Pipe()
	if err != nil {
		fn.status = "not run: " + err.Error()
		return
	}
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		pr.Close()
		pw.Close()
		fn.status = "not run: " + err.Error()
		r.lg.Printf("function %s: %s", fn.name, fn.status)
		return
	}
	fn.cmd, fn.done = cmd, make(chan struct{})
	fn.ready, fn.readyOnce = make(chan struct{}), &sync.Once{}
	fn.stream, fn.logw = stream, pw
	fn.startedAt = time.Now()
	fn.status = fmt.Sprintf("running (pid %d)", cmd.Process.Pid)
	if fn.debugPort != 0 {
		fn.status += ", under its debugger on " + debugAddr(fn.debugPort)
	}
	r.lg.Printf("function %s: started %s (%s), pid %d", fn.name, fn.conf.Runtime, filepath.Base(argv[len(argv)-1]), cmd.Process.Pid)
	gen, done, started := fn.gen, fn.done, time.Now()
	go func() {
		buf := make([]byte, 32<<10)
		for {
			n, err := pr.Read(buf)
			if n > 0 {
				_, _ = out.Write(buf[:n])
			}
			if err != nil {
				break
			}
		}
		out.flush()
		pr.Close()
	}()
	go func() {
		err := cmd.Wait()
		close(done)
		r.exited(fn, gen, started, err)
		// pw stays open (closeLog closes it at the next start or the
		// stop): what the engine writes about this process afterwards
		// (INIT_REPORT, an init failure's START…REPORT) stays behind
		// what the process wrote.
	}()
}

// handlerEnv is the environment of fn's process, as Lambda sets it, with its
// code unpacked in dir.
func (r *runner) handlerEnv(fn *fnRun, dir string) []string {
	// The Runtime API through the engine's front, so it sees the first poll.
	host := strings.TrimPrefix(r.endpoint, "http://")
	path := os.Getenv("PATH")
	if path == "" {
		path = "/usr/local/bin:/usr/bin:/bin"
	}
	public, version := publicFunction(fn.name) // a published version runs as its function
	env := []string{
		// The engine's PATH and HOME: interpreters (and version managers' shims) live there.
		"PATH=" + path,
		"HOME=" + os.Getenv("HOME"),
		"TZ=:UTC",
		"LAMBDA_TASK_ROOT=" + dir,
		"_HANDLER=" + fn.conf.Handler,
		"AWS_LAMBDA_RUNTIME_API=" + host + "/_runtime/" + fn.name,
		"AWS_LAMBDA_FUNCTION_NAME=" + public,
		"AWS_LAMBDA_FUNCTION_VERSION=" + version,
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=" + strconv.Itoa(fn.conf.MemorySize),
		"AWS_REGION=" + fn.region,
		"AWS_DEFAULT_REGION=" + fn.region,
		"AWS_ACCESS_KEY_ID=test",
		"AWS_SECRET_ACCESS_KEY=test",
		"AWS_ENDPOINT_URL=" + r.endpoint,
	}
	if fn.conf.Environment != nil {
		keys := make([]string, 0, len(fn.conf.Environment.Variables))
		for k := range fn.conf.Environment.Variables {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			env = append(env, k+"="+fn.conf.Environment.Variables[k])
		}
	}
	return env
}

// exited handles a handler's own end: mid-invocation it is Runtime.ExitError
// (and a fresh process for the next one); before its first poll the init
// failed (runs again at the next invoke); idle, it is restarted unless it
// keeps dying.
func (r *runner) exited(fn *fnRun, gen int, started time.Time, err error) {
	r.mu.Lock()
	if r.closed || fn.gen != gen || r.fns[fn.name] != fn {
		r.mu.Unlock()
		return // stopped on purpose
	}
	fn.cmd = nil
	if !fn.polled && fn.inflight == nil {
		// Before an invoke that waits for this init learns of its end.
		r.initReportLocked(fn)
	}
	if fn.readyOnce != nil {
		fn.readyOnce.Do(func() { close(fn.ready) })
	}
	if inv := fn.inflight; inv != nil && !inv.ended {
		r.mu.Unlock()
		msg := "RequestId: " + inv.id + " Error: Runtime exited with error: " + exitText(err)
		if r.fail(fn, inv, "Runtime.ExitError", msg, msg+"\nRuntime.ExitError", "error", 0) {
			r.replace(fn, gen)
		}
		return
	}
	defer r.mu.Unlock()
	if !fn.polled {
		fn.initFailed = true
		if fn.initType == "" {
			fn.initType = "Runtime.ExitError"
		}
		fn.initExit = "Runtime exited with error: " + exitText(err)
		fn.status = "init failed (" + fn.initType + "): runs again at the next invoke"
		r.lg.Printf("function %s: %s", fn.name, fn.status)
		return
	}
	if time.Since(started) < 5*time.Second {
		fn.quick++
	} else {
		fn.quick = 0
	}
	if fn.quick >= 3 {
		fn.status = fmt.Sprintf("not run: exited %d times in a row at start (%v)", fn.quick, err)
		r.lg.Printf("function %s: %s; not restarted until it is deployed again", fn.name, fn.status)
		return
	}
	r.lg.Printf("function %s: handler exited (%v); restarting", fn.name, err)
	time.AfterFunc(time.Duration(fn.quick)*500*time.Millisecond, func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		if !r.closed && fn.gen == gen && r.fns[fn.name] == fn {
			r.restartLocked(fn)
		}
	})
}

// closeLog closes the write end of fn's output pipe: its reader ends once
// the process's copies are closed too.
func closeLog(fn *fnRun) {
	if fn.logw != nil {
		fn.logw.Close()
		fn.logw = nil
	}
}

// stopFn ends fn's process (its whole group): SIGTERM, then SIGKILL.
func stopFn(fn *fnRun) {
	if fn.cmd == nil {
		return
	}
	cmd, done := fn.cmd, fn.done
	fn.cmd = nil
	fn.gen++ // the exit that follows is intended
	pgid := cmd.Process.Pid
	_ = terminateGroup(pgid)
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		_ = killGroup(pgid)
		<-done
	}
}

// unzip extracts a deployment package into dir, keeping file modes and
// refusing paths that leave dir.
func unzip(b []byte, dir string) error {
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return fmt.Errorf("the package is not a zip: %w", err)
	}
	for _, f := range zr.File {
		p := filepath.Join(dir, f.Name)
		if !strings.HasPrefix(p, filepath.Clean(dir)+string(os.PathSeparator)) {
			return fmt.Errorf("the package has a path outside its root: %s", f.Name)
		}
		if f.FileInfo().IsDir() {
			if err := os.MkdirAll(p, 0o755); err != nil {
				return err
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		mode := f.Mode().Perm()
		if mode == 0 {
			mode = 0o644
		}
		rc, err := f.Open()
		if err != nil {
			return err
		}
		w, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode|0o200)
		if err != nil {
			rc.Close()
			return err
		}
		_, err = io.Copy(w, rc)
		rc.Close()
		if cerr := w.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	}
	return nil
}
