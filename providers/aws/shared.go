package aws

import "sync"

// readShare holds what one list or read call of a refresh returned for several
// handlers' Reads (a function's resource policy serves the function and each
// of its permissions), so the service is asked once. Each entry is handed out
// a fixed number of times and then forgotten; a write to the resource forgets
// it at once, so a Read after a change never sees the earlier answer. The
// zero value and a nil *readShare are empty.
type readShare struct {
	mu sync.Mutex
	m  map[string]*shared
}

type shared struct {
	v    any
	left int
}

// reset replaces everything held with m (key → value and how many Reads may
// take it): what an earlier refresh left untaken is dropped.
func (s *readShare) reset(m map[string]*shared) {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m = m
}

// take returns the value held for key, if any, counting one use.
func (s *readShare) take(key string) (any, bool) {
	if s == nil {
		return nil, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.m[key]
	if !ok {
		return nil, false
	}
	if e.left--; e.left <= 0 {
		delete(s.m, key)
	}
	return e.v, true
}

// forget drops the value held for key (the resource is being changed).
func (s *readShare) forget(key string) {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, key)
}
