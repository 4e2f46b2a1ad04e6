package authz

import (
	"context"
	"encoding/json"
	"fmt"
)

// RolePermission grants a permission to a role, optionally under a
// condition.
type RolePermission struct {
	ID           string          `json:"id"`
	RoleID       string          `json:"roleId"`
	PermissionID string          `json:"permissionId"`
	Condition    json.RawMessage `json:"condition,omitempty"`
}

// RolePermissionInput creates a RolePermission, unique per (role,
// permission). The permission must be defined in the chain of the role's
// scope.
type RolePermissionInput struct {
	ID           string          `json:"id,omitempty"`
	RoleID       string          `json:"roleId"`
	PermissionID string          `json:"permissionId"`
	Condition    json.RawMessage `json:"condition,omitempty"`
}

// RolePermissionFilter selects role-permissions by role and/or permission;
// one of them is required.
type RolePermissionFilter struct {
	RoleID       string `json:"roleId,omitempty"`
	PermissionID string `json:"permissionId,omitempty"`
	Page
}

func (r *RolePermission) kind() *kindSpec  { return rolePermKind }
func (r *RolePermission) recordID() string { return r.ID }
func (r *RolePermission) uniques() []uniqueEntry {
	return []uniqueEntry{{name: uniqueRolePermission, values: []string{r.RoleID, r.PermissionID}, field: "permissionId",
		what: func() string { return fmt.Sprintf("grant of permission %q to role %q", r.PermissionID, r.RoleID) }}}
}
func (r *RolePermission) indexes() []indexEntry {
	return []indexEntry{idx(ixRolePermRole, r.RoleID), idx(ixRolePermPerm, r.PermissionID)}
}

func buildRolePermission(b *builder, it *item, in *RolePermissionInput) {
	rp := &RolePermission{RoleID: in.RoleID, PermissionID: in.PermissionID}
	rp.ID = b.newID(it, rolePermKind, in.ID)
	it.rec = rp
	b.requiredRef(it, "roleId", in.RoleID, roleKind)
	b.requiredRef(it, "permissionId", in.PermissionID, permKind)
	rp.Condition = buildCondition(b, it, "condition", in.Condition)
	it.check = func(v *view) {
		r := get[Role](v, roleKind, rp.RoleID)
		p := get[Permission](v, permKind, rp.PermissionID)
		if r == nil || p == nil {
			return
		}
		if !v.inChain(r.ScopeID, p.ScopeID) {
			v.fail(it, "permissionId", notAllowedf("permission %q is defined at scope %q, which is not in the chain of role %q's scope %q: grant a permission defined at %q or above it, up to the nearest define scope",
				p.ID, p.ScopeID, r.ID, r.ScopeID, r.ScopeID))
		}
	}
}

// CreateRolePermissions grants permissions to roles in one atomic batch.
// Each (role, permission) pair is granted at most once
// (ErrAlreadyExists), and the permission must be defined in the chain of the
// role's scope (ErrNotAllowed).
func (c *Client) CreateRolePermissions(ctx context.Context, in []RolePermissionInput) ([]RolePermission, error) {
	return createMany(ctx, c, "create role permissions", &Batch{RolePermissions: in}, func(r *BatchResult) []RolePermission { return r.RolePermissions })
}

// CreateRolePermission grants one permission to one role.
func (c *Client) CreateRolePermission(ctx context.Context, in RolePermissionInput) (RolePermission, error) {
	return createOne(ctx, "create role permission", in, c.CreateRolePermissions)
}

// GetRolePermission returns the role-permission id, or an error wrapping
// ErrNotFound.
func (c *Client) GetRolePermission(ctx context.Context, id string) (RolePermission, error) {
	return getOne[RolePermission](ctx, c, rolePermKind, id)
}

// ListRolePermissions lists role-permissions in id order. RoleID or
// PermissionID is required (ErrInvalid); when both are set, the pair's
// role-permission (if any) is listed. Role-permissions have no updatable
// field: delete and recreate one to change its condition.
func (c *Client) ListRolePermissions(ctx context.Context, f RolePermissionFilter) ([]RolePermission, error) {
	keep := func(rp *RolePermission) bool {
		return (f.RoleID == "" || rp.RoleID == f.RoleID) && (f.PermissionID == "" || rp.PermissionID == f.PermissionID)
	}
	switch {
	case f.RoleID != "":
		return list(ctx, c, rolePermKind, byIndex(ixRolePermRole, f.RoleID), keep, f.Page)
	case f.PermissionID != "":
		return list(ctx, c, rolePermKind, byIndex(ixRolePermPerm, f.PermissionID), keep, f.Page)
	}
	return nil, invalidf("list role permissions: roleId or permissionId is required")
}

// DeleteRolePermission deletes a role-permission: the role no longer grants
// the permission. Overrides of the pair stay (they switch nothing while the
// grant is absent).
func (c *Client) DeleteRolePermission(ctx context.Context, id string) error {
	return c.deleteOne(ctx, rolePermKind, id)
}
