package authz

import (
	"context"
	"fmt"
	"strconv"

	"github.com/scopegate/authz/storage"
)

// Index and unique names of the scope model.
const (
	ixScopeType          = "scope.type"             // [typeId]
	ixScopeExternal      = "scope.external"         // [externalId]
	ixScopeTypeEdgeChild = "scope_type_edge.child"  // [childTypeId]
	ixScopeTypeEdgePar   = "scope_type_edge.parent" // [parentTypeId]
	ixScopeEdgeParent    = "scope_edge.parent"      // [parentScopeId]
	ixScopeEdgeChild     = "scope_edge.child"       // [childScopeId]
	ixMembershipSubject  = "membership.subject"     // [subjectId]
	ixMembershipScope    = "membership.scope"       // [scopeId]
	ixRoleAssignMember   = "role_assign.membership" // [membershipId]
	ixRoleAssignRole     = "role_assign.role"       // [roleId]

	uniqueScopeTypeEdge  = "scope_type_edge" // [parentTypeId, childTypeId]
	uniqueScopeParent    = "scope.parent"    // [childScopeId] → scope edge id
	uniqueMembership     = "membership"      // [subjectId, scopeId]
	uniqueRoleAssignment = "role_assign"     // [membershipId, roleId]
)

// PermissionMode says whether scopes of a type inherit from the scopes above
// them.
type PermissionMode string

// Permission modes. PermissionModeMerge is accepted on input as an alias of
// PermissionModeInherit and stored as inherit.
const (
	PermissionModeInherit PermissionMode = "inherit"
	PermissionModeDefine  PermissionMode = "define"
	PermissionModeMerge   PermissionMode = "merge"
)

// ScopeTypeConfig is the configuration of a scope type.
type ScopeTypeConfig struct {
	// PermissionMode is inherit (the default) or define. A scope whose type
	// is define inherits nothing from above it: it ends every chain
	// (SPEC §4.1), which is what isolates tenants.
	PermissionMode PermissionMode `json:"permissionMode"`
}

// ScopeType is a kind of scope: organization, team, project.
type ScopeType struct {
	ID          string          `json:"id"`
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Config      ScopeTypeConfig `json:"config"`
}

// ScopeTypeInput creates a ScopeType. Name is required; an empty
// Config.PermissionMode means inherit.
type ScopeTypeInput struct {
	ID          string          `json:"id,omitempty"`
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Config      ScopeTypeConfig `json:"config"`
}

// ScopeTypePatch changes a ScopeType; nil fields are left unchanged.
type ScopeTypePatch struct {
	Name        *string `json:"name,omitempty"`
	Description *string `json:"description,omitempty"`
}

// ScopeTypeFilter selects scope types: all of them, paged.
type ScopeTypeFilter struct {
	Page
}

func (s *ScopeType) kind() *kindSpec        { return scopeTypeKind }
func (s *ScopeType) recordID() string       { return s.ID }
func (s *ScopeType) indexes() []indexEntry  { return nil }
func (s *ScopeType) uniques() []uniqueEntry { return nil }
func (s *ScopeTypeEdge) kind() *kindSpec    { return scopeTypeEdgeKind }
func (s *ScopeTypeEdge) recordID() string   { return s.ID }
func (s *Scope) kind() *kindSpec            { return scopeKind }
func (s *Scope) recordID() string           { return s.ID }
func (s *ScopeEdge) kind() *kindSpec        { return scopeEdgeKind }
func (s *ScopeEdge) recordID() string       { return s.ID }
func (m *Membership) kind() *kindSpec       { return membershipKind }
func (m *Membership) recordID() string      { return m.ID }
func (r *RoleAssignment) kind() *kindSpec   { return roleAssignKind }
func (r *RoleAssignment) recordID() string  { return r.ID }
func (r *RoleAssignment) uniques() []uniqueEntry {
	return []uniqueEntry{{name: uniqueRoleAssignment, values: []string{r.MembershipID, r.RoleID}, field: "roleId",
		what: func() string { return fmt.Sprintf("assignment of role %q to membership %q", r.RoleID, r.MembershipID) }}}
}
func (r *RoleAssignment) indexes() []indexEntry {
	return []indexEntry{idx(ixRoleAssignMember, r.MembershipID), idx(ixRoleAssignRole, r.RoleID)}
}

