package spec

import "github.com/hashicorp/hcl/v2"

var busSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "name"}, {Name: "tags"}},
	Blocks:     []hcl.BlockHeaderSchema{{Type: "archive"}},
}

func (d *decoder) bus(addr Addr, b *hcl.Block) *Bus {
	if ex := d.existing(addr, b); ex != nil {
		return &Bus{Addr: addr, DeclRange: b.DefRange, Existing: ex}
	}
	c := d.content(b.Body, busSchema)
	bus := &Bus{Addr: addr, DeclRange: b.DefRange, Tags: d.tags(c.Attributes)}
	d.physicalName(c.Attributes, KindBus, false, &bus.PhysicalName)
	bus.Archive = d.busArchive(addr, c.Blocks)
	return bus
}
