package aws

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/evdeploy/evdeploy/planner"
)

// A queue's or topic's policy is shared when the queue or topic is made
// elsewhere (existing = ...): evdeploy adds its own statements, recognised by
// their Sids, and leaves every other statement — and the document's text
// around them — as it found it. Statements are kept as the raw JSON they
// were written in and top-level keys in their order, so removing evdeploy's
// statements gives back the document byte for byte (for a compact
// document, which is how AWS stores one set through its API).

// policyDoc is a policy document with its top-level keys in order and its
// statements as raw JSON.
type policyDoc struct {
	keys   []string
	vals   map[string]json.RawMessage
	stmts  []json.RawMessage
	single bool // Statement was one object, not a list
}

func parsePolicyDoc(s string) (*policyDoc, error) {
	d := &policyDoc{vals: map[string]json.RawMessage{}}
	if s = strings.TrimSpace(s); s == "" {
		return d, nil
	}
	if c, err := canonicalJSON(s); err == nil && !strings.HasPrefix(s, "{") {
		s = c // URL-encoded (IAM-style): decoded
	}
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, fmt.Errorf("policy is not a JSON object")
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, err
		}
		k, _ := t.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, err
		}
		d.keys = append(d.keys, k)
		d.vals[k] = raw
	}
	if raw, ok := d.vals["Statement"]; ok {
		if t := bytes.TrimSpace(raw); len(t) > 0 && t[0] == '{' {
			d.single = true
			d.stmts = []json.RawMessage{raw}
		} else if err := json.Unmarshal(raw, &d.stmts); err != nil {
			return nil, fmt.Errorf("policy Statement: %w", err)
		}
	}
	return d, nil
}

func stmtSid(raw json.RawMessage) string {
	var s struct{ Sid string }
	_ = json.Unmarshal(raw, &s)
	return s.Sid
}

// String renders the document compactly, keys in their original order.
func (d *policyDoc) String() string {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range d.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		b.Write(kb)
		b.WriteByte(':')
		v := d.vals[k]
		if k == "Statement" {
			v = d.statementJSON()
		}
		var c bytes.Buffer
		if json.Compact(&c, v) == nil {
			v = c.Bytes()
		}
		b.Write(v)
	}
	b.WriteByte('}')
	return b.String()
}

func (d *policyDoc) statementJSON() json.RawMessage {
	if d.single && len(d.stmts) == 1 {
		return d.stmts[0]
	}
	var b bytes.Buffer
	b.WriteByte('[')
	for i, s := range d.stmts {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(s)
	}
	b.WriteByte(']')
	return b.Bytes()
}

// policySids returns the Sids of a policy document's statements.
func policySids(doc string) map[string]bool {
	out := map[string]bool{}
	d, err := parsePolicyDoc(doc)
	if err != nil {
		return out
	}
	for _, s := range d.stmts {
		if sid := stmtSid(s); sid != "" {
			out[sid] = true
		}
	}
	return out
}

// ourStatements is the part of a shared document that is evdeploy's (the
// statements with one of sids), as the canonical document lowering writes:
// "" when none is there.
func ourStatements(doc string, sids map[string]bool) string {
	d, err := parsePolicyDoc(doc)
	if err != nil {
		return ""
	}
	var ours []any
	var order []string
	bySid := map[string]any{}
	for _, s := range d.stmts {
		sid := stmtSid(s)
		if !sids[sid] {
			continue
		}
		var v any
		dec := json.NewDecoder(bytes.NewReader(s))
		dec.UseNumber()
		if dec.Decode(&v) != nil {
			continue
		}
		bySid[sid] = v
		order = append(order, sid)
	}
	if len(order) == 0 {
		return ""
	}
	sort.Strings(order)
	for _, sid := range order {
		ours = append(ours, bySid[sid])
	}
	b, err := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": ours})
	if err != nil {
		return ""
	}
	return mustCanonicalJSON(string(b))
}

// mergePolicy returns cur with every statement whose Sid is in drop removed
// and ours's statements added at the end; "" when no statement is left.
func mergePolicy(cur, ours string, drop map[string]bool) (string, error) {
	d, err := parsePolicyDoc(cur)
	if err != nil {
		return "", err
	}
	o, err := parsePolicyDoc(ours)
	if err != nil {
		return "", err
	}
	add := map[string]bool{}
	for _, s := range o.stmts {
		add[stmtSid(s)] = true
	}
	kept := d.stmts[:0:0]
	for _, s := range d.stmts {
		if sid := stmtSid(s); !drop[sid] && !add[sid] {
			kept = append(kept, s)
		}
	}
	if len(o.stmts) > 0 {
		d.single = false
	}
	d.stmts = append(kept, o.stmts...)
	if len(d.stmts) == 0 {
		return "", nil
	}
	if _, ok := d.vals["Statement"]; !ok {
		if _, ok := d.vals["Version"]; !ok {
			d.keys = append(d.keys, "Version")
			d.vals["Version"] = json.RawMessage(`"2012-10-17"`)
		}
		d.keys = append(d.keys, "Statement")
	}
	return d.String(), nil
}

// sharedDrop is the set of Sids an update of a shared policy replaces: those
// last applied and those desired.
func sharedDrop(prior, desired planner.Attrs) map[string]bool {
	drop := policySids(prior.String("policy"))
	for sid := range policySids(desired.String("policy")) {
		drop[sid] = true
	}
	return drop
}
