package aws

import (
	"context"
	"errors"
	"math"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/evdeploy/evdeploy/planner"
)

// Budgets paces evdeploy's API calls by AWS's quotas (QuotaTable): each budget
// is a token bucket refilled at the budget's current rate, holding at most one
// second's worth (AWS's buckets allow such bursts, and a full bucket absorbs
// the jitter of calls in flight), with at most Width calls in flight.
//
// The rate adapts (AIMD): a throttling answer halves it (once per second, so a
// burst of throttled calls in flight counts once), and every call that is not
// throttled adds a tenth of the table's rate divided by the current rate, so
// the rate grows back to the table's figure in a few seconds of traffic.
// Calls are never sent faster than the table says. The throttled call waits
// (Retry-After when the service sends one, else its turn at the reduced rate)
// and is sent again by the middleware itself, so throttling does not spend the
// SDK's retry quota; after maxThrottleRetries the error goes to the SDK and
// the executor as before.
type Budgets struct {
	clock clock
	// total caps the calls in flight across all budgets (0: no cap).
	total int

	mu       sync.Mutex
	byName   map[string]*budget
	inflight int
	changed  chan struct{} // closed and replaced when a slot frees

	calls, throttled atomic.Int64
}

// budget is one row's live state.
type budget struct {
	q          Quota
	rate       float64 // current rate, ≤ q.Rate
	floor      float64
	tokens     float64
	refilled   time.Time
	shrunk     time.Time // last multiplicative decrease
	width      int
	inflight   int
	throttles  int
	everShrunk bool
}

// clock is time for the budgets; tests inject a fake one.
type clock interface {
	Now() time.Time
	// Sleep waits d or until ctx is done.
	Sleep(ctx context.Context, d time.Duration) error
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }
func (realClock) Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

const (
	// maxThrottleRetries bounds the sends of one call that the middleware
	// repeats after throttling.
	maxThrottleRetries = 20
	// shrinkEvery: one multiplicative decrease per this much time.
	shrinkEvery = time.Second
)

// NewBudgets paces by QuotaTable with at most total calls in flight across
// all budgets (0: no total cap).
func NewBudgets(total int) *Budgets { return newBudgets(realClock{}, total) }

func newBudgets(c clock, total int) *Budgets {
	b := &Budgets{clock: c, total: total, byName: map[string]*budget{}, changed: make(chan struct{})}
	now := c.Now()
	for _, q := range QuotaTable {
		b.byName[q.Budget] = &budget{q: q, rate: q.Rate, floor: math.Max(q.Rate/20, 0.2),
			tokens: burst(q.Rate), refilled: now, width: widthFor(q.Rate, total)}
	}
	return b
}

// burst is a bucket's capacity: one second's worth, at least one call.
func burst(rate float64) float64 { return math.Max(1, rate) }

// widthFor is a budget's calls in flight: one second's worth of calls (enough
// to keep the rate at AWS's round-trip times), at least 2, at most 64 and the
// total.
func widthFor(rate float64, total int) int {
	w := min(max(int(math.Ceil(rate)), 2), 64)
	if total > 0 {
		w = min(w, total)
	}
	return w
}

// Width is how many calls of a budget may be in flight (0 for no budget).
func (b *Budgets) Width(name string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	if bg := b.byName[name]; bg != nil {
		return bg.width
	}
	return 0
}

// Rate is a budget's current rate.
func (b *Budgets) Rate(name string) float64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	if bg := b.byName[name]; bg != nil {
		return bg.rate
	}
	return 0
}

// Throttled is how many answers were throttling errors.
func (b *Budgets) Throttled() int64 { return b.throttled.Load() }

// Calls is how many calls were sent through a budget.
func (b *Budgets) Calls() int64 { return b.calls.Load() }

// Lane implements planner.Lanes: a resource type's operations go in the lane
// of the budget they mostly draw on, as wide as that budget.
func (b *Budgets) Lane(resourceType, op string) (string, int) {
	name := laneFor(resourceType, op)
	return name, b.Width(name)
}

var _ planner.Lanes = (*Budgets)(nil)

func (bg *budget) refill(now time.Time) {
	if d := now.Sub(bg.refilled); d > 0 {
		bg.tokens = math.Min(burst(bg.rate), bg.tokens+d.Seconds()*bg.rate)
		bg.refilled = now
	}
}

// acquire waits for a slot and a token of the budget and returns how long it
// waited.
func (b *Budgets) acquire(ctx context.Context, name string) (time.Duration, error) {
	start := b.clock.Now()
	for {
		ok, wait, full := b.try(name)
		if ok {
			return b.clock.Now().Sub(start), nil
		}
		if full != nil {
			select {
			case <-ctx.Done():
				return b.clock.Now().Sub(start), ctx.Err()
			case <-full:
			}
			continue
		}
		if err := b.clock.Sleep(ctx, wait); err != nil {
			return b.clock.Now().Sub(start), err
		}
	}
}

