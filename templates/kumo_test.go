package templates

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/google/go-cmp/cmp"
	"github.com/sivchari/kumo"
)

// TestHandlersOnKumo runs every template's real function binary — built as
// evdeploy builds it, started under kumo's Lambda Runtime API — and invokes it
// with the event its trigger delivers. The binaries reach the emulator only
// through AWS_ENDPOINT_URL, as deployed functions do on the local target, and
// their effects are checked with an independent SDK client. This covers what
// the handler unit tests cannot: the SDK stores (store.go, bus.go, topic.go),
// endpoint resolution and S3 path-style addressing.
func TestHandlersOnKumo(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the template functions against the emulator")
	}
	srv := kumo.NewServer()
	t.Cleanup(srv.Close)
	k := &kumoEnv{t: t, url: srv.URL, bins: buildFunctions(t), cfg: aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String(srv.URL),
	}}
	ctx := t.Context()
	ddb := dynamodb.NewFromConfig(k.cfg)
	s3c := s3.NewFromConfig(k.cfg, func(o *s3.Options) { o.UsePathStyle = true })

	t.Run("http-api", func(t *testing.T) {
		table := k.table(ctx, "id")
		invoke := k.start(t, "http-api/api", map[string]string{"TABLE_NAME": table})
		var created struct{ ID, Name string }
		resp := invoke(httpEvent("POST /items", "", `{"name":"lamp"}`))
		if resp.StatusCode != 201 {
			t.Fatalf("POST /items: %d %s", resp.StatusCode, resp.Body)
		}
		if err := json.Unmarshal([]byte(resp.Body), &created); err != nil || created.ID == "" {
			t.Fatalf("POST /items body %s: %v", resp.Body, err)
		}
		got, err := ddb.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table),
			Key: map[string]ddbtypes.AttributeValue{"id": &ddbtypes.AttributeValueMemberS{Value: created.ID}}})
		if err != nil || got.Item["name"].(*ddbtypes.AttributeValueMemberS).Value != "lamp" {
			t.Fatalf("item in the table: %v, %v", got, err)
		}
		for _, step := range []struct {
			route, id string
			status    int
			contains  string
		}{
			{"GET /items/{id}", created.ID, 200, `"name":"lamp"`},
			{"GET /items", "", 200, created.ID},
			{"DELETE /items/{id}", created.ID, 204, ""},
			{"GET /items/{id}", created.ID, 404, "no item"},
			{"DELETE /items/{id}", created.ID, 404, "no item"},
		} {
			resp := invoke(httpEvent(step.route, step.id, ""))
			if resp.StatusCode != step.status || !strings.Contains(resp.Body, step.contains) {
				t.Errorf("%s %s: %d %s, want %d containing %q", step.route, step.id, resp.StatusCode, resp.Body, step.status, step.contains)
			}
		}
	})

	t.Run("queue-worker", func(t *testing.T) {
		table := k.table(ctx, "order_id")
		invoke := k.start(t, "queue-worker/worker", map[string]string{"ORDERS_TABLE": table})
		out := invoke(map[string]any{"Records": []map[string]any{
			{"messageId": "m-good", "eventSource": "aws:sqs", "body": `{"order_id":"o-1","customer":"ada","lines":[{"sku":"lamp","quantity":2,"price_cents":1250}]}`},
			{"messageId": "m-bad", "eventSource": "aws:sqs", "body": `{"order_id":""}`},
		}})
		if d := cmp.Diff(`{"batchItemFailures":[{"itemIdentifier":"m-bad"}]}`, out.Raw); d != "" {
			t.Errorf("response (-want +got):\n%s", d)
		}
		got, err := ddb.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table),
			Key: map[string]ddbtypes.AttributeValue{"order_id": &ddbtypes.AttributeValueMemberS{Value: "o-1"}}})
		if err != nil || got.Item == nil || got.Item["total_cents"].(*ddbtypes.AttributeValueMemberN).Value != "2500" {
			t.Errorf("order o-1 in the table: %v, %v", got, err)
		}
	})

	t.Run("s3-file-processing", func(t *testing.T) {
		in, out := k.bucket(ctx), k.bucket(ctx)
		if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(in), Key: aws.String("incoming/my notes.txt"),
			Body: strings.NewReader("to be or not to be\n")}); err != nil {
			t.Fatal(err)
		}
		invoke := k.start(t, "s3-file-processing/process", map[string]string{"OUTPUT_BUCKET": out})
		r := invoke(map[string]any{"Records": []map[string]any{{
			"eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
			"s3": map[string]any{"bucket": map[string]any{"name": in}, "object": map[string]any{"key": url.QueryEscape("incoming/my notes.txt")}},
		}}})
		if r.FunctionError != "" {
			t.Fatalf("function error: %s", r.Raw)
		}
		obj, err := s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(out), Key: aws.String("summaries/my notes.txt.summary.json")})
		if err != nil {
			t.Fatalf("summary object: %v", err)
		}
		defer obj.Body.Close()
		var sum struct {
			Source       string
			Words, Lines int
		}
		b, _ := io.ReadAll(obj.Body)
		if err := json.Unmarshal(b, &sum); err != nil || sum.Words != 6 || sum.Lines != 1 || sum.Source != "s3://"+in+"/incoming/my notes.txt" {
			t.Errorf("summary = %s (%v)", b, err)
		}
	})

	t.Run("dynamodb-stream", func(t *testing.T) {
		audit := k.table(ctx, "event_id")
		invoke := k.start(t, "dynamodb-stream/audit", map[string]string{"AUDIT_TABLE": audit})
		var records []map[string]any
		for i := range 30 { // more than one BatchWriteItem
			records = append(records, map[string]any{
				"eventID": fmt.Sprintf("e-%02d", i), "eventName": "INSERT",
				"eventSourceARN": "arn:aws:dynamodb:us-east-1:000000000000:table/orders/stream/2026-11-26T21:00:00.000",
				"dynamodb": map[string]any{"ApproximateCreationDateTime": 1795726800, "SequenceNumber": fmt.Sprint(100 + i),
					"Keys": map[string]any{"order_id": map[string]any{"S": fmt.Sprint("o-", i)}}, "NewImage": map[string]any{"order_id": map[string]any{"S": fmt.Sprint("o-", i)}}},
			})
		}
		if r := invoke(map[string]any{"Records": records}); r.FunctionError != "" {
			t.Fatalf("function error: %s", r.Raw)
		}
		scan, err := ddb.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(audit)})
		if err != nil || len(scan.Items) != 30 {
			t.Fatalf("audit table has %d items (%v), want 30", len(scan.Items), err)
		}
		got, _ := ddb.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(audit),
			Key: map[string]ddbtypes.AttributeValue{"event_id": &ddbtypes.AttributeValueMemberS{Value: "e-07"}}})
		if v, ok := got.Item["source_table"].(*ddbtypes.AttributeValueMemberS); !ok || v.Value != "orders" {
			t.Errorf("audit record e-07 = %v", got.Item)
		}
	})

	t.Run("cron", func(t *testing.T) {
		b := k.bucket(ctx)
		for key, body := range map[string]string{"data/a.csv": "1,2\n", "data/b.json": "{}", "other/x": "ignored"} {
			if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String(key), Body: strings.NewReader(body)}); err != nil {
				t.Fatal(err)
			}
		}
		invoke := k.start(t, "cron/report", map[string]string{"BUCKET": b})
		r := invoke(map[string]any{"id": "ev", "detail-type": "Scheduled Event", "source": "aws.events", "time": "2026-11-26T21:00:00Z", "detail": map[string]any{}})
		if r.FunctionError != "" {
			t.Fatalf("function error: %s", r.Raw)
		}
		obj, err := s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("reports/2026/11/26/2100.json")})
		if err != nil {
			t.Fatalf("report: %v", err)
		}
		defer obj.Body.Close()
		var rep struct {
			Objects    int   `json:"objects"`
			TotalBytes int64 `json:"total_bytes"`
		}
		body, _ := io.ReadAll(obj.Body)
		if err := json.Unmarshal(body, &rep); err != nil || rep.Objects != 2 || rep.TotalBytes != 6 {
			t.Errorf("report = %s (%v), want 2 objects, 6 bytes", body, err)
		}
	})

	t.Run("kinesis-consumer", func(t *testing.T) {
		table := k.table(ctx, "page")
		invoke := k.start(t, "kinesis-consumer/aggregate", map[string]string{"VIEWS_TABLE": table})
		var records []map[string]any
		for i, page := range []string{"/home", "/cart", "/home", "not json"} {
			data := []byte(fmt.Sprintf(`{"page":%q,"user":"u%d"}`, page, i))
			if page == "not json" {
				data = []byte(page)
			}
			records = append(records, map[string]any{"eventSource": "aws:kinesis", "kinesis": map[string]any{
				"data": data, "sequenceNumber": fmt.Sprint(i + 1), "partitionKey": "p", "approximateArrivalTimestamp": 1795726800}})
		}
		for range 2 { // counters add up across invocations
			if r := invoke(map[string]any{"Records": records}); r.Raw != `{"batchItemFailures":[]}` {
				t.Fatalf("response %s", r.Raw)
			}
		}
		got, err := ddb.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table),
			Key: map[string]ddbtypes.AttributeValue{"page": &ddbtypes.AttributeValueMemberS{Value: "/home"}}})
		if err != nil || got.Item == nil || got.Item["views"].(*ddbtypes.AttributeValueMemberN).Value != "4" {
			t.Errorf("/home counter: %v, %v; want views 4", got, err)
		}
	})

	t.Run("http-api-canary", func(t *testing.T) {
		// Lambda names the version in AWS_LAMBDA_FUNCTION_VERSION; the
		// answer carries it (kumo runs $LATEST).
		invoke := k.start(t, "http-api-canary/pricing", map[string]string{"AWS_LAMBDA_FUNCTION_VERSION": "3"})
		req := httpEvent("GET /quote/{sku}", "", "")
		req["pathParameters"] = map[string]string{"sku": "bulb"}
		req["queryStringParameters"] = map[string]string{"quantity": "10"}
		resp := invoke(req)
		if want := `{"sku":"bulb","quantity":10,"unit_cents":350,"discount_percent":5,"total_cents":3325,"version":"3"}`; resp.StatusCode != 200 || resp.Body != want {
			t.Errorf("GET /quote/bulb?quantity=10: %d %s, want 200 %s", resp.StatusCode, resp.Body, want)
		}
	})

	t.Run("monorepo", func(t *testing.T) {
		// core's bus and table; orders' checkout puts an OrderPlaced event on
		// the bus, billing's invoice bills it into the table, once.
		bus, ledger := uniqueName("bus"), k.table(ctx, "order_id")
		eb := eventbridge.NewFromConfig(k.cfg)
		if _, err := eb.CreateEventBus(ctx, &eventbridge.CreateEventBusInput{Name: aws.String(bus)}); err != nil {
			t.Fatal(err)
		}
		checkout := k.start(t, "monorepo/checkout", map[string]string{"BUS_NAME": bus, "EVENT_SOURCE": "test.orders"})
		resp := checkout(httpEvent("POST /orders", "", `{"customer":"Ada","lines":[{"sku":"lamp","quantity":2,"price_cents":1250}]}`))
		var placed struct {
			OrderID    string `json:"order_id"`
			EventID    string `json:"event_id"`
			TotalCents int64  `json:"total_cents"`
		}
		if resp.StatusCode != 202 || json.Unmarshal([]byte(resp.Body), &placed) != nil || placed.EventID == "" || placed.TotalCents != 2500 {
			t.Fatalf("POST /orders: %d %s", resp.StatusCode, resp.Body)
		}
		invoicer := k.start(t, "monorepo/invoicer", map[string]string{"LEDGER_TABLE": ledger})
		ev := map[string]any{"id": placed.EventID, "detail-type": "OrderPlaced", "source": "test.orders", "detail": map[string]any{
			"order_id": placed.OrderID, "customer": "Ada", "placed_at": "2026-11-26T21:00:00Z",
			"lines": []map[string]any{{"sku": "lamp", "quantity": 2, "price_cents": 1250}}}}
		for range 2 { // EventBridge delivers at least once: the second bills nothing
			if r := invoicer(ev); r.FunctionError != "" {
				t.Fatalf("invoicer: function error: %s", r.Raw)
			}
		}
		scan, err := ddb.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(ledger)})
		if err != nil || len(scan.Items) != 1 {
			t.Fatalf("ledger has %d items (%v), want 1", len(scan.Items), err)
		}
		got := map[string]string{}
		for k, v := range scan.Items[0] {
			switch v := v.(type) {
			case *ddbtypes.AttributeValueMemberS:
				got[k] = v.Value
			case *ddbtypes.AttributeValueMemberN:
				got[k] = v.Value
			}
		}
		want := map[string]string{"order_id": placed.OrderID, "customer": "Ada", "amount_cents": "2500", "due": "2026-12-10", "event_id": placed.EventID}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("invoice in the ledger (-want +got):\n%s", d)
		}
	})

	t.Run("event-bus", func(t *testing.T) {
		bus := uniqueName("bus")
		if _, err := eventbridge.NewFromConfig(k.cfg).CreateEventBus(ctx, &eventbridge.CreateEventBusInput{Name: aws.String(bus)}); err != nil {
			t.Fatal(err)
		}
		topic, err := sns.NewFromConfig(k.cfg).CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(uniqueName("topic"))})
		if err != nil {
			t.Fatal(err)
		}
		producer := k.start(t, "event-bus/producer", map[string]string{"BUS_NAME": bus, "EVENT_SOURCE": "test.orders"})
		resp := producer(httpEvent("POST /orders", "", `{"customer":"Ada","email":"ada@example.com","priority":"express","lines":[{"sku":"lamp","quantity":1,"price_cents":2500}]}`))
		if resp.StatusCode != 202 || !strings.Contains(resp.Body, `"event_id":"`) {
			t.Errorf("POST /orders: %d %s", resp.StatusCode, resp.Body)
		}
		order := map[string]any{"id": "ev", "detail-type": "OrderPlaced", "source": "test.orders", "detail": map[string]any{
			"order_id": "o-1", "email": "ada@example.com", "priority": "express", "placed_at": "2026-11-26T09:00:00Z",
			"lines": []map[string]any{{"sku": "lamp", "quantity": 1, "price_cents": 2500}}}}
		for _, fn := range []string{"event-bus/billing", "event-bus/express"} {
			invoke := k.start(t, fn, map[string]string{"TOPIC_ARN": *topic.TopicArn})
			if r := invoke(order); r.FunctionError != "" {
				t.Errorf("%s: function error: %s", fn, r.Raw)
			}
		}
		notifier := k.start(t, "event-bus/notifier", nil)
		r := notifier(map[string]any{"Records": []map[string]any{{"EventSource": "aws:sns", "Sns": map[string]any{
			"MessageId": "m", "Message": "hello", "MessageAttributes": map[string]any{"to": map[string]any{"Type": "String", "Value": "a@b"}}}}}})
		if r.FunctionError != "" {
			t.Errorf("notifier: function error: %s", r.Raw)
		}
	})
}

