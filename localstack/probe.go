package localstack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
)

// DefaultAccount is the account every local engine reports.
const DefaultAccount = "000000000000"

// Status is what Probe found at an endpoint.
type Status struct {
	Kind     string `json:"kind"` // KindEmbedded, KindLocalStack, KindKumo or KindEndpoint
	Endpoint string `json:"endpoint"`
	// Version is the engine's version: LocalStack's, or kumo's for the
	// embedded engine.
	Version string `json:"version,omitempty"`
	// Edition is LocalStack's edition ("community", "pro"…); "kumo" for the
	// embedded engine.
	Edition string `json:"edition,omitempty"`
	// Services maps a service to its state ("available", "running"…) where
	// the engine reports one (LocalStack only).
	Services map[string]string `json:"services,omitempty"`
	Account  string            `json:"account,omitempty"`
	// Embedded engine only.
	PID             int       `json:"pid,omitempty"`
	Started         time.Time `json:"started,omitzero"`
	EvdeployVersion string    `json:"evdeploy_version,omitempty"`
	// Functions: each deployed function and whether the embedded engine runs
	// its handler ("running (pid N)") or why not.
	Functions map[string]string `json:"functions,omitempty"`
}

// Describe names the engine for people: "LocalStack 4.9.2 (community)".
func (s *Status) Describe() string {
	switch s.Kind {
	case KindLocalStack:
		d := "LocalStack"
		if s.Version != "" {
			d += " " + s.Version
		}
		if s.Edition != "" {
			d += " (" + s.Edition + ")"
		}
		return d
	case KindEmbedded:
		return fmt.Sprintf("the evdeploy embedded engine (kumo %s, pid %d)", s.Version, s.PID)
	case KindKumo:
		return "a kumo emulator"
	}
	return "an AWS-compatible endpoint"
}

// Services evdeploy deploys to, by LocalStack's names for them.
var NeededServices = []string{
	"apigateway", "dynamodb", "dynamodbstreams", "events", "iam", "kinesis",
	"lambda", "logs", "s3", "sns", "sqs", "sts",
}

// localStackHealthDoc is LocalStack's documented GET /_localstack/health body.
type localStackHealthDoc struct {
	Services map[string]string `json:"services"`
	Edition  string            `json:"edition"`
	Version  string            `json:"version"`
}

func localStackHealth(ctx context.Context, endpoint string) (*localStackHealthDoc, error) {
	var doc localStackHealthDoc
	if err := getJSON(ctx, endpoint+"/_localstack/health", &doc); err != nil {
		return nil, err
	}
	if doc.Services == nil {
		return nil, fmt.Errorf("%s/_localstack/health: no services map", endpoint)
	}
	return &doc, nil
}

// Probe says what answers at endpoint: LocalStack (its /_localstack/health
// document), the embedded engine (HealthPath), a bare kumo (/health), else any
// endpoint that answers STS GetCallerIdentity. Each step is one short request.
func Probe(ctx context.Context, endpoint string) (*Status, error) {
	endpoint = strings.TrimRight(endpoint, "/")
	st := &Status{Endpoint: endpoint}
	step := func() (context.Context, context.CancelFunc) { return context.WithTimeout(ctx, 3*time.Second) }

	c, cancel := step()
	doc, err := localStackHealth(c, endpoint)
	cancel()
	if err == nil {
		st.Kind, st.Version, st.Edition, st.Services = KindLocalStack, doc.Version, doc.Edition, doc.Services
		st.Account = accountOr(ctx, endpoint, DefaultAccount)
		return st, nil
	}
	if isConnRefused(err) {
		// Nothing listens: no point trying the other paths.
		return nil, fmt.Errorf("nothing answers at %s: %w", endpoint, err)
	}
	c, cancel = step()
	info, err := engineInfo(c, endpoint)
	cancel()
	if err == nil {
		st.Kind, st.Version, st.Edition = KindEmbedded, info.EngineVersion, info.Engine
		st.PID, st.Started, st.EvdeployVersion = info.PID, info.Started, info.Version
		st.Functions = info.Functions
		st.Account = accountOr(ctx, endpoint, DefaultAccount)
		return st, nil
	}
	c, cancel = step()
	var kh struct {
		Status string `json:"status"`
	}
	err = getJSON(c, endpoint+"/health", &kh)
	cancel()
	if err == nil && kh.Status == "healthy" {
		st.Kind = KindKumo
		st.Account = accountOr(ctx, endpoint, DefaultAccount)
		return st, nil
	}
	acct, err := callerAccount(ctx, endpoint)
	if err != nil {
		return nil, fmt.Errorf("%s does not answer as an AWS-compatible endpoint: %w", endpoint, err)
	}
	st.Kind, st.Account = KindEndpoint, acct
	return st, nil
}

// MissingServices lists the needed services LocalStack does not report as
// available or running, sorted.
func (s *Status) MissingServices() []string {
	var miss []string
	for _, n := range NeededServices {
		switch s.Services[n] {
		case "available", "running":
		default:
			miss = append(miss, n)
		}
	}
	sort.Strings(miss)
	return miss
}

func isConnRefused(err error) bool {
	return err != nil && strings.Contains(err.Error(), "connection refused")
}

// callerAccount asks the endpoint's STS who the test credentials are.
func callerAccount(ctx context.Context, endpoint string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	cfg := localConfig(endpoint, "us-east-1")
	out, err := sts.NewFromConfig(cfg, func(o *sts.Options) { o.RetryMaxAttempts = 1 }).
		GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return "", err
	}
	return aws.ToString(out.Account), nil
}

// accountOr is the endpoint's account for display (probe, status): def when
// STS does not answer quickly.
func accountOr(ctx context.Context, endpoint, def string) string {
	if a, err := callerAccount(ctx, endpoint); err == nil && a != "" {
		return a
	}
	return def
}

// deployAccount is the account ARNs are derived from when deploying, so a
// wrong one is never guessed: STS is asked with the SDK's retries and a
// generous limit (a loaded emulator — moto loading IAM's managed policies —
// can take seconds to answer). Only an endpoint whose STS answers with an
// API error (it does not implement GetCallerIdentity) gets def; one that
// does not answer at all is an error.
func deployAccount(ctx context.Context, endpoint, def string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cfg := localConfig(endpoint, "us-east-1")
	out, err := sts.NewFromConfig(cfg, func(o *sts.Options) { o.RetryMaxAttempts = 5 }).
		GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	var apiErr smithy.APIError
	switch {
	case err == nil && aws.ToString(out.Account) != "":
		return aws.ToString(out.Account), nil
	case err == nil, errors.As(err, &apiErr):
		return def, nil
	}
	return "", fmt.Errorf("the endpoint %s did not say which account it emulates (STS GetCallerIdentity): %w", endpoint, err)
}

// localConfig is the only way this package builds an aws.Config: static
// test credentials and the endpoint, so nothing falls through to the default
// credential chain or to real AWS endpoints.
func localConfig(endpoint, region string) aws.Config {
	return aws.Config{
		Region:       region,
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String(endpoint),
	}
}

// probeClient is bounded as a backstop: a program that accepts and never answers
// must not hang a command whose caller forgot a deadline.
var probeClient = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}

// getJSON GETs url and decodes a 200 JSON body into v.
func getJSON(ctx context.Context, url string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := probeClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("GET %s: %w", url, err)
	}
	return nil
}
