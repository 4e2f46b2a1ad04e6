package logic

import (
	"context"
	"errors"
	"fmt"
)

// ErrBudgetExceeded is wrapped by the error an evaluation returns when its
// Budget runs out (see BudgetError).
var ErrBudgetExceeded = errors.New("operation budget exceeded")

// BudgetError is the error of a Budget that ran out. It wraps
// ErrBudgetExceeded.
type BudgetError struct {
	// Limit is the number of operations the budget allowed.
	Limit int64
	// Where names what was being charged when the budget ran out: an
	// operator and its location in the condition ("some" at and[1]), or what
	// another caller of Charge named.
	Where string
}

func (e *BudgetError) Error() string {
	return fmt.Sprintf("operation budget exceeded: %d operations allowed, ran out at %s", e.Limit, e.Where)
}

// Unwrap returns ErrBudgetExceeded.
func (e *BudgetError) Unwrap() error { return ErrBudgetExceeded }

// CheckInterval is how often, in operations, a Budget checks its context:
// a cancelled or expired context stops an evaluation within this many
// operations.
const CheckInterval = 1024

// maxCharge caps one charge, so that the count cannot overflow.
const maxCharge = 1 << 40

// Budget counts the operations of one evaluation and stops it when they
// exceed a limit or when its context is done. The caller creates one
// Budget per evaluation (say, per subject decision) and passes it to every
// condition and match definition that evaluation runs, so their operations
// add up.
//
// What one operation is: every operator application, every iteration of
// some, all and none, every path segment a var walks, every element that in
// scans, merge produces or missing and missing_some look up, and every 64
// bytes of string an operator reads, compares, parses or produces (see
// Program for the exact cost of each operator). Other callers charge their
// own work with Charge in the same units.
//
// A Budget is not safe for concurrent use. Once it has run out (or its
// context is done) every further Charge fails with the same error.
//
// A nil *Budget is unlimited and never checks a context: it is meant for
// tests and for callers that bound the work some other way.
type Budget struct {
	ctx   context.Context
	limit int64 // < 0: no limit
	used  int64
	// next is where the slow path of Charge runs: the limit or the next
	// context check, whichever comes first.
	next int64
	err  error
}

// NewBudget returns a Budget of limit operations that also stops when ctx
// is done (ctx is checked at the first charge and then every CheckInterval
// operations). A nil ctx is never checked. A negative limit means no limit
// on operations (the context is still checked); a limit of 0 allows none.
func NewBudget(ctx context.Context, limit int64) *Budget {
	b := new(Budget)
	b.Reset(ctx, limit)
	return b
}

// Reset makes b a new budget of limit operations checking ctx, as
// NewBudget(ctx, limit) returns, without allocating: a caller that decides
// many things in turn (each subject of a lookup) keeps one Budget and
// resets it for each.
func (b *Budget) Reset(ctx context.Context, limit int64) {
	*b = Budget{ctx: ctx, limit: limit, next: -1}
}

// Limit returns the number of operations b allows; negative means no limit.
func (b *Budget) Limit() int64 {
	if b == nil {
		return -1
	}
	return b.limit
}

// Used returns the operations charged so far and allowed: never more than
// the limit (the charge that did not fit is not counted: its work was not
// done).
func (b *Budget) Used() int64 {
	if b == nil {
		return 0
	}
	return b.used
}

// Err returns the error that stopped b, or nil while it has not stopped.
func (b *Budget) Err() error {
	if b == nil {
		return nil
	}
	return b.err
}

// Charge counts n operations of work about to be done. where says what the
// work is, for the error; it is rendered only when the budget runs out. It
// returns nil when the work may go ahead, a *BudgetError (wrapping
// ErrBudgetExceeded) when it would exceed the limit, and an error wrapping
// the context's error when the context is done. A negative n counts as 0.
func (b *Budget) Charge(n int64, where fmt.Stringer) error {
	if b == nil {
		return nil
	}
	if n > maxCharge {
		n = maxCharge
	} else if n < 0 {
		n = 0
	}
	b.used += n
	if b.used <= b.next {
		return nil
	}
	return b.slow(n, where)
}

// slow checks the context and the limit once used has passed next; n is
// the charge that got it there.
func (b *Budget) slow(n int64, where fmt.Stringer) error {
	if b.err != nil {
		b.used -= n // a stopped budget counts nothing more
		return b.err
	}
	if b.ctx != nil {
		if err := b.ctx.Err(); err != nil {
			b.used -= n
			b.err = fmt.Errorf("evaluation stopped after %d operations, at %s: %w", b.used, describe(where), err)
			b.next = -1 // every further charge takes the slow path and fails
			return b.err
		}
	}
	if b.limit >= 0 && b.used > b.limit {
		b.used -= n
		b.err = &BudgetError{Limit: b.limit, Where: describe(where)}
		b.next = -1
		return b.err
	}
	next := (b.used/CheckInterval + 1) * CheckInterval
	if b.ctx == nil {
		next = 1<<62 - 1
	}
	if b.limit >= 0 && b.limit < next {
		next = b.limit
	}
	b.next = next
	return nil
}

func describe(where fmt.Stringer) string {
	if where == nil {
		return "an unnamed step"
	}
	return where.String()
}

// Label is a fixed description for Charge ("pattern externalResourceId").
type Label string

// String returns the label.
func (l Label) String() string { return string(l) }
