package authz_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/scopegate/authz"
	"github.com/scopegate/authz/internal/authztest"
	"github.com/scopegate/authz/storage"
)

// Property tests of invariants that hold for every model, checked on the
// random models of the oracle.

// invariantModels is how many random models each invariant is checked on:
// AUTHZ_INVARIANT_MODELS, or 60.
func invariantModels(t *testing.T) int {
	t.Helper()
	return envCount(t, "AUTHZ_INVARIANT_MODELS", 60)
}

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
	return loadRandomModel(t, authztest.Memstore(t), m)
}

func loadRandomModel(t *testing.T, s storage.Storage, m int) (*authz.Client, authz.Batch) {
	t.Helper()
	r := rand.New(rand.NewPCG(uint64(m), 4242))
	c := must(authz.New(s, testOptions()))(t)
	return c, applyPruned(t, c, withResourceTypeHierarchy(rand.New(rand.NewPCG(uint64(m), 4343)), randomModel(r)))
}

// modelRun loads the random models of one invariant into stores of one
// backend: n of them, each in a new store; the store of a model is closed
// when the next one is loaded (a pgstore holds connections).
type modelRun struct {
	be   backend
	n    int
	last storage.Storage
}

func (r *modelRun) load(t *testing.T, m int) (*authz.Client, authz.Batch) {
	t.Helper()
	if r.last != nil {
		r.last.Close()
	}
	r.last = r.be.open(t)
	return loadRandomModel(t, r.last, m)
}

// eachInvariantBackend runs fn as a subtest on memstore, with
// invariantModels models, and on pgstore, with AUTHZ_PG_INVARIANT_MODELS
// (default 15) of them; a machine without PostgreSQL skips the second.
// boltstore is held to memstore's decisions by TestInvariantBackendsAgree.
func eachInvariantBackend(t *testing.T, fn func(t *testing.T, models *modelRun)) {
	t.Helper()
	for _, be := range withPG {
		n := invariantModels(t)
		switch be.name {
		case "boltstore":
			continue
		case "pgstore":
			n = min(n, envCount(t, "AUTHZ_PG_INVARIANT_MODELS", 15))
		}
		t.Run(be.name, func(t *testing.T) { fn(t, &modelRun{be: be, n: n}) })
	}
}

// inTenant reports whether scope id is tenant (an org) or below it.
func inTenant(o *oracle, id, tenant string) bool {
	return slices.Contains(o.ancestors(id), tenant)
}

// tenantQuestions are the questions TestInvariantTenantIsolation asks in a
// tenant: decisions and lookups, whose answers (or errors) are recorded as
// text.
type tenantQuestions struct {
	evals    []authz.EvaluateInput
	subjects []authz.LookupSubjectsInput
	res      []authz.LookupResourcesInput
}

// tenantQuestionsIn draws the questions asked in tenant: requests naming
// the tenant's resources by id, any external id with any type name (keys,
// and ids of either tenant's types), and types alone by any name; lookups of
// subjects and of resources with the same names.
func tenantQuestionsIn(r *rand.Rand, bt authz.Batch, o *oracle, tenant string) tenantQuestions {
	var scopes, own []string
	for _, sc := range bt.Scopes {
		if inTenant(o, sc.ID, tenant) {
			scopes = append(scopes, sc.ID)
		}
	}
	for _, res := range bt.Resources {
		if inTenant(o, res.ScopeID, tenant) {
			own = append(own, res.ID)
		}
	}
	names := slices.Clone(typeKeys)
	for _, t := range bt.ResourceTypes {
		names = append(names, t.ID)
	}
	ref := func() authz.ResourceRef {
		switch n := r.IntN(4); {
		case n == 0 && len(own) > 0:
			return authz.ResourceRef{ResourceID: pickFrom(r, own)}
		case n <= 1:
			return authz.ResourceRef{ExternalResourceID: pickFrom(r, oracleExternalIDs), ResourceType: pickFrom(r, names)}
		}
		return authz.ResourceRef{ResourceType: pickFrom(r, names)}
	}
	var q tenantQuestions
	actions := []string{"read", "write", "list"}
	ctxs := []map[string]any{nil, {"hour": 9}, {"hour": 20}}
	for range 150 {
		rf := ref()
		q.evals = append(q.evals, authz.EvaluateInput{Actor: authz.SubjectRef{SubjectID: pickFrom(r, bt.Subjects).ID}, ScopeID: pickFrom(r, scopes),
			Action: pickFrom(r, actions), Resource: &rf, Context: pickFrom(r, ctxs)})
	}
	for range 20 {
		q.subjects = append(q.subjects, authz.LookupSubjectsInput{ScopeID: pickFrom(r, scopes), Action: pickFrom(r, actions), Resource: ref(), Context: pickFrom(r, ctxs)})
		q.res = append(q.res, authz.LookupResourcesInput{Actor: authz.SubjectRef{SubjectID: pickFrom(r, bt.Subjects).ID}, ScopeID: pickFrom(r, scopes),
			Action: pickFrom(r, actions), ResourceType: pickFrom(r, names), Context: pickFrom(r, ctxs)})
	}
	return q
}

