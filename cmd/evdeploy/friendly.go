package main

import (
	"errors"
	"fmt"
	"net"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"syscall"

	"github.com/aws/aws-sdk-go-v2/credentials/ssocreds"
	"github.com/aws/smithy-go"
)

// Friendly errors: the failures users hit most, said as what happened and
// what to do, instead of the SDK's chain of wrapped causes and retry counts.
// The original error stays reachable (errors.Is/As) for callers and tests.
type friendlyError struct {
	msg   string
	cause error
}

func (e *friendlyError) Error() string { return e.msg }
func (e *friendlyError) Unwrap() error { return e.cause }

func friendly(cause error, format string, args ...any) error {
	return &friendlyError{msg: fmt.Sprintf(format, args...), cause: cause}
}

// awsRegions are the AWS regions (commercial, China, GovCloud) as of late
// 2026. A region outside this list whose endpoint does not resolve is called
// a wrong region; one inside it, a network problem.
var awsRegions = []string{
	"af-south-1", "ap-east-1", "ap-east-2", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
	"ap-south-1", "ap-south-2", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3",
	"ap-southeast-4", "ap-southeast-5", "ap-southeast-6", "ap-southeast-7", "ca-central-1", "ca-west-1",
	"cn-north-1", "cn-northwest-1", "eu-central-1", "eu-central-2", "eu-north-1", "eu-south-1",
	"eu-south-2", "eu-west-1", "eu-west-2", "eu-west-3", "il-central-1", "me-central-1",
	"me-south-1", "mx-central-1", "sa-east-1", "us-east-1", "us-east-2", "us-gov-east-1",
	"us-gov-west-1", "us-west-1", "us-west-2",
}

