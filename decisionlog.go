package authz

import (
	"context"
	"math/rand/v2"
	"time"
)

// DecisionLogEntry is a decision as Options.DecisionLog receives it.
type DecisionLogEntry struct {
	// Time is when the request began, by the Client's clock (Options.Now).
	Time time.Time
	// Input is the request as the caller gave it.
	Input EvaluateInput
	// Decision is the decision returned, and Err the error returned with
	// it (a denial then).
	Decision Decision
	Err      error
	// Revision is the revision of the store the decision was made from;
	// zero when the store could not be read.
	Revision uint64
	// Duration is the time the decision took: from the call to the return
	// for Evaluate; for an input of EvaluateBatch, its own evaluation (the
	// batch reads the store once, before the first).
	Duration time.Duration
	// Cached reports that the decision cache answered.
	Cached bool
}

// decisionLog is the Client's decision log: the hook and the fraction of
// decisions it receives.
type decisionLog struct {
	hook func(context.Context, DecisionLogEntry)
	rate float64 // in (0, 1]
}

// sampled reports whether the next decision goes to the hook.
func (l *decisionLog) sampled() bool {
	return l.rate >= 1 || rand.Float64() < l.rate
}

// logDecision passes a decision to the decision log, if the Client has one
// and the decision is sampled. start is when the decision began.
func (c *Client) logDecision(ctx context.Context, start, began time.Time, in *EvaluateInput, d *Decision, err error, rev uint64, cached bool) {
	c.decisionLog.hook(ctx, DecisionLogEntry{Time: began, Input: *in, Decision: *d, Err: err, Revision: rev, Duration: time.Since(start), Cached: cached})
}
