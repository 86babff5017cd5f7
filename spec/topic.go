package spec

import "github.com/hashicorp/hcl/v2"

var topicSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "name"}, {Name: "fifo"}, {Name: "tags"}},
}

func (d *decoder) topic(addr Addr, b *hcl.Block) *Topic {
	if ex := d.existing(addr, b); ex != nil {
		return &Topic{Addr: addr, DeclRange: b.DefRange, Existing: ex}
	}
	c := d.content(b.Body, topicSchema)
	t := &Topic{
		Addr:      addr,
		DeclRange: b.DefRange,
		FIFO:      d.boolean(c.Attributes, "fifo", false),
		Tags:      d.tags(c.Attributes),
	}
	d.physicalName(c.Attributes, KindTopic, t.FIFO, &t.PhysicalName)
	return t
}
