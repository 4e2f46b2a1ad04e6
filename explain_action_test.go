package authz_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/scopegate/authz"
)

// unnamedAction is the explanation of a denial whose action nothing
// visible names.
func unnamedAction(action string) string {
	return fmt.Sprintf("no permission or policy of the visible model has action %q", action)
}

// TestDenialNamesAnUnknownAction checks the explanation of a request whose
// action no permission or policy visible to it names (a misspelt action):
// it says so, for a resource and for a type; an action named by a
// permission of the request's scope or above, or by a policy that can
// apply to the resource, keeps the usual explanation; another tenant's
// objects, a policy of another resource and a policy's "*" name nothing;
// and the graph follows writes.
func TestDenialNamesAnUnknownAction(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		evalModel(t, c)
		grant(t, c, "alice", "acme", "viewer")
		must(c.Apply(ctx, authz.Batch{
			Permissions: []authz.PermissionInput{{ID: "p_g_export", ScopeID: "globex", Action: "export", ResourceType: "document"},
				{ID: "p_audit", ScopeID: "platform", Action: "audit", ResourceType: "document"}},
			ResourcePolicies: []authz.ResourcePolicyInput{
				{ID: "pol_archive", ScopeID: "api", Name: "Archive", Target: authz.PolicyTarget{Kind: authz.TargetResource, ResourceID: "doc_api"},
					Actions: []string{"archive"}, Effect: authz.EffectDeny, Priority: 0},
				{ID: "pol_any", ScopeID: "sales", Name: "Anything", Target: authz.PolicyTarget{Kind: authz.TargetResource, ResourceID: "doc_sales"},
					Actions: []string{"*"}, Effect: authz.EffectDeny},
				// Above every tenant, on a resource of another tenant.
				{ID: "pol_g_stamp", ScopeID: "platform", Name: "Stamp", Target: authz.PolicyTarget{Kind: authz.TargetResource, ResourceID: "doc_globex"},
					Actions: []string{"stamp"}, Effect: authz.EffectAllow},
				// At a scope where doc_acme is linked, for nobody.
				{ID: "pol_publish", ScopeID: "backend", Name: "Publish", Target: authz.PolicyTarget{Kind: authz.TargetResource, ResourceID: "doc_acme"},
					Actions: []string{"publish"}, Effect: authz.EffectAllow, SubjectCondition: json.RawMessage(`{"==":[{"var":"subject.id"},"nobody"]}`)},
			},
			ResourceScopeLinks: []authz.ResourceScopeLinkInput{{ResourceID: "doc_acme", ScopeID: "backend", LinkType: authz.LinkShare}},
		}))(t)
		explained := func(action string, res *authz.ResourceRef) authz.Decision {
			t.Helper()
			return must(c.Evaluate(ctx, authz.EvaluateInput{Actor: authz.SubjectRef{SubjectID: "alice"}, ScopeID: "acme", Action: action, Resource: res, Explain: true}))(t)
		}
		doc := &authz.ResourceRef{ResourceID: "doc_acme"}
		for _, tt := range []struct {
			name, action string
			res          *authz.ResourceRef
			unnamed      bool
		}{
			{"misspelt", "wirte", doc, true},
			{"misspelt on a type", "wirte", &authz.ResourceRef{ResourceType: "document"}, true},
			{"named by a permission the subject lacks", "write", doc, false},
			{"named by a permission above the tenant", "audit", doc, false},
			{"named only in another tenant", "export", doc, true},
			{"named by a policy of the resource's home", "archive", &authz.ResourceRef{ResourceID: "doc_api"}, false},
			{"named by a policy of another resource's home", "archive", doc, true},
			{"a policy's * names nothing", "frobnicate", &authz.ResourceRef{ResourceID: "doc_sales"}, false},
			{"named by a policy above a linked home", "publish", doc, false},
			{"named by a platform policy on another tenant's resource", "stamp", doc, true},
		} {
			d := explained(tt.action, tt.res)
			if d.Allowed {
				t.Fatalf("%s: got allowed; want a denial", tt.name)
			}
			if got := strings.Contains(d.Explanation, unnamedAction(tt.action)); got != tt.unnamed {
				t.Errorf("%s: explanation %q; want it to say the action is unnamed: %v", tt.name, d.Explanation, tt.unnamed)
			}
		}
		// The * policy denies frobnicate: decided by it, not by the role
		// step. Without it, nothing names frobnicate.
		must(0, c.DeleteResourcePolicy(ctx, "pol_any"))(t)
		if d := explained("frobnicate", &authz.ResourceRef{ResourceID: "doc_sales"}); !strings.Contains(d.Explanation, unnamedAction("frobnicate")) {
			t.Errorf("frobnicate without the * policy: explanation %q; want it to say the action is unnamed", d.Explanation)
		}
		// doc_sales is not linked below backend, where publish is named.
		if d := explained("publish", &authz.ResourceRef{ResourceID: "doc_sales"}); !strings.Contains(d.Explanation, unnamedAction("publish")) {
			t.Errorf("publish on doc_sales: explanation %q; want it to say the action is unnamed", d.Explanation)
		}
		// Writes: a permission naming wirte makes it named, its deletion
		// unnamed again.
		must(c.CreatePermission(ctx, authz.PermissionInput{ID: "p_wirte", ScopeID: "acme", Action: "wirte", ResourceType: "folder"}))(t)
		if d := explained("wirte", doc); strings.Contains(d.Explanation, unnamedAction("wirte")) {
			t.Errorf("after creating p_wirte: explanation %q; want the usual one", d.Explanation)
		}
		must(0, c.DeletePermission(ctx, "p_wirte"))(t)
		d := explained("wirte", doc)
		if !strings.Contains(d.Explanation, unnamedAction("wirte")) {
			t.Errorf("after deleting p_wirte: explanation %q; want it to say the action is unnamed", d.Explanation)
		}
		if !slices.ContainsFunc(d.Trace, func(s string) bool { return strings.Contains(s, `action "wirte"`) }) {
			t.Errorf("trace %q; want a step about the action", d.Trace)
		}
	})
}

