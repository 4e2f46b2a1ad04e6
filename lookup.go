package authz

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
)

// EffectivePermission is a permission a subject holds in a scope, with every
// role through which it holds it.
type EffectivePermission struct {
	Permission Permission        `json:"permission"`
	Grants     []PermissionGrant `json:"grants"`
}

// PermissionGrant is one role through which a subject holds a permission.
type PermissionGrant struct {
	RoleID string `json:"roleId"`
	// MembershipScopeIDs are the scopes of the memberships that give the
	// role, at or above the scope asked about.
	MembershipScopeIDs []string `json:"membershipScopeIds"`
	// Conditions must all hold for this grant to count: the permission's
	// logic, the role-permission's condition and the condition of the
	// role-permission override that applies, each when set. Empty means the
	// grant holds unconditionally.
	Conditions []json.RawMessage `json:"conditions,omitempty"`
}

// Unconditional reports whether some grant of p holds without conditions.
func (p EffectivePermission) Unconditional() bool {
	for _, g := range p.Grants {
		if len(g.Conditions) == 0 {
			return true
		}
	}
	return false
}

// ListEffectivePermissions lists the permissions subjectID holds in scopeID
// through its roles (SPEC §4.2 step 3): the roles of its memberships at the
// scope or above it (up to the nearest define scope), less those switched
// off by role overrides, and their permissions, less those switched off by
// permission or role-permission overrides, all read along the scope's
// chain. It is what the role step sees for a request made in scopeID on a
// resource that lives there; a resource elsewhere may see other overrides,
// and resource policies and hierarchies are not roles, so they are not
// listed. Permissions come in id order, grants in role order.
func (c *Client) ListEffectivePermissions(ctx context.Context, subjectID, scopeID string) ([]EffectivePermission, error) {
	g, err := c.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	sub := g.subjectByID(subjectID)
	if sub == nil {
		return nil, notFound(subjectKind.name, subjectID)
	}
	sc := g.scopeByID(scopeID)
	if sc == nil {
		return nil, notFound(scopeKind.name, scopeID)
	}
	chain := g.chainOf(sc.h, nil)
	type key struct{ perm, role handle }
	grants := map[key]*PermissionGrant{}
	perms := map[handle]*EffectivePermission{}
	for _, ref := range sub.members {
		if !slices.Contains(chain, ref.scope) {
			continue
		}
		m := nodeAt[gMember](g, ref.h)
		if m == nil {
			continue
		}
		for _, rh := range m.roles {
			role := nodeAt[gRole](g, rh)
			if role == nil {
				continue
			}
			if o := g.roleOverride(sc.h, rh); o != nil && o.State == OverrideDisabled {
				continue
			}
			for _, rp := range role.perms {
				p := nodeAt[gPerm](g, rp.perm)
				if p == nil {
					continue
				}
				if o := g.permOverride(sc.h, rp.perm); o != nil && o.State == OverrideDisabled {
					continue
				}
				rpo := g.rolePermOverride(sc.h, rh, rp.perm)
				if rpo != nil && rpo.o.State == OverrideDisabled {
					continue
				}
				conds := []*condition{p.logic, rp.cond, overrideCond(rpo)}
				if slices.ContainsFunc(conds, func(c *condition) bool { return c != nil && c.broken != nil }) {
					continue // a condition that no longer parses never holds
				}
				k := key{rp.perm, rh}
				gr := grants[k]
				if gr == nil {
					gr = &PermissionGrant{RoleID: role.r.ID}
					for _, c := range conds {
						if c != nil {
							gr.Conditions = append(gr.Conditions, json.RawMessage(c.src))
						}
					}
					grants[k] = gr
					if perms[rp.perm] == nil {
						perms[rp.perm] = &EffectivePermission{Permission: *p.p}
					}
				}
				scopeID := g.scope(m.scope).s.ID
				if !slices.Contains(gr.MembershipScopeIDs, scopeID) {
					gr.MembershipScopeIDs = append(gr.MembershipScopeIDs, scopeID)
				}
			}
		}
	}
	out := make([]EffectivePermission, 0, len(perms))
	for k, gr := range grants {
		slices.Sort(gr.MembershipScopeIDs)
		ep := perms[k.perm]
		ep.Grants = append(ep.Grants, *gr)
	}
	for _, ep := range perms {
		slices.SortFunc(ep.Grants, func(a, b PermissionGrant) int { return strings.Compare(a.RoleID, b.RoleID) })
		out = append(out, *ep)
	}
	slices.SortFunc(out, func(a, b EffectivePermission) int { return strings.Compare(a.Permission.ID, b.Permission.ID) })
	return out, nil
}
