package authz_test

import (
	"context"
	"fmt"
	"log"

	"github.com/scopegate/authz"
	"github.com/scopegate/authz/memstore"
)

// saasModel is the base model of the feature examples: a SaaS tenant acme
// (an org, a define scope) with the workspace acme_eng and, in it, the
// projects acme_api and acme_web. The org defines the document type, the
// actions read, write and delete, and two roles: viewer (read) and editor
// (read, write, delete). alice and bob are users, ci_bot an agent; nobody
// holds a role yet. Each example adds what it shows to this batch.
func saasModel() authz.Batch {
	return authz.Batch{
		ScopeTypes: []authz.ScopeTypeInput{
			{ID: "org", Name: "Organization", Config: authz.ScopeTypeConfig{PermissionMode: authz.PermissionModeDefine}},
			{ID: "workspace", Name: "Workspace"},
			{ID: "project", Name: "Project"},
		},
		ScopeTypeEdges: []authz.ScopeTypeEdgeInput{
			{ParentTypeID: "org", ChildTypeID: "workspace"},
			{ParentTypeID: "workspace", ChildTypeID: "project"},
		},
		Scopes: []authz.ScopeInput{
			{ID: "acme", TypeID: "org", Name: "Acme"},
			{ID: "acme_eng", TypeID: "workspace", Name: "Engineering", ParentScopeID: "acme"},
			{ID: "acme_api", TypeID: "project", Name: "API", ParentScopeID: "acme_eng"},
			{ID: "acme_web", TypeID: "project", Name: "Web", ParentScopeID: "acme_eng"},
		},
		Subjects: []authz.SubjectInput{
			{ID: "alice", SubjectType: authz.SubjectUser, ExternalID: "alice@acme.example"},
			{ID: "bob", SubjectType: authz.SubjectUser, ExternalID: "bob@acme.example"},
			{ID: "ci_bot", SubjectType: authz.SubjectAgent, ExternalID: "ci-bot"},
		},
		ResourceTypes: []authz.ResourceTypeInput{{ID: "rt_doc", ScopeID: "acme", Key: "document", Name: "Document"}},
		Permissions: []authz.PermissionInput{
			{ID: "doc_read", ScopeID: "acme", Action: "read", ResourceType: "document"},
			{ID: "doc_write", ScopeID: "acme", Action: "write", ResourceType: "document"},
			{ID: "doc_delete", ScopeID: "acme", Action: "delete", ResourceType: "document"},
		},
		Roles: []authz.RoleInput{
			{ID: "viewer", ScopeID: "acme", Name: "Viewer"},
			{ID: "editor", ScopeID: "acme", Name: "Editor"},
		},
		RolePermissions: []authz.RolePermissionInput{
			{RoleID: "viewer", PermissionID: "doc_read"},
			{RoleID: "editor", PermissionID: "doc_read"},
			{RoleID: "editor", PermissionID: "doc_write"},
			{RoleID: "editor", PermissionID: "doc_delete"},
		},
	}
}

// saasClient returns a client over a fresh in-memory store holding b.
func saasClient(b authz.Batch) *authz.Client {
	c, err := authz.New(memstore.New(), nil)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := c.Apply(context.Background(), b); err != nil {
		log.Fatal(err)
	}
	return c
}

// decide evaluates in and prints the decision on one line: the question,
// allowed, decidedBy and, when withWhy is set, the explanation.
func decide(c *authz.Client, in authz.EvaluateInput, withWhy bool) authz.Decision {
	d, err := c.Evaluate(context.Background(), in)
	if err != nil {
		log.Fatal(err)
	}
	q := fmt.Sprintf("%s %s %s", in.Actor.SubjectID, in.Action, in.Resource.ResourceID)
	if in.OnBehalfOf != nil {
		q = fmt.Sprintf("%s for %s %s %s", in.Actor.SubjectID, in.OnBehalfOf.SubjectID, in.Action, in.Resource.ResourceID)
	}
	fmt.Printf("%s: allowed=%v decidedBy=%s\n", q, d.Allowed, d.DecidedBy)
	if withWhy {
		fmt.Println("  " + d.Explanation)
	}
	return d
}
