package state

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Local stores the document in a file: .evdeploy/state/<stage>.json under the
// project directory by default, mode 0600 in directories of mode 0700, since
// state holds ARNs, environment values and outputs marked sensitive.
type Local struct {
	path string

	// Warn receives warnings, such as a stale lock being taken over. Nil
	// writes them to standard error: a takeover must never go unnoticed.
	Warn func(msg string)
	// PollInterval is how often a waiting Lock retries (default 200ms).
	PollInterval time.Duration
	// Sealer encrypts the state file and its change log at rest; nil
	// writes them in clear (and refuses to read encrypted ones).
	Sealer Sealer

	mu   sync.Mutex
	last *localSnapshot // what this backend last read or wrote
	// writeData writes the encoded document to the temporary file; tests
	// replace it to fail half-way.
	writeData func(w io.Writer, p []byte) (int, error)

	// The change log (see Append): open for appending after the first
	// append since the last whole write, its size, and the whole write's.
	log       *os.File
	logSize   int64
	wholeSize int64
}

// localSnapshot remembers the file as last seen, so Write can tell whether
// anyone else replaced it without decoding it again on every write.
type localSnapshot struct {
	info os.FileInfo
	doc  *Document // at least the header (see header)
	data []byte    // plain (opened) bytes
	// sealed: the file is encrypted (a plain one is rewritten sealed once
	// encryption is turned on, even if unchanged).
	sealed bool
}

// NewLocal is the default backend of a stage: <projectDir>/.evdeploy/state/<stage>.json.
func NewLocal(projectDir, stage string) *Local {
	return NewLocalPath(filepath.Join(projectDir, ".evdeploy", "state", stage+".json"))
}

// NewLocalPath stores the document at path (its lock at path + ".lock").
func NewLocalPath(path string) *Local { return &Local{path: path} }

func (l *Local) String() string { return l.path }

// Path is the state file.
func (l *Local) Path() string { return l.path }

// LogPath is the change log: batches of changes appended since the state
// file was last written whole (see Append).
func (l *Local) LogPath() string { return l.path + ".log" }

// LockPath is the lock file.
func (l *Local) LockPath() string { return l.path + ".lock" }

func (l *Local) Read(ctx context.Context) (*Document, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	snap, err := l.readFile()
	if err != nil || snap == nil {
		return nil, err
	}
	// The backend keeps only the header (what checkSuccessor needs), so the
	// freshly decoded document goes to the caller without a copy.
	doc := snap.doc
	l.last = &localSnapshot{info: snap.info, doc: header(doc), data: snap.data, sealed: snap.sealed}
	l.wholeSize = int64(len(snap.data))
	if err := replayLog(l.LogPath(), doc, l.Sealer); err != nil {
		return nil, err
	}
	return doc, nil
}

// readFile reads and decodes the state file; (nil, nil) when it does not exist.
func (l *Local) readFile() (*localSnapshot, error) {
	f, err := os.Open(l.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read state: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("read state: %w", err)
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("read state: %w", err)
	}
	// The snapshot keeps the plain bytes: sealed ones differ on every write.
	sealed := IsSealed(data)
	if data, err = openBytes(l.Sealer, data); err != nil {
		return nil, fmt.Errorf("%s: %w", l.path, err)
	}
	doc, err := Decode(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", l.path, err)
	}
	return &localSnapshot{info: info, doc: doc, data: data, sealed: sealed}, nil
}

