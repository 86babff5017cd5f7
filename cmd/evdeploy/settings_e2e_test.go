package main

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigatewayv2"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/google/go-cmp/cmp"
)

// settingsSpec is an app with every setting of issue 14. The %s are the
// layer ARN and the settings only moto supports (reserved concurrency,
// point-in-time recovery).
const settingsSpec = `app "sets" {}

function "api" {
  runtime           = "python3.12"
  source            = "./fn"
  handler           = "main.handler"
  uses              = [table.orders.read]
  layers            = ["%s"]
  tracing           = true
  ephemeral_storage = 1024
  %s
  vpc {
    subnet_ids         = ["subnet-0123456789abcdef0"]
    security_group_ids = ["sg-0123456789abcdef0"]
  }
  url {
    auth = "none"
  }
}

table "orders" {
  hash_key = "id"
  attribute "customer" { type = "S" }
  attribute "placed_at" { type = "N" }
  index "by_customer" {
    hash_key   = "customer"
    range_key  = "placed_at"
    projection = "all"
  }
  %s
}

bucket "uploads" {
  versioning = true
  lifecycle "tmp" {
    prefix       = "tmp/"
    expire_after = "7d"
  }
}

api "web" {
  cors {
    allow_origins = ["https://shop.example.com"]
    allow_methods = ["GET", "POST"]
    allow_headers = ["content-type", "authorization"]
    max_age       = "1h"
  }
  jwt "users" {
    issuer   = "https://issuer.example.com/"
    audience = ["shop-web"]
  }
}

trigger "list_orders" {
  function = function.api
  http {
    api        = api.web
    route      = "GET /orders"
    authorizer = "users"
    scopes     = ["orders.read"]
  }
}

output "url" {
  value = function.api.url
}
`

// TestE2ESettings is issue 14's acceptance run: an app with each setting
// applies, re-plans clean and reads back with every setting in place (seen by
// independent SDK clients); changing one setting plans exactly that change;
// removing the index removes only the index; destroy leaves nothing. On moto
// with every setting; on kumo with those it supports (docs/testing.md).
func TestE2ESettings(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	for _, e := range emulators {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			settingsLifecycle(t, e.name, e.url(t))
		})
	}
}

