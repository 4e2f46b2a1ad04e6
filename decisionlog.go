package authz

import (
	"context"
	"math/rand/v2"
	"slices"
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

// logDecision passes a decision to the decision log. start is when the
// decision began. The entry is a deep copy: the hook may keep it, and the
// caller reuse its input, and neither changes the other nor the decisions
// the decision cache holds.
func (c *Client) logDecision(ctx context.Context, start, began time.Time, in *EvaluateInput, d *Decision, err error, rev uint64, cached bool) {
	c.decisionLog.hook(ctx, DecisionLogEntry{Time: began, Input: copyInput(in), Decision: copyDecision(d), Err: err, Revision: rev,
		Duration: time.Since(start), Cached: cached})
}

// copyInput returns a copy of in that shares no memory with it.
func copyInput(in *EvaluateInput) EvaluateInput {
	out := *in
	out.OnBehalfOf = copyPtr(in.OnBehalfOf)
	out.Resource = copyPtr(in.Resource)
	out.IncludeResourceTags = copyPtr(in.IncludeResourceTags)
	out.Consistency = copyPtr(in.Consistency)
	if in.Context != nil {
		out.Context = copyValue(in.Context).(map[string]any)
	}
	return out
}

func copyPtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

// copyValue copies the maps and slices of a context value; other values
// are kept (they are immutable, or not the library's to copy).
func copyValue(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[k] = copyValue(x)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = copyValue(x)
		}
		return out
	case []string:
		return slices.Clone(v)
	}
	return v
}

// copyDecision returns a copy of d that shares no memory with it.
func copyDecision(d *Decision) Decision {
	out := *d
	if d.Matches != nil {
		out.Matches = make([]Match, len(d.Matches))
		for i, m := range d.Matches {
			m.SourceRoleIDs = slices.Clone(m.SourceRoleIDs)
			out.Matches[i] = m
		}
	}
	out.Trace = slices.Clone(d.Trace)
	out.EvaluatedOnBehalfOf = copyPtr(d.EvaluatedOnBehalfOf)
	if d.Delegation != nil {
		out.Delegation = &Delegation{Actor: copyDecision(&d.Delegation.Actor), OnBehalfOf: copyDecision(&d.Delegation.OnBehalfOf)}
	}
	return out
}
