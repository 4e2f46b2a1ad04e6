package authz

import (
	"context"
	"fmt"
)

func (s *ScopeTypeEdge) kind() *kindSpec  { return scopeTypeEdgeKind }
func (s *ScopeTypeEdge) recordID() string { return s.ID }

func (s *ScopeTypeEdge) uniques() []uniqueEntry {
	return []uniqueEntry{{name: uniqueScopeTypeEdge, values: []string{s.ParentTypeID, s.ChildTypeID}, field: "childTypeId",
		what: func() string { return fmt.Sprintf("scope type edge %q → %q", s.ParentTypeID, s.ChildTypeID) }}}
}
func (s *ScopeTypeEdge) indexes() []indexEntry {
	return []indexEntry{idx(ixScopeTypeEdgePar, s.ParentTypeID), idx(ixScopeTypeEdgeChild, s.ChildTypeID)}
}

// ScopeTypeEdge allows scopes of the child type to be placed under scopes of
// the parent type.
type ScopeTypeEdge struct {
	ID           string `json:"id"`
	ParentTypeID string `json:"parentTypeId"`
	ChildTypeID  string `json:"childTypeId"`
}

// ScopeTypeEdgeInput creates a ScopeTypeEdge. Both types must exist; the
// pair is unique and the type graph stays acyclic.
type ScopeTypeEdgeInput struct {
	ID           string `json:"id,omitempty"`
	ParentTypeID string `json:"parentTypeId"`
	ChildTypeID  string `json:"childTypeId"`
}

// ScopeTypeEdgeFilter selects scope type edges by parent and/or child type;
// both empty lists all.
type ScopeTypeEdgeFilter struct {
	ParentTypeID string `json:"parentTypeId,omitempty"`
	ChildTypeID  string `json:"childTypeId,omitempty"`
	Page
}

func buildScopeTypeEdge(b *builder, it *item, in *ScopeTypeEdgeInput) {
	e := &ScopeTypeEdge{ParentTypeID: in.ParentTypeID, ChildTypeID: in.ChildTypeID}
	e.ID = b.newID(it, scopeTypeEdgeKind, in.ID)
	it.rec = e
	b.requiredRef(it, "parentTypeId", in.ParentTypeID, scopeTypeKind)
	b.requiredRef(it, "childTypeId", in.ChildTypeID, scopeTypeKind)
	b.typeEdges = append(b.typeEdges, dagEdge{it: it, parent: e.ParentTypeID, child: e.ChildTypeID})
}

// CreateScopeTypeEdges creates scope type edges in one atomic batch.
func (c *Client) CreateScopeTypeEdges(ctx context.Context, in []ScopeTypeEdgeInput) ([]ScopeTypeEdge, error) {
	return createMany(ctx, c, "create scope type edges", &Batch{ScopeTypeEdges: in}, func(r *BatchResult) []ScopeTypeEdge { return r.ScopeTypeEdges })
}

// CreateScopeTypeEdge creates one scope type edge.
func (c *Client) CreateScopeTypeEdge(ctx context.Context, in ScopeTypeEdgeInput) (ScopeTypeEdge, error) {
	return createOne(ctx, "create scope type edge", in, c.CreateScopeTypeEdges)
}

// GetScopeTypeEdge returns the scope type edge id.
func (c *Client) GetScopeTypeEdge(ctx context.Context, id string) (ScopeTypeEdge, error) {
	return getOne[ScopeTypeEdge](ctx, c, scopeTypeEdgeKind, id)
}

// ListScopeTypeEdges lists scope type edges in id order.
func (c *Client) ListScopeTypeEdges(ctx context.Context, f ScopeTypeEdgeFilter) ([]ScopeTypeEdge, error) {
	plan := listPlan{}
	switch {
	case f.ParentTypeID != "":
		plan = byIndex(ixScopeTypeEdgePar, f.ParentTypeID)
	case f.ChildTypeID != "":
		plan = byIndex(ixScopeTypeEdgeChild, f.ChildTypeID)
	}
	return list(ctx, c, scopeTypeEdgeKind, plan, func(e *ScopeTypeEdge) bool {
		return (f.ParentTypeID == "" || e.ParentTypeID == f.ParentTypeID) && (f.ChildTypeID == "" || e.ChildTypeID == f.ChildTypeID)
	}, f.Page)
}

// DeleteScopeTypeEdge deletes a scope type edge. Scope edges created under
// it stay: the edge rule is checked when a scope edge is created.
func (c *Client) DeleteScopeTypeEdge(ctx context.Context, id string) error {
	return c.deleteOne(ctx, scopeTypeEdgeKind, id)
}
