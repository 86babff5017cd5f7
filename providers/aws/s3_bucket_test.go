package aws

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/google/go-cmp/cmp"

	"github.com/evdeploy/evdeploy/planner"
)

func TestS3BucketLifecycle(t *testing.T) { testS3BucketLifecycle(t, testConfig(t)) }

// testS3BucketLifecycle creates a bucket with versioning and a lifecycle
// rule, suspends versioning and swaps the rule, then removes both.
func testS3BucketLifecycle(t *testing.T, cfg aws.Config) {
	ctx := testContext(t)
	h := newS3Bucket(newClients(cfg))
	name := uniqueName("bucket")
	if _, exists, err := h.Read(ctx, name, nil); err != nil || exists {
		t.Fatalf("Read before Create = %v, %v", exists, err)
	}
	rule := func(prefix string, days int64) map[string]any {
		return map[string]any{"prefix": prefix, "expire_days": days}
	}
	desired := planner.Attrs{
		"name": name, "block_public_access": true, "tags": map[string]any{"evdeploy:app": "demo", "team": "a"},
		"versioning": true, "lifecycle_rules": map[string]any{"tmp": rule("tmp/", 7)},
	}
	id, created, err := h.Create(ctx, desired)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if id != name {
		t.Errorf("id = %q, want %q", id, name)
	}
	want := desired.Norm()
	want["arn"] = "arn:aws:s3:::" + name
	if d := cmp.Diff(want, created); d != "" {
		t.Errorf("Create (-want +got):\n%s", d)
	}
	got, exists, err := h.Read(ctx, id, nil)
	if err != nil || !exists {
		t.Fatalf("Read = %v, %v", exists, err)
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Read (-want +got):\n%s", d)
	}

	tests := []struct {
		name    string
		desired planner.Attrs
	}{
		{"tags changed, public access allowed, versioning suspended, rules swapped", planner.Attrs{
			"name": name, "block_public_access": false, "tags": map[string]any{"evdeploy:app": "demo", "env": "dev"},
			"versioning": false, "lifecycle_rules": map[string]any{"all": rule("", 365), "logs": rule("logs/", 30)},
		}},
		{"no tags, blocked again, no rules", planner.Attrs{"name": name, "block_public_access": true, "versioning": false, "lifecycle_rules": map[string]any{}}},
	}
	for _, tt := range tests {
		after, err := h.Update(ctx, id, got, tt.desired)
		if err != nil {
			t.Fatalf("%s: Update: %v", tt.name, err)
		}
		want := tt.desired.Norm()
		want["arn"] = "arn:aws:s3:::" + name
		if d := cmp.Diff(want, after); d != "" {
			t.Errorf("%s: Update (-want +got):\n%s", tt.name, d)
		}
		got, _, err = h.Read(ctx, id, nil)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("%s: Read after Update (-want +got):\n%s", tt.name, d)
		}
	}

	s := h.Schema()
	if !slices.Contains(s.ForceNew, "name") || !s.HoldsData {
		t.Errorf("schema %+v: want name ForceNew and HoldsData", s)
	}
	assertDeletedForGood(t, ctx, h, id, got)
}

func TestS3BucketDeleteNonEmpty(t *testing.T) {
	ctx := testContext(t)
	c := newClients(testConfig(t))
	h := newS3Bucket(c)
	name, _, err := h.Create(ctx, planner.Attrs{"name": uniqueName("bucket"), "block_public_access": true})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		_, err := c.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(name), Key: aws.String(fmt.Sprintf("k/%d", i)), Body: strings.NewReader("x")})
		if err != nil {
			t.Fatal(err)
		}
	}

	err = h.Delete(ctx, name, nil)
	if !errors.Is(err, errBucketNotEmpty) || !strings.Contains(err.Error(), "3 objects") || !strings.Contains(err.Error(), "--allow-data-loss") {
		t.Fatalf("Delete of a non-empty bucket without consent = %v, want a refusal naming 3 objects and --allow-data-loss", err)
	}
	if _, exists, err := h.Read(ctx, name, nil); err != nil || !exists {
		t.Fatalf("bucket gone after a refused Delete: %v, %v", exists, err)
	}

	if err := h.Delete(planner.WithAllowDataLoss(ctx), name, nil); err != nil {
		t.Fatalf("Delete with consent: %v", err)
	}
	if _, exists, err := h.Read(ctx, name, nil); err != nil || exists {
		t.Fatalf("Read after Delete = %v, %v", exists, err)
	}
}

func TestS3BucketErrors(t *testing.T) {
	ctx := testContext(t)
	h := newS3Bucket(newClients(testConfig(t)))
	name := uniqueName("bucket")
	if _, _, err := h.Create(ctx, planner.Attrs{"name": name}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Delete(ctx, name, nil) })
	if _, _, err := h.Create(ctx, planner.Attrs{"name": name}); !errors.Is(err, planner.ErrAlreadyExists) {
		t.Errorf("Create of an existing bucket = %v, want ErrAlreadyExists", err)
	}
}

