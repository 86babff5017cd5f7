package main

import (
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/credentials/ssocreds"
	"github.com/aws/smithy-go"
	"github.com/sivchari/kumo"
)

// rawSDK are fragments of the SDK's own error chains that a friendly error
// never shows.
var rawSDK = []string{"exceeded maximum number of attempts", "operation error", "https response error", "get identity:"}

func assertFriendly(t *testing.T, err error, wants ...string) {
	t.Helper()
	if err == nil {
		t.Fatal("no error")
	}
	msg := err.Error()
	for _, w := range wants {
		if !strings.Contains(msg, w) {
			t.Errorf("error lacks %q:\n%s", w, msg)
		}
	}
	for _, raw := range rawSDK {
		if strings.Contains(msg, raw) {
			t.Errorf("error shows the SDK's %q:\n%s", raw, msg)
		}
	}
}

// Each common --target aws failure, as the SDK reports it, becomes what
// happened and what to do.
func TestExplainAWSError(t *testing.T) {
	sdk := func(cause error) error {
		return fmt.Errorf("operation error STS: GetCallerIdentity, exceeded maximum number of attempts, 3, https response error StatusCode: 0, request send failed: %w", cause)
	}
	dns := func(host string) error { return &net.DNSError{Name: host, Err: "no such host", IsNotFound: true} }
	tests := map[string]struct {
		err             error
		profile, region string
		want            []string
	}{
		"expired SSO session": {
			err:     fmt.Errorf("operation error STS: GetCallerIdentity, get identity: get credentials: failed to refresh cached credentials, %w", &ssocreds.InvalidTokenError{}),
			profile: "dev", region: "us-east-1",
			want: []string{"SSO session of profile \"dev\" has expired", "aws sso login --profile dev"},
		},
		"no credentials": {
			err:    errors.New("operation error STS: GetCallerIdentity, get identity: get credentials: failed to refresh cached credentials, no EC2 IMDS role found"),
			region: "us-east-1",
			want:   []string{"no AWS credentials found for the default profile", "aws configure", "--target local"},
		},
		"rejected credentials": {
			err:    sdk(&smithy.GenericAPIError{Code: "InvalidClientTokenId", Message: "The security token included in the request is invalid."}),
			region: "us-east-1",
			want:   []string{"AWS rejected the credentials", "InvalidClientTokenId"},
		},
		"expired temporary credentials": {
			err:     sdk(&smithy.GenericAPIError{Code: "ExpiredToken", Message: "The security token included in the request is expired"}),
			profile: "ci", region: "us-east-1",
			want: []string{"credentials of profile \"ci\" have expired"},
		},
		"a region that does not exist": {
			err: sdk(dns("sts.us-east-7.amazonaws.com")), region: "us-east-7",
			want: []string{`"us-east-7" is not an AWS region`, "--region", "AWS_REGION"},
		},
		"a region misspelt": {
			err: sdk(dns("sts.useast1.amazonaws.com")), region: "useast1",
			want: []string{`"useast1" is not an AWS region (regions look like us-east-1`},
		},
		"no network": {
			err: sdk(dns("sts.eu-west-1.amazonaws.com")), region: "eu-west-1",
			want: []string{"cannot reach AWS", "sts.eu-west-1.amazonaws.com does not resolve", "proxy"},
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			err := explainAWSError(tt.err, tt.profile, tt.region, "")
			assertFriendly(t, err, tt.want...)
			if !errors.Is(err, tt.err) {
				t.Error("the friendly error must keep the cause reachable")
			}
		})
	}
}

