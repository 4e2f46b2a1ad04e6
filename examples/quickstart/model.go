package main

import (
	"encoding/json"

	"github.com/scopegate/authz"
)

// model is a two-tenant SaaS in one batch: Acme (engineering and sales
// teams, an API project) and Globex, each a define scope, so neither sees
// the other.
func model() authz.Batch {
	cond := func(s string) json.RawMessage { return json.RawMessage(s) }
	return authz.Batch{
		ScopeTypes: []authz.ScopeTypeInput{
			{ID: "type_org", Name: "Organization", Config: authz.ScopeTypeConfig{PermissionMode: authz.PermissionModeDefine}},
			{ID: "type_team", Name: "Team"},
			{ID: "type_project", Name: "Project"},
		},
		ScopeTypeEdges: []authz.ScopeTypeEdgeInput{{ParentTypeID: "type_org", ChildTypeID: "type_team"}, {ParentTypeID: "type_team", ChildTypeID: "type_project"}},
		Scopes: []authz.ScopeInput{
			{ID: "acme", TypeID: "type_org", Name: "Acme"},
			{ID: "acme_eng", TypeID: "type_team", Name: "Engineering", ParentScopeID: "acme",
				Memberships: []authz.ScopeMembershipInput{{SubjectID: "bob", RoleIDs: []string{"engineer"}}}},
			{ID: "acme_api", TypeID: "type_project", Name: "API", ParentScopeID: "acme_eng",
				Memberships: []authz.ScopeMembershipInput{{SubjectID: "agent", RoleIDs: []string{"viewer"}}, {SubjectID: "dave", RoleIDs: []string{"folder_reader"}}}},
			{ID: "acme_sales", TypeID: "type_team", Name: "Sales", ParentScopeID: "acme",
				Memberships: []authz.ScopeMembershipInput{{SubjectID: "carol", RoleIDs: []string{"viewer"}}}},
			{ID: "globex", TypeID: "type_org", Name: "Globex"},
		},
		Subjects: []authz.SubjectInput{
			{ID: "alice", SubjectType: authz.SubjectUser, ExternalID: "alice@acme.example", Meta: map[string]any{"level": 3},
				Memberships: []authz.SubjectMembershipInput{{ScopeID: "acme", RoleIDs: []string{"admin"}}}},
			{ID: "bob", SubjectType: authz.SubjectUser, ExternalID: "bob@acme.example", Meta: map[string]any{"level": 1}},
			{ID: "carol", SubjectType: authz.SubjectUser, ExternalID: "carol@acme.example"},
			{ID: "dave", SubjectType: authz.SubjectUser, ExternalID: "dave@contractor.example"},
			{ID: "agent", SubjectType: authz.SubjectAgent, ExternalID: "review-bot"},
			{ID: "mallory", SubjectType: authz.SubjectUser, ExternalID: "mallory@globex.example",
				Memberships: []authz.SubjectMembershipInput{{ScopeID: "globex", RoleIDs: []string{"globex_admin"}}}},
		},
		ResourceTypes: []authz.ResourceTypeInput{
			{ID: "rt_document", ScopeID: "acme", Key: "document", Name: "Document"},
			{ID: "rt_folder", ScopeID: "acme", Key: "folder", Name: "Folder"},
			{ID: "rt_globex_document", ScopeID: "globex", Key: "document", Name: "Document"},
		},
		Permissions: []authz.PermissionInput{
			{ID: "perm_doc_read", ScopeID: "acme", Action: "read", ResourceType: "document"},
			{ID: "perm_doc_write", ScopeID: "acme", Action: "write", ResourceType: "document"},
			{ID: "perm_doc_delete", ScopeID: "acme", Action: "delete", ResourceType: "document"},
			{ID: "perm_doc_approve", ScopeID: "acme", Action: "approve", ResourceType: "document",
				Logic: cond(`{">=":[{"var":"subject.meta.level"},3]}`)},
			{ID: "perm_folder_read", ScopeID: "acme", Action: "read", ResourceType: "folder"},
			{ID: "perm_globex_read", ScopeID: "globex", Action: "read", ResourceType: "document"},
		},
		Roles: []authz.RoleInput{
			{ID: "admin", ScopeID: "acme", Name: "Admin"},
			{ID: "engineer", ScopeID: "acme", Name: "Engineer"},
			{ID: "viewer", ScopeID: "acme", Name: "Viewer"},
			{ID: "folder_reader", ScopeID: "acme", Name: "Folder reader"},
			{ID: "globex_admin", ScopeID: "globex", Name: "Admin"},
		},
		RolePermissions: []authz.RolePermissionInput{
			{RoleID: "admin", PermissionID: "perm_doc_read"}, {RoleID: "admin", PermissionID: "perm_doc_write"},
			{RoleID: "admin", PermissionID: "perm_doc_delete"}, {RoleID: "admin", PermissionID: "perm_doc_approve"},
			{RoleID: "engineer", PermissionID: "perm_doc_read"}, {RoleID: "engineer", PermissionID: "perm_doc_write"},
			{RoleID: "engineer", PermissionID: "perm_doc_approve"},
			{RoleID: "viewer", PermissionID: "perm_doc_read"},
			{RoleID: "folder_reader", PermissionID: "perm_folder_read"},
			{RoleID: "globex_admin", PermissionID: "perm_globex_read"},
		},
		// Nobody deletes engineering documents, not even admins.
		ScopeOverrides: []authz.ScopeOverrideInput{{Kind: authz.OverridePermission, ChildScopeID: "acme_eng", PermissionID: "perm_doc_delete", State: authz.OverrideDisabled}},
		Resources: []authz.ResourceInput{
			{ID: "doc_plan", ResourceTypeID: "rt_document", ScopeID: "acme", ExternalResourceID: "company-plan"},
			{ID: "folder_specs", ResourceTypeID: "rt_folder", ScopeID: "acme_api", ExternalResourceID: "specs"},
			{ID: "doc_design", ResourceTypeID: "rt_document", ScopeID: "acme_api", ExternalResourceID: "api-design"},
			{ID: "doc_pricing", ResourceTypeID: "rt_document", ScopeID: "acme_sales", ExternalResourceID: "pricing"},
			{ID: "doc_secret", ResourceTypeID: "rt_globex_document", ScopeID: "globex", ExternalResourceID: "secret"},
		},
		ResourceEdges:      []authz.ResourceEdgeInput{{ParentResourceID: "folder_specs", ChildResourceID: "doc_design"}},
		ResourceScopeLinks: []authz.ResourceScopeLinkInput{{ResourceID: "doc_pricing", ScopeID: "acme_eng", LinkType: authz.LinkShare}},
		TagGroups: []authz.TagGroupInput{{ID: "tg_sensitivity", ScopeID: "acme", Key: "sensitivity", Name: "Sensitivity",
			Tags: []authz.InlineTagInput{{ID: "tag_public", Identifier: "public", Label: "Public"}, {ID: "tag_confidential", Identifier: "confidential", Label: "Confidential"}}}},
		TagBindings:    []authz.TagBindingInput{{TagGroupID: "tg_sensitivity", ModelType: authz.ModelResource}},
		TagAssignments: []authz.TagAssignmentInput{{TagID: "tag_confidential", TargetType: authz.ModelResource, TargetID: "doc_pricing", ScopeID: "acme"}},
		Collections: []authz.CollectionInput{{ID: "coll_confidential", ScopeID: "acme", ResourceTypeID: "rt_document", Name: "Confidential documents",
			MatchDefinition: cond(`{"tags":{"sensitivity":"confidential"}}`)}},
		ResourcePolicies: []authz.ResourcePolicyInput{{ID: "policy_no_agents", ScopeID: "acme", Name: "No AI agents on confidential documents",
			Target: authz.PolicyTarget{Kind: authz.TargetCollection, CollectionID: "coll_confidential"}, Actions: []string{"*"}, Effect: authz.EffectDeny,
			Priority: 100, SubjectCondition: cond(`{"==":[{"var":"subject.type"},"agent"]}`)}},
	}
}

