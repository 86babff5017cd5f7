package aws

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/google/go-cmp/cmp"

	"github.com/evdeploy/evdeploy/internal/motoserver"
	"github.com/evdeploy/evdeploy/planner"
)

const (
	fnArnA = "arn:aws:lambda:us-east-1:000000000000:function:a"
	fnArnB = "arn:aws:lambda:us-east-1:000000000000:function:b"
)

// testBucket creates a bucket deleted (with its objects) with the test.
func testBucket(ctx context.Context, t *testing.T, c *clients) string {
	t.Helper()
	h := newS3Bucket(c)
	name, _, err := h.Create(ctx, planner.Attrs{"name": uniqueName("bucket"), "block_public_access": true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Delete(planner.WithAllowDataLoss(context.Background()), name, nil) })
	return name
}

func TestS3BucketNotificationOwned(t *testing.T) {
	ctx := testContext(t)
	c := newClients(testConfig(t))
	h := newS3BucketNotification(c)
	bucket := testBucket(ctx, t, c)
	if _, exists, err := h.Read(ctx, bucket, nil); err != nil || exists {
		t.Fatalf("Read before Create = %v, %v", exists, err)
	}
	desired := planner.Attrs{"bucket": bucket, "owned": true, "lambda": []any{
		map[string]any{"id": "z-uploads", "function_arn": fnArnA, "events": []any{"s3:ObjectCreated:*"}, "prefix": "in/", "suffix": ".csv"},
		map[string]any{"id": "a-deletes", "function_arn": fnArnB, "events": []any{"s3:ObjectRemoved:*", "s3:ObjectRestore:Completed"}},
	}}
	id, created, err := h.Create(ctx, desired)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if id != bucket {
		t.Errorf("id = %q, want %q", id, bucket)
	}
	if d := cmp.Diff(desired.Norm(), created); d != "" {
		t.Errorf("Create (-want +got):\n%s", d)
	}
	// Read leaves out "owned" (evdeploy's setting, not S3's) and keeps the
	// applied order.
	want := desired.Norm()
	delete(want, "owned")
	got, exists, err := h.Read(ctx, id, created)
	if err != nil || !exists {
		t.Fatalf("Read = %v, %v", exists, err)
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Read (-want +got):\n%s", d)
	}

	update := planner.Attrs{"bucket": bucket, "owned": true, "lambda": []any{
		map[string]any{"id": "z-uploads", "function_arn": fnArnB, "events": []any{"s3:ObjectCreated:Put"}, "suffix": ".json"},
	}}
	after, err := h.Update(ctx, id, created, update)
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	if d := cmp.Diff(update.Norm(), after); d != "" {
		t.Errorf("Update (-want +got):\n%s", d)
	}
	want = update.Norm()
	delete(want, "owned")
	got, _, err = h.Read(ctx, id, after)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Read after Update (-want +got):\n%s", d)
	}

	if !slices.Contains(h.Schema().ForceNew, "bucket") {
		t.Errorf("bucket is not ForceNew")
	}
	if err := h.Delete(ctx, id, after); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, exists, err := h.Read(ctx, id, after); err != nil || exists {
		t.Fatalf("Read after Delete = %v, %v", exists, err)
	}
	if err := h.Delete(ctx, id, after); err != nil {
		t.Errorf("second Delete: %v", err)
	}
}

