package authz_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/scopegate/authz"
	"github.com/scopegate/authz/memstore"
)

// exampleClient returns a client over a fresh in-memory store with a tiny
// model: an org with a team, a document in the team, alice (viewer at the
// org) and an agent.
func exampleClient() *authz.Client {
	c, err := authz.New(memstore.New(), nil)
	if err != nil {
		log.Fatal(err)
	}
	_, err = c.Apply(context.Background(), tinyModel())
	if err != nil {
		log.Fatal(err)
	}
	return c
}

// tinyModel is the model of exampleClient: an org with a team, a document in
// the team, alice (viewer at the org) and an agent.
func tinyModel() authz.Batch {
	return authz.Batch{
		ScopeTypes:     []authz.ScopeTypeInput{{ID: "org", Name: "Org", Config: authz.ScopeTypeConfig{PermissionMode: authz.PermissionModeDefine}}, {ID: "team", Name: "Team"}},
		ScopeTypeEdges: []authz.ScopeTypeEdgeInput{{ParentTypeID: "org", ChildTypeID: "team"}},
		Scopes:         []authz.ScopeInput{{ID: "acme", TypeID: "org"}, {ID: "eng", TypeID: "team", ParentScopeID: "acme"}},
		Subjects: []authz.SubjectInput{
			{ID: "alice", SubjectType: authz.SubjectUser, ExternalID: "alice", Memberships: []authz.SubjectMembershipInput{{ScopeID: "acme", RoleIDs: []string{"viewer"}}}},
			{ID: "bot", SubjectType: authz.SubjectAgent, ExternalID: "bot"},
		},
		ResourceTypes:   []authz.ResourceTypeInput{{ID: "rt_doc", ScopeID: "acme", Key: "document", Name: "Document"}},
		Permissions:     []authz.PermissionInput{{ID: "doc_read", ScopeID: "acme", Action: "read", ResourceType: "document"}},
		Roles:           []authz.RoleInput{{ID: "viewer", ScopeID: "acme", Name: "Viewer"}},
		RolePermissions: []authz.RolePermissionInput{{RoleID: "viewer", PermissionID: "doc_read"}},
		Resources:       []authz.ResourceInput{{ID: "doc_1", ResourceTypeID: "rt_doc", ScopeID: "eng", ExternalResourceID: "design"}},
	}
}

func ExampleNew() {
	store := memstore.New()
	defer store.Close() // the Client never closes the store it was given
	c, err := authz.New(store, nil)
	if err != nil {
		log.Fatal(err)
	}
	rev, _ := c.Revision(context.Background())
	fmt.Println("revision", rev)
	// Output: revision 0
}

