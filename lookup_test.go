package authz_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/scopegate/authz"
)

// TestListEffectivePermissions checks the listing against Evaluate on the
// random models of the oracle: for every subject, scope, action and type
// key, a type-level request is allowed when the listing has an
// unconditional "*" grant for them, and only when it has some "*" grant.
func TestListEffectivePermissions(t *testing.T) {
	t.Parallel()
	checked := 0
	for m := range 80 {
		r := rand.New(rand.NewPCG(uint64(m), 777))
		c := must(authz.New(backends[m%2].open(t), testOptions()))(t)
		bt := applyPruned(t, c, randomModel(r))
		for _, sub := range bt.Subjects {
			for _, sc := range bt.Scopes {
				eps := must(c.ListEffectivePermissions(ctx, sub.ID, sc.ID))(t)
				for _, action := range []string{"read", "write", "list"} {
					for _, key := range []string{"doc", "folder"} {
						var some, unconditional bool
						for _, ep := range eps {
							p := ep.Permission
							if p.Action == action && p.ResourceType == key && p.ResourcePattern == "*" {
								some = true
								unconditional = unconditional || ep.Unconditional()
							}
						}
						d := must(c.Evaluate(ctx, authz.EvaluateInput{Actor: authz.SubjectRef{SubjectID: sub.ID}, ScopeID: sc.ID, Action: action,
							Resource: &authz.ResourceRef{ResourceType: key}}))(t)
						if unconditional && !d.Allowed || d.Allowed && !some {
							t.Fatalf("model %d: %s in %s, %s on %s: listing has a grant: %v (unconditional: %v); Evaluate says allowed=%v (%s)\nlisting: %+v",
								m, sub.ID, sc.ID, action, key, some, unconditional, d.Allowed, d.Explanation, eps)
						}
						checked++
					}
				}
			}
		}
	}
	t.Logf("%d (subject, scope, action, type) compared with Evaluate", checked)
}

func TestListEffectivePermissionsErrors(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		evalModel(t, c)
		_, err := c.ListEffectivePermissions(ctx, "nobody", "acme")
		wantErr(t, err, authz.ErrNotFound)
		_, err = c.ListEffectivePermissions(ctx, "alice", "nowhere")
		wantErr(t, err, authz.ErrNotFound)
		grant(t, c, "alice", "acme", "viewer", "editor")
		must(c.CreateScopeOverride(ctx, authz.ScopeOverrideInput{ChildScopeID: "api", Kind: authz.OverrideRole, RoleID: "editor", State: authz.OverrideDisabled}))(t)
		var got []string
		for _, ep := range must(c.ListEffectivePermissions(ctx, "alice", "api"))(t) {
			for _, g := range ep.Grants {
				got = append(got, ep.Permission.ID+" via "+g.RoleID)
			}
		}
		want := []string{"p_folder_read via viewer", "p_read via viewer"}
		if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
			t.Errorf("alice in api, editor disabled there: got %v; want %v", got, want)
		}
	})
}

