package authz

import (
	"context"
	"fmt"
)

func (e *ResourceTypeEdge) kind() *kindSpec  { return resourceTypeEdgeKind }
func (e *ResourceTypeEdge) recordID() string { return e.ID }

func (e *ResourceTypeEdge) uniques() []uniqueEntry {
	return []uniqueEntry{{name: uniqueResourceTypeEdge, values: []string{e.ParentTypeID, e.ChildTypeID}, field: "childTypeId",
		what: func() string { return fmt.Sprintf("resource type edge %q → %q", e.ParentTypeID, e.ChildTypeID) }}}
}
func (e *ResourceTypeEdge) indexes() []indexEntry {
	return []indexEntry{idx(ixResourceTypeEdgePar, e.ParentTypeID), idx(ixResourceTypeEdgeChild, e.ChildTypeID)}
}

// ResourceTypeEdge is an edge of the resource type hierarchy: it allows
// resources of the child type to be placed under resources of the parent
// type ("folders may contain documents").
//
// The hierarchy constrains only the child types it names: a resource edge
// whose child is of a type with at least one declared parent type is
// allowed only when a ResourceTypeEdge goes from the parent resource's type
// to the child resource's type (ErrNotAllowed otherwise); a resource of a
// type with no declared parent type may be placed under any resource, so a
// model that declares no hierarchy is not constrained at all. Types are
// named by id, not by key: two types with the same key (in two scopes) are
// two nodes of the hierarchy.
type ResourceTypeEdge struct {
	ID           string `json:"id"`
	ParentTypeID string `json:"parentTypeId"`
	ChildTypeID  string `json:"childTypeId"`
}

// ResourceTypeEdgeInput creates a ResourceTypeEdge. Both types must exist
// and be visible together: the scope of one is in the chain of the scope of
// the other (docs/model.md#chains-and-tenants), so an edge never joins the
// types of two tenants (ErrNotAllowed). The pair is unique
// (ErrAlreadyExists). The hierarchy stays acyclic, except that a type may
// be its own parent (folders in folders): an edge that would close a cycle
// through two or more types is ErrNotAllowed.
type ResourceTypeEdgeInput struct {
	ID           string `json:"id,omitempty"`
	ParentTypeID string `json:"parentTypeId"`
	ChildTypeID  string `json:"childTypeId"`
}

// ResourceTypeEdgeFilter selects resource type edges by parent and/or
// child type; both empty lists all.
type ResourceTypeEdgeFilter struct {
	ParentTypeID string `json:"parentTypeId,omitempty"`
	ChildTypeID  string `json:"childTypeId,omitempty"`
	Page
}

func buildResourceTypeEdge(b *builder, it *item, in *ResourceTypeEdgeInput) {
	e := &ResourceTypeEdge{ParentTypeID: in.ParentTypeID, ChildTypeID: in.ChildTypeID}
	e.ID = b.newID(it, resourceTypeEdgeKind, in.ID)
	it.rec = e
	b.requiredRef(it, "parentTypeId", in.ParentTypeID, resourceTypeKind)
	b.requiredRef(it, "childTypeId", in.ChildTypeID, resourceTypeKind)
	b.resourceTypeEdges = append(b.resourceTypeEdges, dagEdge{it: it, parent: e.ParentTypeID, child: e.ChildTypeID})
	it.check = func(v *view) {
		if err := checkResourceTypesTogether(v, e.ParentTypeID, e.ChildTypeID); err != nil {
			v.fail(it, "parentTypeId", err)
		}
	}
}

// checkResourceTypesTogether returns the ErrNotAllowed error for an edge
// between resource types parentID and childID when neither type's scope is
// in the chain of the other's, or nil. A missing type is reported
// elsewhere.
func checkResourceTypesTogether(v *view, parentID, childID string) error {
	p := get[ResourceType](v, resourceTypeKind, parentID)
	c := get[ResourceType](v, resourceTypeKind, childID)
	if p == nil || c == nil || v.inChain(c.ScopeID, p.ScopeID) || v.inChain(p.ScopeID, c.ScopeID) {
		return nil
	}
	return notAllowedf("resource type %q is defined at scope %q and resource type %q at scope %q, neither in the chain of the other: an edge joins types visible together (of one tenant)",
		p.ID, p.ScopeID, c.ID, c.ScopeID)
}