// request is one question the quickstart asks, with the answer the model
// implies.
type request struct {
	what  string
	in    authz.EvaluateInput
	allow bool
	by    authz.DecidedBy
}

func requests() []request {
	ask := func(actor, scope, action, resource string) authz.EvaluateInput {
		return authz.EvaluateInput{Actor: authz.SubjectRef{SubjectID: actor}, ScopeID: scope, Action: action, Resource: &authz.ResourceRef{ResourceID: resource}}
	}
	onBehalf := func(in authz.EvaluateInput, principal string) authz.EvaluateInput {
		in.OnBehalfOf = &authz.SubjectRef{SubjectID: principal}
		return in
	}
	return []request{
		{"alice (org admin) reads the company plan", ask("alice", "acme", "read", "doc_plan"), true, authz.DecidedByRole},
		{"bob (engineer) reads the API design", ask("bob", "acme_api", "read", "doc_design"), true, authz.DecidedByRole},
		{"bob reads the company plan (roles never flow up)", ask("bob", "acme", "read", "doc_plan"), false, authz.DecidedByDefault},
		{"bob reads pricing, shared into engineering", ask("bob", "acme_eng", "read", "doc_pricing"), true, authz.DecidedByRole},
		{"carol (sales) reads the API design", ask("carol", "acme_sales", "read", "doc_design"), false, authz.DecidedByDefault},
		{"alice deletes the API design (override)", ask("alice", "acme_api", "delete", "doc_design"), false, authz.DecidedByDefault},
		{"alice approves the plan (level >= 3)", ask("alice", "acme", "approve", "doc_plan"), true, authz.DecidedByRole},
		{"bob approves the API design (level 1)", ask("bob", "acme_api", "approve", "doc_design"), false, authz.DecidedByDefault},
		{"dave (folder reader) reads the design in the folder", ask("dave", "acme_api", "read", "doc_design"), true, authz.DecidedByHierarchy},
		{"the agent reads the design for bob", onBehalf(ask("agent", "acme_api", "read", "doc_design"), "bob"), true, authz.DecidedByRole},
		{"the agent reads pricing for bob (confidential)", onBehalf(ask("agent", "acme_eng", "read", "doc_pricing"), "bob"), false, authz.DecidedByPolicy},
		{"mallory (Globex) reads Acme's plan", ask("mallory", "globex", "read", "doc_plan"), false, authz.DecidedByDefault},
		{"mallory reads a Globex document", ask("mallory", "globex", "read", "doc_secret"), true, authz.DecidedByRole},
	}
}
