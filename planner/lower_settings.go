package planner

import (
	"slices"

	"github.com/evdeploy/evdeploy/spec"
)

// IAM for function settings. X-Ray and the Lambda-managed network
// interfaces of a VPC function have no resource-level permissions, so these
// two statements are the only generated ones with "Resource": "*" (the same
// actions AWS's AWSXrayWriteOnlyAccess and AWSLambdaVPCAccessExecutionRole
// grant).
var (
	tracingActions = []string{"xray:PutTraceSegments", "xray:PutTelemetryRecords"}
	vpcActions     = []string{
		"ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets",
		"ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses",
	}
)

// Statement ids evdeploy writes into a public function URL's resource policy;
// stable, so the policy can be compared and owned statement by statement.
const (
	sidURLInvoke       = "evdeploy-url-invoke-url"
	sidURLInvokeViaURL = "evdeploy-url-invoke"
)

func settingsStatements(f *spec.Function) []iamStatement {
	var out []iamStatement
	if f.Tracing {
		out = append(out, iamStatement{Sid: "Tracing", Effect: "Allow", Actions: tracingActions, Resources: []any{"*"}})
	}
	if f.VPC != nil {
		out = append(out, iamStatement{Sid: "VPCNetworkInterfaces", Effect: "Allow", Actions: vpcActions, Resources: []any{"*"}})
	}
	return out
}

// functionSettings sets the function's layers, tracing, ephemeral storage,
// VPC and reserved concurrency. Each is set when off too (null for the
// lists, which the handler reads back only when non-empty), so removing it
// from the spec removes it from AWS.
func (l *lowering) functionSettings(f *spec.Function, attrs Attrs) {
	attrs["layers"] = nil
	if len(f.Layers) > 0 {
		attrs["layers"] = Norm(f.Layers)
	}
	if f.LayersExpr != nil {
		// Reads layer.<name>.arn: the version ARN, known once published.
		attrs["layers"] = l.expr(f.LayersExpr, f.Addr.String()+".layers")
	}
	attrs["tracing_mode"] = "PassThrough"
	if f.Tracing {
		attrs["tracing_mode"] = "Active"
	}
	attrs["ephemeral_storage"] = int64(f.EphemeralStorage)
	attrs["vpc_subnet_ids"], attrs["vpc_security_group_ids"] = nil, nil
	if f.VPC != nil {
		// Lambda reports them in no particular order.
		attrs["vpc_subnet_ids"] = Norm(slices.Sorted(slices.Values(f.VPC.SubnetIDs)))
		attrs["vpc_security_group_ids"] = Norm(slices.Sorted(slices.Values(f.VPC.SecurityGroupIDs)))
	}
	attrs["reserved_concurrency"] = nil
	if f.ReservedConcurrency != nil {
		attrs["reserved_concurrency"] = int64(*f.ReservedConcurrency)
	}
}

// functionURL adds the function's URL and, for auth NONE only, the resource
// policy statements that let anyone call it: lambda:InvokeFunctionUrl, and
// lambda:InvokeFunction through the URL, which AWS requires of URLs since
// October 2025.
func (l *lowering) functionURL(f *spec.Function, name string, fn ResourceAddr) {
	if f.URL == nil {
		return
	}
	// A released function's URL is its live alias's.
	_, name, aliasDeps := l.invokeTarget(f.Addr)
	url := l.add(f.Addr, TypeFunctionURL, "main", Attrs{"function_name": name, "auth_type": f.URL.Auth}, name, name, append([]ResourceAddr{fn}, aliasDeps...)...)
	if f.URL.Auth != spec.URLAuthNone {
		return
	}
	l.add(f.Addr, TypePermission, "url", Attrs{
		"function_name": name, "statement_id": sidURLInvoke, "action": "lambda:InvokeFunctionUrl",
		"principal": "*", "function_url_auth_type": spec.URLAuthNone,
	}, name+"/"+sidURLInvoke, name+"/"+sidURLInvoke, fn, url)
	l.add(f.Addr, TypePermission, "url_invoke", Attrs{
		"function_name": name, "statement_id": sidURLInvokeViaURL, "action": "lambda:InvokeFunction",
		"principal": "*", "invoked_via_function_url": true,
	}, name+"/"+sidURLInvokeViaURL, name+"/"+sidURLInvokeViaURL, fn, url)
}
