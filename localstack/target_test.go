package localstack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/google/go-cmp/cmp"
	"github.com/sivchari/kumo"
)

// fakeEngine answers HealthPath as an embedded engine with the given pid.
func fakeEngine(t *testing.T, pid int) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != HealthPath {
			http.NotFound(w, r)
			return
		}
		_ = json.NewEncoder(w).Encode(EngineInfo{Kind: KindEmbedded, Engine: "kumo", EngineVersion: kumo.Version, PID: pid})
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestResolvePrecedence(t *testing.T) {
	ls := fakeLocalStack(t, "")
	engine := fakeEngine(t, 4242)
	dead := "http://127.0.0.1:" + fmt.Sprint(freePort(t))

	liveRec := &Record{Kind: KindEmbedded, Endpoint: engine.URL, PID: 4242}
	staleRec := &Record{Kind: KindEmbedded, Endpoint: dead, PID: 4242}
	autoRec := &Record{Kind: KindEmbedded, Endpoint: "http://127.0.0.1:4999", PID: 1}

	type want struct{ Engine, Endpoint, Source, Region string }
	tests := []struct {
		name      string
		flag      string
		env       map[string]string
		region    string
		record    *Record
		lsURL     string
		autostart bool
		want      want
		wantErr   string
		wantAuto  bool
	}{
		{
			name: "flag beats everything", flag: "http://flag:1/", env: map[string]string{"AWS_ENDPOINT_URL": "http://env:2"},
			record: liveRec, lsURL: ls.URL, autostart: true,
			want: want{KindEndpoint, "http://flag:1", SourceFlag, "us-east-1"},
		},
		{
			name: "env beats record", env: map[string]string{"AWS_ENDPOINT_URL": "http://env:2", "AWS_REGION": "eu-west-1"},
			record: liveRec, lsURL: ls.URL, autostart: true,
			want: want{KindEndpoint, "http://env:2", SourceEnv, "eu-west-1"},
		},
		{
			name: "record beats localstack", env: map[string]string{"AWS_DEFAULT_REGION": "ap-south-1"}, region: "eu-central-1",
			record: liveRec, lsURL: ls.URL, autostart: true,
			want: want{KindEmbedded, engine.URL, SourceRecord, "eu-central-1"},
		},
		{
			name: "stale record: localstack on the port", env: map[string]string{"AWS_DEFAULT_REGION": "ap-south-1"},
			record: staleRec, lsURL: ls.URL, autostart: true,
			want: want{KindLocalStack, ls.URL, SourceLocalStack, "ap-south-1"},
		},
		{
			name:  "embedded engine on the port without a record",
			lsURL: engine.URL, autostart: true,
			want: want{KindEmbedded, engine.URL, SourceLocalStack, "us-east-1"},
		},
		{
			name: "nothing running: autostart", record: staleRec, lsURL: dead, autostart: true,
			want: want{KindEmbedded, autoRec.Endpoint, SourceAutoStart, "us-east-1"}, wantAuto: true,
		},
		{
			name: "nothing running, no autostart", lsURL: dead,
			wantErr: "no local cloud is running",
		},
		{
			name: "bad endpoint", flag: "localhost:4566",
			wantErr: `--endpoint: endpoint "localhost:4566" is not an http(s) URL`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if tt.record != nil {
				if err := writeRecord(dir, tt.record); err != nil {
					t.Fatal(err)
				}
			}
			var notices []string
			autoCalled := false
			opts := ResolveOptions{
				Endpoint: tt.flag, Getenv: envMap(tt.env), Region: tt.region, StateDir: dir, LocalStackURL: tt.lsURL,
				Notice: func(s string) { notices = append(notices, s) },
			}
			if tt.autostart {
				opts.AutoStart = func(context.Context) (*Record, error) { autoCalled = true; return autoRec, nil }
			}
			got, err := Resolve(t.Context(), opts)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tt.want, want{got.Engine, got.Endpoint, got.Source, got.Region}); d != "" {
				t.Errorf("Resolve (-want +got):\n%s", d)
			}
			if got.Kind != "local" {
				t.Errorf("Kind = %q", got.Kind)
			}
			if autoCalled != tt.wantAuto {
				t.Errorf("AutoStart called = %v, want %v", autoCalled, tt.wantAuto)
			}
			if tt.wantAuto && (len(notices) != 1 || !strings.Contains(notices[0], autoRec.Endpoint)) {
				t.Errorf("notices = %q, want one naming %s", notices, autoRec.Endpoint)
			}
			if !tt.wantAuto && len(notices) != 0 {
				t.Errorf("unexpected notices %q", notices)
			}
		})
	}
}

