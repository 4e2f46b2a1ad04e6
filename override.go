package authz

import (
	"context"
	"encoding/json"
	"fmt"
)

// OverrideKind says what a scope override switches.
type OverrideKind string

// Override kinds.
const (
	OverrideRole           OverrideKind = "role"
	OverridePermission     OverrideKind = "permission"
	OverrideRolePermission OverrideKind = "role_permission"
)

// OverrideState is the state an override sets.
type OverrideState string

// Override states.
const (
	OverrideEnabled  OverrideState = "enabled"
	OverrideDisabled OverrideState = "disabled"
)

// ScopeOverride switches a role, a permission, or one grant of a permission
// to a role off (or back on) at a scope and below it. An override never
// creates a grant.
type ScopeOverride struct {
	ID           string        `json:"id"`
	Kind         OverrideKind  `json:"kind"`
	ChildScopeID string        `json:"childScopeId"`
	RoleID       string        `json:"roleId,omitempty"`
	PermissionID string        `json:"permissionId,omitempty"`
	State        OverrideState `json:"state"`
	// Condition, for role_permission overrides only, must also hold for the
	// grant to apply (docs/model.md#overrides).
	Condition json.RawMessage `json:"condition,omitempty"`
}

// ScopeOverrideInput creates a ScopeOverride. Kind says which of RoleID and
// PermissionID are required (role: RoleID; permission: PermissionID;
// role_permission: both); the other must be empty. The role and permission
// must be visible at ChildScopeID.
type ScopeOverrideInput struct {
	ID           string          `json:"id,omitempty"`
	Kind         OverrideKind    `json:"kind"`
	ChildScopeID string          `json:"childScopeId"`
	RoleID       string          `json:"roleId,omitempty"`
	PermissionID string          `json:"permissionId,omitempty"`
	State        OverrideState   `json:"state"`
	Condition    json.RawMessage `json:"condition,omitempty"`
}

// ScopeOverridePatch changes a ScopeOverride; nil fields are left unchanged.
// Condition applies to role_permission overrides only; an empty condition
// removes it.
type ScopeOverridePatch struct {
	State     *OverrideState   `json:"state,omitempty"`
	Condition *json.RawMessage `json:"condition,omitempty"`
}

// ScopeOverrideFilter selects overrides by scope, role or permission (one is
// required), narrowed by Kind.
type ScopeOverrideFilter struct {
	ChildScopeID string       `json:"childScopeId,omitempty"`
	RoleID       string       `json:"roleId,omitempty"`
	PermissionID string       `json:"permissionId,omitempty"`
	Kind         OverrideKind `json:"kind,omitempty"`
	Page
}

func (o *ScopeOverride) kind() *kindSpec  { return overrideKind }
func (o *ScopeOverride) recordID() string { return o.ID }
func (o *ScopeOverride) uniques() []uniqueEntry {
	var of string
	switch {
	case o.RoleID != "" && o.PermissionID != "":
		of = fmt.Sprintf("role %q and permission %q", o.RoleID, o.PermissionID)
	case o.PermissionID != "":
		of = fmt.Sprintf("permission %q", o.PermissionID)
	default:
		of = fmt.Sprintf("role %q", o.RoleID)
	}
	return []uniqueEntry{{name: uniqueOverride, values: []string{string(o.Kind), o.ChildScopeID, o.RoleID, o.PermissionID}, field: "childScopeId",
		what: func() string { return fmt.Sprintf("%s override of %s at scope %q", o.Kind, of, o.ChildScopeID) }}}
}
func (o *ScopeOverride) indexes() []indexEntry {
	ix := []indexEntry{idx(ixOverrideChild, o.ChildScopeID)}
	if o.RoleID != "" {
		ix = append(ix, idx(ixOverrideRole, o.RoleID))
	}
	if o.PermissionID != "" {
		ix = append(ix, idx(ixOverridePerm, o.PermissionID))
	}
	return ix
}

var (
	overrideKinds  = []OverrideKind{OverrideRole, OverridePermission, OverrideRolePermission}
	overrideStates = []OverrideState{OverrideEnabled, OverrideDisabled}
)

