package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigatewayv2"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/pipes"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/smithy-go"

	"github.com/evdeploy/evdeploy/state"
	"github.com/evdeploy/evdeploy/templates"
)

// TestE2ETemplates scaffolds every template and takes it through its whole
// life against the emulator: init → validate → plan → apply → plan with no
// changes → destroy → nothing left, checked resource by resource with
// independent SDK clients. A monorepo template goes through the same life
// with --all (monorepoLifecycle).
func TestE2ETemplates(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	for _, e := range emulators {
		for _, name := range templates.Names() {
			if engineTemplates[name] != "" {
				continue
			}
			t.Run(e.name+"/"+name, func(t *testing.T) {
				t.Parallel()
				templateLifecycle(t, e.url(t), name)
			})
		}
	}
	// The engine's templates run first, not in parallel: the engine is
	// found as the recorded local engine (localTestEnv's environment), as
	// a user's `local up` is, so that apply builds for this machine and
	// routes API requests by host name.
	for _, name := range templates.Names() {
		if engineTemplates[name] == "" {
			continue
		}
		t.Run("engine/"+name, func(t *testing.T) {
			_, port := localTestEnv(t)
			if code, out, errOut := runLocal(t, "local", "up"); code != 0 {
				t.Fatalf("local up: exit %d\n%s%s", code, out, errOut)
			}
			templateLifecycle(t, fmt.Sprintf("http://127.0.0.1:%d", port), name)
		})
	}
}

// engineTemplates run on the embedded engine instead of kumo and moto, for
// the reason given.
var engineTemplates = map[string]string{
	"http-api-canary": "a release needs Lambda versions and aliases (kumo has none: the engine supplies them) and an alarm (moto's CloudWatch does not answer the Go SDK)",
}

// engineProbes are requests to an engine template's API after its apply,
// with what the answer must contain.
// types are resource types the template must have deployed.
var engineProbes = map[string]struct {
	path, want string
	types      []string
}{
	"http-api-canary": {"/quote/lamp?quantity=3", `"total_cents":7500,"version":"1"`, []string{"aws_lambda_alias", "aws_cloudwatch_metric_alarm"}},
}

// templateLifecycle takes one scaffolded template through its whole life on
// the emulator at emu.
func templateLifecycle(t *testing.T, emu, name string) {
	dir := filepath.Join(t.TempDir(), "tpl"+strings.ReplaceAll(name, "-", ""))
	mustEvd(t, 0, "init", "--template", name, dir)
	if apps := templates.Apps(name); apps != nil {
		monorepoLifecycle(t, emu, dir, apps)
		return
	}
	stage := uniqueStage("t")
	common := []string{"-C", dir, "--stage", stage, "--target", "local", "--endpoint", emu}
	if engineTemplates[name] != "" {
		common = common[:len(common)-2] // the recorded engine
	}

	mustEvd(t, 0, append([]string{"validate"}, common...)...)
	mustEvd(t, 2, append([]string{"plan", "--detailed-exitcode"}, common...)...)
	mustEvd(t, 0, append([]string{"apply", "--auto-approve"}, common...)...)
	mustEvd(t, 0, append([]string{"plan", "--detailed-exitcode"}, common...)...)

	deployed := stateResources(t, filepath.Join(dir, ".evdeploy", "state", stage+".json"))
	if len(deployed) == 0 {
		t.Fatal("state records no resources after apply")
	}
	cfg := sdkConfig(emu)
	for _, r := range deployed {
		if exists, err := resourceExists(context.Background(), cfg, r); err != nil || !exists {
			t.Errorf("%s (%s): exists=%v err=%v after apply", r.Addr, r.ID, exists, err)
		}
	}

	if probe, ok := engineProbes[name]; ok {
		types := map[string]bool{}
		for _, r := range deployed {
			types[r.Type] = true
		}
		for _, want := range probe.types {
			if !types[want] {
				t.Errorf("no %s deployed (types: %v)", want, types)
			}
		}
		// Through the HTTP route, the live alias and its version 1.
		raw := strings.TrimSpace(mustEvd(t, 0, "output", "api_url", "-C", dir, "--stage", stage).out)
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatalf("api_url %q: %v", raw, err)
		}
		e, err := url.Parse(emu)
		if err != nil {
			t.Fatal(err)
		}
		// The engine routes an API's requests by host name.
		id, _, _ := strings.Cut(u.Hostname(), ".")
		req, _ := http.NewRequest(http.MethodGet, emu+probe.path, nil)
		req.Host = id + ".execute-api.localhost:" + e.Port()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(body), probe.want) {
			t.Errorf("GET %s: %d %s, want 200 with %s\nengine log:\n%s", probe.path, resp.StatusCode, body, probe.want, engineLog(t))
		}
	}

	mustEvd(t, 0, append([]string{"destroy", "--auto-approve", "--allow-data-loss"}, common...)...)
	for _, r := range deployed {
		exists, err := resourceExists(context.Background(), cfg, r)
		if err != nil {
			t.Errorf("%s: %v", r.Addr, err)
		} else if exists {
			t.Errorf("%s (%s) still exists after destroy", r.Addr, r.ID)
		}
	}
}

