package planner

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/evdeploy/evdeploy/state"
)

// Observation is what refresh saw of one resource.
type Observation struct {
	Exists bool
	// Attrs are the attributes the service reported (only those: an attribute
	// left out is not drift).
	Attrs Attrs

	// ID is the physical id of an adopted resource (the recorded id otherwise).
	ID string
	// FromJournal marks the observation of a journaled create that state does
	// not record; Adopted is set when that resource was found and is taken
	// over.
	FromJournal bool
	Adopted     bool
	// Foreign says why a resource found under a journaled name is not
	// evdeploy's (ownership.go); it is neither adopted nor changed.
	Foreign string
}

// DefaultParallelism is the number of concurrent API operations when the
// caller does not choose.
const DefaultParallelism = 10

// Refresh reads every resource in state, at most parallelism at a time, and
// looks up every journaled create that state does not record (an apply killed
// between the API call and the state write) by its deterministic name. A
// journaled resource that exists is adopted: Diff treats it as known, with the
// found id, so the plan does not create a duplicate. Only journaled names are
// looked up; nothing else is ever adopted.
//
// Errors name the resource address; every read is attempted and all errors are
// returned together.
func Refresh(ctx context.Context, doc *state.Document, reg Registry, parallelism int) (map[string]Observation, error) {
	if parallelism <= 0 {
		parallelism = DefaultParallelism
	}
	obs := map[string]Observation{}
	if doc == nil {
		return obs, nil
	}
	var (
		mu   sync.Mutex
		errs = map[string]error{}
		wg   sync.WaitGroup
		sem  = make(chan struct{}, parallelism)
	)
	run := func(addr string, f func() (Observation, error)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				mu.Lock()
				errs[addr] = fmt.Errorf("%s: read: %w", addr, ctx.Err())
				mu.Unlock()
				return
			}
			defer func() { <-sem }()
			o, err := f()
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs[addr] = err
				return
			}
			obs[addr] = o
		}()
	}

	// One list call per type where a list serves many: prefetch before the
	// reads, so each of them makes only the calls the list cannot answer.
	byType := map[string][]string{}
	for _, r := range doc.Resources {
		byType[r.Type] = append(byType[r.Type], r.ID)
	}
	var pwg sync.WaitGroup
	for typ, ids := range byType {
		p, ok := reg[typ].(Prefetcher)
		if !ok || len(ids) < 2 {
			continue
		}
		pwg.Add(1)
		go func() {
			defer pwg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			_ = retryThrottled(ctx, func() error { return p.Prefetch(ctx, ids) })
		}()
	}
	pwg.Wait()

	inState := map[string]bool{}
	for _, r := range doc.Resources {
		inState[r.Addr] = true
		h, ok := reg[r.Type]
		if !ok {
			errs[r.Addr] = fmt.Errorf("%s: no handler for resource type %q", r.Addr, r.Type)
			continue
		}
		run(r.Addr, func() (Observation, error) {
			var actual Attrs
			var exists bool
			err := retryThrottled(ctx, func() error {
				var err error
				actual, exists, err = h.Read(ctx, r.ID, Attrs(r.Attrs).Norm())
				return err
			})
			if err != nil {
				return Observation{}, fmt.Errorf("%s: read: %w", r.Addr, err)
			}
			return Observation{Exists: exists, Attrs: actual.Norm(), ID: r.ID}, nil
		})
	}
	for _, in := range doc.Journal {
		if inState[in.Addr] {
			continue // recorded after all; the stale intent is forgotten by apply
		}
		h, ok := reg[in.Type]
		if !ok {
			errs[in.Addr] = fmt.Errorf("%s: no handler for resource type %q", in.Addr, in.Type)
			continue
		}
		run(in.Addr, func() (Observation, error) {
			var id, foreign string
			var actual Attrs
			var found bool
			err := retryThrottled(ctx, func() error {
				var err error
				id, actual, found, foreign, err = lookupIntent(ctx, h, in, proofJournal)
				return err
			})
			if err != nil {
				return Observation{}, fmt.Errorf("%s: looking up %q left by an interrupted apply: %w", in.Addr, in.Name, err)
			}
			return Observation{Exists: found, Attrs: actual.Norm(), ID: id, FromJournal: true, Adopted: found, Foreign: foreign}, nil
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		addrs := make([]string, 0, len(errs))
		for a := range errs {
			addrs = append(addrs, a)
		}
		sort.Strings(addrs)
		list := make([]error, len(addrs))
		for i, a := range addrs {
			list[i] = errs[a]
		}
		return obs, errors.Join(list...)
	}
	return obs, nil
}

// refreshRetry shapes the backoff of throttled reads (a refresh of many
// resources is what AWS throttles first); tests shorten it.
var refreshRetry = struct {
	retries    int
	base, maxD time.Duration
}{retries: 8, base: 250 * time.Millisecond, maxD: 10 * time.Second}

// retryThrottled calls f until it is not throttled, with jittered backoff and
// a bounded number of retries.
func retryThrottled(ctx context.Context, f func() error) error {
	for n := 1; ; n++ {
		err := f()
		if err == nil || !errors.Is(err, ErrThrottled) {
			return err
		}
		if n > refreshRetry.retries {
			return fmt.Errorf("still throttled after %d retries: %w", refreshRetry.retries, err)
		}
		t := time.NewTimer(jitteredBackoff(refreshRetry.base, refreshRetry.maxD, n))
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w (last error: %v)", ctx.Err(), err)
		case <-t.C:
		}
	}
}

// lookupIntent finds the resource a journaled create may have made: through
// Finder when the type implements it, else by reading the journaled name, which
// apply sets to the expected physical id (see journalName). A type whose id is
// neither derivable nor its name must implement Finder.
//
// Only a resource evdeploy can prove it made is reported found (ownership.go,
// with proof p). One that exists but is not provably evdeploy's is reported
// not found, with foreign saying why: it is never adopted, never changed.
func lookupIntent(ctx context.Context, h Handler, in state.Intent, p proof) (id string, actual Attrs, found bool, foreign string, err error) {
	desired := Attrs(in.Attrs).Norm()
	if f, ok := h.(Finder); ok {
		id, actual, found, err = f.Find(ctx, desired)
	} else {
		id = in.Name
		actual, found, err = h.Read(ctx, in.Name, nil)
	}
	if err != nil || !found {
		return "", nil, false, "", err
	}
	if owned, why := judgeOwnership(h.Schema(), desired, actual.Norm(), p); !owned {
		return "", nil, false, why, nil
	}
	return id, actual, true, "", nil
}
