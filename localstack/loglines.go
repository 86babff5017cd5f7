package localstack

import (
	"bufio"
	"bytes"
	"fmt"
	"sync"
	"time"
)

// A function's log lines: its handler's output and the START, END and REPORT
// lines the runner writes around each invocation, into the engine log and
// CloudWatch Logs (fnlogs.go ships them).

// fnLine writes one line of fn's log: the engine log and CloudWatch Logs.
func (r *runner) fnLine(name, line string) {
	r.mu.Lock()
	stream := ""
	if fn := r.fns[name]; fn != nil {
		stream = fn.stream
	}
	r.mu.Unlock()
	r.lg.Print("[" + name + "] " + line)
	if stream != "" {
		r.logs.add(name, stream, line)
	}
}

func (r *runner) invocationStarted(name, id string) {
	r.mu.Lock()
	r.requests[id] = time.Now()
	r.mu.Unlock()
	r.fnLine(name, "START RequestId: "+id+" Version: $LATEST")
}

func (r *runner) invocationDone(name, id string) {
	r.mu.Lock()
	started, ok := r.requests[id]
	delete(r.requests, id)
	mem := 0
	if fn := r.fns[name]; fn != nil {
		mem = fn.conf.MemorySize
	}
	r.mu.Unlock()
	if !ok {
		return
	}
	r.fnLine(name, "END RequestId: "+id)
	d := float64(time.Since(started).Microseconds()) / 1000
	r.fnLine(name, fmt.Sprintf("REPORT RequestId: %s\tDuration: %.2f ms\tMemory Size: %d MB", id, d, mem))
}

// lineLogger writes a handler's output to the engine log, line by line.
type lineLogger struct {
	mu   sync.Mutex
	line func(string)
	buf  []byte
}

func (l *lineLogger) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, p...)
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			break
		}
		l.line(string(l.buf[:i]))
		l.buf = l.buf[i+1:]
	}
	return len(p), nil
}

func (l *lineLogger) flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.buf) > 0 {
		sc := bufio.NewScanner(bytes.NewReader(l.buf))
		for sc.Scan() {
			l.line(sc.Text())
		}
		l.buf = nil
	}
}