// TestLookupsEqualBruteForce checks ListAllowedSubjects and
// ListAllowedResources against Evaluate run on every subject, or every
// resource of the type, on the random models of the oracle, on both
// backends. Pages of random sizes are followed to the end; their
// concatenation must be the brute-force answer, in id order.
func TestLookupsEqualBruteForce(t *testing.T) {
	t.Parallel()
	models := envCount(t, "AUTHZ_LOOKUP_MODELS", 150)
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			stats := map[string]int{}
			for m := range models {
				r := rand.New(rand.NewPCG(uint64(m), 4242))
				store := be.open(t)
				c := must(authz.New(store, testOptions()))(t)
				bt := applyPruned(t, c, randomModel(r))
				if len(bt.Resources) == 0 {
					continue
				}
				if m%2 == 1 {
					// A new Client builds its graph from the whole store;
					// the first one updated its graph with the batch.
					c = must(authz.New(store, testOptions()))(t)
				}
				report := func(what string, in any, diff string) {
					model, _ := json.Marshal(bt)
					req, _ := json.Marshal(in)
					t.Fatalf("model %d: %s differs from brute force (-want +got):\n%s\nmodel (one Apply batch):\n%s\nrequest:\n%s", m, what, diff, model, req)
				}
				// allowed is brute force: the ids, sorted, whose request
				// Evaluate allows, counted by deciding step in stats.
				allowed := func(what string, ids []string, ask func(id string) authz.EvaluateInput) []string {
					var out []string
					for _, id := range ids {
						if d := must(c.Evaluate(ctx, ask(id)))(t); d.Allowed {
							out = append(out, id)
							stats[what+" allowed by "+string(d.DecidedBy)]++
						}
					}
					slices.Sort(out)
					return out
				}
				for range 20 {
					q := randomRequest(r, bt)
					sin := authz.LookupSubjectsInput{ScopeID: q.scope, Action: q.action, Resource: authz.ResourceRef{ResourceID: q.resource},
						Context: q.context, Page: authz.Page{Limit: r.IntN(4)}}
					if q.ref != nil && q.ref.ExternalResourceID == "" && q.ref.ResourceID == "" {
						sin.Resource = *q.ref // a type-level request
					} else if q.ref != nil {
						o := &oracle{bt: bt, readActions: map[string]bool{"read": true, "list": true, "view": true}}
						if _, _, _, err := o.resolve(q); err != nil {
							continue // Evaluate refuses it too
						}
						sin.Resource = *q.ref
					}
					if r.IntN(4) == 0 {
						sin.SubjectType = pickFrom(r, []authz.SubjectType{authz.SubjectUser, authz.SubjectAgent})
					}
					var subjects []string
					for _, s := range bt.Subjects {
						if sin.SubjectType == "" || s.SubjectType == sin.SubjectType {
							subjects = append(subjects, s.ID)
						}
					}
					want := allowed("subject", subjects, func(id string) authz.EvaluateInput {
						return authz.EvaluateInput{Actor: authz.SubjectRef{SubjectID: id}, ScopeID: sin.ScopeID, Action: sin.Action, Resource: &sin.Resource, Context: sin.Context}
					})
					if diff := cmp.Diff(want, lookupSubjects(t, c, sin)); diff != "" {
						report("ListAllowedSubjects", sin, diff)
					}
					stats["subject lookups"]++

					rin := authz.LookupResourcesInput{Actor: authz.SubjectRef{SubjectID: q.subject}, ScopeID: q.scope, Action: q.action,
						ResourceType: pickFrom(r, typeKeys), Context: q.context, Page: authz.Page{Limit: r.IntN(4)}}
					if q.onBehalfOf != "" {
						rin.OnBehalfOf = &authz.SubjectRef{SubjectID: q.onBehalfOf}
					}
					if r.IntN(3) == 0 {
						rin.ResourceType = pickFrom(r, bt.ResourceTypes).ID
					}
					resources, ok := lookupCandidates(bt, rin.ScopeID, rin.ResourceType)
					if !ok {
						_, err := c.ListAllowedResources(ctx, rin)
						if !errors.Is(err, authz.ErrNotFound) {
							report("ListAllowedResources of a type not visible from the scope", rin, fmt.Sprintf("got error %v; want ErrNotFound", err))
						}
						stats["resource lookups of an invisible type"]++
						continue
					}
					want = allowed("resource", resources, func(id string) authz.EvaluateInput {
						return authz.EvaluateInput{Actor: rin.Actor, OnBehalfOf: rin.OnBehalfOf, ScopeID: rin.ScopeID, Action: rin.Action,
							Resource: &authz.ResourceRef{ResourceID: id}, Context: rin.Context}
					})
					if diff := cmp.Diff(want, lookupResources(t, c, rin)); diff != "" {
						report("ListAllowedResources", rin, diff)
					}
					stats["resource lookups"]++
				}
			}
			t.Logf("%v", stats)
			// The models must reach every way of being allowed, or agreement
			// proves little.
			for _, what := range []string{"subject", "resource"} {
				for _, by := range []authz.DecidedBy{authz.DecidedByPolicy, authz.DecidedByHierarchy, authz.DecidedByRole} {
					if n := stats[what+" allowed by "+string(by)]; n < models/10 {
						t.Errorf("%s allowed by %s: got %d; want at least %d: the models no longer exercise it", what, by, n, models/10)
					}
				}
			}
		})
	}
}

