package authz

import (
	"context"
	"fmt"

	"github.com/scopegate/authz/storage"
)

// Resource is a protected object, owned by a scope.
type Resource struct {
	ID                 string         `json:"id"`
	ResourceTypeID     string         `json:"resourceTypeId"`
	ScopeID            string         `json:"scopeId"`
	ExternalResourceID string         `json:"externalResourceId"`
	DisplayName        string         `json:"displayName,omitempty"`
	Meta               map[string]any `json:"meta,omitempty"`
	OwnerID            string         `json:"ownerId,omitempty"`
	CreatedAt          Time           `json:"createdAt"`
	CreatedBy          string         `json:"createdBy,omitempty"`
}

// ResourceInput creates a Resource. ResourceTypeID, ScopeID (the owning
// scope; the type must be visible there) and ExternalResourceID (unique per
// type) are required. OwnerID defaults to the actor of the context
// (WithActor, else "system"); it is kept verbatim and need not name a stored
// subject.
type ResourceInput struct {
	ID                 string         `json:"id,omitempty"`
	ResourceTypeID     string         `json:"resourceTypeId"`
	ScopeID            string         `json:"scopeId"`
	ExternalResourceID string         `json:"externalResourceId"`
	DisplayName        string         `json:"displayName,omitempty"`
	Meta               map[string]any `json:"meta,omitempty"`
	OwnerID            string         `json:"ownerId,omitempty"`
}

// ResourcePatch changes a Resource; nil fields are left unchanged. Meta
// replaces the whole meta object. ScopeID moves the resource to another
// owning scope (the scope must exist and the type must be visible there);
// it is how a scope that owns resources is emptied before it is deleted. A
// link of the resource to its new owning scope is deleted by the move.
type ResourcePatch struct {
	DisplayName *string         `json:"displayName,omitempty"`
	Meta        *map[string]any `json:"meta,omitempty"`
	ScopeID     *string         `json:"scopeId,omitempty"`
	// OwnerID transfers the resource to another owner (the subject the
	// "owned" pattern grants to). Like ResourceInput.OwnerID it is kept
	// verbatim and need not name a stored subject; it must not be empty.
	OwnerID *string `json:"ownerId,omitempty"`
}

// ResourceFilter selects resources by owning scope, type or external id;
// one of ScopeID and ResourceTypeID is required.
type ResourceFilter struct {
	ScopeID            string `json:"scopeId,omitempty"`
	ResourceTypeID     string `json:"resourceTypeId,omitempty"`
	ExternalResourceID string `json:"externalResourceId,omitempty"`
	Page
}

func (r *Resource) kind() *kindSpec  { return resourceKind }
func (r *Resource) recordID() string { return r.ID }
func (r *Resource) uniques() []uniqueEntry {
	return []uniqueEntry{{name: uniqueResourceExt, values: []string{r.ResourceTypeID, r.ExternalResourceID}, field: "externalResourceId",
		what: func() string {
			return fmt.Sprintf("resource of type %q with external id %q", r.ResourceTypeID, r.ExternalResourceID)
		}}}
}
func (r *Resource) indexes() []indexEntry {
	return []indexEntry{idx(ixResourceScope, r.ScopeID), idx(ixResourceType, r.ResourceTypeID)}
}

func buildResource(b *builder, it *item, in *ResourceInput) {
	r := &Resource{ResourceTypeID: in.ResourceTypeID, ScopeID: in.ScopeID, ExternalResourceID: in.ExternalResourceID,
		DisplayName: in.DisplayName, Meta: in.Meta, OwnerID: in.OwnerID, CreatedAt: Time{b.now}, CreatedBy: b.actor}
	if r.OwnerID == "" {
		r.OwnerID = b.actor
	}
	r.ID = b.newID(it, resourceKind, in.ID)
	it.rec = r
	b.requiredRef(it, "resourceTypeId", in.ResourceTypeID, resourceTypeKind)
	b.requiredRef(it, "scopeId", in.ScopeID, scopeKind)
	b.required(it, "externalResourceId", in.ExternalResourceID)
	it.check = func(v *view) {
		if err := checkResourceTypeVisible(v, r.ResourceTypeID, r.ScopeID); err != nil {
			v.fail(it, "resourceTypeId", err)
		}
	}
}

