package planner

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/evdeploy/evdeploy/spec"
)

// domains lowers the apis' domain blocks. A domain name is one API Gateway
// domain however many apis it serves (each at its own base path): its
// certificate, validation record and wait, domain name and alias records
// belong to the first api (by address) that names it; every api gets its own
// mapping. Resource names carry the domain name, so a changed name is new
// resources beside the old ones, which go once the new ones exist
// (Schema.CreateBeforeDestroy): the new domain serves before the old goes.
func (l *lowering) domains() {
	owners := map[string]*spec.API{}
	domainAddrs := map[string]ResourceAddr{}
	for _, a := range l.app.APIs {
		dom := a.Domain
		if dom == nil || dom.Name == "" {
			continue
		}
		key := strings.NewReplacer(".", "_").Replace(dom.Name)
		if owners[dom.Name] == nil {
			owners[dom.Name] = a
			domainAddrs[dom.Name] = l.domain(a, key)
		}
		dn := domainAddrs[dom.Name]
		l.add(a.Addr, TypeAPIMapping, key, Attrs{
			"domain_name":     dom.Name,
			"api_id":          Ref{Resource: mainAddr(a.Addr, TypeAPI), Attr: "id"},
			"stage":           "$default",
			"api_mapping_key": dom.BasePath,
		}, dom.Name+"/"+dom.BasePath, "", dn, ResourceAddr{Block: a.Addr.String(), Type: TypeStage, Name: "default"})
		url := dom.URL()
		if f := l.opts.DomainURLFormat; f != "" {
			url = fmt.Sprintf(f, dom.Name)
			if dom.BasePath != "" {
				url += "/" + dom.BasePath
			}
		}
		l.blockAttrs[a.Addr]["url"] = url
		l.blockAttrs[a.Addr]["domain_target"] = Ref{Resource: dn, Attr: "target_domain_name"}
	}
}

// domain lowers what one domain name needs, under api a's block, and returns
// the domain name resource's address.
func (l *lowering) domain(a *spec.API, key string) ResourceAddr {
	dom := a.Domain
	zoneID := l.opts.Zones[dom.Zone]
	if zoneID == "" {
		l.diags = append(l.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Hosted zone not found",
			Detail:   fmt.Sprintf("The hosted zone %q of %s's domain was not found; evdeploy never creates a zone: create it (or fix its name) first.", dom.Zone, a.Addr),
			Subject:  dom.Range.Ptr(),
		})
	}
	// A regional domain name takes a certificate of its own region.
	if parts := strings.Split(dom.Certificate, ":"); len(parts) > 3 && l.opts.Region != "" && parts[3] != l.opts.Region {
		l.diags = append(l.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Certificate in another region",
			Detail:   fmt.Sprintf("%s's certificate is in %s, but the app deploys to %s; a regional API Gateway domain needs a certificate in its own region (or leave certificate out and evdeploy requests one).", a.Addr, parts[3], l.opts.Region),
			Subject:  dom.Range.Ptr(),
		})
	}
	var certARN any = dom.Certificate
	if dom.Certificate == "" {
		cert := l.add(a.Addr, TypeCertificate, key, Attrs{
			"domain_name": dom.Name, "validation_method": "DNS", "tags": l.tags(a.Addr, a.Tags),
		}, dom.Name, "")
		value := Ref{Resource: cert, Attr: "validation_record_value"}
		rec := l.add(a.Addr, TypeRecord, key+"_validation", Attrs{
			"zone_id": zoneID,
			"name":    Ref{Resource: cert, Attr: "validation_record_name"},
			"type":    "CNAME",
			"ttl":     int64(300),
			"records": &Expr{Refs: []Ref{value}, Text: "[" + cert.String() + ".validation_record_value]", Eval: func(resolved map[Ref]any) (any, error) {
				v, err := lowerResolve(value, resolved)
				if err != nil {
					return nil, err
				}
				return []any{v}, nil
			}},
		}, "", "")
		wait := l.add(a.Addr, TypeCertWait, key, Attrs{
			"certificate_arn": Ref{Resource: cert, Attr: "arn"},
			"record_fqdn":     Ref{Resource: rec, Attr: "name"},
		}, "", "")
		certARN = Ref{Resource: wait, Attr: "certificate_arn"}
	}
	dn := l.add(a.Addr, TypeDomainName, key, Attrs{
		"domain_name":     dom.Name,
		"certificate_arn": certARN,
		"endpoint_type":   "REGIONAL",
		"security_policy": "TLS_1_2",
		"tags":            l.tags(a.Addr, a.Tags),
	}, dom.Name, dom.Name)
	target, zone := Ref{Resource: dn, Attr: "target_domain_name"}, Ref{Resource: dn, Attr: "hosted_zone_id"}
	alias := &Expr{Refs: []Ref{target, zone}, Text: dn.String() + " target", Eval: func(resolved map[Ref]any) (any, error) {
		t, err := lowerResolve(target, resolved)
		if err != nil {
			return nil, err
		}
		z, err := lowerResolve(zone, resolved)
		if err != nil {
			return nil, err
		}
		return map[string]any{"name": t, "zone_id": z, "evaluate_target_health": false}, nil
	}}
	for _, typ := range []string{"A", "AAAA"} {
		l.add(a.Addr, TypeRecord, key+"_"+strings.ToLower(typ), Attrs{
			"zone_id": zoneID, "name": dom.Name, "type": typ, "alias": alias,
		}, dom.Name, "")
	}
	return dn
}
