package planner

import "context"

// A release (issue 19) is one long Update of a function's live alias: it
// publishes a version and shifts traffic to it step by step. Two hooks let
// the handler report on it while it runs, without the executor knowing
// about releases.

type checkpointKey struct{}
type progressKey struct{}

// withCheckpoint gives a handler's Create or Update a way to record its
// progress in state before it returns (see Checkpoint).
func withCheckpoint(ctx context.Context, f func(Attrs) error) context.Context {
	return context.WithValue(ctx, checkpointKey{}, f)
}

// Checkpoint records attrs as the resource's state now, while its Update
// is still running: a release records each step of its rollout, so an
// apply killed in the middle leaves the rollout in state for the next
// plan to show and the next apply to resume. Without an executor (a
// handler called directly in a test) it does nothing.
func Checkpoint(ctx context.Context, attrs Attrs) error {
	if f, ok := ctx.Value(checkpointKey{}).(func(Attrs) error); ok {
		return f(attrs)
	}
	return nil
}

// WithProgress makes Progress calls under ctx reach f (the CLI prints them).
func WithProgress(ctx context.Context, f func(addr, msg string)) context.Context {
	return context.WithValue(ctx, progressKey{}, f)
}

type progressAddrKey struct{}

// withProgressAddr names the resource whose handler runs under ctx.
func withProgressAddr(ctx context.Context, addr string) context.Context {
	return context.WithValue(ctx, progressAddrKey{}, addr)
}

// Progress reports a step of a long operation (a release's traffic shift).
func Progress(ctx context.Context, msg string) {
	if f, ok := ctx.Value(progressKey{}).(func(addr, msg string)); ok {
		addr, _ := ctx.Value(progressAddrKey{}).(string)
		f(addr, msg)
	}
}
