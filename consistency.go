package authz

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"
)

// Consistency says how fresh the model a request is answered from must be,
// in the manner of SpiceDB's consistency requirements. The zero value (or a
// nil *Consistency) answers from the newest revision the Client knows,
// which is the store's current revision with memstore and boltstore (the
// Client learns of every commit at once) and with any store that does not
// tell the Client of commits (it then reads the revision in a View for
// every request).
type Consistency struct {
	// AtLeastRevision, when not zero, makes the request wait until the
	// Client answers from a revision at least this one: the revision a
	// write returned (WriteRevision, BatchResult.Revision), maybe on another
	// Client or another process sharing the store, so that a request sees
	// that write (read-your-writes). The wait is bounded by the request's
	// ctx, whose error is returned when it ends first.
	AtLeastRevision uint64 `json:"atLeastRevision,omitempty"`
	// FullyConsistent makes the request read the store's current revision
	// first (one round trip to the store when the Client could otherwise
	// answer from what it knows).
	FullyConsistent bool `json:"fullyConsistent,omitempty"`
}

// strongest returns the union of the requirements of a and b.
func (a *Consistency) strongest(b *Consistency) *Consistency {
	switch {
	case b == nil:
		return a
	case a == nil:
		return b
	}
	out := *a
	out.AtLeastRevision = max(out.AtLeastRevision, b.AtLeastRevision)
	out.FullyConsistent = out.FullyConsistent || b.FullyConsistent
	return &out
}

// maxRevisionWait bounds the pause between two reads of the store while a
// request waits for a revision.
const maxRevisionWait = 50 * time.Millisecond

// snapshotFor returns a graph that satisfies cons (nil: the newest the
// Client knows, snapshot). With a storage.Versioner, or a store that is
// neither a Versioner nor a Watcher, snapshot already reads the current
// revision, so FullyConsistent needs nothing more; with a Watcher, which
// may tell of a commit late, FullyConsistent, and AtLeastRevision beyond
// what the Client knows, read the store's revision first (readCurrent).
// AtLeastRevision then waits until the revision is there or ctx ends: for
// the Watcher to tell of a commit, or pauses that double up to
// maxRevisionWait, reading the store after each.
func (c *Client) snapshotFor(ctx context.Context, cons *Consistency) (*graph, error) {
	g, err := c.snapshot(ctx)
	if err != nil || cons == nil {
		return g, err
	}
	if c.watcher != nil && (cons.FullyConsistent || g.rev < cons.AtLeastRevision) {
		if g, err = c.readCurrent(ctx); err != nil {
			return nil, err
		}
	}
	wait := time.Millisecond
	for g.rev < cons.AtLeastRevision {
		var changed <-chan struct{}
		if c.watcher != nil {
			_, changed = c.watcher.Watch()
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("authz: waiting for revision %d (the store is at %d): %w", cons.AtLeastRevision, g.rev, ctx.Err())
		case <-changed:
			t.Stop()
		case <-t.C:
			wait = min(2*wait, maxRevisionWait)
		}
		if g, err = c.readCurrent(ctx); err != nil {
			return nil, err
		}
	}
	return g, nil
}

// WriteRevision receives the revisions committed by the writes made with a
// context from WithWriteRevision. It is safe for concurrent use: writes made
// at the same time with one context leave the highest revision.
type WriteRevision struct {
	rev atomic.Uint64
}

// Revision returns the highest revision committed by a write made with the
// context, or 0 when none has committed. Pass it as
// Consistency.AtLeastRevision to see the write from any Client of the
// store.
func (w *WriteRevision) Revision() uint64 { return w.rev.Load() }

func (w *WriteRevision) record(rev uint64) {
	for {
		cur := w.rev.Load()
		if rev <= cur || w.rev.CompareAndSwap(cur, rev) {
			return
		}
	}
}

type writeRevisionKey struct{}

// WithWriteRevision returns a context that records in w the revision each
// write made with it commits: every Create, Update, Delete and Apply method
// of the Client, which all commit one revision. A write that fails records
// nothing.
func WithWriteRevision(ctx context.Context, w *WriteRevision) context.Context {
	return context.WithValue(ctx, writeRevisionKey{}, w)
}

// recordRevision tells ctx's WriteRevision, if any, that rev committed.
func recordRevision(ctx context.Context, rev uint64) {
	if w, ok := ctx.Value(writeRevisionKey{}).(*WriteRevision); ok && w != nil {
		w.record(rev)
	}
}