type kumoEnv struct {
	t    *testing.T
	url  string
	cfg  aws.Config
	bins string // folder of built function binaries, named after their folder
}

// invokeResult is a function's answer: the raw payload, the error kind when
// the handler failed, and the payload decoded as an HTTP API response.
type invokeResult struct {
	Raw           string
	FunctionError string
	StatusCode    int
	Body          string
}

var seq atomic.Int64

func uniqueName(prefix string) string {
	return fmt.Sprintf("%s-%d-%d", prefix, os.Getpid()%100000, seq.Add(1))
}

// buildFunctions builds every template function for this machine, with the
// tag evdeploy's builder uses, in one go build (its links run in parallel).
// Binaries are named after their folder (api, worker, …), which are unique.
func buildFunctions(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	args := []string{"build", "-tags", "lambda.norpc", "-ldflags=-s -w", "-o", dir + string(filepath.Separator)}
	seen := map[string]string{}
	for _, name := range Names() {
		if Language(name) != "go" {
			continue // the others run on the embedded engine in cmd/evdeploy's tests
		}
		apps := Apps(name) // a monorepo's functions are in its apps' folders
		if apps == nil {
			apps = []string{""}
		}
		for _, app := range apps {
			dir := filepath.Join(name, app, "functions")
			fns, err := os.ReadDir(dir)
			if errors.Is(err, os.ErrNotExist) && app != "" {
				continue // an app without functions (core: a bus and a table)
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, fn := range fns {
				if other, dup := seen[fn.Name()]; dup {
					t.Fatalf("function folder %s in both %s and %s: binaries would collide", fn.Name(), other, dir)
				}
				seen[fn.Name()] = dir
				args = append(args, "./"+filepath.ToSlash(filepath.Join(dir, fn.Name())))
			}
		}
	}
	if out, err := exec.Command("go", args...).CombinedOutput(); err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return dir
}

func (k *kumoEnv) table(ctx context.Context, key string) string {
	name := uniqueName("tbl")
	_, err := dynamodb.NewFromConfig(k.cfg).CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		BillingMode:          ddbtypes.BillingModePayPerRequest,
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String(key), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String(key), KeyType: ddbtypes.KeyTypeHash}},
	})
	if err != nil {
		k.t.Fatal(err)
	}
	return name
}

