package spec

import (
	"regexp"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// Domain is an api's `domain` block: the API served at its own name, with a
// certificate (requested and DNS-validated by evdeploy, or an existing one)
// and records in a Route 53 zone the user owns.
type Domain struct {
	Name        string // lower case, no trailing dot
	Zone        string // the hosted zone's name, lower case, no trailing dot
	Certificate string // an existing ACM certificate's ARN; "" → evdeploy requests one
	BasePath    string // the API mapping key; "" → the root
	Range       hcl.Range
	NameRange   hcl.Range
}

// URL is the API's address under the domain: https://name[/base_path].
func (d *Domain) URL() string {
	if d.BasePath == "" {
		return "https://" + d.Name
	}
	return "https://" + d.Name + "/" + d.BasePath
}

var domainSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "name", Required: true},
		{Name: "zone", Required: true},
		{Name: "certificate"},
		{Name: "base_path"},
	},
}

var (
	dnsLabel       = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)
	certificateARN = regexp.MustCompile(`^arn:aws[a-z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate/[A-Za-z0-9-]+$`)
	// API Gateway's mapping keys: path segments of these characters.
	basePathSegment = regexp.MustCompile(`^[A-Za-z0-9$_.+!*'()-]+$`)
)

// dnsName checks a host name as Route 53 and API Gateway take it: labels of
// letters, digits and hyphens, at most 253 characters, at least two labels.
func dnsName(s string) (string, bool) {
	s = strings.TrimSuffix(strings.ToLower(s), ".")
	if s == "" || len(s) > 253 {
		return s, false
	}
	labels := strings.Split(s, ".")
	if len(labels) < 2 {
		return s, false
	}
	for _, l := range labels {
		if !dnsLabel.MatchString(l) {
			return s, false
		}
	}
	return s, true
}

func (d *decoder) domain(addr Addr, b *hcl.Block) *Domain {
	a := d.content(b.Body, domainSchema).Attributes
	dom := &Domain{Range: b.DefRange, NameRange: b.DefRange}
	var nameOK, zoneOK bool
	if attr := a["name"]; attr != nil {
		dom.NameRange = attr.Expr.Range()
		if raw := d.str(a, "name", ""); raw != "" {
			if dom.Name, nameOK = dnsName(raw); !nameOK {
				d.errorf(attr.Expr.Range(), "Invalid domain name", "%q is not a DNS name evdeploy can serve an API at: labels of letters, digits and hyphens separated by dots, like \"api.example.com\" (no wildcard, at most 253 characters).", raw)
			}
		}
	}
	if attr := a["zone"]; attr != nil {
		if raw := d.str(a, "zone", ""); raw != "" {
			if dom.Zone, zoneOK = dnsName(raw); !zoneOK {
				d.errorf(attr.Expr.Range(), "Invalid zone", "%q is not a hosted zone's name; give the zone's domain, like \"example.com\".", raw)
			}
		}
	}
	if nameOK && zoneOK && dom.Name != dom.Zone && !strings.HasSuffix(dom.Name, "."+dom.Zone) {
		d.errorf(dom.NameRange, "Domain outside its zone", "%q is not inside the zone %q, so evdeploy cannot write its records there; use a name that ends in .%s, or the zone that holds %q.", dom.Name, dom.Zone, dom.Zone, dom.Name)
	}
	if attr := a["certificate"]; attr != nil {
		dom.Certificate = d.str(a, "certificate", "")
		if dom.Certificate != "" && !certificateARN.MatchString(dom.Certificate) {
			d.errorf(attr.Expr.Range(), "Invalid certificate", "\"certificate\" is an ACM certificate's ARN, like \"arn:aws:acm:us-east-1:123456789012:certificate/…\"; got %q. Leave it out and evdeploy requests one.", dom.Certificate)
		}
	}
	if attr := a["base_path"]; attr != nil {
		raw := d.str(a, "base_path", "")
		bp := strings.Trim(raw, "/")
		ok := true
		for _, seg := range strings.Split(bp, "/") {
			if bp != "" && !basePathSegment.MatchString(seg) {
				ok = false
			}
		}
		if !ok || strings.HasPrefix(raw, "//") {
			d.errorf(attr.Expr.Range(), "Invalid base path", "A base path is the first part of the path the API is served under, like \"v1\" or \"orders/v2\" (letters, digits and -_.+!*'()$); got %q.", raw)
		}
		dom.BasePath = bp
	}
	return dom
}

// domains checks what no single domain block can: two apis may not claim
// the same name and base path, and apis sharing a name share its zone and
// certificate (the name is one API Gateway domain).
func (d *decoder) domains(app *App) {
	byName := map[string][]*API{}
	for _, a := range app.APIs {
		if a.Domain != nil && a.Domain.Name != "" {
			byName[a.Domain.Name] = append(byName[a.Domain.Name], a)
		}
	}
	names := make([]string, 0, len(byName))
	for n := range byName {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		apis := byName[n]
		first := apis[0]
		paths := map[string]*API{}
		for _, a := range apis {
			dom := a.Domain
			if prev := paths[dom.BasePath]; prev != nil {
				where := "its root"
				if dom.BasePath != "" {
					where = "base path \"" + dom.BasePath + "\""
				}
				d.errorf(dom.NameRange, "Duplicate domain", "%s already serves %q at %s (%s); give this api another name or base_path.", prev.Addr, n, where, prev.Domain.Range)
				continue
			}
			paths[dom.BasePath] = a
			if a == first {
				continue
			}
			if dom.Zone != first.Domain.Zone || dom.Certificate != first.Domain.Certificate {
				d.errorf(dom.Range, "Conflicting domain", "%s also serves %q (%s) with another zone or certificate; apis sharing a domain name give it the same zone and certificate.", first.Addr, n, first.Domain.Range)
			}
		}
	}
	apis := map[Addr]*API{}
	for _, a := range app.APIs {
		apis[a.Addr] = a
	}
	for _, r := range d.domainRefs {
		if a := apis[r.addr]; a != nil && a.Domain == nil {
			d.errorf(r.rng, "API has no domain", "%s has no domain block, so it has no domain_target to read; add domain { name = …, zone = … } to it.", r.addr)
		}
	}
}
