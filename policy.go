package authz

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/scopegate/authz/internal/match"
)

// Index and unique names of the role and policy model.
const (
	ixRoleScope          = "role.scope"           // [scopeId]
	ixPermScope          = "permission.scope"     // [scopeId]
	ixRolePermRole       = "role_perm.role"       // [roleId]
	ixRolePermPerm       = "role_perm.permission" // [permissionId]
	ixOverrideChild      = "override.child"       // [childScopeId]
	ixOverrideRole       = "override.role"        // [roleId]
	ixOverridePerm       = "override.permission"  // [permissionId]
	ixCollScope          = "collection.scope"     // [scopeId]
	ixCollType           = "collection.type"      // [resourceTypeId]
	ixPolicyScope        = "policy.scope"         // [scopeId]
	ixPolicyResource     = "policy.resource"      // [resourceId]
	ixPolicyCollection   = "policy.collection"    // [collectionId]
	uniquePermKey        = "permission.key"       // [scopeId, key]
	uniqueRolePermission = "role_perm"            // [roleId, permissionId]
	uniqueOverride       = "override"             // [kind, childScopeId, roleId, permissionId]
)

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
	// grant (SPEC §4.3).
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
	// grant to apply (SPEC §4.2).
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

// Collection is a named, rule-defined set of resources of one type, the
// target of resource policies. MatchDefinition is described in SPEC §4.4.
type Collection struct {
	ID              string          `json:"id"`
	ScopeID         string          `json:"scopeId"`
	ResourceTypeID  string          `json:"resourceTypeId"`
	Name            string          `json:"name"`
	Description     string          `json:"description,omitempty"`
	MatchDefinition json.RawMessage `json:"matchDefinition"`
	CreatedAt       Time            `json:"createdAt"`
	CreatedBy       string          `json:"createdBy,omitempty"`
}

// CollectionInput creates a Collection. ScopeID, ResourceTypeID, Name and
// MatchDefinition (a JSON object; {} matches every resource of the type) are
// required; the definition is validated when written.
type CollectionInput struct {
	ID              string          `json:"id,omitempty"`
	ScopeID         string          `json:"scopeId"`
	ResourceTypeID  string          `json:"resourceTypeId"`
	Name            string          `json:"name"`
	Description     string          `json:"description,omitempty"`
	MatchDefinition json.RawMessage `json:"matchDefinition"`
}

// CollectionPatch changes a Collection; nil fields are left unchanged.
// MatchDefinition replaces the whole definition.
type CollectionPatch struct {
	Name            *string          `json:"name,omitempty"`
	Description     *string          `json:"description,omitempty"`
	MatchDefinition *json.RawMessage `json:"matchDefinition,omitempty"`
}

// CollectionFilter selects the collections defined at a scope (required),
// narrowed by resource type.
type CollectionFilter struct {
	ScopeID        string `json:"scopeId,omitempty"`
	ResourceTypeID string `json:"resourceTypeId,omitempty"`
	Page
}

func (c *Collection) kind() *kindSpec        { return collKind }
func (c *Collection) recordID() string       { return c.ID }
func (c *Collection) uniques() []uniqueEntry { return nil }
func (c *Collection) indexes() []indexEntry {
	return []indexEntry{idx(ixCollScope, c.ScopeID), idx(ixCollType, c.ResourceTypeID)}
}

// Effect is the effect of a resource policy.
type Effect string

// Policy effects.
const (
	EffectAllow Effect = "allow"
	EffectDeny  Effect = "deny"
)

// TargetKind says what a resource policy targets.
type TargetKind string

// Policy target kinds.
const (
	TargetResource   TargetKind = "resource"
	TargetCollection TargetKind = "collection"
)

// PolicyTarget is the target of a resource policy: one resource or one
// collection.
type PolicyTarget struct {
	Kind         TargetKind `json:"kind"`
	ResourceID   string     `json:"resourceId,omitempty"`
	CollectionID string     `json:"collectionId,omitempty"`
}

// ResourcePolicy allows or denies actions on a resource or a collection,
// before roles are considered (SPEC §4.2 step 1).
type ResourcePolicy struct {
	ID          string       `json:"id"`
	ScopeID     string       `json:"scopeId"`
	Name        string       `json:"name"`
	Description string       `json:"description,omitempty"`
	Target      PolicyTarget `json:"target"`
	// Actions lists the actions the policy applies to; "*" means all.
	Actions []string `json:"actions"`
	Effect  Effect   `json:"effect"`
	// Priority orders policies: higher first; at equal priority deny comes
	// before allow.
	Priority         int             `json:"priority,omitempty"`
	SubjectCondition json.RawMessage `json:"subjectCondition,omitempty"`
	ContextCondition json.RawMessage `json:"contextCondition,omitempty"`
	CreatedAt        Time            `json:"createdAt"`
	CreatedBy        string          `json:"createdBy,omitempty"`
}

