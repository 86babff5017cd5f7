package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/evdeploy/evdeploy/state"
)

// With `backend "s3"`, state lives in the bucket (one object per stage), the
// lock is released after each command, and nothing is written locally.
func TestS3Backend(t *testing.T) {
	emu := emulator(t)
	ctx := context.Background()
	client := s3.NewFromConfig(sdkConfig(emu), func(o *s3.Options) { o.UsePathStyle = true })
	bucket := "evdeploy-state-" + strings.ToLower(uniqueStage("b"))
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	spec := `app "remote" {
  backend "s3" {
    bucket = "` + bucket + `"
    key    = "remote/${var.stage}.json"
  }
}

variable "stage" {}

queue "jobs" {}
`
	if err := os.WriteFile(filepath.Join(dir, "evdeploy.evd.hcl"), []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	stage := uniqueStage("s")
	common := []string{"-C", dir, "--stage", stage, "--target", "local", "--endpoint", emu}
	key := "remote/" + stage + ".json"

	mustEvd(t, 0, append([]string{"apply", "--auto-approve"}, common...)...)
	obj, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("state object s3://%s/%s: %v", bucket, key, err)
	}
	defer obj.Body.Close()
	data, err := io.ReadAll(obj.Body)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := state.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(doc.Resources) != 1 || doc.Resources[0].Addr != "queue.jobs/aws_sqs_queue.main" || doc.Stage != stage {
		t.Errorf("state in S3 = %+v", doc)
	}
	if _, err := client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key + ".lock")}); err == nil {
		t.Error("the lock object is still there after apply")
	}
	if _, err := os.Stat(filepath.Join(dir, ".evdeploy", "state")); !os.IsNotExist(err) {
		t.Errorf("a local state folder was written: %v", err)
	}
	mustEvd(t, 0, append([]string{"plan", "--detailed-exitcode"}, common...)...)
	list := mustEvd(t, 0, append([]string{"state", "list"}, common...)...)
	if !strings.Contains(list.out, "queue.jobs/aws_sqs_queue.main") {
		t.Errorf("state list = %q", list.out)
	}
	mustEvd(t, 0, append([]string{"destroy", "--auto-approve", "--allow-data-loss"}, common...)...)
}
