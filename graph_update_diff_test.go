package authz_test

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
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
// Matches and Explanation. New objects often take the id of an object
// deleted before, of any kind, and the observing Client looks one step in
// three, so that it catches up a deletion and a creation with one id in
// one update (TestObserverCatchesUpIDReusedByAnotherKind is the
// deterministic case). Both backends.
func TestIncrementalGraphMatchesFreshBuild(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			for m := range 40 {
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
					// The observer looks one step in three, so that it
					// catches up several writes at once, as a Client of a
					// busy store does: a deletion and a creation with the
					// same id may then fall in one gap.
					clients := map[string]*authz.Client{"writing Client": c}
					if r.IntN(3) == 0 || step == 29 {
						clients["observing Client"] = observer
					}
					for range 25 {
						q := randomRequest(r, bt)
						if q.resource == "" {
							continue
						}
						in := q.input()
						want, werr := fresh.Evaluate(ctx, in)
						for name, client := range clients {
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
	seen := maps.Clone(w.gone)
	bm := bt.Memberships[r.IntN(len(bt.Memberships))]
	// A new object takes a fresh id, or half the time the id of an object
	// deleted before, of whatever kind (ids are unique only among the
	// objects that exist): the last one deleted, so that the deletion and
	// the creation often fall in one gap of the observer, or any other.
	id := fmt.Sprintf("w%02d", step)
	if gone := slices.Sorted(maps.Keys(w.gone)); len(gone) > 0 && r.IntN(2) == 0 {
		id = w.lastGone
		if r.IntN(3) == 0 || !w.gone[id] {
			id = gone[r.IntN(len(gone))]
		}
		if id == "none" {
			id = fmt.Sprintf("w%02d", step)
		}
	}
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
	} else if strings.HasSuffix(what, " made") {
		delete(w.gone, id)
	}
	for id := range w.gone {
		if !seen[id] {
			w.lastGone = id
		}
	}
	return what + " (id " + id + ")"
}

// graphWrites is what randomGraphWrite made and deleted so far.
type graphWrites struct {
	assigns, rolePerms []string
	memberships        map[string][]string // by scope
	gone               map[string]bool
	lastGone           string // the id deleted last
}

// TestObserverCatchesUpIDReusedByAnotherKind: ids are unique across kinds
// only among the objects that exist, so an object deleted and an object of
// another kind created with its id may both fall in the gap a Client
// catches up from the change log in one update. Whatever the order in
// which it reloads the two, the graph must hold the object that exists:
// a deny policy must not be lost (a wrong grant), nor a membership (a
// wrong denial). The observing Client is compared with one opened after
// the writes, for every pair of kinds. Both backends.
func TestObserverCatchesUpIDReusedByAnotherKind(t *testing.T) {
	deny := func(id string) authz.Batch {
		return authz.Batch{ResourcePolicies: []authz.ResourcePolicyInput{{ID: id, ScopeID: "acme", Name: "deny",
			Target: authz.PolicyTarget{Kind: authz.TargetResource, ResourceID: "d1"}, Actions: []string{"read"}, Effect: authz.EffectDeny}}}
	}
	member := func(id string) authz.Batch {
		return authz.Batch{Memberships: []authz.MembershipInput{{ID: id, SubjectID: "amy", ScopeID: "acme", RoleIDs: []string{"r"}}}}
	}
	// Each old object is created with id "x", then deleted before the new
	// one is created with the same id.
	olds := map[string]struct {
		create authz.Batch
		del    func(c *authz.Client) error
	}{
		"tag group": {authz.Batch{TagGroups: []authz.TagGroupInput{{ID: "x", ScopeID: "acme", Key: "k", Name: "K"}}},
			func(c *authz.Client) error { return c.DeleteTagGroup(ctx, "x") }},
		"tag": {authz.Batch{TagGroups: []authz.TagGroupInput{{ID: "tg", ScopeID: "acme", Key: "k", Name: "K",
			Tags: []authz.InlineTagInput{{ID: "x", Identifier: "t", Label: "T"}}}}},
			func(c *authz.Client) error { return c.DeleteTag(ctx, "x") }},
		"role": {authz.Batch{Roles: []authz.RoleInput{{ID: "x", ScopeID: "acme", Name: "X"}}},
			func(c *authz.Client) error { return c.DeleteRole(ctx, "x") }},
		"resource": {authz.Batch{Resources: []authz.ResourceInput{{ID: "x", ResourceTypeID: "rt", ScopeID: "acme", ExternalResourceID: "x"}}},
			func(c *authz.Client) error { return c.DeleteResource(ctx, "x") }},
		"subject": {authz.Batch{Subjects: []authz.SubjectInput{{ID: "x", SubjectType: authz.SubjectUser, ExternalID: "x"}}},
			func(c *authz.Client) error { return c.DeleteSubject(ctx, "x") }},
	}
	news := map[string]func(id string) authz.Batch{"deny policy": deny, "membership": member}
	for _, be := range backends {
		for oldName, old := range olds {
			for newName, create := range news {
				t.Run(be.name+"/"+oldName+" then "+newName, func(t *testing.T) {
					store := be.open(t)
					c := must(authz.New(store, testOptions()))(t)
					b := oneTenantBatch()
					b.Subjects = append(b.Subjects, authz.SubjectInput{ID: "amy", SubjectType: authz.SubjectUser, ExternalID: "amy"})
					b.Permissions = []authz.PermissionInput{{ID: "p", ScopeID: "acme", Action: "read", ResourceType: "doc"}}
					b.RolePermissions = []authz.RolePermissionInput{{RoleID: "r", PermissionID: "p"}}
					b.Resources = []authz.ResourceInput{{ID: "d1", ResourceTypeID: "rt", ScopeID: "acme", ExternalResourceID: "d1"}}
					must(c.Apply(ctx, b))(t)
					must(c.Apply(ctx, old.create))(t)
					observer := must(authz.New(store, testOptions()))(t)
					ask := func(c *authz.Client, who string) authz.Decision {
						return must(c.Evaluate(ctx, authz.EvaluateInput{Actor: authz.SubjectRef{SubjectID: who}, ScopeID: "acme",
							Action: "read", Resource: &authz.ResourceRef{ResourceID: "d1"}}))(t)
					}
					ask(observer, "bob") // the observer has its graph before the two writes
					if err := old.del(c); err != nil {
						t.Fatalf("deleting the %s: got %v; want nil", oldName, err)
					}
					must(c.Apply(ctx, create("x")))(t)
					fresh := must(authz.New(store, testOptions()))(t)
					for _, who := range []string{"bob", "amy"} {
						got, want := ask(observer, who), ask(fresh, who)
						if got.Allowed != want.Allowed || got.DecidedBy != want.DecidedBy {
							t.Errorf("%s: got allowed=%v by %s; want allowed=%v by %s (as a Client opened after the writes)",
								who, got.Allowed, got.DecidedBy, want.Allowed, want.DecidedBy)
						}
					}
				})
			}
		}
	}
}
