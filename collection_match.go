package authz

import (
	"context"
	"sort"
)

// MatchesCollection reports whether resource resourceID is in collection
// collectionID: the resource is of the collection's type and its
// matchDefinition holds (SPEC §4.4). Outside a request, tags are those
// assigned in the chain of the resource's owning scope, and a condition
// section sees no subject and an empty context.
func (c *Client) MatchesCollection(ctx context.Context, collectionID, resourceID string) (bool, error) {
	g, err := c.snapshot(ctx)
	if err != nil {
		return false, err
	}
	coll := g.colls[collectionID]
	if coll == nil {
		return false, notFound(collKind.name, collectionID)
	}
	r := g.resources[resourceID]
	if r == nil {
		return false, notFound(resourceKind.name, resourceID)
	}
	return c.inCollection(g, coll, r), nil
}

// ListCollectionResources lists the resources in a collection, in id order,
// paged.
func (c *Client) ListCollectionResources(ctx context.Context, collectionID string, p Page) ([]Resource, error) {
	if p.Limit < 0 {
		return nil, invalidf("list collection resources: limit is %d; it must not be negative", p.Limit)
	}
	g, err := c.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	coll := g.colls[collectionID]
	if coll == nil {
		return nil, notFound(collKind.name, collectionID)
	}
	candidates := g.resTypes[coll.c.ResourceTypeID].resources
	start := sort.Search(len(candidates), func(i int) bool { return candidates[i].r.ID > p.After })
	out := []Resource{}
	for _, r := range candidates[start:] {
		if c.inCollection(g, coll, r) {
			out = append(out, *r.r)
			if p.Limit > 0 && len(out) >= p.Limit {
				break
			}
		}
	}
	return out, nil
}

func (c *Client) inCollection(g *graph, coll *gColl, r *gResource) bool {
	if r.typ.rt.ID != coll.c.ResourceTypeID {
		return false
	}
	e := &evaluation{c: c, g: g, in: &EvaluateInput{}, scope: r.owner, resTags: true, now: c.now()}
	s := &subjectEval{evaluation: e, x: &gSubject{s: &Subject{}}}
	l := line{home: r.owner, e: r.owner}
	return coll.def.match(s.matchInput(r, l), e.now)
}