func (m *Membership) uniques() []uniqueEntry {
	return []uniqueEntry{{name: uniqueMembership, values: []string{m.SubjectID, m.ScopeID}, field: "subjectId",
		what: func() string { return fmt.Sprintf("membership of subject %q in scope %q", m.SubjectID, m.ScopeID) }}}
}
func (m *Membership) indexes() []indexEntry {
	return []indexEntry{idx(ixMembershipSubject, m.SubjectID), idx(ixMembershipScope, m.ScopeID)}
}

func (s *ScopeTypeEdge) uniques() []uniqueEntry {
	return []uniqueEntry{{name: uniqueScopeTypeEdge, values: []string{s.ParentTypeID, s.ChildTypeID}, field: "childTypeId",
		what: func() string { return fmt.Sprintf("scope type edge %q → %q", s.ParentTypeID, s.ChildTypeID) }}}
}
func (s *ScopeTypeEdge) indexes() []indexEntry {
	return []indexEntry{idx(ixScopeTypeEdgePar, s.ParentTypeID), idx(ixScopeTypeEdgeChild, s.ChildTypeID)}
}

func (s *Scope) uniques() []uniqueEntry { return nil }
func (s *Scope) indexes() []indexEntry {
	ix := []indexEntry{idx(ixScopeType, s.TypeID)}
	if s.ExternalID != "" {
		ix = append(ix, idx(ixScopeExternal, s.ExternalID))
	}
	return ix
}

func (s *ScopeEdge) uniques() []uniqueEntry {
	return []uniqueEntry{{name: uniqueScopeParent, values: []string{s.ChildScopeID}, field: "childScopeId",
		clash: func(other string) error {
			return notAllowedf("scope %q already has a parent (scope edge %q): a scope has at most one parent", s.ChildScopeID, other)
		}}}
}
func (s *ScopeEdge) indexes() []indexEntry {
	return []indexEntry{idx(ixScopeEdgeParent, s.ParentScopeID), idx(ixScopeEdgeChild, s.ChildScopeID)}
}

func buildScopeType(b *builder, it *item, in *ScopeTypeInput) {
	st := &ScopeType{Name: in.Name, Description: in.Description, Config: in.Config}
	st.ID = b.newID(it, scopeTypeKind, in.ID)
	it.rec = st
	b.required(it, "name", in.Name)
	switch st.Config.PermissionMode {
	case "", PermissionModeMerge:
		st.Config.PermissionMode = PermissionModeInherit
	default:
		enum(b, it, "config.permissionMode", st.Config.PermissionMode, false, PermissionModeInherit, PermissionModeDefine, PermissionModeMerge)
	}
}

// CreateScopeTypes creates scope types in one atomic batch.
func (c *Client) CreateScopeTypes(ctx context.Context, in []ScopeTypeInput) ([]ScopeType, error) {
	return createMany(ctx, c, "create scope types", &Batch{ScopeTypes: in}, func(r *BatchResult) []ScopeType { return r.ScopeTypes })
}

// CreateScopeType creates one scope type.
func (c *Client) CreateScopeType(ctx context.Context, in ScopeTypeInput) (ScopeType, error) {
	return createOne(ctx, "create scope type", in, c.CreateScopeTypes)
}

// GetScopeType returns the scope type id, or an error wrapping ErrNotFound.
func (c *Client) GetScopeType(ctx context.Context, id string) (ScopeType, error) {
	return getOne[ScopeType](ctx, c, scopeTypeKind, id)
}

// ListScopeTypes lists scope types in id order.
func (c *Client) ListScopeTypes(ctx context.Context, f ScopeTypeFilter) ([]ScopeType, error) {
	return list[ScopeType](ctx, c, scopeTypeKind, listPlan{}, nil, f.Page)
}

