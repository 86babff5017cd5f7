package state

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
)

// New returns an empty document for app and stage with a fresh random lineage.
// Serial starts at 0; the first write makes it 1.
func New(app, stage string) *Document {
	return &Document{
		Version:   FormatVersion,
		Lineage:   newID(),
		App:       app,
		Stage:     stage,
		Resources: []Resource{},
	}
}

// newID returns 16 random bytes in hex: lineages and lock ids.
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b[:])
}

// Encode renders d deterministically: indented JSON, resources and journal
// sorted by address, map keys sorted, a trailing newline. The same document
// always gives the same bytes, so state files diff cleanly and the S3 backend
// can skip identical writes. d is not modified.
func Encode(d *Document) ([]byte, error) {
	if d == nil {
		return nil, errors.New("state: encode: nil document")
	}
	out := *d
	switch {
	case out.Version == 0:
		out.Version = FormatVersion
	case out.Version != FormatVersion:
		return nil, fmt.Errorf("state: encode: document version %d, this evdeploy writes version %d", out.Version, FormatVersion)
	}
	out.Resources = slices.Clone(d.Resources)
	if out.Resources == nil {
		out.Resources = []Resource{}
	}
	slices.SortStableFunc(out.Resources, func(a, b Resource) int { return strings.Compare(a.Addr, b.Addr) })
	out.Journal = slices.Clone(d.Journal)
	slices.SortStableFunc(out.Journal, func(a, b Intent) int { return strings.Compare(a.Addr, b.Addr) })
	if len(out.Journal) == 0 {
		out.Journal = nil
	}
	// Never write what Decode would refuse: the next run could not read it,
	// and the backends refuse to overwrite a state they cannot read.
	if err := out.validate(); err != nil {
		return nil, err
	}

	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // keep "<", ">" and "&" readable in policies and URLs
	enc.SetIndent("", "  ")
	if err := enc.Encode(&out); err != nil {
		return nil, fmt.Errorf("state: encode: %w", err)
	}
	return buf.Bytes(), nil
}

// Decode parses a state document. It checks the format version (a document
// from a newer evdeploy is refused rather than half-understood), reports
// malformed JSON with the byte offset, line and column, and validates what the
// engine relies on (lineage, unique resource addresses). Numbers in attributes
// and outputs are normalised the way planner.Norm does: whole numbers become
// int64, others float64, so a value read back compares equal to one built in Go.
func Decode(data []byte) (*Document, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, errors.New("state: document is empty")
	}

	// Read the version first, on its own, so a future format that changed
	// shape is reported as "too new" rather than as a confusing type error.
	var probe struct {
		Version json.RawMessage `json:"version"`
	}
	if err := strictUnmarshal(data, &probe, false); err != nil {
		return nil, err
	}
	if len(probe.Version) == 0 {
		return nil, errors.New("state: document has no \"version\" field; it is not an evdeploy state document")
	}
	var version int
	if err := json.Unmarshal(probe.Version, &version); err != nil {
		return nil, fmt.Errorf("state: \"version\" is %s, want a whole number", probe.Version)
	}
	switch {
	case version > FormatVersion:
		return nil, fmt.Errorf("state: format version %d was written by a newer evdeploy; this one reads versions up to %d: upgrade evdeploy", version, FormatVersion)
	case version < 1:
		return nil, fmt.Errorf("state: invalid format version %d", version)
	}

	var d Document
	if err := strictUnmarshal(data, &d, true); err != nil {
		return nil, err
	}
	if err := d.normalize(); err != nil {
		return nil, err
	}
	if err := d.validate(); err != nil {
		return nil, err
	}
	d.dropEmpty()
	return &d, nil
}

// strictUnmarshal decodes exactly one JSON value (trailing data is an error)
// and turns syntax and type errors into messages with a position.
func strictUnmarshal(data []byte, v any, useNumber bool) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if useNumber {
		dec.UseNumber()
	}
	if err := dec.Decode(v); err != nil {
		return positionError(data, dec, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		off := dec.InputOffset()
		line, col := lineCol(data, off)
		return fmt.Errorf("state: invalid JSON at byte %d (line %d, column %d): unexpected data after the document", off, line, col)
	}
	return nil
}

func positionError(data []byte, dec *json.Decoder, err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		// Offset counts the bytes read including the offending one; report
		// the offending byte's own (0-based) offset and 1-based line:column.
		off := max(syn.Offset-1, 0)
		line, col := lineCol(data, off)
		return fmt.Errorf("state: invalid JSON at byte %d (line %d, column %d): %v", off, line, col, syn)
	case errors.As(err, &typ):
		line, col := lineCol(data, typ.Offset)
		where := typ.Field
		if where == "" {
			where = "document"
		}
		return fmt.Errorf("state: invalid JSON at byte %d (line %d, column %d): %s is a JSON %s, want %s", typ.Offset, line, col, where, typ.Value, typ.Type)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		off := int64(len(data))
		line, col := lineCol(data, off)
		return fmt.Errorf("state: invalid JSON at byte %d (line %d, column %d): document is truncated", off, line, col)
	}
	off := dec.InputOffset()
	line, col := lineCol(data, off)
	return fmt.Errorf("state: invalid JSON at byte %d (line %d, column %d): %v", off, line, col, err)
}