// checkResourceTypeVisible returns the ErrNotAllowed error for a resource of
// type typeID owned by scopeID when the type is not defined in
// chain(scopeID), or nil. A missing type or scope is reported elsewhere.
func checkResourceTypeVisible(v *view, typeID, scopeID string) error {
	rt := get[ResourceType](v, resourceTypeKind, typeID)
	if rt == nil || get[Scope](v, scopeKind, scopeID) == nil || v.inChain(scopeID, rt.ScopeID) {
		return nil
	}
	return notAllowedf("resource type %q (key %q) is defined at scope %q, which is not in the chain of scope %q: use a resource type defined at %q or above it, up to the nearest define scope",
		rt.ID, rt.Key, rt.ScopeID, scopeID, scopeID)
}

// CreateResources creates resources in one atomic batch. The pair
// (resourceTypeId, externalResourceId) is unique, whether the clash is
// inside the batch or with a stored resource.
func (c *Client) CreateResources(ctx context.Context, in []ResourceInput) ([]Resource, error) {
	return createMany(ctx, c, "create resources", &Batch{Resources: in}, func(r *BatchResult) []Resource { return r.Resources })
}

// CreateResource creates one resource.
func (c *Client) CreateResource(ctx context.Context, in ResourceInput) (Resource, error) {
	return createOne(ctx, "create resource", in, c.CreateResources)
}

// GetResource returns the resource id, or an error wrapping ErrNotFound.
func (c *Client) GetResource(ctx context.Context, id string) (Resource, error) {
	return getOne[Resource](ctx, c, resourceKind, id)
}

// GetResourceByExternalID returns the resource of type resourceTypeID (a
// resource type id, not a key) with the given external id, or an error
// wrapping ErrNotFound. Both arguments are required (ErrInvalid).
func (c *Client) GetResourceByExternalID(ctx context.Context, resourceTypeID, externalResourceID string) (Resource, error) {
	var out Resource
	if resourceTypeID == "" || externalResourceID == "" {
		return out, invalidf("get resource by external id: resourceTypeId and externalResourceId are required")
	}
	err := c.store.View(ctx, func(tx storage.Tx) error {
		id, err := lookupUnique(tx, uniqueResourceExt, resourceTypeID, externalResourceID)
		if err != nil {
			return err
		}
		if id == "" {
			return &ruleError{msg: fmt.Sprintf("resource of type %q with external id %q: not found", resourceTypeID, externalResourceID), kind: ErrNotFound}
		}
		r, err := load[Resource](tx, resourceKind, id)
		if err != nil {
			return err
		}
		out = *r
		return nil
	})
	return out, err
}

// ListResources lists resources in id order. One of f.ScopeID (the owning
// scope; resources linked there are not included, see
// ListResourceScopeLinks) and f.ResourceTypeID is required (ErrInvalid).
// With f.ResourceTypeID, f.ExternalResourceID selects the one resource with
// that external id (an exact lookup); with f.ScopeID alone it filters the
// scope's resources.
func (c *Client) ListResources(ctx context.Context, f ResourceFilter) ([]Resource, error) {
	keep := func(r *Resource) bool {
		return (f.ScopeID == "" || r.ScopeID == f.ScopeID) && (f.ResourceTypeID == "" || r.ResourceTypeID == f.ResourceTypeID) &&
			(f.ExternalResourceID == "" || r.ExternalResourceID == f.ExternalResourceID)
	}
	switch {
	case f.ResourceTypeID != "" && f.ExternalResourceID != "":
		return listByUniqueKey(ctx, c, resourceKind, keep, f.Page, uniqueResourceExt, f.ResourceTypeID, f.ExternalResourceID)
	case f.ScopeID != "":
		return list(ctx, c, resourceKind, byIndex(ixResourceScope, f.ScopeID), keep, f.Page)
	case f.ResourceTypeID != "":
		return list(ctx, c, resourceKind, byIndex(ixResourceType, f.ResourceTypeID), keep, f.Page)
	}
	return nil, invalidf("list resources: scopeId or resourceTypeId is required")
}