// UpdateScopeType changes the name or description of a scope type.
func (c *Client) UpdateScopeType(ctx context.Context, id string, p ScopeTypePatch) (ScopeType, error) {
	return update(ctx, c, scopeTypeKind, id, func(_ *view, st *ScopeType) error {
		if p.Name != nil {
			if *p.Name == "" {
				return invalidf("name: must not be empty")
			}
			st.Name = *p.Name
		}
		if p.Description != nil {
			st.Description = *p.Description
		}
		return nil
	})
}

// DeleteScopeType deletes a scope type and its scope type edges. It is
// refused (ErrNotAllowed) while scopes of the type exist.
func (c *Client) DeleteScopeType(ctx context.Context, id string) error {
	return c.deleteOne(ctx, scopeTypeKind, id)
}

// ScopeTypeEdge allows scopes of the child type to be placed under scopes of
// the parent type.
type ScopeTypeEdge struct {
	ID           string `json:"id"`
	ParentTypeID string `json:"parentTypeId"`
	ChildTypeID  string `json:"childTypeId"`
}

// ScopeTypeEdgeInput creates a ScopeTypeEdge. Both types must exist; the
// pair is unique and the type graph stays acyclic.
type ScopeTypeEdgeInput struct {
	ID           string `json:"id,omitempty"`
	ParentTypeID string `json:"parentTypeId"`
	ChildTypeID  string `json:"childTypeId"`
}

// ScopeTypeEdgeFilter selects scope type edges by parent and/or child type;
// both empty lists all.
type ScopeTypeEdgeFilter struct {
	ParentTypeID string `json:"parentTypeId,omitempty"`
	ChildTypeID  string `json:"childTypeId,omitempty"`
	Page
}

func buildScopeTypeEdge(b *builder, it *item, in *ScopeTypeEdgeInput) {
	e := &ScopeTypeEdge{ParentTypeID: in.ParentTypeID, ChildTypeID: in.ChildTypeID}
	e.ID = b.newID(it, scopeTypeEdgeKind, in.ID)
	it.rec = e
	b.requiredRef(it, "parentTypeId", in.ParentTypeID, scopeTypeKind)
	b.requiredRef(it, "childTypeId", in.ChildTypeID, scopeTypeKind)
	b.typeEdges = append(b.typeEdges, dagEdge{it: it, parent: e.ParentTypeID, child: e.ChildTypeID})
}

// CreateScopeTypeEdges creates scope type edges in one atomic batch.
func (c *Client) CreateScopeTypeEdges(ctx context.Context, in []ScopeTypeEdgeInput) ([]ScopeTypeEdge, error) {
	return createMany(ctx, c, "create scope type edges", &Batch{ScopeTypeEdges: in}, func(r *BatchResult) []ScopeTypeEdge { return r.ScopeTypeEdges })
}

// CreateScopeTypeEdge creates one scope type edge.
func (c *Client) CreateScopeTypeEdge(ctx context.Context, in ScopeTypeEdgeInput) (ScopeTypeEdge, error) {
	return createOne(ctx, "create scope type edge", in, c.CreateScopeTypeEdges)
}

// GetScopeTypeEdge returns the scope type edge id.
func (c *Client) GetScopeTypeEdge(ctx context.Context, id string) (ScopeTypeEdge, error) {
	return getOne[ScopeTypeEdge](ctx, c, scopeTypeEdgeKind, id)
}

// ListScopeTypeEdges lists scope type edges in id order.
func (c *Client) ListScopeTypeEdges(ctx context.Context, f ScopeTypeEdgeFilter) ([]ScopeTypeEdge, error) {
	plan := listPlan{}
	switch {
	case f.ParentTypeID != "":
		plan = byIndex(ixScopeTypeEdgePar, f.ParentTypeID)
	case f.ChildTypeID != "":
		plan = byIndex(ixScopeTypeEdgeChild, f.ChildTypeID)
	}
	return list(ctx, c, scopeTypeEdgeKind, plan, func(e *ScopeTypeEdge) bool {
		return (f.ParentTypeID == "" || e.ParentTypeID == f.ParentTypeID) && (f.ChildTypeID == "" || e.ChildTypeID == f.ChildTypeID)
	}, f.Page)
}