func settingsLifecycle(t *testing.T, emu, endpoint string) {
	ctx := context.Background()
	cfg := sdkConfig(endpoint)
	lc := lambda.NewFromConfig(cfg)
	onMoto := emu == "moto"

	// A layer to use: moto publishes one; kumo has no PublishLayerVersion and
	// keeps no layers, so any layer version ARN does.
	layer := "arn:aws:lambda:us-east-1:000000000000:layer:deps:1"
	concurrency, pitr := "", ""
	if onMoto {
		out, err := lc.PublishLayerVersion(ctx, &lambda.PublishLayerVersionInput{
			LayerName: aws.String("deps" + uniqueStage("l")),
			Content:   &lambdatypes.LayerVersionContentInput{ZipFile: minimalZip(t)},
		})
		if err != nil {
			t.Fatalf("PublishLayerVersion: %v", err)
		}
		layer = aws.ToString(out.LayerVersionArn)
		concurrency, pitr = "reserved_concurrency = 5", "point_in_time_recovery = true"
	} else {
		t.Logf("kumo gap: no PutFunctionConcurrency, no UpdateContinuousBackups: reserved_concurrency and point_in_time_recovery are left out")
	}
	// evdeploy names the bucket after the account STS reports, falling back
	// to 000000000000 when STS does not answer within 3 s (localstack
	// probe.go); moto loads its STS backend on first use, slowly on a busy
	// machine, so ask once first.
	if _, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatalf("GetCallerIdentity: %v", err)
	}
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "fn"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "fn", "main.py"), []byte("def handler(event, context):\n    return {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	spec := filepath.Join(dir, "evdeploy.evd.hcl")
	if err := os.WriteFile(spec, []byte(fmt.Sprintf(settingsSpec, layer, concurrency, pitr)), 0o644); err != nil {
		t.Fatal(err)
	}
	stage := uniqueStage("s")
	common := []string{"-C", dir, "--stage", stage, "--target", "local", "--endpoint", endpoint}
	name := func(n string) string { return "sets-" + stage + "-" + n }

	mustEvd(t, 0, append([]string{"apply", "--auto-approve"}, common...)...)
	mustEvd(t, 0, append([]string{"plan", "--detailed-exitcode"}, common...)...)

	// Every setting in place, read with independent clients.
	ddb := dynamodb.NewFromConfig(cfg)
	table, err := ddb.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name("orders"))})
	if err != nil {
		t.Fatal(err)
	}
	if g := table.Table.GlobalSecondaryIndexes; len(g) != 1 || aws.ToString(g[0].IndexName) != "by_customer" ||
		g[0].Projection.ProjectionType != ddbtypes.ProjectionTypeAll || len(g[0].KeySchema) != 2 {
		t.Errorf("indexes = %+v, want by_customer (customer, placed_at; ALL)", g)
	}
	if onMoto {
		cb, err := ddb.DescribeContinuousBackups(ctx, &dynamodb.DescribeContinuousBackupsInput{TableName: aws.String(name("orders"))})
		if err != nil || cb.ContinuousBackupsDescription.PointInTimeRecoveryDescription.PointInTimeRecoveryStatus != ddbtypes.PointInTimeRecoveryStatusEnabled {
			t.Errorf("point-in-time recovery: %v, %+v", err, cb)
		}
	}
	sc := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	bucket := bucketNamed(t, cfg, name("uploads"))
	if v, err := sc.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String(bucket)}); err != nil || v.Status != "Enabled" {
		t.Errorf("versioning: %v, %+v", err, v)
	}
	lifecycleDays := func() int32 {
		lcfg, err := sc.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: aws.String(bucket)})
		if err != nil || len(lcfg.Rules) != 1 || aws.ToString(lcfg.Rules[0].ID) != "tmp" || lcfg.Rules[0].Expiration == nil {
			t.Errorf("lifecycle: %v, %+v", err, lcfg)
			return 0
		}
		return aws.ToInt32(lcfg.Rules[0].Expiration.Days)
	}
	if d := lifecycleDays(); d != 7 {
		t.Errorf("lifecycle expiration = %d days, want 7", d)
	}
	fn, err := lc.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(name("api"))})
	if err != nil {
		t.Fatal(err)
	}
	if onMoto {
		c := fn.Configuration
		var layers []string
		for _, l := range c.Layers {
			layers = append(layers, aws.ToString(l.Arn))
		}
		if !slices.Equal(layers, []string{layer}) || c.TracingConfig == nil || c.TracingConfig.Mode != lambdatypes.TracingModeActive ||
			c.EphemeralStorage == nil || aws.ToInt32(c.EphemeralStorage.Size) != 1024 ||
			c.VpcConfig == nil || !slices.Equal(c.VpcConfig.SubnetIds, []string{"subnet-0123456789abcdef0"}) {
			t.Errorf("function settings: layers %v, tracing %+v, storage %+v, vpc %+v", layers, c.TracingConfig, c.EphemeralStorage, c.VpcConfig)
		}
		if fn.Concurrency == nil || aws.ToInt32(fn.Concurrency.ReservedConcurrentExecutions) != 5 {
			t.Errorf("reserved concurrency = %+v, want 5", fn.Concurrency)
		}
	} else {
		t.Logf("kumo gap: GetFunction reports no layers, tracing, ephemeral storage or VPC")
	}
	rp, err := iam.NewFromConfig(cfg).GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(name("api") + "-us-east-1"), PolicyName: aws.String("evdeploy")})
	if err != nil {
		t.Fatal(err)
	}
	for _, action := range []string{"xray:PutTraceSegments", "ec2:CreateNetworkInterface", "dynamodb:Query"} {
		if !strings.Contains(aws.ToString(rp.PolicyDocument)+decodedPolicy(rp.PolicyDocument), action) {
			t.Errorf("role policy lacks %s", action)
		}
	}
	u, err := lc.GetFunctionUrlConfig(ctx, &lambda.GetFunctionUrlConfigInput{FunctionName: aws.String(name("api"))})
	if err != nil || u.AuthType != lambdatypes.FunctionUrlAuthTypeNone {
		t.Errorf("function URL: %v, %+v", err, u)
	}
	pol, err := lc.GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: aws.String(name("api"))})
	if err != nil || !strings.Contains(aws.ToString(pol.Policy), "lambda:InvokeFunctionUrl") {
		t.Errorf("function URL public policy: %v, %v", err, pol)
	}
	ag := apigatewayv2.NewFromConfig(cfg)
	apiID := apiNamed(t, cfg, name("web"))
	api, err := ag.GetApi(ctx, &apigatewayv2.GetApiInput{ApiId: aws.String(apiID)})
	if err != nil || api.CorsConfiguration == nil || !slices.Equal(api.CorsConfiguration.AllowOrigins, []string{"https://shop.example.com"}) ||
		aws.ToInt32(api.CorsConfiguration.MaxAge) != 3600 {
		t.Errorf("CORS: %v, %+v", err, api)
	}
	routes, err := ag.GetRoutes(ctx, &apigatewayv2.GetRoutesInput{ApiId: aws.String(apiID)})
	if err != nil || len(routes.Items) != 1 {
		t.Fatalf("routes: %v, %+v", err, routes)
	}
	r := routes.Items[0]
	auth, err := ag.GetAuthorizer(ctx, &apigatewayv2.GetAuthorizerInput{ApiId: aws.String(apiID), AuthorizerId: r.AuthorizerId})
	if err != nil || r.AuthorizationType != "JWT" || !slices.Equal(r.AuthorizationScopes, []string{"orders.read"}) ||
		aws.ToString(auth.Name) != "users" || aws.ToString(auth.JwtConfiguration.Issuer) != "https://issuer.example.com/" {
		t.Errorf("route authorization: %v, route %+v, authorizer %+v", err, r, auth)
	}

	// Changing one setting plans exactly that change.
	editFile(t, spec, `expire_after = "7d"`, `expire_after = "30d"`)
	if d := cmp.Diff([]string{"bucket.uploads/aws_s3_bucket.main update lifecycle_rules"}, planChanges(t, common...)); d != "" {
		t.Errorf("lifecycle edit (-want +got):\n%s", d)
	}
	mustEvd(t, 0, append([]string{"apply", "--auto-approve"}, common...)...)
	if d := lifecycleDays(); d != 30 {
		t.Errorf("lifecycle expiration after the edit = %d days, want 30", d)
	}
	mustEvd(t, 0, append([]string{"plan", "--detailed-exitcode"}, common...)...)

	// Removing the index removes only the index: an update of the table,
	// which keeps its data (same table).
	editFile(t, spec, `  index "by_customer" {
    hash_key   = "customer"
    range_key  = "placed_at"
    projection = "all"
  }
`, "")
	editFile(t, spec, `  attribute "customer" { type = "S" }
  attribute "placed_at" { type = "N" }
`, "")
	if d := cmp.Diff([]string{"table.orders/aws_dynamodb_table.main update indexes"}, planChanges(t, common...)); d != "" {
		t.Errorf("index removal (-want +got):\n%s", d)
	}
	plan := mustEvd(t, 0, append([]string{"plan"}, common...)...)
	if !strings.Contains(plan.out, "indexes.by_customer:") || strings.Contains(plan.out, "DATA LOSS") {
		t.Errorf("index removal plan does not name the index alone:\n%s", plan.out)
	}
	if onMoto {
		mustEvd(t, 0, append([]string{"apply", "--auto-approve"}, common...)...)
		after, err := ddb.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name("orders"))})
		if err != nil || len(after.Table.GlobalSecondaryIndexes) != 0 || aws.ToString(after.Table.TableId) != aws.ToString(table.Table.TableId) {
			t.Errorf("after removing the index: %v, indexes %+v, table id %s (was %s)", err, after.Table.GlobalSecondaryIndexes,
				aws.ToString(after.Table.TableId), aws.ToString(table.Table.TableId))
		}
		mustEvd(t, 0, append([]string{"plan", "--detailed-exitcode"}, common...)...)
	} else {
		t.Logf("kumo gap: UpdateTable does not delete indexes; the removal is planned, not applied")
	}

	// Destroy leaves nothing.
	mustEvd(t, 0, append([]string{"destroy", "--auto-approve", "--allow-data-loss"}, common...)...)
	if _, err := lc.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(name("api"))}); err == nil {
		t.Errorf("function still exists")
	}
	if _, err := ddb.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name("orders"))}); err == nil {
		t.Errorf("table still exists")
	}
	if n := countBuckets(t, cfg, "sets-"+stage+"-"); n != 0 {
		t.Errorf("%d buckets left", n)
	}
	if n := countAPIs(t, cfg, name("web")); n != 0 {
		t.Errorf("%d APIs left", n)
	}
	if _, err := iam.NewFromConfig(cfg).GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(name("api") + "-us-east-1")}); err == nil {
		t.Errorf("role still exists")
	}
}

