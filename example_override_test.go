package authz_test

import (
	"encoding/json"

	"github.com/scopegate/authz"
)

// Overrides switch off, and back on, what a subject holds at a scope and
// below it, along acme → acme_eng → acme_api / acme_web. The nearest
// override above the resource decides (docs/model.md#overrides).
func ExampleScopeOverride() {
	m := saasModel()
	m.Memberships = []authz.MembershipInput{
		{SubjectID: "alice", ScopeID: "acme", RoleIDs: []string{"editor"}},
		{SubjectID: "bob", ScopeID: "acme", RoleIDs: []string{"viewer"}},
	}
	m.Resources = []authz.ResourceInput{
		{ID: "doc_plan", ResourceTypeID: "rt_doc", ScopeID: "acme_eng", ExternalResourceID: "plan"},
		{ID: "doc_spec", ResourceTypeID: "rt_doc", ScopeID: "acme_api", ExternalResourceID: "spec"},
		{ID: "doc_ui", ResourceTypeID: "rt_doc", ScopeID: "acme_web", ExternalResourceID: "ui"},
	}
	m.ScopeOverrides = []authz.ScopeOverrideInput{
		// Org viewers do not see the engineering workspace, except its API project.
		{ID: "ov_viewer_eng", Kind: authz.OverrideRole, ChildScopeID: "acme_eng", RoleID: "viewer", State: authz.OverrideDisabled},
		{ID: "ov_viewer_api", Kind: authz.OverrideRole, ChildScopeID: "acme_api", RoleID: "viewer", State: authz.OverrideEnabled},
		// Nobody deletes in engineering, except in the web project.
		{ID: "ov_delete_eng", Kind: authz.OverridePermission, ChildScopeID: "acme_eng", PermissionID: "doc_delete", State: authz.OverrideDisabled},
		{ID: "ov_delete_web", Kind: authz.OverridePermission, ChildScopeID: "acme_web", PermissionID: "doc_delete", State: authz.OverrideEnabled},
		// In the API project, editors write only with a change ticket.
		{ID: "ov_write_api", Kind: authz.OverrideRolePermission, ChildScopeID: "acme_api", RoleID: "editor", PermissionID: "doc_write",
			State: authz.OverrideEnabled, Condition: json.RawMessage(`{"!!":{"var":"context.ticket"}}`)},
	}
	c := saasClient(m)

	ask := func(who, action, doc, scope string, ctx map[string]any) {
		decide(c, authz.EvaluateInput{Actor: authz.SubjectRef{SubjectID: who}, ScopeID: scope,
			Action: action, Resource: &authz.ResourceRef{ResourceID: doc}, Context: ctx}, true)
	}
	ask("bob", "read", "doc_plan", "acme_eng", nil)
	ask("bob", "read", "doc_spec", "acme_api", nil)
	ask("bob", "read", "doc_ui", "acme_web", nil)
	ask("alice", "delete", "doc_plan", "acme_eng", nil)
	ask("alice", "delete", "doc_ui", "acme_web", nil)
	ask("alice", "write", "doc_spec", "acme_api", nil)
	ask("alice", "write", "doc_spec", "acme_api", map[string]any{"ticket": "CHG-42"})
	// Output:
	// bob read doc_plan: allowed=false decidedBy=default
	//   Denied: role viewer is disabled by an override at scope acme_eng.
	// bob read doc_spec: allowed=true decidedBy=role
	//   Allowed: permission document:read:* is granted through role viewer.
	// bob read doc_ui: allowed=false decidedBy=default
	//   Denied: role viewer is disabled by an override at scope acme_eng.
	// alice delete doc_plan: allowed=false decidedBy=default
	//   Denied: permission document:delete:* is disabled by an override at scope acme_eng.
	// alice delete doc_ui: allowed=true decidedBy=role
	//   Allowed: permission document:delete:* is granted through role editor.
	// alice write doc_spec: allowed=false decidedBy=default
	//   Denied: permission document:write:* through role editor matched but the condition of override ov_write_api was not met.
	// alice write doc_spec: allowed=true decidedBy=role
	//   Allowed: permission document:write:* is granted through role editor.
}
