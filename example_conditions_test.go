package authz_test

import (
	"encoding/json"

	"github.com/scopegate/authz"
)

// Conditions make a grant depend on data: a permission's Logic holds for
// every role that grants it, a role-permission's Condition only for that
// grant. Both are JSON Logic over the subject, the resource and the request's
// context (docs/conditions.md).
func ExampleClient_Evaluate_conditions() {
	m := saasModel()
	// Approving needs seniority, whoever grants it: a condition on the subject.
	m.Permissions = append(m.Permissions, authz.PermissionInput{
		ID: "doc_approve", ScopeID: "acme", Action: "approve", ResourceType: "document",
		Logic: json.RawMessage(`{">=":[{"var":"subject.meta.level"},3]}`),
	})
	// Reviewers read, approve, and write too, but only drafts (the
	// resource's meta) and only from the corporate network (the request's
	// context).
	m.Roles = append(m.Roles, authz.RoleInput{ID: "reviewer", ScopeID: "acme", Name: "Reviewer"})
	m.RolePermissions = append(m.RolePermissions,
		authz.RolePermissionInput{RoleID: "editor", PermissionID: "doc_approve"},
		authz.RolePermissionInput{RoleID: "reviewer", PermissionID: "doc_read"},
		authz.RolePermissionInput{RoleID: "reviewer", PermissionID: "doc_approve"},
		authz.RolePermissionInput{ID: "rp_reviewer_write", RoleID: "reviewer", PermissionID: "doc_write",
			Condition: json.RawMessage(`{"and":[{"==":[{"var":"resource.status"},"draft"]},{"==":[{"var":"context.network"},"corp"]}]}`)},
	)
	m.Subjects[0].Meta = map[string]any{"level": 3} // alice
	m.Subjects[1].Meta = map[string]any{"level": 1} // bob
	m.Memberships = []authz.MembershipInput{
		{SubjectID: "alice", ScopeID: "acme_eng", RoleIDs: []string{"editor"}},
		{SubjectID: "bob", ScopeID: "acme_eng", RoleIDs: []string{"reviewer"}},
	}
	m.Resources = []authz.ResourceInput{
		{ID: "doc_rfc", ResourceTypeID: "rt_doc", ScopeID: "acme_api", ExternalResourceID: "rfc-12", Meta: map[string]any{"status": "draft"}},
		{ID: "doc_guide", ResourceTypeID: "rt_doc", ScopeID: "acme_api", ExternalResourceID: "guide", Meta: map[string]any{"status": "published"}},
	}
	c := saasClient(m)

	ask := func(who, action, doc string, ctx map[string]any) {
		decide(c, authz.EvaluateInput{Actor: authz.SubjectRef{SubjectID: who}, ScopeID: "acme_api",
			Action: action, Resource: &authz.ResourceRef{ResourceID: doc}, Context: ctx}, true)
	}
	ask("alice", "approve", "doc_rfc", nil)
	ask("bob", "approve", "doc_rfc", nil)
	corp := map[string]any{"network": "corp"}
	ask("bob", "write", "doc_rfc", corp)
	ask("bob", "write", "doc_guide", corp)
	ask("bob", "write", "doc_rfc", map[string]any{"network": "cafe"})
	// Output:
	// alice approve doc_rfc: allowed=true decidedBy=role
	//   Allowed: permission document:approve:* is granted through role editor.
	// bob approve doc_rfc: allowed=false decidedBy=default
	//   Denied: permission document:approve:* through role reviewer matched but the permission doc_approve logic was not met.
	// bob write doc_rfc: allowed=true decidedBy=role
	//   Allowed: permission document:write:* is granted through role reviewer.
	// bob write doc_guide: allowed=false decidedBy=default
	//   Denied: permission document:write:* through role reviewer matched but the condition of role permission rp_reviewer_write was not met.
	// bob write doc_rfc: allowed=false decidedBy=default
	//   Denied: permission document:write:* through role reviewer matched but the condition of role permission rp_reviewer_write was not met.
}
