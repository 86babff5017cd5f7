package aws

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"

	"github.com/evdeploy/evdeploy/planner"
)

// route53API is the part of Route 53 the record handler and the zone lookup use.
type route53API interface {
	ListHostedZonesByName(context.Context, *route53.ListHostedZonesByNameInput, ...func(*route53.Options)) (*route53.ListHostedZonesByNameOutput, error)
	ListResourceRecordSets(context.Context, *route53.ListResourceRecordSetsInput, ...func(*route53.Options)) (*route53.ListResourceRecordSetsOutput, error)
	ChangeResourceRecordSets(context.Context, *route53.ChangeResourceRecordSetsInput, ...func(*route53.Options)) (*route53.ChangeResourceRecordSetsOutput, error)
}

// route53Record manages aws_route53_record: one record set (name + type) in
// a hosted zone that is the user's, id = "<zone id>/<name>/<type>".
//
// The zone is not evdeploy's, so its records carry no proof of who wrote
// them: evdeploy writes a record only with CREATE (which fails when the name
// and type are taken — that is someone else's record, a stop), changes only
// records its state holds, and deletes one only while its value is still what
// evdeploy wrote (Route 53's DELETE names the exact value).
type route53Record struct{ api route53API }

func newRoute53Record(c *clients) planner.Handler { return &route53Record{api: c.r53} }

var _ planner.Finder = (*route53Record)(nil)

func (h *route53Record) Schema() planner.Schema {
	return planner.Schema{
		Type:     "aws_route53_record",
		ForceNew: []string{"zone_id", "name", "type"},
		// Records live in the user's zone: a record found under the name is
		// evdeploy's only on its journal's word (ownership.go).
		ForeignParent: true,
		// A domain's new records exist before its old ones go.
		CreateBeforeDestroy: true,
	}
}

// fqdn is a record or zone name as compared: lower case, no trailing dot
// (Route 53 answers with the dot, kumo without).
func fqdn(s string) string { return strings.TrimSuffix(strings.ToLower(s), ".") }

// bareZoneID strips Route 53's "/hostedzone/" prefix.
func bareZoneID(id string) string { return strings.TrimPrefix(id, "/hostedzone/") }

func recordID(zone, name, typ string) string {
	return bareZoneID(zone) + "/" + fqdn(name) + "/" + strings.ToUpper(typ)
}

func splitRecordID(id string) (zone, name, typ string, err error) {
	parts := strings.Split(id, "/")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
		return "", "", "", fmt.Errorf("malformed record id %q: want <zone id>/<name>/<type>", id)
	}
	return parts[0], parts[1], parts[2], nil
}

// find reads one record set, nil when there is none.
func (h *route53Record) find(ctx context.Context, zone, name, typ string) (*r53types.ResourceRecordSet, error) {
	in := &route53.ListResourceRecordSetsInput{
		HostedZoneId:    aws.String(bareZoneID(zone)),
		StartRecordName: aws.String(fqdn(name) + "."),
		StartRecordType: r53types.RRType(strings.ToUpper(typ)),
	}
	for {
		out, err := h.api.ListResourceRecordSets(ctx, in)
		if err != nil {
			return nil, classify(err)
		}
		for i := range out.ResourceRecordSets {
			rs := &out.ResourceRecordSets[i]
			if fqdn(aws.ToString(rs.Name)) == fqdn(name) && strings.EqualFold(string(rs.Type), typ) && rs.SetIdentifier == nil {
				return rs, nil
			}
		}
		// Route 53 lists from the start name on, so the record is on the
		// first page when it exists; an emulator that ignores the start
		// lists everything, so go on while there is more.
		if !out.IsTruncated || out.NextRecordName == nil {
			return nil, nil
		}
		in.StartRecordName, in.StartRecordType, in.StartRecordIdentifier = out.NextRecordName, out.NextRecordType, out.NextRecordIdentifier
	}
}

// recordAttrs is what Read reports of a record set.
func recordAttrs(zone string, rs *r53types.ResourceRecordSet) planner.Attrs {
	a := planner.Attrs{"zone_id": bareZoneID(zone), "name": fqdn(aws.ToString(rs.Name)), "type": string(rs.Type)}
	if t := rs.AliasTarget; t != nil {
		a["alias"] = map[string]any{
			"name":                   fqdn(aws.ToString(t.DNSName)),
			"zone_id":                bareZoneID(aws.ToString(t.HostedZoneId)),
			"evaluate_target_health": t.EvaluateTargetHealth,
		}
		return a
	}
	var vals []string
	for _, r := range rs.ResourceRecords {
		vals = append(vals, fqdn(aws.ToString(r.Value)))
	}
	slices.Sort(vals)
	a["records"] = stringsAttr(vals)
	if rs.TTL != nil {
		a["ttl"] = *rs.TTL
	}
	return a
}

