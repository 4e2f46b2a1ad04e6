package authz

import (
	"context"

	"github.com/scopegate/authz/storage"
)

// MatchesCollection reports whether resource resourceID is in collection
// collectionID: the resource is of the collection's type and its
// matchDefinition holds (SPEC §4.4). Outside a request, tags are those
// assigned in the chain of the resource's owning scope, and a condition
// section sees no subject and an empty context. The match's work is
// bounded by Options.MaxEvaluationCost as in a request: a definition that
// runs out of it does not match (failing closed, as Evaluate does), and a
// done ctx returns ctx's error.
func (c *Client) MatchesCollection(ctx context.Context, collectionID, resourceID string) (bool, error) {
	g, err := c.snapshot(ctx)
	if err != nil {
		return false, err
	}
	coll := nodeAt[gColl](g, g.lookup(collectionID))
	if coll == nil {
		return false, notFound(collKind.name, collectionID)
	}
	r, _ := g.resourceOf(g.lookup(resourceID))
	if r == nil {
		return false, notFound(resourceKind.name, resourceID)
	}
	return c.inCollection(ctx, g, coll, r)
}

// ListCollectionResources lists the resources in a collection, in id order,
// paged. Each resource is matched as by MatchesCollection, with its own
// operation budget; a done ctx stops the listing with ctx's error.
func (c *Client) ListCollectionResources(ctx context.Context, collectionID string, p Page) ([]Resource, error) {
	if p.Limit < 0 {
		return nil, invalidf("list collection resources: limit is %d; it must not be negative", p.Limit)
	}
	out := []Resource{}
	err := c.viewGraph(ctx, func(tx storage.Tx, g *graph) error {
		coll := nodeAt[gColl](g, g.lookup(collectionID))
		if coll == nil {
			return notFound(collKind.name, collectionID)
		}
		return scanIndex(tx, ixResourceType, []string{coll.c.ResourceTypeID}, func(id string) error {
			if id <= p.After {
				return nil
			}
			r, _ := g.resourceOf(g.lookup(id))
			if r == nil {
				return nil
			}
			if in, err := c.inCollection(ctx, g, coll, r); err != nil || !in {
				return err
			}
			out = append(out, *r.r)
			if p.Limit > 0 && len(out) >= p.Limit {
				return errStopScan
			}
			return nil
		})
	})
	if err == errStopScan {
		err = nil
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// viewGraph runs fn in a View with the graph of the revision the View sees.
func (c *Client) viewGraph(ctx context.Context, fn func(tx storage.Tx, g *graph) error) error {
	var seq uint64
	if c.versioner != nil {
		seq = c.versioner.Version()
	}
	return c.store.View(ctx, func(tx storage.Tx) error {
		g, err := c.graphAt(tx, seq, true)
		if err != nil {
			return err
		}
		return fn(tx, g)
	})
}

// inCollection matches r against coll outside a request, failing closed
// when the match runs out of its budget; the error is ctx's.
func (c *Client) inCollection(ctx context.Context, g *graph, coll *gColl, r *gResource) (bool, error) {
	if r.r.ResourceTypeID != coll.c.ResourceTypeID || g.scope(r.owner) == nil {
		return false, nil
	}
	e := &evaluation{ctx: ctx, c: c, g: g, in: &EvaluateInput{}, scope: g.scope(r.owner), resTags: true}
	s := &subjectEval{evaluation: e, x: &gSubject{s: &Subject{}}}
	s.budget.Reset(ctx, c.maxEvalCost)
	l := line{home: r.owner, e: r.owner}
	ok, err := coll.def.Eval(s.matchInput(r, l), e.nowTime(), &s.budget)
	if cerr := ctx.Err(); cerr != nil {
		return false, cerr
	}
	return ok && err == nil, nil
}
