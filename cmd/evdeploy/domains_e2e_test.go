package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	acmtypes "github.com/aws/aws-sdk-go-v2/service/acm/types"
	"github.com/aws/aws-sdk-go-v2/service/apigatewayv2"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"

	"github.com/evdeploy/evdeploy/internal/motoserver"
	"github.com/evdeploy/evdeploy/localstack"
)

// domainsZone makes the hosted zone the domains app writes into, with a
// record written by hand beside evdeploy's, and returns the zone's id.
func domainsZone(t *testing.T, ctx context.Context, r53 *route53.Client, zone string) string {
	t.Helper()
	z, err := r53.CreateHostedZone(ctx, &route53.CreateHostedZoneInput{Name: aws.String(zone), CallerReference: aws.String(t.Name() + zone)})
	if err != nil {
		t.Fatal(err)
	}
	id := strings.TrimPrefix(aws.ToString(z.HostedZone.Id), "/hostedzone/")
	if _, err := r53.ChangeResourceRecordSets(ctx, &route53.ChangeResourceRecordSetsInput{HostedZoneId: aws.String(id), ChangeBatch: &r53types.ChangeBatch{
		Changes: []r53types.Change{{Action: r53types.ChangeActionCreate, ResourceRecordSet: &r53types.ResourceRecordSet{
			Name: aws.String("www." + zone + "."), Type: r53types.RRTypeCname, TTL: aws.Int64(60),
			ResourceRecords: []r53types.ResourceRecord{{Value: aws.String("shop.example.net")}},
		}}},
	}}); err != nil {
		t.Fatal(err)
	}
	return id
}

// zoneRecords lists a zone's records as "name type value" lines (names
// without the trailing dot, which moto keeps and kumo leaves out).
func zoneRecords(t *testing.T, ctx context.Context, r53 *route53.Client, id string) []string {
	t.Helper()
	out, err := r53.ListResourceRecordSets(ctx, &route53.ListResourceRecordSetsInput{HostedZoneId: aws.String(id)})
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, r := range out.ResourceRecordSets {
		if r.Type == r53types.RRTypeNs || r.Type == r53types.RRTypeSoa {
			continue // the zone's own (moto has them; its SOA value has single quotes)
		}
		v := ""
		if r.AliasTarget != nil {
			v = "alias " + strings.TrimSuffix(aws.ToString(r.AliasTarget.DNSName), ".")
		}
		for _, rr := range r.ResourceRecords {
			v += strings.TrimSuffix(aws.ToString(rr.Value), ".")
		}
		lines = append(lines, strings.TrimSuffix(aws.ToString(r.Name), ".")+" "+string(r.Type)+" "+v)
	}
	slices.Sort(lines)
	return lines
}