// TestExplanationsAgreeWithModel draws random models and requests, with
// actions of the model and others, and checks the explanation against the
// model: it says the action is unnamed exactly when the role step denied
// (a default denial of a reachable resource) and no permission defined at
// the request scope or above, and no policy of the resource (directly or
// through a collection of its type) defined there or above a home of the
// resource, names the action; and a resource that is not reachable
// is said to be in another tenant exactly when the chains of the request
// scope and of the resource's scope end at different scopes.
func TestExplanationsAgreeWithModel(t *testing.T) {
	t.Parallel()
	counts := map[string]int{}
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			for m := range envCount(t, "AUTHZ_ORACLE_MODELS", 40) {
				r := rand.New(rand.NewPCG(uint64(m), 18))
				c := must(authz.New(be.open(t), testOptions()))(t)
				bt := applyPruned(t, c, randomModel(r))
				o := &oracle{bt: bt}
				for range 40 {
					q := randomRequest(r, bt)
					if q.resource == "" || q.ref != nil {
						continue
					}
					q.action = pickFrom(r, []string{"read", "write", "list", "wirte", "delete", "*"})
					if q.action == "*" {
						continue
					}
					in := q.input()
					in.Explain = true
					d, err := c.Evaluate(ctx, in)
					if err != nil {
						continue
					}
					res := o.resource(q.resource)
					homes := []string{res.ScopeID}
					for _, l := range bt.ResourceScopeLinks {
						if l.ResourceID == res.ID {
							homes = append(homes, l.ScopeID)
						}
					}
					named := slices.ContainsFunc(bt.Permissions, func(p authz.PermissionInput) bool {
						return p.Action == q.action && slices.Contains(o.ancestors(q.scope), p.ScopeID)
					}) || slices.ContainsFunc(bt.ResourcePolicies, func(p authz.ResourcePolicyInput) bool {
						if !slices.Contains(p.Actions, q.action) {
							return false
						}
						targets := p.Target.ResourceID == res.ID || slices.ContainsFunc(bt.Collections, func(c authz.CollectionInput) bool {
							return c.ID == p.Target.CollectionID && c.ResourceTypeID == res.ResourceTypeID
						})
						if !targets {
							return false
						}
						for _, h := range append([]string{q.scope}, homes...) {
							if slices.Contains(o.ancestors(h), p.ScopeID) {
								return true
							}
						}
						return false
					})
					// A mirror link on the line counts for read actions only:
					// the denial then says so.
					read := q.action == "read" || q.action == "list" || q.action == "view"
					mirrorOnly := !read && slices.ContainsFunc(bt.ResourceScopeLinks, func(l authz.ResourceScopeLinkInput) bool {
						return l.ResourceID == res.ID && l.LinkType == authz.LinkMirror &&
							(slices.Contains(o.chain(q.scope), l.ScopeID) || slices.Contains(o.chain(l.ScopeID), q.scope))
					})
					unreachable := strings.Contains(d.Explanation, "not reachable") || strings.Contains(d.Explanation, "only through a mirror link")
					if unreachable && strings.Contains(d.Explanation, "only through a mirror link") != mirrorOnly {
						t.Fatalf("model %d: %s from %s, action %s: explanation %q; want it to name the mirror link: %v", m, res.ID, q.scope, q.action, d.Explanation, mirrorOnly)
					}
					if unreachable {
						counts[fmt.Sprintf("mirror only=%v", mirrorOnly)]++
					}
					if strings.Contains(d.Explanation, "not reachable") {
						mine, theirs := o.chain(q.scope), o.chain(res.ScopeID)
						apart := mine[len(mine)-1] != theirs[len(theirs)-1]
						counts[fmt.Sprintf("unreachable, different tenants=%v", apart)]++
						if got := strings.Contains(d.Explanation, "they are in different tenants"); got != apart ||
							got == strings.Contains(d.Explanation, "within the same tenant") {
							t.Fatalf("model %d: %s from %s: explanation %q; want it to say different tenants: %v", m, res.ID, q.scope, d.Explanation, apart)
						}
					}
					roleDenial := !d.Allowed && d.DecidedBy == authz.DecidedByDefault && !unreachable
					want := roleDenial && !named
					got := strings.Contains(d.Explanation, unnamedAction(q.action))
					counts[fmt.Sprintf("unnamed=%v", got)]++
					if got != want {
						model, _ := json.Marshal(bt)
						req, _ := json.Marshal(in)
						t.Fatalf("model %d: explanation %q; want it to say the action is unnamed: %v (role denial %v, named %v)\nmodel:\n%s\nrequest:\n%s",
							m, d.Explanation, want, roleDenial, named, model, req)
					}
				}
			}
		})
	}
	t.Logf("explanations: %v", counts)
	if counts["unnamed=true"] < 20 || counts["unnamed=false"] < 20 || counts["unreachable, different tenants=true"] < 5 || counts["unreachable, different tenants=false"] < 5 || counts["mirror only=true"] < 3 {
		t.Errorf("explanations %v; want both kinds often", counts)
	}
}

