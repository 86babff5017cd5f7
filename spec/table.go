package spec

import (
	"github.com/hashicorp/hcl/v2"
)

var tableSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "name"},
		{Name: "hash_key", Required: true},
		{Name: "range_key"},
		{Name: "billing_mode"},
		{Name: "read_capacity"},
		{Name: "write_capacity"},
		{Name: "stream"},
		{Name: "ttl_attribute"},
		{Name: "tags"},
	},
	Blocks: []hcl.BlockHeaderSchema{{Type: "attribute", LabelNames: []string{"name"}}},
}

var tableAttributeSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "type", Required: true}},
}

// streamViews maps the spec's stream values to DynamoDB's StreamViewType.
var streamViews = map[string]string{
	"new_image":          "NEW_IMAGE",
	"old_image":          "OLD_IMAGE",
	"new_and_old_images": "NEW_AND_OLD_IMAGES",
	"keys_only":          "KEYS_ONLY",
}

func (d *decoder) table(addr Addr, b *hcl.Block) *Table {
	c := d.content(b.Body, tableSchema)
	a := c.Attributes
	t := &Table{
		Addr:         addr,
		DeclRange:    b.DefRange,
		HashKey:      d.attrName(a, "hash_key"),
		RangeKey:     d.attrName(a, "range_key"),
		BillingMode:  d.enum(a, "billing_mode", "PAY_PER_REQUEST", []string{"PAY_PER_REQUEST", "PROVISIONED"}),
		TTLAttribute: d.attrName(a, "ttl_attribute"),
		Tags:         d.tags(a),
	}
	d.physicalName(a, KindTable, false, &t.PhysicalName)
	if v := d.enum(a, "stream", "", keys(streamViews)); v != "" {
		t.StreamView = streamViews[v]
	}
	if t.RangeKey != "" && t.RangeKey == t.HashKey {
		d.errorf(a["range_key"].Expr.Range(), "Invalid key schema", "The range key must differ from the hash key %q.", t.HashKey)
	}
	if t.BillingMode == "PROVISIONED" {
		for _, n := range []string{"read_capacity", "write_capacity"} {
			if a[n] == nil {
				d.errorf(a["billing_mode"].Expr.Range(), "Missing capacity", "A PROVISIONED table needs %s (≥ 1).", n)
			}
		}
		t.ReadCapacity = d.integer(a, "read_capacity", 1, 1, 40000, "units")
		t.WriteCapacity = d.integer(a, "write_capacity", 1, 1, 40000, "units")
	} else {
		for _, n := range []string{"read_capacity", "write_capacity"} {
			if attr := a[n]; attr != nil {
				d.errorf(attr.Expr.Range(), "Conflicting settings", "%s applies only to billing_mode = \"PROVISIONED\"; a PAY_PER_REQUEST table has no capacity.", n)
			}
		}
	}

	// Key types: S unless an attribute block says otherwise. DynamoDB rejects
	// attribute definitions that are not keys.
	t.HashKeyType, t.RangeKeyType = "S", ""
	if t.RangeKey != "" {
		t.RangeKeyType = "S"
	}
	seen := map[string]hcl.Range{}
	for _, ab := range c.Blocks {
		name := ab.Labels[0]
		if first, dup := seen[name]; dup {
			d.errorf(ab.LabelRanges[0], "Duplicate attribute block", "Attribute %q is already declared at %s.", name, first)
			continue
		}
		seen[name] = ab.DefRange
		ac := d.content(ab.Body, tableAttributeSchema)
		ty := d.enum(ac.Attributes, "type", "S", []string{"S", "N", "B"})
		switch name {
		case t.HashKey:
			t.HashKeyType = ty
		case t.RangeKey:
			t.RangeKeyType = ty
		default:
			d.errorf(ab.LabelRanges[0], "Attribute is not a key",
				"Only key attributes are declared (DynamoDB rejects others); %q is neither hash_key nor range_key.", name)
		}
	}
	return t
}

// attrName decodes a DynamoDB attribute name (1 to 255 characters).
func (d *decoder) attrName(a hcl.Attributes, name string) string {
	attr := a[name]
	if attr == nil {
		return ""
	}
	s := d.str(a, name, "\x00")
	switch {
	case s == "\x00":
		return "" // reported
	case s == "" || len(s) > 255:
		d.errorf(attr.Expr.Range(), "Invalid value", "%q must be an attribute name of 1 to 255 characters.", name)
		return ""
	}
	return s
}
