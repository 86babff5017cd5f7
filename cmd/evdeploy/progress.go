package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/charmbracelet/x/term"

	"github.com/evdeploy/evdeploy/planner"
)

// progress shows apply's and destroy's operations as they happen. One of
// three views, chosen by where the output goes:
//
//   - live: at a terminal (stderr), one line per operation in flight with a
//     spinner and its elapsed time, under the finished ones, above a running
//     count "12/48"; redrawn ten times a second.
//   - plain: without a terminal (CI logs) or with NO_COLOR/--no-color (the
//     live view moves the cursor with escape codes), one line per start and
//     end, prefixed with the count.
//   - json (--json): besides either view on stderr, one JSON object per
//     event on stdout, after the plan document (docs/plan-json.md).
type progress struct {
	mu      sync.Mutex
	w       io.Writer // stderr: the human view
	live    bool
	stream  *json.Encoder // stdout event stream, nil without --json
	verb    string
	started time.Time // the command's start, for the wall time

	total, done int
	inflight    map[string]planner.Event // by address+op, Started events
	status      map[string]string        // by address: a long operation's latest Status (a release's step)
	drawn       int                      // lines of the live region on screen
	width       int                      // the terminal's columns: live lines are cut to fit
	frame       int
	stop        chan struct{}
	stopped     chan struct{}
}

// progressView decides the view from the streams and flags.
func newProgress(f *Factory, verb string, jsonStream bool, started time.Time) *progress {
	p := &progress{
		w: f.IO.ErrOut, verb: verb, started: started,
		live:     f.IO.ErrTTY && f.IO.Color && os.Getenv("TERM") != "dumb",
		inflight: map[string]planner.Event{},
		status:   map[string]string{},
	}
	if jsonStream {
		p.stream = json.NewEncoder(f.IO.Out)
		p.stream.SetEscapeHTML(false)
	}
	if p.live {
		// A live line that wrapped would break the redraw (it moves the
		// cursor up by lines written, not rows used).
		p.width = 80
		if fd, ok := f.IO.ErrOut.(interface{ Fd() uintptr }); ok {
			if w, _, err := term.GetSize(fd.Fd()); err == nil && w > 0 {
				p.width = w
			}
		}
		p.stop, p.stopped = make(chan struct{}), make(chan struct{})
		go p.tick()
	}
	return p
}

var spinner = []string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}

func (p *progress) tick() {
	defer close(p.stopped)
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
			p.mu.Lock()
			p.frame++
			p.redraw(nil)
			p.mu.Unlock()
		}
	}
}

func opKey(e planner.Event) string { return e.Addr.String() + " " + e.Op }

// event is the executor's observer (calls are serialised by the executor).
func (p *progress) event(e planner.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.total = e.Total
	switch e.Phase {
	case planner.Started:
		p.inflight[opKey(e)] = e
	case planner.Succeeded, planner.Failed:
		delete(p.inflight, opKey(e))
		p.done++
	}
	p.emit(e)
	var line string
	switch {
	case e.Phase == planner.Started && p.live:
		// The live region shows it; no permanent line.
	case e.Phase == planner.Retrying && p.live:
		// Kept on screen: a retry explains a slow operation.
		line = "… " + e.String()
	default:
		mark := map[planner.Phase]string{planner.Started: " ", planner.Retrying: "…", planner.Succeeded: "✓", planner.Failed: "✗"}[e.Phase]
		if p.live {
			line = fmt.Sprintf("%s %s", mark, e.String())
		} else {
			line = fmt.Sprintf("[%d/%d] %s", p.done, p.total, e.String())
		}
	}
	if p.live {
		p.redraw(&line)
	} else if line != "" {
		fmt.Fprintln(p.w, line)
	}
}

// redraw replaces the live region (and prints a permanent line above it).
func (p *progress) redraw(permanent *string) {
	if !p.live {
		return
	}
	var b strings.Builder
	if p.drawn > 0 {
		fmt.Fprintf(&b, "\x1b[%dA\r\x1b[J", p.drawn) // up to the region's start, clear below
	}
	if permanent != nil && *permanent != "" {
		b.WriteString(*permanent)
		b.WriteString("\n")
	}
	keys := make([]string, 0, len(p.inflight))
	for k := range p.inflight {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, c := p.inflight[keys[i]], p.inflight[keys[j]]
		if !a.Start.Equal(c.Start) {
			return a.Start.Before(c.Start)
		}
		return keys[i] < keys[j]
	})
	now := time.Now()
	for _, k := range keys {
		e := p.inflight[k]
		line := fmt.Sprintf("%s %s: %s %s", spinner[p.frame%len(spinner)], e.Addr, gerund(e.Op), formatSeconds(now.Sub(e.Start)))
		if st := p.status[e.Addr.String()]; st != "" {
			line += " — " + st
		}
		b.WriteString(fit(line, p.width))
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "%d/%d done, %d in flight\n", p.done, p.total, len(keys))
	p.drawn = len(keys) + 1
	io.WriteString(p.w, b.String())
}

// fit cuts s to fewer than width columns (one rune, one column: addresses are
// ASCII), ending with … when cut.
func fit(s string, width int) string {
	r := []rune(s)
	if width < 2 || len(r) < width {
		return s
	}
	return string(r[:width-2]) + "…"
}

func gerund(op string) string {
	switch op {
	case "create":
		return "creating"
	case "update":
		return "updating"
	case "delete":
		return "deleting"
	case "adopt":
		return "adopting"
	}
	return op
}

