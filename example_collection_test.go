package authz_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"

	"github.com/scopegate/authz"
)

// A collection selects documents by rules rather than by id
// (docs/collections.md): here finance documents under reports/, tagged
// confidential. A policy on the collection then reaches each of them.
func ExampleClient_MatchesCollection() {
	ctx := context.Background()
	m := saasModel()
	m.Memberships = []authz.MembershipInput{{SubjectID: "alice", ScopeID: "acme", RoleIDs: []string{"editor"}}}
	m.TagGroups = []authz.TagGroupInput{{ID: "tg_sensitivity", ScopeID: "acme", Key: "sensitivity", Name: "Sensitivity",
		Tags: []authz.InlineTagInput{{ID: "tag_confidential", Identifier: "confidential", Label: "Confidential"}}}}
	docType := "rt_doc" // sensitivity tags may go on documents
	m.TagBindings = []authz.TagBindingInput{{TagGroupID: "tg_sensitivity", ModelType: authz.ModelResourceType, ModelID: &docType}}
	m.Resources = []authz.ResourceInput{
		{ID: "doc_q3", ResourceTypeID: "rt_doc", ScopeID: "acme_eng", ExternalResourceID: "reports/2026/q3.pdf", Meta: map[string]any{"department": "finance"}},
		{ID: "doc_q2", ResourceTypeID: "rt_doc", ScopeID: "acme_eng", ExternalResourceID: "reports/2026/q2.pdf", Meta: map[string]any{"department": "finance"}},
		{ID: "doc_uptime", ResourceTypeID: "rt_doc", ScopeID: "acme_eng", ExternalResourceID: "reports/2026/uptime.pdf", Meta: map[string]any{"department": "eng"}},
		{ID: "doc_budget", ResourceTypeID: "rt_doc", ScopeID: "acme_eng", ExternalResourceID: "budget.xlsx", Meta: map[string]any{"department": "finance"}},
	}
	m.TagAssignments = []authz.TagAssignmentInput{
		{TagID: "tag_confidential", TargetType: authz.ModelResource, TargetID: "doc_q3", ScopeID: "acme"},
		{TagID: "tag_confidential", TargetType: authz.ModelResource, TargetID: "doc_uptime", ScopeID: "acme"},
		{TagID: "tag_confidential", TargetType: authz.ModelResource, TargetID: "doc_budget", ScopeID: "acme"},
	}
	m.Collections = []authz.CollectionInput{{
		ID: "confidential_finance", ScopeID: "acme", ResourceTypeID: "rt_doc", Name: "Confidential finance reports",
		MatchDefinition: json.RawMessage(`{
			"fields":   {"department": "finance"},
			"tags":     {"sensitivity": "confidential"},
			"patterns": {"externalResourceId": "reports/*"}
		}`),
	}}
	m.ResourcePolicies = []authz.ResourcePolicyInput{{
		ID: "no_delete_finance", ScopeID: "acme", Name: "Finance reports are kept",
		Target:  authz.PolicyTarget{Kind: authz.TargetCollection, CollectionID: "confidential_finance"},
		Actions: []string{"delete"}, Effect: authz.EffectDeny,
	}}
	c := saasClient(m)

	// doc_q2 is not tagged, doc_uptime is not finance, doc_budget is not
	// under reports/.
	for _, doc := range []string{"doc_q3", "doc_q2", "doc_uptime", "doc_budget"} {
		in, err := c.MatchesCollection(ctx, "confidential_finance", doc)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(doc, "in collection:", in)
	}
	docs, err := c.ListCollectionResources(ctx, "confidential_finance", authz.Page{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("collection:", len(docs), docs[0].ExternalResourceID)
	decide(c, authz.EvaluateInput{Actor: authz.SubjectRef{SubjectID: "alice"}, ScopeID: "acme_eng",
		Action: "delete", Resource: &authz.ResourceRef{ResourceID: "doc_q3"}}, true)
	decide(c, authz.EvaluateInput{Actor: authz.SubjectRef{SubjectID: "alice"}, ScopeID: "acme_eng",
		Action: "delete", Resource: &authz.ResourceRef{ResourceID: "doc_budget"}}, true)
	// Output:
	// doc_q3 in collection: true
	// doc_q2 in collection: false
	// doc_uptime in collection: false
	// doc_budget in collection: false
	// collection: 1 reports/2026/q3.pdf
	// alice delete doc_q3: allowed=false decidedBy=policy
	//   Denied by policy "Finance reports are kept" (no_delete_finance, deny on collection confidential_finance, priority 0, defined at scope acme).
	// alice delete doc_budget: allowed=true decidedBy=role
	//   Allowed: permission document:delete:* is granted through role editor.
}