// try takes a slot and a token of the budget if it can. Otherwise either full
// is a channel closed when a slot frees (the budget or the total is at its
// calls in flight), or wait is how long until the next token.
func (b *Budgets) try(name string) (ok bool, wait time.Duration, full <-chan struct{}) {
	b.mu.Lock()
	defer b.mu.Unlock()
	bg := b.byName[name]
	bg.refill(b.clock.Now())
	if bg.inflight >= bg.width || (b.total > 0 && b.inflight >= b.total) {
		return false, 0, b.changed
	}
	if bg.tokens >= 1 {
		bg.tokens--
		bg.inflight++
		b.inflight++
		b.calls.Add(1)
		return true, 0, nil
	}
	d := time.Duration((1 - bg.tokens) / bg.rate * float64(time.Second))
	return false, max(d, time.Millisecond), nil
}

// release ends a call: throttled shrinks the budget, anything else lets it
// grow back toward the table's rate.
func (b *Budgets) release(name string, throttled bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	bg := b.byName[name]
	bg.inflight--
	b.inflight--
	now := b.clock.Now()
	bg.refill(now)
	if throttled {
		b.throttled.Add(1)
		bg.throttles++
		if !bg.everShrunk || now.Sub(bg.shrunk) >= shrinkEvery {
			bg.rate = math.Max(bg.floor, bg.rate/2)
			bg.tokens = math.Min(bg.tokens, 0) // the service's bucket is empty: so is ours
			bg.shrunk, bg.everShrunk = now, true
		}
	} else if bg.rate < bg.q.Rate {
		bg.rate = math.Min(bg.q.Rate, bg.rate+bg.q.Rate/10/bg.rate)
	}
	close(b.changed)
	b.changed = make(chan struct{})
}

// isThrottle reports whether err is a throttling answer (by code, or S3's
// 503 SlowDown and HTTP 429 without a code).
func isThrottle(err error) bool {
	if hasCode(err, throttlingCodes...) {
		return true
	}
	var re *awshttp.ResponseError
	return errors.As(err, &re) && re.HTTPStatusCode() == http.StatusTooManyRequests
}

// retryAfter is the wait a throttling answer asks for: the Retry-After header
// in seconds (Lambda, API Gateway) or x-amz-retry-after in milliseconds.
func retryAfter(err error) time.Duration {
	var re *awshttp.ResponseError
	if !errors.As(err, &re) || re.Response == nil {
		return 0
	}
	h := re.Response.Header
	if v := h.Get("X-Amz-Retry-After"); v != "" {
		if ms, err := strconv.ParseInt(v, 10, 64); err == nil && ms > 0 {
			return min(time.Duration(ms)*time.Millisecond, 30*time.Second)
		}
	}
	if v := h.Get("Retry-After"); v != "" {
		if s, err := strconv.ParseFloat(v, 64); err == nil && s > 0 {
			return min(time.Duration(s*float64(time.Second)), 30*time.Second)
		}
	}
	return 0
}

// budgetMiddleware sits after the SDK's retry middleware (each of its
// attempts passes here) and before signing (each send here is signed anew).
type budgetMiddleware struct{ b *Budgets }

func (*budgetMiddleware) ID() string { return "evdeploy.RateBudget" }

func (m *budgetMiddleware) HandleFinalize(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (
	middleware.FinalizeOutput, middleware.Metadata, error) {
	name := BudgetFor(awsmiddleware.GetServiceID(ctx), awsmiddleware.GetOperationName(ctx))
	if name == "" || m.b.byName[name] == nil {
		return next.HandleFinalize(ctx, in)
	}
	orig, _ := in.Request.(*smithyhttp.Request)
	for attempt := 1; ; attempt++ {
		waited, err := m.b.acquire(ctx, name)
		planner.AddWait(ctx, waited)
		if err != nil {
			return middleware.FinalizeOutput{}, middleware.Metadata{}, err
		}
		send := in
		if orig != nil && attempt > 1 {
			r := orig.Clone()
			if err := r.RewindStream(); err != nil {
				m.b.release(name, false)
				return middleware.FinalizeOutput{}, middleware.Metadata{}, err
			}
			send.Request = r
		} else if orig != nil {
			send.Request = orig.Clone()
		}
		out, md, err := next.HandleFinalize(ctx, send)
		throttled := err != nil && isThrottle(err)
		m.b.release(name, throttled)
		if !throttled || attempt > maxThrottleRetries {
			return out, md, err
		}
		if d := retryAfter(err); d > 0 {
			if serr := m.b.clock.Sleep(ctx, d); serr != nil {
				return out, md, err
			}
			planner.AddWait(ctx, d)
		}
	}
}

// apiOption adds the middleware to a client's stack.
func (b *Budgets) apiOption(stack *middleware.Stack) error {
	return stack.Finalize.Insert(&budgetMiddleware{b: b}, "Signing", middleware.Before)
}

// WithBudgets paces every client's calls by b (see Budgets).
func WithBudgets(b *Budgets) Option {
	return func(c *clients) {
		c.budgets = b
	}
}
