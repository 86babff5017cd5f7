package main

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/google/go-cmp/cmp"
)

// ownSpec is a small app whose every kind of resource is, in turn, made by
// hand under the name evdeploy would give it.
const ownSpec = `
app "own" {}

function "sweeper" {
  runtime = "python3.12"
  source  = "./fn"
  handler = "main.handler"
  memory  = 128
}

queue "jobs" {}

bucket "files" {}

table "items" {
  hash_key = "id"
}
`

func ownProject(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	writeTestFile(t, filepath.Join(dir, "evdeploy.evd.hcl"), ownSpec)
	writeTestFile(t, filepath.Join(dir, "fn", "main.py"), "def handler(event, context):\n    return 'evdeploy'\n")
	return dir
}

// physicalNames returns each resource's physical name from `plan --json`.
func physicalNames(t *testing.T, args ...string) map[string]string {
	t.Helper()
	r := mustEvd(t, 2, append([]string{"plan", "--json", "--detailed-exitcode"}, args...)...)
	var p struct {
		Changes []struct {
			Address      string `json:"address"`
			PhysicalName string `json:"physical_name"`
		} `json:"changes"`
	}
	if err := json.Unmarshal([]byte(r.out), &p); err != nil {
		t.Fatalf("plan --json: %v\n%s", err, r.out)
	}
	names := map[string]string{}
	for _, c := range p.Changes {
		names[c.Address] = c.PhysicalName
	}
	return names
}

// foreignCase makes one resource by hand, the way someone else would (no
// evdeploy tags, settings of its own), and snapshots it with independent SDK
// reads: everything the service reports of its configuration, code and tags.
type foreignCase struct {
	addr     string // the evdeploy resource whose name it takes
	make     func(t *testing.T, cfg aws.Config, name string)
	snapshot func(t *testing.T, cfg aws.Config, name string) string
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// errText records a read's failure as part of a snapshot (a missing tag set
// or policy is part of what must not change).
func errText(err error) string {
	if err == nil {
		return ""
	}
	s := err.Error()
	if i := strings.Index(s, "RequestID"); i >= 0 { // request ids differ per call
		s = s[:i]
	}
	return s
}

func handMadeZip(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	w, err := zw.Create("other.py")
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprint(w, "def run(event, context):\n    return 'hand-made'\n")
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

const ec2Trust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`

func makeRole(t *testing.T, cfg aws.Config, name string) string {
	t.Helper()
	ctx := context.Background()
	c := iam.NewFromConfig(cfg)
	out, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(name), AssumeRolePolicyDocument: aws.String(ec2Trust), Description: aws.String("hand-made")})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String("mine"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::mine/*"}]}`)})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.Role.Arn)
}

func snapshotRole(t *testing.T, cfg aws.Config, name string) string {
	t.Helper()
	ctx := context.Background()
	c := iam.NewFromConfig(cfg)
	role, err := c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	inline, err := c.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	docs := map[string]string{}
	for _, p := range inline.PolicyNames {
		d, err := c.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String(p)})
		if err != nil {
			t.Fatal(err)
		}
		docs[p] = aws.ToString(d.PolicyDocument)
	}
	attached, err := c.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String(name)})
	return mustJSON(t, map[string]any{"role": role.Role, "inline": docs, "attached": attached, "attachedErr": errText(err)})
}