// DeleteScopeTypeEdge deletes a scope type edge. Scope edges created under
// it stay: the edge rule is checked when a scope edge is created.
func (c *Client) DeleteScopeTypeEdge(ctx context.Context, id string) error {
	return c.deleteOne(ctx, scopeTypeEdgeKind, id)
}

// Scope is a node of the scope tree: an organization, a team, a project.
// Its parent is recorded by a ScopeEdge (see ListScopeEdges and
// ScopeFilter.ParentScopeID); as in the original API, a scope's JSON does
// not carry it.
type Scope struct {
	ID         string         `json:"id"`
	TypeID     string         `json:"typeId"`
	Name       string         `json:"name,omitempty"`
	ExternalID string         `json:"externalId,omitempty"`
	Meta       map[string]any `json:"meta,omitempty"`
}

// ScopeInput creates a Scope. TypeID is required. ParentScopeID, when set,
// creates the ScopeEdge to the parent, which needs a ScopeTypeEdge from the
// parent's type to TypeID. Memberships creates memberships of subjects in the
// new scope with their role assignments.
type ScopeInput struct {
	ID            string                 `json:"id,omitempty"`
	TypeID        string                 `json:"typeId"`
	Name          string                 `json:"name,omitempty"`
	ExternalID    string                 `json:"externalId,omitempty"`
	Meta          map[string]any         `json:"meta,omitempty"`
	ParentScopeID string                 `json:"parentScopeId,omitempty"`
	Memberships   []ScopeMembershipInput `json:"memberships,omitempty"`
}

// ScopeMembershipInput is a membership created inline with a scope: the
// subject joins the scope with the given roles.
type ScopeMembershipInput struct {
	ID        string   `json:"id,omitempty"`
	SubjectID string   `json:"subjectId"`
	RoleIDs   []string `json:"roleIds,omitempty"`
}

// ScopePatch changes a Scope; nil fields are left unchanged. Meta replaces
// the whole meta object.
type ScopePatch struct {
	Name       *string         `json:"name,omitempty"`
	ExternalID *string         `json:"externalId,omitempty"`
	Meta       *map[string]any `json:"meta,omitempty"`
}

// ScopeFilter selects scopes. ParentScopeID lists the children of a scope;
// TypeID and ExternalID narrow the list; all empty lists every scope.
type ScopeFilter struct {
	TypeID        string `json:"typeId,omitempty"`
	ParentScopeID string `json:"parentScopeId,omitempty"`
	ExternalID    string `json:"externalId,omitempty"`
	Page
}

func buildScope(b *builder, it *item, in *ScopeInput) {
	s := &Scope{TypeID: in.TypeID, Name: in.Name, ExternalID: in.ExternalID, Meta: in.Meta}
	s.ID = b.newID(it, scopeKind, in.ID)
	it.rec = s
	b.requiredRef(it, "typeId", in.TypeID, scopeTypeKind)
	if in.ParentScopeID != "" {
		eit := b.child(it, "")
		e := &ScopeEdge{ParentScopeID: in.ParentScopeID, ChildScopeID: s.ID}
		e.ID = b.newID(eit, scopeEdgeKind, "")
		eit.rec = e
		b.ref(eit, "parentScopeId", in.ParentScopeID, scopeKind)
		b.scopeEdges = append(b.scopeEdges, scopeEdgeItem{it: eit, e: e, field: "parentScopeId"})
	}
	for i := range in.Memberships {
		m := &in.Memberships[i]
		buildMembership(b, b.child(it, "memberships["+strconv.Itoa(i)+"]"), m.ID, m.SubjectID, s.ID, m.RoleIDs, "subjectId", "")
	}
}