func TestS3BucketMalformedName(t *testing.T) {
	ctx := testContext(t)
	h := newS3Bucket(newClients(testConfig(t)))
	name := "Bad_Bucket_" + strings.ReplaceAll(uniqueName("x"), "-", "_")
	_, _, err := h.Create(ctx, planner.Attrs{"name": name})
	if err == nil {
		// kumo gap: CreateBucket accepts names AWS rejects (InvalidBucketName).
		t.Logf("kumo gap: CreateBucket accepted the invalid name %q", name)
		h.Delete(ctx, name, nil)
		return
	}
	if errors.Is(err, planner.ErrThrottled) || errors.Is(err, planner.ErrAlreadyExists) {
		t.Errorf("invalid bucket name: Create = %v, want a non-retryable error", err)
	}
}

// Outside us-east-1 the bucket is created with its region as location
// constraint (AWS rejects the request otherwise).
func TestS3BucketOtherRegion(t *testing.T) {
	ctx := testContext(t)
	cfg := testConfig(t)
	cfg.Region = "eu-west-1"
	h := newS3Bucket(newClients(cfg))
	name, _, err := h.Create(ctx, planner.Attrs{"name": uniqueName("bucket"), "block_public_access": true})
	if err != nil {
		t.Fatalf("Create in eu-west-1: %v", err)
	}
	if err := h.Delete(ctx, name, nil); err != nil {
		t.Fatal(err)
	}
}

// Public access unblocked and tags removed outside evdeploy show in Read.
func TestS3BucketDrift(t *testing.T) {
	ctx := testContext(t)
	c := newClients(testConfig(t))
	h := newS3Bucket(c)
	name, _, err := h.Create(ctx, planner.Attrs{"name": uniqueName("bucket"), "block_public_access": true, "tags": map[string]any{"evdeploy:app": "demo"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Delete(ctx, name, nil) })
	if _, err := c.s3.DeletePublicAccessBlock(ctx, &s3.DeletePublicAccessBlockInput{Bucket: aws.String(name)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.s3.DeleteBucketTagging(ctx, &s3.DeleteBucketTaggingInput{Bucket: aws.String(name)}); err != nil {
		t.Fatal(err)
	}
	got, _, err := h.Read(ctx, name, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := planner.Attrs{"name": name, "arn": "arn:aws:s3:::" + name, "block_public_access": false, "versioning": false, "lifecycle_rules": map[string]any{}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Read after outside changes (-want +got):\n%s", d)
	}
}

// S3 throttles with 503 SlowDown in its XML error shape; the handler
// classifies it as retryable once the SDK gives up.
func TestS3BucketThrottled(t *testing.T) {
	ctx := testContext(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodHead { // HeadBucket: no such bucket yet
			w.WriteHeader(http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message><RequestId>fault</RequestId></Error>`)
	}))
	t.Cleanup(srv.Close)
	cfg := testConfig(t)
	cfg.BaseEndpoint = aws.String(srv.URL)
	cfg.RetryMaxAttempts = 1
	h := newS3Bucket(newClients(cfg))
	if _, _, err := h.Create(ctx, planner.Attrs{"name": uniqueName("bucket")}); !errors.Is(err, planner.ErrThrottled) {
		t.Errorf("throttled CreateBucket = %v, want ErrThrottled", err)
	}
}

// With consent, a versioned bucket is emptied of every version, not only of
// its current objects.
func TestS3BucketDeleteVersioned(t *testing.T) {
	ctx := testContext(t)
	c := newClients(testConfig(t))
	h := newS3Bucket(c)
	name, _, err := h.Create(ctx, planner.Attrs{"name": uniqueName("bucket"), "block_public_access": true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.s3.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{
		Bucket: aws.String(name), VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled},
	}); err != nil {
		t.Fatal(err)
	}
	for _, body := range []string{"v1", "v2"} {
		if _, err := c.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(name), Key: aws.String("k"), Body: strings.NewReader(body)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.Delete(ctx, name, nil); !errors.Is(err, errBucketNotEmpty) || !strings.Contains(err.Error(), "1 objects") {
		t.Fatalf("Delete without consent = %v, want a refusal naming 1 object", err)
	}
	if err := h.(*s3Bucket).empty(ctx, name); err != nil {
		t.Fatalf("empty: %v", err)
	}
	out, err := c.s3.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(out.Versions) + len(out.DeleteMarkers); n != 0 {
		t.Errorf("%d versions left after emptying", n)
	}
	if err := h.Delete(planner.WithAllowDataLoss(ctx), name, nil); err != nil {
		t.Fatalf("Delete with consent: %v", err)
	}
	if _, exists, err := h.Read(ctx, name, nil); err != nil || exists {
		t.Fatalf("Read after Delete = %v, %v", exists, err)
	}
}
