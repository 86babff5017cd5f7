package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"

	"github.com/evdeploy/evdeploy/localstack"
)

// TestE2EFanOutDelivers scaffolds the fan-out template, deploys it to the
// embedded engine on a free port, publishes two orders to the topic — one
// express, one not — and watches both workers' effects: every order is
// invoiced (through the unfiltered route, SNS envelope), only the express one
// is dispatched (through the filtered, raw route).
func TestE2EFanOutDelivers(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	port := localEngineUp(t)
	endpoint := fmt.Sprintf("http://127.0.0.1:%d", port)
	dir := filepath.Join(t.TempDir(), "fanout")
	mustEvd(t, 0, "init", "--template", "fan-out", dir)
	// The engine runs bootstraps built for this machine only.
	arch := map[string]string{"amd64": "x86_64", "arm64": "arm64"}[runtime.GOARCH]
	specFile := filepath.Join(dir, "evdeploy.evd.hcl")
	b := readFile(t, specFile)
	for _, fn := range []string{"invoice", "dispatch"} {
		old := fmt.Sprintf("function %q {\n", fn)
		b = bytes.Replace(b, []byte(old), []byte(old+fmt.Sprintf("  architecture = %q\n", arch)), 1)
	}
	if err := os.WriteFile(specFile, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := runLocal(t, "apply", "--auto-approve", "-C", dir, "--target", "local"); code != 0 {
		t.Fatalf("apply: exit %d\n%s%s", code, out, errOut)
	}
	t.Cleanup(func() {
		runLocal(t, "destroy", "--auto-approve", "--allow-data-loss", "-C", dir, "--target", "local")
	})
	if code, out, errOut := runLocal(t, "plan", "--detailed-exitcode", "-C", dir, "--target", "local"); code != 0 {
		t.Errorf("plan after apply: exit %d\n%s%s", code, out, errOut)
	}

	cfg, err := (&localstack.Target{Endpoint: endpoint, Region: "us-east-1"}).AWSConfig(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	app := filepath.Base(dir)
	topic := fmt.Sprintf("arn:aws:sns:us-east-1:000000000000:%s-dev-orders", app)
	snc := sns.NewFromConfig(cfg)
	for _, o := range []struct{ id, shipping string }{{"o-express", "express"}, {"o-standard", "standard"}} {
		if _, err := snc.Publish(t.Context(), &sns.PublishInput{
			TopicArn: aws.String(topic),
			Message:  aws.String(fmt.Sprintf(`{"order_id":%q,"customer":"ada","total_cents":1299}`, o.id)),
			MessageAttributes: map[string]snstypes.MessageAttributeValue{
				"shipping": {DataType: aws.String("String"), StringValue: aws.String(o.shipping)},
			},
		}); err != nil {
			t.Fatalf("publish %s: %v", o.id, err)
		}
	}

	ddb := dynamodb.NewFromConfig(cfg)
	table := app + "-dev-results"
	has := func(id string) bool {
		out, err := ddb.GetItem(t.Context(), &dynamodb.GetItemInput{TableName: aws.String(table),
			Key: map[string]ddbtypes.AttributeValue{"id": &ddbtypes.AttributeValueMemberS{Value: id}}})
		return err == nil && out.Item != nil
	}
	want := []string{"invoice#o-express", "invoice#o-standard", "dispatch#o-express"}
	deadline := time.Now().Add(60 * time.Second)
	for _, id := range want {
		for !has(id) {
			if time.Now().After(deadline) {
				t.Fatalf("%s never reached %s\nengine log:\n%s", id, table, engineLog(t))
			}
			time.Sleep(250 * time.Millisecond)
		}
	}
	// The filter kept the standard order out of the express queue. Both
	// orders were published before any was seen, and the express one went
	// through the same route: give a stray delivery the same time it had.
	time.Sleep(2 * time.Second)
	if has("dispatch#o-standard") {
		t.Errorf("the standard order was dispatched: the filter policy did not apply")
	}
}
