package planner

import (
	"regexp"

	"github.com/evdeploy/evdeploy/spec"
)

// TypeArchive is an EventBridge archive of a bus's events; its physical id
// is its name.
const TypeArchive = "aws_eventbridge_archive"

// Archive names are at most 48 characters of [.-_A-Za-z0-9].
var ruleArchive = nameRule{max: 48, invalid: regexp.MustCompile(`[^A-Za-z0-9._-]`)}

// archive adds a bus's archive: every event put on the bus, kept for the
// retention (0 = indefinitely), for `evdeploy replay`.
func (l *lowering) archive(b *spec.Bus, busName string) {
	if b.Archive == nil {
		return
	}
	name := ruleArchive.fit(busName, "")
	l.add(b.Addr, TypeArchive, "main", Attrs{
		"name":             name,
		"event_source_arn": l.arn("events", "event-bus/"+busName),
		"retention_days":   int64(b.Archive.Retention.Hours() / 24),
		"description":      "evdeploy: " + b.Addr.String() + " (" + l.app.Name + ", stage " + l.app.Stage + ")",
	}, name, name, mainAddr(b.Addr, TypeBus))
}