// On a bucket evdeploy does not own, its configurations are merged into the
// document by id and everyone else's are left alone.
func TestS3BucketNotificationMerged(t *testing.T) {
	ctx := testContext(t)
	c := newClients(testConfig(t))
	h := newS3BucketNotification(c)
	bucket := testBucket(ctx, t, c)
	theirs := s3types.LambdaFunctionConfiguration{
		Id: aws.String("theirs"), LambdaFunctionArn: aws.String("arn:aws:lambda:us-east-1:000000000000:function:other"),
		Events: []s3types.Event{"s3:ObjectCreated:*"},
		Filter: &s3types.NotificationConfigurationFilter{Key: &s3types.S3KeyFilter{FilterRules: []s3types.FilterRule{
			{Name: s3types.FilterRuleNamePrefix, Value: aws.String("theirs/")},
		}}},
	}
	queue := s3types.QueueConfiguration{
		Id: aws.String("their-queue"), QueueArn: aws.String("arn:aws:sqs:us-east-1:000000000000:q"),
		Events: []s3types.Event{"s3:ObjectRemoved:*"},
	}
	if _, err := c.s3.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{
		Bucket: aws.String(bucket),
		NotificationConfiguration: &s3types.NotificationConfiguration{
			LambdaFunctionConfigurations: []s3types.LambdaFunctionConfiguration{theirs},
			QueueConfigurations:          []s3types.QueueConfiguration{queue},
		},
	}); err != nil {
		t.Fatal(err)
	}
	// What is not ours: the foreign Lambda and queue configurations, by id.
	foreign := func(t *testing.T) []string {
		t.Helper()
		out, err := c.s3.GetBucketNotificationConfiguration(ctx, &s3.GetBucketNotificationConfigurationInput{Bucket: aws.String(bucket)})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, l := range out.LambdaFunctionConfigurations {
			if id := aws.ToString(l.Id); id == "theirs" {
				ids = append(ids, id)
			}
		}
		for _, q := range out.QueueConfigurations {
			ids = append(ids, aws.ToString(q.Id))
		}
		return ids
	}

	desired := planner.Attrs{"bucket": bucket, "owned": false, "lambda": []any{
		map[string]any{"id": "evdeploy-1", "function_arn": fnArnA, "events": []any{"s3:ObjectCreated:*"}, "prefix": "up/"},
	}}
	id, created, err := h.Create(ctx, desired)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if d := cmp.Diff([]string{"theirs", "their-queue"}, foreign(t)); d != "" {
		t.Errorf("foreign configurations after Create (-want +got):\n%s", d)
	}
	want := desired.Norm()
	delete(want, "owned")
	got, exists, err := h.Read(ctx, id, created)
	if err != nil || !exists {
		t.Fatalf("Read = %v, %v", exists, err)
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Read reports only ours (-want +got):\n%s", d)
	}

	// Replace our configuration by another id: the old one goes, theirs stay.
	update := planner.Attrs{"bucket": bucket, "owned": false, "lambda": []any{
		map[string]any{"id": "evdeploy-2", "function_arn": fnArnB, "events": []any{"s3:ObjectCreated:Put"}, "prefix": "ours/", "suffix": ".png"},
	}}
	after, err := h.Update(ctx, id, created, update)
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	want = update.Norm()
	delete(want, "owned")
	got, _, err = h.Read(ctx, id, after)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Read after Update (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{"theirs", "their-queue"}, foreign(t)); d != "" {
		t.Errorf("foreign configurations after Update (-want +got):\n%s", d)
	}

	if err := h.Delete(ctx, id, after); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, exists, err := h.Read(ctx, id, after); err != nil || exists {
		t.Fatalf("Read after Delete = %v, %v", exists, err)
	}
	if d := cmp.Diff([]string{"theirs", "their-queue"}, foreign(t)); d != "" {
		t.Errorf("foreign configurations after Delete (-want +got):\n%s", d)
	}
	if err := h.Delete(ctx, id, after); err != nil {
		t.Errorf("second Delete: %v", err)
	}

	// A configuration id someone else already uses is not taken over.
	clash := planner.Attrs{"bucket": bucket, "owned": false, "lambda": []any{
		map[string]any{"id": "theirs", "function_arn": fnArnA, "events": []any{"s3:ObjectCreated:*"}},
	}}
	if _, _, err := h.Create(ctx, clash); !errors.Is(err, planner.ErrAlreadyExists) {
		t.Errorf("Create over a foreign configuration id = %v, want ErrAlreadyExists", err)
	}
}

