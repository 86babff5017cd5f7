package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/google/go-cmp/cmp"
	"github.com/sivchari/kumo"

	"github.com/evdeploy/evdeploy/internal/apicalls"
	awsprov "github.com/evdeploy/evdeploy/providers/aws"
	"github.com/evdeploy/evdeploy/state"
)

// s3StateSizes are the app sizes BenchmarkS3State runs.
var s3StateSizes = []int{100, 1000}

// BenchmarkS3State applies the n-function app from empty with its state in
// S3 (backend "s3", on the emulator), counts the bytes uploaded to the state's
// keys (the document, its change objects; not the lock), and compares them to
// the final document's size. It prints per size:
//
//	s3state N=<n> uploaded=<bytes> final=<bytes> ratio=<uploaded/final> equal-to-local=<bool>
//
// and checks that the state read back equals the local backend's state for
// the same app applied to a second emulator.
func BenchmarkS3State(b *testing.B) {
	bin, emu := setup(b)
	for _, n := range s3StateSizes {
		b.Run(fmt.Sprintf("functions=%d", n), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				r := s3StateRun(b, bin, emu, n)
				fmt.Printf("s3state N=%d uploaded=%d final=%d ratio=%.2f equal-to-local=%v\n", n, r.uploaded, r.final, float64(r.uploaded)/float64(r.final), r.equal)
				b.ReportMetric(float64(r.uploaded)/float64(r.final), "uploaded/final")
				if !r.equal {
					b.Error("the state read back from S3 differs from the local backend's")
				}
			}
			b.ReportMetric(0, "ns/op")
		})
	}
}

// TestS3StateMatchesLocal is the small case of BenchmarkS3State in the test
// suite: 20 functions (161 resources), state in S3 on the emulator.
func TestS3StateMatchesLocal(t *testing.T) {
	if testing.Short() {
		t.Skip("builds evdeploy")
	}
	bin, emu := setup(t)
	r := s3StateRun(t, bin, emu, 20)
	t.Logf("uploaded %d bytes for a %d-byte state (%.2f×)", r.uploaded, r.final, float64(r.uploaded)/float64(r.final))
	if !r.equal {
		t.Error("the state read back from S3 differs from the local backend's")
	}
	if ratio := float64(r.uploaded) / float64(r.final); ratio > 3 {
		t.Errorf("uploaded %.2f× the final state, want ≤ 3×", ratio)
	}
}

type s3StateResult struct {
	uploaded, final int64
	equal           bool
}

func s3StateRun(tb testing.TB, bin, emu string, n int) s3StateResult {
	tb.Helper()
	ctx := context.Background()
	stage := fmt.Sprintf("s%d", stageSeq.Add(1))
	bucket := "evdeploy-bench-state-" + stage
	key := "bench/" + stage + ".json"
	cfg := aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(emu),
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")}
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bucket}); err != nil {
		tb.Fatal(err)
	}
	c := apicalls.NewCounter(emu)
	defer c.Close()

	// The app with its state in S3.
	dir := project(tb, n)
	spec := filepath.Join(dir, "evdeploy.evd.hcl")
	src, err := os.ReadFile(spec)
	must(tb, err)
	must(tb, os.WriteFile(spec, []byte(strings.Replace(string(src), `app "bench" {}`,
		fmt.Sprintf("app \"bench\" {\n  backend \"s3\" {\n    bucket = %q\n    key    = %q\n  }\n}", bucket, key), 1)), 0o644))
	evd(tb, bin, 0, "", "apply", "--auto-approve", "-C", dir, "--stage", stage, "--target", "local", "--endpoint", c.URL)
	var r s3StateResult
	for op, nb := range c.Bytes() {
		if strings.HasPrefix(op, "PUT /"+bucket+"/"+key) && !strings.HasSuffix(op, ".lock") {
			r.uploaded += nb
		}
	}
	out, err := s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: &key})
	if err != nil {
		tb.Fatal(err)
	}
	final, err := readBody(out)
	must(tb, err)
	r.final = int64(len(final))
	fromS3, err := state.NewS3(awsprov.NewS3StateStore(cfg, bucket), bucket, key).Read(ctx)
	must(tb, err)

	// The same app and folder with local state, on a second emulator (the
	// names are the same, so it cannot share the first).
	must(tb, os.WriteFile(spec, src, 0o644))
	evd(tb, bin, 0, "", "apply", "--auto-approve", "-C", dir, "--stage", stage, "--target", "local", "--endpoint", kumo.NewServer().URL)
	fromLocal, err := state.NewLocal(dir, stage).Read(ctx)
	must(tb, err)
	r.equal = sameState(tb, fromLocal, fromS3)
	return r
}

func readBody(out *s3.GetObjectOutput) ([]byte, error) {
	defer out.Body.Close()
	var sb strings.Builder
	buf := make([]byte, 64<<10)
	for {
		k, err := out.Body.Read(buf)
		sb.Write(buf[:k])
		if err != nil {
			if err.Error() == "EOF" {
				return []byte(sb.String()), nil
			}
			return nil, err
		}
	}
}

// sameState compares two stages' states resource by resource, leaving out
// what the emulator assigns afresh on each create (ids such as a mapping's
// UUID, timestamps) and what names the target.
func sameState(tb testing.TB, a, b *state.Document) bool {
	tb.Helper()
	if a == nil || b == nil {
		tb.Errorf("state missing: local %v, s3 %v", a != nil, b != nil)
		return false
	}
	diff := cmp.Diff(a.Resources, b.Resources, cmp.FilterPath(func(p cmp.Path) bool {
		s := p.String()
		return strings.HasSuffix(s, ".ID") || strings.Contains(s, "uuid") || strings.Contains(s, "last_modified") || strings.Contains(s, "revision_id") ||
			strings.Contains(fmt.Sprint(p.Last()), "AWS_ENDPOINT_URL")
	}, cmp.Ignore()))
	if diff != "" || len(a.Journal) != 0 || len(b.Journal) != 0 || !cmp.Equal(a.Outputs, b.Outputs) {
		tb.Logf("local and S3 states differ (-local +s3):\n%s\njournals %v %v", diff, a.Journal, b.Journal)
		return false
	}
	return true
}
