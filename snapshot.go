package authz

import (
	"context"

	"github.com/scopegate/authz/storage"
)

// snapshot returns the graph of the newest revision the Client knows. With
// a storage.Versioner that is the store's current revision, and it costs
// two atomic loads when nothing has changed; with a storage.Watcher it is
// the revision of the newest commit the store has told of, and costs as
// little while it has told of none; otherwise snapshot reads the revision
// in a View (readCurrent).
func (c *Client) snapshot(ctx context.Context) (*graph, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	switch {
	case c.versioner != nil:
		if g := c.graph.Load(); g != nil && g.seq == c.versioner.Version() {
			return g, nil
		}
	case c.watcher != nil:
		if g := c.graph.Load(); g != nil {
			if v, _ := c.watcher.Watch(); g.seq >= v {
				return g, nil
			}
		}
	}
	return c.readCurrent(ctx)
}

// storeVersion returns the store's version as the Client knows it before
// a View (storage.Versioner, storage.Watcher), or 0.
func (c *Client) storeVersion() uint64 {
	switch {
	case c.versioner != nil:
		return c.versioner.Version()
	case c.watcher != nil:
		v, _ := c.watcher.Watch()
		return v
	}
	return 0
}

// readCurrent reads the store's revision in a View and returns its graph.
func (c *Client) readCurrent(ctx context.Context) (*graph, error) {
	seq := c.storeVersion()
	var g *graph
	err := c.store.View(ctx, func(tx storage.Tx) error {
		var err error
		g, err = c.graphAt(tx, seq, false)
		return err
	})
	return g, err
}

// maxIncremental is the number of changed nodes above which a graph update
// rebuilds the graph from the whole store instead, when they are also more
// than an eighth of the graph.
const maxIncremental = 4096

// graphAt returns the graph of the store as tx sees it, seq being the
// storage version read before tx began: from the current graph when the
// revision is the same, by reloading the changed nodes when the change log
// covers the gap, or by reading the whole store. Unless exact is set, a
// current graph newer than tx (published meanwhile) is returned as it is.
func (c *Client) graphAt(tx storage.Tx, seq uint64, exact bool) (*graph, error) {
	rev, err := readRevision(tx)
	if err != nil {
		return nil, err
	}
	usable := func(cur *graph) bool {
		return cur != nil && ((cur.rev == rev && cur.seq >= seq) || (!exact && cur.rev > rev))
	}
	if cur := c.graph.Load(); usable(cur) {
		return cur, nil
	}
	c.graphMu.Lock()
	defer c.graphMu.Unlock()
	cur := c.graph.Load()
	if usable(cur) {
		return cur, nil
	}
	if cur != nil && cur.rev == rev {
		if seq > cur.seq {
			ng := *cur
			ng.seq = seq
			c.graph.Store(&ng)
			return &ng, nil
		}
		return cur, nil
	}
	var g *graph
	if cur != nil && cur.rev < rev {
		keys, ok, err := readChanges(tx, cur.rev, rev)
		if err != nil {
			return nil, err
		}
		if ok && (len(keys) <= maxIncremental || len(keys) <= int(cur.next)/8) {
			if g, err = cur.update(tx, rev, seq, keys); err != nil {
				return nil, err
			}
		}
	}
	if g == nil {
		if g, err = buildGraph(tx, seq); err != nil {
			return nil, err
		}
	}
	g.decisions = newDecisionCache(c.decisionCacheSize)
	g.grants, g.denials, g.texts = newMemo[hitKey, outcome](maxMemo), newMemo[denialKey, string](maxMemo), newMemo[textKey, string](maxMemo)
	if cur == nil || cur.rev < g.rev {
		c.graph.Store(g)
	}
	return g, nil
}

// viewGraph runs fn in a View with the graph of the revision the View sees.
func (c *Client) viewGraph(ctx context.Context, fn func(tx storage.Tx, g *graph) error) error {
	seq := c.storeVersion()
	return c.store.View(ctx, func(tx storage.Tx) error {
		g, err := c.graphAt(tx, seq, true)
		if err != nil {
			return err
		}
		return fn(tx, g)
	})
}
