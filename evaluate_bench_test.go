package authz_test

import (
	"encoding/json"
	"testing"

	"github.com/scopegate/authz"
)

// benchModel is evalModel plus what each benchmarked path needs: a role
// grant, a conditional grant, a collection policy and a 3-level folder
// cascade.
func benchModel(b testing.TB, c *authz.Client) {
	evalModel(b, c)
	must(c.Apply(ctx, authz.Batch{
		Memberships: []authz.MembershipInput{{SubjectID: "alice", ScopeID: "acme", RoleIDs: []string{"viewer"}}, {SubjectID: "bob", ScopeID: "acme", RoleIDs: []string{"approver"}}},
		Permissions: []authz.PermissionInput{{ID: "p_approve", ScopeID: "acme", Action: "approve", ResourceType: "document",
			Logic: json.RawMessage(`{"and":[{"==":[{"var":"resource.meta.classification"},"internal"]},{"<":[{"var":"context.hour"},18]}]}`)}},
		Roles:           []authz.RoleInput{{ID: "approver", ScopeID: "acme", Name: "Approver"}},
		RolePermissions: []authz.RolePermissionInput{{RoleID: "approver", PermissionID: "p_approve"}},
		Collections: []authz.CollectionInput{{ID: "coll_internal", ScopeID: "acme", ResourceTypeID: "rt_doc", Name: "Internal",
			MatchDefinition: json.RawMessage(`{"fields":{"classification":"internal"}}`)}},
		ResourcePolicies: []authz.ResourcePolicyInput{
			{ScopeID: "acme", Name: "Internal share", Target: authz.PolicyTarget{Kind: authz.TargetCollection, CollectionID: "coll_internal"},
				Actions: []string{"share"}, Effect: authz.EffectAllow},
			{ScopeID: "api", Name: "Folder editors", Target: authz.PolicyTarget{Kind: authz.TargetResource, ResourceID: "f1"},
				Actions: []string{"edit"}, Effect: authz.EffectAllow},
		},
		Resources: []authz.ResourceInput{
			{ID: "f1", ResourceTypeID: "rt_folder", ScopeID: "api", ExternalResourceID: "f1"},
			{ID: "f2", ResourceTypeID: "rt_folder", ScopeID: "api", ExternalResourceID: "f2"},
			{ID: "f3", ResourceTypeID: "rt_folder", ScopeID: "api", ExternalResourceID: "f3"},
			{ID: "d4", ResourceTypeID: "rt_doc", ScopeID: "api", ExternalResourceID: "d4"},
		},
		ResourceEdges: []authz.ResourceEdgeInput{{ParentResourceID: "f1", ChildResourceID: "f2"}, {ParentResourceID: "f2", ChildResourceID: "f3"}, {ParentResourceID: "f3", ChildResourceID: "d4"}},
	}))(b)
}

func BenchmarkEvaluate(b *testing.B) {
	paths := []struct {
		name string
		in   authz.EvaluateInput
		want authz.DecidedBy
	}{
		{"rbac", authz.EvaluateInput{Actor: authz.SubjectRef{SubjectID: "alice"}, ScopeID: "api", Action: "read", Resource: &authz.ResourceRef{ResourceID: "doc_api"}}, authz.DecidedByRole},
		{"condition", authz.EvaluateInput{Actor: authz.SubjectRef{SubjectID: "bob"}, ScopeID: "api", Action: "approve", Resource: &authz.ResourceRef{ResourceID: "doc_api"},
			Context: map[string]any{"hour": 9}}, authz.DecidedByRole},
		{"collection-policy", authz.EvaluateInput{Actor: authz.SubjectRef{SubjectID: "carol"}, ScopeID: "api", Action: "share", Resource: &authz.ResourceRef{ResourceID: "doc_api"}}, authz.DecidedByPolicy},
		{"cascade-3", authz.EvaluateInput{Actor: authz.SubjectRef{SubjectID: "carol"}, ScopeID: "api", Action: "edit", Resource: &authz.ResourceRef{ResourceID: "d4"}}, authz.DecidedByHierarchy},
	}
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			c := must(authz.New(be.open(b), nil))(b)
			benchModel(b, c)
			for _, p := range paths {
				b.Run(p.name, func(b *testing.B) {
					if d := must(c.Evaluate(ctx, p.in))(b); !d.Allowed || d.DecidedBy != p.want {
						b.Fatalf("got %+v; want allowed by %s", d, p.want)
					}
					b.ReportAllocs()
					for b.Loop() {
						if _, err := c.Evaluate(ctx, p.in); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		})
	}
}
