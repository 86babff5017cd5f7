package spec

import (
	"time"

	"github.com/hashicorp/hcl/v2"
)

// Kinesis stream defaults and limits.
const (
	DefaultStreamRetention = 24 * time.Hour
	MaxStreamRetention     = 365 * 24 * time.Hour
)

var streamSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "name"}, {Name: "shards"}, {Name: "on_demand"}, {Name: "retention"}, {Name: "tags"}},
}

func (d *decoder) stream(addr Addr, b *hcl.Block) *Stream {
	if ex := d.existing(addr, b); ex != nil {
		return &Stream{Addr: addr, DeclRange: b.DefRange, Existing: ex}
	}
	c := d.content(b.Body, streamSchema)
	a := c.Attributes
	s := &Stream{
		Addr:      addr,
		DeclRange: b.DefRange,
		OnDemand:  d.boolean(a, "on_demand", false),
		Tags:      d.tags(a),
	}
	d.physicalName(a, KindStream, false, &s.PhysicalName)
	// A stream is provisioned with 1 shard unless it says otherwise.
	s.Shards = d.integer(a, "shards", 1, 1, 10000, "shards")
	if s.OnDemand {
		if attr := a["shards"]; attr != nil {
			d.errorf(attr.Expr.Range(), "Conflicting settings", "An on-demand stream scales its own shards; remove \"shards\" or on_demand.")
		}
		s.Shards = 0
	}
	ret := d.duration(a, "retention", DefaultStreamRetention, DefaultStreamRetention, MaxStreamRetention)
	if ret%time.Hour != 0 {
		d.errorf(a["retention"].Expr.Range(), "Invalid value", "Kinesis keeps records for whole hours; %s is not.", FormatDuration(ret))
		ret = DefaultStreamRetention
	}
	s.RetentionHours = int(ret / time.Hour)
	return s
}
