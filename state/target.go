package state

// SetTarget records where the deployment lives (e.g. "aws:123456789012:us-east-1"),
// so a later run against another account, region or endpoint refuses instead
// of planning to recreate everything. Writes only when it changes.
func (s *Session) SetTarget(target string) error {
	return s.enqueue(&pendingChange{what: "record target", head: func(d *Document) bool {
		if d.Target == target {
			return false
		}
		d.Target = target
		return true
	}})
}