// lookupCandidates returns the resources ListAllowedResources considers for
// a type name asked in scope: those whose type has key name when a type
// visible from scope has that key, else those of the visible type whose id
// is name; ok is false when no visible type has that key or id.
func lookupCandidates(bt authz.Batch, scope, name string) (ids []string, ok bool) {
	o := &oracle{bt: bt}
	types, byKey := o.visibleTypes(scope, name)
	if len(types) == 0 {
		return nil, false
	}
	for _, res := range bt.Resources {
		if byKey && o.typeKey(res.ResourceTypeID) == name || !byKey && res.ResourceTypeID == types[0].ID {
			ids = append(ids, res.ID)
		}
	}
	return ids, true
}

// lookupSubjects follows the pages of a subject lookup to the end and
// returns the ids, checking each page's size and order.
func lookupSubjects(t *testing.T, c *authz.Client, in authz.LookupSubjectsInput) []string {
	t.Helper()
	return followPages(t, in.Limit, func(after string) ([]string, string) {
		in.After = after
		p := must(c.ListAllowedSubjects(ctx, in))(t)
		var ids []string
		for _, s := range p.Subjects {
			ids = append(ids, s.SubjectID)
		}
		return ids, p.Next
	})
}

// lookupResources is lookupSubjects for resources.
func lookupResources(t *testing.T, c *authz.Client, in authz.LookupResourcesInput) []string {
	t.Helper()
	return followPages(t, in.Limit, func(after string) ([]string, string) {
		in.After = after
		p := must(c.ListAllowedResources(ctx, in))(t)
		var ids []string
		for _, r := range p.Resources {
			ids = append(ids, r.ResourceID)
		}
		return ids, p.Next
	})
}

func followPages(t *testing.T, limit int, page func(after string) ([]string, string)) []string {
	t.Helper()
	var all []string
	after := ""
	for range 1000 {
		ids, next := page(after)
		if limit > 0 && len(ids) > limit {
			t.Fatalf("page after %q: got %d ids; want at most %d", after, len(ids), limit)
		}
		if next != "" && (len(ids) == 0 || next != ids[len(ids)-1]) {
			t.Fatalf("page after %q: next is %q; want the last id of the page %v", after, next, ids)
		}
		all = append(all, ids...)
		if next == "" {
			if !slices.IsSorted(all) {
				t.Fatalf("got ids out of order: %v", all)
			}
			return all
		}
		after = next
	}
	t.Fatal("pages never end")
	return nil
}

