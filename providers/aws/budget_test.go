package aws

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/google/go-cmp/cmp"
)

// fakeClock moves only when slept on, so the budgets' arithmetic is exact.
type fakeClock struct {
	now   time.Time
	slept time.Duration
}

func (c *fakeClock) Now() time.Time { return c.now }
func (c *fakeClock) Sleep(_ context.Context, d time.Duration) error {
	c.now = c.now.Add(d)
	c.slept += d
	return nil
}

func newFakeBudgets(total int) (*Budgets, *fakeClock) {
	c := &fakeClock{now: time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)}
	return newBudgets(c, total), c
}

func TestBudgetPacesAtTheTableRate(t *testing.T) {
	b, c := newFakeBudgets(0)
	// A full bucket (one second's worth: 15) goes at once, then one call
	// every 1/15 s: 45 calls take 2 s.
	for range 45 {
		if _, err := b.acquire(context.Background(), "lambda"); err != nil {
			t.Fatal(err)
		}
		b.release("lambda", false)
	}
	if got := c.slept; got < 2*time.Second-time.Millisecond || got > 2*time.Second+5*time.Millisecond {
		t.Errorf("45 calls at 15/s with a burst of 15 waited %v, want 2s", got)
	}
}

func TestBudgetShrinksOnThrottleAndGrowsBack(t *testing.T) {
	b, c := newFakeBudgets(0)
	take := func() {
		t.Helper()
		if _, err := b.acquire(context.Background(), "iam:write"); err != nil {
			t.Fatal(err)
		}
	}
	take()
	take()
	b.release("iam:write", true)
	if got := b.Rate("iam:write"); got != 5 {
		t.Fatalf("after a throttle: rate %v, want 5 (half of 10)", got)
	}
	// A second throttled call of the same burst does not halve again.
	b.release("iam:write", true)
	if got := b.Rate("iam:write"); got != 5 {
		t.Errorf("a second throttle within a second: rate %v, want 5", got)
	}
	// The throttled call waits for its turn at the reduced rate: the bucket
	// was emptied, so the next token comes after 1/5 s.
	before := c.slept
	take()
	if got := c.slept - before; (got - 200*time.Millisecond).Abs() > time.Millisecond {
		t.Errorf("after the throttle the next call waited %v, want 200ms", got)
	}
	c.now = c.now.Add(2 * time.Second)
	b.release("iam:write", true) // a new congestion event: halve again
	if got := b.Rate("iam:write"); got != 2.5 {
		t.Errorf("a throttle 2 s later: rate %v, want 2.5", got)
	}
	// Calls that are not throttled grow the rate back to the table's and
	// never past it.
	n := 0
	for b.Rate("iam:write") < 10 && n < 1000 {
		take()
		b.release("iam:write", false)
		n++
	}
	if got := b.Rate("iam:write"); got != 10 {
		t.Errorf("rate %v after %d good calls, want back at 10", got, n)
	}
	if n < 20 || n > 60 {
		t.Errorf("grew back in %d calls; AIMD adds a tenth of the rate per rate's worth of calls (≈ 38)", n)
	}
	take()
	b.release("iam:write", false)
	if got := b.Rate("iam:write"); got != 10 {
		t.Errorf("rate %v past the table's 10", got)
	}
	if b.Throttled() != 3 {
		t.Errorf("counted %d throttles, want 3", b.Throttled())
	}
}

func TestBudgetFloor(t *testing.T) {
	b, c := newFakeBudgets(0)
	for range 20 {
		if _, err := b.acquire(context.Background(), "logs:CreateLogGroup"); err != nil {
			t.Fatal(err)
		}
		c.now = c.now.Add(2 * time.Second)
		b.release("logs:CreateLogGroup", true)
	}
	if got := b.Rate("logs:CreateLogGroup"); math.Abs(got-0.25) > 1e-9 {
		t.Errorf("rate %v after 20 throttles, want the floor 0.25 (5/20)", got)
	}
}