// An expired SSO session, as the SDK meets it on this machine (a cached token
// past its expiry), is reported as such, with the command that fixes it.
func TestAWSConfigExpiredSSO(t *testing.T) {
	isolateAWSEnv(t)
	home := t.TempDir()
	t.Setenv("HOME", home)
	start := "https://example.awsapps.com/start"
	cfg := filepath.Join(home, "config")
	if err := os.WriteFile(cfg, []byte("[profile dev]\nsso_start_url = "+start+"\nsso_region = us-east-1\nsso_account_id = 123456789012\nsso_role_name = Admin\nregion = us-east-1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_CONFIG_FILE", cfg)
	sum := sha1.Sum([]byte(start))
	cache := filepath.Join(home, ".aws", "sso", "cache", hex.EncodeToString(sum[:])+".json")
	if err := os.MkdirAll(filepath.Dir(cache), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cache, []byte(`{"accessToken":"old","expiresAt":"2020-01-01T00:00:00Z","region":"us-east-1","startUrl":"`+start+`"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	k := kumo.NewServer()
	defer k.Close()
	f, _ := localFactory(&GlobalOptions{Target: "aws", Profile: "dev", Endpoint: k.URL})
	_, _, err := f.AWSConfig(t.Context(), "")
	assertFriendly(t, err, "SSO session of profile \"dev\" has expired", "aws sso login --profile dev")
}

// A profile that does not exist is named, with how to create it.
func TestAWSConfigUnknownProfile(t *testing.T) {
	isolateAWSEnv(t)
	f, _ := localFactory(&GlobalOptions{Target: "aws", Profile: "nope", Endpoint: "http://127.0.0.1:1"})
	_, _, err := f.AWSConfig(t.Context(), "")
	assertFriendly(t, err, `no AWS profile "nope"`, "aws configure --profile nope")
}

// local up on a port another program holds says so and offers another port.
func TestLocalUpPortTaken(t *testing.T) {
	_, port := localTestEnv(t)
	// Another program on the port: a web server that is not an engine.
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.NotFoundHandler()}
	go srv.Serve(ln)
	defer srv.Close()
	code, _, stderr := runLocal(t, "local", "up")
	if code == 0 {
		t.Fatal("local up succeeded on a taken port")
	}
	assertFriendly(t, errors.New(stderr), fmt.Sprintf("port %d is already taken", port), fmt.Sprintf("--port %d", port+1))
	if strings.Contains(stderr, "bind:") {
		t.Errorf("raw bind error shown:\n%s", stderr)
	}
}

// Invoking a function on an endpoint that stores functions but runs none (a
// bare emulator) says so and points at the embedded engine, instead of the
// SDK's three retried 502s.
func TestInvokeEndpointRunsNoCode(t *testing.T) {
	emu := emulator(t)
	dir := writeProject(t, map[string]string{
		"evdeploy.evd.hcl": "app \"inv\" {}\n\nfunction \"hello\" {\n  runtime = \"python3.12\"\n  source  = \"./fn\"\n  handler = \"main.handler\"\n}\n",
		"fn/main.py":       "def handler(event, context):\n    return event\n",
	})
	common := []string{"-C", dir, "--stage", uniqueStage("i"), "--target", "local", "--endpoint", emu}
	mustEvd(t, 0, append([]string{"apply", "--auto-approve"}, common...)...)
	r := mustEvd(t, 1, append([]string{"invoke", "hello"}, common...)...)
	assertFriendly(t, errors.New(r.errOut), "function.hello: "+emu+" stores the function", "runs no code", "evdeploy local up")
	mustEvd(t, 0, append([]string{"destroy", "--auto-approve"}, common...)...)
}

// Building a Go function without the Go toolchain names the function and
// what to install.
func TestPackageWithoutGoToolchain(t *testing.T) {
	dir := writeProject(t, map[string]string{
		"evdeploy.evd.hcl": "app \"nogo\" {}\n\nfunction \"api\" {\n  runtime = \"go\"\n  source  = \"./fn\"\n}\n",
		"fn/main.go":       "package main\n\nfunc main() {}\n",
		"fn/go.mod":        "module fn\n\ngo 1.22\n",
	})
	t.Setenv("PATH", t.TempDir())
	_, stderr, code := runCLI(t, "package", "-C", dir)
	if code == 0 {
		t.Fatal("package succeeded without go")
	}
	assertFriendly(t, errors.New(stderr), "function.api: runtime go is built with the Go toolchain", "`go` is not on PATH", "https://go.dev/dl")
}