// lineCol converts a byte offset to a 1-based line and column.
func lineCol(data []byte, off int64) (line, col int) {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	if off < 0 {
		off = 0
	}
	before := data[:off]
	line = bytes.Count(before, []byte("\n")) + 1
	col = int(off) - (bytes.LastIndexByte(before, '\n') + 1) + 1
	return line, col
}

// normalize converts json.Number values (from UseNumber) to int64 or float64.
func (d *Document) normalize() error {
	for i := range d.Resources {
		r := &d.Resources[i]
		v, err := normValue(r.Attrs)
		if err != nil {
			return fmt.Errorf("state: resource %q: %w", r.Addr, err)
		}
		r.Attrs, _ = v.(map[string]any)
	}
	for i := range d.Journal {
		in := &d.Journal[i]
		v, err := normValue(in.Attrs)
		if err != nil {
			return fmt.Errorf("state: journal entry %q: %w", in.Addr, err)
		}
		in.Attrs, _ = v.(map[string]any)
	}
	for name, o := range d.Outputs {
		v, err := normValue(o.Value)
		if err != nil {
			return fmt.Errorf("state: output %q: %w", name, err)
		}
		o.Value = v
		d.Outputs[name] = o
	}
	return nil
}

func normValue(v any) (any, error) {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i, nil
		}
		f, err := x.Float64()
		if err != nil {
			return nil, fmt.Errorf("number %s is out of range", x)
		}
		// Same rule as planner.Norm, so "3.0" and 3 are one value and a
		// decode-encode-decode cycle is stable.
		if f == math.Trunc(f) && math.Abs(f) < 1<<53 {
			return int64(f), nil
		}
		return f, nil
	case map[string]any:
		if x == nil {
			return x, nil
		}
		for k, e := range x {
			n, err := normValue(e)
			if err != nil {
				return nil, err
			}
			x[k] = n
		}
		return x, nil
	case []any:
		for i, e := range x {
			n, err := normValue(e)
			if err != nil {
				return nil, err
			}
			x[i] = n
		}
		return x, nil
	}
	return v, nil
}

// validate checks the invariants the engine relies on.
func (d *Document) validate() error {
	if d.Lineage == "" {
		return errors.New("state: document has no lineage")
	}
	if d.Stage == "" {
		return errors.New("state: document has no stage")
	}
	seen := make(map[string]int, len(d.Resources))
	for i, r := range d.Resources {
		if r.Addr == "" {
			return fmt.Errorf("state: resources[%d] has no address", i)
		}
		if j, dup := seen[r.Addr]; dup {
			return fmt.Errorf("state: resource %q is recorded twice (resources[%d] and resources[%d])", r.Addr, j, i)
		}
		seen[r.Addr] = i
		if r.Type == "" {
			return fmt.Errorf("state: resource %q has no type", r.Addr)
		}
	}
	if d.Resources == nil {
		d.Resources = []Resource{}
	}
	slices.SortStableFunc(d.Resources, func(a, b Resource) int { return strings.Compare(a.Addr, b.Addr) })
	seenIntent := make(map[string]bool, len(d.Journal))
	for i, in := range d.Journal {
		if in.Addr == "" {
			return fmt.Errorf("state: journal[%d] has no address", i)
		}
		if seenIntent[in.Addr] {
			return fmt.Errorf("state: journal has two intents for %q", in.Addr)
		}
		seenIntent[in.Addr] = true
	}
	if len(d.Journal) == 0 {
		d.Journal = nil
	}
	return nil
}

// dropEmpty makes empty omitempty fields nil, so a document is the same
// value before and after an encode/decode cycle ("deps": [] is omitted on
// encode and comes back nil).
func (d *Document) dropEmpty() {
	for i := range d.Resources {
		if len(d.Resources[i].Deps) == 0 {
			d.Resources[i].Deps = nil
		}
	}
	for i := range d.Journal {
		in := &d.Journal[i]
		if len(in.Deps) == 0 {
			in.Deps = nil
		}
		if len(in.Attrs) == 0 {
			in.Attrs = nil
		}
	}
	if len(d.Outputs) == 0 {
		d.Outputs = nil
	}
}

// clone returns a deep copy made through the codec, so the copy has exactly
// the types a re-read from the backend would have.
func (d *Document) clone() (*Document, error) {
	data, err := Encode(d)
	if err != nil {
		return nil, err
	}
	return Decode(data)
}