func ExampleClient_CreateScopes() {
	ctx := context.Background()
	c, _ := authz.New(memstore.New(), nil)
	c.CreateScopeTypes(ctx, []authz.ScopeTypeInput{{ID: "dept", Name: "Department"}, {ID: "team", Name: "Team"}})
	c.CreateScopeTypeEdge(ctx, authz.ScopeTypeEdgeInput{ParentTypeID: "dept", ChildTypeID: "team"})
	// The first scope names its parent, created later in the same batch.
	scopes, err := c.CreateScopes(ctx, []authz.ScopeInput{
		{ID: "backend", TypeID: "team", Name: "Backend", ParentScopeID: "engineering"},
		{ID: "engineering", TypeID: "dept", Name: "Engineering"},
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, s := range scopes {
		fmt.Println(s.ID, s.Name)
	}
	children, _ := c.ListScopes(ctx, authz.ScopeFilter{ParentScopeID: "engineering"})
	fmt.Println("children of engineering:", len(children), children[0].ID)
	// Output:
	// backend Backend
	// engineering Engineering
	// children of engineering: 1 backend
}

func ExampleClient_Evaluate() {
	c := exampleClient()
	d, err := c.Evaluate(context.Background(), authz.EvaluateInput{
		Actor:    authz.SubjectRef{SubjectID: "alice"},
		ScopeID:  "eng",
		Action:   "read",
		Resource: &authz.ResourceRef{ResourceID: "doc_1"},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(d.Allowed, d.DecidedBy)
	fmt.Println(d.Explanation)
	// Output:
	// true role
	// Allowed: permission document:read:* is granted through role viewer.
}

func ExampleClient_Evaluate_delegation() {
	c := exampleClient()
	d, _ := c.Evaluate(context.Background(), authz.EvaluateInput{
		Actor:      authz.SubjectRef{SubjectID: "bot"},
		OnBehalfOf: &authz.SubjectRef{SubjectID: "alice"},
		ScopeID:    "eng",
		Action:     "read",
		Resource:   &authz.ResourceRef{ResourceID: "doc_1"},
	})
	fmt.Println("allowed:", d.Allowed)
	fmt.Println("actor:", d.Delegation.Actor.Allowed, "on behalf of:", d.Delegation.OnBehalfOf.Allowed)
	// Output:
	// allowed: false
	// actor: false on behalf of: true
}

func ExampleClient_ListAllowedResources() {
	c := exampleClient()
	page, err := c.ListAllowedResources(context.Background(), authz.LookupResourcesInput{
		Actor:        authz.SubjectRef{SubjectID: "alice"},
		ScopeID:      "acme",
		Action:       "read",
		ResourceType: "document",
		Page:         authz.Page{Limit: 100},
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range page.Resources {
		fmt.Println(r.ResourceID, r.ExternalResourceID)
	}
	fmt.Printf("next page: %q\n", page.Next)
	// Output:
	// doc_1 design
	// next page: ""
}

func ExampleClient_ListAllowedSubjects() {
	c := exampleClient()
	page, err := c.ListAllowedSubjects(context.Background(), authz.LookupSubjectsInput{
		ScopeID:  "eng",
		Action:   "read",
		Resource: authz.ResourceRef{ResourceID: "doc_1"},
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, s := range page.Subjects {
		fmt.Println(s.SubjectID, s.SubjectType)
	}
	// Output:
	// alice user
}

func ExampleBatchError() {
	c := exampleClient()
	_, err := c.CreateScopes(context.Background(), []authz.ScopeInput{
		{ID: "ok", TypeID: "team", ParentScopeID: "acme"},
		{ID: "scope_backend", TypeID: "team", ParentScopeID: "scope_nope"},
	})
	var be *authz.BatchError
	if errors.As(err, &be) {
		for _, it := range be.Items {
			fmt.Println(it.Index, it.Field, errors.Is(it, authz.ErrNotFound))
		}
	}
	fmt.Println(err)
	// Output:
	// 1 parentScopeId true
	// create scopes: item 1 (scope_backend): parentScopeId: scope "scope_nope": not found
}

func ExampleClient_Apply() {
	ctx := context.Background()
	c, _ := authz.New(memstore.New(), nil)
	// One atomic import across kinds: the membership's role is defined
	// after the scope that uses it, and the subject comes last.
	res, err := c.Apply(ctx, authz.Batch{
		ScopeTypes: []authz.ScopeTypeInput{{ID: "org", Name: "Org"}},
		Scopes: []authz.ScopeInput{{ID: "acme", TypeID: "org",
			Memberships: []authz.ScopeMembershipInput{{SubjectID: "jane", RoleIDs: []string{"admin"}}}}},
		Roles:    []authz.RoleInput{{ID: "admin", ScopeID: "acme", Name: "Admin"}},
		Subjects: []authz.SubjectInput{{ID: "jane", SubjectType: authz.SubjectUser, ExternalID: "jane@acme.example"}},
	})
	if err != nil {
		log.Fatal(err)
	}
	ms, _ := c.ListMemberships(ctx, authz.MembershipFilter{SubjectID: "jane"})
	fmt.Println(len(res.Scopes), len(res.Roles), len(res.Subjects), "membership in", ms[0].ScopeID)
	// Output: 1 1 1 membership in acme
}
