package state

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// The change log makes recording a change cost the size of the change rather
// than of the state: Session appends each batch of changes to <state>.log as
// one JSON line and fsyncs it, and rewrites the state file whole only when the
// log has grown as large as the file, and when the command ends (Close). A
// read applies the log's lines to the file's document. A line is applied only
// when it has the document's lineage and the next serial, so lines a whole
// write already covers (the process died between writing the file and
// emptying the log) are skipped, and a torn last line (the process died
// mid-append, before the change was acknowledged) ends the replay.

// logEntry is one line of the log: one batch.
type logEntry struct {
	Lineage string   `json:"lineage"`
	Serial  uint64   `json:"serial"`
	Changes []Change `json:"changes"`
	// Base, in the S3 backend's change objects, is the ETag of the
	// document the entry continues: a reader applies only entries of the
	// document it read, never those a writer made on a document someone
	// else has since replaced.
	Base string `json:"base,omitempty"`
}

// Append implements Appender: it appends one line and fsyncs it.
func (l *Local) Append(ctx context.Context, lineage string, serial uint64, changes []Change) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(logEntry{Lineage: lineage, Serial: serial, Changes: changes}); err != nil {
		return fmt.Errorf("state: encode change: %w", err)
	}
	if l.Sealer != nil {
		// One envelope per line, so a torn last line is still just skipped.
		sealed, err := l.Sealer.Seal(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
		if err != nil {
			return fmt.Errorf("write state %s: %w", l.LogPath(), err)
		}
		buf.Reset()
		buf.Write(sealed)
		buf.WriteByte('\n')
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.last == nil {
		return fmt.Errorf("state: append to %s: the state file was never read or written", l.LogPath())
	}
	// The log continues the file this backend last saw: refuse if anyone
	// replaced it (a concurrent writer that ignored the lock).
	info, err := os.Stat(l.path)
	if err != nil {
		return fmt.Errorf("write state: %w", err)
	}
	if s := l.last.info; !os.SameFile(s, info) || !s.ModTime().Equal(info.ModTime()) || s.Size() != info.Size() {
		if _, err := l.current(); err != nil {
			return err // e.g. it no longer decodes: say so
		}
		return fmt.Errorf("%w: %s was replaced since this run last wrote it; re-run the command", ErrConflict, l.path)
	}
	if l.log == nil {
		f, err := os.OpenFile(l.LogPath(), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
		if err != nil {
			return fmt.Errorf("write state: %w", err)
		}
		fi, err := f.Stat()
		if err == nil && fi.Size() != 0 {
			// A whole write empties the log, and only whole writes precede
			// this session's appends: someone else appended.
			err = fmt.Errorf("%w: %s has entries this run did not write", ErrConflict, l.LogPath())
		}
		if err == nil {
			err = syncDir(filepath.Dir(l.path))
		}
		if err != nil {
			f.Close()
			return fmt.Errorf("write state: %w", err)
		}
		l.log, l.logSize = f, 0
	}
	n, err := l.log.Write(buf.Bytes())
	if err == nil {
		err = l.log.Sync()
	}
	if err != nil {
		// A partial line is skipped on read, but it must not be followed
		// by more: cut it off, or if that fails write nothing more here.
		if terr := l.log.Truncate(l.logSize); terr != nil {
			l.log.Close()
			l.log = nil
			l.last = nil
		}
		return fmt.Errorf("write state %s: %w", l.LogPath(), err)
	}
	l.logSize += int64(n)
	return nil
}

// LogSize implements Appender.
func (l *Local) LogSize() (log, whole int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.logSize, l.wholeSize
}

// truncateLog empties the log after a whole write (l.mu held).
func (l *Local) truncateLog() error {
	if l.log != nil {
		l.log.Close()
		l.log = nil
	}
	l.logSize = 0
	if err := os.Remove(l.LogPath()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// replayLog applies the log at path to doc (decoded from the state file).
func replayLog(path string, doc *Document, sealer Sealer) error {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read state: %w", err)
	}
	var entries []logEntry
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, len(data)+1)
	for sc.Scan() {
		line := sc.Bytes()
		if IsSealed(line) {
			var probe map[string]any
			if json.Unmarshal(line, &probe) != nil {
				break // a torn last line: never acknowledged
			}
			plain, err := openBytes(sealer, line)
			if err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			line = plain
		}
		var e logEntry
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.UseNumber()
		if err := dec.Decode(&e); err != nil {
			break // a torn last line: never acknowledged
		}
		entries = append(entries, e)
	}
	return replayEntries(path, doc, entries)
}

// replayEntries applies the entries (in log order) that continue doc: those
// of its lineage from serial doc.Serial+1 on, stopping at a gap.
func replayEntries(where string, doc *Document, entries []logEntry) error {
	res := make(map[string]Resource, len(doc.Resources))
	for _, r := range doc.Resources {
		res[r.Addr] = r
	}
	journal := make(map[string]Intent, len(doc.Journal))
	for _, in := range doc.Journal {
		journal[in.Addr] = in
	}
	applied := false
	for _, e := range entries {
		if e.Lineage != doc.Lineage || e.Serial <= doc.Serial {
			continue // covered by the file already, or left from another lineage
		}
		if e.Serial != doc.Serial+1 {
			break
		}
		for _, c := range e.Changes {
			switch {
			case c.Upsert != nil:
				r := *c.Upsert
				v, err := normValue(r.Attrs)
				if err != nil {
					return fmt.Errorf("%s: resource %q: %w", where, r.Addr, err)
				}
				r.Attrs, _ = v.(map[string]any)
				if len(r.Deps) == 0 {
					r.Deps = nil
				}
				res[r.Addr] = r
				delete(journal, r.Addr)
			case c.Intent != nil:
				in := *c.Intent
				v, err := normValue(in.Attrs)
				if err != nil {
					return fmt.Errorf("%s: journal entry %q: %w", where, in.Addr, err)
				}
				in.Attrs, _ = v.(map[string]any)
				if len(in.Attrs) == 0 {
					in.Attrs = nil
				}
				if len(in.Deps) == 0 {
					in.Deps = nil
				}
				journal[in.Addr] = in
			case c.Remove != "":
				delete(res, c.Remove)
				delete(journal, c.Remove)
			case c.Resolve != "":
				delete(journal, c.Resolve)
			}
		}
		doc.Serial = e.Serial
		applied = true
	}
	if !applied {
		return nil
	}
	doc.Resources = make([]Resource, 0, len(res))
	for _, r := range res {
		doc.Resources = append(doc.Resources, r)
	}
	slices.SortFunc(doc.Resources, func(a, b Resource) int { return strings.Compare(a.Addr, b.Addr) })
	doc.Journal = nil
	for _, in := range journal {
		doc.Journal = append(doc.Journal, in)
	}
	slices.SortFunc(doc.Journal, func(a, b Intent) int { return strings.Compare(a.Addr, b.Addr) })
	return nil
}
