package aws

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/go-cmp/cmp"

	"github.com/evdeploy/evdeploy/planner"
)

func TestDynamoDBTableLifecycle(t *testing.T) {
	ctx := testContext(t)
	h := newDynamoDBTable(newClients(testConfig(t)))
	name := uniqueName("table")
	if _, exists, err := h.Read(ctx, name, nil); err != nil || exists {
		t.Fatalf("Read before Create = %v, %v", exists, err)
	}
	desired := planner.Attrs{
		"name": name, "hash_key": "pk", "hash_key_type": "S", "range_key": "sk", "range_key_type": "N",
		"billing_mode": "PROVISIONED", "read_capacity": int64(5), "write_capacity": int64(2),
		"stream_view_type": "NEW_IMAGE", "ttl_attribute": "expires", "indexes": map[string]any{}, "point_in_time_recovery": false,
		"tags": map[string]any{"evdeploy:app": "demo", "team": "a"},
	}
	id, created, err := h.Create(ctx, desired)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if id != name {
		t.Errorf("id = %q, want %q", id, name)
	}
	arn, streamArn := created.String("arn"), created.String("stream_arn")
	if !strings.HasPrefix(arn, "arn:aws:dynamodb:us-east-1:") || !strings.HasSuffix(arn, ":table/"+name) {
		t.Errorf("arn = %q, want a table ARN", arn)
	}
	if !strings.HasPrefix(streamArn, arn+"/stream/") {
		t.Errorf("stream_arn = %q, want a stream of %s", streamArn, arn)
	}
	want := desired.Norm()
	want["arn"], want["stream_arn"] = arn, streamArn
	if d := cmp.Diff(want, created); d != "" {
		t.Errorf("Create (-want +got):\n%s", d)
	}
	got, exists, err := h.Read(ctx, id, nil)
	if err != nil || !exists {
		t.Fatalf("Read = %v, %v", exists, err)
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Read (-want +got):\n%s", d)
	}

	// In place: on demand, another stream view, another TTL attribute, tags.
	update := planner.Attrs{
		"name": name, "hash_key": "pk", "hash_key_type": "S", "range_key": "sk", "range_key_type": "N",
		"billing_mode": "PAY_PER_REQUEST", "stream_view_type": "KEYS_ONLY", "ttl_attribute": "ttl",
		"indexes": map[string]any{}, "point_in_time_recovery": false,
		"tags": map[string]any{"evdeploy:app": "demo", "env": "dev"},
	}
	if gap(t, "moto", "a stream disabled by UpdateTable cannot be enabled again (ResourceInUseException \"Cannot enable stream\"; AWS creates a new stream)") {
		update["stream_view_type"] = "NEW_IMAGE"
	}
	before := got
	after, err := h.Update(ctx, id, got, update)
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	got, _, err = h.Read(ctx, id, nil)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(got, after); d != "" {
		t.Errorf("Update's result differs from a Read (-read +update):\n%s", d)
	}
	// kumo gap: UpdateTable succeeds but changes neither billing mode nor
	// stream specification. Those read-back assertions are skipped when the
	// table reads exactly as before the update; any other value is a failure.
	gapped := []string{"billing_mode", "read_capacity", "write_capacity", "stream_view_type", "stream_arn"}
	for _, k := range gapped {
		if k == "stream_arn" {
			continue // changes with the view type; checked with it below
		}
		switch w, g := update[k], got[k]; {
		case planner.Equal(w, g):
		case planner.Equal(before[k], g):
			t.Logf("kumo gap: UpdateTable left %s at %v (want %v)", k, g, w)
		default:
			t.Errorf("after Update %s = %v, want %v", k, g, w)
		}
	}
	if got.String("stream_view_type") == "KEYS_ONLY" && got.String("stream_arn") == streamArn {
		t.Errorf("stream view type changed but the stream ARN did not: the stream was not re-created")
	}
	want = update.Norm()
	want["arn"] = arn
	for _, k := range gapped {
		delete(want, k)
		delete(got, k)
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Read after Update (-want +got):\n%s", d)
	}

	s := h.Schema()
	for _, a := range []string{"name", "hash_key", "hash_key_type", "range_key", "range_key_type"} {
		if !slices.Contains(s.ForceNew, a) {
			t.Errorf("%s is not ForceNew", a)
		}
	}
	if !s.HoldsData {
		t.Errorf("table does not hold data")
	}
	assertDeletedForGood(t, ctx, h, id, got)
}

