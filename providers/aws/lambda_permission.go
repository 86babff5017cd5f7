package aws

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/evdeploy/evdeploy/planner"
)

// lambdaPermissionAPI is the part of the Lambda API the permission handler uses.
type lambdaPermissionAPI interface {
	AddPermission(context.Context, *lambda.AddPermissionInput, ...func(*lambda.Options)) (*lambda.AddPermissionOutput, error)
	GetPolicy(context.Context, *lambda.GetPolicyInput, ...func(*lambda.Options)) (*lambda.GetPolicyOutput, error)
	RemovePermission(context.Context, *lambda.RemovePermissionInput, ...func(*lambda.Options)) (*lambda.RemovePermissionOutput, error)
}

// lambdaPermission manages aws_lambda_permission, one statement of a
// function's resource policy; its physical id is "<function>/<statement id>".
type lambdaPermission struct {
	api lambdaPermissionAPI

	// policies holds function policies read once for the function's Read
	// and its permissions' Reads (shared with the function handler).
	policies *readShare
}

func newLambdaPermission(c *clients) *lambdaPermission {
	return &lambdaPermission{api: c.lambda, policies: &c.functionPolicies}
}

func (*lambdaPermission) Schema() planner.Schema {
	return planner.Schema{
		Type:     "aws_lambda_permission",
		ForceNew: []string{"function_name", "statement_id", "action", "principal", "source_arn", "source_account", "function_url_auth_type", "invoked_via_function_url"},
	}
}

func splitPermissionID(id string) (function, sid string, err error) {
	function, sid, ok := strings.Cut(id, "/")
	if !ok || function == "" || sid == "" {
		return "", "", fmt.Errorf("invalid permission id %q: want <function name>/<statement id>", id)
	}
	return function, sid, nil
}

// policyStatement is one statement of a function's resource policy as
// GetPolicy reports it.
type policyStatement struct {
	Sid       string
	Action    any
	Principal any
	Condition map[string]map[string]any
}

type policyDocument struct {
	Statement json.RawMessage
}

// statements decodes a policy's Statement, which IAM grammar allows to be a
// single object as well as a list.
func (d policyDocument) statements() ([]policyStatement, error) {
	var list []policyStatement
	if err := json.Unmarshal(d.Statement, &list); err == nil {
		return list, nil
	}
	var one policyStatement
	if err := json.Unmarshal(d.Statement, &one); err != nil {
		return nil, err
	}
	return []policyStatement{one}, nil
}

// principalAttr turns a statement's principal back into AddPermission's
// form: a service name, an account id ("arn:aws:iam::<id>:root" in the
// policy), or "*".
func principalAttr(p any) string {
	switch x := p.(type) {
	case string:
		return x
	case map[string]any:
		if s, ok := x["Service"].(string); ok {
			return s
		}
		if s, ok := x["AWS"].(string); ok {
			if parts := strings.Split(s, ":"); len(parts) == 6 && parts[2] == "iam" && parts[5] == "root" {
				return parts[4]
			}
			return s
		}
	}
	return fmt.Sprint(p)
}

// conditionValue finds a condition key in any operator block, ignoring the
// key's case (AWS writes "AWS:SourceArn"; condition keys are case-insensitive).
func conditionValue(c map[string]map[string]any, key string) (string, bool) {
	for _, block := range c {
		for k, v := range block {
			if strings.EqualFold(k, key) {
				switch x := v.(type) {
				case string:
					return x, true
				case bool: // an emulator may write "Bool" conditions unquoted
					return fmt.Sprint(x), true
				}
			}
		}
	}
	return "", false
}

// getPolicy returns the function's resource policy, "" when it has none (or
// the function is gone).
func (h *lambdaPermission) getPolicy(ctx context.Context, function string) (string, error) {
	out, err := h.api.GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: qualifiedName(function), Qualifier: qualifierOf(function)})
	if isLambdaNotFound(err) { // no function, or a function without a policy
		return "", nil
	}
	if err != nil {
		return "", classify(err)
	}
	return aws.ToString(out.Policy), nil
}

// Prefetch reads, once, the resource policy of every function the
// permissions belong to: the function's own Read (which checks the policy for
// foreign statements) and each permission's Read then take it from there,
// instead of each asking Lambda.
func (h *lambdaPermission) Prefetch(ctx context.Context, ids []string) error {
	byFunction := map[string]int{}
	for _, id := range ids {
		if function, _, err := splitPermissionID(id); err == nil {
			byFunction[function]++
		}
	}
	got := map[string]*shared{}
	for function, perms := range byFunction {
		policy, err := h.getPolicy(ctx, function)
		if err != nil {
			return err
		}
		got[function] = &shared{v: policy, left: perms + 1}
	}
	h.policies.reset(got)
	return nil
}

