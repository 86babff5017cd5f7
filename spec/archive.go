package spec

import (
	"time"

	"github.com/hashicorp/hcl/v2"
)

// BusArchive is a bus's `archive` block: EventBridge keeps the bus's events
// for Retention (whole days; 0 = indefinitely), so `evdeploy replay` can
// send them to the bus's rules again.
type BusArchive struct {
	Retention time.Duration
	Range     hcl.Range
}

var archiveSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "retention"}},
}

// busArchive decodes the archive blocks of a bus (at most one).
func (d *decoder) busArchive(addr Addr, blocks hcl.Blocks) *BusArchive {
	var out *BusArchive
	for _, b := range blocks {
		if b.Type != "archive" {
			continue
		}
		if out != nil {
			d.errorf(b.DefRange, "Duplicate archive block", "%s already has an archive block at %s; a bus has one.", addr, out.Range)
			continue
		}
		c := d.content(b.Body, archiveSchema)
		out = &BusArchive{Range: b.DefRange}
		out.Retention = d.duration(c.Attributes, "retention", 0, 24*time.Hour, 36500*24*time.Hour)
		if attr := c.Attributes["retention"]; attr != nil && out.Retention%(24*time.Hour) != 0 {
			d.errorf(attr.Expr.Range(), "Invalid value", "An archive keeps events for whole days, like \"30d\"; got %s.", FormatDuration(out.Retention))
		}
	}
	return out
}