var foreignCases = []foreignCase{
	{
		addr: "function.sweeper/aws_lambda_function.main",
		make: func(t *testing.T, cfg aws.Config, name string) {
			role := makeRole(t, cfg, name+"-handmade")
			_, err := lambda.NewFromConfig(cfg).CreateFunction(context.Background(), &lambda.CreateFunctionInput{
				FunctionName: aws.String(name), Role: aws.String(role), Runtime: lambdatypes.RuntimePython312,
				Handler: aws.String("other.run"), MemorySize: aws.Int32(1024), Code: &lambdatypes.FunctionCode{ZipFile: handMadeZip(t)},
				// arm64 like evdeploy's: moto cannot change a function's
				// architecture (UpdateFunctionCode ignores Architectures).
				Architectures: []lambdatypes.Architecture{lambdatypes.ArchitectureArm64},
			})
			if err != nil {
				t.Fatal(err)
			}
		},
		snapshot: func(t *testing.T, cfg aws.Config, name string) string {
			t.Helper()
			ctx := context.Background()
			c := lambda.NewFromConfig(cfg)
			fn, err := c.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: fnName(name)})
			if err != nil {
				t.Fatal(err)
			}
			tags, err := c.ListTags(ctx, &lambda.ListTagsInput{Resource: fn.FunctionArn})
			if err != nil {
				t.Fatal(err)
			}
			pol, perr := c.GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: fnName(name)})
			var policy string
			if perr == nil {
				policy = aws.ToString(pol.Policy)
			}
			return mustJSON(t, map[string]any{"config": fn, "tags": tags.Tags, "policy": policy, "policyErr": errText(perr),
				"role": snapshotRole(t, cfg, name+"-handmade")})
		},
	},
	{
		addr: "function.sweeper/aws_iam_role.main",
		make: func(t *testing.T, cfg aws.Config, name string) { makeRole(t, cfg, name) },
		snapshot: func(t *testing.T, cfg aws.Config, name string) string {
			return snapshotRole(t, cfg, name)
		},
	},
	{
		addr: "queue.jobs/aws_sqs_queue.main",
		make: func(t *testing.T, cfg aws.Config, name string) {
			_, err := sqs.NewFromConfig(cfg).CreateQueue(context.Background(), &sqs.CreateQueueInput{QueueName: aws.String(name),
				Attributes: map[string]string{"VisibilityTimeout": "123", "MessageRetentionPeriod": "3600"}})
			if err != nil {
				t.Fatal(err)
			}
		},
		snapshot: func(t *testing.T, cfg aws.Config, name string) string {
			t.Helper()
			ctx := context.Background()
			c := sqs.NewFromConfig(cfg)
			u, err := c.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(name)})
			if err != nil {
				t.Fatal(err)
			}
			attrs, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: u.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameAll}})
			if err != nil {
				t.Fatal(err)
			}
			tags, err := c.ListQueueTags(ctx, &sqs.ListQueueTagsInput{QueueUrl: u.QueueUrl})
			if err != nil {
				t.Fatal(err)
			}
			return mustJSON(t, map[string]any{"url": u.QueueUrl, "attrs": attrs.Attributes, "tags": tags.Tags})
		},
	},
	{
		addr: "bucket.files/aws_s3_bucket.main",
		make: func(t *testing.T, cfg aws.Config, name string) {
			ctx := context.Background()
			c := s3Client(cfg)
			if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
				t.Fatal(err)
			}
			if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(name), Key: aws.String("keep.txt"), Body: strings.NewReader("mine")}); err != nil {
				t.Fatal(err)
			}
		},
		snapshot: func(t *testing.T, cfg aws.Config, name string) string {
			t.Helper()
			ctx := context.Background()
			c := s3Client(cfg)
			tags, terr := c.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: aws.String(name)})
			var tagSet any
			if terr == nil {
				tagSet = tags.TagSet
			}
			pab, perr := c.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: aws.String(name)})
			var block any
			if perr == nil {
				block = pab.PublicAccessBlockConfiguration
			}
			notif, err := c.GetBucketNotificationConfiguration(ctx, &s3.GetBucketNotificationConfigurationInput{Bucket: aws.String(name)})
			if err != nil {
				t.Fatal(err)
			}
			objs, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(name)})
			if err != nil {
				t.Fatal(err)
			}
			var keys []string
			for _, o := range objs.Contents {
				keys = append(keys, aws.ToString(o.Key)+" "+aws.ToString(o.ETag))
			}
			return mustJSON(t, map[string]any{"tags": tagSet, "tagsErr": errText(terr), "block": block, "blockErr": errText(perr), "notification": notif, "objects": keys})
		},
	},
	{
		addr: "table.items/aws_dynamodb_table.main",
		make: func(t *testing.T, cfg aws.Config, name string) {
			_, err := dynamodb.NewFromConfig(cfg).CreateTable(context.Background(), &dynamodb.CreateTableInput{
				TableName: aws.String(name), BillingMode: ddbtypes.BillingModePayPerRequest,
				KeySchema: []ddbtypes.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: ddbtypes.KeyTypeHash}, {AttributeName: aws.String("sk"), KeyType: ddbtypes.KeyTypeRange}},
				AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: ddbtypes.ScalarAttributeTypeS},
					{AttributeName: aws.String("sk"), AttributeType: ddbtypes.ScalarAttributeTypeN}},
			})
			if err != nil {
				t.Fatal(err)
			}
		},
		snapshot: func(t *testing.T, cfg aws.Config, name string) string {
			t.Helper()
			ctx := context.Background()
			c := dynamodb.NewFromConfig(cfg)
			out, err := c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
			if err != nil {
				t.Fatal(err)
			}
			again, err := c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
			if err != nil {
				t.Fatal(err)
			}
			if aws.ToString(again.Table.TableId) != aws.ToString(out.Table.TableId) {
				out.Table.TableId = nil // kumo gap: a new TableId in every DescribeTable answer
			}
			tags, err := c.ListTagsOfResource(ctx, &dynamodb.ListTagsOfResourceInput{ResourceArn: out.Table.TableArn})
			var tagList any
			if err == nil {
				tagList = tags.Tags
			}
			ttl, terr := c.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(name)})
			var ttlDesc any
			if terr == nil {
				ttlDesc = ttl.TimeToLiveDescription
			}
			return mustJSON(t, map[string]any{"table": out.Table, "tags": tagList, "tagsErr": errText(err), "ttl": ttlDesc})
		},
	},
}

