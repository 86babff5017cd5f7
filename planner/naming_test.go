package planner

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestPhysicalNames(t *testing.T) {
	long := strings.Repeat("very-long-name-", 10)
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"lambda short", physicalName(ruleLambda, "shop", "dev", "api", ""), "shop-dev-api"},
		{"sqs fifo keeps suffix", physicalName(ruleSQS, "shop", "dev", "orders", ".fifo"), "shop-dev-orders.fifo"},
		{"invalid characters replaced", physicalName(ruleLambda, "shop", "dev", "a.b c", ""), "shop-dev-a-b-c"},
		{"lambda truncated with stable hash", physicalName(ruleLambda, "shop", "dev", long, ""),
			("shop-dev-" + long)[:55] + "-" + nameHash("shop-dev-"+long)},
		{"bucket lowercased and suffixed", bucketName("Shop", "dev", "Up_Loads", "000000000000", "us-east-1"),
			"shop-dev-up-loads-" + nameHash("000000000000/us-east-1")},
		{"sqs truncation keeps .fifo", physicalName(ruleSQS, "shop", "dev", long, ".fifo"),
			strings.TrimRight(("shop-dev-" + long)[:66], "-") + "-" + nameHash("shop-dev-"+long) + ".fifo"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, tt.got); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
		})
	}
}

// Every derived name fits its service's limit, whatever the input.
func TestPhysicalNamesFitLimits(t *testing.T) {
	rules := map[string]nameRule{"lambda": ruleLambda, "role": ruleRole, "sqs": ruleSQS, "rule": ruleRule, "bucket": ruleBucket, "stmt": ruleStmt}
	for _, n := range []int{1, 40, 63, 64, 65, 200} {
		name := strings.Repeat("x", n)
		for k, r := range rules {
			got := physicalName(r, "app", "stage", name, "")
			if len(got) > r.max {
				t.Errorf("%s: %q is %d long, max %d", k, got, len(got), r.max)
			}
			if again := physicalName(r, "app", "stage", name, ""); again != got {
				t.Errorf("%s: not deterministic: %q then %q", k, got, again)
			}
		}
	}
}

func TestRouteArnSuffix(t *testing.T) {
	tests := map[string]string{
		"POST /orders":         "/*/POST/orders",
		"GET /orders/{id}":     "/*/GET/orders/*",
		"ANY /{proxy+}":        "/*/*/*",
		"$default":             "/*/$default",
		"DELETE /a/{b}/c/{d+}": "/*/DELETE/a/*/c/*",
	}
	for route, want := range tests {
		if got := routeArnSuffix(route); got != want {
			t.Errorf("routeArnSuffix(%q) = %q, want %q", route, got, want)
		}
	}
}

func TestPolicyKnownAndDeferred(t *testing.T) {
	known, err := iamPolicyValue([]iamStatement{{Sid: "Logs", Effect: "Allow", Actions: []string{"logs:PutLogEvents", "logs:CreateLogStream"}, Resources: []any{"arn:aws:logs:us-east-1:1:log-group:/aws/lambda/f:*"}}})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"Statement":[{"Action":["logs:CreateLogStream","logs:PutLogEvents"],"Effect":"Allow","Resource":["arn:aws:logs:us-east-1:1:log-group:/aws/lambda/f:*"],"Sid":"Logs"}],"Version":"2012-10-17"}`
	if diff := cmp.Diff(want, known); diff != "" {
		t.Errorf("known policy (-want +got)\n%s", diff)
	}

	q := Ref{Resource: ResourceAddr{Block: "queue.orders", Type: TypeQueue, Name: "main"}, Attr: "arn"}
	deferred, err := iamPolicyValue([]iamStatement{{Sid: "Poll", Effect: "Allow", Actions: sqsPollActions, Resources: []any{q, lowerSuffixed(q, "/x")}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := iamPolicyValue([]iamStatement{{Sid: "Bad", Effect: "Allow", Actions: []string{"s3:GetObject"}, Resources: []any{nil}}}); err == nil {
		t.Error("a resource that is not a string gave no error")
	}
	x, ok := deferred.(*Expr)
	if !ok {
		t.Fatalf("policy with an unknown ARN is %T, want *Expr", deferred)
	}
	if diff := cmp.Diff([]Ref{q}, x.Refs); diff != "" {
		t.Errorf("refs (-want +got)\n%s", diff)
	}
	got, err := x.Eval(map[Ref]any{q: "arn:aws:sqs:us-east-1:1:o"})
	if err != nil {
		t.Fatal(err)
	}
	want = `{"Statement":[{"Action":["sqs:ChangeMessageVisibility","sqs:DeleteMessage","sqs:GetQueueAttributes","sqs:ReceiveMessage"],"Effect":"Allow","Resource":["arn:aws:sqs:us-east-1:1:o","arn:aws:sqs:us-east-1:1:o/x"],"Sid":"Poll"}],"Version":"2012-10-17"}`
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("resolved policy (-want +got)\n%s", diff)
	}
	if _, err := x.Eval(map[Ref]any{}); err == nil {
		t.Error("Eval with the ARN unknown succeeded")
	}
}
