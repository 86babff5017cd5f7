package spec

import "github.com/hashicorp/hcl/v2"

var apiSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "name"}, {Name: "tags"}},
}

func (d *decoder) api(addr Addr, b *hcl.Block) *API {
	c := d.content(b.Body, apiSchema)
	api := &API{Addr: addr, DeclRange: b.DefRange, Tags: d.tags(c.Attributes)}
	d.physicalName(c.Attributes, KindAPI, false, &api.PhysicalName)
	return api
}
