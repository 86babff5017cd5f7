package planner

import "context"

type allowDataLossKey struct{}

// WithAllowDataLoss marks ctx as carrying the user's --allow-data-loss consent,
// so a bucket handler may empty a bucket before deleting it.
func WithAllowDataLoss(ctx context.Context) context.Context {
	return context.WithValue(ctx, allowDataLossKey{}, true)
}

// AllowDataLoss reports whether the user consented to losing data.
func AllowDataLoss(ctx context.Context) bool {
	v, _ := ctx.Value(allowDataLossKey{}).(bool)
	return v
}