// TestE2EDomainsOnMoto: the domains app applies to moto (its ACM issues a
// DNS-validated certificate at once with MOTO_ACM_VALIDATION_WAIT=0, which
// internal/motoserver sets); the certificate, its validation record, the
// domain names, the mappings and the alias records exist; plan is clean; a
// hand-written record in the zone is untouched; a changed base path
// replaces only the mapping; destroy removes evdeploy's records and keeps
// the zone, the hand-written record and the existing certificate.
func TestE2EDomainsOnMoto(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	emu := motoserver.URL(t)
	ctx := t.Context()
	cfg := sdkConfig(emu)
	r53, certs, apigw := route53.NewFromConfig(cfg), acm.NewFromConfig(cfg), apigatewayv2.NewFromConfig(cfg)
	// moto is shared by the package's tests: this test's zone only.
	zone := "example.com"
	zoneID := domainsZone(t, ctx, r53, zone)
	t.Cleanup(func() {
		_, _ = r53.DeleteHostedZone(context.Background(), &route53.DeleteHostedZoneInput{Id: aws.String(zoneID)})
	})
	handWritten := zoneRecords(t, ctx, r53, zoneID)

	existing, err := certs.RequestCertificate(ctx, &acm.RequestCertificateInput{DomainName: aws.String("admin.example.com"), ValidationMethod: "DNS"})
	if err != nil {
		t.Fatal(err)
	}
	adminCert := aws.ToString(existing.CertificateArn)
	certCount := func() int {
		out, err := certs.ListCertificates(ctx, &acm.ListCertificatesInput{})
		if err != nil {
			t.Fatal(err)
		}
		return len(out.CertificateSummaryList)
	}
	before := certCount()

	dir := copyDir(t, "testdata/domains")
	stage := uniqueStage("d")
	common := []string{"-C", dir, "--stage", stage, "--target", "local", "--endpoint", emu, "--var", "admin_certificate=" + adminCert}
	mustEvd(t, 0, append([]string{"apply", "--auto-approve"}, common...)...)
	t.Cleanup(func() { evd(t, append([]string{"destroy", "--auto-approve"}, common...)...) })
	mustEvd(t, 0, append([]string{"plan", "--detailed-exitcode"}, common...)...)

	if got := strings.TrimSpace(mustEvd(t, 0, append([]string{"output", "url"}, common...)...).out); got != "https://api.example.com/v1" {
		t.Errorf("output url = %q", got)
	}
	if n := certCount(); n != before+1 {
		t.Errorf("%d certificates after apply, want %d: one requested for api.example.com, none for admin (it names one)", n, before+1)
	}
	doc := stateResources(t, filepath.Join(dir, ".evdeploy", "state", stage+".json"))
	var certARN, validation string
	for _, r := range doc {
		if r.Type == "aws_acm_certificate" {
			certARN = r.ID
			validation, _ = r.Attrs["validation_record_name"].(string)
		}
	}
	c, err := certs.DescribeCertificate(ctx, &acm.DescribeCertificateInput{CertificateArn: aws.String(certARN)})
	if err != nil {
		t.Fatalf("the requested certificate: %v", err)
	}
	if aws.ToString(c.Certificate.DomainName) != "api.example.com" || c.Certificate.Status != "ISSUED" {
		t.Errorf("certificate %s: %s %s", certARN, aws.ToString(c.Certificate.DomainName), c.Certificate.Status)
	}
	tags, err := certs.ListTagsForCertificate(ctx, &acm.ListTagsForCertificateInput{CertificateArn: aws.String(certARN)})
	if err != nil || !slices.ContainsFunc(tags.Tags, func(tg acmtypes.Tag) bool {
		return aws.ToString(tg.Key) == "evdeploy:stage" && aws.ToString(tg.Value) == stage
	}) {
		t.Errorf("certificate tags %v (%v), want evdeploy's", tags, err)
	}
	value := strings.TrimSuffix(aws.ToString(c.Certificate.DomainValidationOptions[0].ResourceRecord.Value), ".")

	for name, wantCert := range map[string]string{"api.example.com": certARN, "admin.example.com": adminCert} {
		d, err := apigw.GetDomainName(ctx, &apigatewayv2.GetDomainNameInput{DomainName: aws.String(name)})
		if err != nil {
			t.Fatalf("domain %s: %v", name, err)
		}
		dc := d.DomainNameConfigurations[0]
		if aws.ToString(dc.CertificateArn) != wantCert || dc.EndpointType != "REGIONAL" || dc.SecurityPolicy != "TLS_1_2" {
			t.Errorf("domain %s: %+v", name, dc)
		}
	}
	mappings := func(name string) []string {
		out, err := apigw.GetApiMappings(ctx, &apigatewayv2.GetApiMappingsInput{DomainName: aws.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		var keys []string
		for _, m := range out.Items {
			keys = append(keys, aws.ToString(m.ApiMappingKey)+"→"+aws.ToString(m.ApiId))
		}
		return keys
	}
	apiID := apiNamed(t, cfg, "domains-"+stage+"-public")
	if got := mappings("api.example.com"); !slices.Equal(got, []string{"v1→" + apiID}) {
		t.Errorf("api.example.com mappings %v, want v1→%s", got, apiID)
	}

	records := zoneRecords(t, ctx, r53, zoneID)
	target := strings.TrimSpace(mustEvd(t, 0, append([]string{"output", "target"}, common...)...).out)
	for _, want := range []string{
		validation + " CNAME " + value,
		"api.example.com A alias " + target, "api.example.com AAAA alias " + target,
	} {
		if !slices.Contains(records, want) {
			t.Errorf("zone lacks %q; it has:\n%s", want, strings.Join(records, "\n"))
		}
	}
	for _, want := range handWritten {
		if !slices.Contains(records, want) {
			t.Errorf("the hand-written record %q changed: %v", want, records)
		}
	}

	t.Run("base path change replaces only the mapping", func(t *testing.T) {
		v2 := append(slices.Clone(common), "--var", "base_path=v2")
		if got := planChanges(t, v2...); !slices.Equal(got, []string{"api.public/aws_apigatewayv2_api_mapping.api_example_com replace api_mapping_key"}) {
			t.Errorf("plan for base_path v2: %v", got)
		}
		mustEvd(t, 0, append([]string{"apply", "--auto-approve"}, v2...)...)
		if got := mappings("api.example.com"); !slices.Equal(got, []string{"v2→" + apiID}) {
			t.Errorf("mappings after the change %v", got)
		}
		mustEvd(t, 0, append([]string{"apply", "--auto-approve"}, common...)...)
	})

	t.Run("a new name serves before the old one goes", func(t *testing.T) {
		spec := filepath.Join(dir, "evdeploy.evd.hcl")
		src := string(readFile(t, spec))
		if err := os.WriteFile(spec, []byte(strings.Replace(src, `"admin.example.com"`, `"admin2.example.com"`, 1)), 0o644); err != nil {
			t.Fatal(err)
		}
		r := mustEvd(t, 0, append([]string{"apply", "--auto-approve", "--json"}, common...)...)
		seen := map[string]int{}
		for i, line := range strings.Split(r.out, "\n") {
			var ev struct{ Type, Address, Action string }
			if json.Unmarshal([]byte(line), &ev) == nil && ev.Address != "" {
				seen[ev.Type+" "+ev.Action+" "+ev.Address] = i + 1
			}
		}
		for _, typ := range []string{"aws_apigatewayv2_domain_name.%s", "aws_route53_record.%s_a", "aws_route53_record.%s_aaaa", "aws_apigatewayv2_api_mapping.%s"} {
			created := seen["end create api.admin/"+fmt.Sprintf(typ, "admin2_example_com")]
			deleted := seen["start delete api.admin/"+fmt.Sprintf(typ, "admin_example_com")]
			if created == 0 || deleted == 0 || created > deleted {
				t.Errorf("%s: new created at event %d, old deleted from event %d; want the new one first", typ, created, deleted)
			}
		}
		if _, err := apigw.GetDomainName(ctx, &apigatewayv2.GetDomainNameInput{DomainName: aws.String("admin.example.com")}); err == nil {
			t.Errorf("the old domain name is still there")
		}
		mustEvd(t, 0, append([]string{"plan", "--detailed-exitcode"}, common...)...)
	})

	t.Run("a record someone else wrote stops the plan", func(t *testing.T) {
		if _, err := r53.ChangeResourceRecordSets(ctx, &route53.ChangeResourceRecordSetsInput{HostedZoneId: aws.String(zoneID), ChangeBatch: &r53types.ChangeBatch{
			Changes: []r53types.Change{{Action: r53types.ChangeActionCreate, ResourceRecordSet: &r53types.ResourceRecordSet{
				Name: aws.String("taken.example.com."), Type: r53types.RRTypeA, TTL: aws.Int64(60),
				ResourceRecords: []r53types.ResourceRecord{{Value: aws.String("192.0.2.10")}},
			}}},
		}}); err != nil {
			t.Fatal(err)
		}
		// It is one more record destroy must leave alone.
		handWritten = append(handWritten, "taken.example.com A 192.0.2.10")
		slices.Sort(handWritten)
		other := copyDir(t, "testdata/domains")
		spec := filepath.Join(other, "evdeploy.evd.hcl")
		src := strings.ReplaceAll(string(readFile(t, spec)), "api.example.com", "taken.example.com")
		if err := os.WriteFile(spec, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		stage := uniqueStage("t")
		r := evd(t, "apply", "--auto-approve", "-C", other, "--stage", stage, "--target", "local", "--endpoint", emu, "--var", "admin_certificate="+adminCert)
		if r.code == 0 || !strings.Contains(r.errOut, "a A record taken.example.com (192.0.2.10) already exists") {
			t.Errorf("apply next to a hand-written record: exit %d\n%s%s", r.code, r.out, r.errOut)
		}
		if _, err := os.Stat(filepath.Join(other, ".evdeploy", "state", stage+".json")); err == nil {
			if res := stateResources(t, filepath.Join(other, ".evdeploy", "state", stage+".json")); len(res) > 0 {
				t.Errorf("the refused apply wrote %d resources", len(res))
			}
		}
	})

	t.Run("a domain another deployment holds stops the plan", func(t *testing.T) {
		other := []string{"-C", copyDir(t, "testdata/domains"), "--stage", uniqueStage("o"), "--target", "local", "--endpoint", emu}
		r := evd(t, append([]string{"plan"}, other...)...)
		if r.code == 0 || !strings.Contains(r.errOut, "api.example.com already exists and is not this deployment's") {
			t.Errorf("plan of another stage on the same domain: exit %d\n%s%s", r.code, r.out, r.errOut)
		}
	})

	mustEvd(t, 0, append([]string{"destroy", "--auto-approve"}, common...)...)
	if got := zoneRecords(t, ctx, r53, zoneID); !slices.Equal(got, handWritten) {
		t.Errorf("zone after destroy:\n%s\nwant only the hand-written records:\n%s", strings.Join(got, "\n"), strings.Join(handWritten, "\n"))
	}
	if _, err := certs.DescribeCertificate(ctx, &acm.DescribeCertificateInput{CertificateArn: aws.String(adminCert)}); err != nil {
		t.Errorf("the existing certificate after destroy: %v", err)
	}
	if _, err := certs.DescribeCertificate(ctx, &acm.DescribeCertificateInput{CertificateArn: aws.String(certARN)}); err == nil {
		t.Errorf("the requested certificate survived destroy")
	}
	for _, name := range []string{"api.example.com", "admin.example.com", "admin2.example.com"} {
		if _, err := apigw.GetDomainName(ctx, &apigatewayv2.GetDomainNameInput{DomainName: aws.String(name)}); err == nil {
			t.Errorf("domain %s survived destroy", name)
		}
	}
}

// TestE2EDomainErrors: a zone that does not exist stops the plan at the
// domain block, before anything is written.
func TestE2EDomainErrors(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	emu := motoserver.URL(t)
	dir := copyDir(t, "testdata/domains")
	spec := filepath.Join(dir, "evdeploy.evd.hcl")
	src := strings.ReplaceAll(string(readFile(t, spec)), "example.com", "missing.example")
	if err := os.WriteFile(spec, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	stage := uniqueStage("z")
	r := evd(t, "plan", "-C", dir, "--stage", stage, "--target", "local", "--endpoint", emu)
	if r.code == 0 || !strings.Contains(r.errOut, "Hosted zone not found") || !strings.Contains(r.errOut, "evdeploy.evd.hcl line 23") {
		t.Errorf("plan with a missing zone: exit %d\n%s%s", r.code, r.out, r.errOut)
	}
}

// TestE2EDomainsOnEngine: on the embedded engine the domains app applies
// (no certificate wait), re-plans clean, the url output shows the domain, and
// a request with the domain as its Host reaches the function with the base
// path stripped, as API Gateway routes it; destroy leaves the hand-written
// record alone.
func TestE2EDomainsOnEngine(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	port := localEngineUp(t)
	endpoint := fmt.Sprintf("http://127.0.0.1:%d", port)
	t.Cleanup(func() { runLocal(t, "local", "down") })
	ctx := t.Context()
	cfg, err := (&localstack.Target{Endpoint: endpoint, Region: "us-east-1"}).AWSConfig(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	r53 := route53.NewFromConfig(cfg)
	zoneID := domainsZone(t, ctx, r53, "example.com")
	handWritten := zoneRecords(t, ctx, r53, zoneID)

	dir := copyDir(t, "testdata/domains")
	common := []string{"-C", dir, "--target", "local"}
	if code, out, errOut := runLocal(t, append([]string{"apply", "--auto-approve"}, common...)...); code != 0 {
		t.Fatalf("apply: exit %d\n%s%s", code, out, errOut)
	}
	if code, out, errOut := runLocal(t, append([]string{"plan", "--detailed-exitcode"}, common...)...); code != 0 {
		t.Errorf("plan after apply: exit %d\n%s%s", code, out, errOut)
	}
	_, out, _ := runLocal(t, append([]string{"output", "url"}, common...)...)
	if want := fmt.Sprintf("http://api.example.com.localhost:%d/v1", port); strings.TrimSpace(out) != want {
		t.Errorf("output url = %q, want %q", strings.TrimSpace(out), want)
	}

	get := func(host, path string) (int, string) {
		t.Helper()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Host = host
		var resp *http.Response
		// The function's process may still be starting.
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
			resp, err = http.DefaultClient.Do(req)
			if err == nil && (resp.StatusCode < 500 || time.Now().After(deadline)) {
				break
			}
			if err == nil {
				resp.Body.Close()
			}
			if time.Now().After(deadline) {
				t.Fatalf("GET %s%s: %v", host, path, err)
			}
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for _, host := range []string{"api.example.com", fmt.Sprintf("api.example.com.localhost:%d", port)} {
		code, body := get(host, "/v1/hello")
		if code != 200 || !strings.Contains(body, `"route": "GET /hello"`) {
			t.Errorf("GET http://%s/v1/hello: %d %s", host, code, body)
		}
	}
	if code, body := get("admin.example.com", "/hello"); code != 200 || !strings.Contains(body, `"route": "GET /hello"`) {
		t.Errorf("GET http://admin.example.com/hello: %d %s", code, body)
	}
	if code, _ := get("api.example.com", "/v2/hello"); code != 404 {
		t.Errorf("GET http://api.example.com/v2/hello (no such base path): %d, want 404", code)
	}

	if code, out, errOut := runLocal(t, append([]string{"destroy", "--auto-approve"}, common...)...); code != 0 {
		t.Fatalf("destroy: exit %d\n%s%s", code, out, errOut)
	}
	if got := zoneRecords(t, ctx, r53, zoneID); !slices.Equal(got, handWritten) {
		t.Errorf("zone after destroy:\n%s\nwant only:\n%s", strings.Join(got, "\n"), strings.Join(handWritten, "\n"))
	}
}