func TestS3BucketNotificationErrors(t *testing.T) {
	ctx := testContext(t)
	c := newClients(testConfig(t))
	h := newS3BucketNotification(c)
	bucket := testBucket(ctx, t, c)
	bad := []struct {
		name  string
		attrs planner.Attrs
	}{
		{"malformed function ARN", planner.Attrs{"bucket": bucket, "owned": true, "lambda": []any{
			map[string]any{"id": "x", "function_arn": "function-a", "events": []any{"s3:ObjectCreated:*"}}}}},
		{"no events", planner.Attrs{"bucket": bucket, "owned": true, "lambda": []any{
			map[string]any{"id": "x", "function_arn": fnArnA}}}},
		// S3 refuses two configurations whose filters overlap for one event.
		{"overlapping filters", planner.Attrs{"bucket": bucket, "owned": true, "lambda": []any{
			map[string]any{"id": "x", "function_arn": fnArnA, "events": []any{"s3:ObjectCreated:*"}, "prefix": "a/"},
			map[string]any{"id": "y", "function_arn": fnArnB, "events": []any{"s3:ObjectCreated:Put"}}}}},
		{"duplicate id", planner.Attrs{"bucket": bucket, "owned": true, "lambda": []any{
			map[string]any{"id": "x", "function_arn": fnArnA, "events": []any{"s3:ObjectCreated:*"}},
			map[string]any{"id": "x", "function_arn": fnArnB, "events": []any{"s3:ObjectCreated:*"}}}}},
	}
	for _, tt := range bad {
		_, _, err := h.Create(ctx, tt.attrs)
		switch {
		case err == nil && tt.name == "overlapping filters" && gap(t, "moto", "PutBucketNotificationConfiguration accepts overlapping filters (AWS: InvalidArgument)"):
		case err == nil || errors.Is(err, planner.ErrThrottled):
			t.Errorf("%s: Create = %v, want a non-retryable error", tt.name, err)
		}
	}
	if err := h.Delete(ctx, bucket, nil); err == nil {
		t.Errorf("Delete without the applied attributes succeeded; it cannot know which configurations are its own")
	}

	missing := uniqueName("nobucket")
	_, _, err := h.Create(ctx, planner.Attrs{"bucket": missing, "owned": true, "lambda": []any{
		map[string]any{"id": "x", "function_arn": fnArnA, "events": []any{"s3:ObjectCreated:*"}}}})
	if err == nil {
		// kumo gap: PutBucketNotificationConfiguration accepts a missing
		// bucket (AWS: NoSuchBucket).
		t.Logf("%s gap: notification accepted for the missing bucket %s", emulatorName(t), missing)
	} else if errors.Is(err, planner.ErrThrottled) {
		t.Errorf("notification on a missing bucket: %v, want a non-retryable error", err)
	}
	if _, exists, err := h.Read(ctx, missing, nil); err != nil || exists {
		t.Errorf("Read on a missing bucket = %v, %v, want gone", exists, err)
	}
}