func buildScopeOverride(b *builder, it *item, in *ScopeOverrideInput) {
	o := &ScopeOverride{Kind: in.Kind, ChildScopeID: in.ChildScopeID, RoleID: in.RoleID, PermissionID: in.PermissionID, State: in.State}
	o.ID = b.newID(it, overrideKind, in.ID)
	it.rec = o
	kindOK := enum(b, it, "kind", in.Kind, false, overrideKinds...)
	b.requiredRef(it, "childScopeId", in.ChildScopeID, scopeKind)
	wantRole := in.Kind == OverrideRole || in.Kind == OverrideRolePermission
	wantPerm := in.Kind == OverridePermission || in.Kind == OverrideRolePermission
	switch {
	case !kindOK:
		// Which ids are required is unknown; check the given ones exist.
		b.ref(it, "roleId", in.RoleID, roleKind)
		b.ref(it, "permissionId", in.PermissionID, permKind)
	default:
		if wantRole {
			b.requiredRef(it, "roleId", in.RoleID, roleKind)
		} else if in.RoleID != "" {
			b.fail(it, "roleId", invalidf("must be empty for a %s override; use kind role_permission to switch one permission of one role", in.Kind))
		}
		if wantPerm {
			b.requiredRef(it, "permissionId", in.PermissionID, permKind)
		} else if in.PermissionID != "" {
			b.fail(it, "permissionId", invalidf("must be empty for a %s override; use kind role_permission to switch one permission of one role", in.Kind))
		}
	}
	enum(b, it, "state", in.State, false, overrideStates...)
	if in.Kind == OverrideRolePermission || !kindOK {
		o.Condition = buildCondition(b, it, "condition", in.Condition)
	} else if c, err := parseCondition(in.Condition); err != nil || c != nil {
		b.fail(it, "condition", invalidf("is only allowed on role_permission overrides, not on a %s override", in.Kind))
	}
	it.check = func(v *view) {
		if o.RoleID != "" {
			if r := get[Role](v, roleKind, o.RoleID); r != nil && !v.inChain(o.ChildScopeID, r.ScopeID) {
				v.fail(it, "roleId", notAllowedf("role %q is defined at scope %q, which is not in the chain of scope %q, so it is not visible there: place the override at scope %q or below it (down to the next define scope)",
					r.ID, r.ScopeID, o.ChildScopeID, r.ScopeID))
			}
		}
		if o.PermissionID != "" {
			if p := get[Permission](v, permKind, o.PermissionID); p != nil && !v.inChain(o.ChildScopeID, p.ScopeID) {
				v.fail(it, "permissionId", notAllowedf("permission %q is defined at scope %q, which is not in the chain of scope %q, so it is not visible there: place the override at scope %q or below it (down to the next define scope)",
					p.ID, p.ScopeID, o.ChildScopeID, p.ScopeID))
			}
		}
	}
}

// CreateScopeOverrides creates scope overrides in one atomic batch. Kind
// decides which ids are required: role needs RoleID, permission needs
// PermissionID, role_permission needs both; the other must be empty
// (ErrInvalid). Condition is allowed on role_permission overrides only. The
// role and permission must be visible at ChildScopeID: defined in its chain
// (ErrNotAllowed). There is at most one override per (kind, childScopeId,
// roleId, permissionId) (ErrAlreadyExists).
//
// A role_permission override may be created before the role grants the
// permission (or after the grant is deleted): it switches nothing while the
// grant is absent.
func (c *Client) CreateScopeOverrides(ctx context.Context, in []ScopeOverrideInput) ([]ScopeOverride, error) {
	return createMany(ctx, c, "create scope overrides", &Batch{ScopeOverrides: in}, func(r *BatchResult) []ScopeOverride { return r.ScopeOverrides })
}

// CreateScopeOverride creates one scope override.
func (c *Client) CreateScopeOverride(ctx context.Context, in ScopeOverrideInput) (ScopeOverride, error) {
	return createOne(ctx, "create scope override", in, c.CreateScopeOverrides)
}

// GetScopeOverride returns the scope override id, or an error wrapping
// ErrNotFound.
func (c *Client) GetScopeOverride(ctx context.Context, id string) (ScopeOverride, error) {
	return getOne[ScopeOverride](ctx, c, overrideKind, id)
}

// ListScopeOverrides lists scope overrides in id order. One of
// ChildScopeID, RoleID and PermissionID is required (ErrInvalid); every set
// field narrows the list, Kind too (an unknown Kind is ErrInvalid).
func (c *Client) ListScopeOverrides(ctx context.Context, f ScopeOverrideFilter) ([]ScopeOverride, error) {
	if f.Kind != "" {
		if err := checkEnum("list scope overrides: kind", f.Kind, overrideKinds...); err != nil {
			return nil, err
		}
	}
	keep := func(o *ScopeOverride) bool {
		return (f.ChildScopeID == "" || o.ChildScopeID == f.ChildScopeID) && (f.RoleID == "" || o.RoleID == f.RoleID) &&
			(f.PermissionID == "" || o.PermissionID == f.PermissionID) && (f.Kind == "" || o.Kind == f.Kind)
	}
	switch {
	case f.RoleID != "":
		return list(ctx, c, overrideKind, byIndex(ixOverrideRole, f.RoleID), keep, f.Page)
	case f.PermissionID != "":
		return list(ctx, c, overrideKind, byIndex(ixOverridePerm, f.PermissionID), keep, f.Page)
	case f.ChildScopeID != "":
		return list(ctx, c, overrideKind, byIndex(ixOverrideChild, f.ChildScopeID), keep, f.Page)
	}
	return nil, invalidf("list scope overrides: childScopeId, roleId or permissionId is required")
}

// UpdateScopeOverride changes the state of an override, or the condition of
// a role_permission override. A Condition pointing to an empty or null
// value removes the condition; a non-empty condition on another kind of
// override is ErrInvalid.
func (c *Client) UpdateScopeOverride(ctx context.Context, id string, p ScopeOverridePatch) (ScopeOverride, error) {
	return update(ctx, c, overrideKind, id, func(_ *view, o *ScopeOverride) error {
		if p.State != nil {
			if err := checkEnum("state", *p.State, overrideStates...); err != nil {
				return err
			}
			o.State = *p.State
		}
		if p.Condition != nil {
			cond, err := patchCondition("condition", *p.Condition)
			if err != nil {
				return err
			}
			if cond != nil && o.Kind != OverrideRolePermission {
				return invalidf("condition: is only allowed on role_permission overrides, not on a %s override", o.Kind)
			}
			o.Condition = cond
		}
		return nil
	})
}

// DeleteScopeOverride deletes a scope override: what it switched is back to
// the state the overrides above it (or none) give.
func (c *Client) DeleteScopeOverride(ctx context.Context, id string) error {
	return c.deleteOne(ctx, overrideKind, id)
}
