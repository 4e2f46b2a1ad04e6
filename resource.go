package authz

import (
	"context"
	"fmt"
	"regexp"

	"github.com/scopegate/authz/storage"
)

// Index and unique names of the resource model.
const (
	ixResourceTypeScope   = "resource_type.scope"  // [scopeId]
	ixResourceTypeKey     = "resource_type.by_key" // [key]: the types of a key, in every scope
	ixResourceScope       = "resource.scope"       // [scopeId]
	ixResourceType        = "resource.type"        // [resourceTypeId]
	ixResourceEdgeChild   = "resource_edge.child"  // [childResourceId]
	ixResourceEdgeParent  = "resource_edge.parent" // [parentResourceId]
	ixLinkResource        = "rsl.resource"         // [resourceId]
	ixLinkScope           = "rsl.scope"            // [scopeId]
	uniqueResourceTypeKey = "resource_type.key"    // [scopeId, key]
	uniqueResourceExt     = "resource.external"    // [resourceTypeId, externalResourceId]
	uniqueResourceEdge    = "resource_edge"        // [parentResourceId, childResourceId]
	uniqueLink            = "rsl"                  // [resourceId, scopeId]
)

// keyPattern is the syntax of resource type and tag group keys.
var keyPattern = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// ResourceType is a kind of resource (document, folder, repository), known
// by its key in permissions and requests.
type ResourceType struct {
	ID        string `json:"id"`
	ScopeID   string `json:"scopeId"`
	Key       string `json:"key"`
	Name      string `json:"name"`
	CreatedAt Time   `json:"createdAt"`
	CreatedBy string `json:"createdBy,omitempty"`
}

// ResourceTypeInput creates a ResourceType. ScopeID, Key
// (^[a-z][a-z0-9_]*$, unique per scope) and Name are required.
type ResourceTypeInput struct {
	ID      string `json:"id,omitempty"`
	ScopeID string `json:"scopeId"`
	Key     string `json:"key"`
	Name    string `json:"name"`
}

// ResourceTypePatch changes a ResourceType; nil fields are left unchanged.
type ResourceTypePatch struct {
	Name *string `json:"name,omitempty"`
}

// ResourceTypeFilter selects the resource types defined at a scope
// (required).
type ResourceTypeFilter struct {
	ScopeID string `json:"scopeId,omitempty"`
	Page
}

func (r *ResourceType) kind() *kindSpec  { return resourceTypeKind }
func (r *ResourceType) recordID() string { return r.ID }
func (r *ResourceType) uniques() []uniqueEntry {
	return []uniqueEntry{{name: uniqueResourceTypeKey, values: []string{r.ScopeID, r.Key}, field: "key",
		what: func() string { return fmt.Sprintf("resource type with key %q in scope %q", r.Key, r.ScopeID) }}}
}
func (r *ResourceType) indexes() []indexEntry {
	return []indexEntry{idx(ixResourceTypeScope, r.ScopeID), idx(ixResourceTypeKey, r.Key)}
}

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
// the child (SPEC §4.2 step 2). The resource graph is a DAG.
type ResourceEdge struct {
	ID               string  `json:"id"`
	ParentResourceID string  `json:"parentResourceId"`
	ChildResourceID  string  `json:"childResourceId"`
	RelationshipType string  `json:"relationshipType"`
	Cascade          Cascade `json:"cascade"`
}

// ResourceEdgeInput creates a ResourceEdge, unique per (parent, child).
// RelationshipType defaults to "contains", Cascade to inherit.
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

// LinkType is the kind of a resource scope link.
type LinkType string

// Link types. A share or alias link makes the scope a home of the resource;
// a mirror link does so for read actions only (SPEC §4.1).
const (
	LinkShare  LinkType = "share"
	LinkAlias  LinkType = "alias"
	LinkMirror LinkType = "mirror"
)

// ResourceScopeLink makes a resource reachable from another scope than its
// owner.
type ResourceScopeLink struct {
	ID         string         `json:"id"`
	ResourceID string         `json:"resourceId"`
	ScopeID    string         `json:"scopeId"`
	LinkType   LinkType       `json:"linkType"`
	Metadata   map[string]any `json:"metadata,omitempty"`
	CreatedAt  Time           `json:"createdAt"`
}

// ResourceScopeLinkInput creates a ResourceScopeLink, unique per (resource,
// scope); the scope must not be the resource's owner. ResourceID, ScopeID
// and LinkType are required.
type ResourceScopeLinkInput struct {
	ID         string         `json:"id,omitempty"`
	ResourceID string         `json:"resourceId"`
	ScopeID    string         `json:"scopeId"`
	LinkType   LinkType       `json:"linkType"`
	Metadata   map[string]any `json:"metadata,omitempty"`
}

