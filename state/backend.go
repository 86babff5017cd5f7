package state

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/user"
	"time"
)

// Backend stores one stage's document and its lock.
//
// Read returns (nil, nil) when nothing has been written yet: "no state" is a
// normal condition (the first plan of a stage), distinct from a document that
// cannot be read, which is always an error. Open turns (nil, nil) into New.
//
// Write replaces the stored document. It refuses to replace a document of a
// different lineage or a newer serial (another apply wrote in between, or the
// file belongs to another app), and never replaces a stored document it cannot
// decode: a corrupted state is reported, not silently overwritten.
//
// Lock takes the stage's lock for one operation and returns the function that
// releases it. When the lock is held, Lock polls until timeout (0 = fail at
// once) and then returns a *LockedError naming the holder. ForceUnlock removes
// a lock left behind, given its ID (the lock error prints it).
type Backend interface {
	Read(ctx context.Context) (*Document, error)
	Write(ctx context.Context, d *Document) error
	Lock(ctx context.Context, info LockInfo, timeout time.Duration) (unlock func() error, err error)
	ForceUnlock(ctx context.Context, id string) error
	// String names the location for messages: a file path or s3://bucket/key.
	String() string
}

// Lock operations.
const (
	OpApply   = "apply"
	OpPlan    = "plan"
	OpDestroy = "destroy"
)

// LockInfo is what a lock records about its holder; it is stored as JSON in the
// lock file or lock object and shown when someone else has to wait.
type LockInfo struct {
	ID        string    `json:"id"`
	Operation string    `json:"operation"` // OpApply, OpPlan, OpDestroy
	Who       string    `json:"who"`       // user@host
	PID       int       `json:"pid"`
	Host      string    `json:"host"`
	Created   time.Time `json:"created"`
}

// NewLockInfo describes the current process taking a lock for operation.
func NewLockInfo(operation string) LockInfo {
	var info LockInfo
	info.Operation = operation
	info.fill()
	return info
}

// fill sets whatever the caller left empty from the current process.
func (l *LockInfo) fill() {
	if l.ID == "" {
		l.ID = newID()
	}
	if l.Host == "" {
		l.Host, _ = os.Hostname()
	}
	if l.PID == 0 {
		l.PID = os.Getpid()
	}
	if l.Who == "" {
		name := "unknown"
		if u, err := user.Current(); err == nil {
			name = u.Username
		} else if s := os.Getenv("USER"); s != "" {
			name = s
		}
		l.Who = name + "@" + l.Host
	}
	if l.Created.IsZero() {
		l.Created = time.Now().UTC().Truncate(time.Second)
	}
}

// ErrLocked is matched by every *LockedError (errors.Is).
var ErrLocked = errors.New("state is locked")

// LockedError reports a lock held by someone else after the wait ran out.
type LockedError struct {
	Backend string   // where: path or s3://bucket/key
	Holder  LockInfo // zero when the lock could not be read
	Waited  time.Duration
	// Unreadable is set when the lock exists but does not decode.
	Unreadable error
	// LockPath is the lock's own location, for the unreadable case.
	LockPath string
}

func (e *LockedError) Error() string {
	if e.Unreadable != nil {
		return fmt.Sprintf("state %s is locked, but the lock %s cannot be read (%v); if no evdeploy is running for this stage, delete %s",
			e.Backend, e.LockPath, e.Unreadable, e.LockPath)
	}
	h := e.Holder
	waited := "did not wait (--lock-timeout 0)"
	if e.Waited > 0 {
		waited = "waited " + e.Waited.Round(time.Millisecond).String()
	}
	return fmt.Sprintf("state %s is locked by %s (pid %d, operation %q) since %s; %s.\n"+
		"If that process is no longer running, release the lock with: evdeploy state unlock %s",
		e.Backend, h.Who, h.PID, h.Operation, h.Created.UTC().Format(time.RFC3339), waited, h.ID)
}

func (e *LockedError) Is(target error) bool { return target == ErrLocked }

// ErrConflict is matched by errors from Write when the stored document changed
// underneath (another writer, another lineage).
var ErrConflict = errors.New("state changed by another writer")

// checkSuccessor decides whether next may replace prev (both decoded from or
// about to be written to the same location).
func checkSuccessor(where string, prev, next *Document, prevBytes, nextBytes []byte) error {
	if prev == nil {
		return nil
	}
	if prev.Lineage != next.Lineage {
		return fmt.Errorf("%w: %s holds state of lineage %s (app %q, stage %q), refusing to replace it with lineage %s",
			ErrConflict, where, prev.Lineage, prev.App, prev.Stage, next.Lineage)
	}
	if next.Serial < prev.Serial || (next.Serial == prev.Serial && !bytes.Equal(prevBytes, nextBytes)) {
		return fmt.Errorf("%w: %s is at serial %d, newer than this write (serial %d); another run wrote it: re-run the command",
			ErrConflict, where, prev.Serial, next.Serial)
	}
	return nil
}

// header copies what checkSuccessor needs from a document just written, so
// a backend remembers it without decoding its own output again or keeping a
// pointer the caller may change.
func header(d *Document) *Document {
	return &Document{Version: d.Version, Serial: d.Serial, Lineage: d.Lineage, App: d.App, Stage: d.Stage}
}

// pollInterval is how often a waiting Lock retries.
const defaultPollInterval = 200 * time.Millisecond

// waitLock calls try until it succeeds, fails for a reason other than
// contention, or timeout passes. try returns (unlock, holder, nil) — unlock
// non-nil on success, holder describing the current holder otherwise.
func waitLock(ctx context.Context, timeout, poll time.Duration, try func() (func() error, error)) (func() error, error) {
	start := time.Now()
	deadline := start.Add(timeout)
	for {
		unlock, err := try()
		if err == nil {
			return unlock, nil
		}
		var le *LockedError
		if !errors.As(err, &le) {
			return nil, err
		}
		now := time.Now()
		if timeout <= 0 || !now.Before(deadline) {
			if timeout > 0 {
				le.Waited = now.Sub(start)
			}
			return nil, le
		}
		wait := min(poll, deadline.Sub(now))
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("waiting for the state lock: %w (%v)", ctx.Err(), le)
		case <-t.C:
		}
	}
}
