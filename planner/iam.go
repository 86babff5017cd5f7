package planner

import (
	"encoding/json"
	"fmt"
	"sort"
)

// Least-privilege IAM: every function gets its own role; its inline policy is
// built from three sources, each scoped to named ARNs:
//   - its own log group (what AWSLambdaBasicExecutionRole grants, minus "*"),
//   - each trigger's read permissions on that trigger's source,
//   - each `uses` capability.

// iamStatement is one IAM policy statement whose resources may be unknown until
// their producers exist.
type iamStatement struct {
	Sid       string
	Effect    string
	Actions   []string
	Resources []any // string, Ref or *Expr
	// Condition is the statement's IAM condition block; nil for none.
	Condition map[string]any
}

// Capability action sets: `uses = [queue.orders.send]` grants exactly these on
// the named resource (docs/spec.md lists them for users).
var capabilityActions = map[string]map[string][]string{
	"queue": {
		"send":    {"sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"},
		"consume": {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"},
	},
	"topic": {
		"publish": {"sns:Publish"},
	},
	"bus": {
		"put": {"events:PutEvents"},
	},
	"bucket": {
		// Object actions apply to <arn>/*, ListBucket to the bucket itself.
		"read":  {"s3:GetObject", "s3:ListBucket"},
		"write": {"s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"},
	},
	"table": {
		"read":  {"dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:Scan", "dynamodb:DescribeTable", "dynamodb:ConditionCheckItem"},
		"write": {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem", "dynamodb:DescribeTable", "dynamodb:ConditionCheckItem"},
	},
	"stream": {
		"put":  {"kinesis:PutRecord", "kinesis:PutRecords", "kinesis:DescribeStreamSummary", "kinesis:ListShards"},
		"read": {"kinesis:GetRecords", "kinesis:GetShardIterator", "kinesis:DescribeStream", "kinesis:DescribeStreamSummary", "kinesis:ListShards"},
	},
	"function": {
		"invoke": {"lambda:InvokeFunction"},
	},
}

// Source read permissions an event source mapping needs, per trigger source.
var (
	sqsPollActions     = []string{"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"}
	kinesisPollActions = []string{"kinesis:GetRecords", "kinesis:GetShardIterator", "kinesis:DescribeStream", "kinesis:DescribeStreamSummary", "kinesis:ListShards", "kinesis:SubscribeToShard"}
	ddbStreamActions   = []string{"dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:DescribeStream", "dynamodb:ListStreams"}
	logActions         = []string{"logs:CreateLogStream", "logs:PutLogEvents"}
)

// lambdaTrustPolicy lets Lambda assume a function's role.
const lambdaTrustPolicy = `{"Statement":[{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"}}],"Version":"2012-10-17"}`

// iamPolicyValue returns the policy document for statements: a known JSON string
// when every resource is known, else an Expr that renders it once they are. A
// known resource that is not a string (a policy block's expression gone wrong)
// is an error.
func iamPolicyValue(stmts []iamStatement) (any, error) {
	var refs []Ref
	for _, s := range stmts {
		for _, r := range s.Resources {
			refs = append(refs, RefsIn(r)...)
		}
	}
	build := func(resolve func(any) (any, error)) (any, error) {
		doc := map[string]any{"Version": "2012-10-17"}
		var out []any
		for _, s := range stmts {
			var res []string
			for _, r := range s.Resources {
				v, err := resolve(r)
				if err != nil {
					return nil, err
				}
				// A policy block's resources expression yields a list.
				vals, isList := v.([]any)
				if !isList {
					vals = []any{v}
				}
				for _, e := range vals {
					str, ok := e.(string)
					if !ok {
						return nil, fmt.Errorf("policy resource %v is not a string", e)
					}
					res = append(res, str)
				}
			}
			st := map[string]any{
				"Sid":      s.Sid,
				"Effect":   s.Effect,
				"Action":   iamSortedUnique(s.Actions),
				"Resource": iamSortedUnique(res),
			}
			if s.Condition != nil {
				st["Condition"] = s.Condition
			}
			out = append(out, st)
		}
		doc["Statement"] = out
		b, err := json.Marshal(doc) // map keys are sorted: canonical
		return string(b), err
	}
	if len(refs) == 0 {
		return build(func(v any) (any, error) { return v, nil })
	}
	return &Expr{
		Refs: lowerDedupRefs(refs),
		Text: "IAM policy document",
		Eval: func(resolved map[Ref]any) (any, error) {
			return build(func(v any) (any, error) { return lowerResolve(v, resolved) })
		},
	}, nil
}

// lowerResolve replaces Refs and Exprs inside v with their resolved values.
func lowerResolve(v any, resolved map[Ref]any) (any, error) {
	return resolveWith(v, resolved, func(x *Expr) (any, error) { return x.Eval(resolved) })
}

// resolveWith replaces the Refs inside v (a Ref, an Expr, or lists and maps
// of them) with their resolved values, and each Expr with what expr makes of
// it: lowerings call Eval as it is, the plan and release key evaluate and
// normalise through evalExpr.
func resolveWith(v any, resolved map[Ref]any, expr func(*Expr) (any, error)) (any, error) {
	switch x := v.(type) {
	case Ref:
		val, ok := resolved[x]
		if !ok {
			return nil, fmt.Errorf("%s.%s is not known yet", x.Resource, x.Attr)
		}
		return val, nil
	case *Expr:
		return expr(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			r, err := resolveWith(e, resolved, expr)
			if err != nil {
				return nil, err
			}
			out[i] = r
		}
		return out, nil
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			r, err := resolveWith(e, resolved, expr)
			if err != nil {
				return nil, err
			}
			out[k] = r
		}
		return out, nil
	}
	return v, nil
}

func lowerDedupRefs(refs []Ref) []Ref {
	seen := map[Ref]bool{}
	var out []Ref
	for _, r := range refs {
		if !seen[r] {
			seen[r] = true
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Resource.String() != b.Resource.String() {
			return a.Resource.String() < b.Resource.String()
		}
		return a.Attr < b.Attr
	})
	return out
}

func iamSortedUnique(in []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}

// lowerSuffixed is resource + a literal suffix ("<table arn>/stream/*"), known or
// deferred.
func lowerSuffixed(v any, suffix string) any {
	switch x := v.(type) {
	case string:
		return x + suffix
	case Ref:
		return &Expr{
			Refs: []Ref{x},
			Text: x.Resource.String() + "." + x.Attr + suffix,
			Eval: func(resolved map[Ref]any) (any, error) {
				val, err := lowerResolve(x, resolved)
				if err != nil {
					return nil, err
				}
				s, _ := val.(string)
				return s + suffix, nil
			},
		}
	case *Expr:
		return &Expr{
			Refs: x.Refs,
			Text: x.Text + suffix,
			Eval: func(resolved map[Ref]any) (any, error) {
				val, err := x.Eval(resolved)
				if err != nil {
					return nil, err
				}
				s, _ := val.(string)
				return s + suffix, nil
			},
		}
	}
	panic(fmt.Sprintf("lowerSuffixed: unsupported %T", v))
}
