package main

import (
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// A package over Lambda's 50 MB direct-upload limit goes through the app's
// artifacts bucket: apply creates the bucket, stages the zip under a
// content-addressed key and points the function at it; destroy empties and
// deletes the bucket after the function.
func TestE2ELargePackage(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	emu := emulator(t)
	dir := t.TempDir()
	fn := filepath.Join(dir, "fn")
	if err := os.MkdirAll(fn, 0o755); err != nil {
		t.Fatal(err)
	}
	// Random bytes do not compress: the zip stays over the limit.
	blob := make([]byte, 51<<20)
	if _, err := rand.Read(blob); err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{
		"evdeploy.evd.hcl": []byte("app \"big\" {}\n\nfunction \"model\" {\n  runtime = \"python3.12\"\n  source  = \"./fn\"\n  handler = \"main.handler\"\n}\n"),
		"fn/main.py":       []byte("def handler(event, context):\n    return None\n"),
		"fn/weights.bin":   blob,
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), body, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	stage := uniqueStage("z")
	common := []string{"-C", dir, "--stage", stage, "--target", "local", "--endpoint", emu}
	plan := planChanges(t, common...)
	if !contains(plan, "app.big/aws_s3_bucket.artifacts create") {
		t.Fatalf("the plan has no artifacts bucket:\n%s", strings.Join(plan, "\n"))
	}
	mustEvd(t, 0, append([]string{"apply", "--auto-approve"}, common...)...)

	ctx := context.Background()
	cfg := sdkConfig(emu)
	got, err := lambda.NewFromConfig(cfg).GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("big-" + stage + "-model")})
	if err != nil {
		t.Fatal(err)
	}
	_ = got // kumo gap: an S3-sourced package is not fetched, so CodeSha256 is not the zip's.
	doc := stateResources(t, filepath.Join(dir, ".evdeploy", "state", stage+".json"))
	var bucket, key string
	for _, r := range doc {
		if r.Type == "aws_lambda_function" {
			bucket, _ = r.Attrs["s3_bucket"].(string)
			key, _ = r.Attrs["s3_key"].(string)
		}
	}
	if bucket == "" || !regexp.MustCompile(`^functions/[0-9a-f]{64}\.zip$`).MatchString(key) {
		t.Fatalf("function state has s3_bucket=%q s3_key=%q", bucket, key)
	}
	client := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	head, err := client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("the package is not staged at s3://%s/%s: %v", bucket, key, err)
	}
	if aws.ToInt64(head.ContentLength) <= 50<<20 {
		t.Errorf("staged package is %d bytes, expected over the 50 MB limit", aws.ToInt64(head.ContentLength))
	}

	mustEvd(t, 0, append([]string{"destroy", "--auto-approve", "--allow-data-loss"}, common...)...)
	if _, err := client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(bucket)}); err == nil {
		t.Errorf("the artifacts bucket %s is left after destroy", bucket)
	}
}