// ResourcePolicyInput creates a ResourcePolicy. ScopeID, Name, Target,
// Actions (non-empty) and Effect are required. The target must be visible at
// the policy's scope.
type ResourcePolicyInput struct {
	ID               string          `json:"id,omitempty"`
	ScopeID          string          `json:"scopeId"`
	Name             string          `json:"name"`
	Description      string          `json:"description,omitempty"`
	Target           PolicyTarget    `json:"target"`
	Actions          []string        `json:"actions"`
	Effect           Effect          `json:"effect"`
	Priority         int             `json:"priority,omitempty"`
	SubjectCondition json.RawMessage `json:"subjectCondition,omitempty"`
	ContextCondition json.RawMessage `json:"contextCondition,omitempty"`
}

// ResourcePolicyPatch changes a ResourcePolicy; nil fields are left
// unchanged. The target never changes. An empty condition removes it.
type ResourcePolicyPatch struct {
	Name             *string          `json:"name,omitempty"`
	Description      *string          `json:"description,omitempty"`
	Actions          *[]string        `json:"actions,omitempty"`
	Effect           *Effect          `json:"effect,omitempty"`
	Priority         *int             `json:"priority,omitempty"`
	SubjectCondition *json.RawMessage `json:"subjectCondition,omitempty"`
	ContextCondition *json.RawMessage `json:"contextCondition,omitempty"`
}

// ResourcePolicyFilter selects the policies defined at a scope (required),
// narrowed by target resource, target collection and effect.
type ResourcePolicyFilter struct {
	ScopeID      string `json:"scopeId,omitempty"`
	ResourceID   string `json:"resourceId,omitempty"`
	CollectionID string `json:"collectionId,omitempty"`
	Effect       Effect `json:"effect,omitempty"`
	Page
}

func (p *ResourcePolicy) kind() *kindSpec        { return policyKind }
func (p *ResourcePolicy) recordID() string       { return p.ID }
func (p *ResourcePolicy) uniques() []uniqueEntry { return nil }
func (p *ResourcePolicy) indexes() []indexEntry {
	ix := []indexEntry{idx(ixPolicyScope, p.ScopeID)}
	switch {
	case p.Target.ResourceID != "":
		ix = append(ix, idx(ixPolicyResource, p.Target.ResourceID))
	case p.Target.CollectionID != "":
		ix = append(ix, idx(ixPolicyCollection, p.Target.CollectionID))
	}
	return ix
}

// buildCondition validates the JSON Logic condition raw of field (SPEC §4.3)
// and returns what to store: nil when raw is empty or JSON null.
func buildCondition(b *builder, it *item, field string, raw json.RawMessage) json.RawMessage {
	c, err := parseCondition(raw)
	if err != nil {
		b.fail(it, field, err)
		return raw
	}
	if c == nil {
		return nil
	}
	return bytes.Clone(raw)
}

// patchCondition validates a condition given to an Update method and
// returns what to store: nil (no condition) when raw is empty or JSON null.
func patchCondition(field string, raw json.RawMessage) (json.RawMessage, error) {
	c, err := parseCondition(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", field, err)
	}
	if c == nil {
		return nil, nil
	}
	return bytes.Clone(raw), nil
}

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
// at its scope (defined in the chain of the scope, SPEC §4.1), otherwise
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

func buildCollection(b *builder, it *item, in *CollectionInput) {
	c := &Collection{ScopeID: in.ScopeID, ResourceTypeID: in.ResourceTypeID, Name: in.Name, Description: in.Description,
		MatchDefinition: bytes.Clone(in.MatchDefinition), CreatedAt: Time{b.now}, CreatedBy: b.actor}
	c.ID = b.newID(it, collKind, in.ID)
	it.rec = c
	b.requiredRef(it, "scopeId", in.ScopeID, scopeKind)
	b.requiredRef(it, "resourceTypeId", in.ResourceTypeID, resourceTypeKind)
	b.required(it, "name", in.Name)
	if err := checkMatchDefinition(in.MatchDefinition); err != nil {
		b.fail(it, "matchDefinition", err)
	}
}