// close stops the live view, leaving the finished lines on screen.
func (p *progress) close() {
	if !p.live {
		return
	}
	close(p.stop)
	<-p.stopped
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn > 0 {
		fmt.Fprintf(p.w, "\x1b[%dA\r\x1b[J", p.drawn)
		p.drawn = 0
	}
}

// streamEvent is one line of the --json event stream (docs/plan-json.md).
type streamEvent struct {
	Type      string `json:"type"` // start, retry, end, error, summary
	Address   string `json:"address,omitempty"`
	Block     string `json:"block,omitempty"`
	Resource  string `json:"resource_type,omitempty"`
	Action    string `json:"action,omitempty"`
	Time      string `json:"time"`
	Started   string `json:"started,omitempty"`
	ElapsedMS *int64 `json:"elapsed_ms,omitempty"`
	Attempt   int    `json:"attempt,omitempty"`
	Error     string `json:"error,omitempty"`
	Message   string `json:"message,omitempty"` // release: a step of a live alias's release
	Done      int    `json:"done"`
	Total     int    `json:"total"`

	// summary only
	Operation  string `json:"operation,omitempty"` // apply or destroy
	Status     string `json:"status,omitempty"`    // complete, no_changes, failed, interrupted
	Added      *int   `json:"added,omitempty"`
	Changed    *int   `json:"changed,omitempty"`
	Replaced   *int   `json:"replaced,omitempty"`
	Destroyed  *int   `json:"destroyed,omitempty"`
	Failed     *int   `json:"failed,omitempty"`
	NotStarted *int   `json:"not_started,omitempty"`
}

const stamp = "2006-01-02T15:04:05.000Z07:00"

func (p *progress) emit(e planner.Event) {
	if p.stream == nil {
		return
	}
	se := streamEvent{
		Type: e.Phase.String(), Address: e.Addr.String(), Block: e.Addr.Block, Resource: e.Addr.Type,
		Action: e.Op, Time: e.At.UTC().Format(stamp), Started: e.Start.UTC().Format(stamp),
		Done: p.done, Total: p.total,
	}
	if e.Phase != planner.Started {
		ms := e.Elapsed.Milliseconds()
		se.ElapsedMS = &ms
	}
	if e.Phase == planner.Retrying {
		se.Attempt = e.Attempt
	}
	if e.Err != nil {
		se.Error = e.Err.Error()
	}
	_ = p.stream.Encode(se)
}

// summary ends every run: totals and wall time on stderr or stdout (human),
// and the summary event on the stream.
func (p *progress) summary(w io.Writer, status string, sum planner.Summary, res *planner.ApplyResult) {
	wall := time.Since(p.started)
	failed, notStarted := 0, 0
	if res != nil {
		failed, notStarted = len(res.Failed), len(res.NotStarted)
	}
	switch status {
	case "no_changes":
		if p.verb == "destroy" {
			fmt.Fprintf(w, "Nothing to destroy (%s).\n", formatSeconds(wall))
		} else {
			fmt.Fprintf(w, "\nNo changes to %s (%s).\n", p.verb, formatSeconds(wall))
		}
	case "complete":
		fmt.Fprintf(w, "\n%s complete: %d added, %d changed, %d replaced, %d destroyed in %s.\n",
			capitalize(p.verb), sum.Add, sum.Change, sum.Replace, sum.Destroy, formatSeconds(wall))
	default:
		fmt.Fprintf(w, "\n%s stopped after %s: %d done, %d failed, %d not started. State records everything that was done; fix the cause and run %s again.\n",
			capitalize(p.verb), formatSeconds(wall), len(res.Done), failed, notStarted, p.verb)
	}
	if p.stream == nil {
		return
	}
	ms := wall.Milliseconds()
	_ = p.stream.Encode(streamEvent{
		Type: "summary", Operation: p.verb, Status: status, Time: time.Now().UTC().Format(stamp),
		ElapsedMS: &ms, Done: p.done, Total: p.total,
		Added: &sum.Add, Changed: &sum.Change, Replaced: &sum.Replace, Destroyed: &sum.Destroy,
		Failed: &failed, NotStarted: &notStarted,
	})
}

// formatSeconds prints a wall time: "0.4 s", "12 s", "2 min 5 s".
func formatSeconds(d time.Duration) string {
	switch {
	case d < 10*time.Second:
		return fmt.Sprintf("%.1f s", d.Seconds())
	case d < time.Minute:
		return fmt.Sprintf("%.0f s", d.Seconds())
	}
	d = d.Round(time.Second)
	return fmt.Sprintf("%d min %d s", int(d.Minutes()), int(d.Seconds())%60)
}

// release shows a step of a release (planner.ReleaseProgress, planner.ReleaseStatus): a
// permanent line and a "release" event on the stream; a Status only
// updates the live line.
func (p *progress) release(addr, msg string, transient bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if transient {
		p.status[addr] = msg
		return
	}
	delete(p.status, addr)
	if p.stream != nil {
		_ = p.stream.Encode(streamEvent{Type: "release", Address: addr, Message: msg, Time: time.Now().UTC().Format(stamp), Done: p.done, Total: p.total})
	}
	line := "  " + addr + ": " + msg
	if p.live {
		p.redraw(&line)
	} else {
		fmt.Fprintln(p.w, line)
	}
}
