package authz

import (
	"context"
	"fmt"
)

// Cascade says whether a resource edge passes permissions from the parent
// to the child.
type Cascade string

// Cascade modes.
const (
	CascadeInherit Cascade = "inherit"
	CascadeNone    Cascade = "none"
)

// ResourceEdge places a child resource under a parent (a document in a
// folder). With cascade inherit, what is allowed on the parent is allowed on
// the child (docs/decisions.md#step-2-the-resource-hierarchy). The resource graph is a DAG.
type ResourceEdge struct {
	ID               string  `json:"id"`
	ParentResourceID string  `json:"parentResourceId"`
	ChildResourceID  string  `json:"childResourceId"`
	RelationshipType string  `json:"relationshipType"`
	Cascade          Cascade `json:"cascade"`
}

// ResourceEdgeInput creates a ResourceEdge, unique per (parent, child).
// RelationshipType defaults to "contains", Cascade to inherit. When the
// child's type has a declared parent type (ResourceTypeEdge), a resource
// type edge must go from the parent's type to the child's (ErrNotAllowed
// on parentResourceId otherwise).
type ResourceEdgeInput struct {
	ID               string  `json:"id,omitempty"`
	ParentResourceID string  `json:"parentResourceId"`
	ChildResourceID  string  `json:"childResourceId"`
	RelationshipType string  `json:"relationshipType,omitempty"`
	Cascade          Cascade `json:"cascade,omitempty"`
}

// ResourceEdgePatch changes a ResourceEdge; nil fields are left unchanged.
type ResourceEdgePatch struct {
	Cascade *Cascade `json:"cascade,omitempty"`
}

// ResourceEdgeFilter selects resource edges by parent and/or child; one is
// required.
type ResourceEdgeFilter struct {
	ParentResourceID string `json:"parentResourceId,omitempty"`
	ChildResourceID  string `json:"childResourceId,omitempty"`
	Page
}

func (e *ResourceEdge) kind() *kindSpec  { return resourceEdgeKind }
func (e *ResourceEdge) recordID() string { return e.ID }
func (e *ResourceEdge) uniques() []uniqueEntry {
	return []uniqueEntry{{name: uniqueResourceEdge, values: []string{e.ParentResourceID, e.ChildResourceID}, field: "childResourceId",
		what: func() string { return fmt.Sprintf("resource edge %q → %q", e.ParentResourceID, e.ChildResourceID) }}}
}
func (e *ResourceEdge) indexes() []indexEntry {
	return []indexEntry{idx(ixResourceEdgeChild, e.ChildResourceID), idx(ixResourceEdgeParent, e.ParentResourceID)}
}

// defaultRelationshipType is the relationship type of a resource edge
// created without one.
const defaultRelationshipType = "contains"

func buildResourceEdge(b *builder, it *item, in *ResourceEdgeInput) {
	e := &ResourceEdge{ParentResourceID: in.ParentResourceID, ChildResourceID: in.ChildResourceID, RelationshipType: in.RelationshipType, Cascade: in.Cascade}
	e.ID = b.newID(it, resourceEdgeKind, in.ID)
	it.rec = e
	if e.RelationshipType == "" {
		e.RelationshipType = defaultRelationshipType
	}
	if e.Cascade == "" {
		e.Cascade = CascadeInherit
	}
	enum(b, it, "cascade", e.Cascade, false, CascadeInherit, CascadeNone)
	b.requiredRef(it, "parentResourceId", in.ParentResourceID, resourceKind)
	b.requiredRef(it, "childResourceId", in.ChildResourceID, resourceKind)
	if e.ParentResourceID != "" && e.ParentResourceID == e.ChildResourceID {
		b.fail(it, "childResourceId", notAllowedf("resource %q cannot be its own child: the edge would make a cycle", e.ChildResourceID))
		return
	}
	b.resourceEdges = append(b.resourceEdges, dagEdge{it: it, parent: e.ParentResourceID, child: e.ChildResourceID})
}

// CreateResourceEdges creates resource edges in one atomic batch. The pair
// (parent, child) is unique and the resource graph stays acyclic
// (ErrNotAllowed, naming the cycle; see Apply for which edges of a batch
// are reported). The check costs time linear in the batch plus the
// resources above the children that have children of their own: placing a
// resource without children under another reads nothing above it.
func (c *Client) CreateResourceEdges(ctx context.Context, in []ResourceEdgeInput) ([]ResourceEdge, error) {
	return createMany(ctx, c, "create resource edges", &Batch{ResourceEdges: in}, func(r *BatchResult) []ResourceEdge { return r.ResourceEdges })
}

// CreateResourceEdge creates one resource edge.
func (c *Client) CreateResourceEdge(ctx context.Context, in ResourceEdgeInput) (ResourceEdge, error) {
	return createOne(ctx, "create resource edge", in, c.CreateResourceEdges)
}

// GetResourceEdge returns the resource edge id, or an error wrapping
// ErrNotFound.
func (c *Client) GetResourceEdge(ctx context.Context, id string) (ResourceEdge, error) {
	return getOne[ResourceEdge](ctx, c, resourceEdgeKind, id)
}

// ListResourceEdges lists resource edges in id order: the edges to the
// children of f.ParentResourceID, the edges to the parents of
// f.ChildResourceID, or, with both, the one edge between them. One of them
// is required (ErrInvalid).
func (c *Client) ListResourceEdges(ctx context.Context, f ResourceEdgeFilter) ([]ResourceEdge, error) {
	keep := func(e *ResourceEdge) bool {
		return (f.ParentResourceID == "" || e.ParentResourceID == f.ParentResourceID) && (f.ChildResourceID == "" || e.ChildResourceID == f.ChildResourceID)
	}
	switch {
	case f.ParentResourceID != "" && f.ChildResourceID != "":
		return listByUniqueKey(ctx, c, resourceEdgeKind, keep, f.Page, uniqueResourceEdge, f.ParentResourceID, f.ChildResourceID)
	case f.ParentResourceID != "":
		return list(ctx, c, resourceEdgeKind, byIndex(ixResourceEdgeParent, f.ParentResourceID), keep, f.Page)
	case f.ChildResourceID != "":
		return list(ctx, c, resourceEdgeKind, byIndex(ixResourceEdgeChild, f.ChildResourceID), keep, f.Page)
	}
	return nil, invalidf("list resource edges: parentResourceId or childResourceId is required")
}

// UpdateResourceEdge changes the cascade mode of a resource edge (inherit or
// none). Its ends and relationship type cannot change: delete the edge and
// create another one.
func (c *Client) UpdateResourceEdge(ctx context.Context, id string, p ResourceEdgePatch) (ResourceEdge, error) {
	return update(ctx, c, resourceEdgeKind, id, func(_ *view, e *ResourceEdge) error {
		if p.Cascade != nil {
			if err := checkEnum("cascade", *p.Cascade, CascadeInherit, CascadeNone); err != nil {
				return err
			}
			e.Cascade = *p.Cascade
		}
		return nil
	})
}

// DeleteResourceEdge deletes a resource edge; both resources stay.
func (c *Client) DeleteResourceEdge(ctx context.Context, id string) error {
	return c.deleteOne(ctx, resourceEdgeKind, id)
}
