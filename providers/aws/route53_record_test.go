package aws

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/google/go-cmp/cmp"

	"github.com/evdeploy/evdeploy/planner"
)

// testZone makes a hosted zone of its own for one test and returns its name
// and id.
func testZone(ctx context.Context, t *testing.T, c *clients) (string, string) {
	t.Helper()
	name := uniqueName("z") + ".example"
	out, err := c.r53.CreateHostedZone(ctx, &route53.CreateHostedZoneInput{Name: aws.String(name), CallerReference: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	id := bareZoneID(aws.ToString(out.HostedZone.Id))
	t.Cleanup(func() {
		c.r53.DeleteHostedZone(context.Background(), &route53.DeleteHostedZoneInput{Id: aws.String(id)})
	})
	return name, id
}

func TestRoute53RecordLifecycle(t *testing.T) {
	ctx := testContext(t)
	c := newClients(testConfig(t))
	h := newRoute53Record(c).(*route53Record)
	zone, zoneID := testZone(ctx, t, c)

	if got, err := hostedZoneID(ctx, c.r53, zone+"."); err != nil || got != zoneID {
		t.Errorf("hostedZoneID(%s) = %q, %v; want %q", zone, got, err, zoneID)
	}
	if _, err := hostedZoneID(ctx, c.r53, "nowhere-"+zone); !errors.Is(err, ErrNoZone) {
		t.Errorf("hostedZoneID of a missing zone: %v, want ErrNoZone", err)
	}

	desired := planner.Attrs{"zone_id": zoneID, "name": "_v." + zone, "type": "CNAME", "ttl": int64(300), "records": []any{"_x.acm-validations.aws"}}
	id, created, err := h.Create(ctx, desired)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if want := zoneID + "/_v." + zone + "/CNAME"; id != want {
		t.Errorf("id = %q, want %q", id, want)
	}
	if d := cmp.Diff(desired.Norm(), created); d != "" {
		t.Errorf("Create (-want +got):\n%s", d)
	}
	if _, _, err := h.Create(ctx, desired); !errors.Is(err, planner.ErrAlreadyExists) {
		t.Errorf("second Create: %v, want ErrAlreadyExists (CREATE never overwrites)", err)
	}
	if why, err := h.Claimed(ctx, desired); err != nil || !strings.Contains(why, "evdeploy did not write it") {
		t.Errorf("Claimed = %q, %v", why, err)
	}
	if _, a, found, err := h.Find(ctx, desired); err != nil || !found || a.String("name") != "_v."+zone {
		t.Errorf("Find = %v, %v, %v", a, found, err)
	}

	updated := planner.Attrs{"zone_id": zoneID, "name": "_v." + zone, "type": "CNAME", "ttl": int64(60), "records": []any{"_y.acm-validations.aws"}}
	got, err := h.Update(ctx, id, created, updated)
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	if d := cmp.Diff(updated.Norm(), got); d != "" {
		t.Errorf("Update (-want +got):\n%s", d)
	}

	alias := planner.Attrs{"zone_id": zoneID, "name": "api." + zone, "type": "A",
		"alias": map[string]any{"name": "d-abc.execute-api.us-east-1.amazonaws.com", "zone_id": "Z1UJRXOUMOOFQ8", "evaluate_target_health": false}}
	aid, acreated, err := h.Create(ctx, alias)
	if err != nil {
		t.Fatalf("Create alias: %v", err)
	}
	if d := cmp.Diff(alias.Norm(), acreated); d != "" {
		t.Errorf("Create alias (-want +got):\n%s", d)
	}

	// Someone points the record elsewhere: it is theirs now, and Delete
	// leaves it.
	if _, err := c.r53.ChangeResourceRecordSets(ctx, &route53.ChangeResourceRecordSetsInput{HostedZoneId: aws.String(zoneID), ChangeBatch: &r53types.ChangeBatch{
		Changes: []r53types.Change{{Action: r53types.ChangeActionUpsert, ResourceRecordSet: &r53types.ResourceRecordSet{
			Name: aws.String("_v." + zone + "."), Type: r53types.RRTypeCname, TTL: aws.Int64(60),
			ResourceRecords: []r53types.ResourceRecord{{Value: aws.String("elsewhere.example.net")}},
		}}},
	}}); err != nil {
		t.Fatal(err)
	}
	if err := h.Delete(ctx, id, got); err != nil {
		t.Fatalf("Delete of a changed record: %v", err)
	}
	if a, exists, err := h.Read(ctx, id, nil); err != nil || !exists || a.Strings("records")[0] != "elsewhere.example.net" {
		t.Errorf("a record changed by someone else after Delete: %v, %v, %v; want it left as they wrote it", a, exists, err)
	}
	assertDeletedForGood(t, ctx, h, aid, acreated)
}