// An on-demand table without stream or TTL reads back with stream_view_type
// "" (no stream), ttl_attribute "" (no TTL) and no capacities.
func TestDynamoDBTableOnDemand(t *testing.T) {
	ctx := testContext(t)
	h := newDynamoDBTable(newClients(testConfig(t)))
	desired := planner.Attrs{
		"name": uniqueName("table"), "hash_key": "id", "hash_key_type": "S",
		"billing_mode": "PAY_PER_REQUEST", "stream_view_type": "", "tags": map[string]any{"evdeploy:app": "demo"},
		"indexes": map[string]any{}, "point_in_time_recovery": false,
	}
	id, created, err := h.Create(ctx, desired)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Delete(ctx, id, nil) })
	want := desired.Norm()
	want["arn"], want["ttl_attribute"] = created.String("arn"), ""
	got, _, err := h.Read(ctx, id, nil)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Read (-want +got):\n%s", d)
	}
}

// Global secondary indexes are created with the table and read back; on
// kumo, index changes after creation are a documented gap (UpdateTable
// accepts them and changes nothing), so the moto run (TestMoto/DynamoDBTableIndexes)
// covers adding and removing them in place, and point-in-time recovery.
func TestDynamoDBTableIndexes(t *testing.T) {
	testTableIndexes(t, testConfig(t), emulatorName(t) == "kumo")
}

// testTableIndexes creates a table with two indexes, reads them back, then
// removes one, changes one's projection, adds one and turns point-in-time
// recovery on, all in place. onKumo skips what kumo cannot do.
func testTableIndexes(t *testing.T, cfg aws.Config, onKumo bool) {
	ctx := testContext(t)
	h := newDynamoDBTable(newClients(cfg))
	index := func(hash, hashType, rng, rngType string, projection any) map[string]any {
		m := map[string]any{"hash_key": hash, "hash_key_type": hashType}
		if rng != "" {
			m["range_key"], m["range_key_type"] = rng, rngType
		}
		switch p := projection.(type) {
		case string:
			m["projection"] = p
		case []any:
			m["projection"], m["non_key_attributes"] = "INCLUDE", p
		}
		return m
	}
	desired := planner.Attrs{
		"name": uniqueName("table"), "hash_key": "id", "hash_key_type": "S",
		"billing_mode": "PAY_PER_REQUEST", "stream_view_type": "", "ttl_attribute": "",
		"tags": map[string]any{"evdeploy:app": "demo"},
		"indexes": map[string]any{
			"by_customer": index("customer", "S", "placed_at", "N", "ALL"),
			"by_status":   index("status", "S", "", "", []any{"placed_at", "total"}),
		},
		"point_in_time_recovery": false,
	}
	id, created, err := h.Create(ctx, desired)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	t.Cleanup(func() { h.Delete(context.WithoutCancel(ctx), id, nil) })
	want := desired.Norm()
	want["arn"] = created.String("arn")
	got, exists, err := h.Read(ctx, id, nil)
	if err != nil || !exists {
		t.Fatalf("Read = %v, %v", exists, err)
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Read after Create (-want +got):\n%s", d)
	}

	update := desired.Norm()
	update["indexes"] = map[string]any{
		"by_customer": index("customer", "S", "placed_at", "N", "KEYS_ONLY"),
		"by_day":      index("day", "S", "placed_at", "N", "ALL"),
	}
	update["point_in_time_recovery"] = !onKumo // kumo lacks UpdateContinuousBackups
	after, err := h.Update(ctx, id, got, update)
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	got, _, err = h.Read(ctx, id, nil)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(got, after); d != "" {
		t.Errorf("Update's result differs from a Read (-read +update):\n%s", d)
	}
	want = update.Norm()
	want["arn"] = created.String("arn")
	if onKumo && planner.Equal(got["indexes"], desired.Norm()["indexes"]) {
		t.Logf("kumo gap: UpdateTable left the indexes as they were")
		want["indexes"] = got["indexes"]
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Read after Update (-want +got):\n%s", d)
	}
	assertDeletedForGood(t, ctx, h, id, got)
}

