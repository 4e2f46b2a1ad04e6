package authz_test

import (
	"testing"

	"github.com/scopegate/authz"
)

// tenancyModel builds a platform over two tenants whose names collide on
// purpose: tenant A defines a resource type whose id, "document", is
// nobody's key in B but B's request may name it; both tenants have a type
// keyed secret and one keyed doc, and a resource with external id "plan".
// bob is a reader in B (secret:read:*, doc:read:*, doc:write:*).
func tenancyModel(t *testing.T, c *authz.Client) {
	t.Helper()
	must(c.Apply(ctx, authz.Batch{
		ScopeTypes: []authz.ScopeTypeInput{
			{ID: "t_platform", Name: "Platform"},
			{ID: "t_org", Name: "Org", Config: authz.ScopeTypeConfig{PermissionMode: authz.PermissionModeDefine}},
			{ID: "t_team", Name: "Team"},
		},
		ScopeTypeEdges: []authz.ScopeTypeEdgeInput{{ParentTypeID: "t_platform", ChildTypeID: "t_org"}, {ParentTypeID: "t_org", ChildTypeID: "t_team"}},
		Scopes: []authz.ScopeInput{
			{ID: "P", TypeID: "t_platform"},
			{ID: "A", TypeID: "t_org", ParentScopeID: "P"},
			{ID: "A.t1", TypeID: "t_team", ParentScopeID: "A"},
			{ID: "A.t2", TypeID: "t_team", ParentScopeID: "A"},
			{ID: "B", TypeID: "t_org", ParentScopeID: "P"},
			{ID: "B.t1", TypeID: "t_team", ParentScopeID: "B"},
		},
		Subjects: []authz.SubjectInput{
			{ID: "bob", SubjectType: authz.SubjectUser, ExternalID: "bob"},
			{ID: "ann", SubjectType: authz.SubjectUser, ExternalID: "ann"},
		},
		ResourceTypes: []authz.ResourceTypeInput{
			{ID: "document", ScopeID: "A", Key: "secret", Name: "A's secrets"},
			{ID: "a_doc", ScopeID: "A", Key: "doc", Name: "A's docs"},
			{ID: "b_secret", ScopeID: "B", Key: "secret", Name: "B's secrets"},
			{ID: "b_doc", ScopeID: "B", Key: "doc", Name: "B's docs"},
		},
		Resources: []authz.ResourceInput{
			{ID: "a_plan", ResourceTypeID: "a_doc", ScopeID: "A.t1", ExternalResourceID: "plan"},
			{ID: "b_plan", ResourceTypeID: "b_doc", ScopeID: "B", ExternalResourceID: "plan"},
		},
		Roles: []authz.RoleInput{{ID: "b_reader", ScopeID: "B", Name: "Reader"}, {ID: "a_reader", ScopeID: "A", Name: "Reader"}},
		Permissions: []authz.PermissionInput{
			{ID: "b_secret_read", ScopeID: "B", Action: "read", ResourceType: "secret"},
			{ID: "b_doc_read", ScopeID: "B", Action: "read", ResourceType: "doc"},
			{ID: "b_doc_write", ScopeID: "B", Action: "write", ResourceType: "doc"},
			{ID: "a_doc_rw", ScopeID: "A", Action: "write", ResourceType: "doc"},
		},
		RolePermissions: []authz.RolePermissionInput{
			{RoleID: "b_reader", PermissionID: "b_secret_read"}, {RoleID: "b_reader", PermissionID: "b_doc_read"},
			{RoleID: "b_reader", PermissionID: "b_doc_write"}, {RoleID: "a_reader", PermissionID: "a_doc_rw"},
		},
		Memberships: []authz.MembershipInput{
			{SubjectID: "bob", ScopeID: "B", RoleIDs: []string{"b_reader"}},
			{SubjectID: "ann", ScopeID: "A", RoleIDs: []string{"a_reader"}},
		},
	}))(t)
}