// monorepoLifecycle takes a scaffolded monorepo through its life with the
// --all commands: validate; plan (the upstream app planned, the apps that
// read its outputs waiting for its apply); apply in dependency order; a
// clean plan of every app; destroy in reverse, leaving nothing of any app.
func monorepoLifecycle(t *testing.T, emu, dir string, apps []string) {
	stage := uniqueStage("t")
	common := []string{"-C", dir, "--stage", stage, "--target", "local", "--endpoint", emu}

	if r := mustEvd(t, 0, append([]string{"validate", "--all"}, common...)...); !strings.Contains(r.out, fmt.Sprintf("validate --all: %d apps, all valid", len(apps))) {
		t.Errorf("validate --all:\n%s", r.out)
	}
	r := mustEvd(t, 2, append([]string{"plan", "--all", "--detailed-exitcode"}, common...)...)
	for _, app := range apps {
		if app == "core" {
			continue
		}
		want := fmt.Sprintf("=== %s (plan) ===\nNot planned yet: it reads app_outputs.core (../core, stage %s), which has no state yet", app, stage)
		if !strings.Contains(r.out, want) {
			t.Errorf("plan --all before any apply: no %q in\n%s%s", want, r.out, r.errOut)
		}
	}
	if !strings.Contains(r.out, "=== core (plan) ===") || !strings.Contains(r.out, "Plan: ") {
		t.Errorf("plan --all does not plan core:\n%s", r.out)
	}
	r = mustEvd(t, 0, append([]string{"apply", "--all", "--auto-approve"}, common...)...)
	if want := "apply --all: 3 apps in " + dir + ", in order: core, orders, billing"; !strings.Contains(r.errOut, want) {
		t.Errorf("apply --all order: no %q in\n%s", want, r.errOut)
	}
	mustEvd(t, 0, append([]string{"plan", "--all", "--detailed-exitcode"}, common...)...)

	cfg := sdkConfig(emu)
	deployed := map[string][]state.Resource{}
	for _, app := range apps {
		deployed[app] = stateResources(t, filepath.Join(dir, app, ".evdeploy", "state", stage+".json"))
		if len(deployed[app]) == 0 {
			t.Fatalf("%s: state records no resources after apply", app)
		}
		for _, r := range deployed[app] {
			if exists, err := resourceExists(context.Background(), cfg, r); err != nil || !exists {
				t.Errorf("%s: %s (%s): exists=%v err=%v after apply", app, r.Addr, r.ID, exists, err)
			}
		}
	}

	r = mustEvd(t, 0, append([]string{"destroy", "--all", "--auto-approve", "--allow-data-loss"}, common...)...)
	if want := "destroy --all: 3 apps in " + dir + ", in order: billing, orders, core"; !strings.Contains(r.errOut, want) {
		t.Errorf("destroy --all order: no %q in\n%s", want, r.errOut)
	}
	for app, rs := range deployed {
		for _, r := range rs {
			exists, err := resourceExists(context.Background(), cfg, r)
			if err != nil {
				t.Errorf("%s: %s: %v", app, r.Addr, err)
			} else if exists {
				t.Errorf("%s: %s (%s) still exists after destroy", app, r.Addr, r.ID)
			}
		}
	}
}

