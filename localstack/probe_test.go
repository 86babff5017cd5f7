package localstack

import (
	"context"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/sivchari/kumo"
)

// localStackHealthJSON is LocalStack's documented GET /_localstack/health
// answer (shape as published: services map, edition, version, features).
const localStackHealthJSON = `{
  "services": {
    "acm": "available", "apigateway": "available", "cloudformation": "available",
    "dynamodb": "running", "dynamodbstreams": "available", "events": "available",
    "iam": "available", "kinesis": "available", "lambda": "running", "logs": "available",
    "s3": "running", "sns": "available", "sqs": "running", "sts": "available",
    "ssm": "disabled"
  },
  "edition": "community",
  "version": "4.9.2",
  "features": {"initScripts": "initialized"}
}`

// fakeLocalStack serves the health document (doc "" = the one above) and
// 404 elsewhere.
func fakeLocalStack(t *testing.T, doc string) *httptest.Server {
	t.Helper()
	if doc == "" {
		doc = localStackHealthJSON
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && r.URL.Path == "/_localstack/health" {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(doc))
			return
		}
		http.NotFound(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// kumoWithout proxies to an in-process kumo, hiding the given paths (404):
// kumo without /health is "some AWS-compatible endpoint".
func kumoWithout(t *testing.T, hidden ...string) *httptest.Server {
	t.Helper()
	k := kumo.NewServer()
	t.Cleanup(k.Close)
	u, _ := url.Parse(k.URL)
	proxy := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, h := range hidden {
			if r.URL.Path == h {
				http.NotFound(w, r)
				return
			}
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// serveInProcess runs Serve on a random port for the test's lifetime.
func serveInProcess(t *testing.T) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- Serve(ctx, "127.0.0.1:0", ServeOptions{Version: "v1.2.3", Logger: log.New(io.Discard, "", 0), Ready: func(ep string) { ready <- ep }})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	select {
	case ep := <-ready:
		return ep
	case err := <-done:
		t.Fatalf("Serve: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("Serve did not start")
	}
	return ""
}

func TestProbe(t *testing.T) {
	ls := fakeLocalStack(t, "")
	bare := kumoWithout(t)
	other := kumoWithout(t, "/health")
	embedded := serveInProcess(t)

	tests := []struct {
		name     string
		endpoint string
		want     *Status
	}{
		{"localstack", ls.URL, &Status{
			Kind: KindLocalStack, Endpoint: ls.URL, Version: "4.9.2", Edition: "community",
			Services: map[string]string{
				"acm": "available", "apigateway": "available", "cloudformation": "available",
				"dynamodb": "running", "dynamodbstreams": "available", "events": "available",
				"iam": "available", "kinesis": "available", "lambda": "running", "logs": "available",
				"s3": "running", "sns": "available", "sqs": "running", "sts": "available", "ssm": "disabled",
			},
			// The fake answers no STS: the LocalStack default.
			Account: DefaultAccount,
		}},
		{"embedded", embedded, &Status{
			Kind: KindEmbedded, Endpoint: embedded, Version: kumo.Version, Edition: "kumo",
			Account: DefaultAccount, EvdeployVersion: "v1.2.3",
		}},
		{"bare kumo", bare.URL, &Status{Kind: KindKumo, Endpoint: bare.URL, Account: DefaultAccount}},
		{"other endpoint (STS answers)", other.URL + "/", &Status{Kind: KindEndpoint, Endpoint: other.URL, Account: DefaultAccount}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Probe(t.Context(), tt.endpoint)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tt.want, got, cmpopts.IgnoreFields(Status{}, "PID", "Started")); d != "" {
				t.Errorf("Probe (-want +got):\n%s", d)
			}
		})
	}

	t.Run("nothing listening", func(t *testing.T) {
		ep := "http://127.0.0.1:" + strconv.Itoa(freePort(t))
		_, err := Probe(t.Context(), ep)
		if err == nil || !strings.Contains(err.Error(), "nothing answers at "+ep) {
			t.Errorf("Probe(%s) error = %v", ep, err)
		}
	})
	t.Run("not AWS", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		defer srv.Close()
		_, err := Probe(t.Context(), srv.URL)
		if err == nil || !strings.Contains(err.Error(), "does not answer as an AWS-compatible endpoint") {
			t.Errorf("Probe error = %v", err)
		}
	})
}

func TestMissingServices(t *testing.T) {
	st := &Status{Services: map[string]string{
		"apigateway": "available", "dynamodb": "running", "dynamodbstreams": "available", "events": "available",
		"iam": "available", "kinesis": "error", "lambda": "running", "logs": "available",
		"s3": "running", "sns": "disabled", "sqs": "running",
	}}
	if d := cmp.Diff([]string{"kinesis", "sns", "sts"}, st.MissingServices()); d != "" {
		t.Errorf("MissingServices (-want +got):\n%s", d)
	}
}

// The embedded engine forwards everything but its own health path to kumo,
// keeping the Host header (API Gateway routes by it).
func TestServeProxiesToKumo(t *testing.T) {
	ep := serveInProcess(t)
	resp, err := http.Get(ep + "/health")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /health through the engine: %s", resp.Status)
	}
	acct, err := callerAccount(t.Context(), ep)
	if err != nil || acct != DefaultAccount {
		t.Errorf("STS through the engine = %q, %v", acct, err)
	}
}