func TestListAllowedSubjects(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		evalModel(t, c)
		grant(t, c, "alice", "acme", "viewer")
		grant(t, c, "bob", "api", "editor")
		must(c.CreateCollections(ctx, []authz.CollectionInput{{ID: "c_finance", ScopeID: "acme", ResourceTypeID: "rt_doc", Name: "internal, for finance",
			MatchDefinition: json.RawMessage(`{"fields":{"classification":"internal"},"condition":{"==":[{"var":"subject.meta.department"},"finance"]}}`)}}))(t)
		must(c.CreateResourcePolicies(ctx, []authz.ResourcePolicyInput{
			{ID: "pol_share", ScopeID: "acme", Name: "share internal", Effect: authz.EffectAllow, Actions: []string{"share"},
				Target: authz.PolicyTarget{Kind: authz.TargetCollection, CollectionID: "c_finance"}},
			{ID: "pol_archive", ScopeID: "acme", Name: "anyone archives", Effect: authz.EffectAllow, Actions: []string{"archive"},
				Target: authz.PolicyTarget{Kind: authz.TargetResource, ResourceID: "doc_api"}},
			{ID: "pol_purge", ScopeID: "acme", Name: "anyone purges", Effect: authz.EffectAllow, Actions: []string{"purge"},
				Target: authz.PolicyTarget{Kind: authz.TargetResource, ResourceID: "doc_api"}},
			{ID: "pol_no_finance", ScopeID: "acme", Name: "finance does not purge", Effect: authz.EffectDeny, Actions: []string{"purge"}, Priority: 1,
				SubjectCondition: json.RawMessage(`{"==":[{"var":"subject.meta.department"},"finance"]}`),
				Target:           authz.PolicyTarget{Kind: authz.TargetResource, ResourceID: "doc_api"}},
		}))(t)
		ids := func(in authz.LookupSubjectsInput) ([]string, string) {
			t.Helper()
			p := must(c.ListAllowedSubjects(ctx, in))(t)
			var out []string
			for _, s := range p.Subjects {
				out = append(out, s.SubjectID)
			}
			return out, p.Next
		}
		for _, tc := range []struct {
			name string
			in   authz.LookupSubjectsInput
			want []string
			next string
		}{
			{"roles", authz.LookupSubjectsInput{ScopeID: "api", Action: "read", Resource: authz.ResourceRef{ResourceID: "doc_api"}}, []string{"alice", "bob"}, ""},
			{"role below the request scope", authz.LookupSubjectsInput{ScopeID: "acme", Action: "read", Resource: authz.ResourceRef{ResourceID: "doc_api"}}, []string{"alice"}, ""},
			{"type level", authz.LookupSubjectsInput{ScopeID: "api", Action: "write", Resource: authz.ResourceRef{ResourceType: "document"}}, []string{"bob"}, ""},
			{"collection whose definition reads the subject", authz.LookupSubjectsInput{ScopeID: "api", Action: "share", Resource: authz.ResourceRef{ResourceID: "doc_api"}}, []string{"alice"}, ""},
			{"unconditional policy", authz.LookupSubjectsInput{ScopeID: "api", Action: "archive", Resource: authz.ResourceRef{ResourceID: "doc_api"}}, []string{"alice", "bob", "bot", "carol", "mallory"}, ""},
			{"unconditional policy, first page", authz.LookupSubjectsInput{ScopeID: "api", Action: "archive", Resource: authz.ResourceRef{ResourceID: "doc_api"}, Page: authz.Page{Limit: 2}}, []string{"alice", "bob"}, "bob"},
			{"unconditional policy, last page", authz.LookupSubjectsInput{ScopeID: "api", Action: "archive", Resource: authz.ResourceRef{ResourceID: "doc_api"}, Page: authz.Page{Limit: 2, After: "carol"}}, []string{"mallory"}, ""},
			{"unconditional policy, agents", authz.LookupSubjectsInput{ScopeID: "api", Action: "archive", Resource: authz.ResourceRef{ResourceID: "doc_api"}, SubjectType: authz.SubjectAgent}, []string{"bot"}, ""},
			{"conditional deny above an allow", authz.LookupSubjectsInput{ScopeID: "api", Action: "purge", Resource: authz.ResourceRef{ResourceID: "doc_api"}}, []string{"bob", "bot", "carol", "mallory"}, ""},
			{"another tenant", authz.LookupSubjectsInput{ScopeID: "globex", Action: "archive", Resource: authz.ResourceRef{ResourceID: "doc_api"}}, nil, ""},
		} {
			got, next := ids(tc.in)
			if diff := cmp.Diff(tc.want, got); diff != "" || next != tc.next {
				t.Errorf("%s: subjects (-want +got):\n%s\nnext: got %q; want %q", tc.name, diff, next, tc.next)
			}
		}
		for _, tc := range []struct {
			in   authz.LookupSubjectsInput
			want error
		}{
			{authz.LookupSubjectsInput{Action: "read", Resource: authz.ResourceRef{ResourceID: "doc_api"}}, authz.ErrInvalid},
			{authz.LookupSubjectsInput{ScopeID: "api", Action: "read"}, authz.ErrInvalid},
			{authz.LookupSubjectsInput{ScopeID: "api", Action: "read", Resource: authz.ResourceRef{ResourceID: "doc_api"}, Page: authz.Page{Limit: -1}}, authz.ErrInvalid},
			{authz.LookupSubjectsInput{ScopeID: "api", Action: "read", Resource: authz.ResourceRef{ResourceID: "doc_api"}, SubjectType: "robot"}, authz.ErrInvalid},
			{authz.LookupSubjectsInput{ScopeID: "nowhere", Action: "read", Resource: authz.ResourceRef{ResourceID: "doc_api"}}, authz.ErrNotFound},
			{authz.LookupSubjectsInput{ScopeID: "api", Action: "read", Resource: authz.ResourceRef{ResourceID: "nothing"}}, authz.ErrNotFound},
		} {
			p, err := c.ListAllowedSubjects(ctx, tc.in)
			wantErr(t, err, tc.want)
			if p.Subjects == nil || len(p.Subjects) > 0 {
				t.Errorf("%+v: got subjects %v with the error; want an empty list", tc.in, p.Subjects)
			}
		}
	})
}

