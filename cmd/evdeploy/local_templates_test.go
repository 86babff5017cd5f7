package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
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
		{"cron", "hourly", "", func(t *testing.T, app string) bool {
			// The schedule fired now: the report of that run lands under reports/.
			bucket := c.bucket(t, app+"-dev-reports")
			out, err := c.s3.ListObjectsV2(t.Context(), &s3.ListObjectsV2Input{Bucket: &bucket, Prefix: aws.String("reports/")})
			return err == nil && len(out.Contents) == 1 && strings.HasSuffix(aws.ToString(out.Contents[0].Key), ".json")
		}},
		{"dynamodb-stream", "order_changes", `{"order_id":"o-7","status":"placed"}`, func(t *testing.T, app string) bool {
			// The item put in orders comes back through the table's stream as
			// one INSERT audit record naming its key.
			out, err := c.ddb.Scan(t.Context(), &dynamodb.ScanInput{TableName: aws.String(app + "-dev-audit")})
			if err != nil || len(out.Items) != 1 {
				return false
			}
			op, _ := out.Items[0]["operation"].(*ddbtypes.AttributeValueMemberS)
			keys, _ := out.Items[0]["keys"].(*ddbtypes.AttributeValueMemberS)
			return op != nil && op.Value == "INSERT" && keys != nil && strings.Contains(keys.Value, "o-7")
		}},
		{"kinesis-consumer", "clicks", `{"page":"/pricing","user":"ada","at":"2026-01-02T03:04:05Z"}`, func(t *testing.T, app string) bool {
			// The record put on the stream adds one view to its page's counter.
			got, err := c.ddb.GetItem(t.Context(), &dynamodb.GetItemInput{TableName: aws.String(app + "-dev-page_views"),
				Key: map[string]ddbtypes.AttributeValue{"page": &ddbtypes.AttributeValueMemberS{Value: "/pricing"}}})
			if err != nil || got.Item == nil {
				return false
			}
			views, _ := got.Item["views"].(*ddbtypes.AttributeValueMemberN)
			return views != nil && views.Value == "1"
		}},
		{"http-api", "create_item", `{"name":"teapot","note":"blue"}`, func(t *testing.T, app string) bool {
			// The POST /items request stored the item in the table.
			out, err := c.ddb.Scan(t.Context(), &dynamodb.ScanInput{TableName: aws.String(app + "-dev-items")})
			if err != nil || len(out.Items) != 1 {
				return false
			}
			name, _ := out.Items[0]["name"].(*ddbtypes.AttributeValueMemberS)
			return name != nil && name.Value == "teapot"
		}},
		{"event-bus", "place_order", `{"customer":"ada","email":"ada@example.com","priority":"express","lines":[{"sku":"book","quantity":2,"price_cents":1250}]}`, func(t *testing.T, app string) bool {
			// POST /orders → producer → OrderPlaced on the bus → billing (every
			// order) and express (express only) → SNS → notifier, whose
			// delivery is one JSON line per email in its log group.
			out, err := c.logs.FilterLogEvents(t.Context(), &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String("/aws/lambda/" + app + "-dev-notifier")})
			if err != nil {
				return false
			}
			var invoice, express bool
			for _, e := range out.Events {
				m := aws.ToString(e.Message)
				invoice = invoice || strings.Contains(m, `"to":"ada@example.com"`) && strings.Contains(m, `"subject":"Invoice for order`)
				express = express || strings.Contains(m, `"to":"ada@example.com"`) && strings.Contains(m, " ships ")
			}
			return invoice && express
		}},
		{"monorepo", "place_order", `{"customer":"ada","lines":[{"sku":"book","quantity":2,"price_cents":1250}]}`, func(t *testing.T, app string) bool {
			// POST /orders in the orders app → checkout → OrderPlaced on core's
			// bus → billing's rule → invoicer → one invoice in core's table.
			out, err := c.ddb.Scan(t.Context(), &dynamodb.ScanInput{TableName: aws.String(app + "-core-dev-ledger")})
			if err != nil || len(out.Items) != 1 {
				return false
			}
			amount, _ := out.Items[0]["amount_cents"].(*ddbtypes.AttributeValueMemberN)
			customer, _ := out.Items[0]["customer"].(*ddbtypes.AttributeValueMemberS)
			return amount != nil && amount.Value == "2500" && customer != nil && customer.Value == "ada"
		}},
	} {
		t.Run(tc.template, func(t *testing.T) {
			app := "tf" + strings.ReplaceAll(tc.template, "-", "")
			dir := filepath.Join(t.TempDir(), app)
			mustEvd(t, 0, "init", "--template", tc.template, dir)
			apply := []string{"apply", "--auto-approve", "-C", dir, "--target", "local"}
			// A monorepo is applied with --all; its trigger is in one app.
			triggerApp := map[string]string{"monorepo": "orders"}[tc.template]
			if triggerApp != "" {
				apply = append(apply, "--all")
			}
			if code, out, errOut := runLocal(t, apply...); code != 0 {
				t.Fatalf("apply: exit %d\n%s%s", code, out, errOut)
			}
			args := []string{"fire", tc.trigger, "-C", filepath.Join(dir, triggerApp), "--target", "local"}
			if tc.payload != "" {
				args = append(args, "--payload", tc.payload)
			}
			if code, out, errOut := runLocal(t, args...); code != 0 {
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
