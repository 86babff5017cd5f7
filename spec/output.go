package spec

import "github.com/hashicorp/hcl/v2"

var outputSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "value", Required: true}, {Name: "description"}, {Name: "sensitive"}},
}

func (d *decoder) output(addr Addr, b *hcl.Block) *Output {
	c := d.content(b.Body, outputSchema)
	o := &Output{
		Addr:        addr,
		DeclRange:   b.DefRange,
		Description: d.str(c.Attributes, "description", ""),
		Sensitive:   d.boolean(c.Attributes, "sensitive", false),
	}
	if attr := c.Attributes["value"]; attr != nil {
		o.Value = attr.Expr
		d.secretValue(attr) // checks references; the value may be known only after deploy
	}
	return o
}
