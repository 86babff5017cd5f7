package localstack

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/google/go-cmp/cmp"
	"github.com/sivchari/kumo"
)

// testEngineEnv makes this test binary act as `evdeploy local serve --port N`
// when Start launches it (os.Executable is the test binary): the re-exec
// trick, so the engine really runs as a separate, detached process.
const testEngineEnv = "EVDEPLOY_LOCALSTACK_TEST_ENGINE"

func init() {
	if os.Getenv(testEngineEnv) != "1" || len(os.Args) != 5 || os.Args[1] != "local" || os.Args[2] != "serve" || os.Args[3] != "--port" {
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// Die with the test process, so a failed test leaves no engine behind.
	ppid := os.Getppid()
	go func() {
		for range time.Tick(200 * time.Millisecond) {
			if os.Getppid() != ppid {
				stop()
				return
			}
		}
	}()
	if err := Serve(ctx, "127.0.0.1:"+os.Args[4], ServeOptions{Version: "test", RunFunctions: true}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(0)
}

// freePort returns a loopback port nothing listens on (never 4566, which
// other packages' tests may hold).
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func TestEmbeddedEngineProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a process")
	}
	t.Setenv(testEngineEnv, "1")
	ctx := t.Context()
	dir := t.TempDir()
	port := freePort(t)
	endpoint := fmt.Sprintf("http://127.0.0.1:%d", port)

	rec, err := Start(ctx, StartOptions{Port: port, StateDir: dir, Version: "v9.9.9"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = Stop(context.Background(), StopOptions{StateDir: dir}) })
	if rec.PID == os.Getpid() || !processAlive(rec.PID) {
		t.Fatalf("engine pid %d: not a live child process", rec.PID)
	}
	onDisk, err := ReadRecord(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := &Record{
		Kind: KindEmbedded, Endpoint: endpoint, PID: rec.PID, Log: filepath.Join(dir, "engine.log"),
		Started: rec.Started, Version: "v9.9.9", EngineVersion: kumo.Version,
	}
	if d := cmp.Diff(want, onDisk); d != "" {
		t.Errorf("engine.json (-want +got):\n%s", d)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "engine.pid")); err != nil || strings.TrimSpace(string(b)) != fmt.Sprint(rec.PID) {
		t.Errorf("engine.pid = %q, %v; want %d", b, err, rec.PID)
	}
	// Detached: its own session, so the terminal's signals do not reach it.
	if sid, err := sessionID(rec.PID); err != nil || sid != rec.PID {
		t.Errorf("engine session id = %d, %v; want its own (%d)", sid, err, rec.PID)
	}

	// Work through the endpoint with one client, read back with another.
	name := fmt.Sprintf("evd-engine-%d", os.Getpid())
	cfg := func() aws.Config {
		return aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(endpoint),
			Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")}
	}
	if _, err := sqs.NewFromConfig(cfg()).CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name)}); err != nil {
		t.Fatal(err)
	}
	got, err := sqs.NewFromConfig(cfg()).GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(name)})
	if err != nil {
		t.Fatalf("queue created through the engine is not there: %v", err)
	}
	if !strings.HasSuffix(aws.ToString(got.QueueUrl), "/000000000000/"+name) {
		t.Errorf("queue URL = %s", aws.ToString(got.QueueUrl))
	}
	if awsCLI, err := exec.LookPath("aws"); err == nil {
		cmd := exec.CommandContext(ctx, awsCLI, "--endpoint-url", endpoint, "--region", "us-east-1", "sqs", "list-queues", "--output", "text")
		cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), name) {
			t.Errorf("aws sqs list-queues: %v\n%s", err, out)
		}
	}

	st, err := Probe(ctx, endpoint)
	if err != nil {
		t.Fatal(err)
	}
	wantSt := &Status{Kind: KindEmbedded, Endpoint: endpoint, Version: kumo.Version, Edition: "kumo",
		Account: DefaultAccount, PID: rec.PID, Started: rec.Started, EvdeployVersion: "test"}
	if d := cmp.Diff(wantSt, st); d != "" {
		t.Errorf("Probe (-want +got):\n%s", d)
	}

	// up twice is harmless: same engine, nothing new started.
	again, err := Start(ctx, StartOptions{Port: port, StateDir: dir, Version: "v9.9.9"})
	if err != nil {
		t.Fatal(err)
	}
	if !again.AlreadyRunning || again.PID != rec.PID {
		t.Errorf("second Start = pid %d, AlreadyRunning %v; want pid %d, true", again.PID, again.AlreadyRunning, rec.PID)
	}

	// Resolve finds the recorded engine with nothing else configured.
	tgt, err := Resolve(ctx, ResolveOptions{Getenv: envMap(nil), StateDir: dir, LocalStackURL: "http://127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	if tgt.Source != SourceRecord || tgt.Endpoint != endpoint || tgt.Engine != KindEmbedded {
		t.Errorf("Resolve = %+v; want the record", tgt)
	}

	stopped, err := Stop(ctx, StopOptions{StateDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if stopped.PID != rec.PID {
		t.Errorf("Stop acted on pid %d, want %d", stopped.PID, rec.PID)
	}
	if processAlive(rec.PID) {
		t.Errorf("engine pid %d still alive after Stop", rec.PID)
	}
	for _, f := range []string{"engine.json", "engine.pid"} {
		if _, err := os.Stat(filepath.Join(dir, f)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s still there after Stop (%v)", f, err)
		}
	}
	if _, err := Probe(ctx, endpoint); err == nil {
		t.Errorf("endpoint still answers after Stop")
	}
	if _, err := Stop(ctx, StopOptions{StateDir: dir}); !errors.Is(err, ErrNotRunning) {
		t.Errorf("second Stop: %v, want ErrNotRunning", err)
	}
	// The log says it stopped gracefully (SIGTERM), not killed.
	if b, _ := os.ReadFile(filepath.Join(dir, "engine.log")); !strings.Contains(string(b), "engine stopped") {
		t.Errorf("engine log has no graceful stop:\n%s", b)
	}
}

// A port already in use: the child cannot listen, and Start says why, with
// the log's tail, instead of waiting out its timeout.
func TestStartPortBusy(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a process")
	}
	t.Setenv(testEngineEnv, "1")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	// Accept and hang up: not an engine, not connection-refused.
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	dir := t.TempDir()
	start := time.Now()
	_, err = Start(t.Context(), StartOptions{Port: ln.Addr().(*net.TCPAddr).Port, StateDir: dir, Timeout: 20 * time.Second})
	if err == nil {
		t.Fatal("Start on a busy port succeeded")
	}
	if !strings.Contains(err.Error(), "address already in use") {
		t.Errorf("error does not say the port is busy: %v", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("Start took %s to fail", d)
	}
	if rec, _ := ReadRecord(dir); rec != nil {
		t.Errorf("a failed start left a record: %+v", rec)
	}
}

// A record whose process is gone is stale: Start replaces it, Resolve skips it.
func TestStaleRecord(t *testing.T) {
	dir := t.TempDir()
	// A pid that exited: run a short process and wait for it.
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Skip("no `true` command:", err)
	}
	stale := &Record{Kind: KindEmbedded, Endpoint: fmt.Sprintf("http://127.0.0.1:%d", freePort(t)), PID: cmd.Process.Pid}
	if err := writeRecord(dir, stale); err != nil {
		t.Fatal(err)
	}
	rec, err := liveRecord(t.Context(), dir)
	if err != nil || rec != nil {
		t.Fatalf("liveRecord = %+v, %v; want nil, nil", rec, err)
	}
	if rec, _ := ReadRecord(dir); rec != nil {
		t.Errorf("stale record not removed: %+v", rec)
	}
}

func TestStateDir(t *testing.T) {
	tests := []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{EnvStateHome: "/s", "XDG_STATE_HOME": "/x", "HOME": "/h"}, "/s"},
		{map[string]string{"XDG_STATE_HOME": "/x", "HOME": "/h"}, "/x/evdeploy"},
		{map[string]string{"HOME": "/h"}, "/h/.local/state/evdeploy"},
	}
	for _, tt := range tests {
		got, err := StateDir(envMap(tt.env))
		if err != nil || got != tt.want {
			t.Errorf("StateDir(%v) = %q, %v; want %q", tt.env, got, err, tt.want)
		}
	}
	if p, err := LocalPort(envMap(nil)); p != DefaultPort || err != nil {
		t.Errorf("LocalPort() = %d, %v", p, err)
	}
	if p, err := LocalPort(envMap(map[string]string{EnvLocalPort: "4999"})); p != 4999 || err != nil {
		t.Errorf("LocalPort(4999) = %d, %v", p, err)
	}
	if _, err := LocalPort(envMap(map[string]string{EnvLocalPort: "x"})); err == nil {
		t.Errorf("LocalPort(x): no error")
	}
}

func envMap(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// sessionID reads a process's session id from /proc (field 6 of stat).
func sessionID(pid int) (int, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	// After "(comm)": state ppid pgrp session …
	if len(fields) < 4 {
		return 0, fmt.Errorf("/proc/%d/stat: %q", pid, s)
	}
	var sid int
	_, err = fmt.Sscan(fields[3], &sid)
	return sid, err
}
