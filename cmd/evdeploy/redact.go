package main

import (
	"io"
	"sort"
	"strings"
	"sync"

	"github.com/evdeploy/evdeploy/planner"
)

// minSecretLen is the shortest sensitive value scrubbed from output: a
// shorter one ("1", "yes") would blank unrelated text and protect nothing.
const minSecretLen = 4

// redactor scrubs the text of sensitive values from everything the CLI
// writes. Plans and outputs already render them as (sensitive); this is the
// backstop for text evdeploy does not compose itself, such as an AWS error
// that echoes a request, or a log line at any level.
type redactor struct {
	mu       sync.RWMutex
	secrets  []string // longest first, so a secret inside another is not half-replaced
	replacer *strings.Replacer
}

// add registers more sensitive values.
func (r *redactor) add(secrets ...string) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	seen := map[string]bool{}
	for _, s := range r.secrets {
		seen[s] = true
	}
	for _, s := range secrets {
		if len(s) >= minSecretLen && !seen[s] {
			seen[s] = true
			r.secrets = append(r.secrets, s)
		}
	}
	sort.Slice(r.secrets, func(i, j int) bool { return len(r.secrets[i]) > len(r.secrets[j]) })
	pairs := make([]string, 0, 2*len(r.secrets))
	for _, s := range r.secrets {
		pairs = append(pairs, s, planner.SensitiveText)
	}
	r.replacer = strings.NewReplacer(pairs...)
}

func (r *redactor) scrub(s string) string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.replacer == nil {
		return s
	}
	return r.replacer.Replace(s)
}

// writer wraps w so that what is written through it is scrubbed.
func (r *redactor) writer(w io.Writer) io.Writer { return redactWriter{r: r, w: w} }

type redactWriter struct {
	r *redactor
	w io.Writer
}

func (rw redactWriter) Write(p []byte) (int, error) {
	if _, err := io.WriteString(rw.w, rw.r.scrub(string(p))); err != nil {
		return 0, err
	}
	return len(p), nil
}