func TestListAllowedResources(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		evalModel(t, c)
		grant(t, c, "alice", "acme", "viewer")
		grant(t, c, "bob", "api", "editor")
		must(c.CreateResourceScopeLinks(ctx, []authz.ResourceScopeLinkInput{{ResourceID: "doc_sales", ScopeID: "backend", LinkType: authz.LinkMirror}}))(t)
		ids := func(in authz.LookupResourcesInput) ([]string, string) {
			t.Helper()
			p := must(c.ListAllowedResources(ctx, in))(t)
			var out []string
			for _, r := range p.Resources {
				out = append(out, r.ResourceID)
			}
			return out, p.Next
		}
		alice, bob := authz.SubjectRef{SubjectID: "alice"}, authz.SubjectRef{SubjectID: "bob"}
		for _, tc := range []struct {
			name string
			in   authz.LookupResourcesInput
			want []string
			next string
		}{
			{"tenant", authz.LookupResourcesInput{Actor: alice, ScopeID: "acme", Action: "read", ResourceType: "document"}, []string{"doc_acme", "doc_api", "doc_sales"}, ""},
			{"by type id", authz.LookupResourcesInput{Actor: alice, ScopeID: "acme", Action: "read", ResourceType: "rt_doc"}, []string{"doc_acme", "doc_api", "doc_sales"}, ""},
			{"first page", authz.LookupResourcesInput{Actor: alice, ScopeID: "acme", Action: "read", ResourceType: "document", Page: authz.Page{Limit: 2}}, []string{"doc_acme", "doc_api"}, "doc_api"},
			{"next page", authz.LookupResourcesInput{Actor: alice, ScopeID: "acme", Action: "read", ResourceType: "document", Page: authz.Page{Limit: 2, After: "doc_api"}}, []string{"doc_sales"}, ""},
			{"project: its chain, and a mirror link for reads", authz.LookupResourcesInput{Actor: alice, ScopeID: "api", Action: "read", ResourceType: "document"}, []string{"doc_acme", "doc_api", "doc_sales"}, ""},
			{"project: no mirror for writes", authz.LookupResourcesInput{Actor: bob, ScopeID: "api", Action: "write", ResourceType: "document"}, []string{"doc_api"}, ""},
			{"delegation", authz.LookupResourcesInput{Actor: bob, OnBehalfOf: &alice, ScopeID: "api", Action: "read", ResourceType: "document"}, []string{"doc_api"}, ""},
			{"no role", authz.LookupResourcesInput{Actor: authz.SubjectRef{SubjectID: "mallory"}, ScopeID: "acme", Action: "read", ResourceType: "document"}, nil, ""},
		} {
			got, next := ids(tc.in)
			if diff := cmp.Diff(tc.want, got); diff != "" || next != tc.next {
				t.Errorf("%s: resources (-want +got):\n%s\nnext: got %q; want %q", tc.name, diff, next, tc.next)
			}
		}
		for _, tc := range []struct {
			in   authz.LookupResourcesInput
			want error
		}{
			{authz.LookupResourcesInput{Actor: alice, ScopeID: "acme", Action: "read"}, authz.ErrInvalid},
			{authz.LookupResourcesInput{Actor: alice, ScopeID: "acme", ResourceType: "document"}, authz.ErrInvalid},
			{authz.LookupResourcesInput{ScopeID: "acme", Action: "read", ResourceType: "document"}, authz.ErrInvalid},
			{authz.LookupResourcesInput{Actor: alice, ScopeID: "acme", Action: "read", ResourceType: "document", Page: authz.Page{Limit: -5}}, authz.ErrInvalid},
			{authz.LookupResourcesInput{Actor: alice, ScopeID: "acme", Action: "read", ResourceType: "spreadsheet"}, authz.ErrNotFound},
			{authz.LookupResourcesInput{Actor: authz.SubjectRef{SubjectID: "nobody"}, ScopeID: "acme", Action: "read", ResourceType: "document"}, authz.ErrNotFound},
			{authz.LookupResourcesInput{Actor: alice, ScopeID: "nowhere", Action: "read", ResourceType: "document"}, authz.ErrNotFound},
		} {
			p, err := c.ListAllowedResources(ctx, tc.in)
			wantErr(t, err, tc.want)
			if p.Resources == nil || len(p.Resources) > 0 {
				t.Errorf("%+v: got resources %v with the error; want an empty list", tc.in, p.Resources)
			}
		}
	})
}
