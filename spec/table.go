package spec

import (
	"regexp"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
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
		{Name: "point_in_time_recovery"},
		{Name: "tags"},
	},
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "attribute", LabelNames: []string{"name"}},
		{Type: "index", LabelNames: []string{"name"}},
	},
}

var tableIndexSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "hash_key", Required: true},
		{Name: "range_key"},
		{Name: "projection"},
	},
}

// DynamoDB's limits for global secondary indexes (default quota: 20 per
// table; at most 100 projected non-key attributes over all of a table's
// indexes).
const (
	maxTableIndexes       = 20
	maxProjectedNonKeyAll = 100
)

var indexNameRE = regexp.MustCompile(`^[A-Za-z0-9_.-]{3,255}$`)

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
	if ex := d.existing(addr, b); ex != nil {
		return &Table{Addr: addr, DeclRange: b.DefRange, Existing: ex}
	}
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

		PointInTimeRecovery: d.boolean(a, "point_in_time_recovery", false),
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

	// Attribute types: S unless an attribute block says otherwise. DynamoDB
	// rejects attribute definitions that no key (of the table or of an index)
	// uses, so an unused one is an error.
	types := map[string]string{}
	declared := map[string]*hcl.Block{}
	var indexBlocks []*hcl.Block
	for _, ab := range c.Blocks {
		if ab.Type == "index" {
			indexBlocks = append(indexBlocks, ab)
			continue
		}
		name := ab.Labels[0]
		if first, dup := declared[name]; dup {
			d.errorf(ab.LabelRanges[0], "Duplicate attribute block", "Attribute %q is already declared at %s.", name, first.DefRange)
			continue
		}
		declared[name] = ab
		ac := d.content(ab.Body, tableAttributeSchema)
		types[name] = d.enum(ac.Attributes, "type", "S", []string{"S", "N", "B"})
	}
	typeOf := func(name string) string {
		if ty, ok := types[name]; ok {
			return ty
		}
		return "S"
	}
	used := map[string]bool{t.HashKey: true, t.RangeKey: true}
	t.HashKeyType = typeOf(t.HashKey)
	if t.RangeKey != "" {
		t.RangeKeyType = typeOf(t.RangeKey)
	}

	seenIndex := map[string]hcl.Range{}
	nonKey := 0
	for _, ib := range indexBlocks {
		name := ib.Labels[0]
		if first, dup := seenIndex[name]; dup {
			d.errorf(ib.LabelRanges[0], "Duplicate index block", "Index %q is already declared at %s.", name, first)
			continue
		}
		seenIndex[name] = ib.DefRange
		if !indexNameRE.MatchString(name) {
			d.errorf(ib.LabelRanges[0], "Invalid index name",
				"An index name is 3 to 255 characters: letters, digits, '_', '-' and '.'; %q is not.", name)
		}
		x := d.tableIndex(ib)
		if x == nil {
			continue
		}
		x.HashKeyType = typeOf(x.HashKey)
		used[x.HashKey] = true
		if x.RangeKey != "" {
			x.RangeKeyType = typeOf(x.RangeKey)
			used[x.RangeKey] = true
		}
		nonKey += len(x.NonKeyAttributes)
		t.Indexes = append(t.Indexes, x)
	}
	if len(indexBlocks) > maxTableIndexes {
		d.errorf(indexBlocks[maxTableIndexes].DefRange, "Too many indexes",
			"DynamoDB allows at most %d global secondary indexes per table; this table has %d.", maxTableIndexes, len(indexBlocks))
	}
	if nonKey > maxProjectedNonKeyAll {
		d.errorf(b.DefRange, "Too many projected attributes",
			"DynamoDB allows at most %d projected non-key attributes over all of a table's indexes; this table projects %d.", maxProjectedNonKeyAll, nonKey)
	}
	sort.Slice(t.Indexes, func(i, j int) bool { return t.Indexes[i].Name < t.Indexes[j].Name })
	for name, ab := range declared {
		if !used[name] {
			d.errorf(ab.LabelRanges[0], "Attribute is not a key",
				"Only key attributes are declared (DynamoDB rejects others); %q is not the hash_key or range_key of the table or of one of its indexes.", name)
		}
	}
	return t
}

// tableIndex decodes an `index` block; nil when its keys are unusable.
func (d *decoder) tableIndex(b *hcl.Block) *TableIndex {
	c := d.content(b.Body, tableIndexSchema)
	a := c.Attributes
	x := &TableIndex{
		Name:       b.Labels[0],
		HashKey:    d.attrName(a, "hash_key"),
		RangeKey:   d.attrName(a, "range_key"),
		Projection: "ALL",
		Range:      b.DefRange,
	}
	if x.HashKey == "" {
		return nil
	}
	if x.RangeKey != "" && x.RangeKey == x.HashKey {
		d.errorf(a["range_key"].Expr.Range(), "Invalid key schema", "The index's range key must differ from its hash key %q.", x.HashKey)
		x.RangeKey = ""
	}
	attr := a["projection"]
	if attr == nil {
		return x
	}
	v, ok := d.value(attr, false)
	if !ok {
		return x
	}
	const what = `"projection" must be "all", "keys_only" or a list of attribute names to project besides the keys`
	switch {
	case v.Type() == cty.String:
		x.Projection = strings.ToUpper(d.enum(a, "projection", "all", []string{"all", "keys_only"}))
	case v.Type().IsListType() || v.Type().IsTupleType() || v.Type().IsSetType():
		names := d.strList(a, "projection")
		if names == nil {
			return x
		}
		if len(names) == 0 {
			d.errorf(attr.Expr.Range(), "Invalid value", "%s; an empty list projects nothing: use \"keys_only\".", what)
			return x
		}
		seen := map[string]bool{}
		for _, n := range names {
			switch {
			case n == "" || len(n) > 255:
				d.errorf(attr.Expr.Range(), "Invalid value", "Projected attribute names are 1 to 255 characters; %q is not.", n)
				return x
			case seen[n]:
				d.errorf(attr.Expr.Range(), "Invalid value", "Attribute %q is projected twice.", n)
				return x
			}
			seen[n] = true
		}
		x.Projection, x.NonKeyAttributes = "INCLUDE", names
	default:
		d.errorf(attr.Expr.Range(), "Invalid value", "%s.", what)
	}
	return x
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