// checkMatchDefinition validates a collection's matchDefinition (SPEC §4.4).
func checkMatchDefinition(raw json.RawMessage) error {
	if t := bytes.TrimSpace(raw); len(t) == 0 || string(t) == "null" {
		return invalidf("is required: use {} to match every resource of the collection's type")
	}
	if _, err := match.Parse(raw); err != nil {
		return invalidf("%s", err)
	}
	return nil
}

// CreateCollections creates collections in one atomic batch. Each
// matchDefinition is validated (SPEC §4.4; ErrInvalid naming the rule at
// fault). The resource type may be defined at any scope: a collection
// matches resources of its type wherever they live, including resources of
// another scope linked into the subtree where its policies apply.
func (c *Client) CreateCollections(ctx context.Context, in []CollectionInput) ([]Collection, error) {
	return createMany(ctx, c, "create collections", &Batch{Collections: in}, func(r *BatchResult) []Collection { return r.Collections })
}

// CreateCollection creates one collection.
func (c *Client) CreateCollection(ctx context.Context, in CollectionInput) (Collection, error) {
	return createOne(ctx, "create collection", in, c.CreateCollections)
}

// GetCollection returns the collection id, or an error wrapping ErrNotFound.
func (c *Client) GetCollection(ctx context.Context, id string) (Collection, error) {
	return getOne[Collection](ctx, c, collKind, id)
}

// ListCollections lists the collections defined at a scope, in id order,
// narrowed by resource type. ScopeID is required (ErrInvalid).
func (c *Client) ListCollections(ctx context.Context, f CollectionFilter) ([]Collection, error) {
	if f.ScopeID == "" {
		return nil, invalidf("list collections: scopeId is required")
	}
	keep := func(col *Collection) bool {
		return col.ScopeID == f.ScopeID && (f.ResourceTypeID == "" || col.ResourceTypeID == f.ResourceTypeID)
	}
	return list(ctx, c, collKind, byIndex(ixCollScope, f.ScopeID), keep, f.Page)
}

// UpdateCollection changes the name, description or matchDefinition of a
// collection. MatchDefinition replaces the whole definition and is
// validated (ErrInvalid); the name must not be empty.
func (c *Client) UpdateCollection(ctx context.Context, id string, p CollectionPatch) (Collection, error) {
	return update(ctx, c, collKind, id, func(_ *view, col *Collection) error {
		if p.Name != nil {
			if *p.Name == "" {
				return invalidf("name: must not be empty")
			}
			col.Name = *p.Name
		}
		if p.Description != nil {
			col.Description = *p.Description
		}
		if p.MatchDefinition != nil {
			if err := checkMatchDefinition(*p.MatchDefinition); err != nil {
				return fmt.Errorf("matchDefinition: %w", err)
			}
			col.MatchDefinition = bytes.Clone(*p.MatchDefinition)
		}
		return nil
	})
}

// DeleteCollection deletes a collection and, in the same transaction, the
// resource policies that target it.
func (c *Client) DeleteCollection(ctx context.Context, id string) error {
	return c.deleteOne(ctx, collKind, id)
}

var (
	effects     = []Effect{EffectAllow, EffectDeny}
	targetKinds = []TargetKind{TargetResource, TargetCollection}
)

// checkActions validates the actions of a policy; field is the offending
// element ("actions[1]") or "actions".
func checkActions(actions []string) (field string, err error) {
	if len(actions) == 0 {
		return "actions", invalidf(`must list at least one action ("*" means all)`)
	}
	for i, a := range actions {
		if a == "" {
			return "actions[" + strconv.Itoa(i) + "]", invalidf(`must not be empty (use "*" for all actions)`)
		}
	}
	return "", nil
}

