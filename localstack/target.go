package localstack

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// Where Resolve found the endpoint (Target.Source).
const (
	SourceFlag       = "--endpoint"
	SourceEnv        = "AWS_ENDPOINT_URL"
	SourceRecord     = "record"
	SourceLocalStack = "localstack"
	SourceAutoStart  = "autostart"
)

// Target is a resolved local target.
type Target struct {
	Kind     string // always "local"
	Engine   string // KindEmbedded, KindLocalStack or KindEndpoint
	Endpoint string
	Region   string
	Account  string // filled by AWSConfig
	Source   string // Source* constant: which rule chose the endpoint
}

// ResolveOptions are Resolve's inputs; everything it reads comes through here.
type ResolveOptions struct {
	Endpoint string              // the --endpoint flag
	Getenv   func(string) string // nil: os.Getenv
	Region   string              // --region or the spec's; else AWS_REGION, AWS_DEFAULT_REGION, us-east-1
	StateDir string              // default StateDir(Getenv)
	// LocalStackURL is probed when nothing else names an endpoint (default
	// http://localhost:<LocalPort(Getenv)>).
	LocalStackURL string
	// AutoStart starts the embedded engine when nothing answers; nil makes
	// that case an error.
	AutoStart func(ctx context.Context) (*Record, error)
	// Notice receives the one-line notice printed when AutoStart is used.
	Notice func(string)
}

// Resolve picks the local endpoint: --endpoint, else AWS_ENDPOINT_URL, else
// the recorded running engine, else a healthy LocalStack (or embedded
// engine) on localhost:4566, else it starts the embedded engine.
func Resolve(ctx context.Context, opts ResolveOptions) (*Target, error) {
	getenv := opts.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	t := &Target{Kind: "local", Region: opts.Region}
	if t.Region == "" {
		t.Region = getenv("AWS_REGION")
	}
	if t.Region == "" {
		t.Region = getenv("AWS_DEFAULT_REGION")
	}
	if t.Region == "" {
		t.Region = "us-east-1"
	}
	set := func(engine, endpoint, source string) (*Target, error) {
		ep, err := normalizeEndpoint(endpoint)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", source, err)
		}
		t.Engine, t.Endpoint, t.Source = engine, ep, source
		return t, nil
	}
	if opts.Endpoint != "" {
		return set(KindEndpoint, opts.Endpoint, SourceFlag)
	}
	if ep := getenv("AWS_ENDPOINT_URL"); ep != "" {
		return set(KindEndpoint, ep, SourceEnv)
	}
	dir := opts.StateDir
	if dir == "" {
		d, err := StateDir(getenv)
		if err != nil {
			return nil, err
		}
		dir = d
	}
	rec, err := ReadRecord(dir)
	if err != nil {
		return nil, err
	}
	if rec != nil && recordHealthy(ctx, rec) {
		return set(rec.Kind, rec.Endpoint, SourceRecord)
	}
	probeURL := opts.LocalStackURL
	if probeURL == "" {
		port, err := LocalPort(getenv)
		if err != nil {
			return nil, err
		}
		probeURL = fmt.Sprintf("http://localhost:%d", port)
	}
	pctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	st, err := Probe(pctx, probeURL)
	cancel()
	if err == nil && (st.Kind == KindLocalStack || st.Kind == KindEmbedded) {
		return set(st.Kind, probeURL, SourceLocalStack)
	}
	if opts.AutoStart == nil {
		return nil, fmt.Errorf("no local cloud is running (no AWS_ENDPOINT_URL, no engine recorded in %s, nothing at %s): start one with `evdeploy local up`", dir, probeURL)
	}
	rec, err = opts.AutoStart(ctx)
	if err != nil {
		return nil, fmt.Errorf("no local cloud was running and starting the embedded engine failed: %w", err)
	}
	if opts.Notice != nil {
		opts.Notice(fmt.Sprintf("no local cloud was running: started the embedded engine at %s (stop it with `evdeploy local down`)", rec.Endpoint))
	}
	return set(rec.Kind, rec.Endpoint, SourceAutoStart)
}

func normalizeEndpoint(ep string) (string, error) {
	u, err := url.Parse(ep)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("endpoint %q is not an http(s) URL", ep)
	}
	return strings.TrimRight(ep, "/"), nil
}

// AWSConfig is the SDK configuration for the target: static test
// credentials, the endpoint as BaseEndpoint, and region (t.Region when "").
// It never consults the default credential chain, shared config files or
// AWS_ENDPOINT_URL_<SERVICE>, so nothing can reach real AWS. It fills
// t.Account from the endpoint's STS (DefaultAccount only when its STS
// answers that it does not implement GetCallerIdentity).
func (t *Target) AWSConfig(ctx context.Context, region string) (aws.Config, error) {
	if t.Endpoint == "" {
		return aws.Config{}, fmt.Errorf("local target has no endpoint")
	}
	if region == "" {
		region = t.Region
	}
	if t.Account == "" {
		acct, err := deployAccount(ctx, t.Endpoint, DefaultAccount)
		if err != nil {
			return aws.Config{}, err
		}
		t.Account = acct
	}
	return localConfig(t.Endpoint, region), nil
}
