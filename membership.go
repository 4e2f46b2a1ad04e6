package authz

import (
	"context"
	"fmt"
)

func (m *Membership) kind() *kindSpec  { return membershipKind }
func (m *Membership) recordID() string { return m.ID }

func (m *Membership) uniques() []uniqueEntry {
	return []uniqueEntry{{name: uniqueMembership, values: []string{m.SubjectID, m.ScopeID}, field: "subjectId",
		what: func() string { return fmt.Sprintf("membership of subject %q in scope %q", m.SubjectID, m.ScopeID) }}}
}
func (m *Membership) indexes() []indexEntry {
	return []indexEntry{idx(ixMembershipSubject, m.SubjectID), idx(ixMembershipScope, m.ScopeID)}
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
