package authz_test

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/scopegate/authz"
)

// TestIncrementalGraphMatchesFreshBuild: a long-lived Client updates its
// graph after each write it makes, and another one after reading the
// change log; a Client opened on the store after that write
// builds it from scratch. Random writes that change which roles a
// membership holds (role assignments made and deleted, memberships with
// several roles made and deleted, roles deleted), what a role grants (role
// permissions made and deleted, permissions deleted) and overrides of both
// must leave the two answering every request alike: Allowed, DecidedBy,
// Matches and Explanation. Both backends.
func TestIncrementalGraphMatchesFreshBuild(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			for m := range 12 {
				r := rand.New(rand.NewPCG(uint64(m), 19))
				store := be.open(t)
				c := must(authz.New(store, testOptions()))(t)
				bt := applyPruned(t, c, randomModel(r))
				if len(bt.Memberships) == 0 || len(bt.Roles) == 0 {
					continue
				}
				// observer never writes: it catches up from the change log,
				// as a Client of another process on the store would.
				observer := must(authz.New(store, testOptions()))(t)
				w := &graphWrites{memberships: map[string][]string{}, gone: map[string]bool{}}
				for step := range 30 {
					what := randomGraphWrite(t, r, c, bt, w, step)
					fresh := must(authz.New(store, testOptions()))(t)
					for range 25 {
						q := randomRequest(r, bt)
						if q.resource == "" {
							continue
						}
						in := q.input()
						want, werr := fresh.Evaluate(ctx, in)
						for name, client := range map[string]*authz.Client{"writing Client": c, "observing Client": observer} {
							got, gerr := client.Evaluate(ctx, in)
							if fmt.Sprint(gerr) != fmt.Sprint(werr) || got.Allowed != want.Allowed || got.DecidedBy != want.DecidedBy ||
								got.Explanation != want.Explanation || !reflect.DeepEqual(got.Matches, want.Matches) {
								t.Fatalf("model %d, after %s: request %+v:\n%s: allowed=%v by=%s err=%v %q matches=%v\nfresh Client: allowed=%v by=%s err=%v %q matches=%v",
									m, what, in, name, got.Allowed, got.DecidedBy, gerr, got.Explanation, got.Matches, want.Allowed, want.DecidedBy, werr, want.Explanation, want.Matches)
							}
						}
					}
				}
				store.Close()
			}
		})
	}
}

// randomGraphWrite makes one random write of the kinds
// TestIncrementalGraphMatchesFreshBuild names, and says what it did. Roles
// are drawn from those the model's memberships at the same scope hold, so
// that most writes are accepted; deleted ids are marked in gone. A write
// the store refuses changes nothing, and is fine.
func randomGraphWrite(t *testing.T, r *rand.Rand, c *authz.Client, bt authz.Batch, w *graphWrites, step int) string {
	t.Helper()
	live := func(ids []string) []string {
		var out []string
		for _, id := range ids {
			if !w.gone[id] {
				out = append(out, id)
			}
		}
		return out
	}
	pickID := func(ids []string) string {
		if ids = live(ids); len(ids) == 0 {
			return "none"
		}
		return ids[r.IntN(len(ids))]
	}
	// rolesAt lists the roles the model's memberships at scope hold.
	rolesAt := func(scope string) []string {
		var out []string
		for _, m := range bt.Memberships {
			if m.ScopeID == scope {
				out = append(out, m.RoleIDs...)
			}
		}
		return out
	}
	var roleIDs, permIDs []string
	for _, x := range bt.Roles {
		roleIDs = append(roleIDs, x.ID)
	}
	for _, x := range bt.Permissions {
		permIDs = append(permIDs, x.ID)
	}
	bm := bt.Memberships[r.IntN(len(bt.Memberships))]
	id := fmt.Sprintf("w%02d", step)
	var err error
	var what string
	var res authz.BatchResult
	switch n := r.IntN(20); {
	case n < 5:
		what = "a role assignment made"
		mid := pickID(append([]string{bm.ID}, w.memberships[bm.ScopeID]...))
		res, err = c.Apply(ctx, authz.Batch{RoleAssignments: []authz.RoleAssignmentInput{{ID: id, MembershipID: mid, RoleID: pickID(rolesAt(bm.ScopeID))}}})
		if err == nil {
			w.assigns = append(w.assigns, res.RoleAssignments[0].ID)
		}
	case n < 8:
		what = "a role assignment deleted"
		mid := pickID(append([]string{bm.ID}, w.memberships[bm.ScopeID]...))
		var ids []string
		if list, err := c.ListRoleAssignments(ctx, authz.RoleAssignmentFilter{MembershipID: mid}); err == nil {
			for _, a := range list {
				ids = append(ids, a.ID)
			}
		}
		aid := pickID(ids)
		err = c.DeleteRoleAssignment(ctx, aid)
		w.gone[aid] = true
	case n < 11:
		what = "a membership with several roles made"
		sub := bt.Subjects[r.IntN(len(bt.Subjects))].ID
		roles := rolesAt(bm.ScopeID)
		picked := []string{pickID(roles), pickID(roles), pickID(roles)}[:1+r.IntN(3)]
		res, err = c.Apply(ctx, authz.Batch{Memberships: []authz.MembershipInput{{ID: id, SubjectID: sub, ScopeID: bm.ScopeID, RoleIDs: picked}}})
		if err == nil {
			w.memberships[bm.ScopeID] = append(w.memberships[bm.ScopeID], id)
		}
	case n < 12:
		what = "a membership deleted"
		mid := pickID(append([]string{bm.ID}, w.memberships[bm.ScopeID]...))
		err = c.DeleteMembership(ctx, mid)
		w.gone[mid] = true
	case n < 13:
		what = "a role deleted"
		rid := pickID(roleIDs)
		err = c.DeleteRole(ctx, rid)
		w.gone[rid] = true
	case n < 16:
		what = "a role permission made"
		res, err = c.Apply(ctx, authz.Batch{RolePermissions: []authz.RolePermissionInput{{ID: id, RoleID: pickID(roleIDs), PermissionID: pickID(permIDs)}}})
		if err == nil {
			w.rolePerms = append(w.rolePerms, id)
		}
	case n < 17:
		what = "a permission deleted"
		pid := pickID(permIDs)
		err = c.DeletePermission(ctx, pid)
		w.gone[pid] = true
	case n < 18:
		what = "a role permission deleted"
		rp := pickID(w.rolePerms)
		err = c.DeleteRolePermission(ctx, rp)
		w.gone[rp] = true
	default:
		what = "an override made"
		in := authz.ScopeOverrideInput{ID: id, Kind: authz.OverrideRole, ChildScopeID: bm.ScopeID, RoleID: pickID(rolesAt(bm.ScopeID)), State: authz.OverrideDisabled}
		if r.IntN(2) == 0 {
			in.Kind, in.RoleID, in.PermissionID = authz.OverridePermission, "", pickID(permIDs)
		}
		_, err = c.Apply(ctx, authz.Batch{ScopeOverrides: []authz.ScopeOverrideInput{in}})
	}
	if err != nil {
		what += " (refused: " + err.Error() + ")"
	}
	return what
}

// graphWrites is what randomGraphWrite made and deleted so far.
type graphWrites struct {
	assigns, rolePerms []string
	memberships        map[string][]string // by scope
	gone               map[string]bool
}