func (l *Local) Write(ctx context.Context, d *Document) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	data, err := Encode(d)
	if err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()

	dir := filepath.Dir(l.path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("write state: %w", err)
	}
	prev, err := l.current()
	if err != nil {
		return err
	}
	if prev != nil {
		if err := checkSuccessor(l.path, prev.doc, d, prev.data, data); err != nil {
			return err
		}
		if bytes.Equal(prev.data, data) && (l.Sealer == nil) == !prev.sealed && !needsReseal(l.Sealer) {
			return l.truncateLog()
		}
	}
	stored := data
	if l.Sealer != nil {
		if stored, err = l.Sealer.Seal(data); err != nil {
			return fmt.Errorf("write state %s: %w", l.path, err)
		}
	}
	if err := l.writeAtomic(dir, stored); err != nil {
		return fmt.Errorf("write state %s: %w", l.path, err)
	}
	info, err := os.Stat(l.path)
	if err != nil {
		return fmt.Errorf("write state: %w", err)
	}
	l.last = &localSnapshot{info: info, doc: header(d), data: data, sealed: l.Sealer != nil}
	// The file now holds everything the log did. Should the process die
	// before the log is emptied, a read skips the entries the file's serial
	// already covers.
	if err := l.truncateLog(); err != nil {
		return fmt.Errorf("write state: empty the change log: %w", err)
	}
	l.wholeSize = int64(len(data))
	return nil
}

// current is the stored document as it is now: the remembered snapshot when
// the file is still the one this backend last saw, otherwise a fresh read. A
// file that does not decode is an error: it is never overwritten silently.
func (l *Local) current() (*localSnapshot, error) {
	info, err := os.Stat(l.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("write state: %w", err)
	}
	if s := l.last; s != nil && os.SameFile(s.info, info) && s.info.ModTime().Equal(info.ModTime()) && s.info.Size() == info.Size() {
		return s, nil
	}
	snap, err := l.readFile()
	if err != nil {
		return nil, fmt.Errorf("refusing to overwrite the existing state: %w\n"+
			"Fix the file, or restore it from a backup; evdeploy will not replace a state it cannot read", err)
	}
	return snap, nil
}