func sizeScope(in *ScopeInput) int {
	n := 1
	if in.ParentScopeID != "" {
		n++
	}
	for _, m := range in.Memberships {
		n += 1 + len(m.RoleIDs)
	}
	return n
}

// buildMembership adds a membership item (and one role assignment item per
// role). subjectField or scopeField is empty when that side is the
// enclosing object, which needs no reference check.
func buildMembership(b *builder, it *item, clientID, subjectID, scopeID string, roleIDs []string, subjectField, scopeField string) {
	m := &Membership{SubjectID: subjectID, ScopeID: scopeID}
	m.ID = b.newID(it, membershipKind, clientID)
	it.rec = m
	if subjectField != "" {
		b.requiredRef(it, subjectField, subjectID, subjectKind)
	}
	if scopeField != "" {
		b.requiredRef(it, scopeField, scopeID, scopeKind)
	}
	for j, rid := range roleIDs {
		buildRoleAssignment(b, b.child(it, "roleIds["+strconv.Itoa(j)+"]"), "", m.ID, rid, "", "")
	}
}

// CreateScopes creates scopes in one atomic batch, with their parent edges
// and inline memberships. The results carry id, typeId, name, externalId and
// meta, as in the original API.
func (c *Client) CreateScopes(ctx context.Context, in []ScopeInput) ([]Scope, error) {
	return createMany(ctx, c, "create scopes", &Batch{Scopes: in}, func(r *BatchResult) []Scope { return r.Scopes })
}

// CreateScope creates one scope.
func (c *Client) CreateScope(ctx context.Context, in ScopeInput) (Scope, error) {
	return createOne(ctx, "create scope", in, c.CreateScopes)
}

// GetScope returns the scope id.
func (c *Client) GetScope(ctx context.Context, id string) (Scope, error) {
	return getOne[Scope](ctx, c, scopeKind, id)
}

// ListScopes lists scopes in id order.
func (c *Client) ListScopes(ctx context.Context, f ScopeFilter) ([]Scope, error) {
	keep := func(s *Scope) bool {
		return (f.TypeID == "" || s.TypeID == f.TypeID) && (f.ExternalID == "" || s.ExternalID == f.ExternalID)
	}
	switch {
	case f.ParentScopeID != "":
		return c.listChildScopes(ctx, f, keep)
	case f.ExternalID != "":
		return list(ctx, c, scopeKind, byIndex(ixScopeExternal, f.ExternalID), keep, f.Page)
	case f.TypeID != "":
		return list(ctx, c, scopeKind, byIndex(ixScopeType, f.TypeID), keep, f.Page)
	}
	return list[Scope](ctx, c, scopeKind, listPlan{}, nil, f.Page)
}

func (c *Client) listChildScopes(ctx context.Context, f ScopeFilter, keep func(*Scope) bool) ([]Scope, error) {
	edges, err := list[ScopeEdge](ctx, c, scopeEdgeKind, byIndex(ixScopeEdgeParent, f.ParentScopeID), nil, Page{})
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(edges))
	for _, e := range edges {
		ids = append(ids, e.ChildScopeID)
	}
	return listIDs(ctx, c, scopeKind, ids, keep, f.Page)
}

// UpdateScope changes the name, external id or meta of a scope.
func (c *Client) UpdateScope(ctx context.Context, id string, p ScopePatch) (Scope, error) {
	return update(ctx, c, scopeKind, id, func(_ *view, s *Scope) error {
		if p.Name != nil {
			s.Name = *p.Name
		}
		if p.ExternalID != nil {
			s.ExternalID = *p.ExternalID
		}
		if p.Meta != nil {
			s.Meta = *p.Meta
		}
		return nil
	})
}

