package authz_test

import (
	"fmt"

	"github.com/scopegate/authz"
)

// With OnBehalfOf, an agent acting for a person is allowed only what both
// may do: the actor and the principal are each evaluated, and the Decision
// holds both sub-decisions (docs/decisions.md#delegation). Here the CI bot
// may read and write documents of the API project; alice edits (and may
// delete), bob only reads.
func ExampleDelegation() {
	m := saasModel()
	m.Roles = append(m.Roles, authz.RoleInput{ID: "ci", ScopeID: "acme", Name: "CI"})
	m.RolePermissions = append(m.RolePermissions,
		authz.RolePermissionInput{RoleID: "ci", PermissionID: "doc_read"},
		authz.RolePermissionInput{RoleID: "ci", PermissionID: "doc_write"},
	)
	m.Memberships = []authz.MembershipInput{
		{SubjectID: "ci_bot", ScopeID: "acme_api", RoleIDs: []string{"ci"}},
		{SubjectID: "alice", ScopeID: "acme_eng", RoleIDs: []string{"editor"}},
		{SubjectID: "bob", ScopeID: "acme", RoleIDs: []string{"viewer"}},
	}
	m.Resources = []authz.ResourceInput{{ID: "doc_spec", ResourceTypeID: "rt_doc", ScopeID: "acme_api", ExternalResourceID: "spec"}}
	c := saasClient(m)

	ask := func(forWhom, action string) {
		d := decide(c, authz.EvaluateInput{
			Actor:      authz.SubjectRef{SubjectID: "ci_bot"},
			OnBehalfOf: &authz.SubjectRef{SubjectID: forWhom},
			ScopeID:    "acme_api", Action: action, Resource: &authz.ResourceRef{ResourceID: "doc_spec"},
		}, true)
		fmt.Printf("  actor allowed=%v, on behalf of allowed=%v\n", d.Delegation.Actor.Allowed, d.Delegation.OnBehalfOf.Allowed)
	}
	ask("alice", "write")  // both may write
	ask("bob", "write")    // bob may not: the bot cannot write for him
	ask("alice", "delete") // alice may, the bot may not
	// Output:
	// ci_bot for alice write doc_spec: allowed=true decidedBy=role
	//   Allowed: both the actor ci_bot and alice, on whose behalf it acts, are allowed (allowed: permission document:write:* is granted through role ci; allowed: permission document:write:* is granted through role editor).
	//   actor allowed=true, on behalf of allowed=true
	// ci_bot for bob write doc_spec: allowed=false decidedBy=default
	//   Denied: ci_bot acts on behalf of bob, who is not allowed: denied: no role of the subject grants the action on the resource.
	//   actor allowed=true, on behalf of allowed=false
	// ci_bot for alice delete doc_spec: allowed=false decidedBy=default
	//   Denied: the actor ci_bot may not act here: denied: no role of the subject grants the action on the resource.
	//   actor allowed=false, on behalf of allowed=true
}
