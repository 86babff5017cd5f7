package localstack

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// Engine kinds as recorded and reported.
const (
	KindEmbedded   = "embedded"
	KindLocalStack = "localstack"
	KindKumo       = "kumo"     // a bare kumo server (its /health only)
	KindEndpoint   = "endpoint" // any other AWS-compatible endpoint
)

// DefaultPort is LocalStack's port, and the only one on which kumo's own
// S3/SNS/EventBridge/API Gateway → Lambda delivery works (it calls
// http://localhost:4566 whatever port it is served on).
const DefaultPort = 4566

// Environment variables this package reads.
const (
	// EnvStateHome names the folder holding engine.json, engine.pid and
	// engine.log directly (tests point it at a temporary folder).
	EnvStateHome = "EVDEPLOY_STATE_HOME"
	// EnvLocalPort changes the default port of `local up`, of the automatic
	// start and of the LocalStack probe (DefaultPort when unset).
	EnvLocalPort = "EVDEPLOY_LOCAL_PORT"
)

// Record says what `local up` started: written once the engine answers,
// removed by Stop.
type Record struct {
	Kind     string    `json:"kind"` // KindEmbedded or KindLocalStack
	Endpoint string    `json:"endpoint"`
	PID      int       `json:"pid,omitempty"`
	Log      string    `json:"log,omitempty"`
	Started  time.Time `json:"started"`
	// Version is the evdeploy version that started the engine.
	Version string `json:"version"`
	// EngineVersion is kumo's version (embedded) or LocalStack's.
	EngineVersion string `json:"engine_version,omitempty"`
	Container     string `json:"container,omitempty"`
	Image         string `json:"image,omitempty"`

	// AlreadyRunning is set by Start when it found this engine running and
	// started nothing.
	AlreadyRunning bool `json:"-"`
}

// StateDir is the folder for the engine record: $EVDEPLOY_STATE_HOME, else
// $XDG_STATE_HOME/evdeploy, else ~/.local/state/evdeploy. getenv nil means
// os.Getenv.
func StateDir(getenv func(string) string) (string, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	if d := getenv(EnvStateHome); d != "" {
		return d, nil
	}
	if d := getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "evdeploy"), nil
	}
	home := getenv("HOME")
	if home == "" {
		h, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("no state folder: set %s or XDG_STATE_HOME: %w", EnvStateHome, err)
		}
		home = h
	}
	return filepath.Join(home, ".local", "state", "evdeploy"), nil
}

// LocalPort is the default local port: $EVDEPLOY_LOCAL_PORT, else DefaultPort.
func LocalPort(getenv func(string) string) (int, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	v := getenv(EnvLocalPort)
	if v == "" {
		return DefaultPort, nil
	}
	p, err := strconv.Atoi(v)
	if err != nil || p <= 0 || p > 65535 {
		return 0, fmt.Errorf("%s=%q is not a port number", EnvLocalPort, v)
	}
	return p, nil
}

const (
	recordFile = "engine.json"
	pidFile    = "engine.pid"
	logFile    = "engine.log"
	lockFile   = "engine.lock"
)

// ReadRecord returns the record in dir, or (nil, nil) when there is none.
func ReadRecord(dir string) (*Record, error) {
	b, err := os.ReadFile(filepath.Join(dir, recordFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var r Record
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, recordFile), err)
	}
	return &r, nil
}

// writeRecord writes the record and pid file atomically (temp + rename), so a
// reader never sees half a record.
func writeRecord(dir string, r *Record) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := writeAtomic(filepath.Join(dir, recordFile), append(b, '\n')); err != nil {
		return err
	}
	if r.PID > 0 {
		return writeAtomic(filepath.Join(dir, pidFile), []byte(strconv.Itoa(r.PID)+"\n"))
	}
	return nil
}

func writeAtomic(path string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), path)
}

func removeRecord(dir string) error {
	var errs []error
	for _, f := range []string{recordFile, pidFile} {
		if err := os.Remove(filepath.Join(dir, f)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// lockState takes an exclusive lock on the state folder so that two evdeploy
// processes starting an engine at once do not both launch one. The returned
// func releases it.
func lockState(dir string) (func(), error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(dir, lockFile), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := lockFd(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", f.Name(), err)
	}
	return func() {
		unlockFd(f)
		f.Close()
	}, nil
}