// DeleteScope deletes a scope and, in the same transaction, everything
// defined in it: memberships and their role assignments, roles,
// permissions, role-permissions, overrides, resource types, collections,
// policies, tag groups and tags, its edge to its parent, links of resources
// into it and tag assignments made in it. It is refused (ErrNotAllowed)
// while the scope has child scopes or owns resources.
func (c *Client) DeleteScope(ctx context.Context, id string) error {
	return c.deleteOne(ctx, scopeKind, id)
}

// ScopeEdge places a child scope under a parent scope. A scope has at most
// one parent.
//
// The store keeps, for every scope, its depth, its root, its nearest define
// scope and one pointer to an ancestor, so that a write checks "is this
// scope in the chain of that one" in O(log depth) reads instead of walking
// the tree: creating a scope or writing into a scope costs the same at
// depth 10 and at depth 10,000.
type ScopeEdge struct {
	ID            string `json:"id"`
	ParentScopeID string `json:"parentScopeId"`
	ChildScopeID  string `json:"childScopeId"`
}

// ScopeEdgeInput creates a ScopeEdge. The child must have no parent yet, a
// ScopeTypeEdge must allow the child's type under the parent's type, and the
// tree stays acyclic.
type ScopeEdgeInput struct {
	ID            string `json:"id,omitempty"`
	ParentScopeID string `json:"parentScopeId"`
	ChildScopeID  string `json:"childScopeId"`
}

// ScopeEdgeFilter selects scope edges by parent and/or child scope.
type ScopeEdgeFilter struct {
	ParentScopeID string `json:"parentScopeId,omitempty"`
	ChildScopeID  string `json:"childScopeId,omitempty"`
	Page
}

func buildScopeEdge(b *builder, it *item, in *ScopeEdgeInput) {
	e := &ScopeEdge{ParentScopeID: in.ParentScopeID, ChildScopeID: in.ChildScopeID}
	e.ID = b.newID(it, scopeEdgeKind, in.ID)
	it.rec = e
	b.requiredRef(it, "parentScopeId", in.ParentScopeID, scopeKind)
	b.requiredRef(it, "childScopeId", in.ChildScopeID, scopeKind)
	b.scopeEdges = append(b.scopeEdges, scopeEdgeItem{it: it, e: e, field: "parentScopeId"})
}

// CreateScopeEdges creates scope edges in one atomic batch. An edge whose
// child already has scopes under it moves that whole subtree: the write
// then costs time in proportion to the subtree's size (the position of
// every scope in it is stored, see ScopeEdge), not to the depth it moves to.
func (c *Client) CreateScopeEdges(ctx context.Context, in []ScopeEdgeInput) ([]ScopeEdge, error) {
	return createMany(ctx, c, "create scope edges", &Batch{ScopeEdges: in}, func(r *BatchResult) []ScopeEdge { return r.ScopeEdges })
}

// CreateScopeEdge creates one scope edge.
func (c *Client) CreateScopeEdge(ctx context.Context, in ScopeEdgeInput) (ScopeEdge, error) {
	return createOne(ctx, "create scope edge", in, c.CreateScopeEdges)
}

// GetScopeEdge returns the scope edge id.
func (c *Client) GetScopeEdge(ctx context.Context, id string) (ScopeEdge, error) {
	return getOne[ScopeEdge](ctx, c, scopeEdgeKind, id)
}

// ListScopeEdges lists scope edges in id order.
func (c *Client) ListScopeEdges(ctx context.Context, f ScopeEdgeFilter) ([]ScopeEdge, error) {
	keep := func(e *ScopeEdge) bool {
		return (f.ParentScopeID == "" || e.ParentScopeID == f.ParentScopeID) && (f.ChildScopeID == "" || e.ChildScopeID == f.ChildScopeID)
	}
	if f.ChildScopeID != "" {
		var ids []string
		err := c.store.View(ctx, func(tx storage.Tx) error {
			id, err := lookupUnique(tx, uniqueScopeParent, f.ChildScopeID)
			if id != "" {
				ids = append(ids, id)
			}
			return err
		})
		if err != nil {
			return nil, err
		}
		return listIDs(ctx, c, scopeEdgeKind, ids, keep, f.Page)
	}
	if f.ParentScopeID != "" {
		return list(ctx, c, scopeEdgeKind, byIndex(ixScopeEdgeParent, f.ParentScopeID), keep, f.Page)
	}
	return list[ScopeEdge](ctx, c, scopeEdgeKind, listPlan{}, nil, f.Page)
}