// ResourceScopeLinkPatch changes a ResourceScopeLink; nil fields are left
// unchanged. Metadata replaces the whole object.
type ResourceScopeLinkPatch struct {
	LinkType *LinkType       `json:"linkType,omitempty"`
	Metadata *map[string]any `json:"metadata,omitempty"`
}

// ResourceScopeLinkFilter selects links by resource and/or scope; at least
// one is required.
type ResourceScopeLinkFilter struct {
	ResourceID string `json:"resourceId,omitempty"`
	ScopeID    string `json:"scopeId,omitempty"`
	Page
}

func (l *ResourceScopeLink) kind() *kindSpec  { return linkKind }
func (l *ResourceScopeLink) recordID() string { return l.ID }
func (l *ResourceScopeLink) uniques() []uniqueEntry {
	return []uniqueEntry{{name: uniqueLink, values: []string{l.ResourceID, l.ScopeID}, field: "scopeId",
		what: func() string { return fmt.Sprintf("link of resource %q to scope %q", l.ResourceID, l.ScopeID) }}}
}
func (l *ResourceScopeLink) indexes() []indexEntry {
	return []indexEntry{idx(ixLinkResource, l.ResourceID), idx(ixLinkScope, l.ScopeID)}
}

func buildResourceType(b *builder, it *item, in *ResourceTypeInput) {
	rt := &ResourceType{ScopeID: in.ScopeID, Key: in.Key, Name: in.Name, CreatedAt: Time{b.now}, CreatedBy: b.actor}
	rt.ID = b.newID(it, resourceTypeKind, in.ID)
	it.rec = rt
	b.requiredRef(it, "scopeId", in.ScopeID, scopeKind)
	if b.required(it, "key", in.Key) && !keyPattern.MatchString(in.Key) {
		b.fail(it, "key", invalidf("key %q must be a lower-case letter followed by lower-case letters, digits or underscores (^[a-z][a-z0-9_]*$)", in.Key))
	}
	b.required(it, "name", in.Name)
}

// CreateResourceTypes creates resource types in one atomic batch. A key is
// unique per scope, whether the clash is inside the batch or with a stored
// resource type.
func (c *Client) CreateResourceTypes(ctx context.Context, in []ResourceTypeInput) ([]ResourceType, error) {
	return createMany(ctx, c, "create resource types", &Batch{ResourceTypes: in}, func(r *BatchResult) []ResourceType { return r.ResourceTypes })
}

// CreateResourceType creates one resource type.
func (c *Client) CreateResourceType(ctx context.Context, in ResourceTypeInput) (ResourceType, error) {
	return createOne(ctx, "create resource type", in, c.CreateResourceTypes)
}

// GetResourceType returns the resource type id, or an error wrapping
// ErrNotFound.
func (c *Client) GetResourceType(ctx context.Context, id string) (ResourceType, error) {
	return getOne[ResourceType](ctx, c, resourceTypeKind, id)
}

// ListResourceTypes lists the resource types defined at f.ScopeID (required;
// types visible there from scopes above are not included), in id order.
func (c *Client) ListResourceTypes(ctx context.Context, f ResourceTypeFilter) ([]ResourceType, error) {
	if f.ScopeID == "" {
		return nil, invalidf("list resource types: scopeId is required")
	}
	return list[ResourceType](ctx, c, resourceTypeKind, byIndex(ixResourceTypeScope, f.ScopeID), nil, f.Page)
}

// UpdateResourceType changes the name of a resource type. Its key and scope
// cannot change: permissions and requests name the type by key.
func (c *Client) UpdateResourceType(ctx context.Context, id string, p ResourceTypePatch) (ResourceType, error) {
	return update(ctx, c, resourceTypeKind, id, func(_ *view, rt *ResourceType) error {
		if p.Name != nil {
			if *p.Name == "" {
				return invalidf("name: must not be empty")
			}
			rt.Name = *p.Name
		}
		return nil
	})
}

