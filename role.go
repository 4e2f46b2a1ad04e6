package authz

import "context"

// Role is a named set of permissions defined at a scope. It can be assigned
// in the scope's subtree, down to the next define scope.
type Role struct {
	ID          string `json:"id"`
	ScopeID     string `json:"scopeId"`
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
}

// RoleInput creates a Role. ScopeID and Name are required.
type RoleInput struct {
	ID          string `json:"id,omitempty"`
	ScopeID     string `json:"scopeId"`
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
}

// RolePatch changes a Role; nil fields are left unchanged.
type RolePatch struct {
	Name        *string `json:"name,omitempty"`
	Description *string `json:"description,omitempty"`
}

// RoleFilter selects the roles defined at a scope (required).
type RoleFilter struct {
	ScopeID string `json:"scopeId,omitempty"`
	Page
}

func (r *Role) kind() *kindSpec        { return roleKind }
func (r *Role) recordID() string       { return r.ID }
func (r *Role) uniques() []uniqueEntry { return nil }
func (r *Role) indexes() []indexEntry  { return []indexEntry{idx(ixRoleScope, r.ScopeID)} }

func buildRole(b *builder, it *item, in *RoleInput) {
	r := &Role{ScopeID: in.ScopeID, Name: in.Name, Description: in.Description}
	r.ID = b.newID(it, roleKind, in.ID)
	it.rec = r
	b.requiredRef(it, "scopeId", in.ScopeID, scopeKind)
	b.required(it, "name", in.Name)
}

// CreateRoles creates roles in one atomic batch.
func (c *Client) CreateRoles(ctx context.Context, in []RoleInput) ([]Role, error) {
	return createMany(ctx, c, "create roles", &Batch{Roles: in}, func(r *BatchResult) []Role { return r.Roles })
}

// CreateRole creates one role.
func (c *Client) CreateRole(ctx context.Context, in RoleInput) (Role, error) {
	return createOne(ctx, "create role", in, c.CreateRoles)
}

// GetRole returns the role id, or an error wrapping ErrNotFound.
func (c *Client) GetRole(ctx context.Context, id string) (Role, error) {
	return getOne[Role](ctx, c, roleKind, id)
}

// ListRoles lists the roles defined at a scope, in id order. Roles
// inherited from scopes above are not listed. ScopeID is required
// (ErrInvalid).
func (c *Client) ListRoles(ctx context.Context, f RoleFilter) ([]Role, error) {
	if f.ScopeID == "" {
		return nil, invalidf("list roles: scopeId is required")
	}
	return list[Role](ctx, c, roleKind, byIndex(ixRoleScope, f.ScopeID), nil, f.Page)
}

// UpdateRole changes the name or description of a role. The name must not
// be empty.
func (c *Client) UpdateRole(ctx context.Context, id string, p RolePatch) (Role, error) {
	return update(ctx, c, roleKind, id, func(_ *view, r *Role) error {
		if p.Name != nil {
			if *p.Name == "" {
				return invalidf("name: must not be empty")
			}
			r.Name = *p.Name
		}
		if p.Description != nil {
			r.Description = *p.Description
		}
		return nil
	})
}

// DeleteRole deletes a role and, in the same transaction, its role
// assignments, its role-permissions, the scope overrides that name it, the
// tag assignments on it and the tag bindings that name it.
func (c *Client) DeleteRole(ctx context.Context, id string) error {
	return c.deleteOne(ctx, roleKind, id)
}