func fnName(s string) *string { return aws.String(s) }

func s3Client(cfg aws.Config) *s3.Client {
	return s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
}

// TestE2EForeignResourcesUntouched: a function, role, queue, bucket and table
// made by hand under the names evdeploy would use each stop apply (exit 1)
// with an error naming the resource and its physical name and the ways
// forward, and each is exactly as it was afterwards — and after a destroy.
// On kumo and on moto.
func TestE2EForeignResourcesUntouched(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	for _, e := range emulators {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			testForeignResources(t, e.url(t))
		})
	}
}

func testForeignResources(t *testing.T, endpoint string) {
	cfg := sdkConfig(endpoint)
	for _, fc := range foreignCases {
		t.Run(fc.addr, func(t *testing.T) {
			dir := ownProject(t)
			stage := uniqueStage("o")
			args := []string{"-C", dir, "--stage", stage, "--target", "local", "--endpoint", endpoint}
			name := physicalNames(t, args...)[fc.addr]
			if name == "" {
				t.Fatalf("no physical name for %s in the plan", fc.addr)
			}
			fc.make(t, cfg, name)
			before := fc.snapshot(t, cfg, name)

			r := mustEvd(t, 1, append([]string{"apply", "--auto-approve"}, args...)...)
			for _, want := range []string{fc.addr, fmt.Sprintf("%q already exists and evdeploy did not make it", name),
				"set name =", "evdeploy import " + fc.addr} {
				if !strings.Contains(r.errOut, want) {
					t.Errorf("apply's error does not say %q:\n%s", want, r.errOut)
				}
			}
			if d := cmp.Diff(before, fc.snapshot(t, cfg, name)); d != "" {
				t.Errorf("%s (%s) changed by apply (-before +after):\n%s", fc.addr, name, d)
			}
			if s := readStateFile(t, dir, stage); strings.Contains(s, `"addr": "`+fc.addr+`"`) {
				t.Errorf("%s was recorded in state", fc.addr)
			}

			// Destroy removes what evdeploy made, and nothing of the other.
			mustEvd(t, 0, append([]string{"destroy", "--auto-approve", "--allow-data-loss"}, args...)...)
			if d := cmp.Diff(before, fc.snapshot(t, cfg, name)); d != "" {
				t.Errorf("%s (%s) changed by destroy (-before +after):\n%s", fc.addr, name, d)
			}
		})
	}
}

func readStateFile(t *testing.T, dir, stage string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, ".evdeploy", "state", stage+".json"))
	if os.IsNotExist(err) {
		return ""
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestE2EImport: a hand-made function and queue that stop apply are adopted
// on purpose with `evdeploy import`: tagged as this deployment's and recorded,
// nothing else changed; the next plan shows exactly what brings them to the
// spec, apply does it, and the plan after is clean. Another stage's import of
// the same function is refused: its tags name this stage.
func TestE2EImport(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	for _, e := range emulators {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			testImport(t, e.url(t))
		})
	}
}

