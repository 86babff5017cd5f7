package localstack

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// ContainerName is the name of the LocalStack container `local up` runs.
const ContainerName = "evdeploy-localstack"

// DefaultImage is LocalStack's image. Since 2026.03 it needs
// LOCALSTACK_AUTH_TOKEN.
const DefaultImage = "localstack/localstack:latest"

// EnvAuthToken is LocalStack's auth token variable, passed through to the
// container.
const EnvAuthToken = "LOCALSTACK_AUTH_TOKEN"

// ErrDockerUnavailable wraps every "there is no usable Docker engine" error.
var ErrDockerUnavailable = errors.New("Docker is not available")

// ErrAuthTokenMissing is returned when the default LocalStack image would be
// run without a token.
var ErrAuthTokenMissing = errors.New("LOCALSTACK_AUTH_TOKEN is not set")

// LocalStackOptions configure StartLocalStack.
type LocalStackOptions struct {
	Port int // default LocalPort(Getenv)
	// Image defaults to DefaultImage; naming one (e.g. a community tag from
	// before 2026.03) lifts the token requirement.
	Image     string
	AuthToken string // default $LOCALSTACK_AUTH_TOKEN
	StateDir  string // default StateDir(Getenv)
	Version   string // evdeploy's version, recorded
	Getenv    func(string) string
	// Docker is the docker binary (default "docker", looked up in PATH).
	Docker string
	// InfoTimeout bounds `docker info` (default 10s); HealthTimeout bounds
	// the wait for the services after `docker run` (default 3 minutes).
	InfoTimeout, HealthTimeout time.Duration
}

