package authz_test

import (
	"fmt"

	"github.com/scopegate/authz"
)

// A resource-scope link makes a resource reachable from a scope other than
// its owner, here from another tenant: acme shares its API spec with the
// customer globex, and mirrors its plan there for reading only. A share (or
// an alias, the same) counts for every action, a mirror only for the read
// actions (Options.ReadActions). Globex's own roles grant on the linked
// documents through permissions of globex's own document type: types match
// by key (docs/model.md#resource-scope-links).
func ExampleResourceScopeLink() {
	m := saasModel()
	m.Scopes = append(m.Scopes, authz.ScopeInput{ID: "globex", TypeID: "org", Name: "Globex",
		Memberships: []authz.ScopeMembershipInput{{SubjectID: "gina", RoleIDs: []string{"globex_editor"}}}})
	m.Subjects = append(m.Subjects, authz.SubjectInput{ID: "gina", SubjectType: authz.SubjectUser, ExternalID: "gina@globex.example"})
	m.ResourceTypes = append(m.ResourceTypes, authz.ResourceTypeInput{ID: "rt_globex_doc", ScopeID: "globex", Key: "document", Name: "Document"})
	m.Roles = append(m.Roles, authz.RoleInput{ID: "globex_editor", ScopeID: "globex", Name: "Editor"})
	m.Permissions = append(m.Permissions,
		authz.PermissionInput{ID: "globex_read", ScopeID: "globex", Action: "read", ResourceType: "document"},
		authz.PermissionInput{ID: "globex_write", ScopeID: "globex", Action: "write", ResourceType: "document"},
	)
	m.RolePermissions = append(m.RolePermissions,
		authz.RolePermissionInput{RoleID: "globex_editor", PermissionID: "globex_read"},
		authz.RolePermissionInput{RoleID: "globex_editor", PermissionID: "globex_write"},
	)
	m.Resources = []authz.ResourceInput{
		{ID: "doc_spec", ResourceTypeID: "rt_doc", ScopeID: "acme_api", ExternalResourceID: "spec"},
		{ID: "doc_plan", ResourceTypeID: "rt_doc", ScopeID: "acme_eng", ExternalResourceID: "plan"},
		{ID: "doc_ui", ResourceTypeID: "rt_doc", ScopeID: "acme_web", ExternalResourceID: "ui"},
	}
	m.ResourceScopeLinks = []authz.ResourceScopeLinkInput{
		{ID: "link_spec", ResourceID: "doc_spec", ScopeID: "globex", LinkType: authz.LinkShare},
		{ID: "link_plan", ResourceID: "doc_plan", ScopeID: "globex", LinkType: authz.LinkMirror},
	}
	c := saasClient(m)

	ask := func(action, doc string) {
		d := decide(c, authz.EvaluateInput{Actor: authz.SubjectRef{SubjectID: "gina"}, ScopeID: "globex",
			Action: action, Resource: &authz.ResourceRef{ResourceID: doc}}, false)
		if d.Allowed {
			fmt.Println("  granted by", d.Matches[0].PermissionID, "through", d.Matches[0].SourceRoleIDs)
		}
	}
	ask("write", "doc_spec") // shared: every action
	ask("read", "doc_plan")  // mirrored: read
	ask("write", "doc_plan") // mirrored: not write
	ask("read", "doc_ui")    // not linked: unreachable from globex
	// Output:
	// gina write doc_spec: allowed=true decidedBy=role
	//   granted by globex_write through [globex_editor]
	// gina read doc_plan: allowed=true decidedBy=role
	//   granted by globex_read through [globex_editor]
	// gina write doc_plan: allowed=false decidedBy=default
	// gina read doc_ui: allowed=false decidedBy=default
}