func TestDynamoDBTableErrors(t *testing.T) {
	ctx := testContext(t)
	h := newDynamoDBTable(newClients(testConfig(t)))
	table := planner.Attrs{"name": uniqueName("table"), "hash_key": "id", "hash_key_type": "S", "billing_mode": "PAY_PER_REQUEST"}
	id, _, err := h.Create(ctx, table)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Delete(ctx, id, nil) })
	if _, _, err := h.Create(ctx, table); !errors.Is(err, planner.ErrAlreadyExists) {
		t.Errorf("Create of an existing table = %v, want ErrAlreadyExists", err)
	}

	bad := []struct {
		name  string
		attrs planner.Attrs
	}{
		{"unknown billing mode", planner.Attrs{"name": uniqueName("table"), "hash_key": "id", "hash_key_type": "S", "billing_mode": "FREE"}},
		{"provisioned without capacity", planner.Attrs{"name": uniqueName("table"), "hash_key": "id", "hash_key_type": "S", "billing_mode": "PROVISIONED"}},
	}
	for _, tt := range bad {
		_, _, err := h.Create(ctx, tt.attrs)
		if err == nil || errors.Is(err, planner.ErrThrottled) {
			t.Errorf("%s: Create = %v, want a non-retryable error", tt.name, err)
		}
	}

	p := newFaultProxy(t)
	h = newDynamoDBTable(newClients(p.config(t)))
	p.throttleNext("CreateTable", 1)
	if _, _, err := h.Create(ctx, planner.Attrs{"name": uniqueName("table"), "hash_key": "id", "hash_key_type": "S"}); !errors.Is(err, planner.ErrThrottled) {
		t.Errorf("throttled CreateTable = %v, want ErrThrottled", err)
	}
	p.throttleNext("DescribeTable", 1)
	if _, _, err := h.Read(ctx, id, nil); !errors.Is(err, planner.ErrThrottled) {
		t.Errorf("throttled DescribeTable = %v, want ErrThrottled", err)
	}
}

// TTL turned off and a tag added outside evdeploy show in Read.
func TestDynamoDBTableDrift(t *testing.T) {
	ctx := testContext(t)
	c := newClients(testConfig(t))
	h := newDynamoDBTable(c)
	id, created, err := h.Create(ctx, planner.Attrs{
		"name": uniqueName("table"), "hash_key": "id", "hash_key_type": "S", "billing_mode": "PAY_PER_REQUEST",
		"stream_view_type": "", "ttl_attribute": "exp", "tags": map[string]any{"evdeploy:app": "demo"},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Delete(ctx, id, nil) })
	if _, err := c.ddb.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName: aws.String(id), TimeToLiveSpecification: &ddbtypes.TimeToLiveSpecification{AttributeName: aws.String("exp"), Enabled: aws.Bool(false)},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ddb.TagResource(ctx, &dynamodb.TagResourceInput{
		ResourceArn: aws.String(created.String("arn")), Tags: []ddbtypes.Tag{{Key: aws.String("extra"), Value: aws.String("x")}},
	}); err != nil {
		t.Fatal(err)
	}
	got, _, err := h.Read(ctx, id, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got.String("ttl_attribute") != "" {
		t.Errorf("ttl_attribute = %q after TTL was disabled, want \"\"", got.String("ttl_attribute"))
	}
	if d := cmp.Diff(map[string]any{"evdeploy:app": "demo", "extra": "x"}, got["tags"]); d != "" {
		t.Errorf("tags after an outside change (-want +got):\n%s", d)
	}
}
