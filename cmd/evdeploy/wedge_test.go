package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/google/go-cmp/cmp"
)

// TestFaultLostCreateBucketAnswer plays the sequence the soak found wedging a
// bucket: S3 carries out CreateBucket and its answer is lost; every retry of
// CreateBucket is throttled, so the SDK gives up and the executor retries the
// Create, whose pre-create check now finds the bucket the first attempt made —
// untagged, as tags come in a second call. That bucket is this apply's own:
// apply must adopt it, tag it and exit 0 (not call it someone else's and clear
// the journal), the next plan is clean, and destroy removes it.
func TestFaultLostCreateBucketAnswer(t *testing.T) {
	if testing.Short() {
		t.Skip("fault injection")
	}
	bin := evdeployBinary(t)
	emu := emulator(t)
	u, _ := url.Parse(emu)
	proxy := httputil.NewSingleHostReverseProxy(u)
	var mu sync.Mutex
	creates := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// CreateBucket, path-style: PUT /<bucket>, no sub-resource query.
		create := r.Method == http.MethodPut && r.URL.RawQuery == "" &&
			strings.Count(strings.Trim(r.URL.Path, "/"), "/") == 0 && strings.Contains(r.URL.Path, "-files")
		if create {
			mu.Lock()
			creates++
			n := creates
			mu.Unlock()
			if n == 1 {
				// Carried out, answer lost.
				proxy.ServeHTTP(httptest.NewRecorder(), r)
				if hj, ok := w.(http.Hijacker); ok {
					if conn, _, err := hj.Hijack(); err == nil {
						conn.Close()
						return
					}
				}
				t.Error("cannot drop the connection")
				return
			}
			throttle(w, r)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)

	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "evdeploy.evd.hcl"), []byte("app \"crash\" {}\n\nbucket \"files\" {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	stage := uniqueStage("w")
	args := []string{"-C", dir, "--stage", stage, "--target", "local", "--endpoint", srv.URL}
	runBin(t, bin, 0, append([]string{"apply", "--auto-approve"}, args...)...)
	mu.Lock()
	if creates < 2 {
		t.Errorf("%d CreateBucket calls reached the proxy, want the lost one and at least one retry", creates)
	}
	mu.Unlock()
	runBin(t, bin, 0, append([]string{"plan", "--detailed-exitcode"}, args...)...)

	deployed := stateResources(t, filepath.Join(dir, ".evdeploy", "state", stage+".json"))
	if len(deployed) != 1 || deployed[0].Type != "aws_s3_bucket" {
		t.Fatalf("state = %+v, want the one bucket", deployed)
	}
	name := deployed[0].ID
	cfg := sdkConfig(emu)
	c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	out, err := c.GetBucketTagging(context.Background(), &s3.GetBucketTaggingInput{Bucket: aws.String(name)})
	if err != nil {
		t.Fatalf("bucket %s tags: %v", name, err)
	}
	got := map[string]string{}
	for _, tg := range out.TagSet {
		if k := aws.ToString(tg.Key); strings.HasPrefix(k, "evdeploy:") {
			got[k] = aws.ToString(tg.Value)
		}
	}
	want := map[string]string{"evdeploy:app": "crash", "evdeploy:stage": stage, "evdeploy:block": "bucket.files"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ownership tags of the adopted bucket (-want +got):\n%s", diff)
	}

	runBin(t, bin, 0, append([]string{"destroy", "--auto-approve", "--allow-data-loss"}, args...)...)
	if exists, err := resourceExists(context.Background(), cfg, deployed[0]); err != nil || exists {
		t.Errorf("bucket %s after destroy: exists=%v err=%v", name, exists, err)
	}
}
