package authz

import (
	"fmt"
	"regexp"
)

// Kinds of the resource model.
var (
	resourceTypeKind = newKind[ResourceType]("resource type", "resource_types", "resource_type")
	resourceKind     = newKind[Resource]("resource", "resources", "resource")
	resourceEdgeKind = newKind[ResourceEdge]("resource edge", "resource_edges", "resource_edge")
	linkKind         = newKind[ResourceScopeLink]("resource scope link", "resource_scope_links", "rsl")
)

// Index and unique names of the resource model.
const (
	ixResourceTypeScope   = "resource_type.scope"  // [scopeId]
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
		what: fmt.Sprintf("resource type with key %q in scope %q", r.Key, r.ScopeID)}}
}
func (r *ResourceType) indexes() []indexEntry {
	return []indexEntry{idx(ixResourceTypeScope, r.ScopeID)}
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
// type) are required. OwnerID defaults to the actor of the context.
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
// owning scope (the type must be visible there); it is how a scope that
// owns resources is emptied before it is deleted.
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
		what: fmt.Sprintf("resource of type %q with external id %q", r.ResourceTypeID, r.ExternalResourceID)}}
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
		what: fmt.Sprintf("resource edge %q → %q", e.ParentResourceID, e.ChildResourceID)}}
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
		what: fmt.Sprintf("link of resource %q to scope %q", l.ResourceID, l.ScopeID)}}
}
func (l *ResourceScopeLink) indexes() []indexEntry {
	return []indexEntry{idx(ixLinkResource, l.ResourceID), idx(ixLinkScope, l.ScopeID)}
}

func buildResourceType(b *builder, it *item, in *ResourceTypeInput) {
	rt := &ResourceType{ScopeID: in.ScopeID, Key: in.Key, Name: in.Name, CreatedAt: Time{b.now}, CreatedBy: b.actor}
	rt.ID = b.newID(it, resourceTypeKind, in.ID)
	it.rec = rt
}

func buildResource(b *builder, it *item, in *ResourceInput) {
	r := &Resource{ResourceTypeID: in.ResourceTypeID, ScopeID: in.ScopeID, ExternalResourceID: in.ExternalResourceID,
		DisplayName: in.DisplayName, Meta: in.Meta, OwnerID: in.OwnerID, CreatedAt: Time{b.now}, CreatedBy: b.actor}
	r.ID = b.newID(it, resourceKind, in.ID)
	it.rec = r
}

func buildResourceEdge(b *builder, it *item, in *ResourceEdgeInput) {
	e := &ResourceEdge{ParentResourceID: in.ParentResourceID, ChildResourceID: in.ChildResourceID, RelationshipType: in.RelationshipType, Cascade: in.Cascade}
	e.ID = b.newID(it, resourceEdgeKind, in.ID)
	it.rec = e
}

func buildResourceScopeLink(b *builder, it *item, in *ResourceScopeLinkInput) {
	l := &ResourceScopeLink{ResourceID: in.ResourceID, ScopeID: in.ScopeID, LinkType: in.LinkType, Metadata: in.Metadata, CreatedAt: Time{b.now}}
	l.ID = b.newID(it, linkKind, in.ID)
	it.rec = l
}