func (h *lambdaPermission) Read(ctx context.Context, id string, _ planner.Attrs) (planner.Attrs, bool, error) {
	function, sid, err := splitPermissionID(id)
	if err != nil {
		return nil, false, err
	}
	var policy string
	if v, ok := h.policies.take(function); ok {
		policy = v.(string)
	} else if policy, err = h.getPolicy(ctx, function); err != nil {
		return nil, false, err
	}
	if policy == "" {
		return nil, false, nil
	}
	var doc policyDocument
	if err := json.Unmarshal([]byte(policy), &doc); err != nil {
		return nil, false, fmt.Errorf("function %s: decoding resource policy: %w", function, err)
	}
	stmts, err := doc.statements()
	if err != nil {
		return nil, false, fmt.Errorf("function %s: decoding resource policy statements: %w", function, err)
	}
	for _, s := range stmts {
		if s.Sid != sid {
			continue
		}
		a := planner.Attrs{
			"function_name": function,
			"statement_id":  sid,
			"principal":     principalAttr(s.Principal),
		}
		if act, ok := s.Action.(string); ok {
			a["action"] = act
		}
		if v, ok := conditionValue(s.Condition, "AWS:SourceArn"); ok {
			a["source_arn"] = v
		}
		if v, ok := conditionValue(s.Condition, "AWS:SourceAccount"); ok {
			a["source_account"] = v
		}
		if v, ok := conditionValue(s.Condition, "lambda:FunctionUrlAuthType"); ok {
			a["function_url_auth_type"] = v
		}
		if v, ok := conditionValue(s.Condition, "lambda:InvokedViaFunctionUrl"); ok {
			a["invoked_via_function_url"] = strings.EqualFold(v, "true")
		}
		return a, true, nil
	}
	return nil, false, nil
}

func (h *lambdaPermission) Create(ctx context.Context, desired planner.Attrs) (string, planner.Attrs, error) {
	function, sid := desired.String("function_name"), desired.String("statement_id")
	id := function + "/" + sid
	h.policies.forget(function) // the policy is about to change: read it afresh
	// ResourceConflictException means both "statement id exists" and "an
	// update is in progress"; looking first tells a collision apart without
	// reading the message.
	if _, exists, err := h.Read(ctx, id, nil); err != nil {
		return "", nil, err
	} else if exists {
		return "", nil, fmt.Errorf("permission %s: %w", id, planner.ErrAlreadyExists)
	}
	in := &lambda.AddPermissionInput{
		FunctionName: qualifiedName(function), Qualifier: qualifierOf(function),
		StatementId: aws.String(sid),
		Action:      aws.String(desired.String("action")),
		Principal:   aws.String(desired.String("principal")),
	}
	if v := desired.String("source_arn"); v != "" {
		in.SourceArn = aws.String(v)
	}
	if v := desired.String("source_account"); v != "" {
		in.SourceAccount = aws.String(v)
	}
	if v := desired.String("function_url_auth_type"); v != "" {
		in.FunctionUrlAuthType = lambdatypes.FunctionUrlAuthType(v)
	}
	if desired.Bool("invoked_via_function_url") {
		in.InvokedViaFunctionUrl = aws.Bool(true)
	}
	if _, err := h.api.AddPermission(ctx, in); err != nil {
		var conflict *lambdatypes.ResourceConflictException
		if errors.As(err, &conflict) {
			if _, exists, rerr := h.Read(ctx, id, nil); rerr == nil && exists {
				return "", nil, fmt.Errorf("permission %s: %w", id, errors.Join(planner.ErrAlreadyExists, err))
			}
		}
		return "", nil, classify(err)
	}
	actual := planner.Attrs{}
	for _, k := range []string{"function_name", "statement_id", "action", "principal", "source_arn", "source_account", "function_url_auth_type"} {
		if v := desired.String(k); v != "" {
			actual[k] = v
		}
	}
	if desired.Bool("invoked_via_function_url") {
		actual["invoked_via_function_url"] = true
	}
	return id, actual, nil
}

// Update replaces the statement: every attribute forces replacement, so the
// planner does not call it, but a statement cannot be edited in place anyway.
func (h *lambdaPermission) Update(ctx context.Context, id string, prior, desired planner.Attrs) (planner.Attrs, error) {
	if err := h.Delete(ctx, id, prior); err != nil {
		return nil, err
	}
	_, actual, err := h.Create(ctx, desired)
	return actual, err
}

func (h *lambdaPermission) Delete(ctx context.Context, id string, _ planner.Attrs) error {
	function, sid, err := splitPermissionID(id)
	if err != nil {
		return err
	}
	h.policies.forget(function)
	_, err = h.api.RemovePermission(ctx, &lambda.RemovePermissionInput{FunctionName: qualifiedName(function), Qualifier: qualifierOf(function), StatementId: aws.String(sid)})
	if err != nil && !isLambdaNotFound(err) {
		return classify(err)
	}
	return nil
}
