package aws

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/google/go-cmp/cmp"
	"github.com/sivchari/kumo"

	"github.com/evdeploy/evdeploy/internal/motoserver"
	"github.com/evdeploy/evdeploy/planner"
)

// emulatorURL is the kumo server every test in this package talks to. All kumo
// servers in one process share state, so one server is enough and every test
// uses its own resource names (uniqueName).
var emulatorURL string

func TestMain(m *testing.M) {
	srv := kumo.NewServer()
	emulatorURL = srv.URL
	code := motoserver.Main(m)
	srv.Close()
	os.Exit(code)
}

// testConfig is an aws.Config aimed at the emulator with test credentials.
func testConfig(t testing.TB) aws.Config {
	t.Helper()
	return aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String(emulatorFor(t)),
	}
}

var nameSeq atomic.Int64

// uniqueName gives each test its own physical names in the shared emulator.
func uniqueName(prefix string) string {
	return fmt.Sprintf("%s-%d-%d", prefix, os.Getpid()%10000, nameSeq.Add(1))
}

func testContext(t testing.TB) context.Context {
	t.Helper()
	return t.Context()
}

// assertUpdated updates id from prior to desired and checks that Update's
// answer and a Read after it are both want; it returns what Read answered.
func assertUpdated(t *testing.T, ctx context.Context, h planner.Handler, id string, prior, desired, want planner.Attrs) planner.Attrs {
	t.Helper()
	after, err := h.Update(ctx, id, prior, desired)
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	if d := cmp.Diff(want, after); d != "" {
		t.Errorf("Update (-want +got):\n%s", d)
	}
	got, _, err := h.Read(ctx, id, nil)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Read after Update (-want +got):\n%s", d)
	}
	return got
}

// assertDeletedForGood deletes a resource, checks that Read then reports it
// gone (not an error), and that deleting it again succeeds: the Handler
// contract every type keeps.
func assertDeletedForGood(t *testing.T, ctx context.Context, h planner.Handler, id string, prior planner.Attrs) {
	t.Helper()
	if err := h.Delete(ctx, id, prior); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, exists, err := h.Read(ctx, id, nil); err != nil || exists {
		t.Fatalf("Read after Delete = %v, %v", exists, err)
	}
	if err := h.Delete(ctx, id, prior); err != nil {
		t.Errorf("second Delete: %v", err)
	}
}
