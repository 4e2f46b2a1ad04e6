package authz

import (
	"encoding/json"
	"fmt"
)

// Kinds of the role and policy model.
var (
	roleKind     = newKind[Role]("role", "roles", "role")
	permKind     = newKind[Permission]("permission", "permissions", "permission")
	rolePermKind = newKind[RolePermission]("role permission", "role_permissions", "role_perm")
	overrideKind = newKind[ScopeOverride]("scope override", "scope_overrides", "override")
	collKind     = newKind[Collection]("collection", "collections", "collection")
	policyKind   = newKind[ResourcePolicy]("policy", "resource_policies", "policy")
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
		what: fmt.Sprintf("permission with key %q in scope %q", p.Key, p.ScopeID)}}
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
		what: fmt.Sprintf("grant of permission %q to role %q", r.PermissionID, r.RoleID)}}
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
	return []uniqueEntry{{name: uniqueOverride, values: []string{string(o.Kind), o.ChildScopeID, o.RoleID, o.PermissionID}, field: "childScopeId",
		what: fmt.Sprintf("%s override at scope %q (role %q, permission %q)", o.Kind, o.ChildScopeID, o.RoleID, o.PermissionID)}}
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

func buildRole(b *builder, it *item, in *RoleInput) {
	r := &Role{ScopeID: in.ScopeID, Name: in.Name, Description: in.Description}
	r.ID = b.newID(it, roleKind, in.ID)
	it.rec = r
	b.requiredRef(it, "scopeId", in.ScopeID, scopeKind)
	b.required(it, "name", in.Name)
}

func buildPermission(b *builder, it *item, in *PermissionInput) {
	p := &Permission{ScopeID: in.ScopeID, Action: in.Action, ResourceType: in.ResourceType, ResourcePattern: in.ResourcePattern,
		Key: in.Key, Label: in.Label, Description: in.Description, Logic: in.Logic}
	p.ID = b.newID(it, permKind, in.ID)
	it.rec = p
	// TODO(issue 4): complete.
}

func buildRolePermission(b *builder, it *item, in *RolePermissionInput) {
	rp := &RolePermission{RoleID: in.RoleID, PermissionID: in.PermissionID, Condition: in.Condition}
	rp.ID = b.newID(it, rolePermKind, in.ID)
	it.rec = rp
}

func buildScopeOverride(b *builder, it *item, in *ScopeOverrideInput) {
	o := &ScopeOverride{Kind: in.Kind, ChildScopeID: in.ChildScopeID, RoleID: in.RoleID, PermissionID: in.PermissionID, State: in.State, Condition: in.Condition}
	o.ID = b.newID(it, overrideKind, in.ID)
	it.rec = o
}

func buildCollection(b *builder, it *item, in *CollectionInput) {
	c := &Collection{ScopeID: in.ScopeID, ResourceTypeID: in.ResourceTypeID, Name: in.Name, Description: in.Description,
		MatchDefinition: in.MatchDefinition, CreatedAt: Time{b.now}, CreatedBy: b.actor}
	c.ID = b.newID(it, collKind, in.ID)
	it.rec = c
}

func buildResourcePolicy(b *builder, it *item, in *ResourcePolicyInput) {
	p := &ResourcePolicy{ScopeID: in.ScopeID, Name: in.Name, Description: in.Description, Target: in.Target, Actions: in.Actions,
		Effect: in.Effect, Priority: in.Priority, SubjectCondition: in.SubjectCondition, ContextCondition: in.ContextCondition,
		CreatedAt: Time{b.now}, CreatedBy: b.actor}
	p.ID = b.newID(it, policyKind, in.ID)
	it.rec = p
}