func TestResolveAutoStartFails(t *testing.T) {
	_, err := Resolve(t.Context(), ResolveOptions{
		Getenv: envMap(nil), StateDir: t.TempDir(), LocalStackURL: "http://127.0.0.1:" + fmt.Sprint(freePort(t)),
		AutoStart: func(context.Context) (*Record, error) { return nil, errors.New("port 4566 busy") },
	})
	if err == nil || !strings.Contains(err.Error(), "starting the embedded engine failed: port 4566 busy") {
		t.Errorf("err = %v", err)
	}
}

// AWSConfig uses the static test credentials and the endpoint, whatever the
// environment says about real credentials, profiles or endpoints.
func TestAWSConfigNeverUsesRealCredentials(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIAREALREALREAL")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "real-secret")
	t.Setenv("AWS_SESSION_TOKEN", "real-session")
	t.Setenv("AWS_PROFILE", "production")
	t.Setenv("AWS_ENDPOINT_URL_STS", "https://sts.amazonaws.com")

	k := kumo.NewServer()
	defer k.Close()
	ku, _ := url.Parse(k.URL)
	var mu sync.Mutex
	var auths []string
	proxy := httputil.NewSingleHostReverseProxy(ku)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		auths = append(auths, r.Header.Get("Authorization"))
		mu.Unlock()
		proxy.ServeHTTP(w, r)
	}))
	defer srv.Close()

	tgt := &Target{Kind: "local", Engine: KindEndpoint, Endpoint: srv.URL, Region: "eu-west-1"}
	cfg, err := tgt.AWSConfig(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	creds, err := cfg.Credentials.Retrieve(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if creds.AccessKeyID != "test" || creds.SecretAccessKey != "test" || creds.SessionToken != "" {
		t.Errorf("credentials = %q/%q/%q, want test/test", creds.AccessKeyID, creds.SecretAccessKey, creds.SessionToken)
	}
	if aws.ToString(cfg.BaseEndpoint) != srv.URL || cfg.Region != "eu-west-1" {
		t.Errorf("endpoint %q region %q", aws.ToString(cfg.BaseEndpoint), cfg.Region)
	}
	if tgt.Account != DefaultAccount {
		t.Errorf("Account = %q", tgt.Account)
	}
	// A call through the config reaches the endpoint, signed as "test".
	if _, err := sts.NewFromConfig(cfg).GetCallerIdentity(t.Context(), &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(auths) < 2 {
		t.Fatalf("the endpoint saw %d requests, want 2 (account lookup, call)", len(auths))
	}
	for _, a := range auths {
		if !strings.Contains(a, "Credential=test/") || strings.Contains(a, "AKIAREAL") {
			t.Errorf("request signed with %q", a)
		}
	}
	if cfg2, _ := tgt.AWSConfig(t.Context(), "us-west-2"); cfg2.Region != "us-west-2" {
		t.Errorf("region override ignored: %q", cfg2.Region)
	}
}

// TestDeployAccount: ARNs are derived from the account the endpoint's STS
// reports; the default is used only when STS answers that it does not
// implement the call, and an endpoint that does not answer is an error —
// never a silently guessed account.
func TestDeployAccount(t *testing.T) {
	k := kumo.NewServer()
	defer k.Close()
	noSTS := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `<ErrorResponse><Error><Type>Sender</Type><Code>InvalidAction</Code><Message>not implemented</Message></Error><RequestId>1</RequestId></ErrorResponse>`)
	}))
	defer noSTS.Close()
	dead := "http://127.0.0.1:" + fmt.Sprint(freePort(t))

	for _, tc := range []struct {
		name, endpoint, want string
		wantErr              bool
	}{
		{name: "kumo's STS", endpoint: k.URL, want: "000000000000"},
		{name: "no STS", endpoint: noSTS.URL, want: "999999999999"},
		{name: "nothing listening", endpoint: dead, wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
			defer cancel()
			got, err := deployAccount(ctx, tc.endpoint, "999999999999")
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Fatalf("deployAccount = %q, %v; want %q, error %v", got, err, tc.want, tc.wantErr)
			}
		})
	}
}