func buildResourcePolicy(b *builder, it *item, in *ResourcePolicyInput) {
	p := &ResourcePolicy{ScopeID: in.ScopeID, Name: in.Name, Description: in.Description, Target: PolicyTarget{Kind: in.Target.Kind},
		Actions: slices.Clone(in.Actions), Effect: in.Effect, Priority: in.Priority, CreatedAt: Time{b.now}, CreatedBy: b.actor}
	p.ID = b.newID(it, policyKind, in.ID)
	it.rec = p
	b.requiredRef(it, "scopeId", in.ScopeID, scopeKind)
	b.required(it, "name", in.Name)
	switch in.Target.Kind {
	case TargetResource:
		p.Target.ResourceID = in.Target.ResourceID
		b.requiredRef(it, "target.resourceId", in.Target.ResourceID, resourceKind)
		if in.Target.CollectionID != "" {
			b.fail(it, "target.collectionId", invalidf("must be empty for a resource target; a policy targets one resource or one collection"))
		}
	case TargetCollection:
		p.Target.CollectionID = in.Target.CollectionID
		b.requiredRef(it, "target.collectionId", in.Target.CollectionID, collKind)
		if in.Target.ResourceID != "" {
			b.fail(it, "target.resourceId", invalidf("must be empty for a collection target; a policy targets one resource or one collection"))
		}
	default:
		enum(b, it, "target.kind", in.Target.Kind, false, targetKinds...)
	}
	if field, err := checkActions(in.Actions); err != nil {
		b.fail(it, field, err)
	}
	enum(b, it, "effect", in.Effect, false, effects...)
	p.SubjectCondition = buildCondition(b, it, "subjectCondition", in.SubjectCondition)
	p.ContextCondition = buildCondition(b, it, "contextCondition", in.ContextCondition)
	it.check = func(v *view) {
		switch p.Target.Kind {
		case TargetResource:
			checkPolicyResource(v, it, p)
		case TargetCollection:
			col := get[Collection](v, collKind, p.Target.CollectionID)
			if col != nil && !v.inChain(p.ScopeID, col.ScopeID) {
				v.fail(it, "target.collectionId", notAllowedf("collection %q is defined at scope %q, which is not in the chain of the policy's scope %q: define the policy at scope %q or below it (down to the next define scope), or use a collection defined in the chain of %q",
					col.ID, col.ScopeID, p.ScopeID, col.ScopeID, p.ScopeID))
			}
		}
	}
}

// checkPolicyResource enforces that a policy's target resource has a home
// (its owning scope or a scope it is linked to) in the subtree of the
// policy's scope.
func checkPolicyResource(v *view, it *item, p *ResourcePolicy) {
	r := get[Resource](v, resourceKind, p.Target.ResourceID)
	if r == nil {
		return
	}
	homes := []string{r.ScopeID}
	for _, lid := range v.indexed(ixLinkResource, r.ID) {
		if l := get[ResourceScopeLink](v, linkKind, lid); l != nil {
			homes = append(homes, l.ScopeID)
		}
	}
	for _, h := range homes {
		if v.isAncestor(p.ScopeID, h) {
			if err := policyTenancy(v, p, r); err != nil {
				v.fail(it, "target.resourceId", err)
			}
			return
		}
	}
	where := fmt.Sprintf("lives in scope %q, which is not", r.ScopeID)
	if len(homes) > 1 {
		where = fmt.Sprintf("lives in scopes %s (its owner and its links), none of which is", strings.Join(quoteAll(homes), ", "))
	}
	v.fail(it, "target.resourceId", notAllowedf("resource %q %s scope %q or below it, so the policy's scope cannot see it: define the policy where the resource lives or above it, or link the resource into scope %q or below it first",
		r.ID, where, p.ScopeID, p.ScopeID))
}

// policyTenancy enforces who may attach a direct policy to resource r: the
// owner's side, that is a scope in ancestors(O) (O being r's owning scope,
// platform scopes above the owner's tenant included), or a scope inside the
// owner's tenant (at or below the nearest define scope at or above O). A
// tenant a resource is shared with cannot attach a policy to it: its
// policies would otherwise decide for the owner's resource. (Policies of
// the borrower's collections may still match a shared resource; they are
// considered only when no policy of the owner applies.)
func policyTenancy(v *view, p *ResourcePolicy, r *Resource) error {
	if v.isAncestor(p.ScopeID, r.ScopeID) {
		return nil
	}
	lo := v.level(r.ScopeID)
	if lo == nil {
		return nil // the owner is gone: the resource is checked elsewhere
	}
	tenant := lo.Define
	if tenant == "" {
		tenant = lo.Root
	}
	if v.isAncestor(tenant, p.ScopeID) {
		return nil
	}
	return notAllowedf("resource %q belongs to scope %q (tenant scope %q); a policy defined at scope %q, outside that tenant and not above it, cannot target it: only the owner's side decides its policies (use a collection of your own, or ask the owner)",
		r.ID, r.ScopeID, tenant, p.ScopeID)
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = strconv.Quote(s)
	}
	return out
}

// CreateResourcePolicies creates resource policies in one atomic batch.
// Target.Kind decides which of ResourceID and CollectionID is required; the
// other must be empty (ErrInvalid). Actions must be non-empty, with no empty
// action. The target must be visible at the policy's scope (ErrNotAllowed):
// a resource needs a home — its owning scope or a scope it is linked to —
// at the policy's scope or below it, and the policy's scope must be on the
// owner's side: above the resource's owning scope, or inside its tenant
// (at or below the nearest define scope above the owner), so that a tenant
// a resource is shared with cannot attach policies to it. A collection must
// be defined in the chain of the policy's scope. Conditions are validated
// as described in the package documentation.
func (c *Client) CreateResourcePolicies(ctx context.Context, in []ResourcePolicyInput) ([]ResourcePolicy, error) {
	return createMany(ctx, c, "create resource policies", &Batch{ResourcePolicies: in}, func(r *BatchResult) []ResourcePolicy { return r.ResourcePolicies })
}

