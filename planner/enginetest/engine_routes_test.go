package enginetest

// Routes (router → router deliveries) and async settings driven through the
// planner against the real handlers, on kumo and on moto: apply from empty, a
// clean re-plan, removing routes removes exactly their resources and policy
// statements, destroy leaves nothing.

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/google/go-cmp/cmp"
	"github.com/sivchari/kumo"

	"github.com/evdeploy/evdeploy/internal/motoserver"
	"github.com/evdeploy/evdeploy/planner"
	awsp "github.com/evdeploy/evdeploy/providers/aws"
	"github.com/evdeploy/evdeploy/spec"
	"github.com/evdeploy/evdeploy/state"
)

func TestMain(m *testing.M) { os.Exit(motoserver.Main(m)) }

// routesEnv lowers ../testdata/lower/routes (every route kind, a bucket
// shared by a trigger and routes, async destinations) for one emulator.
type routesEnv struct {
	kumoEnv
	app  *spec.App
	opts planner.LowerOptions
	// skip drops resource types the emulator does not implement.
	skip map[string]bool
}

func newRoutesEnv(t *testing.T, cfg aws.Config, account string, skip ...string) *routesEnv {
	stage := fmt.Sprintf("r%d", time.Now().UnixNano()%1_000_000)
	app, _, diags := spec.Load("../testdata/lower/routes", spec.Options{Stage: stage, Getenv: func(string) string { return "" }})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	pk := fakePackage(t)
	pkgs := map[spec.Addr]*planner.Package{}
	for _, f := range app.Functions {
		pkgs[f.Addr] = pk
	}
	st, err := state.Open(context.Background(), state.NewLocalPath(filepath.Join(t.TempDir(), stage+".json")), app.Name, app.Stage)
	if err != nil {
		t.Fatal(err)
	}
	e := &routesEnv{
		kumoEnv: kumoEnv{t: t, cfg: cfg, reg: awsp.New(cfg), st: st},
		app:     app,
		opts:    planner.LowerOptions{Account: account, Region: "us-east-1", Packages: pkgs},
		skip:    map[string]bool{},
	}
	for _, s := range skip {
		e.skip[s] = true
	}
	e.lower()
	return e
}

func (e *routesEnv) lower() {
	d, diags := planner.Lower(e.app, e.opts)
	if diags.HasErrors() {
		e.t.Fatal(diags)
	}
	kept := d.Resources[:0]
	for _, r := range d.Resources {
		if !e.skip[r.Addr.Type] {
			kept = append(kept, r)
		}
	}
	d.Resources = kept
	e.d = d
}

func (e *routesEnv) run(t *testing.T) {
	ctx := context.Background()
	first := e.plan()
	if s := first.Summary(); s.Add != len(e.d.Resources) || s.Change+s.Replace+s.Destroy != 0 {
		t.Fatalf("first plan: %+v for %d resources", s, len(e.d.Resources))
	}
	e.apply(first, e.d)
	if got := changes(e.plan()); len(got) != 0 {
		t.Fatalf("plan after apply is not empty:\n%v", got)
	}

	// Drift behind evdeploy's back: a route's subscription removed, and a
	// foreign statement written into a queue policy evdeploy owns. The plan
	// shows both; apply puts them back; the re-plan is clean.
	var subArn, queueURL string
	for _, r := range e.st.Doc().Resources {
		switch r.Addr {
		case "route.express/aws_sns_subscription.main":
			subArn = r.ID
		case "queue.shipping/aws_sqs_queue_policy.main":
			queueURL = r.ID
		}
	}
	if _, err := sns.NewFromConfig(e.cfg).Unsubscribe(ctx, &sns.UnsubscribeInput{SubscriptionArn: aws.String(subArn)}); err != nil {
		t.Fatal(err)
	}
	foreign := `{"Version":"2012-10-17","Statement":[{"Sid":"someone-else","Effect":"Allow","Principal":"*","Action":"sqs:SendMessage","Resource":"*"}]}`
	if _, err := sqs.NewFromConfig(e.cfg).SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: aws.String(queueURL),
		Attributes: map[string]string{"Policy": foreign}}); err != nil {
		t.Fatal(err)
	}
	p := e.plan()
	want := []string{
		"+ route.express/aws_sns_subscription.main []",
		"~ queue.shipping/aws_sqs_queue_policy.main [policy]",
	}
	if d := cmp.Diff(want, changes(p)); d != "" {
		t.Errorf("plan after drift (-want +got):\n%s", d)
	}
	e.apply(p, e.d)
	if got := changes(e.plan()); len(got) != 0 {
		t.Fatalf("plan after repairing drift is not empty:\n%v", got)
	}

	// Two routes removed: exactly their resources go, and their statements
	// leave the queue policy and their entry the bucket's notification.
	var routes []*spec.Route
	for _, r := range e.app.Routes {
		if r.Addr.Name != "uploads" && r.Addr.Name != "ops_to_stream" {
			routes = append(routes, r)
		}
	}
	e.app.Routes = routes
	e.lower()
	p = e.plan()
	want = []string{
		"- route.ops_to_stream/aws_eventbridge_rule.main []",
		"- route.ops_to_stream/aws_eventbridge_target.main []",
		"- route.ops_to_stream/aws_iam_role.main []",
		"- route.ops_to_stream/aws_iam_role_policy.main []",
		"~ bucket.uploads/aws_s3_bucket_notification.main [queue]",
		"~ queue.all/aws_sqs_queue_policy.main [policy]",
	}
	sort.Strings(want)
	if d := cmp.Diff(want, changes(p)); d != "" {
		t.Errorf("plan after removing two routes (-want +got):\n%s", d)
	}
	e.apply(p, e.d)
	if got := changes(e.plan()); len(got) != 0 {
		t.Errorf("plan after removing routes is not empty:\n%v", got)
	}

	before := e.st.Doc().Resources
	e.apply(planner.PlanDestroy(e.st.Doc()), nil)
	if n := len(e.st.Doc().Resources); n != 0 {
		t.Errorf("state still records %d resources", n)
	}
	for _, r := range before {
		_, exists, err := e.reg[r.Type].Read(ctx, r.ID, planner.Attrs(r.Attrs))
		if err != nil || exists {
			t.Errorf("%s (%s) after destroy: exists=%v err=%v", r.Addr, r.ID, exists, err)
		}
	}
}

func TestRoutesOnKumo(t *testing.T) {
	if testing.Short() {
		t.Skip("emulator test")
	}
	srv := kumo.NewServer()
	t.Cleanup(srv.Close)
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String(srv.URL)}
	// kumo gap: no PutFunctionEventInvokeConfig (404); moto covers it below
	// and the embedded engine serves it itself.
	newRoutesEnv(t, cfg, "000000000000", planner.TypeInvokeConfig).run(t)
}

func TestRoutesOnMoto(t *testing.T) {
	if testing.Short() {
		t.Skip("emulator test")
	}
	newRoutesEnv(t, motoserver.Config(t), "123456789012").run(t)
}
