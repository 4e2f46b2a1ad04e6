package authz

import (
	"context"
	"fmt"
)

func (r *RoleAssignment) kind() *kindSpec  { return roleAssignKind }
func (r *RoleAssignment) recordID() string { return r.ID }
func (r *RoleAssignment) uniques() []uniqueEntry {
	return []uniqueEntry{{name: uniqueRoleAssignment, values: []string{r.MembershipID, r.RoleID}, field: "roleId",
		what: func() string { return fmt.Sprintf("assignment of role %q to membership %q", r.RoleID, r.MembershipID) }}}
}
func (r *RoleAssignment) indexes() []indexEntry {
	return []indexEntry{idx(ixRoleAssignMember, r.MembershipID), idx(ixRoleAssignRole, r.RoleID)}
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
