package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/logging"

	"github.com/evdeploy/evdeploy/localstack"
)

// TargetInfo says where a command deploys.
type TargetInfo struct {
	Target   string // "aws" or "local"
	Engine   string // local: "embedded", "localstack" or "endpoint"; aws: ""
	Endpoint string // "" for AWS's own endpoints
	Region   string
	Account  string
	// Partition is the account's ("aws", "aws-cn", ...); with Account it is
	// handed to the providers so that STS is asked once per command.
	Partition string
}

// ID identifies the target in the state document ("aws:123456789012:us-east-1",
// "local:http://127.0.0.1:4566"), so state made on one target is not planned
// against another. localhost and 127.0.0.1 name the same local endpoint.
func (t *TargetInfo) ID() string {
	if t.Target == "local" {
		ep := t.Endpoint
		if u, err := url.Parse(ep); err == nil && u.Hostname() == "localhost" {
			u.Host = strings.Replace(u.Host, "localhost", "127.0.0.1", 1)
			ep = u.String()
		}
		return "local:" + ep
	}
	id := "aws:" + t.Account + ":" + t.Region
	if t.Endpoint != "" {
		id += ":" + t.Endpoint
	}
	return id
}

// targetCache holds one resolved target per Factory and spec region: a
// command may ask several times, and resolving may start an engine or call STS.
var targetCache struct {
	sync.Mutex
	m map[targetKey]targetResult
}

type targetKey struct {
	f          *Factory
	specRegion string
}

type targetResult struct {
	cfg  aws.Config
	info *TargetInfo
}

// AWSConfig builds the SDK configuration for the chosen target and says what
// that target is. specRegion is the spec's region ("" when it names none).
//
// --target aws: the default credential chain with --profile; region from
// --region, else specRegion, else AWS_REGION/the profile, else us-east-1; the
// account from STS. --endpoint is honoured (any AWS-compatible endpoint, with
// the caller's real credentials).
//
// --target local: localstack.Resolve (--endpoint, AWS_ENDPOINT_URL, the
// recorded engine, LocalStack on :4566, else the embedded engine is started)
// with test credentials only.
func (f *Factory) AWSConfig(ctx context.Context, specRegion string) (aws.Config, *TargetInfo, error) {
	key := targetKey{f, specRegion}
	targetCache.Lock()
	defer targetCache.Unlock()
	if r, ok := targetCache.m[key]; ok {
		return r.cfg, r.info, nil
	}
	var (
		cfg  aws.Config
		info *TargetInfo
		err  error
	)
	if f.Global.Target == "local" {
		cfg, info, err = f.localConfig(ctx, specRegion)
	} else {
		cfg, info, err = f.awsConfig(ctx, specRegion)
	}
	if err != nil {
		return aws.Config{}, nil, err
	}
	if targetCache.m == nil {
		targetCache.m = map[targetKey]targetResult{}
	}
	targetCache.m[key] = targetResult{cfg, info}
	return cfg, info, nil
}

func (f *Factory) awsConfig(ctx context.Context, specRegion string) (aws.Config, *TargetInfo, error) {
	g := f.Global
	var opts []func(*config.LoadOptions) error
	region := g.Region
	if region == "" {
		region = specRegion
	}
	if region != "" {
		opts = append(opts, config.WithRegion(region))
	}
	if g.Profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(g.Profile))
	}
	if g.Endpoint != "" {
		opts = append(opts, config.WithBaseEndpoint(g.Endpoint))
	}
	// The SDK's own log lines (an IMDS fallback warning on every machine that
	// is not EC2) are noise beside evdeploy's error, which says what to do.
	opts = append(opts, config.WithLogger(logging.Nop{}))
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		if strings.Contains(err.Error(), "failed to get shared config profile") {
			return aws.Config{}, nil, friendly(err, "--target aws: there is no AWS profile %q in ~/.aws/config or ~/.aws/credentials. Create it (aws configure --profile %s, or aws configure sso), or name an existing one with --profile or AWS_PROFILE.", g.Profile, g.Profile)
		}
		return aws.Config{}, nil, fmt.Errorf("loading AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	out, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return aws.Config{}, nil, explainAWSError(err, g.Profile, cfg.Region, g.Endpoint)
	}
	partition := "aws"
	// The caller's ARN names the partition: arn:<partition>:sts::<account>:...
	if parts := strings.SplitN(aws.ToString(out.Arn), ":", 3); len(parts) == 3 && parts[0] == "arn" {
		partition = parts[1]
	}
	return cfg, &TargetInfo{
		Target: "aws", Endpoint: g.Endpoint, Region: cfg.Region, Account: aws.ToString(out.Account), Partition: partition,
	}, nil
}

func (f *Factory) localConfig(ctx context.Context, specRegion string) (aws.Config, *TargetInfo, error) {
	g := f.Global
	region := g.Region
	if region == "" {
		region = specRegion
	}
	t, err := localstack.Resolve(ctx, localstack.ResolveOptions{
		Endpoint: g.Endpoint,
		Getenv:   os.Getenv,
		Region:   region,
		AutoStart: func(ctx context.Context) (*localstack.Record, error) {
			return localstack.Start(ctx, localstack.StartOptions{Version: evdeployVersion()})
		},
		Notice: func(msg string) { fmt.Fprintln(f.IO.ErrOut, "evdeploy:", msg) },
	})
	if err != nil {
		return aws.Config{}, nil, err
	}
	cfg, err := t.AWSConfig(ctx, region)
	if err != nil {
		return aws.Config{}, nil, err
	}
	return cfg, &TargetInfo{
		Target: "local", Engine: t.Engine, Endpoint: t.Endpoint, Region: cfg.Region, Account: t.Account, Partition: "aws",
	}, nil
}