func stateResources(t *testing.T, path string) []state.Resource {
	t.Helper()
	doc, err := state.Decode(readFile(t, path))
	if err != nil {
		t.Fatal(err)
	}
	return doc.Resources
}

// resourceExists asks the service itself, not evdeploy's handlers, whether a
// recorded resource exists.
func resourceExists(ctx context.Context, cfg aws.Config, r state.Resource) (bool, error) {
	// A service error (NotFound, NoSuchEntity, ResourceNotFoundException…:
	// the codes differ per service) means gone; a transport failure is an
	// error, so a broken connection cannot pass for a clean destroy.
	notFound := func(err error) (bool, error) {
		var ae smithy.APIError
		switch {
		case err == nil:
			return true, nil
		case errors.As(err, &ae):
			return false, nil
		}
		return false, err
	}
	a := r.Attrs
	str := func(k string) string { s, _ := a[k].(string); return s }
	switch r.Type {
	case "aws_iam_role":
		_, err := iam.NewFromConfig(cfg).GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(r.ID)})
		return notFound(err)
	case "aws_iam_role_policy":
		_, err := iam.NewFromConfig(cfg).GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(str("role")), PolicyName: aws.String(str("name"))})
		return notFound(err)
	case "aws_cloudwatch_log_group":
		out, err := cloudwatchlogs.NewFromConfig(cfg).DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String(r.ID)})
		if err != nil {
			return false, err
		}
		for _, g := range out.LogGroups {
			if aws.ToString(g.LogGroupName) == r.ID {
				return true, nil
			}
		}
		return false, nil
	case "aws_lambda_function":
		_, err := lambda.NewFromConfig(cfg).GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(r.ID)})
		return notFound(err)
	case "aws_lambda_permission":
		out, err := lambda.NewFromConfig(cfg).GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: aws.String(str("function_name"))})
		if err != nil {
			return false, nil
		}
		return strings.Contains(aws.ToString(out.Policy), `"`+str("statement_id")+`"`), nil
	case "aws_lambda_event_source_mapping":
		_, err := lambda.NewFromConfig(cfg).GetEventSourceMapping(ctx, &lambda.GetEventSourceMappingInput{UUID: aws.String(r.ID)})
		return notFound(err)
	case "aws_sqs_queue":
		_, err := sqs.NewFromConfig(cfg).GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(str("name"))})
		return notFound(err)
	case "aws_sns_topic":
		_, err := sns.NewFromConfig(cfg).GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: aws.String(r.ID)})
		return notFound(err)
	case "aws_sns_subscription":
		_, err := sns.NewFromConfig(cfg).GetSubscriptionAttributes(ctx, &sns.GetSubscriptionAttributesInput{SubscriptionArn: aws.String(r.ID)})
		return notFound(err)
	case "aws_eventbridge_bus":
		_, err := eventbridge.NewFromConfig(cfg).DescribeEventBus(ctx, &eventbridge.DescribeEventBusInput{Name: aws.String(r.ID)})
		return notFound(err)
	case "aws_eventbridge_rule":
		_, err := eventbridge.NewFromConfig(cfg).DescribeRule(ctx, &eventbridge.DescribeRuleInput{Name: aws.String(str("name")), EventBusName: aws.String(str("bus"))})
		return notFound(err)
	case "aws_eventbridge_target":
		out, err := eventbridge.NewFromConfig(cfg).ListTargetsByRule(ctx, &eventbridge.ListTargetsByRuleInput{Rule: aws.String(str("rule")), EventBusName: aws.String(str("bus"))})
		if err != nil {
			return false, nil // the rule is gone, and its targets with it
		}
		for _, tg := range out.Targets {
			if aws.ToString(tg.Id) == str("target_id") {
				return true, nil
			}
		}
		return false, nil
	case "aws_s3_bucket":
		c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
		_, err := c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(r.ID)})
		return notFound(err)
	case "aws_s3_bucket_notification":
		c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
		out, err := c.GetBucketNotificationConfiguration(ctx, &s3.GetBucketNotificationConfigurationInput{Bucket: aws.String(r.ID)})
		if err != nil {
			return false, nil // the bucket is gone
		}
		return len(out.LambdaFunctionConfigurations)+len(out.QueueConfigurations)+len(out.TopicConfigurations) > 0, nil
	case "aws_sqs_queue_policy":
		out, err := sqs.NewFromConfig(cfg).GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(r.ID),
			AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNamePolicy}})
		if err != nil {
			return false, nil // the queue is gone
		}
		return strings.Contains(out.Attributes["Policy"], `"evdeploy-route-`), nil
	case "aws_sns_topic_policy":
		out, err := sns.NewFromConfig(cfg).GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: aws.String(r.ID)})
		if err != nil {
			return false, nil // the topic is gone
		}
		return strings.Contains(out.Attributes["Policy"], `"evdeploy-route-`), nil
	case "aws_lambda_alias":
		_, err := lambda.NewFromConfig(cfg).GetAlias(ctx, &lambda.GetAliasInput{FunctionName: aws.String(str("function_name")), Name: aws.String(str("name"))})
		return notFound(err)
	case "aws_cloudwatch_metric_alarm":
		out, err := cloudwatch.NewFromConfig(cfg).DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{r.ID}})
		if err != nil {
			return false, err
		}
		return len(out.MetricAlarms) == 1, nil
	case "aws_lambda_event_invoke_config":
		_, err := lambda.NewFromConfig(cfg).GetFunctionEventInvokeConfig(ctx, &lambda.GetFunctionEventInvokeConfigInput{FunctionName: aws.String(r.ID)})
		return notFound(err)
	case "aws_pipes_pipe":
		_, err := pipes.NewFromConfig(cfg).DescribePipe(ctx, &pipes.DescribePipeInput{Name: aws.String(r.ID)})
		if err != nil {
			return false, nil // kumo answers a missing pipe with a bare 404
		}
		return true, nil
	case "aws_ssm_parameter":
		_, err := ssm.NewFromConfig(cfg).GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(r.ID)})
		return notFound(err)
	case "aws_secretsmanager_secret":
		out, err := secretsmanager.NewFromConfig(cfg).DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(r.ID)})
		if err == nil && out.DeletedDate != nil {
			return false, nil // scheduled for deletion
		}
		return notFound(err)
	case "aws_dynamodb_table":
		_, err := dynamodb.NewFromConfig(cfg).DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(r.ID)})
		return notFound(err)
	case "aws_kinesis_stream":
		_, err := kinesis.NewFromConfig(cfg).DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(r.ID)})
		return notFound(err)
	case "aws_apigatewayv2_api":
		_, err := apigatewayv2.NewFromConfig(cfg).GetApi(ctx, &apigatewayv2.GetApiInput{ApiId: aws.String(r.ID)})
		return notFound(err)
	case "aws_apigatewayv2_integration", "aws_apigatewayv2_route", "aws_apigatewayv2_stage", "aws_apigatewayv2_authorizer":
		api, child, _ := strings.Cut(r.ID, "/")
		c := apigatewayv2.NewFromConfig(cfg)
		var err error
		switch r.Type {
		case "aws_apigatewayv2_integration":
			_, err = c.GetIntegration(ctx, &apigatewayv2.GetIntegrationInput{ApiId: aws.String(api), IntegrationId: aws.String(child)})
		case "aws_apigatewayv2_route":
			_, err = c.GetRoute(ctx, &apigatewayv2.GetRouteInput{ApiId: aws.String(api), RouteId: aws.String(child)})
		case "aws_apigatewayv2_authorizer":
			_, err = c.GetAuthorizer(ctx, &apigatewayv2.GetAuthorizerInput{ApiId: aws.String(api), AuthorizerId: aws.String(child)})
		default:
			_, err = c.GetStage(ctx, &apigatewayv2.GetStageInput{ApiId: aws.String(api), StageName: aws.String(child)})
		}
		return notFound(err)
	}
	b, _ := json.Marshal(r)
	return false, errors.New("no independent check for " + string(b))
}