// listByUniqueKey lists the object registered under a unique key (none or
// one) of kind k, if it satisfies keep and falls in the page.
func listByUniqueKey[T any](ctx context.Context, c *Client, k *kindSpec, keep func(*T) bool, p Page, name string, values ...string) ([]T, error) {
	var ids []string
	err := c.store.View(ctx, func(tx storage.Tx) error {
		id, err := lookupUnique(tx, name, values...)
		if id != "" {
			ids = append(ids, id)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return listIDs(ctx, c, k, ids, keep, p)
}

// UpdateResource changes the display name or meta of a resource, or moves it
// to another owning scope (ResourcePatch.ScopeID). A move is checked like a
// create: the scope must exist (ErrNotFound) and the resource's type must be
// visible there (ErrNotAllowed). A link of the resource to its new owning
// scope is deleted in the same transaction: the owner is already a home for
// every action, and a link to the owner is not allowed. Edges, other links,
// policies targeting the resource and tag assignments on it are kept.
func (c *Client) UpdateResource(ctx context.Context, id string, p ResourcePatch) (Resource, error) {
	return update(ctx, c, resourceKind, id, func(v *view, r *Resource) error {
		if p.DisplayName != nil {
			r.DisplayName = *p.DisplayName
		}
		if p.Meta != nil {
			r.Meta = *p.Meta
		}
		if p.OwnerID != nil {
			if *p.OwnerID == "" {
				return invalidf("ownerId: must not be empty (a resource always has an owner)")
			}
			r.OwnerID = *p.OwnerID
		}
		if p.ScopeID == nil || *p.ScopeID == r.ScopeID {
			return nil
		}
		to := *p.ScopeID
		if to == "" {
			return invalidf("scopeId: must not be empty")
		}
		if get[Scope](v, scopeKind, to) == nil {
			if v.err != nil {
				return v.err
			}
			return fmt.Errorf("scopeId: %w", notFound("scope", to))
		}
		if err := checkResourceTypeVisible(v, r.ResourceTypeID, to); err != nil {
			return fmt.Errorf("scopeId: %w", err)
		}
		if lid := v.unique(uniqueLink, r.ID, to); lid != "" {
			d := &deleter{v: v, done: map[string]bool{}}
			if err := d.delete(linkKind, lid, false); err != nil {
				return err
			}
		}
		r.ScopeID = to
		return nil
	})
}

// ListResourceAncestors lists the resources above resource id in the
// resource hierarchy (a DAG), breadth-first (see TreeQuery; q.Depth 1: its
// parents). With q.CascadeOnly only edges with cascade inherit are
// followed: the ancestors whose permissions reach the resource.
// ErrNotFound when id is no resource.
func (c *Client) ListResourceAncestors(ctx context.Context, id string, q TreeQuery) ([]Resource, error) {
	return walk[Resource](ctx, c, resourceKind, resourceEdgeKind, id, ixResourceEdgeChild,
		func(e *ResourceEdge) (string, bool) {
			return e.ParentResourceID, !q.CascadeOnly || e.Cascade == CascadeInherit
		}, q)
}

// ListResourceDescendants lists the resources below resource id,
// breadth-first (see TreeQuery; q.Depth 1: its children). With
// q.CascadeOnly only edges with cascade inherit are followed: the
// descendants a permission on the resource reaches. ErrNotFound when id is
// no resource.
func (c *Client) ListResourceDescendants(ctx context.Context, id string, q TreeQuery) ([]Resource, error) {
	return walk[Resource](ctx, c, resourceKind, resourceEdgeKind, id, ixResourceEdgeParent,
		func(e *ResourceEdge) (string, bool) {
			return e.ChildResourceID, !q.CascadeOnly || e.Cascade == CascadeInherit
		}, q)
}

// DeleteResource deletes a resource and, in the same transaction, its edges
// (to its parents and to its children; the children themselves stay), its
// scope links, the policies targeting it, the tag assignments on it and the
// tag bindings naming it.
func (c *Client) DeleteResource(ctx context.Context, id string) error {
	return c.deleteOne(ctx, resourceKind, id)
}
