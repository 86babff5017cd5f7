package aws

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/evdeploy/evdeploy/planner"
)

// canonicalJSON returns doc with sorted keys and no insignificant whitespace,
// the form docs/resources.md fixes for every JSON attribute. It accepts the
// URL-encoded form IAM returns policy documents in ("%7B%22Version..."), so a
// document reads back equal to the one that was written.
func canonicalJSON(doc string) (string, error) {
	s := strings.TrimSpace(doc)
	if s == "" {
		return "", nil
	}
	if !strings.HasPrefix(s, "{") && !strings.HasPrefix(s, "[") && strings.Contains(s, "%") {
		dec, err := url.QueryUnescape(s)
		if err != nil {
			return "", fmt.Errorf("decoding URL-encoded JSON document: %w", err)
		}
		s = dec
	}
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber() // keep numbers exactly as written (no float64 round trip)
	var v any
	if err := d.Decode(&v); err != nil {
		return "", fmt.Errorf("invalid JSON document: %w", err)
	}
	var b bytes.Buffer
	e := json.NewEncoder(&b)
	e.SetEscapeHTML(false) // keep "<", ">" and "&" as written, as AWS does
	if err := e.Encode(v); err != nil {
		return "", err
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}

// mustCanonicalJSON canonicalises a document the service returned; a service
// document that is not JSON is kept verbatim so the planner shows it as drift
// rather than failing the read.
func mustCanonicalJSON(doc string) string {
	c, err := canonicalJSON(doc)
	if err != nil {
		return doc
	}
	return c
}

// stringMapAttr converts a service's string map (tags, environment) into the
// attribute form; nil when empty, so the attribute is left out (a map the
// service reports empty and an absent attribute mean the same to evdeploy).
func stringMapAttr(m map[string]string) map[string]any {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// setMap sets attrs[k] to the map when it is non-empty.
func setMap(attrs planner.Attrs, k string, m map[string]string) {
	if v := stringMapAttr(m); v != nil {
		attrs[k] = v
	}
}

// stringsAttr converts a list of strings into the attribute form.
func stringsAttr[S ~string](l []S) []any {
	out := make([]any, len(l))
	for i, s := range l {
		out[i] = string(s)
	}
	return out
}

// tagDiff says which tags to set and which keys to remove to go from the
// tags in prior to the tags in desired.
func tagDiff(prior, desired map[string]string) (set map[string]string, remove []string) {
	set = map[string]string{}
	for k, v := range desired {
		if old, ok := prior[k]; !ok || old != v {
			set[k] = v
		}
	}
	for k := range prior {
		if _, ok := desired[k]; !ok {
			remove = append(remove, k)
		}
	}
	sort.Strings(remove)
	return set, remove
}

// priorARN is the ARN prior records or, for state written before it was
// recorded, the one Read finds now; what names the resource when it is gone.
func priorARN(ctx context.Context, h planner.Handler, id string, prior planner.Attrs, what string) (string, error) {
	if arn := prior.String("arn"); arn != "" {
		return arn, nil
	}
	cur, ok, err := h.Read(ctx, id, prior)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", fmt.Errorf("%s %q no longer exists", what, id)
	}
	return cur.String("arn"), nil
}

// propagating marks err as an IAM-propagation error the executor may retry.
func propagating(err error) error {
	return errors.Join(planner.ErrPropagating, err)
}

// ptrOr returns *p, or def when p is nil.
func ptrOr[T any](p *T, def T) T {
	if p == nil {
		return def
	}
	return *p
}

// waitFor polls check every interval until it reports done, it fails, or max
// elapses; the timeout error names what it waited for. Used where the SDK has
// no waiter (event source mapping states).
func waitFor(ctx context.Context, what string, interval, max time.Duration, check func(context.Context) (bool, error)) error {
	deadline := time.Now().Add(max)
	for {
		done, err := check(ctx)
		if err != nil {
			return fmt.Errorf("waiting for %s: %w", what, err)
		}
		if done {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out after %s waiting for %s", max, what)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w", what, ctx.Err())
		case <-time.After(interval):
		}
	}
}
