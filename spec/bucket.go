package spec

import (
	"sort"
	"time"

	"github.com/hashicorp/hcl/v2"
)

var bucketSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "name"}, {Name: "tags"}, {Name: "versioning"}},
	Blocks:     []hcl.BlockHeaderSchema{{Type: "lifecycle", LabelNames: []string{"name"}}},
}

var bucketLifecycleSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "prefix"}, {Name: "expire_after", Required: true}},
}

// S3's limits: a lifecycle configuration holds at most 1000 rules, a rule id
// is at most 255 characters, expiration counts whole days (at least one),
// and object keys (so prefixes) are at most 1024 bytes.
const (
	maxLifecycleRules  = 1000
	maxLifecycleExpiry = 100 * 365 * 24 * time.Hour
)

func (d *decoder) bucket(addr Addr, b *hcl.Block) *Bucket {
	if ex := d.existing(addr, b); ex != nil {
		return &Bucket{Addr: addr, DeclRange: b.DefRange, Existing: ex}
	}
	c := d.content(b.Body, bucketSchema)
	bk := &Bucket{
		Addr: addr, DeclRange: b.DefRange, Tags: d.tags(c.Attributes),
		Versioning: d.boolean(c.Attributes, "versioning", false),
	}
	d.physicalName(c.Attributes, KindBucket, false, &bk.PhysicalName)
	seen := map[string]hcl.Range{}
	for _, lb := range c.Blocks {
		name := lb.Labels[0]
		if first, dup := seen[name]; dup {
			d.errorf(lb.LabelRanges[0], "Duplicate lifecycle block", "Lifecycle rule %q is already declared at %s.", name, first)
			continue
		}
		seen[name] = lb.DefRange
		if len(name) > 255 {
			d.errorf(lb.LabelRanges[0], "Invalid lifecycle rule name", "A lifecycle rule's name is at most 255 characters.")
		}
		lc := d.content(lb.Body, bucketLifecycleSchema)
		r := &LifecycleRule{Name: name, Prefix: d.str(lc.Attributes, "prefix", ""), Range: lb.DefRange}
		if len(r.Prefix) > 1024 {
			d.errorf(lc.Attributes["prefix"].Expr.Range(), "Invalid value", "\"prefix\" is at most 1024 bytes (an S3 key's length).")
		}
		if attr := lc.Attributes["expire_after"]; attr != nil {
			r.ExpireAfter = d.duration(lc.Attributes, "expire_after", 0, 24*time.Hour, maxLifecycleExpiry)
			if r.ExpireAfter%(24*time.Hour) != 0 {
				d.errorf(attr.Expr.Range(), "Invalid duration",
					"\"expire_after\" counts whole days (S3 expires objects by day); %s is not.", FormatDuration(r.ExpireAfter))
			}
		}
		bk.Lifecycle = append(bk.Lifecycle, r)
	}
	if len(c.Blocks) > maxLifecycleRules {
		d.errorf(c.Blocks[maxLifecycleRules].DefRange, "Too many lifecycle rules",
			"S3 allows at most %d lifecycle rules per bucket; this bucket has %d.", maxLifecycleRules, len(c.Blocks))
	}
	sort.Slice(bk.Lifecycle, func(i, j int) bool { return bk.Lifecycle[i].Name < bk.Lifecycle[j].Name })
	return bk
}
