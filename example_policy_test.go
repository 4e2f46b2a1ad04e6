package authz_test

import (
	"encoding/json"

	"github.com/scopegate/authz"
)

// Resource policies decide before roles: a deny policy takes away what a
// role grants, an allow policy grants without any role, and the applicable
// policy of highest priority decides (docs/decisions.md#step-1-resource-policies).
// Here a contract under legal hold can be neither read nor changed, except
// that auditors may read it.
func ExampleResourcePolicy() {
	m := saasModel()
	m.Memberships = []authz.MembershipInput{{SubjectID: "alice", ScopeID: "acme_eng", RoleIDs: []string{"editor"}}}
	m.Subjects[1].Meta = map[string]any{"auditor": true} // bob holds no role
	m.Resources = []authz.ResourceInput{
		{ID: "doc_rfc", ResourceTypeID: "rt_doc", ScopeID: "acme_api", ExternalResourceID: "rfc-12"},
		{ID: "doc_contract", ResourceTypeID: "rt_doc", ScopeID: "acme_api", ExternalResourceID: "contract-2026"},
	}
	m.ResourcePolicies = []authz.ResourcePolicyInput{
		{
			ID: "legal_hold", ScopeID: "acme", Name: "Legal hold",
			Target:  authz.PolicyTarget{Kind: authz.TargetResource, ResourceID: "doc_contract"},
			Actions: []string{"*"}, Effect: authz.EffectDeny, Priority: 100,
		},
		{
			ID: "auditors_read", ScopeID: "acme", Name: "Auditors read contracts",
			Target:           authz.PolicyTarget{Kind: authz.TargetResource, ResourceID: "doc_contract"},
			Actions:          []string{"read"},
			Effect:           authz.EffectAllow,
			Priority:         200,
			SubjectCondition: json.RawMessage(`{"==":[{"var":"subject.meta.auditor"},true]}`),
		},
	}
	c := saasClient(m)

	ask := func(who, action, doc string) {
		decide(c, authz.EvaluateInput{Actor: authz.SubjectRef{SubjectID: who}, ScopeID: "acme_api",
			Action: action, Resource: &authz.ResourceRef{ResourceID: doc}}, true)
	}
	ask("alice", "write", "doc_rfc")      // the editor role grants
	ask("alice", "write", "doc_contract") // the deny policy wins over the role
	ask("alice", "read", "doc_contract")  // the deny policy covers every action
	ask("bob", "read", "doc_contract")    // the allow policy comes first and grants without a role
	ask("ci_bot", "read", "doc_contract") // not an auditor: the deny policy decides
	ask("bob", "read", "doc_rfc")         // no policy, no role
	// Output:
	// alice write doc_rfc: allowed=true decidedBy=role
	//   Allowed: permission document:write:* is granted through role editor.
	// alice write doc_contract: allowed=false decidedBy=policy
	//   Denied by policy "Legal hold" (legal_hold, deny on resource doc_contract, priority 100, defined at scope acme).
	// alice read doc_contract: allowed=false decidedBy=policy
	//   Denied by policy "Legal hold" (legal_hold, deny on resource doc_contract, priority 100, defined at scope acme).
	// bob read doc_contract: allowed=true decidedBy=policy
	//   Allowed by policy "Auditors read contracts" (auditors_read, allow on resource doc_contract, priority 200, defined at scope acme).
	// ci_bot read doc_contract: allowed=false decidedBy=policy
	//   Denied by policy "Legal hold" (legal_hold, deny on resource doc_contract, priority 100, defined at scope acme).
	// bob read doc_rfc: allowed=false decidedBy=default
	//   Denied: the subject has no membership at or above the request scope that reaches the resource.
}