// CreateResourceTypeEdges creates resource type edges in one atomic batch.
// Resource edges created in the same batch are checked against them.
func (c *Client) CreateResourceTypeEdges(ctx context.Context, in []ResourceTypeEdgeInput) ([]ResourceTypeEdge, error) {
	return createMany(ctx, c, "create resource type edges", &Batch{ResourceTypeEdges: in}, func(r *BatchResult) []ResourceTypeEdge { return r.ResourceTypeEdges })
}

// CreateResourceTypeEdge creates one resource type edge.
func (c *Client) CreateResourceTypeEdge(ctx context.Context, in ResourceTypeEdgeInput) (ResourceTypeEdge, error) {
	return createOne(ctx, "create resource type edge", in, c.CreateResourceTypeEdges)
}

// GetResourceTypeEdge returns the resource type edge id, or an error
// wrapping ErrNotFound.
func (c *Client) GetResourceTypeEdge(ctx context.Context, id string) (ResourceTypeEdge, error) {
	return getOne[ResourceTypeEdge](ctx, c, resourceTypeEdgeKind, id)
}

// ListResourceTypeEdges lists resource type edges in id order: the edges
// from f.ParentTypeID, the edges to f.ChildTypeID, both (the one edge
// between them), or, with neither, all of them.
func (c *Client) ListResourceTypeEdges(ctx context.Context, f ResourceTypeEdgeFilter) ([]ResourceTypeEdge, error) {
	keep := func(e *ResourceTypeEdge) bool {
		return (f.ParentTypeID == "" || e.ParentTypeID == f.ParentTypeID) && (f.ChildTypeID == "" || e.ChildTypeID == f.ChildTypeID)
	}
	switch {
	case f.ParentTypeID != "" && f.ChildTypeID != "":
		return listByUniqueKey(ctx, c, resourceTypeEdgeKind, keep, f.Page, uniqueResourceTypeEdge, f.ParentTypeID, f.ChildTypeID)
	case f.ParentTypeID != "":
		return list(ctx, c, resourceTypeEdgeKind, byIndex(ixResourceTypeEdgePar, f.ParentTypeID), keep, f.Page)
	case f.ChildTypeID != "":
		return list(ctx, c, resourceTypeEdgeKind, byIndex(ixResourceTypeEdgeChild, f.ChildTypeID), keep, f.Page)
	}
	return list[ResourceTypeEdge](ctx, c, resourceTypeEdgeKind, listPlan{}, nil, f.Page)
}

// DeleteResourceTypeEdge deletes a resource type edge. Resource edges
// created under it stay: the hierarchy is checked when a resource edge is
// created, as scope type edges are for scope edges. Deleting the last edge
// to a child type lifts the constraint on that type altogether (see
// ResourceTypeEdge).
func (c *Client) DeleteResourceTypeEdge(ctx context.Context, id string) error {
	return c.deleteOne(ctx, resourceTypeEdgeKind, id)
}

// checkResourceEdgeTypes refuses the resource edges of a batch whose child
// is of a type with a declared parent type when no resource type edge goes
// from the parent's type to the child's. It returns the edges that pass (or
// were not checked because an end is missing, reported elsewhere). A child
// type's declared parents are read once per batch.
func checkResourceEdgeTypes(v *view, edges []dagEdge) []dagEdge {
	constrained := map[string]bool{}
	live := edges[:0:0]
	for _, e := range edges {
		if e.it.failed {
			continue
		}
		parent := get[Resource](v, resourceKind, e.parent)
		child := get[Resource](v, resourceKind, e.child)
		if parent == nil || child == nil {
			live = append(live, e)
			continue
		}
		ct := child.ResourceTypeID
		has, seen := constrained[ct]
		if !seen {
			has = v.anyIndexed(ixResourceTypeEdgeChild, ct, func(eid string) bool {
				return get[ResourceTypeEdge](v, resourceTypeEdgeKind, eid) != nil
			})
			constrained[ct] = has
		}
		if has && get[ResourceTypeEdge](v, resourceTypeEdgeKind, v.unique(uniqueResourceTypeEdge, parent.ResourceTypeID, ct)) == nil {
			v.fail(e.it, "parentResourceId", notAllowedf("a resource of type %q cannot be placed under a resource of type %q: create the resource type edge {parentTypeId: %q, childTypeId: %q} first",
				ct, parent.ResourceTypeID, parent.ResourceTypeID, ct))
			continue
		}
		live = append(live, e)
	}
	return live
}