// DeleteScopeEdge deletes a scope edge: the child becomes a root scope. Like
// the creation of an edge above a subtree, it costs time in proportion to
// the size of the child's subtree.
func (c *Client) DeleteScopeEdge(ctx context.Context, id string) error {
	return c.deleteOne(ctx, scopeEdgeKind, id)
}

// Membership makes a subject a member of a scope. Role assignments on the
// membership give the subject roles there.
type Membership struct {
	ID        string `json:"id"`
	SubjectID string `json:"subjectId"`
	ScopeID   string `json:"scopeId"`
}

// MembershipInput creates a Membership, unique per (subject, scope), and one
// RoleAssignment per element of RoleIDs.
type MembershipInput struct {
	ID        string   `json:"id,omitempty"`
	SubjectID string   `json:"subjectId"`
	ScopeID   string   `json:"scopeId"`
	RoleIDs   []string `json:"roleIds,omitempty"`
}

// MembershipFilter selects memberships. SubjectID is required, as in the
// original API, unless ScopeID is set alone (the members of one scope);
// ScopeIDs narrows to several scopes.
type MembershipFilter struct {
	SubjectID string   `json:"subjectId,omitempty"`
	ScopeID   string   `json:"scopeId,omitempty"`
	ScopeIDs  []string `json:"scopeIds,omitempty"`
	Page
}

func buildMembershipInput(b *builder, it *item, in *MembershipInput) {
	buildMembership(b, it, in.ID, in.SubjectID, in.ScopeID, in.RoleIDs, "subjectId", "scopeId")
}

func sizeMembership(in *MembershipInput) int { return 1 + len(in.RoleIDs) }

// CreateMemberships creates memberships (with their role assignments) in one
// atomic batch.
func (c *Client) CreateMemberships(ctx context.Context, in []MembershipInput) ([]Membership, error) {
	return createMany(ctx, c, "create memberships", &Batch{Memberships: in}, func(r *BatchResult) []Membership { return r.Memberships })
}

// CreateMembership creates one membership.
func (c *Client) CreateMembership(ctx context.Context, in MembershipInput) (Membership, error) {
	return createOne(ctx, "create membership", in, c.CreateMemberships)
}

// GetMembership returns the membership id.
func (c *Client) GetMembership(ctx context.Context, id string) (Membership, error) {
	return getOne[Membership](ctx, c, membershipKind, id)
}

// ListMemberships lists memberships in id order.
func (c *Client) ListMemberships(ctx context.Context, f MembershipFilter) ([]Membership, error) {
	scopes := map[string]bool{}
	for _, s := range f.ScopeIDs {
		scopes[s] = true
	}
	if f.ScopeID != "" {
		scopes[f.ScopeID] = true
	}
	keep := func(m *Membership) bool {
		return (f.SubjectID == "" || m.SubjectID == f.SubjectID) && (len(scopes) == 0 || scopes[m.ScopeID])
	}
	switch {
	case f.SubjectID != "":
		return list(ctx, c, membershipKind, byIndex(ixMembershipSubject, f.SubjectID), keep, f.Page)
	case f.ScopeID != "" && len(f.ScopeIDs) == 0:
		return list(ctx, c, membershipKind, byIndex(ixMembershipScope, f.ScopeID), keep, f.Page)
	}
	return nil, invalidf("list memberships: subjectId is required (or scopeId alone)")
}

// DeleteMembership deletes a membership and its role assignments.
func (c *Client) DeleteMembership(ctx context.Context, id string) error {
	return c.deleteOne(ctx, membershipKind, id)
}

