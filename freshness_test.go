package authz_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/scopegate/authz"
	"github.com/scopegate/authz/internal/authztest"
	"github.com/scopegate/authz/storage"
)

// freshnessRequests asks every combination of subjects, scopes, actions and
// resources of benchModel, with traces, so that any difference in the graph
// shows in a decision.
func freshnessRequests() []authz.EvaluateInput {
	var out []authz.EvaluateInput
	for _, sub := range []string{"alice", "bob", "carol", "mallory", "bot", "dave"} {
		for _, scope := range []string{"acme", "eng", "api", "sales", "globex"} {
			for _, action := range []string{"read", "write", "approve", "share", "edit", "delete"} {
				for _, res := range []string{"doc_acme", "doc_api", "doc_sales", "doc_globex", "f1", "d4", "doc_new"} {
					out = append(out, authz.EvaluateInput{Actor: authz.SubjectRef{SubjectID: sub}, ScopeID: scope, Action: action,
						Resource: &authz.ResourceRef{ResourceID: res}, Context: map[string]any{"hour": 9}, Explain: true})
					// The same without context or trace: a request the
					// decision cache remembers.
					out = append(out, authz.EvaluateInput{Actor: authz.SubjectRef{SubjectID: sub}, ScopeID: scope, Action: action,
						Resource: &authz.ResourceRef{ResourceID: res}})
				}
				out = append(out, authz.EvaluateInput{Actor: authz.SubjectRef{SubjectID: sub}, ScopeID: scope, Action: action,
					Resource: &authz.ResourceRef{ResourceType: "document"}, Explain: true})
			}
		}
	}
	return out
}

// decisions answers every request, errors included, as comparable text.
func decisions(t *testing.T, c *authz.Client, in []authz.EvaluateInput) []string {
	t.Helper()
	out := make([]string, len(in))
	for i, q := range in {
		d, err := c.Evaluate(ctx, q)
		out[i] = fmt.Sprintf("%s %s %s %s: allowed=%v by=%s policy=%s inherited=%s matches=%v err=%v\n  %s\n  %s",
			q.Actor.SubjectID, q.ScopeID, q.Action, q.Resource.ResourceID+q.Resource.ResourceType, d.Allowed, d.DecidedBy, d.PolicyID, d.InheritedFrom, d.Matches, err,
			d.Explanation, strings.Join(d.Trace, "\n  "))
	}
	return out
}

// lookupAnswers runs lookups of every kind over benchModel, as comparable
// text: the resources of each type every subject may act on from every
// scope, and the subjects who may act on every resource.
func lookupAnswers(t *testing.T, c *authz.Client) []string {
	t.Helper()
	var out []string
	scopes := []string{"acme", "eng", "api", "sales", "globex"}
	actions := []string{"read", "write", "share", "edit"}
	for _, scope := range scopes {
		for _, action := range actions {
			for _, sub := range []string{"alice", "bob", "carol", "mallory", "dave"} {
				for _, typ := range []string{"document", "folder"} {
					p, err := c.ListAllowedResources(ctx, authz.LookupResourcesInput{Actor: authz.SubjectRef{SubjectID: sub}, ScopeID: scope, Action: action,
						ResourceType: typ, Context: map[string]any{"hour": 9}})
					out = append(out, fmt.Sprintf("%s %s %s %s: %v err=%v", sub, scope, action, typ, p.Resources, err))
				}
			}
			for _, res := range []string{"doc_acme", "doc_api", "doc_sales", "doc_globex", "f1", "d4", "doc_new"} {
				p, err := c.ListAllowedSubjects(ctx, authz.LookupSubjectsInput{ScopeID: scope, Action: action, Resource: authz.ResourceRef{ResourceID: res}})
				out = append(out, fmt.Sprintf("%s %s %s: %v err=%v", scope, action, res, p.Subjects, err))
			}
		}
	}
	return out
}

