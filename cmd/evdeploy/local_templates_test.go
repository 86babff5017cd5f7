package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// TestLocalTemplateFlows: templates scaffolded, deployed to the embedded
// engine, and an event produced at their real source (`evdeploy fire`); the
// handler's side effect is observed with an independent client.
func TestLocalTemplateFlows(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	_, port := localTestEnv(t)
	if code, out, errOut := runLocal(t, "local", "up"); code != 0 {
		t.Fatalf("local up: exit %d\n%s%s", code, out, errOut)
	}
	c := newLocalClientsAt(t, fmt.Sprintf("http://127.0.0.1:%d", port))
	for _, tc := range []struct {
		template, trigger, payload string
		effect                     func(t *testing.T, app string) bool
	}{
		{"s3-file-processing", "uploads", "one two three\nfour\n", func(t *testing.T, app string) bool {
			// The summary of the uploaded incoming/… object lands under summaries/.
			bucket := c.bucket(t, app+"-dev-processed")
			out, err := c.s3.ListObjectsV2(t.Context(), &s3.ListObjectsV2Input{Bucket: &bucket, Prefix: aws.String("summaries/evdeploy-fire-")})
			return err == nil && len(out.Contents) == 1 && strings.HasSuffix(aws.ToString(out.Contents[0].Key), ".summary.json")
		}},
		{"queue-worker", "orders", `{"order_id":"o-1","customer":"ada","lines":[{"sku":"book","quantity":2,"price_cents":1250}]}`, func(t *testing.T, app string) bool {
			got, err := c.ddb.GetItem(t.Context(), &dynamodb.GetItemInput{TableName: aws.String(app + "-dev-orders"),
				Key: map[string]ddbtypes.AttributeValue{"order_id": &ddbtypes.AttributeValueMemberS{Value: "o-1"}}})
			return err == nil && got.Item != nil
		}},
	} {
		t.Run(tc.template, func(t *testing.T) {
			app := "tf" + strings.ReplaceAll(tc.template, "-", "")
			dir := filepath.Join(t.TempDir(), app)
			mustEvd(t, 0, "init", "--template", tc.template, dir)
			if code, out, errOut := runLocal(t, "apply", "--auto-approve", "-C", dir, "--target", "local"); code != 0 {
				t.Fatalf("apply: exit %d\n%s%s", code, out, errOut)
			}
			if code, out, errOut := runLocal(t, "fire", tc.trigger, "--payload", tc.payload, "-C", dir, "--target", "local"); code != 0 {
				t.Fatalf("fire %s: exit %d\n%s%s", tc.trigger, code, out, errOut)
			}
			deadline := time.Now().Add(60 * time.Second)
			for !tc.effect(t, app) {
				if time.Now().After(deadline) {
					t.Fatalf("no side effect of the %s event within 60 s\nengine log:\n%s", tc.trigger, engineLog(t))
				}
				time.Sleep(300 * time.Millisecond)
			}
		})
	}
}