// CreateResourcePolicy creates one resource policy.
func (c *Client) CreateResourcePolicy(ctx context.Context, in ResourcePolicyInput) (ResourcePolicy, error) {
	return createOne(ctx, "create resource policy", in, c.CreateResourcePolicies)
}

// GetResourcePolicy returns the resource policy id, or an error wrapping
// ErrNotFound.
func (c *Client) GetResourcePolicy(ctx context.Context, id string) (ResourcePolicy, error) {
	return getOne[ResourcePolicy](ctx, c, policyKind, id)
}

// ListResourcePolicies lists the resource policies defined at a scope, in
// id order, narrowed by target resource, target collection and effect.
// ScopeID is required, and an unknown Effect is ErrInvalid.
func (c *Client) ListResourcePolicies(ctx context.Context, f ResourcePolicyFilter) ([]ResourcePolicy, error) {
	if f.ScopeID == "" {
		return nil, invalidf("list resource policies: scopeId is required")
	}
	if f.Effect != "" {
		if err := checkEnum("list resource policies: effect", f.Effect, effects...); err != nil {
			return nil, err
		}
	}
	keep := func(p *ResourcePolicy) bool {
		return p.ScopeID == f.ScopeID && (f.ResourceID == "" || p.Target.ResourceID == f.ResourceID) &&
			(f.CollectionID == "" || p.Target.CollectionID == f.CollectionID) && (f.Effect == "" || p.Effect == f.Effect)
	}
	plan := byIndex(ixPolicyScope, f.ScopeID)
	switch {
	case f.ResourceID != "":
		plan = byIndex(ixPolicyResource, f.ResourceID)
	case f.CollectionID != "":
		plan = byIndex(ixPolicyCollection, f.CollectionID)
	}
	return list(ctx, c, policyKind, plan, keep, f.Page)
}

// UpdateResourcePolicy changes the name, description, actions, effect,
// priority or conditions of a resource policy; its target never changes. A
// direct policy whose scope is not on its resource's owner's side (see
// CreateResourcePolicies; such a policy can only have been stored by an
// earlier version) cannot be updated: ErrNotAllowed; delete it instead.
// The name must not be empty, actions follow the rules of
// CreateResourcePolicies, and a condition pointing to an empty or null
// value removes that condition.
func (c *Client) UpdateResourcePolicy(ctx context.Context, id string, p ResourcePolicyPatch) (ResourcePolicy, error) {
	return update(ctx, c, policyKind, id, func(v *view, rp *ResourcePolicy) error {
		if rp.Target.Kind == TargetResource {
			// A policy stored before the tenancy rule existed is not
			// changed until it follows it.
			if r := get[Resource](v, resourceKind, rp.Target.ResourceID); r != nil {
				if err := policyTenancy(v, rp, r); err != nil {
					return fmt.Errorf("target.resourceId: %w", err)
				}
			}
		}
		if p.Name != nil {
			if *p.Name == "" {
				return invalidf("name: must not be empty")
			}
			rp.Name = *p.Name
		}
		if p.Description != nil {
			rp.Description = *p.Description
		}
		if p.Actions != nil {
			if field, err := checkActions(*p.Actions); err != nil {
				return fmt.Errorf("%s: %w", field, err)
			}
			rp.Actions = slices.Clone(*p.Actions)
		}
		if p.Effect != nil {
			if err := checkEnum("effect", *p.Effect, effects...); err != nil {
				return err
			}
			rp.Effect = *p.Effect
		}
		if p.Priority != nil {
			rp.Priority = *p.Priority
		}
		if p.SubjectCondition != nil {
			cond, err := patchCondition("subjectCondition", *p.SubjectCondition)
			if err != nil {
				return err
			}
			rp.SubjectCondition = cond
		}
		if p.ContextCondition != nil {
			cond, err := patchCondition("contextCondition", *p.ContextCondition)
			if err != nil {
				return err
			}
			rp.ContextCondition = cond
		}
		return nil
	})
}

// DeleteResourcePolicy deletes a resource policy.
func (c *Client) DeleteResourcePolicy(ctx context.Context, id string) error {
	return c.deleteOne(ctx, policyKind, id)
}