var regionShape = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-\d+$`)

// credentialHelp is what to do when --target aws has no usable credentials.
func credentialHelp(profile string) string {
	if profile != "" {
		return fmt.Sprintf("check profile %q in ~/.aws/config (aws configure --profile %s, or aws sso login --profile %s)", profile, profile, profile)
	}
	return "configure them: aws configure, or AWS_PROFILE=NAME (aws sso login --profile NAME for SSO), or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY"
}

// explainAWSError turns a failure to reach AWS with --target aws (the STS
// identity call that starts every command) into what happened and what to do:
// an expired SSO session, no credentials, rejected credentials, a region that
// does not exist, or no network.
func explainAWSError(err error, profile, region, endpoint string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	who := "the default profile"
	if profile != "" {
		who = fmt.Sprintf("profile %q", profile)
	}
	var sso *ssocreds.InvalidTokenError
	switch {
	case errors.As(err, &sso) || strings.Contains(msg, "the SSO session has expired") ||
		strings.Contains(msg, "refresh cached SSO token failed") || strings.Contains(msg, "failed to read cached SSO token"):
		login := "aws sso login"
		if profile != "" {
			login += " --profile " + profile
		}
		return friendly(err, "--target aws: the AWS SSO session of %s has expired (or was never started). Sign in again with `%s`, then re-run this command.", who, login)
	case strings.Contains(msg, "get credentials") || strings.Contains(msg, "failed to retrieve credentials") ||
		strings.Contains(msg, "no EC2 IMDS role found") || strings.Contains(msg, "failed to refresh cached credentials"):
		return friendly(err, "--target aws: no AWS credentials found for %s (looked at the environment, ~/.aws/credentials and config, SSO, and container/instance roles). To deploy to AWS, %s. To deploy without an account, use --target local.", who, credentialHelp(profile))
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		switch api.ErrorCode() {
		case "ExpiredToken", "ExpiredTokenException", "RequestExpired":
			return friendly(err, "--target aws: the AWS credentials of %s have expired (%s). Refresh them (aws sso login, or new temporary credentials from your role), then re-run.", who, api.ErrorCode())
		case "InvalidClientTokenId", "SignatureDoesNotMatch", "UnrecognizedClientException", "AccessDenied", "AccessDeniedException":
			return friendly(err, "--target aws: AWS rejected the credentials of %s (%s: %s). Check that the access key is current and belongs to the intended account; %s.", who, api.ErrorCode(), api.ErrorMessage(), credentialHelp(profile))
		}
	}
	var dns *net.DNSError
	if errors.As(err, &dns) && endpoint == "" {
		if !slices.Contains(awsRegions, region) {
			hint := ""
			if !regionShape.MatchString(region) {
				hint = " (regions look like us-east-1 or eu-west-2)"
			}
			return friendly(err, "--target aws: %q is not an AWS region%s: %s does not exist. Set the right one with --region, the spec's app region, AWS_REGION or the profile's region.", region, hint, dns.Name)
		}
		return friendly(err, "--target aws: cannot reach AWS: the name %s does not resolve. Check the network connection, VPN or proxy (HTTPS_PROXY); to work offline, use --target local.", dns.Name)
	}
	var op *net.OpError
	if errors.As(err, &op) {
		where := "AWS"
		if endpoint != "" {
			where = endpoint
		}
		return friendly(err, "--target aws: cannot connect to %s (%v). Check the network connection, VPN or proxy (HTTPS_PROXY), and --endpoint if you set one.", where, op.Err)
	}
	return fmt.Errorf("--target aws: cannot use AWS with %s (sts GetCallerIdentity: %w); %s, or deploy locally with --target local", who, err, credentialHelp(profile))
}

// explainPortTaken says what to do when a local engine's port is taken by
// another program; other errors pass through.
func explainPortTaken(err error, port int) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	if !errors.Is(err, syscall.EADDRINUSE) && !strings.Contains(msg, "address already in use") &&
		!strings.Contains(msg, "port is already allocated") && !strings.Contains(msg, "Only one usage of each socket address") {
		return err
	}
	return friendly(err, "port %d is already taken: another program listens on 127.0.0.1:%d, so the local engine cannot. "+
		"Stop that program (see which one with `lsof -i :%d` or `ss -ltnp 'sport = :%d'`), or use another port: "+
		"evdeploy local up --port %d (or EVDEPLOY_LOCAL_PORT=%d), which --target local then finds.", port, port, port, port, port+1, port+1)
}

// explainInvoke says what to do when an endpoint keeps functions but cannot
// run them (a bare emulator: it answers that the function has no runtime).
func explainInvoke(err error, block, name, endpoint string) error {
	msg := err.Error()
	if !strings.Contains(msg, "has no runtime handler") && !strings.Contains(msg, "no runtime for") &&
		!strings.Contains(msg, "docker") && !strings.Contains(msg, "Docker") {
		return fmt.Errorf("%s: invoke %s: %w", block, name, err)
	}
	where := "the endpoint"
	if endpoint != "" {
		where = endpoint
	}
	return friendly(err, "%s: %s stores the function %s but runs no code, so there is nothing to invoke. "+
		"Run functions locally with the embedded engine: `evdeploy local up`, then apply and invoke with --target local and no --endpoint "+
		"(it runs Go, Python and Node handlers); or invoke the function on AWS with --target aws.", block, where, name)
}

// explainToolchain names the missing toolchain a function's runtime needs.
func explainToolchain(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	if !errors.Is(err, exec.ErrNotFound) && !strings.Contains(msg, "executable file not found") {
		return err
	}
	fn := "a function"
	if m := fnAddr.FindString(msg); m != "" {
		fn = m
	}
	switch {
	case strings.Contains(msg, `"go"`):
		return friendly(err, "%s: runtime go is built with the Go toolchain on this machine, and `go` is not on PATH. Install Go (https://go.dev/dl) or add it to PATH, then re-run.", fn)
	case strings.Contains(msg, "python"):
		return friendly(err, "%s: a Python function needs python3 on PATH (to install its requirements, and to run it locally). Install Python 3 (https://www.python.org/downloads) or add it to PATH, then re-run.", fn)
	case strings.Contains(msg, `"node"`) || strings.Contains(msg, `"npm"`):
		return friendly(err, "%s: a Node function needs Node.js (node and npm) on PATH. Install Node.js (https://nodejs.org) or add it to PATH, then re-run.", fn)
	}
	return err
}

var fnAddr = regexp.MustCompile(`function\.[A-Za-z0-9_-]+`)