// DeleteResourceType deletes a resource type and, in the same transaction,
// the collections of that type (with the policies targeting them) and the
// tag bindings naming it. It is refused (ErrNotAllowed) while resources of
// the type exist: delete them first.
func (c *Client) DeleteResourceType(ctx context.Context, id string) error {
	return c.deleteOne(ctx, resourceTypeKind, id)
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

// DeleteResource deletes a resource and, in the same transaction, its edges
// (to its parents and to its children; the children themselves stay), its
// scope links, the policies targeting it, the tag assignments on it and the
// tag bindings naming it.
func (c *Client) DeleteResource(ctx context.Context, id string) error {
	return c.deleteOne(ctx, resourceKind, id)
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

var linkTypes = []LinkType{LinkShare, LinkAlias, LinkMirror}

func buildResourceScopeLink(b *builder, it *item, in *ResourceScopeLinkInput) {
	l := &ResourceScopeLink{ResourceID: in.ResourceID, ScopeID: in.ScopeID, LinkType: in.LinkType, Metadata: in.Metadata, CreatedAt: Time{b.now}}
	l.ID = b.newID(it, linkKind, in.ID)
	it.rec = l
	b.requiredRef(it, "resourceId", in.ResourceID, resourceKind)
	b.requiredRef(it, "scopeId", in.ScopeID, scopeKind)
	enum(b, it, "linkType", in.LinkType, false, linkTypes...)
	it.check = func(v *view) {
		r := get[Resource](v, resourceKind, l.ResourceID)
		if r != nil && r.ScopeID == l.ScopeID {
			v.fail(it, "scopeId", notAllowedf("scope %q owns resource %q; a link must point to another scope", l.ScopeID, l.ResourceID))
		}
	}
}

// CreateResourceScopeLinks creates resource scope links in one atomic batch.
// The pair (resource, scope) is unique, and a link cannot point to the
// resource's owning scope (ErrNotAllowed).
func (c *Client) CreateResourceScopeLinks(ctx context.Context, in []ResourceScopeLinkInput) ([]ResourceScopeLink, error) {
	return createMany(ctx, c, "create resource scope links", &Batch{ResourceScopeLinks: in}, func(r *BatchResult) []ResourceScopeLink { return r.ResourceScopeLinks })
}

// CreateResourceScopeLink creates one resource scope link.
func (c *Client) CreateResourceScopeLink(ctx context.Context, in ResourceScopeLinkInput) (ResourceScopeLink, error) {
	return createOne(ctx, "create resource scope link", in, c.CreateResourceScopeLinks)
}

// GetResourceScopeLink returns the resource scope link id, or an error
// wrapping ErrNotFound.
func (c *Client) GetResourceScopeLink(ctx context.Context, id string) (ResourceScopeLink, error) {
	return getOne[ResourceScopeLink](ctx, c, linkKind, id)
}

// ListResourceScopeLinks lists resource scope links in id order: the links
// of f.ResourceID, the links into f.ScopeID, or, with both, the one link
// between them. One of them is required (ErrInvalid).
func (c *Client) ListResourceScopeLinks(ctx context.Context, f ResourceScopeLinkFilter) ([]ResourceScopeLink, error) {
	keep := func(l *ResourceScopeLink) bool {
		return (f.ResourceID == "" || l.ResourceID == f.ResourceID) && (f.ScopeID == "" || l.ScopeID == f.ScopeID)
	}
	switch {
	case f.ResourceID != "" && f.ScopeID != "":
		return listByUniqueKey(ctx, c, linkKind, keep, f.Page, uniqueLink, f.ResourceID, f.ScopeID)
	case f.ResourceID != "":
		return list(ctx, c, linkKind, byIndex(ixLinkResource, f.ResourceID), keep, f.Page)
	case f.ScopeID != "":
		return list(ctx, c, linkKind, byIndex(ixLinkScope, f.ScopeID), keep, f.Page)
	}
	return nil, invalidf("list resource scope links: resourceId or scopeId is required")
}

// UpdateResourceScopeLink changes the link type (share, alias or mirror) or
// the metadata of a resource scope link. Metadata replaces the whole object.
func (c *Client) UpdateResourceScopeLink(ctx context.Context, id string, p ResourceScopeLinkPatch) (ResourceScopeLink, error) {
	return update(ctx, c, linkKind, id, func(_ *view, l *ResourceScopeLink) error {
		if p.LinkType != nil {
			if err := checkEnum("linkType", *p.LinkType, linkTypes...); err != nil {
				return err
			}
			l.LinkType = *p.LinkType
		}
		if p.Metadata != nil {
			l.Metadata = *p.Metadata
		}
		return nil
	})
}

// DeleteResourceScopeLink deletes a resource scope link: the scope is no
// longer a home of the resource. The resource stays.
func (c *Client) DeleteResourceScopeLink(ctx context.Context, id string) error {
	return c.deleteOne(ctx, linkKind, id)
}
