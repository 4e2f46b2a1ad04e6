package authz_test

import (
	"context"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/scopegate/authz"
	"github.com/scopegate/authz/memstore"
)

// Property tests of invariants that hold for every model, checked on the
// random models of the oracle.

const invariantModels = 60

// allRequests lists every (subject, scope, action, resource) of bt, with
// the context that lets the context conditions hold.
func allRequests(bt authz.Batch) []authz.EvaluateInput {
	var out []authz.EvaluateInput
	for _, sub := range bt.Subjects {
		for _, sc := range bt.Scopes {
			for _, action := range []string{"read", "write", "list"} {
				for _, res := range bt.Resources {
					out = append(out, authz.EvaluateInput{Actor: authz.SubjectRef{SubjectID: sub.ID}, ScopeID: sc.ID, Action: action,
						Resource: &authz.ResourceRef{ResourceID: res.ID}, Context: map[string]any{"hour": 9}})
				}
			}
		}
	}
	return out
}

// decideAll answers every request; a request naming an object that no
// longer exists is recorded as such.
func decideAll(t *testing.T, c *authz.Client, reqs []authz.EvaluateInput) []authz.Decision {
	t.Helper()
	out := make([]authz.Decision, len(reqs))
	for i, q := range reqs {
		d, err := c.Evaluate(context.Background(), q)
		if err != nil && !strings.Contains(err.Error(), "not found") {
			t.Fatalf("evaluate %+v: %v", q, err)
		}
		out[i] = d
	}
	return out
}

// newRandomModel loads random model m into a new memstore client and
// returns it with the batch that was stored.
func newRandomModel(t *testing.T, m int) (*authz.Client, authz.Batch) {
	t.Helper()
	r := rand.New(rand.NewPCG(uint64(m), 4242))
	c := must(authz.New(memstore.New(), testOptions()))
	return c, applyPruned(t, c, randomModel(r))
}

// inTenant reports whether scope id is tenant (an org) or below it.
func inTenant(o *oracle, id, tenant string) bool {
	return slices.Contains(o.ancestors(id), tenant)
}

// TestInvariantTenantIsolation deletes, one at a time, objects of tenant O0
// and adds some to it, and requires every decision asked in tenant O1 about
// a resource of O1 to stay the same.
func TestInvariantTenantIsolation(t *testing.T) {
	checked := 0
	for m := range invariantModels {
		c, bt := newRandomModel(t, m)
		o := &oracle{bt: bt}
		if o.scope("O1") == nil {
			continue
		}
		var reqs []authz.EvaluateInput
		for _, q := range allRequests(bt) {
			res := o.resource(q.Resource.ResourceID)
			if inTenant(o, q.ScopeID, "O1") && inTenant(o, res.ScopeID, "O1") {
				reqs = append(reqs, q)
			}
		}
		before := decideAll(t, c, reqs)
		// Objects of O0 that nothing of O1 refers to.
		var changes []func() error
		for _, mb := range bt.Memberships {
			if inTenant(o, mb.ScopeID, "O0") {
				changes = append(changes, func() error { return c.DeleteMembership(ctx, mb.ID) })
			}
		}
		for _, ov := range bt.ScopeOverrides {
			if inTenant(o, ov.ChildScopeID, "O0") {
				changes = append(changes, func() error { return c.DeleteScopeOverride(ctx, ov.ID) })
			}
		}
		for _, p := range bt.ResourcePolicies {
			if inTenant(o, p.ScopeID, "O0") {
				changes = append(changes, func() error { return c.DeleteResourcePolicy(ctx, p.ID) })
			}
		}
		for _, res := range bt.Resources {
			linkedOut := slices.ContainsFunc(bt.ResourceScopeLinks, func(l authz.ResourceScopeLinkInput) bool {
				return l.ResourceID == res.ID && !inTenant(o, l.ScopeID, "O0")
			})
			if inTenant(o, res.ScopeID, "O0") && !linkedOut {
				changes = append(changes, func() error { return c.DeleteResource(ctx, res.ID) })
			}
		}
		for _, role := range bt.Roles {
			if inTenant(o, role.ScopeID, "O0") {
				changes = append(changes, func() error { return c.DeleteRole(ctx, role.ID) })
				changes = append(changes, func() error {
					_, err := c.CreateScopeOverride(ctx, authz.ScopeOverrideInput{ChildScopeID: role.ScopeID, Kind: authz.OverrideRole, RoleID: role.ID, State: authz.OverrideDisabled})
					return err
				})
				for _, sub := range bt.Subjects {
					changes = append(changes, func() error {
						_, err := c.CreateMembership(ctx, authz.MembershipInput{SubjectID: sub.ID, ScopeID: role.ScopeID, RoleIDs: []string{role.ID}})
						return err
					})
				}
			}
		}
		for i, change := range changes {
			if err := change(); err != nil {
				continue // already gone with an earlier cascade, or a duplicate
			}
			after := decideAll(t, c, reqs)
			if diff := cmp.Diff(before, after); diff != "" {
				t.Fatalf("model %d, change %d in tenant O0 changed decisions in tenant O1 (-before +after):\n%s", m, i, diff)
			}
			checked++
		}
	}
	if checked == 0 {
		t.Fatal("no change was checked: the models have no second tenant")
	}
	t.Logf("%d changes in one tenant checked against the other", checked)
}