// recordSet is the Route 53 form of desired (or prior) attributes.
func recordSet(a planner.Attrs) *r53types.ResourceRecordSet {
	rs := &r53types.ResourceRecordSet{Name: aws.String(fqdn(a.String("name")) + "."), Type: r53types.RRType(a.String("type"))}
	if m, ok := a["alias"].(map[string]any); ok {
		al := planner.Attrs(m)
		rs.AliasTarget = &r53types.AliasTarget{
			DNSName:              aws.String(al.String("name")),
			HostedZoneId:         aws.String(al.String("zone_id")),
			EvaluateTargetHealth: al.Bool("evaluate_target_health"),
		}
		return rs
	}
	rs.TTL = aws.Int64(a.Int("ttl"))
	for _, v := range a.Strings("records") {
		rs.ResourceRecords = append(rs.ResourceRecords, r53types.ResourceRecord{Value: aws.String(v)})
	}
	return rs
}

func (h *route53Record) change(ctx context.Context, zone string, action r53types.ChangeAction, rs *r53types.ResourceRecordSet) error {
	_, err := h.api.ChangeResourceRecordSets(ctx, &route53.ChangeResourceRecordSetsInput{
		HostedZoneId: aws.String(bareZoneID(zone)),
		ChangeBatch: &r53types.ChangeBatch{
			Comment: aws.String("evdeploy"),
			Changes: []r53types.Change{{Action: action, ResourceRecordSet: rs}},
		},
	})
	return err
}

func (h *route53Record) Read(ctx context.Context, id string, _ planner.Attrs) (planner.Attrs, bool, error) {
	zone, name, typ, err := splitRecordID(id)
	if err != nil {
		return nil, false, err
	}
	rs, err := h.find(ctx, zone, name, typ)
	if hasCode(err, "NoSuchHostedZone") {
		return nil, false, nil
	}
	if err != nil || rs == nil {
		return nil, false, err
	}
	return recordAttrs(zone, rs), true, nil
}

// Create writes the record only if the name and type are free: CREATE
// fails on a record that exists, which evdeploy did not write (its own
// are in state), so that is reported as taken and nothing is changed.
func (h *route53Record) Create(ctx context.Context, desired planner.Attrs) (string, planner.Attrs, error) {
	zone, name, typ := desired.String("zone_id"), desired.String("name"), desired.String("type")
	id := recordID(zone, name, typ)
	err := h.change(ctx, zone, r53types.ChangeActionCreate, recordSet(desired))
	if err != nil {
		// AWS and moto say InvalidChangeBatch, kumo ResourceRecordAlreadyExists.
		if hasCode(err, "InvalidChangeBatch", "ResourceRecordAlreadyExists") {
			if rs, ferr := h.find(ctx, zone, name, typ); ferr == nil && rs != nil {
				return "", nil, fmt.Errorf("%s record %s in zone %s: %w", typ, fqdn(name), bareZoneID(zone), planner.ErrAlreadyExists)
			}
		}
		return "", nil, classify(err)
	}
	a, ok, err := h.Read(ctx, id, nil)
	if err != nil {
		return id, nil, err
	}
	if !ok {
		return id, nil, fmt.Errorf("record %s was written but does not read back", id)
	}
	return id, a, nil
}

// Update rewrites a record evdeploy wrote (it is in state) to the desired value.
func (h *route53Record) Update(ctx context.Context, id string, prior, desired planner.Attrs) (planner.Attrs, error) {
	zone, _, _, err := splitRecordID(id)
	if err != nil {
		return nil, err
	}
	if err := h.change(ctx, zone, r53types.ChangeActionUpsert, recordSet(desired)); err != nil {
		return nil, classify(err)
	}
	a, ok, err := h.Read(ctx, id, prior)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("record %s disappeared during update", id)
	}
	return a, nil
}

