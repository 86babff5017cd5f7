package localstack

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"os"
	"strings"
	"sync"
	"time"
)

// A function's log lines: its handler's output and the START, END and REPORT
// lines the runner writes around each invocation, into the engine log and
// CloudWatch Logs (fnlogs.go ships them).

// fnLine writes one line of fn's log: the engine log and CloudWatch Logs.
// While fn's process runs, the line goes through its output pipe as one
// frame, behind what the process wrote before.
func (r *runner) fnLine(name, line string) {
	r.mu.Lock()
	stream := ""
	var w *os.File
	if fn := r.fns[name]; fn != nil {
		stream, w = fn.stream, fn.logw
	}
	r.mu.Unlock()
	if w != nil {
		if _, err := w.Write(logFrame(line)); err == nil {
			return
		}
	}
	r.lg.Print("[" + name + "] " + line)
	if stream != "" {
		r.logs.add(name, stream, line)
	}
}

// logFrame is msg in the telemetry framing lineLogger reads.
func logFrame(msg string) []byte {
	b := make([]byte, frameHeader+len(msg))
	binary.BigEndian.PutUint32(b[0:4], 0xa55a0003)
	binary.BigEndian.PutUint32(b[4:8], uint32(len(msg)))
	binary.BigEndian.PutUint64(b[8:16], uint64(time.Now().UnixMicro()))
	copy(b[frameHeader:], msg)
	return b
}

// lineLogger writes a handler's output to the function's log: a line per
// line, except a frame in the telemetry framing Lambda's runtimes use
// (0xa55a0003, 4-byte length, 8-byte µs timestamp, message), which is one
// event however many lines it holds (the runtime loops write errors and
// console calls so). A frame can only start where a line would: 0xa5 never
// starts UTF-8 text.
type lineLogger struct {
	mu   sync.Mutex
	line func(string)
	buf  []byte
}

const frameHeader = 16

func (l *lineLogger) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, p...)
	for len(l.buf) > 0 {
		if l.buf[0] == 0xa5 {
			if len(l.buf) < frameHeader {
				break
			}
			if l.buf[1] == 0x5a {
				n := int(binary.BigEndian.Uint32(l.buf[4:8]))
				if len(l.buf) < frameHeader+n {
					break
				}
				l.line(strings.TrimRight(string(l.buf[frameHeader:frameHeader+n]), "\n"))
				l.buf = l.buf[frameHeader+n:]
				continue
			}
		}
		i := bytes.IndexByte(l.buf, '\n')
		// A frame behind a line the process left unfinished (a write with
		// no newline, then the engine's END): the unfinished part is its
		// own event, as Lambda logs it, not glued to the frame.
		if j := bytes.Index(l.buf, frameMagic); j > 0 && (i < 0 || j < i) {
			l.line(string(l.buf[:j]))
			l.buf = l.buf[j:]
			continue
		}
		if i < 0 {
			break
		}
		l.line(string(l.buf[:i]))
		l.buf = l.buf[i+1:]
	}
	return len(p), nil
}

// frameMagic starts a frame; its NUL never occurs in a process's text.
var frameMagic = []byte{0xa5, 0x5a, 0x00, 0x03}

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