// answers asks every question of q, recording each answer or error as text.
func (q tenantQuestions) answers(c *authz.Client) []string {
	var out []string
	for _, in := range q.evals {
		d, err := c.Evaluate(ctx, in)
		req, _ := json.Marshal(in)
		out = append(out, fmt.Sprintf("evaluate %s: %v %s %s %q %v", req, d.Allowed, d.DecidedBy, d.PolicyID, d.Explanation, err))
	}
	for _, in := range q.subjects {
		p, err := c.ListAllowedSubjects(ctx, in)
		req, _ := json.Marshal(in)
		out = append(out, fmt.Sprintf("subjects %s: %v %v", req, p.Subjects, err))
	}
	for _, in := range q.res {
		p, err := c.ListAllowedResources(ctx, in)
		req, _ := json.Marshal(in)
		out = append(out, fmt.Sprintf("resources %s: %v %v", req, p.Resources, err))
	}
	return out
}

// TestInvariantTenantIsolation changes tenant O0 one object at a time —
// deletes, and additions whose names collide with those of tenant O1 (type
// ids equal to keys, resources with O1's external ids, permissions of O1's
// keys, memberships of O1's subjects, policies, collections, links inside
// O0) — and requires every decision and lookup asked in O1 to stay the
// same, answers and errors alike. Objects of O0 shared into O1 are left
// alone: their owner's policies decide for them in O1 on purpose.
func TestInvariantTenantIsolation(t *testing.T) {
	t.Parallel()
	eachInvariantBackend(t, func(t *testing.T, models *modelRun) {
		checked := 0
		for m := range models.n {
			c, bt := models.load(t, m)
			o := &oracle{bt: bt}
			if o.scope("O1") == nil || o.scope("O0") == nil {
				continue
			}
			r := rand.New(rand.NewPCG(uint64(m), 11))
			q := tenantQuestionsIn(r, bt, o, "O1")
			before := q.answers(c)
			// What O0 shares with the rest of the store is not to be touched.
			linkedOut := func(res authz.ResourceInput) bool {
				return slices.ContainsFunc(bt.ResourceScopeLinks, func(l authz.ResourceScopeLinkInput) bool {
					return l.ResourceID == res.ID && !inTenant(o, l.ScopeID, "O0")
				})
			}
			typeLinkedOut := func(typeID string) bool {
				return slices.ContainsFunc(bt.Resources, func(res authz.ResourceInput) bool { return res.ResourceTypeID == typeID && linkedOut(res) })
			}
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
				shared := p.Target.Kind == authz.TargetResource && linkedOut(o.resource(p.Target.ResourceID))
				for _, col := range bt.Collections {
					shared = shared || col.ID == p.Target.CollectionID && typeLinkedOut(col.ResourceTypeID)
				}
				if inTenant(o, p.ScopeID, "O0") && !shared {
					changes = append(changes, func() error { return c.DeleteResourcePolicy(ctx, p.ID) })
				}
			}
			for _, res := range bt.Resources {
				if inTenant(o, res.ScopeID, "O0") && !linkedOut(res) {
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
			changes = append(changes, collidingAdditions(c, bt, o, "O0")...)
			for i, change := range changes {
				if err := change(); err != nil {
					continue // already gone with an earlier cascade, a duplicate, or refused
				}
				after := q.answers(c)
				if diff := cmp.Diff(before, after); diff != "" {
					t.Fatalf("model %d, change %d in tenant O0 changed answers in tenant O1 (-before +after):\n%s", m, i, diff)
				}
				checked++
			}
		}
		if checked == 0 {
			t.Fatal("no change was checked: the models have no second tenant")
		}
		t.Logf("%d changes in one tenant checked against the other's decisions and lookups", checked)
	})
}

// collidingAdditions returns writes that add objects to tenant whose names
// collide with every other tenant's: types whose ids are keys and whose
// keys are everyone's, resources with the external ids everyone uses,
// permissions of those keys granted to every subject through a membership
// in the tenant, policies and collections on the new resources, links
// inside the tenant.
func collidingAdditions(c *authz.Client, bt authz.Batch, o *oracle, tenant string) []func() error {
	var out []func() error
	add := func(b authz.Batch) { out = append(out, func() error { _, err := c.Apply(ctx, b); return err }) }
	var inside []string
	for _, sc := range bt.Scopes {
		if inTenant(o, sc.ID, tenant) {
			inside = append(inside, sc.ID)
		}
	}
	keys := append(slices.Clone(typeKeys), "zzz")
	for i, id := range append(slices.Clone(typeKeys), "document") {
		key := keys[(i+1)%len(keys)]
		typ := authz.ResourceTypeInput{ID: id, ScopeID: tenant, Key: key, Name: key}
		if i%2 == 1 {
			typ.ID = tenant + ".new." + key // a type keyed like everyone's
		}
		add(authz.Batch{ResourceTypes: []authz.ResourceTypeInput{typ}})
		for j, ext := range oracleExternalIDs {
			resID := fmt.Sprintf("%s.new.res%d.%d", tenant, i, j)
			add(authz.Batch{
				Resources: []authz.ResourceInput{{ID: resID, ResourceTypeID: typ.ID, ScopeID: inside[j%len(inside)], ExternalResourceID: ext}},
				ResourcePolicies: []authz.ResourcePolicyInput{{ScopeID: tenant, Name: "all", Effect: authz.EffectAllow, Actions: []string{"*"},
					Target: authz.PolicyTarget{Kind: authz.TargetResource, ResourceID: resID}}},
			})
			add(authz.Batch{ResourceScopeLinks: []authz.ResourceScopeLinkInput{{ResourceID: resID, ScopeID: inside[(j+1)%len(inside)], LinkType: authz.LinkShare}}})
		}
		// A type of the tenant's own (when the id was taken) whose
		// resources are shared out: its owner's policies decide there on
		// purpose.
		sharedOut := slices.ContainsFunc(bt.Resources, func(res authz.ResourceInput) bool {
			return res.ResourceTypeID == typ.ID && slices.ContainsFunc(bt.ResourceScopeLinks, func(l authz.ResourceScopeLinkInput) bool {
				return l.ResourceID == res.ID && !inTenant(o, l.ScopeID, tenant)
			})
		})
		if !sharedOut {
			add(authz.Batch{
				Collections: []authz.CollectionInput{{ID: typ.ID + ".all", ScopeID: tenant, ResourceTypeID: typ.ID, Name: "all", MatchDefinition: json.RawMessage(`{}`)}},
				ResourcePolicies: []authz.ResourcePolicyInput{{ScopeID: tenant, Name: "all", Effect: authz.EffectAllow, Actions: []string{"*"},
					Target: authz.PolicyTarget{Kind: authz.TargetCollection, CollectionID: typ.ID + ".all"}}},
			})
		}
		for _, action := range []string{"read", "write", "list"} {
			role := fmt.Sprintf("%s.new.role.%s.%s", tenant, key, action)
			b := authz.Batch{
				Roles:           []authz.RoleInput{{ID: role, ScopeID: tenant, Name: role}},
				Permissions:     []authz.PermissionInput{{ID: role + ".p", ScopeID: tenant, Action: action, ResourceType: key}},
				RolePermissions: []authz.RolePermissionInput{{RoleID: role, PermissionID: role + ".p"}},
			}
			for _, sub := range bt.Subjects {
				b.Memberships = append(b.Memberships, authz.MembershipInput{SubjectID: sub.ID, ScopeID: pickFrom(rand.New(rand.NewPCG(uint64(len(role)), 1)), inside), RoleIDs: []string{role}})
			}
			add(b)
		}
	}
	return out
}

// TestInvariantRemovalNeverGrants removes memberships, role assignments and
// role-permissions one at a time and adds disabled overrides: no denial may
// become an allow.
func TestInvariantRemovalNeverGrants(t *testing.T) {
	t.Parallel()
	eachInvariantBackend(t, func(t *testing.T, models *modelRun) {
		checked := 0
		for m := range models.n {
			c, bt := models.load(t, m)
			reqs := allRequests(bt)
			var changes []func() error
			for _, mb := range bt.Memberships {
				changes = append(changes, func() error { return c.DeleteMembership(ctx, mb.ID) })
			}
			for _, rp := range bt.RolePermissions {
				changes = append(changes, func() error { return c.DeleteRolePermission(ctx, rp.ID) })
			}
			for _, ra := range must(c.ListRoleAssignments(ctx, authz.RoleAssignmentFilter{RoleID: firstRole(bt)}))(t) {
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
	})
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
	t.Parallel()
	for m := range invariantModels(t) {
		mem, bt := newRandomModel(t, m)
		bolt := must(authz.New(backends[1].open(t), testOptions()))(t)
		if _, err := bolt.Apply(ctx, bt); err != nil {
			t.Fatalf("model %d: the batch memstore accepted is refused by boltstore: %v", m, err)
		}
		reqs := allRequests(bt)
		want := decideAll(t, mem, reqs)
		if diff := cmp.Diff(want, decideAll(t, bolt, reqs)); diff != "" {
			t.Fatalf("model %d: memstore and boltstore decide differently (-memstore +boltstore):\n%s", m, diff)
		}
		if m >= envCount(t, "AUTHZ_PG_INVARIANT_MODELS", 15) {
			continue
		}
		t.Run(fmt.Sprintf("pgstore/model%d", m), func(t *testing.T) {
			store := authztest.Pgstore(t)
			defer store.Close() // now: a pgstore holds connections
			pg := must(authz.New(store, testOptions()))(t)
			if _, err := pg.Apply(ctx, bt); err != nil {
				t.Fatalf("model %d: the batch memstore accepted is refused by pgstore: %v", m, err)
			}
			if diff := cmp.Diff(want, decideAll(t, pg, reqs)); diff != "" {
				t.Fatalf("model %d: memstore and pgstore decide differently (-memstore +pgstore):\n%s", m, diff)
			}
		})
	}
}

// TestInvariantSharingKeepsOwnerPolicies links resources of random models
// into random scopes of any tenant (share, alias and mirror) and requires
// that sharing never lets a request escape a policy of the resource's
// owner: whenever a policy defined above the owning scope decides a request
// asked at the owning scope, the same policy decides the same request asked
// anywhere the resource is reachable from, through its links too.
func TestInvariantSharingKeepsOwnerPolicies(t *testing.T) {
	t.Parallel()
	eachInvariantBackend(t, func(t *testing.T, models *modelRun) {
		checked, throughLinks := 0, 0
		for m := range models.n {
			c, bt := models.load(t, m)
			if len(bt.Resources) == 0 {
				continue
			}
			r := rand.New(rand.NewPCG(uint64(m), 13))
			var links authz.Batch
			for k := range 2 + r.IntN(4) {
				links.ResourceScopeLinks = append(links.ResourceScopeLinks, authz.ResourceScopeLinkInput{ID: fmt.Sprintf("share%d", k),
					ResourceID: pickFrom(r, bt.Resources).ID, ScopeID: pickFrom(r, bt.Scopes).ID,
					LinkType: pickFrom(r, []authz.LinkType{authz.LinkShare, authz.LinkAlias, authz.LinkMirror})})
			}
			links = applyPruned(t, c, links)
			bt.ResourceScopeLinks = append(bt.ResourceScopeLinks, links.ResourceScopeLinks...)
			o := &oracle{bt: bt, readActions: map[string]bool{"read": true, "list": true, "view": true}}
			policyScope := map[string]string{}
			for _, p := range bt.ResourcePolicies {
				policyScope[p.ID] = p.ScopeID
			}
			for _, res := range bt.Resources {
				owners := o.ancestors(res.ScopeID)
				for _, sub := range bt.Subjects {
					for _, action := range []string{"read", "write", "list"} {
						for _, cx := range []map[string]any{{"hour": 9}, {"hour": 20}} {
							in := authz.EvaluateInput{Actor: authz.SubjectRef{SubjectID: sub.ID}, ScopeID: res.ScopeID, Action: action,
								Resource: &authz.ResourceRef{ResourceID: res.ID}, Context: cx}
							atOwner := must(c.Evaluate(ctx, in))(t)
							if atOwner.DecidedBy != authz.DecidedByPolicy || !slices.Contains(owners, policyScope[atOwner.PolicyID]) {
								continue
							}
							for _, sc := range bt.Scopes {
								if len(o.lines(res, sc.ID, action)) == 0 {
									continue
								}
								in.ScopeID = sc.ID
								d := must(c.Evaluate(ctx, in))(t)
								if d.Allowed != atOwner.Allowed || d.PolicyID != atOwner.PolicyID {
									t.Fatalf("model %d: %s %s %s asked at %s: got allowed=%v by %s %s (%s); at the owning scope %s the owner's policy %s decides allowed=%v",
										m, sub.ID, action, res.ID, sc.ID, d.Allowed, d.DecidedBy, d.PolicyID, d.Explanation, res.ScopeID, atOwner.PolicyID, atOwner.Allowed)
								}
								checked++
								if !slices.Contains(o.chain(sc.ID), res.ScopeID) && !slices.Contains(o.chain(res.ScopeID), sc.ID) {
									throughLinks++
								}
							}
						}
					}
				}
			}
		}
		if throughLinks < checked/20 {
			t.Fatalf("%d of %d requests were reachable only through a link; want at least 5%%: the test no longer exercises sharing", throughLinks, checked)
		}
		t.Logf("%d requests decided by an owner's policy checked, %d of them reachable only through a link", checked, throughLinks)
	})
}