// Delete removes the record only while it holds what evdeploy wrote (prior):
// a record someone has since pointed elsewhere is theirs now and stays.
func (h *route53Record) Delete(ctx context.Context, id string, prior planner.Attrs) error {
	zone, name, typ, err := splitRecordID(id)
	if err != nil {
		return err
	}
	rs, err := h.find(ctx, zone, name, typ)
	if hasCode(err, "NoSuchHostedZone") || (err == nil && rs == nil) {
		return nil
	}
	if err != nil {
		return err
	}
	if prior != nil && !sameRecordValue(recordAttrs(zone, rs), prior) {
		return nil
	}
	// DELETE names the value as read, so a change made since the read
	// fails instead of deleting someone else's value.
	err = h.change(ctx, zone, r53types.ChangeActionDelete, rs)
	if err != nil && !hasCode(err, "InvalidChangeBatch") {
		return classify(err)
	}
	return nil
}

// sameRecordValue compares what a record points at: its alias target, or its
// values (and TTL where both say).
func sameRecordValue(actual, prior planner.Attrs) bool {
	if _, ok := prior["alias"]; ok {
		a, _ := actual["alias"].(map[string]any)
		p, _ := prior["alias"].(map[string]any)
		if a == nil || p == nil {
			return false
		}
		return planner.Attrs(a).String("name") == fqdn(planner.Attrs(p).String("name")) &&
			planner.Attrs(a).String("zone_id") == bareZoneID(planner.Attrs(p).String("zone_id"))
	}
	got, want := actual.Strings("records"), prior.Strings("records")
	for i := range want {
		want[i] = fqdn(want[i])
	}
	slices.Sort(want)
	return slices.Equal(got, want)
}

// Find looks the record up by zone, name and type (its identity).
func (h *route53Record) Find(ctx context.Context, desired planner.Attrs) (string, planner.Attrs, bool, error) {
	zone, name, typ := desired.String("zone_id"), desired.String("name"), desired.String("type")
	if zone == "" || name == "" || typ == "" {
		return "", nil, false, nil
	}
	id := recordID(zone, name, typ)
	a, ok, err := h.Read(ctx, id, nil)
	return id, a, ok, err
}

// Claimed reports a record at the desired name and type that evdeploy is
// about to create: it is someone else's (evdeploy's own are in state), and
// apply would stop on it after other writes.
func (h *route53Record) Claimed(ctx context.Context, desired planner.Attrs) (string, error) {
	_, a, found, err := h.Find(ctx, desired)
	if err != nil || !found {
		return "", err
	}
	what := strings.Join(a.Strings("records"), ", ")
	if al, ok := a["alias"].(map[string]any); ok {
		what = "alias " + planner.Attrs(al).String("name")
	}
	return fmt.Sprintf("a %s record %s (%s) already exists in zone %s and evdeploy did not write it", a.String("type"), a.String("name"), what, a.String("zone_id")), nil
}

// HostedZoneID finds the public hosted zone named name (Route 53 allows a
// public and private zones of one name). A missing zone is an error that
// names it: evdeploy never creates a zone.
func HostedZoneID(ctx context.Context, cfg aws.Config, name string) (string, error) {
	return hostedZoneID(ctx, route53.NewFromConfig(cfg), name)
}

func hostedZoneID(ctx context.Context, api route53API, name string) (string, error) {
	want := fqdn(name)
	var found []string
	var private []string
	in := &route53.ListHostedZonesByNameInput{DNSName: aws.String(want + ".")}
	for {
		out, err := api.ListHostedZonesByName(ctx, in)
		if err != nil {
			return "", fmt.Errorf("looking up hosted zone %q: %w", want, classify(err))
		}
		for _, z := range out.HostedZones {
			if fqdn(aws.ToString(z.Name)) != want {
				continue
			}
			if z.Config != nil && z.Config.PrivateZone {
				private = append(private, bareZoneID(aws.ToString(z.Id)))
				continue
			}
			found = append(found, bareZoneID(aws.ToString(z.Id)))
		}
		if !out.IsTruncated || out.NextDNSName == nil || len(found) > 0 {
			break
		}
		in.DNSName, in.HostedZoneId = out.NextDNSName, out.NextHostedZoneId
	}
	switch {
	case len(found) == 1:
		return found[0], nil
	case len(found) > 1:
		return "", fmt.Errorf("hosted zone %q: %d public zones carry that name (%s); keep one", want, len(found), strings.Join(found, ", "))
	case len(private) > 0:
		return "", fmt.Errorf("hosted zone %q is private (%s); an API's domain needs a public zone", want, strings.Join(private, ", "))
	}
	return "", fmt.Errorf("hosted zone %q does not exist: %w", want, ErrNoZone)
}

// ErrNoZone is wrapped when a domain's hosted zone does not exist.
var ErrNoZone = errors.New("evdeploy never creates a zone; create it (or fix the zone's name) first")