// TestNoStaleDecisions interleaves writes of every kind, made by two Clients
// sharing one store, with evaluations by both. After each write, both must
// decide exactly as a new Client that reads the whole store, and answer
// lookups as it does. After each write it asks every AUTHZ_FRESHNESS_STRIDE-th
// request (3 unless set; scripts/reliability.sh asks all of them), starting
// at a different one each time, so that the steps together ask them all.
func TestNoStaleDecisions(t *testing.T) {
	t.Parallel()
	stride := envCount(t, "AUTHZ_FRESHNESS_STRIDE", 3)
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			store := be.open(t)
			a := must(authz.New(store, testOptions()))(t)
			b := must(authz.New(store, nil))(t)
			benchModel(t, a)
			all := freshnessRequests()
			checks := 0
			check := func(step string) {
				t.Helper()
				var reqs []authz.EvaluateInput
				for i := checks % stride; i < len(all); i += stride {
					reqs = append(reqs, all[i])
				}
				checks++
				if err := a.Check(ctx); err != nil {
					t.Fatalf("after %s: %v", step, err)
				}
				fresh := must(authz.New(store, nil))(t)
				want := decisions(t, fresh, reqs)
				wantLookups := lookupAnswers(t, fresh)
				for name, c := range map[string]*authz.Client{"a": a, "b": b} {
					if diff := cmp.Diff(wantLookups, lookupAnswers(t, c)); diff != "" {
						t.Fatalf("after %s: client %s's lookups differ from a new client's (-want +got):\n%s", step, name, diff)
					}
					// Twice: the second time, cacheable requests are
					// answered by the decision cache.
					for round := range 2 {
						if diff := cmp.Diff(want, decisions(t, c, reqs)); diff != "" {
							t.Fatalf("after %s: client %s (round %d) differs from a new client (-want +got):\n%s", step, name, round, diff)
						}
					}
				}
			}
			check("loading the model")
			var mem, polID, edgeID, ovID, tagID string
			steps := []struct {
				name string
				by   *authz.Client
				do   func(c *authz.Client) error
			}{
				{"a membership", a, func(c *authz.Client) error {
					m, err := c.CreateMembership(ctx, authz.MembershipInput{SubjectID: "mallory", ScopeID: "eng", RoleIDs: []string{"editor"}})
					mem = m.ID
					return err
				}},
				{"a role assignment", b, func(c *authz.Client) error {
					_, err := c.CreateRoleAssignment(ctx, authz.RoleAssignmentInput{MembershipID: mem, RoleID: "approver"})
					return err
				}},
				{"a disabled role override", a, func(c *authz.Client) error {
					o, err := c.CreateScopeOverride(ctx, authz.ScopeOverrideInput{ChildScopeID: "api", Kind: authz.OverrideRole, RoleID: "editor", State: authz.OverrideDisabled})
					ovID = o.ID
					return err
				}},
				{"the override enabled again", b, func(c *authz.Client) error {
					state := authz.OverrideEnabled
					_, err := c.UpdateScopeOverride(ctx, ovID, authz.ScopeOverridePatch{State: &state})
					return err
				}},
				{"a resource moved to another scope", a, func(c *authz.Client) error {
					scope := "sales"
					_, err := c.UpdateResource(ctx, "doc_api", authz.ResourcePatch{ScopeID: &scope})
					return err
				}},
				{"a mirror link", b, func(c *authz.Client) error {
					_, err := c.CreateResourceScopeLink(ctx, authz.ResourceScopeLinkInput{ResourceID: "doc_api", ScopeID: "api", LinkType: authz.LinkMirror})
					return err
				}},
				{"a deny policy on a resource", a, func(c *authz.Client) error {
					p, err := c.CreateResourcePolicy(ctx, authz.ResourcePolicyInput{ScopeID: "acme", Name: "No reads", Effect: authz.EffectDeny,
						Target: authz.PolicyTarget{Kind: authz.TargetResource, ResourceID: "doc_acme"}, Actions: []string{"read"}, Priority: 5})
					polID = p.ID
					return err
				}},
				{"the policy turned to allow", b, func(c *authz.Client) error {
					effect := authz.EffectAllow
					_, err := c.UpdateResourcePolicy(ctx, polID, authz.ResourcePolicyPatch{Effect: &effect})
					return err
				}},
				{"the policy deleted", a, func(c *authz.Client) error { return c.DeleteResourcePolicy(ctx, polID) }},
				{"a collection's definition changed", b, func(c *authz.Client) error {
					def := json.RawMessage(`{"fields":{"classification":"public"}}`)
					_, err := c.UpdateCollection(ctx, "coll_internal", authz.CollectionPatch{MatchDefinition: &def})
					return err
				}},
				{"a cascade edge stopped", a, func(c *authz.Client) error {
					edges, err := c.ListResourceEdges(ctx, authz.ResourceEdgeFilter{ChildResourceID: "d4"})
					if err != nil {
						return err
					}
					edgeID = edges[0].ID
					none := authz.CascadeNone
					_, err = c.UpdateResourceEdge(ctx, edgeID, authz.ResourceEdgePatch{Cascade: &none})
					return err
				}},
				{"a role permission removed", b, func(c *authz.Client) error {
					rps, err := c.ListRolePermissions(ctx, authz.RolePermissionFilter{RoleID: "viewer"})
					if err != nil {
						return err
					}
					return c.DeleteRolePermission(ctx, rps[0].ID)
				}},
				{"a tag on a resource", a, func(c *authz.Client) error {
					_, err := c.Apply(ctx, authz.Batch{
						TagGroups:      []authz.TagGroupInput{{ID: "tg_env", ScopeID: "acme", Key: "env", Name: "Env"}},
						Tags:           []authz.TagInput{{ID: "tag_prod", TagGroupID: "tg_env", Identifier: "prod", Label: "Prod"}},
						TagBindings:    []authz.TagBindingInput{{TagGroupID: "tg_env", ModelType: authz.ModelResource}},
						TagAssignments: []authz.TagAssignmentInput{{TagID: "tag_prod", TargetType: authz.ModelResource, TargetID: "doc_sales", ScopeID: "acme"}},
					})
					tagID = "tag_prod"
					return err
				}},
				{"a new subject with a membership and a new resource, in one batch", b, func(c *authz.Client) error {
					_, err := c.Apply(ctx, authz.Batch{
						Scopes:    []authz.ScopeInput{{ID: "infra", TypeID: "t_team", ParentScopeID: "eng"}},
						Subjects:  []authz.SubjectInput{{ID: "dave", SubjectType: authz.SubjectUser, ExternalID: "dave"}},
						Resources: []authz.ResourceInput{{ID: "doc_new", ResourceTypeID: "rt_doc", ScopeID: "infra", ExternalResourceID: "new"}},
					})
					if err != nil {
						return err
					}
					_, err = c.CreateMembership(ctx, authz.MembershipInput{SubjectID: "dave", ScopeID: "acme", RoleIDs: []string{"viewer", "editor"}})
					return err
				}},
				{"a membership deleted", a, func(c *authz.Client) error { return c.DeleteMembership(ctx, mem) }},
				{"a resource deleted with its edges", b, func(c *authz.Client) error { return c.DeleteResource(ctx, "f3") }},
				{"a role deleted with its grants", b, func(c *authz.Client) error { return c.DeleteRole(ctx, "approver") }},
				{"a collection that matches by tag", b, func(c *authz.Client) error {
					def := json.RawMessage(`{"tags":{"env":"prod"}}`)
					_, err := c.UpdateCollection(ctx, "coll_internal", authz.CollectionPatch{MatchDefinition: &def})
					return err
				}},
				{"a tag deleted with its assignments", a, func(c *authz.Client) error { return c.DeleteTag(ctx, tagID) }},
				{"a scope deleted with what it holds", a, func(c *authz.Client) error {
					for _, id := range []string{"doc_api", "doc_sales"} {
						if err := c.DeleteResource(ctx, id); err != nil {
							return err
						}
					}
					return c.DeleteScope(ctx, "sales")
				}},
			}
			for _, s := range steps {
				if err := s.do(s.by); err != nil {
					t.Fatalf("%s: %v", s.name, err)
				}
				check(s.name)
			}
		})
	}
}

// TestGraphFollowsLongGaps makes more writes than the change log keeps
// between two evaluations, so the Client must rebuild rather than patch.
func TestGraphFollowsLongGaps(t *testing.T) {
	t.Parallel()
	store := storage.Storage(authztest.Memstore(t))
	a := must(authz.New(store, testOptions()))(t)
	benchModel(t, a)
	reqs := freshnessRequests()[:200]
	decisions(t, a, reqs)
	for i := range 300 {
		must(a.CreateSubject(ctx, authz.SubjectInput{ID: fmt.Sprintf("s%03d", i), SubjectType: authz.SubjectUser, ExternalID: fmt.Sprintf("s%03d", i)}))(t)
	}
	must(a.CreateMembership(ctx, authz.MembershipInput{SubjectID: "mallory", ScopeID: "acme", RoleIDs: []string{"editor"}}))(t)
	want := decisions(t, must(authz.New(store, nil))(t), reqs)
	if diff := cmp.Diff(want, decisions(t, a, reqs)); diff != "" {
		t.Fatalf("after 301 writes: (-want +got):\n%s", diff)
	}
}
