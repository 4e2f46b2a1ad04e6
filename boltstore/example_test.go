package boltstore_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/scopegate/authz"
	"github.com/scopegate/authz/boltstore"
)

// A model loaded into a bolt file outlives the process: load it, close the
// store, reopen the file (as after a restart) and evaluate.
func ExampleOpen() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "authz-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "authz.bolt")

	// First run: Open creates the file; load the model.
	store, err := boltstore.Open(path, nil)
	if err != nil {
		log.Fatal(err)
	}
	c, err := authz.New(store, nil)
	if err != nil {
		log.Fatal(err)
	}
	_, err = c.Apply(ctx, authz.Batch{
		ScopeTypes: []authz.ScopeTypeInput{
			{ID: "org", Name: "Organization", Config: authz.ScopeTypeConfig{PermissionMode: authz.PermissionModeDefine}},
			{ID: "workspace", Name: "Workspace"},
		},
		ScopeTypeEdges: []authz.ScopeTypeEdgeInput{{ParentTypeID: "org", ChildTypeID: "workspace"}},
		Scopes: []authz.ScopeInput{
			{ID: "acme", TypeID: "org", Name: "Acme"},
			{ID: "acme_eng", TypeID: "workspace", Name: "Engineering", ParentScopeID: "acme"},
		},
		Subjects: []authz.SubjectInput{
			{ID: "alice", SubjectType: authz.SubjectUser, ExternalID: "alice@acme.example",
				Memberships: []authz.SubjectMembershipInput{{ScopeID: "acme_eng", RoleIDs: []string{"editor"}}}},
			{ID: "bob", SubjectType: authz.SubjectUser, ExternalID: "bob@acme.example"},
		},
		Roles:           []authz.RoleInput{{ID: "editor", ScopeID: "acme", Name: "Editor"}},
		ResourceTypes:   []authz.ResourceTypeInput{{ID: "rt_doc", ScopeID: "acme", Key: "document", Name: "Document"}},
		Permissions:     []authz.PermissionInput{{ID: "doc_write", ScopeID: "acme", Action: "write", ResourceType: "document"}},
		RolePermissions: []authz.RolePermissionInput{{RoleID: "editor", PermissionID: "doc_write"}},
		Resources:       []authz.ResourceInput{{ID: "doc_spec", ResourceTypeID: "rt_doc", ScopeID: "acme_eng", ExternalResourceID: "spec"}},
	})
	if err != nil {
		log.Fatal(err)
	}
	rev, err := c.Revision(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("loaded at revision", rev)
	if err := store.Close(); err != nil { // the Client never closes its store
		log.Fatal(err)
	}

	// Second run: reopen the file; the model is there.
	store, err = boltstore.Open(path, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	c, err = authz.New(store, nil)
	if err != nil {
		log.Fatal(err)
	}
	rev, err = c.Revision(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("reopened at revision", rev)
	scopes, err := c.ListScopes(ctx, authz.ScopeFilter{ParentScopeID: "acme"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("workspaces of acme:", len(scopes), scopes[0].ID)
	for _, who := range []string{"alice", "bob"} {
		d, err := c.Evaluate(ctx, authz.EvaluateInput{
			Actor: authz.SubjectRef{SubjectID: who}, ScopeID: "acme_eng",
			Action: "write", Resource: &authz.ResourceRef{ExternalResourceID: "spec", ResourceType: "document"},
		})
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s write spec: allowed=%v decidedBy=%s\n", who, d.Allowed, d.DecidedBy)
	}
	// Output:
	// loaded at revision 1
	// reopened at revision 1
	// workspaces of acme: 1 acme_eng
	// alice write spec: allowed=true decidedBy=role
	// bob write spec: allowed=false decidedBy=default
}