// writeAtomic replaces the state file so that a reader (or a crash) sees the
// old document or the new one, never a mix: write a temporary file in the
// same directory, fsync it, rename it over the old one, fsync the directory
// so the rename itself survives a power loss.
func (l *Local) writeAtomic(dir string, data []byte) (err error) {
	f, err := os.CreateTemp(dir, "."+filepath.Base(l.path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err = f.Chmod(0o600); err != nil {
		return err
	}
	write := l.writeData
	if write == nil {
		write = func(w io.Writer, p []byte) (int, error) { return w.Write(p) }
	}
	if _, err = write(f, data); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp, l.path); err != nil {
		return err
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

func (l *Local) warn(msg string) {
	if l.Warn != nil {
		l.Warn(msg)
		return
	}
	fmt.Fprintln(os.Stderr, "warning: "+msg)
}

// Lock creates the lock file <state>.lock holding info. A lock left by a
// process that is no longer running on this host is taken over with a
// warning; a live one is waited for until timeout.
func (l *Local) Lock(ctx context.Context, info LockInfo, timeout time.Duration) (func() error, error) {
	info.fill()
	data, err := json.MarshalIndent(info, "", "  ")
	if err != nil {
		return nil, err
	}
	data = append(data, '\n')
	dir := filepath.Dir(l.path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("lock state: %w", err)
	}
	poll := l.PollInterval
	if poll <= 0 {
		poll = defaultPollInterval
	}
	return waitLock(ctx, timeout, poll, func() (func() error, error) {
		for attempt := 0; ; attempt++ {
			created, err := l.createLock(dir, data)
			if err != nil {
				return nil, fmt.Errorf("lock state %s: %w", l.path, err)
			}
			if created {
				return l.unlockFunc(info.ID), nil
			}
			holder, err := l.readLock()
			if errors.Is(err, fs.ErrNotExist) && attempt < 10 {
				continue // released between our create and our read
			}
			if err != nil {
				return nil, &LockedError{Backend: l.path, LockPath: l.LockPath(), Unreadable: err}
			}
			if !l.stale(holder) || attempt >= 10 {
				return nil, &LockedError{Backend: l.path, Holder: holder}
			}
			taken, err := l.removeIfHeldBy(holder.ID)
			if err != nil {
				return nil, fmt.Errorf("lock state %s: take over stale lock: %w", l.path, err)
			}
			if taken {
				l.warn(fmt.Sprintf("taking over the state lock of %s: it was held by %s (pid %d, operation %q, since %s), and that process is no longer running",
					l.path, holder.Who, holder.PID, holder.Operation, holder.Created.UTC().Format(time.RFC3339)))
			}
		}
	})
}

// stale reports whether the lock's holder is a process on this host that no
// longer exists. A lock from another host is never judged stale: its process
// cannot be checked from here.
func (l *Local) stale(h LockInfo) bool {
	host, err := os.Hostname()
	if err != nil || h.Host != host || h.PID <= 0 {
		return false
	}
	return !processAlive(h.PID)
}

// createLock creates the lock file only if none exists, complete with its
// content: the content goes to a temporary file first and is then hard-linked
// to the lock name, which fails when the name exists (like O_EXCL), so there is
// no instant where the lock exists but is empty — a crash between an O_EXCL
// create and its write would leave a lock that names nobody. Where hard links
// are not supported it falls back to O_CREATE|O_EXCL.
func (l *Local) createLock(dir string, data []byte) (bool, error) {
	f, err := os.CreateTemp(dir, "."+filepath.Base(l.LockPath())+".tmp-*")
	if err != nil {
		return false, err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return false, err
	}
	err = os.Link(tmp, l.LockPath())
	switch {
	case err == nil:
		return true, syncDir(dir)
	case errors.Is(err, fs.ErrExist):
		return false, nil
	}
	// No hard links here (some network and FUSE file systems).
	lf, err := os.OpenFile(l.LockPath(), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	_, err = lf.Write(data)
	if err == nil {
		err = lf.Sync()
	}
	if cerr := lf.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(l.LockPath())
		return false, err
	}
	return true, syncDir(dir)
}

func (l *Local) readLock() (LockInfo, error) {
	data, err := os.ReadFile(l.LockPath())
	if err != nil {
		return LockInfo{}, err
	}
	return decodeLock(data)
}

func decodeLock(data []byte) (LockInfo, error) {
	var info LockInfo
	if err := json.Unmarshal(data, &info); err != nil {
		return LockInfo{}, fmt.Errorf("invalid lock: %w", err)
	}
	if info.ID == "" {
		return LockInfo{}, errors.New("invalid lock: no id")
	}
	return info, nil
}

// removeIfHeldBy deletes the lock file if it still names id. The check and
// the removal happen under an flock on the directory, so two processes taking
// over the same stale lock cannot remove each other's fresh one.
func (l *Local) removeIfHeldBy(id string) (bool, error) {
	release, err := lockDir(filepath.Dir(l.path))
	if err != nil {
		return false, err
	}
	defer release()
	cur, err := l.readLock()
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if cur.ID != id {
		return false, nil
	}
	if err := os.Remove(l.LockPath()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, err
	}
	return true, nil
}

func (l *Local) unlockFunc(id string) func() error {
	var once sync.Once
	var err error
	return func() error {
		once.Do(func() {
			var removed bool
			removed, err = l.removeIfHeldBy(id)
			if err == nil && !removed {
				err = fmt.Errorf("unlock state %s: the lock was no longer ours (it was force-unlocked or taken over)", l.path)
			}
		})
		return err
	}
}

// ForceUnlock removes the lock if its ID is id.
func (l *Local) ForceUnlock(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	holder, err := l.readLock()
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("state %s is not locked", l.path)
	}
	if err != nil {
		return fmt.Errorf("force-unlock %s: %w; if no evdeploy is running for this stage, delete %s", l.path, err, l.LockPath())
	}
	if holder.ID != id {
		return fmt.Errorf("force-unlock %s: the lock has ID %s (held by %s, pid %d, since %s), not %s",
			l.path, holder.ID, holder.Who, holder.PID, holder.Created.UTC().Format(time.RFC3339), id)
	}
	removed, err := l.removeIfHeldBy(id)
	if err != nil {
		return fmt.Errorf("force-unlock %s: %w", l.path, err)
	}
	if !removed {
		return fmt.Errorf("force-unlock %s: the lock changed while unlocking; check it again", l.path)
	}
	return nil
}
