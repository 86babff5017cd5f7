package spec

import (
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
)

var apiSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "name"}, {Name: "tags"}},
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "cors"},
		{Type: "jwt", LabelNames: []string{"name"}},
		{Type: "domain"},
	},
}

var corsSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "allow_origins"}, {Name: "allow_methods"}, {Name: "allow_headers"},
		{Name: "expose_headers"}, {Name: "allow_credentials"}, {Name: "max_age"},
	},
}

var jwtSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "issuer", Required: true},
		{Name: "audience", Required: true},
		{Name: "identity_source"},
	},
}

// API Gateway's limits: CORS max age up to 86400 s; 10 authorizers per API;
// an authorizer's name 1 to 128 characters.
const (
	MaxCORSMaxAge         = 24 * time.Hour
	maxAPIAuthorizers     = 10
	DefaultIdentitySource = "$request.header.Authorization"
)

// CORS is an api's `cors` block: API Gateway answers preflight requests and
// adds the CORS headers itself.
type CORS struct {
	AllowOrigins     []string
	AllowMethods     []string
	AllowHeaders     []string
	ExposeHeaders    []string
	AllowCredentials bool
	MaxAge           time.Duration // 0: not set
	Range            hcl.Range
}

// JWTAuthorizer is an api's `jwt "name"` block.
type JWTAuthorizer struct {
	Name           string
	Issuer         string
	Audience       []string
	IdentitySource string // default $request.header.Authorization
	Range          hcl.Range
}

func (d *decoder) api(addr Addr, b *hcl.Block) *API {
	c := d.content(b.Body, apiSchema)
	api := &API{Addr: addr, DeclRange: b.DefRange, Tags: d.tags(c.Attributes)}
	d.physicalName(c.Attributes, KindAPI, false, &api.PhysicalName)
	seen := map[string]hcl.Range{}
	var jwts []*hcl.Block
	for _, blk := range c.Blocks {
		switch blk.Type {
		case "cors":
			if api.CORS != nil {
				d.errorf(blk.DefRange, "Duplicate cors block", "%s already has a cors block at %s; an API has one.", addr, api.CORS.Range)
				continue
			}
			api.CORS = d.cors(blk)
		case "domain":
			if api.Domain != nil {
				d.errorf(blk.DefRange, "Duplicate domain block", "%s already has a domain block at %s; an API has at most one.", addr, api.Domain.Range)
				continue
			}
			api.Domain = d.domain(addr, blk)
		case "jwt":
			name := blk.Labels[0]
			if first, dup := seen[name]; dup {
				d.errorf(blk.LabelRanges[0], "Duplicate jwt block", "Authorizer %q is already declared at %s.", name, first)
				continue
			}
			seen[name] = blk.DefRange
			jwts = append(jwts, blk)
			api.JWT = append(api.JWT, d.jwt(blk))
		}
	}
	if len(jwts) > maxAPIAuthorizers {
		d.errorf(jwts[maxAPIAuthorizers].DefRange, "Too many authorizers", "API Gateway allows at most %d authorizers per API; this API has %d.", maxAPIAuthorizers, len(jwts))
	}
	sort.Slice(api.JWT, func(i, j int) bool { return api.JWT[i].Name < api.JWT[j].Name })
	return api
}

var corsMethods = []string{"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "*"}

func (d *decoder) cors(b *hcl.Block) *CORS {
	a := d.content(b.Body, corsSchema).Attributes
	c := &CORS{
		AllowOrigins:     d.strList(a, "allow_origins"),
		AllowHeaders:     d.strList(a, "allow_headers"),
		ExposeHeaders:    d.strList(a, "expose_headers"),
		AllowCredentials: d.boolean(a, "allow_credentials", false),
		MaxAge:           d.duration(a, "max_age", 0, 0, MaxCORSMaxAge),
		Range:            b.DefRange,
	}
	if attr := a["allow_origins"]; attr != nil {
		for _, o := range c.AllowOrigins {
			if o == "*" {
				if c.AllowCredentials {
					d.errorf(attr.Expr.Range(), "Invalid CORS", "allow_credentials cannot be combined with allow_origins \"*\" (API Gateway and browsers refuse it); list the origins.")
				}
				continue
			}
			if u, err := url.Parse(o); err != nil || u.Scheme == "" || u.Host == "" || (u.Path != "" && u.Path != "/") {
				d.errorf(attr.Expr.Range(), "Invalid CORS", "An origin is \"*\" or scheme://host[:port], like \"https://shop.example.com\"; got %q.", o)
			}
		}
	}
	if attr := a["allow_methods"]; attr != nil {
		for _, m := range d.strList(a, "allow_methods") {
			up := strings.ToUpper(m)
			if !contains(corsMethods, up) {
				d.errorf(attr.Expr.Range(), "Invalid CORS", "%q is not a method; use %s.%s", m, quoteList(corsMethods), suggest(up, corsMethods))
				continue
			}
			c.AllowMethods = append(c.AllowMethods, up)
		}
	}
	if c.MaxAge%time.Second != 0 {
		c.MaxAge = c.MaxAge.Truncate(time.Second)
	}
	return c
}

func (d *decoder) jwt(b *hcl.Block) *JWTAuthorizer {
	a := d.content(b.Body, jwtSchema).Attributes
	j := &JWTAuthorizer{
		Name:           b.Labels[0],
		Issuer:         d.str(a, "issuer", ""),
		Audience:       d.strList(a, "audience"),
		IdentitySource: d.str(a, "identity_source", DefaultIdentitySource),
		Range:          b.DefRange,
	}
	if len(j.Name) > 128 {
		d.errorf(b.LabelRanges[0], "Invalid authorizer name", "An authorizer's name is at most 128 characters.")
	}
	if attr := a["issuer"]; attr != nil && j.Issuer != "" {
		if u, err := url.Parse(j.Issuer); err != nil || u.Scheme != "https" || u.Host == "" {
			d.errorf(attr.Expr.Range(), "Invalid issuer", "A JWT issuer is an https:// URL (its OpenID configuration is fetched from there); got %q.", j.Issuer)
		}
	}
	if attr := a["audience"]; attr != nil && j.Audience != nil && len(j.Audience) == 0 {
		d.errorf(attr.Expr.Range(), "Invalid audience", "\"audience\" lists at least one client id the tokens must be issued for.")
	}
	if attr := a["identity_source"]; attr != nil && !strings.HasPrefix(j.IdentitySource, "$request.") {
		d.errorf(attr.Expr.Range(), "Invalid identity source", "An identity source is a request selection expression like %q; got %q.", DefaultIdentitySource, j.IdentitySource)
	}
	return j
}