// CheckDocker reports whether a Docker engine answers, within timeout.
func CheckDocker(ctx context.Context, docker string, timeout time.Duration) error {
	if docker == "" {
		docker = "docker"
	}
	if timeout == 0 {
		timeout = 10 * time.Second
	}
	path, err := exec.LookPath(docker)
	if err != nil {
		return fmt.Errorf("%w: no %q command in PATH (install Docker, or use the embedded engine: evdeploy local up)", ErrDockerUnavailable, docker)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	out, err := runDocker(ctx, path, nil, "info", "--format", "{{.ServerVersion}}")
	if ctx.Err() == context.DeadlineExceeded {
		return fmt.Errorf("%w: `docker info` did not answer within %s (is the Docker engine running?)", ErrDockerUnavailable, timeout)
	}
	if err != nil {
		return fmt.Errorf("%w: the Docker engine does not answer (`docker info`: %s); start Docker, or use the embedded engine: evdeploy local up", ErrDockerUnavailable, firstLine(out, err))
	}
	return nil
}

// tokenHelp explains the three ways forward without a LocalStack token.
func tokenHelp() string {
	return `LocalStack's image needs an account and LOCALSTACK_AUTH_TOKEN since 2026.03. Either:
  1. export LOCALSTACK_AUTH_TOKEN=<your token>   (https://app.localstack.cloud), then evdeploy local up --engine localstack
  2. pin a community image from before 2026.03:  evdeploy local up --engine localstack --image localstack/localstack:<tag before 2026.03>
  3. use the embedded engine (no Docker, no account):  evdeploy local up`
}

// StartLocalStack runs LocalStack in Docker (container ContainerName, port
// Port → 4566), waits until the services evdeploy needs are available, and
// records it. A healthy container already recorded is reported, not restarted.
func StartLocalStack(ctx context.Context, opts LocalStackOptions) (*Record, error) {
	if opts.Getenv == nil {
		opts.Getenv = os.Getenv
	}
	if opts.Port == 0 {
		p, err := LocalPort(opts.Getenv)
		if err != nil {
			return nil, err
		}
		opts.Port = p
	}
	if opts.StateDir == "" {
		d, err := StateDir(opts.Getenv)
		if err != nil {
			return nil, err
		}
		opts.StateDir = d
	}
	if opts.Docker == "" {
		opts.Docker = "docker"
	}
	if opts.HealthTimeout == 0 {
		opts.HealthTimeout = 3 * time.Minute
	}
	if opts.AuthToken == "" {
		opts.AuthToken = opts.Getenv(EnvAuthToken)
	}
	pinned := opts.Image != ""
	if opts.Image == "" {
		opts.Image = DefaultImage
	}
	// Docker first: without it none of the ways forward but the embedded
	// engine helps.
	if err := CheckDocker(ctx, opts.Docker, opts.InfoTimeout); err != nil {
		return nil, err
	}
	if opts.AuthToken == "" && !pinned {
		return nil, fmt.Errorf("%w.\n%s", ErrAuthTokenMissing, tokenHelp())
	}
	unlock, err := lockState(opts.StateDir)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if rec, err := liveRecord(ctx, opts.StateDir); err != nil {
		return nil, err
	} else if rec != nil && rec.Kind == KindLocalStack && recordHealthy(ctx, rec) {
		rec.AlreadyRunning = true
		return rec, nil
	} else if rec != nil && rec.Kind == KindEmbedded {
		return nil, fmt.Errorf("the embedded engine is running at %s: stop it first with `evdeploy local down`", rec.Endpoint)
	}

	// A leftover container of that name (stopped, or from a failed start)
	// would make `docker run` fail: remove it.
	_, _ = runDocker(ctx, opts.Docker, nil, "rm", "-f", ContainerName)
	env := append(os.Environ(), EnvAuthToken+"="+opts.AuthToken)
	args := []string{"run", "-d", "--name", ContainerName,
		"-p", fmt.Sprintf("127.0.0.1:%d:4566", opts.Port),
		// Lambda functions run in sibling containers.
		"-v", "/var/run/docker.sock:/var/run/docker.sock",
	}
	if opts.AuthToken != "" {
		// Name only: the value comes from the environment, never the command line.
		args = append(args, "-e", EnvAuthToken)
	}
	args = append(args, opts.Image)
	if out, err := runDocker(ctx, opts.Docker, env, args...); err != nil {
		return nil, fmt.Errorf("docker run %s: %s", opts.Image, firstLine(out, err))
	}

	endpoint := "http://localhost:" + strconv.Itoa(opts.Port)
	st, err := waitLocalStack(ctx, opts.Docker, endpoint, opts.HealthTimeout)
	if err != nil {
		logs, _ := runDocker(context.Background(), opts.Docker, nil, "logs", "--tail", "20", ContainerName)
		return nil, fmt.Errorf("%w\nlast lines of `docker logs %s`:\n%s", err, ContainerName, indent(logs))
	}
	rec := &Record{
		Kind: KindLocalStack, Endpoint: endpoint, Container: ContainerName, Image: opts.Image,
		Started: time.Now().UTC().Truncate(time.Second), Version: opts.Version, EngineVersion: st.Version,
	}
	return rec, writeRecord(opts.StateDir, rec)
}

// waitLocalStack polls /_localstack/health until every needed service is
// available or running, the container stops, or timeout passes.
func waitLocalStack(ctx context.Context, docker, endpoint string, timeout time.Duration) (*Status, error) {
	deadline := time.Now().Add(timeout)
	var last *Status
	for {
		c, cancel := context.WithTimeout(ctx, 3*time.Second)
		doc, err := localStackHealth(c, endpoint)
		cancel()
		if err == nil {
			last = &Status{Kind: KindLocalStack, Endpoint: endpoint, Version: doc.Version, Edition: doc.Edition, Services: doc.Services}
			if len(last.MissingServices()) == 0 {
				return last, nil
			}
		}
		if out, err := runDocker(ctx, docker, nil, "inspect", "-f", "{{.State.Running}}", ContainerName); err == nil && strings.TrimSpace(string(out)) == "false" {
			return nil, fmt.Errorf("the LocalStack container stopped while starting")
		}
		if time.Now().After(deadline) {
			if last != nil {
				return nil, fmt.Errorf("LocalStack at %s did not make these services available within %s: %s", endpoint, timeout, strings.Join(last.MissingServices(), ", "))
			}
			return nil, fmt.Errorf("LocalStack did not answer at %s/_localstack/health within %s", endpoint, timeout)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

func stopContainer(ctx context.Context, docker, name string, grace time.Duration) error {
	if name == "" {
		name = ContainerName
	}
	if _, err := exec.LookPath(docker); err != nil {
		return fmt.Errorf("%w: cannot stop container %s without the docker command", ErrDockerUnavailable, name)
	}
	_, _ = runDocker(ctx, docker, nil, "stop", "-t", strconv.Itoa(int(grace.Seconds())), name)
	out, err := runDocker(ctx, docker, nil, "rm", "-f", name)
	if err != nil && !strings.Contains(string(out), "No such container") {
		return fmt.Errorf("docker rm %s: %s", name, firstLine(out, err))
	}
	return nil
}

// runDocker runs docker with args and returns its combined output.
func runDocker(ctx context.Context, docker string, env []string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, docker, args...)
	cmd.Env = env
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	// Do not let a stuck docker keep ctx's cancellation waiting on its pipes.
	cmd.WaitDelay = time.Second
	err := cmd.Run()
	return buf.Bytes(), err
}

func firstLine(out []byte, err error) string {
	s := strings.TrimSpace(string(out))
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if s == "" && err != nil {
		return err.Error()
	}
	return s
}

func indent(b []byte) string {
	s := strings.TrimRight(string(b), "\n")
	if s == "" {
		return "  (nothing)"
	}
	return "  | " + strings.ReplaceAll(s, "\n", "\n  | ")
}