// TestRequestTypesResolveInTheRequestTenant: a resource type named by a
// request is resolved among the types visible from the request scope, so
// another tenant's type id cannot stand for a key of this tenant.
func TestRequestTypesResolveInTheRequestTenant(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		tenancyModel(t, c)
		ask := func(scope, action string, ref authz.ResourceRef) (authz.Decision, error) {
			return c.Evaluate(ctx, authz.EvaluateInput{Actor: authz.SubjectRef{SubjectID: "bob"}, ScopeID: scope, Action: action, Resource: &ref})
		}
		// "document" is A's type id (key secret): in B it names nothing,
		// and bob's secret:read:* must not answer for it.
		d := must(ask("B", "read", authz.ResourceRef{ResourceType: "document"}))(t)
		if d.Allowed {
			t.Errorf("type-level read of %q in B: got allowed (%s); want denied: %q is a type of tenant A", "document", d.Explanation, "document")
		}
		if d := must(ask("B", "read", authz.ResourceRef{ResourceType: "secret"}))(t); !d.Allowed {
			t.Errorf("type-level read of B's key secret: got denied (%s); want allowed", d.Explanation)
		}
		// B's own type id is visible from B and from below it.
		if d := must(ask("B.t1", "read", authz.ResourceRef{ResourceType: "b_secret"}))(t); !d.Allowed {
			t.Errorf("type-level read of B's type id b_secret in B.t1: got denied (%s); want allowed", d.Explanation)
		}
		subjects := must(c.ListAllowedSubjects(ctx, authz.LookupSubjectsInput{ScopeID: "B", Action: "read", Resource: authz.ResourceRef{ResourceType: "document"}}))(t)
		if len(subjects.Subjects) != 0 {
			t.Errorf("ListAllowedSubjects of type %q in B: got %v; want none", "document", subjects.Subjects)
		}
		subjects = must(c.ListAllowedSubjects(ctx, authz.LookupSubjectsInput{ScopeID: "B", Action: "read", Resource: authz.ResourceRef{ResourceType: "secret"}}))(t)
		if len(subjects.Subjects) != 1 || subjects.Subjects[0].SubjectID != "bob" {
			t.Errorf("ListAllowedSubjects of type secret in B: got %v; want bob", subjects.Subjects)
		}

		// By external id: "plan" of key doc is B's resource in B, A's in A.
		d = must(ask("B", "write", authz.ResourceRef{ExternalResourceID: "plan", ResourceType: "doc"}))(t)
		if !d.Allowed {
			t.Errorf("write plan (doc) in B: got denied (%s); want allowed on b_plan", d.Explanation)
		}
		_, err := ask("B", "write", authz.ResourceRef{ExternalResourceID: "plan", ResourceType: "a_doc"})
		wantErr(t, err, authz.ErrNotFound)
		_, err = ask("B", "read", authz.ResourceRef{ExternalResourceID: "plan", ResourceType: "document"})
		wantErr(t, err, authz.ErrNotFound)
		if d, err := c.Evaluate(ctx, authz.EvaluateInput{Actor: authz.SubjectRef{SubjectID: "ann"}, ScopeID: "A.t1", Action: "write",
			Resource: &authz.ResourceRef{ExternalResourceID: "plan", ResourceType: "doc"}}); err != nil || !d.Allowed {
			t.Errorf("ann writes plan (doc) in A.t1: got allowed=%v, %v (%s); want allowed on a_plan", d.Allowed, err, d.Explanation)
		}

		// Lookups of resources resolve the type the same way.
		_, err = c.ListAllowedResources(ctx, authz.LookupResourcesInput{Actor: authz.SubjectRef{SubjectID: "bob"}, ScopeID: "B", Action: "write", ResourceType: "a_doc"})
		wantErr(t, err, authz.ErrNotFound)
		_, err = c.ListAllowedResources(ctx, authz.LookupResourcesInput{Actor: authz.SubjectRef{SubjectID: "bob"}, ScopeID: "B", Action: "read", ResourceType: "document"})
		wantErr(t, err, authz.ErrNotFound)
		page := must(c.ListAllowedResources(ctx, authz.LookupResourcesInput{Actor: authz.SubjectRef{SubjectID: "bob"}, ScopeID: "B", Action: "write", ResourceType: "doc"}))(t)
		if len(page.Resources) != 1 || page.Resources[0].ResourceID != "b_plan" {
			t.Errorf("ListAllowedResources of doc for bob in B: got %v; want b_plan", page.Resources)
		}
	})
}

