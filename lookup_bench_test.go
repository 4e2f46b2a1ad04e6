package authz_test

import (
	"context"
	"fmt"
	"regexp"
	"testing"

	"github.com/scopegate/authz"
	"github.com/scopegate/authz/internal/modelgen"
)

// lookupCases are the lookups BenchmarkModelLookup runs on a generated
// model, each named by what it measures.
type lookupCases struct {
	resources authz.LookupResourcesInput // a subject with a role at a tenant, over the tenant
	subjects  authz.LookupSubjectsInput  // a document: the members above it
	everyone  authz.LookupSubjectsInput  // a collection policy allows every subject
	services  authz.LookupSubjectsInput  // a collection policy allows the services: every subject is decided
}

var tenantScope = regexp.MustCompile(`^t\d+$`)

// findLookupCases picks the cases from the model's batches: the first
// membership at a tenant whose role grants read on a type unconditionally;
// a document in the deepest scope of the first tenant; and an internal resource, which a
// collection policy lets anyone share, and another the services publish.
func findLookupCases(b *testing.B, m *modelgen.Model) lookupCases {
	perms := map[string]authz.PermissionInput{}
	grants := map[string][]authz.PermissionInput{} // role → unconditional read permissions
	var members []authz.MembershipInput
	var resources []authz.ResourceInput
	for _, bt := range m.Batches {
		for _, p := range bt.Permissions {
			perms[p.ID] = p
		}
		for _, rp := range bt.RolePermissions {
			if p := perms[rp.PermissionID]; p.Action == "read" && rp.Condition == nil {
				grants[rp.RoleID] = append(grants[rp.RoleID], p)
			}
		}
		members = append(members, bt.Memberships...)
		resources = append(resources, bt.Resources...)
	}
	var cs lookupCases
	for _, mb := range members {
		if tenantScope.MatchString(mb.ScopeID) && len(grants[mb.RoleIDs[0]]) > 0 {
			cs.resources = authz.LookupResourcesInput{Actor: authz.SubjectRef{SubjectID: mb.SubjectID}, ScopeID: mb.ScopeID, Action: "read",
				ResourceType: grants[mb.RoleIDs[0]][0].ResourceType}
			break
		}
	}
	deepest := -1
	for _, r := range resources {
		var n int
		if _, err := fmt.Sscanf(r.ScopeID, "t0.s%d", &n); err == nil && n > deepest && r.ResourceTypeID == "t0.rt.document" {
			// Scopes are numbered level by level: the highest is deepest.
			deepest = n
			cs.subjects = authz.LookupSubjectsInput{ScopeID: r.ScopeID, Action: "read", Resource: authz.ResourceRef{ResourceID: r.ID}}
		}
		if cs.everyone.ScopeID == "" && r.ResourceTypeID == "t0.rt.document" && r.Meta["classification"] == "internal" {
			cs.everyone = authz.LookupSubjectsInput{ScopeID: r.ScopeID, Action: "share", Resource: authz.ResourceRef{ResourceID: r.ID}}
			cs.services = authz.LookupSubjectsInput{ScopeID: r.ScopeID, Action: modelgen.ActionPublish, Resource: authz.ResourceRef{ResourceID: r.ID}}
		}
	}
	if cs.resources.ScopeID == "" || cs.subjects.ScopeID == "" || cs.everyone.ScopeID == "" {
		b.Fatalf("no lookup cases in the model: %+v", cs)
	}
	return cs
}

// BenchmarkModelLookup measures the lookups per size and backend:
// ListAllowedResources for a subject over a tenant, whole and first page of
// 100, and ListAllowedSubjects on a document (through roles), on a
// resource a policy opens to every subject, and on one a policy opens to
// the subjects its condition accepts. Each reports the length of
// its answer as results/op.
func BenchmarkModelLookup(b *testing.B) {
	for _, size := range sizes(b) {
		for _, backend := range benchBackends {
			b.Run(size+"/"+backend, func(b *testing.B) {
				l := load(b, size, backend)
				cs := findLookupCases(b, l.model)
				first := cs.resources
				first.Limit = 100
				run := func(name string, lookup func() (int, error)) {
					b.Run(name, func(b *testing.B) {
						b.ReportAllocs()
						n := 0
						for b.Loop() {
							var err error
							if n, err = lookup(); err != nil {
								b.Fatal(err)
							}
						}
						b.ReportMetric(float64(n), "results/op")
					})
				}
				resources := func(in authz.LookupResourcesInput) func() (int, error) {
					return func() (int, error) {
						p, err := l.client.ListAllowedResources(context.Background(), in)
						return len(p.Resources), err
					}
				}
				subjects := func(in authz.LookupSubjectsInput) func() (int, error) {
					return func() (int, error) {
						p, err := l.client.ListAllowedSubjects(context.Background(), in)
						return len(p.Subjects), err
					}
				}
				run("resources-all", resources(cs.resources))
				run("resources-first-page", resources(first))
				run("subjects-roles", subjects(cs.subjects))
				run("subjects-policy", subjects(cs.everyone))
				run("subjects-policy-condition", subjects(cs.services))
			})
		}
	}
}
