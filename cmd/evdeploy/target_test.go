package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/google/go-cmp/cmp"
	"github.com/sivchari/kumo"
)

// isolateAWSEnv clears what the default chain reads, so only the test's
// values count. Profile "other" carries the same caller credentials as the
// tests put in the environment (a named profile's own credentials win).
func isolateAWSEnv(t *testing.T) {
	t.Helper()
	for _, k := range []string{"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_ENDPOINT_URL",
		"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"} {
		t.Setenv(k, "")
	}
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "config")
	if err := os.WriteFile(cfgFile, []byte("[profile other]\nregion = ap-northeast-1\naws_access_key_id = AKIDCALLER\naws_secret_access_key = caller-secret\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_CONFIG_FILE", cfgFile)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}

// --target aws with --endpoint: the caller's own credentials (here from the
// environment) against an AWS-compatible endpoint; the region precedence is
// --region, spec, environment/profile, us-east-1.
func TestAWSConfigTargetAWS(t *testing.T) {
	k := kumo.NewServer()
	defer k.Close()
	tests := []struct {
		name       string
		g          GlobalOptions
		specRegion string
		env        map[string]string
		wantRegion string
	}{
		{"--region wins", GlobalOptions{Region: "eu-west-1"}, "us-west-2", map[string]string{"AWS_REGION": "sa-east-1"}, "eu-west-1"},
		{"spec next", GlobalOptions{}, "us-west-2", map[string]string{"AWS_REGION": "sa-east-1"}, "us-west-2"},
		{"environment next", GlobalOptions{}, "", map[string]string{"AWS_REGION": "sa-east-1"}, "sa-east-1"},
		{"profile next", GlobalOptions{Profile: "other"}, "", nil, "ap-northeast-1"},
		{"us-east-1 last", GlobalOptions{}, "", nil, "us-east-1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			isolateAWSEnv(t)
			t.Setenv("AWS_ACCESS_KEY_ID", "AKIDCALLER")
			t.Setenv("AWS_SECRET_ACCESS_KEY", "caller-secret")
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			g := tt.g
			g.Target, g.Endpoint = "aws", k.URL
			f, _ := localFactory(&g)
			cfg, info, err := f.AWSConfig(t.Context(), tt.specRegion)
			if err != nil {
				t.Fatal(err)
			}
			want := &TargetInfo{Target: "aws", Endpoint: k.URL, Region: tt.wantRegion, Account: "000000000000", Partition: "aws"}
			if d := cmp.Diff(want, info); d != "" {
				t.Errorf("TargetInfo (-want +got):\n%s", d)
			}
			creds, err := cfg.Credentials.Retrieve(t.Context())
			if err != nil || creds.AccessKeyID != "AKIDCALLER" {
				t.Errorf("credentials = %q, %v; want the caller's", creds.AccessKeyID, err)
			}
			if aws.ToString(cfg.BaseEndpoint) != k.URL {
				t.Errorf("BaseEndpoint = %q", aws.ToString(cfg.BaseEndpoint))
			}
		})
	}
}

func TestAWSConfigTargetAWSWithoutCredentials(t *testing.T) {
	isolateAWSEnv(t)
	k := kumo.NewServer()
	defer k.Close()
	// No credentials anywhere: a clear error instead of a call with none.
	f, _ := localFactory(&GlobalOptions{Target: "aws", Endpoint: k.URL})
	_, _, err := f.AWSConfig(t.Context(), "")
	if err == nil || !strings.Contains(err.Error(), "no AWS credentials found") {
		t.Errorf("err = %v", err)
	}
}

// --target local never signs with the caller's real credentials.
func TestAWSConfigTargetLocalUsesTestCredentials(t *testing.T) {
	isolateAWSEnv(t)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIAREALREALREAL")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "real")
	t.Setenv("AWS_PROFILE", "other")
	k := kumo.NewServer()
	defer k.Close()
	f, _ := localFactory(&GlobalOptions{Target: "local", Endpoint: k.URL})
	cfg, info, err := f.AWSConfig(t.Context(), "eu-north-1")
	if err != nil {
		t.Fatal(err)
	}
	want := &TargetInfo{Target: "local", Engine: "endpoint", Endpoint: k.URL, Region: "eu-north-1", Account: "000000000000", Partition: "aws"}
	if d := cmp.Diff(want, info); d != "" {
		t.Errorf("TargetInfo (-want +got):\n%s", d)
	}
	creds, err := cfg.Credentials.Retrieve(t.Context())
	if err != nil || creds.AccessKeyID != "test" || creds.SecretAccessKey != "test" {
		t.Errorf("credentials = %+v, %v; want test/test", creds, err)
	}
}

func TestTargetInfoID(t *testing.T) {
	tests := []struct {
		info TargetInfo
		want string
	}{
		{TargetInfo{Target: "aws", Account: "123456789012", Region: "eu-west-1"}, "aws:123456789012:eu-west-1"},
		{TargetInfo{Target: "aws", Account: "1", Region: "r", Endpoint: "https://x"}, "aws:1:r:https://x"},
		{TargetInfo{Target: "local", Endpoint: "http://localhost:4566"}, "local:http://127.0.0.1:4566"},
		{TargetInfo{Target: "local", Endpoint: "http://127.0.0.1:4566"}, "local:http://127.0.0.1:4566"},
	}
	for _, tt := range tests {
		if got := tt.info.ID(); got != tt.want {
			t.Errorf("%+v.ID() = %q, want %q", tt.info, got, tt.want)
		}
	}
}
