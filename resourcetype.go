package authz

import (
	"context"
	"fmt"
	"regexp"
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
// the collections of that type (with the policies targeting them), the
// resource type edges from and to it, and the tag bindings naming it. It is refused (ErrNotAllowed) while resources of
// the type exist: delete them first.
func (c *Client) DeleteResourceType(ctx context.Context, id string) error {
	return c.deleteOne(ctx, resourceTypeKind, id)
}