// TestOwnerPoliciesFollowSharedResources: a policy of the owner's side
// decides for its resource wherever the request is made, through share,
// alias and mirror links; the tenant it is shared with cannot attach
// policies of its own to it, and its other policies (borrowers') come only
// after the owner's.
func TestOwnerPoliciesFollowSharedResources(t *testing.T) {
	t.Parallel()
	for _, link := range []authz.LinkType{authz.LinkShare, authz.LinkAlias, authz.LinkMirror} {
		t.Run(string(link), func(t *testing.T) {
			eachBackend(t, func(t *testing.T, c *authz.Client) {
				tenancyModel(t, c)
				must(c.CreateResourceScopeLink(ctx, authz.ResourceScopeLinkInput{ResourceID: "a_plan", ScopeID: "B", LinkType: link}))(t)
				bob := func(scope, action string) authz.Decision {
					t.Helper()
					return must(c.Evaluate(ctx, authz.EvaluateInput{Actor: authz.SubjectRef{SubjectID: "bob"}, ScopeID: scope, Action: action,
						Resource: &authz.ResourceRef{ResourceID: "a_plan"}}))(t)
				}
				// Shared into B, A's doc is read by bob's doc:read:* in B.
				if d := bob("B", "read"); !d.Allowed || d.DecidedBy != authz.DecidedByRole {
					t.Fatalf("bob reads a_plan in B before any policy: got allowed=%v by %s (%s); want allowed by role", d.Allowed, d.DecidedBy, d.Explanation)
				}
				// The owner's deny at the resource's home follows it.
				must(c.CreateResourcePolicy(ctx, authz.ResourcePolicyInput{ID: "a_deny", ScopeID: "A.t1", Name: "no one", Effect: authz.EffectDeny,
					Actions: []string{"*"}, Target: authz.PolicyTarget{Kind: authz.TargetResource, ResourceID: "a_plan"}}))(t)
				for _, s := range []string{"B", "B.t1"} {
					if d := bob(s, "read"); d.Allowed || d.DecidedBy != authz.DecidedByPolicy || d.PolicyID != "a_deny" {
						t.Errorf("bob reads a_plan in %s after A's deny: got allowed=%v by %s %s (%s); want denied by a_deny", s, d.Allowed, d.DecidedBy, d.PolicyID, d.Explanation)
					}
				}
				// B cannot attach its own allow to A's resource, at B or below.
				for _, s := range []string{"B", "B.t1"} {
					_, err := c.CreateResourcePolicy(ctx, authz.ResourcePolicyInput{ScopeID: s, Name: "we may", Effect: authz.EffectAllow, Priority: 100,
						Actions: []string{"*"}, Target: authz.PolicyTarget{Kind: authz.TargetResource, ResourceID: "a_plan"}})
					wantErr(t, err, authz.ErrNotAllowed)
				}
				// A platform policy above the owner reaches the shared copy too,
				// and beats the tenant's policy by priority.
				must(c.CreateResourcePolicy(ctx, authz.ResourcePolicyInput{ID: "p_allow", ScopeID: "P", Name: "platform", Effect: authz.EffectAllow, Priority: 5,
					Actions: []string{"read"}, Target: authz.PolicyTarget{Kind: authz.TargetResource, ResourceID: "a_plan"}}))(t)
				if d := bob("B", "read"); !d.Allowed || d.PolicyID != "p_allow" {
					t.Errorf("bob reads a_plan in B with the platform's allow: got allowed=%v by %s %s (%s); want allowed by p_allow", d.Allowed, d.DecidedBy, d.PolicyID, d.Explanation)
				}
			})
		})
	}
}

// TestBorrowerPoliciesComeAfterTheOwners: within a tenant a resource of one
// team linked into another team is governed first by the policies above its
// owning team, then by those of the team it is linked into, whatever their
// priorities.
func TestBorrowerPoliciesComeAfterTheOwners(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		tenancyModel(t, c)
		must(c.CreateResourceScopeLink(ctx, authz.ResourceScopeLinkInput{ResourceID: "a_plan", ScopeID: "A.t2", LinkType: authz.LinkShare}))(t)
		// A direct policy at the linked team is on the owner's tenant: allowed.
		must(c.CreateResourcePolicy(ctx, authz.ResourcePolicyInput{ID: "t2_allow", ScopeID: "A.t2", Name: "t2 reads", Effect: authz.EffectAllow, Priority: 50,
			Actions: []string{"read"}, Target: authz.PolicyTarget{Kind: authz.TargetResource, ResourceID: "a_plan"}}))(t)
		bob := func(scope string) authz.Decision {
			t.Helper()
			return must(c.Evaluate(ctx, authz.EvaluateInput{Actor: authz.SubjectRef{SubjectID: "bob"}, ScopeID: scope, Action: "read",
				Resource: &authz.ResourceRef{ResourceID: "a_plan"}}))(t)
		}
		if d := bob("A.t2"); !d.Allowed || d.PolicyID != "t2_allow" {
			t.Errorf("read a_plan in A.t2, only the borrower's policy: got allowed=%v by %s %s (%s); want allowed by t2_allow", d.Allowed, d.DecidedBy, d.PolicyID, d.Explanation)
		}
		if d := bob("A.t1"); d.Allowed {
			t.Errorf("read a_plan in A.t1: got allowed by %s %s (%s); want denied: the borrower's policy is not on A.t1's line", d.DecidedBy, d.PolicyID, d.Explanation)
		}
		// An owner's deny of lower priority still comes first.
		must(c.CreateResourcePolicy(ctx, authz.ResourcePolicyInput{ID: "a_deny", ScopeID: "A", Name: "owner says no", Effect: authz.EffectDeny,
			Actions: []string{"read"}, Target: authz.PolicyTarget{Kind: authz.TargetResource, ResourceID: "a_plan"}}))(t)
		if d := bob("A.t2"); d.Allowed || d.PolicyID != "a_deny" {
			t.Errorf("read a_plan in A.t2 with the owner's deny: got allowed=%v by %s %s (%s); want denied by a_deny", d.Allowed, d.DecidedBy, d.PolicyID, d.Explanation)
		}
	})
}