// TestDenialAllocatesNothing checks that looking for the action in the
// model keeps a denial free of allocations when the action is named (the
// common denial: no membership reaches the resource), on requests the
// decision cache does not answer (they carry a context).
func TestDenialAllocatesNothing(t *testing.T) {
	c := must(authz.New(backends[0].open(t), nil))(t)
	evalModel(t, c)
	for _, in := range []authz.EvaluateInput{
		{Actor: authz.SubjectRef{SubjectID: "bob"}, ScopeID: "api", Action: "read", Resource: &authz.ResourceRef{ResourceID: "doc_api"}, Context: map[string]any{"hour": 9}},
		{Actor: authz.SubjectRef{SubjectID: "bob"}, ScopeID: "api", Action: "write", Resource: &authz.ResourceRef{ResourceID: "doc_api"}, Context: map[string]any{"hour": 9}},
	} {
		if d := must(c.Evaluate(ctx, in))(t); d.Allowed || strings.Contains(d.Explanation, "visible model") {
			t.Fatalf("%s: got %+v; want the usual denial", in.Action, d)
		}
		if n := testing.AllocsPerRun(100, func() { _, _ = c.Evaluate(ctx, in) }); n != 0 {
			t.Errorf("denial of %s: %v allocations; want 0", in.Action, n)
		}
	}
}

// TestUnreachableExplanation checks the denial of a resource with no home
// on the request scope's line: across tenants it says they are different
// tenants and names the request scope's tenant only, within one tenant it keeps saying the scope is
// neither above nor below.
func TestUnreachableExplanation(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		evalModel(t, c)
		for _, tt := range []struct {
			scope, resource string
			want            string
		}{
			{"sales", "doc_api", "Denied: resource doc_api is not reachable from scope sales (it lives in scope api, which is neither above nor below it within the same tenant)."},
			{"g_eng", "doc_api", "Denied: resource doc_api is not reachable from scope g_eng: they are in different tenants (scope g_eng is of tenant globex)."},
			{"platform", "doc_acme", "Denied: resource doc_acme is not reachable from scope platform: they are in different tenants (scope platform is of tenant platform)."},
		} {
			d := ask(t, c, "alice", tt.scope, "read", tt.resource)
			if d.Allowed || d.Explanation != tt.want {
				t.Errorf("%s from %s: got %q; want %q", tt.resource, tt.scope, d.Explanation, tt.want)
			}
		}
	})
}
