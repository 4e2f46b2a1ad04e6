package authz

import (
	"context"

	"github.com/scopegate/authz/storage"
)

func (s *ScopeEdge) kind() *kindSpec  { return scopeEdgeKind }
func (s *ScopeEdge) recordID() string { return s.ID }

func (s *ScopeEdge) uniques() []uniqueEntry {
	return []uniqueEntry{{name: uniqueScopeParent, values: []string{s.ChildScopeID}, field: "childScopeId",
		clash: func(other string) error {
			return notAllowedf("scope %q already has a parent (scope edge %q): a scope has at most one parent", s.ChildScopeID, other)
		}}}
}
func (s *ScopeEdge) indexes() []indexEntry {
	return []indexEntry{idx(ixScopeEdgeParent, s.ParentScopeID), idx(ixScopeEdgeChild, s.ChildScopeID)}
}

// ScopeEdge places a child scope under a parent scope. A scope has at most
// one parent.
//
// The store keeps, for every scope, its depth, its root, its nearest define
// scope and one pointer to an ancestor, so that a write checks "is this
// scope in the chain of that one" in O(log depth) reads instead of walking
// the tree: creating a scope or writing into a scope costs the same at
// depth 10 and at depth 10,000.
type ScopeEdge struct {
	ID            string `json:"id"`
	ParentScopeID string `json:"parentScopeId"`
	ChildScopeID  string `json:"childScopeId"`
}

// ScopeEdgeInput creates a ScopeEdge. The child must have no parent yet, a
// ScopeTypeEdge must allow the child's type under the parent's type, and the
// tree stays acyclic.
type ScopeEdgeInput struct {
	ID            string `json:"id,omitempty"`
	ParentScopeID string `json:"parentScopeId"`
	ChildScopeID  string `json:"childScopeId"`
}

// ScopeEdgeFilter selects scope edges by parent and/or child scope.
type ScopeEdgeFilter struct {
	ParentScopeID string `json:"parentScopeId,omitempty"`
	ChildScopeID  string `json:"childScopeId,omitempty"`
	Page
}

func buildScopeEdge(b *builder, it *item, in *ScopeEdgeInput) {
	e := &ScopeEdge{ParentScopeID: in.ParentScopeID, ChildScopeID: in.ChildScopeID}
	e.ID = b.newID(it, scopeEdgeKind, in.ID)
	it.rec = e
	b.requiredRef(it, "parentScopeId", in.ParentScopeID, scopeKind)
	b.requiredRef(it, "childScopeId", in.ChildScopeID, scopeKind)
	b.scopeEdges = append(b.scopeEdges, scopeEdgeItem{it: it, e: e, field: "parentScopeId"})
}

// CreateScopeEdges creates scope edges in one atomic batch. An edge whose
// child already has scopes under it moves that whole subtree: the write
// then costs time in proportion to the subtree's size (the position of
// every scope in it is stored, see ScopeEdge), not to the depth it moves to.
func (c *Client) CreateScopeEdges(ctx context.Context, in []ScopeEdgeInput) ([]ScopeEdge, error) {
	return createMany(ctx, c, "create scope edges", &Batch{ScopeEdges: in}, func(r *BatchResult) []ScopeEdge { return r.ScopeEdges })
}

// CreateScopeEdge creates one scope edge.
func (c *Client) CreateScopeEdge(ctx context.Context, in ScopeEdgeInput) (ScopeEdge, error) {
	return createOne(ctx, "create scope edge", in, c.CreateScopeEdges)
}

// GetScopeEdge returns the scope edge id.
func (c *Client) GetScopeEdge(ctx context.Context, id string) (ScopeEdge, error) {
	return getOne[ScopeEdge](ctx, c, scopeEdgeKind, id)
}

// ListScopeEdges lists scope edges in id order.
func (c *Client) ListScopeEdges(ctx context.Context, f ScopeEdgeFilter) ([]ScopeEdge, error) {
	keep := func(e *ScopeEdge) bool {
		return (f.ParentScopeID == "" || e.ParentScopeID == f.ParentScopeID) && (f.ChildScopeID == "" || e.ChildScopeID == f.ChildScopeID)
	}
	if f.ChildScopeID != "" {
		var ids []string
		err := c.store.View(ctx, func(tx storage.Tx) error {
			id, err := lookupUnique(tx, uniqueScopeParent, f.ChildScopeID)
			if id != "" {
				ids = append(ids, id)
			}
			return err
		})
		if err != nil {
			return nil, err
		}
		return listIDs(ctx, c, scopeEdgeKind, ids, keep, f.Page)
	}
	if f.ParentScopeID != "" {
		return list(ctx, c, scopeEdgeKind, byIndex(ixScopeEdgeParent, f.ParentScopeID), keep, f.Page)
	}
	return list[ScopeEdge](ctx, c, scopeEdgeKind, listPlan{}, nil, f.Page)
}

// DeleteScopeEdge deletes a scope edge: the child becomes a root scope. Like
// the creation of an edge above a subtree, it costs time in proportion to
// the size of the child's subtree.
func (c *Client) DeleteScopeEdge(ctx context.Context, id string) error {
	return c.deleteOne(ctx, scopeEdgeKind, id)
}
