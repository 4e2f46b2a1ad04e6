package authz

import (
	"context"
	"fmt"
)

// LinkType is the kind of a resource scope link.
type LinkType string

// Link types. A share or alias link makes the scope a home of the resource;
// a mirror link does so for read actions only (docs/model.md#resource-scope-links).
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

// ResourceScopeLinkFilter selects links by resource, scope and link type;
// at least one is required.
type ResourceScopeLinkFilter struct {
	ResourceID string `json:"resourceId,omitempty"`
	ScopeID    string `json:"scopeId,omitempty"`
	// LinkType narrows the list to links of one type; given alone, it
	// lists every link of that type.
	LinkType LinkType `json:"linkType,omitempty"`
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
		return (f.ResourceID == "" || l.ResourceID == f.ResourceID) && (f.ScopeID == "" || l.ScopeID == f.ScopeID) &&
			(f.LinkType == "" || l.LinkType == f.LinkType)
	}
	if f.LinkType != "" {
		if err := checkEnum("list resource scope links: linkType", f.LinkType, linkTypes...); err != nil {
			return nil, err
		}
	}
	switch {
	case f.ResourceID != "" && f.ScopeID != "":
		return listByUniqueKey(ctx, c, linkKind, keep, f.Page, uniqueLink, f.ResourceID, f.ScopeID)
	case f.ResourceID != "":
		return list(ctx, c, linkKind, byIndex(ixLinkResource, f.ResourceID), keep, f.Page)
	case f.ScopeID != "":
		return list(ctx, c, linkKind, byIndex(ixLinkScope, f.ScopeID), keep, f.Page)
	case f.LinkType != "":
		return list(ctx, c, linkKind, listPlan{}, keep, f.Page)
	}
	return nil, invalidf("list resource scope links: resourceId, scopeId or linkType is required")
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
