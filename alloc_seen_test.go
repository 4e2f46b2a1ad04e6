package authz_test

import (
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/scopegate/authz"
	"github.com/scopegate/authz/internal/authztest"
)

// TestRoleDecisionsAllocateNothing: without a decision cache, on random
// role models (two tenants with a scope tree each, roles holding shared
// permissions with *, exact and glob patterns, memberships at every level,
// role and permission overrides), every request asked a second time
// allocates nothing — allowed or denied, on a resource of its tenant or of
// the other, for an action the model names or not. The first time makes
// what the answers share (graph.grants, graph.denials, graph.texts).
func TestRoleDecisionsAllocateNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector's instrumentation allocates")
	}
	patterns := []string{"*", "d-1", "d-*", "?-2"}
	actions := []string{"read", "write", "wirte"}
	asked := map[string]int{}
	for seed := range 8 {
		r := rand.New(rand.NewPCG(uint64(seed), 11))
		bt := authz.Batch{
			ScopeTypes: []authz.ScopeTypeInput{{ID: "org", Name: "Org", Config: authz.ScopeTypeConfig{PermissionMode: authz.PermissionModeDefine}},
				{ID: "team", Name: "Team"}},
			ScopeTypeEdges: []authz.ScopeTypeEdgeInput{{ParentTypeID: "org", ChildTypeID: "team"}, {ParentTypeID: "team", ChildTypeID: "team"}},
		}
		var scopes []string
		for _, org := range []string{"a", "b"} {
			bt.Scopes = append(bt.Scopes, authz.ScopeInput{ID: org, TypeID: "org"})
			bt.ResourceTypes = append(bt.ResourceTypes, authz.ResourceTypeInput{ID: org + ".rt", ScopeID: org, Key: "doc", Name: "Doc"})
			scopes = append(scopes, org)
			parent := org
			for d := range 3 {
				id := parent + "." + strconv.Itoa(d)
				bt.Scopes = append(bt.Scopes, authz.ScopeInput{ID: id, TypeID: "team", ParentScopeID: parent})
				scopes = append(scopes, id)
				if r.IntN(2) == 0 {
					parent = id
				}
			}
			for i := range 5 {
				p := authz.PermissionInput{ID: org + ".p" + strconv.Itoa(i), ScopeID: org, Action: actions[r.IntN(2)], ResourceType: "doc",
					ResourcePattern: patterns[r.IntN(len(patterns))]}
				p.Key = p.ID
				bt.Permissions = append(bt.Permissions, p)
			}
			for i := range 3 {
				role := org + ".r" + strconv.Itoa(i)
				bt.Roles = append(bt.Roles, authz.RoleInput{ID: role, ScopeID: org, Name: role})
				for j := range 5 {
					if r.IntN(2) == 0 {
						bt.RolePermissions = append(bt.RolePermissions, authz.RolePermissionInput{RoleID: role, PermissionID: org + ".p" + strconv.Itoa(j)})
					}
				}
			}
			bt.ScopeOverrides = append(bt.ScopeOverrides,
				authz.ScopeOverrideInput{Kind: authz.OverrideRole, ChildScopeID: org + ".0", RoleID: org + ".r0", State: authz.OverrideDisabled},
				authz.ScopeOverrideInput{Kind: authz.OverridePermission, ChildScopeID: org + ".1", PermissionID: org + ".p1", State: authz.OverrideDisabled})
		}
		for i := range 8 {
			s := scopes[r.IntN(len(scopes))]
			bt.Resources = append(bt.Resources, authz.ResourceInput{ID: "res" + strconv.Itoa(i), ResourceTypeID: s[:1] + ".rt", ScopeID: s,
				ExternalResourceID: []string{"d-1", "d-2", "e-2", "f"}[r.IntN(4)]})
		}
		for i := range 6 {
			sub := "s" + strconv.Itoa(i)
			bt.Subjects = append(bt.Subjects, authz.SubjectInput{ID: sub, SubjectType: authz.SubjectUser, ExternalID: sub})
			for range r.IntN(4) {
				s := scopes[r.IntN(len(scopes))]
				bt.Memberships = append(bt.Memberships, authz.MembershipInput{SubjectID: sub, ScopeID: s,
					RoleIDs: []string{s[:1] + ".r" + strconv.Itoa(r.IntN(3))}})
			}
		}
		bt = applyPruned(t, authztest.NewClient(t, authztest.Memstore(t), testOptions()), bt)
		c := authztest.NewClient(t, authztest.Memstore(t), &authz.Options{DecisionCacheSize: -1})
		must(c.Apply(ctx, bt))(t)
		scopes = scopes[:0]
		for _, sc := range bt.Scopes {
			scopes = append(scopes, sc.ID)
		}
		for _, sub := range bt.Subjects {
			for _, s := range scopes {
				for _, a := range actions {
					for _, res := range bt.Resources {
						in := authz.EvaluateInput{Actor: authz.SubjectRef{SubjectID: sub.ID}, ScopeID: s, Action: a, Resource: &authz.ResourceRef{ResourceID: res.ID}}
						d := must(c.Evaluate(ctx, in))(t)
						if n := testing.AllocsPerRun(3, func() { _, _ = c.Evaluate(ctx, in) }); n != 0 {
							t.Fatalf("seed %d: %s %s %s from %s asked again: %v allocations; want 0 (%s)", seed, sub.ID, a, res.ID, s, n, d.Explanation)
						}
						asked[string(d.DecidedBy)+" "+strconv.FormatBool(d.Allowed)]++
					}
				}
			}
		}
	}
	t.Logf("%v", asked)
	if asked["role true"] < 50 || asked["default false"] < 50 {
		t.Errorf("decisions %v; want many allowed and denied", asked)
	}
}