// A configuration of ours removed outside evdeploy (the document rewritten)
// reads as gone; one changed reads with the change.
func TestS3BucketNotificationDrift(t *testing.T) {
	ctx := testContext(t)
	c := newClients(testConfig(t))
	h := newS3BucketNotification(c)
	bucket := testBucket(ctx, t, c)
	id, created, err := h.Create(ctx, planner.Attrs{"bucket": bucket, "owned": true, "lambda": []any{
		map[string]any{"id": "up", "function_arn": fnArnA, "events": []any{"s3:ObjectCreated:*"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	put := func(cfgs ...s3types.LambdaFunctionConfiguration) {
		t.Helper()
		if _, err := c.s3.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{
			Bucket: aws.String(bucket), NotificationConfiguration: &s3types.NotificationConfiguration{LambdaFunctionConfigurations: cfgs},
		}); err != nil {
			t.Fatal(err)
		}
	}
	put(s3types.LambdaFunctionConfiguration{Id: aws.String("up"), LambdaFunctionArn: aws.String(fnArnB), Events: []s3types.Event{"s3:ObjectCreated:Put"}})
	got, exists, err := h.Read(ctx, id, created)
	if err != nil || !exists {
		t.Fatalf("Read = %v, %v", exists, err)
	}
	want := planner.Attrs{"bucket": bucket, "lambda": []any{
		map[string]any{"id": "up", "function_arn": fnArnB, "events": []any{"s3:ObjectCreated:Put"}},
	}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Read after an outside change (-want +got):\n%s", d)
	}
	put()
	if _, exists, err := h.Read(ctx, id, created); err != nil || exists {
		t.Errorf("Read after the document was cleared = %v, %v, want gone", exists, err)
	}
}

// TestS3BucketNotificationRoutes: one owned document holds a trigger's
// Lambda configuration and routes' queue and topic configurations; removing
// a route removes exactly its configuration. On both emulators (kumo, like
// AWS here, does not check that it may deliver; moto neither).
func TestS3BucketNotificationRoutes(t *testing.T) {
	for _, emu := range []struct {
		name string
		cfg  func(t *testing.T) aws.Config
	}{
		{"kumo", func(t *testing.T) aws.Config { return testConfig(t) }},
		{"moto", func(t *testing.T) aws.Config { return motoserver.Config(t) }},
	} {
		t.Run(emu.name, func(t *testing.T) {
			ctx := testContext(t)
			c := newClients(emu.cfg(t))
			h := newS3BucketNotification(c)
			bucket := testBucket(ctx, t, c)
			queues, topics := newSQSQueue(c), newSNSTopic(c)
			url, q, err := queues.Create(ctx, planner.Attrs{"name": uniqueName("all")})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { queues.Delete(planner.WithAllowDataLoss(ctx), url, nil) })
			topic, _, err := topics.Create(ctx, planner.Attrs{"name": uniqueName("alerts")})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { topics.Delete(ctx, topic, nil) })

			desired := planner.Attrs{"bucket": bucket, "owned": true,
				"queue": []any{map[string]any{"id": "evdeploy-uploads-route", "queue_arn": q.String("arn"), "events": []any{"s3:ObjectCreated:*"}, "prefix": "in/"}},
				"topic": []any{map[string]any{"id": "evdeploy-removed-route", "topic_arn": topic, "events": []any{"s3:ObjectRemoved:*"}}},
			}
			if emu.name == "kumo" {
				// moto checks that a Lambda destination exists; kumo does not.
				desired["lambda"] = []any{map[string]any{"id": "evdeploy-thumbs", "function_arn": fnArnA, "events": []any{"s3:ObjectCreated:*"}, "prefix": "img/"}}
			}
			id, created, err := h.Create(ctx, desired)
			if err != nil {
				t.Fatalf("Create: %v", err)
			}
			if d := cmp.Diff(desired.Norm(), created); d != "" {
				t.Errorf("Create (-want +got):\n%s", d)
			}
			want := desired.Norm()
			delete(want, "owned")
			got, exists, err := h.Read(ctx, id, created)
			if err != nil || !exists {
				t.Fatalf("Read = %v, %v", exists, err)
			}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("Read (-want +got):\n%s", d)
			}
			// The topic route is removed: only its configuration goes.
			next := desired.Norm()
			delete(next, "topic")
			after, err := h.Update(ctx, id, created, next)
			if err != nil {
				t.Fatalf("Update: %v", err)
			}
			got, _, err = h.Read(ctx, id, after)
			if err != nil {
				t.Fatal(err)
			}
			want = next.Norm()
			delete(want, "owned")
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("Read after removing the topic route (-want +got):\n%s", d)
			}
			assertDeletedForGood(t, ctx, h, id, after)
		})
	}
}