func testImport(t *testing.T, endpoint string) {
	cfg := sdkConfig(endpoint)
	ctx := context.Background()
	dir := ownProject(t)
	stage := uniqueStage("i")
	args := []string{"-C", dir, "--stage", stage, "--target", "local", "--endpoint", endpoint}
	names := physicalNames(t, args...)
	fnAddr, qAddr := "function.sweeper/aws_lambda_function.main", "queue.jobs/aws_sqs_queue.main"
	fn, q := names[fnAddr], names[qAddr]
	foreignCases[0].make(t, cfg, fn)
	foreignCases[2].make(t, cfg, q)
	mustEvd(t, 1, append([]string{"apply", "--auto-approve"}, args...)...)

	r := mustEvd(t, 1, append([]string{"import", "function.sweeper", fn}, args...)...)
	if !strings.Contains(r.errOut, fnAddr) {
		t.Errorf("import of a block address does not list its resources:\n%s", r.errOut)
	}
	mustEvd(t, 1, append([]string{"import", fnAddr, fn + "-nope"}, args...)...)

	mustEvd(t, 0, append([]string{"import", fnAddr, fn}, args...)...)
	mustEvd(t, 0, append([]string{"import", qAddr, q}, args...)...)
	r = mustEvd(t, 1, append([]string{"import", qAddr, q}, args...)...)
	if !strings.Contains(r.errOut, "import refused: state already records it") {
		t.Errorf("a second import is not refused as already recorded:\n%s", r.errOut)
	}

	// Tagged, and otherwise as it was.
	lc := lambda.NewFromConfig(cfg)
	conf, err := lc.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(fn)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(conf.Handler) != "other.run" || aws.ToInt32(conf.MemorySize) != 1024 {
		t.Errorf("import changed the function: handler %s, memory %d", aws.ToString(conf.Handler), aws.ToInt32(conf.MemorySize))
	}
	tags, err := lc.ListTags(ctx, &lambda.ListTagsInput{Resource: conf.FunctionArn})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"evdeploy:app": "own", "evdeploy:stage": stage, "evdeploy:block": "function.sweeper"}
	for k, v := range want {
		if tags.Tags[k] != v {
			t.Errorf("function tag %s = %q, want %q", k, tags.Tags[k], v)
		}
	}

	// The next plan brings both to the spec.
	got := planChanges(t, args...)
	fnChange := ""
	for _, c := range got {
		if strings.HasPrefix(c, fnAddr+" update ") {
			fnChange = c
		}
	}
	// What the hand-made function differs in; the emulators differ in
	// what else they report (kumo reports neither ephemeral storage nor
	// tracing, so evdeploy sets them).
	for _, attr := range []string{"code_sha256", "environment", "handler", "memory", "role"} {
		if !strings.Contains(","+strings.TrimPrefix(fnChange, fnAddr+" update ")+",", ","+attr+",") {
			t.Errorf("plan after import does not update the function's %s:\n%s", attr, strings.Join(got, "\n"))
		}
	}
	if !contains(got, qAddr+" update message_retention,visibility_timeout") {
		t.Errorf("plan after import lacks the queue's update:\n%s", strings.Join(got, "\n"))
	}
	mustEvd(t, 0, append([]string{"apply", "--auto-approve"}, args...)...)
	mustEvd(t, 0, append([]string{"plan", "--detailed-exitcode"}, args...)...)

	// Another stage's import of this stage's function is refused.
	other := []string{"-C", dir, "--stage", stage + "x", "--target", "local", "--endpoint", endpoint}
	r = mustEvd(t, 1, append([]string{"import", fnAddr, fn}, other...)...)
	if !strings.Contains(r.errOut, "import refused") || !strings.Contains(r.errOut, `evdeploy:stage="`+stage+`"`) {
		t.Errorf("another stage's import is not refused with the owner named:\n%s", r.errOut)
	}
	mustEvd(t, 0, append([]string{"destroy", "--auto-approve", "--allow-data-loss"}, args...)...)
}