func TestBudgetReadsAndWritesShareAQuota(t *testing.T) {
	tests := []struct{ service, op, want string }{
		{"Lambda", "CreateFunction", "lambda"},
		{"Lambda", "ListFunctions", "lambda"},
		{"Lambda", "GetFunctionConfiguration", "lambda"},
		{"Lambda", "CreateEventSourceMapping", "lambda"},
		{"Lambda", "GetFunction", "lambda:GetFunction"},
		{"Lambda", "GetPolicy", "lambda:GetPolicy"},
		{"Lambda", "Invoke", ""},
		{"IAM", "CreateRole", "iam:write"},
		{"IAM", "PutRolePolicy", "iam:write"},
		{"IAM", "GetRole", "iam:read"},
		{"CloudWatch Logs", "CreateLogGroup", "logs:CreateLogGroup"},
		{"CloudWatch Logs", "TagResource", "logs"},
		{"SQS", "CreateQueue", "sqs"},
		{"SQS", "GetQueueAttributes", "sqs"},
		{"SQS", "SendMessage", ""},
		{"S3", "PutObject", "s3:write"},
		{"S3", "GetObject", "s3:read"},
		{"Kinesis", "CreateStream", "kinesis"},
		{"Kinesis", "DescribeStreamSummary", "kinesis:DescribeStreamSummary"},
		{"DynamoDB", "DescribeTable", "dynamodb"},
		{"DynamoDB", "PutItem", ""},
	}
	for _, tt := range tests {
		if got := BudgetFor(tt.service, tt.op); got != tt.want {
			t.Errorf("BudgetFor(%q, %q) = %q, want %q", tt.service, tt.op, got, tt.want)
		}
		if _, ok := QuotaFor(tt.want); tt.want != "" && !ok {
			t.Errorf("budget %q has no row in QuotaTable", tt.want)
		}
	}
	// One bucket: a read takes the token a write would have had.
	b, c := newFakeBudgets(0)
	for range 15 {
		b.acquire(context.Background(), BudgetFor("Lambda", "ListFunctions"))
		b.release("lambda", false)
	}
	if _, err := b.acquire(context.Background(), BudgetFor("Lambda", "CreateFunction")); err != nil {
		t.Fatal(err)
	}
	if c.slept == 0 {
		t.Error("a write after 15 reads went at once: reads and writes do not share Lambda's bucket")
	}
}

func TestBudgetInFlightCaps(t *testing.T) {
	b, _ := newFakeBudgets(3)
	// The total (3) caps the calls in flight across budgets.
	var got []bool
	for _, name := range []string{"sqs", "iam:write", "lambda", "sns"} {
		ok, _, _ := b.try(name)
		got = append(got, ok)
	}
	if diff := cmp.Diff([]bool{true, true, true, false}, got); diff != "" {
		t.Errorf("total of 3 (-want +got)\n%s", diff)
	}
	_, _, full := b.try("sns")
	b.release("sqs", false)
	select {
	case <-full:
	default:
		t.Error("a release did not wake the waiters")
	}
	if ok, _, _ := b.try("sns"); !ok {
		t.Error("a freed slot was not given to the next call")
	}
	// A budget's own width: logs:CreateLogGroup (5/s) has 5 calls in flight.
	b, _ = newFakeBudgets(0)
	n := 0
	for {
		ok, _, full := b.try("logs:CreateLogGroup")
		if !ok {
			if full == nil {
				t.Fatalf("after %d calls: waiting for a token, not a slot", n)
			}
			break
		}
		n++
	}
	if n != 5 || b.Width("logs:CreateLogGroup") != 5 {
		t.Errorf("%d calls in flight (width %d), want 5", n, b.Width("logs:CreateLogGroup"))
	}
	if name, w := b.Lane("aws_iam_role", "create"); name != "iam:write" || w != 10 {
		t.Errorf("Lane(aws_iam_role) = %q, %d", name, w)
	}
}

func TestQuotaTableRows(t *testing.T) {
	seen := map[string]bool{}
	for _, q := range QuotaTable {
		if q.Rate <= 0 || q.Source == "" || seen[q.Budget] {
			t.Errorf("row %+v: needs a rate, a source and a unique budget", q)
		}
		seen[q.Budget] = true
	}
	for _, q := range []string{"lambda", "lambda:GetFunction", "lambda:GetPolicy", "iam:write"} {
		if _, ok := QuotaFor(q); !ok {
			t.Errorf("no row for %s", q)
		}
	}
	if q, _ := QuotaFor("lambda"); q.Rate != 15 || !q.Published {
		t.Errorf("lambda: %+v", q)
	}
}

// TestBudgetMiddlewareRetriesThrottlesItself: a Lambda client with the SDK's
// retries off still gets through two throttling answers, because the budget
// middleware resends throttled calls itself (the SDK's retry quota is not
// touched), and the budget shrinks.
func TestBudgetMiddlewareRetriesThrottlesItself(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) <= 2 {
			w.Header().Set("X-Amzn-Errortype", "TooManyRequestsException")
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusTooManyRequests)
			fmt.Fprint(w, `{"Reason":"CallerRateLimitExceeded","Type":"User","message":"Rate exceeded"}`)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"AccountLimit":{},"AccountUsage":{}}`)
	}))
	defer srv.Close()
	b := NewBudgets(10)
	cfg := aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL),
		Credentials: aws.AnonymousCredentials{}, RetryMaxAttempts: 1}
	c := newClients(cfg)
	c.paced(b)
	if _, err := c.lambda.GetAccountSettings(context.Background(), &lambda.GetAccountSettingsInput{}); err != nil {
		t.Fatalf("with the SDK's retries off: %v", err)
	}
	if calls.Load() != 3 || b.Throttled() != 2 {
		t.Errorf("%d sends, %d throttles counted; want 3 and 2", calls.Load(), b.Throttled())
	}
	if r := b.Rate("lambda"); r >= 15 {
		t.Errorf("rate %v after throttling, want below 15", r)
	}
}
