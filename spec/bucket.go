package spec

import "github.com/hashicorp/hcl/v2"

var bucketSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "name"}, {Name: "tags"}},
}

func (d *decoder) bucket(addr Addr, b *hcl.Block) *Bucket {
	c := d.content(b.Body, bucketSchema)
	bk := &Bucket{Addr: addr, DeclRange: b.DefRange, Tags: d.tags(c.Attributes)}
	d.physicalName(c.Attributes, KindBucket, false, &bk.PhysicalName)
	return bk
}