func (k *kumoEnv) bucket(ctx context.Context) string {
	name := uniqueName("bkt")
	if _, err := s3.NewFromConfig(k.cfg, func(o *s3.Options) { o.UsePathStyle = true }).CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		k.t.Fatal(err)
	}
	return name
}

// start creates a Lambda function for the template function fn
// ("<template>/<function>"), runs its binary against kumo's Runtime API with
// env, and returns a synchronous invoker.
func (k *kumoEnv) start(t *testing.T, fn string, env map[string]string) func(payload any) invokeResult {
	t.Helper()
	ctx := t.Context()
	name := uniqueName(strings.ReplaceAll(fn, "/", "-"))
	lc := lambda.NewFromConfig(k.cfg)
	if _, err := lc.CreateFunction(ctx, &lambda.CreateFunctionInput{
		FunctionName: aws.String(name),
		Runtime:      lambdatypes.RuntimeProvidedal2023,
		Handler:      aws.String("bootstrap"),
		Role:         aws.String("arn:aws:iam::000000000000:role/test"),
		Code:         &lambdatypes.FunctionCode{ZipFile: placeholderZip(t)},
		Timeout:      aws.Int32(30),
	}); err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(k.url)
	cmd := exec.Command(filepath.Join(k.bins, filepath.Base(fn)))
	cmd.Env = append(os.Environ(),
		"AWS_LAMBDA_RUNTIME_API="+u.Host+"/_runtime/"+name,
		// The only way the function finds the emulator. A host name, not the
		// IP: the SDK already uses path-style S3 for IP endpoints, and
		// LocalStack is usually reached as localhost or a compose service.
		"AWS_ENDPOINT_URL="+strings.Replace(k.url, "127.0.0.1", "localhost", 1),
		"AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test",
		"AWS_LAMBDA_FUNCTION_NAME="+name,
	)
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("%s output:\n%s", fn, logs.String())
		}
	})
	return func(payload any) invokeResult {
		t.Helper()
		b, err := json.Marshal(payload)
		if err != nil {
			t.Fatal(err)
		}
		// Until the binary has polled the Runtime API once, kumo answers a
		// synchronous invoke with an error: retry for a while.
		deadline := time.Now().Add(20 * time.Second)
		for {
			out, err := lc.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String(name), Payload: b})
			if err == nil {
				r := invokeResult{Raw: string(out.Payload), FunctionError: aws.ToString(out.FunctionError)}
				var http struct {
					StatusCode int    `json:"statusCode"`
					Body       string `json:"body"`
				}
				if json.Unmarshal(out.Payload, &http) == nil {
					r.StatusCode, r.Body = http.StatusCode, http.Body
				}
				return r
			}
			if time.Now().After(deadline) || errors.Is(err, context.Canceled) {
				t.Fatalf("invoke %s: %v\n%s", fn, err, logs.String())
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

func httpEvent(route, id, body string) map[string]any {
	ev := map[string]any{"version": "2.0", "routeKey": route, "body": body, "isBase64Encoded": false}
	if id != "" {
		ev["pathParameters"] = map[string]string{"id": id}
	}
	return ev
}

// placeholderZip is the code CreateFunction is given; the function really runs
// as the local binary polling the Runtime API.
func placeholderZip(t *testing.T) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.Create("bootstrap")
	if err == nil {
		_, err = w.Write([]byte("#!/bin/sh\n"))
	}
	if err == nil {
		err = zw.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
