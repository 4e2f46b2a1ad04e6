package authz

import (
	"context"
	"slices"
	"strconv"
)

func (s *Scope) kind() *kindSpec  { return scopeKind }
func (s *Scope) recordID() string { return s.ID }

func (s *Scope) uniques() []uniqueEntry { return nil }
func (s *Scope) indexes() []indexEntry {
	ix := []indexEntry{idx(ixScopeType, s.TypeID)}
	if s.ExternalID != "" {
		ix = append(ix, idx(ixScopeExternal, s.ExternalID))
	}
	return ix
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
	// IDs, when set, keeps only these scopes (ids of no scope are skipped).
	IDs           []string `json:"ids,omitempty"`
	TypeID        string   `json:"typeId,omitempty"`
	ParentScopeID string   `json:"parentScopeId,omitempty"`
	ExternalID    string   `json:"externalId,omitempty"`
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
	if len(f.IDs) > 0 {
		ids := f.IDs
		if f.ParentScopeID != "" {
			edges, err := list[ScopeEdge](ctx, c, scopeEdgeKind, byIndex(ixScopeEdgeParent, f.ParentScopeID), nil, Page{})
			if err != nil {
				return nil, err
			}
			ids = nil
			for _, e := range edges {
				if slices.Contains(f.IDs, e.ChildScopeID) {
					ids = append(ids, e.ChildScopeID)
				}
			}
		}
		return listIDs(ctx, c, scopeKind, slices.Clone(ids), keep, f.Page)
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

// ListScopeAncestors lists the scopes above scope id, nearest first: its
// parent, the parent's parent, up to its root (q.Depth 1: the parent
// alone). ErrNotFound when id is no scope; CascadeOnly is for resources
// (ErrInvalid).
func (c *Client) ListScopeAncestors(ctx context.Context, id string, q TreeQuery) ([]Scope, error) {
	if q.CascadeOnly {
		return nil, invalidf("list scope ancestors: cascadeOnly: applies to resources only")
	}
	return walk[Scope](ctx, c, scopeKind, scopeEdgeKind, id, ixScopeEdgeChild,
		func(e *ScopeEdge) (string, bool) { return e.ParentScopeID, true }, q)
}

// ListScopeDescendants lists the scopes below scope id, breadth-first (see
// TreeQuery; q.Depth 1: its children). ErrNotFound when id is no scope;
// CascadeOnly is for resources (ErrInvalid).
func (c *Client) ListScopeDescendants(ctx context.Context, id string, q TreeQuery) ([]Scope, error) {
	if q.CascadeOnly {
		return nil, invalidf("list scope descendants: cascadeOnly: applies to resources only")
	}
	return walk[Scope](ctx, c, scopeKind, scopeEdgeKind, id, ixScopeEdgeParent,
		func(e *ScopeEdge) (string, bool) { return e.ChildScopeID, true }, q)
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
