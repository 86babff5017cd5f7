package spec

import (
	"strings"
	"testing"
	"time"
)

func TestCheckScheduleExpression(t *testing.T) {
	valid := []string{
		"rate(1 minute)", "rate(5 minutes)", "rate(1 hour)", "rate(12 hours)", "rate(1 day)", "rate(7 days)",
		"cron(0 2 * * ? *)", "cron(0/15 * ? * MON-FRI *)", "cron(0 12 L * ? 2030)", "cron(0 8 15W * ? *)",
		"cron(0 8 LW * ? *)", "cron(5,35 14 ? * 6L *)", "cron(0 10 ? * 2#3 *)", "cron(0 0 1 JAN,JUL ? *)",
		"cron(* * ? * * *)", "cron(0 22 ? * FRI-MON *)",
	}
	for _, e := range valid {
		if err := CheckScheduleExpression(e); err != nil {
			t.Errorf("%s: %v", e, err)
		}
	}
	invalid := []string{
		"", "rate(0 minutes)", "rate(1 minutes)", "rate(2 minute)", "rate(5 weeks)", "rate(-1 days)", "rate(5minutes)",
		"cron(0 2 * * *)", "cron(0 2 * * ? * *)", "cron(0 2 * * * *)", "cron(0 2 ? * ? *)", "cron(60 2 ? * MON *)",
		"cron(0 24 ? * MON *)", "cron(0 2 32 * ? *)", "cron(0 2 ? 13 MON *)", "cron(0 2 ? * 8 *)", "cron(0 2 ? * MON 1969)",
		"cron(0 2 ? * MON#6 *)", "cron(0 2 ? * FUN *)", "cron(0 2 1-L * ? *)", "cron(0 2 ? * MON 2200)",
		"cron(10-5 2 ? * MON *)", "cron(0/0 2 ? * MON *)", "cron(0 ? ? * MON *)", "cron(0,,1 2 ? * MON *)",
		"every day",
	}
	for _, e := range invalid {
		if err := CheckScheduleExpression(e); err == nil {
			t.Errorf("%q accepted", e)
		}
	}
}

func TestParseDuration(t *testing.T) {
	tests := map[string]time.Duration{
		"60s": time.Minute, "15m": 15 * time.Minute, "1h": time.Hour, "2d": 48 * time.Hour,
		"1h30m": 90 * time.Minute, "1d12h": 36 * time.Hour, "0s": 0,
	}
	for in, want := range tests {
		got, err := ParseDuration(in)
		if err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
		if back, _ := ParseDuration(FormatDuration(got)); back != got {
			t.Errorf("FormatDuration(%v) = %q does not round-trip", got, FormatDuration(got))
		}
	}
	for _, in := range []string{"", "10", "10 s", "1.5h", "1m1h", "10ms", "-1s", "1w", "99999999999d", "100001d", "1000000d"} {
		if d, err := ParseDuration(in); err == nil {
			t.Errorf("ParseDuration(%q) = %v, want an error", in, d)
		}
	}
}

func TestRouteProblem(t *testing.T) {
	for _, r := range []string{"$default", "GET /", "POST /orders", "ANY /{proxy+}", "DELETE /orders/{id}",
		"GET /v1/{tenant}/items/{item_id}", "OPTIONS /a.b/c~d", "HEAD /files/{path+}"} {
		if msg := routeProblem(r); msg != "" {
			t.Errorf("%q: %s", r, msg)
		}
	}
	for _, r := range []string{"", "GET", "get /x", "FETCH /x", "GET x", "GET /x/", "GET //x", "GET /{id", "GET /{proxy+}/x",
		"GET /{a}/{a}", "GET  /x", "GET /x y", "$DEFAULT", "GET /{}"} {
		if msg := routeProblem(r); msg == "" {
			t.Errorf("%q accepted", r)
		}
	}
}

func TestNameProblem(t *testing.T) {
	tests := []struct {
		kind, name string
		fifo, ok   bool
	}{
		{KindBucket, "abc", false, true},
		{KindBucket, "my.bucket-1", false, true},
		{KindBucket, "ab", false, false},
		{KindBucket, "bucket..x", false, false},
		{KindBucket, "Bucket", false, false},
		{KindBucket, "-bucket", false, false},
		{KindBucket, "10.0.0.1", false, false},
		{KindBucket, "xn--bucket", false, false},
		{KindBucket, "bucket-s3alias", false, false},
		{KindQueue, "orders", false, true},
		{KindQueue, "orders.fifo", true, true},
		{KindQueue, "orders.fifo", false, false},
		{KindQueue, "orders", true, false},
		{KindQueue, "my.queue", false, false},
		{KindQueue, strings.Repeat("q", 81), false, false},
		{KindTopic, "alerts", false, true},
		{KindTopic, "alerts.fifo", true, true},
		{KindTable, "abc", false, true},
		{KindTable, "a.b_c-d", false, true},
		{KindTable, "ab", false, false},
		{KindStream, "s", false, true},
		{KindStream, "s/x", false, false},
		{KindFunction, "f_1-x", false, true},
		{KindFunction, "f.x", false, false},
		{KindBus, "default", false, false},
		{KindBus, "a/b.c", false, true},
		{KindAPI, "My API", false, true},
	}
	for _, tt := range tests {
		msg := nameProblem(tt.kind, tt.name, tt.fifo)
		if (msg == "") != tt.ok {
			t.Errorf("%s name %q (fifo %v): problem %q, want ok=%v", tt.kind, tt.name, tt.fifo, msg, tt.ok)
		}
	}
}

func TestS3EventOverlap(t *testing.T) {
	tests := []struct {
		a, b []string
		want string
	}{
		{[]string{"s3:ObjectCreated:*"}, []string{"s3:ObjectCreated:Put"}, "s3:ObjectCreated:Put"},
		{[]string{"s3:ObjectCreated:Copy"}, []string{"s3:ObjectCreated:*"}, "s3:ObjectCreated:Copy"},
		{[]string{"s3:ObjectCreated:Put"}, []string{"s3:ObjectCreated:Post"}, ""},
		{[]string{"s3:ObjectRemoved:*"}, []string{"s3:ObjectCreated:*"}, ""},
	}
	for _, tt := range tests {
		if got := sharedEvent(tt.a, tt.b); got != tt.want {
			t.Errorf("sharedEvent(%q, %q) = %q, want %q", tt.a, tt.b, got, tt.want)
		}
	}
}
