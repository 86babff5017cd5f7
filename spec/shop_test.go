package spec

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/hashicorp/hcl/v2"
)

// TestShopDecoded compares the SPEC example's decoded App with the structs
// it must produce, field by field (ranges and expressions aside).
func TestShopDecoded(t *testing.T) {
	app, files, diags := Load("../examples/shop", Options{Stage: "prod", Getenv: func(string) string { return "" }})
	if diags.HasErrors() {
		t.Fatal(render(files, diags))
	}
	dir, err := filepath.Abs("../examples/shop")
	if err != nil {
		t.Fatal(err)
	}
	src := func(name string) string { return filepath.Join(dir, "functions", name) }
	fn := func(name, runtime, handler string) *Function {
		return &Function{
			Addr: Addr{KindFunction, name}, Runtime: runtime, Source: src(name), Handler: handler,
			Memory: 128, Timeout: 3 * time.Second, Architecture: "arm64", LogRetention: 14, EphemeralStorage: 512,
		}
	}
	api := fn("api", "go", "")
	api.Memory, api.Timeout = 256, 10*time.Second
	api.Uses = []Capability{{Target: Addr{KindQueue, "orders"}, Name: "send"}}
	worker := fn("worker", "go", "")
	worker.Uses = []Capability{{Target: Addr{KindTable, "orders"}, Name: "write"}}
	stream := func(kind, name, pos string) *StreamSource {
		return &StreamSource{Source: Addr{kind, name}, StartingPosition: pos, BatchSize: 100, MaxRetryAttempts: -1, ParallelizationFactor: 1, Enabled: true}
	}
	want := &App{
		Name: "shop", Region: "us-east-1", Tags: map[string]string{"team": "orders"}, Stage: "prod", Dir: dir,
		Functions: []*Function{
			api, fn("audit", "go", ""), fn("clicks", "nodejs20.x", "index.handler"),
			fn("report", "go", ""), fn("resize", "python3.12", "main.handler"), worker,
		},
		Queues: []*Queue{{
			Addr: Addr{KindQueue, "orders"}, VisibilityTimeout: time.Minute, Retention: 4 * 24 * time.Hour,
			DeadLetter: &DeadLetter{MaxReceives: 5, Retention: 14 * 24 * time.Hour},
		}},
		Topics:  []*Topic{{Addr: Addr{KindTopic, "alerts"}}},
		Buses:   []*Bus{{Addr: Addr{KindBus, "events"}}},
		Buckets: []*Bucket{{Addr: Addr{KindBucket, "uploads"}}},
		Tables: []*Table{{
			Addr: Addr{KindTable, "orders"}, HashKey: "id", HashKeyType: "S",
			BillingMode: "PAY_PER_REQUEST", StreamView: "NEW_AND_OLD_IMAGES",
		}},
		Streams: []*Stream{{Addr: Addr{KindStream, "clickstream"}, Shards: 2, RetentionHours: 24}},
		APIs:    []*API{{Addr: Addr{KindAPI, "public"}}},
		Triggers: []*Trigger{
			{Addr: Addr{KindTrigger, "alerts"}, Function: Addr{KindFunction, "audit"},
				Topic: &TopicSource{Topic: Addr{KindTopic, "alerts"}}},
			{Addr: Addr{KindTrigger, "clicks"}, Function: Addr{KindFunction, "clicks"},
				Kinesis: stream(KindStream, "clickstream", "TRIM_HORIZON")},
			{Addr: Addr{KindTrigger, "http"}, Function: Addr{KindFunction, "api"},
				HTTP: &HTTPSource{API: Addr{KindAPI, "public"}, Route: "POST /orders"}},
			{Addr: Addr{KindTrigger, "nightly"}, Function: Addr{KindFunction, "report"},
				Schedule: &ScheduleSource{Expression: "cron(0 2 * * ? *)", Enabled: true}},
			{Addr: Addr{KindTrigger, "order_changes"}, Function: Addr{KindFunction, "audit"},
				DynamoDB: stream(KindTable, "orders", "LATEST")},
			{Addr: Addr{KindTrigger, "order_placed"}, Function: Addr{KindFunction, "audit"},
				Event: &EventSource{Bus: Addr{KindBus, "events"}, Pattern: `{"detail-type":["OrderPlaced"],"source":["shop.orders"]}`}},
			{Addr: Addr{KindTrigger, "orders"}, Function: Addr{KindFunction, "worker"},
				Queue: &QueueSource{Queue: Addr{KindQueue, "orders"}, BatchSize: 10, Enabled: true}},
			{Addr: Addr{KindTrigger, "uploads"}, Function: Addr{KindFunction, "resize"},
				S3: &S3Source{Bucket: Addr{KindBucket, "uploads"}, Events: []string{"s3:ObjectCreated:*"}, Prefix: "in/", Suffix: ".jpg"}},
		},
		Outputs: []*Output{{Addr: Addr{KindOutput, "api_url"}}},
	}
	opts := cmp.Options{
		cmpopts.IgnoreTypes(hcl.Range{}),
		cmpopts.IgnoreInterfaces(struct{ hcl.Expression }{}),
		cmpopts.IgnoreUnexported(App{}),
		cmpopts.EquateEmpty(),
	}
	if diff := cmp.Diff(want, app, opts...); diff != "" {
		t.Errorf("decoded App (-want +got):\n%s", diff)
	}
	if app.Functions[0].Environment == nil || app.Outputs[0].Value == nil {
		t.Errorf("expressions were not kept")
	}
	if app.Functions[0].DeclRange.Start.Line != 12 {
		t.Errorf("function.api DeclRange = %s, want line 12", app.Functions[0].DeclRange)
	}
}
