package localstack

import (
	"context"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// fakeDocker writes a `docker` script into a fresh folder and returns the
// folder (to put first in PATH) and the file where it logs each call.
// body is the shell case for "$1".
func fakeDocker(t *testing.T, body string) (dir, calls string) {
	t.Helper()
	dir = t.TempDir()
	calls = filepath.Join(dir, "calls")
	script := "#!/bin/sh\necho \"$@\" >> " + calls + "\n" + body + "\n"
	if err := os.WriteFile(filepath.Join(dir, "docker"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir, calls
}

func readCalls(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimRight(string(b), "\n"), "\n")
}

const workingDocker = `case "$1" in
info) echo 28.2.2 ;;
run) echo "token=$LOCALSTACK_AUTH_TOKEN" >> "$(dirname "$0")/calls"; echo 0123abcd ;;
inspect) echo true ;;
esac`

func TestStartLocalStackWithoutDocker(t *testing.T) {
	noDocker := t.TempDir()
	failing, _ := fakeDocker(t, `echo "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?" >&2; exit 1`)
	hanging, _ := fakeDocker(t, `sleep 30`)
	tests := []struct {
		name, path string
		token      string
		wantIn     []string
	}{
		{"no docker binary", noDocker, "", []string{"Docker is not available", `no "docker" command in PATH`, "evdeploy local up"}},
		{"no docker binary, with token", noDocker, "tok", []string{"Docker is not available"}},
		{"daemon not running", failing + ":/usr/bin:/bin", "", []string{"Docker is not available", "Cannot connect to the Docker daemon"}},
		{"docker info hangs", hanging + ":/usr/bin:/bin", "", []string{"Docker is not available", "did not answer within"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("PATH", tt.path)
			start := time.Now()
			_, err := StartLocalStack(t.Context(), LocalStackOptions{
				Port: 1, StateDir: t.TempDir(), Getenv: envMap(map[string]string{EnvAuthToken: tt.token}),
				InfoTimeout: 500 * time.Millisecond,
			})
			if !errors.Is(err, ErrDockerUnavailable) {
				t.Fatalf("err = %v, want ErrDockerUnavailable", err)
			}
			for _, s := range tt.wantIn {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not say %q", err, s)
				}
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("took %s: must not hang", d)
			}
		})
	}
}

func TestStartLocalStackNeedsToken(t *testing.T) {
	dir, calls := fakeDocker(t, workingDocker)
	t.Setenv("PATH", dir+":/usr/bin:/bin")
	_, err := StartLocalStack(t.Context(), LocalStackOptions{Port: 1, StateDir: t.TempDir(), Getenv: envMap(nil)})
	if !errors.Is(err, ErrAuthTokenMissing) {
		t.Fatalf("err = %v, want ErrAuthTokenMissing", err)
	}
	for _, s := range []string{"export LOCALSTACK_AUTH_TOKEN", "--image localstack/localstack:", "evdeploy local up"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error does not offer %q:\n%s", s, err)
		}
	}
	if d := cmp.Diff([]string{"info --format {{.ServerVersion}}"}, readCalls(t, calls)); d != "" {
		t.Errorf("docker calls (-want +got):\n%s", d)
	}
}

// The whole `up --engine localstack` path against a fake docker and a fake
// LocalStack health endpoint on the published port; then Stop removes it.
func TestStartLocalStackFlow(t *testing.T) {
	tests := []struct {
		name, token, image string
		wantRun            string
		wantToken          string
	}{
		{"token passed by name", "s3cr3t", "", "run -d --name evdeploy-localstack -p 127.0.0.1:PORT:4566 -v /var/run/docker.sock:/var/run/docker.sock -e LOCALSTACK_AUTH_TOKEN " + DefaultImage, "token=s3cr3t"},
		{"pinned image, no token", "", "localstack/localstack:4.9", "run -d --name evdeploy-localstack -p 127.0.0.1:PORT:4566 -v /var/run/docker.sock:/var/run/docker.sock localstack/localstack:4.9", "token="},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, calls := fakeDocker(t, workingDocker)
			t.Setenv("PATH", dir+":/usr/bin:/bin")
			ls := fakeLocalStack(t, "")
			u, _ := url.Parse(ls.URL)
			port, _ := strconv.Atoi(u.Port())
			state := t.TempDir()
			rec, err := StartLocalStack(t.Context(), LocalStackOptions{
				Port: port, Image: tt.image, StateDir: state, Version: "v1",
				Getenv: envMap(map[string]string{EnvAuthToken: tt.token}),
			})
			if err != nil {
				t.Fatal(err)
			}
			img := tt.image
			if img == "" {
				img = DefaultImage
			}
			want := &Record{Kind: KindLocalStack, Endpoint: "http://localhost:" + u.Port(), Container: ContainerName,
				Image: img, Started: rec.Started, Version: "v1", EngineVersion: "4.9.2"}
			if d := cmp.Diff(want, rec); d != "" {
				t.Errorf("record (-want +got):\n%s", d)
			}
			got := readCalls(t, calls)
			wantCalls := []string{
				"info --format {{.ServerVersion}}",
				"rm -f evdeploy-localstack",
				strings.ReplaceAll(tt.wantRun, "PORT", u.Port()),
				tt.wantToken,
			}
			if len(got) < len(wantCalls) {
				t.Fatalf("docker calls: %q", got)
			}
			if d := cmp.Diff(wantCalls, got[:len(wantCalls)]); d != "" {
				t.Errorf("docker calls (-want +got):\n%s", d)
			}
			if tt.token != "" && strings.Contains(strings.Join(got[:3], " "), tt.token) {
				t.Errorf("the token appears on docker's command line")
			}

			// up again: already running, nothing started.
			again, err := StartLocalStack(t.Context(), LocalStackOptions{Port: port, Image: tt.image, StateDir: state,
				Getenv: envMap(map[string]string{EnvAuthToken: tt.token})})
			if err != nil || !again.AlreadyRunning {
				t.Errorf("second start = %+v, %v; want AlreadyRunning", again, err)
			}

			if err := os.Truncate(calls, 0); err != nil {
				t.Fatal(err)
			}
			if _, err := Stop(context.Background(), StopOptions{StateDir: state, Grace: 2 * time.Second}); err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff([]string{"stop -t 2 evdeploy-localstack", "rm -f evdeploy-localstack"}, readCalls(t, calls)); d != "" {
				t.Errorf("docker calls on Stop (-want +got):\n%s", d)
			}
			if r, _ := ReadRecord(state); r != nil {
				t.Errorf("record left after Stop: %+v", r)
			}
		})
	}
}

// Services that never become available: a bounded wait that names them.
func TestStartLocalStackServicesMissing(t *testing.T) {
	dir, _ := fakeDocker(t, workingDocker)
	t.Setenv("PATH", dir+":/usr/bin:/bin")
	ls := fakeLocalStack(t, `{"services":{"sqs":"running","lambda":"error"},"edition":"community","version":"4.9.2"}`)
	u, _ := url.Parse(ls.URL)
	port, _ := strconv.Atoi(u.Port())
	_, err := StartLocalStack(t.Context(), LocalStackOptions{Port: port, StateDir: t.TempDir(),
		Getenv: envMap(map[string]string{EnvAuthToken: "x"}), HealthTimeout: 1500 * time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), "did not make these services available") || !strings.Contains(err.Error(), "lambda") {
		t.Errorf("err = %v", err)
	}
}
