package planner

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestTargetBlocks(t *testing.T) {
	ch := func(block, typ string, action Action, deps ...string) *Change {
		return &Change{Addr: ResourceAddr{Block: block, Type: typ, Name: "main"}, Block: block, Action: action, Deps: deps}
	}
	role := "function.api/aws_iam_role.main"
	queue := "queue.orders/aws_sqs_queue.main"
	plan := &Plan{Changes: []*Change{
		ch("function.api", "aws_iam_role", Create),
		ch("queue.orders", "aws_sqs_queue", Update),
		ch("function.api", "aws_lambda_function", Create, role, queue),
		ch("function.other", "aws_lambda_function", Update),
		ch("trigger.http", "aws_lambda_permission", Create, "function.api/aws_lambda_function.main"),
		ch("topic.old", "aws_sns_topic", Delete),
	}, ForgetIntents: []string{"x"}}

	tests := []struct {
		name    string
		blocks  []string
		want    []string
		wantErr string
	}{
		{"none: the whole plan", nil, []string{role, queue, "function.api/aws_lambda_function.main", "function.other/aws_lambda_function.main", "trigger.http/aws_lambda_permission.main", "topic.old/aws_sns_topic.main"}, ""},
		{"a function and what it reads", []string{"function.api"}, []string{role, queue, "function.api/aws_lambda_function.main"}, ""},
		{"a trigger pulls in its function's chain", []string{"trigger.http"}, []string{role, queue, "function.api/aws_lambda_function.main", "trigger.http/aws_lambda_permission.main"}, ""},
		{"a deletion alone", []string{"topic.old"}, []string{"topic.old/aws_sns_topic.main"}, ""},
		{"unknown block", []string{"function.nope"}, nil, "--target-block function.nope: no such block"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := TargetBlocks(plan, tt.blocks)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var addrs []string
			for _, c := range got.Changes {
				addrs = append(addrs, c.Addr.String())
			}
			if diff := cmp.Diff(tt.want, addrs); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
			if len(tt.blocks) > 0 && len(got.ForgetIntents) != 0 {
				t.Error("a targeted plan clears journal entries it was not asked about")
			}
		})
	}
}
