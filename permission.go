package authz

import (
	"context"
	"encoding/json"
	"fmt"
)

// Permission allows an action on resources of a type, matched by a pattern,
// optionally under a JSON Logic condition.
type Permission struct {
	ID              string `json:"id"`
	ScopeID         string `json:"scopeId"`
	Action          string `json:"action"`
	ResourceType    string `json:"resourceType"`
	ResourcePattern string `json:"resourcePattern"`
	Key             string `json:"key"`
	Label           string `json:"label,omitempty"`
	Description     string `json:"description,omitempty"`
	// Logic is a JSON Logic condition that must hold for the permission to
	// grant (docs/conditions.md).
	Logic json.RawMessage `json:"logic,omitempty"`
}

// PermissionInput creates a Permission. ScopeID, Action and ResourceType (a
// resource type key visible at the scope) are required; ResourcePattern
// defaults to "*" and Key to "{resourceType}:{action}:{resourcePattern}".
type PermissionInput struct {
	ID              string          `json:"id,omitempty"`
	ScopeID         string          `json:"scopeId"`
	Action          string          `json:"action"`
	ResourceType    string          `json:"resourceType"`
	ResourcePattern string          `json:"resourcePattern,omitempty"`
	Key             string          `json:"key,omitempty"`
	Label           string          `json:"label,omitempty"`
	Description     string          `json:"description,omitempty"`
	Logic           json.RawMessage `json:"logic,omitempty"`
}

// PermissionFilter selects the permissions defined at a scope (required).
type PermissionFilter struct {
	ScopeID string `json:"scopeId,omitempty"`
	Page
}

func (p *Permission) kind() *kindSpec  { return permKind }
func (p *Permission) recordID() string { return p.ID }
func (p *Permission) uniques() []uniqueEntry {
	return []uniqueEntry{{name: uniquePermKey, values: []string{p.ScopeID, p.Key}, field: "key",
		what: func() string { return fmt.Sprintf("permission with key %q in scope %q", p.Key, p.ScopeID) }}}
}
func (p *Permission) indexes() []indexEntry { return []indexEntry{idx(ixPermScope, p.ScopeID)} }

func buildPermission(b *builder, it *item, in *PermissionInput) {
	p := &Permission{ScopeID: in.ScopeID, Action: in.Action, ResourceType: in.ResourceType, ResourcePattern: in.ResourcePattern,
		Key: in.Key, Label: in.Label, Description: in.Description}
	p.ID = b.newID(it, permKind, in.ID)
	it.rec = p
	b.requiredRef(it, "scopeId", in.ScopeID, scopeKind)
	b.required(it, "action", in.Action)
	b.required(it, "resourceType", in.ResourceType)
	if p.ResourcePattern == "" {
		p.ResourcePattern = "*"
	}
	if p.Key == "" {
		p.Key = p.ResourceType + ":" + p.Action + ":" + p.ResourcePattern
	}
	p.Logic = buildCondition(b, it, "logic", in.Logic)
	it.check = func(v *view) {
		if v.typeKeyVisible(p.ScopeID, p.ResourceType) {
			return
		}
		v.fail(it, "resourceType", notAllowedf("no resource type with key %q is visible at scope %q (looked in %s): create the resource type {scopeId: %q, key: %q} at scope %q or above it first",
			p.ResourceType, p.ScopeID, v.chainText(p.ScopeID), p.ScopeID, p.ResourceType, p.ScopeID))
	}
}

// CreatePermissions creates permissions in one atomic batch. Each
// permission's key must be unique in its scope (in the batch and in the
// store), and a resource type whose key is its resourceType must be visible
// at its scope (defined in the chain of the scope, docs/model.md#chains-and-tenants), otherwise
// ErrNotAllowed.
func (c *Client) CreatePermissions(ctx context.Context, in []PermissionInput) ([]Permission, error) {
	return createMany(ctx, c, "create permissions", &Batch{Permissions: in}, func(r *BatchResult) []Permission { return r.Permissions })
}

// CreatePermission creates one permission.
func (c *Client) CreatePermission(ctx context.Context, in PermissionInput) (Permission, error) {
	return createOne(ctx, "create permission", in, c.CreatePermissions)
}

// GetPermission returns the permission id, or an error wrapping ErrNotFound.
func (c *Client) GetPermission(ctx context.Context, id string) (Permission, error) {
	return getOne[Permission](ctx, c, permKind, id)
}

// ListPermissions lists the permissions defined at a scope, in id order.
// ScopeID is required (ErrInvalid). Permissions have no updatable field:
// delete and recreate one to change it.
func (c *Client) ListPermissions(ctx context.Context, f PermissionFilter) ([]Permission, error) {
	if f.ScopeID == "" {
		return nil, invalidf("list permissions: scopeId is required")
	}
	return list[Permission](ctx, c, permKind, byIndex(ixPermScope, f.ScopeID), nil, f.Page)
}

// DeletePermission deletes a permission and, in the same transaction, its
// role-permissions, the scope overrides that name it, the tag assignments on
// it and the tag bindings that name it.
func (c *Client) DeletePermission(ctx context.Context, id string) error {
	return c.deleteOne(ctx, permKind, id)
}
