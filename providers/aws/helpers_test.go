package aws

import (
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"

	"github.com/google/go-cmp/cmp"

	"github.com/evdeploy/evdeploy/planner"
)

func TestTagDiff(t *testing.T) {
	tests := []struct {
		name          string
		prior, wanted map[string]string
		set           map[string]string
		remove        []string
	}{
		{"same", map[string]string{"a": "1"}, map[string]string{"a": "1"}, map[string]string{}, nil},
		{"changed, added, removed", map[string]string{"a": "1", "b": "2", "c": "3"}, map[string]string{"a": "9", "d": "4"},
			map[string]string{"a": "9", "d": "4"}, []string{"b", "c"}},
		{"from none", nil, map[string]string{"a": "1"}, map[string]string{"a": "1"}, nil},
	}
	for _, tt := range tests {
		set, remove := tagDiff(tt.prior, tt.wanted)
		if d := cmp.Diff(tt.set, set); d != "" {
			t.Errorf("%s: set (-want +got):\n%s", tt.name, d)
		}
		if d := cmp.Diff(tt.remove, remove); d != "" {
			t.Errorf("%s: remove (-want +got):\n%s", tt.name, d)
		}
	}
}

// With the SDK's default retries, a throttled call is retried and succeeds:
// the handler sees no error at all.
func TestThrottlingRetriedBySDK(t *testing.T) {
	ctx := testContext(t)
	p := newFaultProxy(t)
	cfg := p.config(t)
	cfg.RetryMaxAttempts = 0
	// The standard retryer (3 attempts) with a short backoff to keep the test fast.
	cfg.Retryer = func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) { o.Backoff = retry.NewExponentialJitterBackoff(20 * time.Millisecond) })
	}
	h := newSQSQueue(newClients(cfg))
	p.throttleNext("CreateQueue", 2)
	id, _, err := h.Create(ctx, planner.Attrs{"name": uniqueName("q")})
	if err != nil {
		t.Fatalf("Create after two throttled attempts: %v", err)
	}
	t.Cleanup(func() { h.Delete(ctx, id, nil) })
	n := 0
	for _, op := range p.calls() {
		if op == "CreateQueue" {
			n++
		}
	}
	if n != 3 {
		t.Errorf("CreateQueue reached the proxy %d times, want 3 (two throttled, one retried)", n)
	}
	// Once the SDK gives up, the handler classifies the error as throttling.
	p.throttleNext("CreateQueue", 3)
	if _, _, err := h.Create(ctx, planner.Attrs{"name": uniqueName("q")}); !errors.Is(err, planner.ErrThrottled) {
		t.Errorf("Create after the SDK gave up = %v, want ErrThrottled", err)
	}
}
