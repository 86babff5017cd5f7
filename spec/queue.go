package spec

import (
	"time"

	"github.com/hashicorp/hcl/v2"
)

// Queue defaults and limits (SQS's).
const (
	DefaultVisibilityTimeout = 30 * time.Second
	DefaultQueueRetention    = 4 * 24 * time.Hour
	DefaultDLQRetention      = 14 * 24 * time.Hour
	MaxVisibilityTimeout     = 12 * time.Hour
	MinQueueRetention        = 60 * time.Second
	MaxQueueRetention        = 14 * 24 * time.Hour
	MaxQueueDelay            = 15 * time.Minute
)

var queueSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "name"},
		{Name: "fifo"},
		{Name: "visibility_timeout"},
		{Name: "retention"},
		{Name: "delay"},
		{Name: "tags"},
	},
	Blocks: []hcl.BlockHeaderSchema{{Type: "dead_letter"}},
}

var deadLetterSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "max_receives", Required: true},
		{Name: "retention"},
	},
}

func (d *decoder) queue(addr Addr, b *hcl.Block) *Queue {
	if ex := d.existing(addr, b); ex != nil {
		return &Queue{Addr: addr, DeclRange: b.DefRange, Existing: ex}
	}
	c := d.content(b.Body, queueSchema)
	a := c.Attributes
	q := &Queue{
		Addr:              addr,
		DeclRange:         b.DefRange,
		FIFO:              d.boolean(a, "fifo", false),
		VisibilityTimeout: d.duration(a, "visibility_timeout", DefaultVisibilityTimeout, 0, MaxVisibilityTimeout),
		Retention:         d.duration(a, "retention", DefaultQueueRetention, MinQueueRetention, MaxQueueRetention),
		Delay:             d.duration(a, "delay", 0, 0, MaxQueueDelay),
		Tags:              d.tags(a),
	}
	d.physicalName(a, KindQueue, q.FIFO, &q.PhysicalName)
	for i, db := range c.Blocks {
		if i > 0 {
			d.errorf(db.DefRange, "Duplicate dead_letter block", "The dead-letter queue is already configured at %s.", c.Blocks[0].DefRange)
			continue
		}
		dc := d.content(db.Body, deadLetterSchema)
		q.DeadLetter = &DeadLetter{
			MaxReceives: d.integer(dc.Attributes, "max_receives", 1, 1, 1000, ""),
			Retention:   d.duration(dc.Attributes, "retention", DefaultDLQRetention, MinQueueRetention, MaxQueueRetention),
			Range:       db.DefRange,
		}
	}
	return q
}