// RoleAssignment gives the subject of a membership a role. The role must be
// defined in the chain of the membership's scope.
type RoleAssignment struct {
	ID           string `json:"id"`
	MembershipID string `json:"membershipId"`
	RoleID       string `json:"roleId"`
}

// RoleAssignmentInput creates a RoleAssignment, unique per (membership,
// role).
type RoleAssignmentInput struct {
	ID           string `json:"id,omitempty"`
	MembershipID string `json:"membershipId"`
	RoleID       string `json:"roleId"`
}

// RoleAssignmentFilter selects role assignments by membership and/or role;
// one of them is required.
type RoleAssignmentFilter struct {
	MembershipID string `json:"membershipId,omitempty"`
	RoleID       string `json:"roleId,omitempty"`
	Page
}

func buildRoleAssignmentInput(b *builder, it *item, in *RoleAssignmentInput) {
	buildRoleAssignment(b, it, in.ID, in.MembershipID, in.RoleID, "membershipId", "roleId")
}

// buildRoleAssignment adds a role assignment item; membershipField is empty
// when the membership is the enclosing item, and roleField is empty when
// the item's own field path already names the role.
func buildRoleAssignment(b *builder, it *item, clientID, membershipID, roleID, membershipField, roleField string) {
	ra := &RoleAssignment{MembershipID: membershipID, RoleID: roleID}
	ra.ID = b.newID(it, roleAssignKind, clientID)
	it.rec = ra
	if membershipField != "" {
		b.requiredRef(it, membershipField, membershipID, membershipKind)
	}
	b.requiredRef(it, roleField, roleID, roleKind)
	it.check = func(v *view) {
		m := get[Membership](v, membershipKind, ra.MembershipID)
		r := get[Role](v, roleKind, ra.RoleID)
		if m == nil || r == nil {
			return
		}
		if !v.inChain(m.ScopeID, r.ScopeID) {
			v.fail(it, roleField, notAllowedf("role %q is defined at scope %q, which is not in the chain of scope %q: assign a role defined at %q or above it, up to the nearest define scope",
				r.ID, r.ScopeID, m.ScopeID, m.ScopeID))
		}
	}
}

// CreateRoleAssignments creates role assignments in one atomic batch.
func (c *Client) CreateRoleAssignments(ctx context.Context, in []RoleAssignmentInput) ([]RoleAssignment, error) {
	return createMany(ctx, c, "create role assignments", &Batch{RoleAssignments: in}, func(r *BatchResult) []RoleAssignment { return r.RoleAssignments })
}

// CreateRoleAssignment creates one role assignment.
func (c *Client) CreateRoleAssignment(ctx context.Context, in RoleAssignmentInput) (RoleAssignment, error) {
	return createOne(ctx, "create role assignment", in, c.CreateRoleAssignments)
}

// GetRoleAssignment returns the role assignment id.
func (c *Client) GetRoleAssignment(ctx context.Context, id string) (RoleAssignment, error) {
	return getOne[RoleAssignment](ctx, c, roleAssignKind, id)
}

// ListRoleAssignments lists role assignments in id order.
func (c *Client) ListRoleAssignments(ctx context.Context, f RoleAssignmentFilter) ([]RoleAssignment, error) {
	keep := func(r *RoleAssignment) bool {
		return (f.MembershipID == "" || r.MembershipID == f.MembershipID) && (f.RoleID == "" || r.RoleID == f.RoleID)
	}
	switch {
	case f.MembershipID != "":
		return list(ctx, c, roleAssignKind, byIndex(ixRoleAssignMember, f.MembershipID), keep, f.Page)
	case f.RoleID != "":
		return list(ctx, c, roleAssignKind, byIndex(ixRoleAssignRole, f.RoleID), keep, f.Page)
	}
	return nil, invalidf("list role assignments: membershipId or roleId is required")
}

// DeleteRoleAssignment deletes a role assignment.
func (c *Client) DeleteRoleAssignment(ctx context.Context, id string) error {
	return c.deleteOne(ctx, roleAssignKind, id)
}