// TestInvariantRemovalNeverGrants removes memberships, role assignments and
// role-permissions one at a time and adds disabled overrides: no denial may
// become an allow.
func TestInvariantRemovalNeverGrants(t *testing.T) {
	checked := 0
	for m := range invariantModels {
		c, bt := newRandomModel(t, m)
		reqs := allRequests(bt)
		var changes []func() error
		for _, mb := range bt.Memberships {
			changes = append(changes, func() error { return c.DeleteMembership(ctx, mb.ID) })
		}
		for _, rp := range bt.RolePermissions {
			changes = append(changes, func() error { return c.DeleteRolePermission(ctx, rp.ID) })
		}
		for _, ra := range must(c.ListRoleAssignments(ctx, authz.RoleAssignmentFilter{RoleID: firstRole(bt)})) {
			changes = append(changes, func() error { return c.DeleteRoleAssignment(ctx, ra.ID) })
		}
		for _, sc := range bt.Scopes {
			for _, role := range bt.Roles {
				changes = append(changes, func() error {
					_, err := c.CreateScopeOverride(ctx, authz.ScopeOverrideInput{ChildScopeID: sc.ID, Kind: authz.OverrideRole, RoleID: role.ID, State: authz.OverrideDisabled})
					return err
				})
			}
		}
		r := rand.New(rand.NewPCG(uint64(m), 7))
		r.Shuffle(len(changes), func(i, j int) { changes[i], changes[j] = changes[j], changes[i] })
		before := decideAll(t, c, reqs)
		for i, change := range changes[:min(len(changes), 12)] {
			if err := change(); err != nil {
				continue // refused (a role not visible there) or already gone
			}
			after := decideAll(t, c, reqs)
			for k := range reqs {
				if !before[k].Allowed && after[k].Allowed {
					t.Fatalf("model %d, change %d: %s %s %s %s went from denied to allowed: %s",
						m, i, reqs[k].Actor.SubjectID, reqs[k].ScopeID, reqs[k].Action, reqs[k].Resource.ResourceID, after[k].Explanation)
				}
			}
			before = after
			checked++
		}
	}
	t.Logf("%d removals and disabled overrides checked", checked)
}

func firstRole(bt authz.Batch) string {
	if len(bt.Roles) == 0 {
		return "none"
	}
	return bt.Roles[0].ID
}

// TestInvariantBackendsAgree loads each random model into both backends and
// requires identical decisions, explanations and matches included.
func TestInvariantBackendsAgree(t *testing.T) {
	for m := range invariantModels {
		mem, bt := newRandomModel(t, m)
		bolt := must(authz.New(backends[1].open(t), testOptions()))
		if _, err := bolt.Apply(ctx, bt); err != nil {
			t.Fatalf("model %d: the batch memstore accepted is refused by boltstore: %v", m, err)
		}
		reqs := allRequests(bt)
		if diff := cmp.Diff(decideAll(t, mem, reqs), decideAll(t, bolt, reqs)); diff != "" {
			t.Fatalf("model %d: memstore and boltstore decide differently (-memstore +boltstore):\n%s", m, diff)
		}
	}
}
