package planner

import (
	"context"
	"errors"
	"sync/atomic"
	"time"
)

type progressKey struct{}

// Progress reports how a long operation is getting on (a certificate waiting
// for its DNS validation) to whoever watches the apply: the executor turns it
// into a Retrying event of the operation, so the CLI's live view shows it.
// Without an apply watching, it does nothing.
func Progress(ctx context.Context, msg string) {
	if f, ok := ctx.Value(progressKey{}).(func(string)); ok {
		f(msg)
	}
}

// WithProgressFunc makes Progress calls under ctx call f (tests; observers
// outside an apply).
func WithProgressFunc(ctx context.Context, f func(msg string)) context.Context {
	return context.WithValue(ctx, progressKey{}, f)
}

// withProgress makes Progress calls under ctx events of operation o.
func (e *executor) withProgress(ctx context.Context, o *op, start time.Time) context.Context {
	var n atomic.Int64
	return context.WithValue(ctx, progressKey{}, func(msg string) {
		now := time.Now()
		e.event(Event{Addr: o.change.Addr, Op: o.kind, Phase: Retrying, Elapsed: now.Sub(start),
			Attempt: int(n.Add(1)), Err: errors.New(msg), Start: start, At: now})
	})
}
