package enginetest

// The engine driven against the real AWS handlers (providers/aws) on the kumo
// emulator, with the SPEC example lowered by planner.Lower. Drift is made with
// the AWS SDK directly, not with evdeploy. It lives outside package planner,
// which never imports providers or the SDK (make arch-check).

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/google/go-cmp/cmp"
	"github.com/sivchari/kumo"

	"github.com/evdeploy/evdeploy/planner"
	awsp "github.com/evdeploy/evdeploy/providers/aws"
	"github.com/evdeploy/evdeploy/spec"
	"github.com/evdeploy/evdeploy/state"
)

type kumoEnv struct {
	t   *testing.T
	cfg aws.Config
	reg planner.Registry
	st  *state.Session
	d   *planner.Desired
}

// fakePackage is a tiny zip standing in for a built function: the emulator
// stores code, it does not need to run it here.
func fakePackage(t *testing.T) *planner.Package {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.Create("bootstrap")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("#!/bin/sh\n")); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "fn.zip")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(buf.Bytes())
	return &planner.Package{Path: path, SHA256: base64.StdEncoding.EncodeToString(sum[:]),
		Runtime: "provided.al2023", Handler: "bootstrap", Size: int64(buf.Len())}
}

func newKumoEnv(t *testing.T) *kumoEnv {
	if testing.Short() {
		t.Skip("emulator test")
	}
	srv := kumo.NewServer()
	t.Cleanup(srv.Close)
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String(srv.URL)}
	// kumo servers in one process share state: a stage of its own keeps
	// this test's physical names apart.
	stage := fmt.Sprintf("pl%d", time.Now().UnixNano()%1_000_000)
	app, _, diags := spec.Load("../../examples/shop", spec.Options{Stage: stage, Getenv: func(string) string { return "" }})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	pk := fakePackage(t)
	pkgs := map[spec.Addr]*planner.Package{}
	for _, f := range app.Functions {
		pkgs[f.Addr] = pk
	}
	d, diags := planner.Lower(app, planner.LowerOptions{Account: "000000000000", Region: "us-east-1", Packages: pkgs})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	st, err := state.Open(context.Background(), state.NewLocalPath(filepath.Join(t.TempDir(), stage+".json")), app.Name, app.Stage)
	if err != nil {
		t.Fatal(err)
	}
	return &kumoEnv{t: t, cfg: cfg, reg: awsp.New(cfg), st: st, d: d}
}

func (e *kumoEnv) plan() *planner.Plan {
	e.t.Helper()
	doc := e.st.Doc()
	obs, err := planner.Refresh(context.Background(), doc, e.reg, 10)
	if err != nil {
		e.t.Fatalf("refresh: %v", err)
	}
	p, err := planner.Diff(e.d, doc, obs, e.reg)
	if err != nil {
		e.t.Fatalf("diff: %v", err)
	}
	return p
}

func (e *kumoEnv) apply(p *planner.Plan, d *planner.Desired) {
	e.t.Helper()
	res, err := planner.Apply(context.Background(), p, d, e.reg, e.st, planner.ApplyOptions{AllowDataLoss: true, PropagationTimeout: 10 * time.Second})
	if err != nil {
		e.t.Fatalf("apply: %v (not started: %v)", err, res)
	}
}

// changes lists "symbol address [changed attrs]" for every change.
func changes(p *planner.Plan) []string {
	var out []string
	for _, c := range p.Changes {
		if c.Action != planner.NoOp {
			out = append(out, fmt.Sprintf("%s %s %v", c.Action.Symbol(), c.Addr, c.Changed))
		}
	}
	sort.Strings(out)
	return out
}

func TestEngineOnKumo(t *testing.T) {
	e := newKumoEnv(t)
	ctx := context.Background()

	first := e.plan()
	if s := first.Summary(); s.Add != len(e.d.Resources) || s.Change+s.Replace+s.Destroy != 0 {
		t.Fatalf("first plan: %+v for %d resources", s, len(e.d.Resources))
	}
	e.apply(first, e.d)
	if got := changes(e.plan()); len(got) != 0 {
		t.Fatalf("plan after apply is not empty:\n%v", got)
	}

	// One attribute changed in the desired graph: exactly that change.
	fnAddr := planner.ResourceAddr{Block: "function.api", Type: "aws_lambda_function", Name: "main"}
	var fn *planner.DesiredResource
	for _, r := range e.d.Resources {
		if r.Addr == fnAddr {
			fn = r
		}
	}
	if fn == nil {
		t.Fatalf("%s not lowered", fnAddr)
	}
	fn.Attrs["memory"] = int64(512)
	p := e.plan()
	if d := cmp.Diff([]string{"~ " + fnAddr.String() + " [memory]"}, changes(p)); d != "" {
		t.Errorf("plan after a memory change (-want +got):\n%s", d)
	}
	e.apply(p, e.d)

	// Drift made behind evdeploy's back: memory changed, a queue deleted, a
	// mapping removed.
	lc := lambda.NewFromConfig(e.cfg)
	if _, err := lc.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{
		FunctionName: aws.String(fn.Name), MemorySize: aws.Int32(1024)}); err != nil {
		t.Fatal(err)
	}
	var queueURL, mappingUUID string
	for _, r := range e.st.Doc().Resources {
		switch r.Addr {
		case "queue.orders/aws_sqs_queue.main":
			queueURL = r.ID
		case "trigger.clicks/aws_lambda_event_source_mapping.main":
			mappingUUID = r.ID
		}
	}
	if _, err := lc.DeleteEventSourceMapping(ctx, &lambda.DeleteEventSourceMappingInput{UUID: aws.String(mappingUUID)}); err != nil {
		t.Fatal(err)
	}
	if _, err := sqs.NewFromConfig(e.cfg).DeleteQueue(ctx, &sqs.DeleteQueueInput{QueueUrl: aws.String(queueURL)}); err != nil {
		t.Fatal(err)
	}
	p = e.plan()
	got := map[string]string{}
	for _, c := range p.Changes {
		if c.Action != planner.NoOp {
			got[c.Addr.String()] = c.Action.String()
		}
	}
	t.Logf("drift plan: %v", changes(p))
	if got[fnAddr.String()] != "update" || got["queue.orders/aws_sqs_queue.main"] != "create" ||
		got["trigger.clicks/aws_lambda_event_source_mapping.main"] != "create" {
		t.Errorf("drift plan:\n%v", changes(p))
	}
	e.apply(p, e.d)
	if got := changes(e.plan()); len(got) != 0 {
		t.Errorf("plan after repairing drift is not empty:\n%v", got)
	}

	// A force-new attribute: the table is replaced (data loss, so flagged),
	// and what reads its stream follows.
	for _, r := range e.d.Resources {
		if r.Addr.String() == "table.orders/aws_dynamodb_table.main" {
			r.Attrs["hash_key"] = "pk"
		}
	}
	p = e.plan()
	var table *planner.Change
	for _, c := range p.Changes {
		if c.Addr.String() == "table.orders/aws_dynamodb_table.main" {
			table = c
		}
	}
	if table == nil || table.Action != planner.Replace || !table.DataLoss || !cmp.Equal(table.ReplaceBecause, []string{"hash_key"}) {
		t.Errorf("table change = %+v\nplan: %v", table, changes(p))
	}
	e.apply(p, e.d)
	if got := changes(e.plan()); len(got) != 0 {
		t.Errorf("plan after the replacement is not empty:\n%v", got)
	}

	// Destroy leaves nothing: every resource state knew reads back as gone.
	before := e.st.Doc().Resources
	dp := planner.PlanDestroy(e.st.Doc())
	e.apply(dp, nil)
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