// minimalZip is a layer package: a zip with one small file.
func minimalZip(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	f, err := zw.Create("python/deps.py")
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("VERSION = 1\n"))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// bucketNamed finds the one bucket whose name starts with prefix (derived
// bucket names end with an account/region hash).
func bucketNamed(t *testing.T, cfg aws.Config, prefix string) string {
	t.Helper()
	out, err := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }).ListBuckets(context.Background(), &s3.ListBucketsInput{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, b := range out.Buckets {
		if strings.HasPrefix(aws.ToString(b.Name), prefix) {
			names = append(names, aws.ToString(b.Name))
		}
	}
	if len(names) != 1 {
		t.Fatalf("buckets named %s*: %v, want one", prefix, names)
	}
	return names[0]
}

// apiNamed finds the id of the one API with that name.
func apiNamed(t *testing.T, cfg aws.Config, name string) string {
	t.Helper()
	out, err := apigatewayv2.NewFromConfig(cfg).GetApis(context.Background(), &apigatewayv2.GetApisInput{})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, a := range out.Items {
		if aws.ToString(a.Name) == name {
			ids = append(ids, aws.ToString(a.ApiId))
		}
	}
	if len(ids) != 1 {
		t.Fatalf("APIs named %s: %v, want one", name, ids)
	}
	return ids[0]
}

// decodedPolicy URL-decodes a policy document as IAM returns it (AWS encodes
// it; the emulators may not).
func decodedPolicy(doc *string) string {
	s, err := url.QueryUnescape(aws.ToString(doc))
	if err != nil {
		return ""
	}
	return s
}
