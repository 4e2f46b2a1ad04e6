package authz_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/scopegate/authz"
)

func scopeIDOf(s authz.Scope) string { return s.ID }

// TestScopeHierarchyQueries: ids, ancestors and descendants of scopes,
// breadth-first, paged, with their errors.
func TestScopeHierarchyQueries(t *testing.T) {
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		resourceFixture(t, c) // scope_acme → scope_eng → scope_api, projects a, b, c; scope_globex
		anc := func(id string, q authz.TreeQuery) []string {
			t.Helper()
			return resIDs(must(c.ListScopeAncestors(ctx, id, q))(t), scopeIDOf)
		}
		desc := func(id string, q authz.TreeQuery) []string {
			t.Helper()
			return resIDs(must(c.ListScopeDescendants(ctx, id, q))(t), scopeIDOf)
		}
		for _, tc := range []struct {
			name      string
			got, want []string
		}{
			{"ancestors, nearest first", anc("scope_project_b", authz.TreeQuery{}), []string{"scope_eng", "scope_acme"}},
			{"parent", anc("scope_project_b", authz.TreeQuery{Depth: 1}), []string{"scope_eng"}},
			{"root has none", anc("scope_acme", authz.TreeQuery{}), []string{}},
			{"ancestors paged", anc("scope_project_b", authz.TreeQuery{Page: authz.Page{Limit: 1, After: "scope_eng"}}), []string{"scope_acme"}},
			{"children", desc("scope_eng", authz.TreeQuery{Depth: 1}), []string{"scope_api", "scope_project_a", "scope_project_b", "scope_project_c"}},
			{"descendants, level by level", desc("scope_acme", authz.TreeQuery{}), []string{"scope_eng", "scope_api", "scope_project_a", "scope_project_b", "scope_project_c"}},
			{"descendants paged", desc("scope_acme", authz.TreeQuery{Page: authz.Page{Limit: 2, After: "scope_api"}}), []string{"scope_project_a", "scope_project_b"}},
			{"leaf has none", desc("scope_api", authz.TreeQuery{}), []string{}},
			{"ids", resIDs(must(c.ListScopes(ctx, authz.ScopeFilter{IDs: []string{"scope_globex", "scope_api", "nope", "scope_api"}}))(t), scopeIDOf), []string{"scope_api", "scope_globex"}},
			{"ids under a parent", resIDs(must(c.ListScopes(ctx, authz.ScopeFilter{IDs: []string{"scope_globex", "scope_api"}, ParentScopeID: "scope_eng"}))(t), scopeIDOf), []string{"scope_api"}},
			{"ids of a type", resIDs(must(c.ListScopes(ctx, authz.ScopeFilter{IDs: []string{"scope_globex", "scope_api"}, TypeID: "type_org"}))(t), scopeIDOf), []string{"scope_globex"}},
		} {
			if d := cmp.Diff(tc.want, tc.got); d != "" {
				t.Errorf("%s (-want +got):\n%s", tc.name, d)
			}
		}
		_, err := c.ListScopeAncestors(ctx, "nope", authz.TreeQuery{})
		wantErr(t, err, authz.ErrNotFound)
		_, err = c.ListScopeDescendants(ctx, "doc_readme", authz.TreeQuery{}) // a resource, not a scope
		wantErr(t, err, authz.ErrNotFound)
		_, err = c.ListScopeDescendants(ctx, "scope_acme", authz.TreeQuery{CascadeOnly: true})
		wantErr(t, err, authz.ErrInvalid)
		_, err = c.ListScopeDescendants(ctx, "scope_acme", authz.TreeQuery{Page: authz.Page{After: "scope_globex"}})
		wantErr(t, err, authz.ErrInvalid)
		_, err = c.ListScopeDescendants(ctx, "scope_acme", authz.TreeQuery{Depth: -1})
		wantErr(t, err, authz.ErrInvalid)
	})
}

// TestResourceHierarchyQueries walks a DAG with a none edge: f_a → f_b
// (inherit) → doc_readme (none), and f_c → doc_readme (inherit).
func TestResourceHierarchyQueries(t *testing.T) {
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		resourceFixture(t, c)
		must(c.CreateResourceEdges(ctx, []authz.ResourceEdgeInput{
			{ParentResourceID: "f_a", ChildResourceID: "f_b"},
			{ParentResourceID: "f_b", ChildResourceID: "doc_readme", Cascade: authz.CascadeNone},
			{ParentResourceID: "f_c", ChildResourceID: "doc_readme"},
		}))(t)
		anc := func(id string, q authz.TreeQuery) []string {
			t.Helper()
			return resIDs(must(c.ListResourceAncestors(ctx, id, q))(t), resIDOf)
		}
		desc := func(id string, q authz.TreeQuery) []string {
			t.Helper()
			return resIDs(must(c.ListResourceDescendants(ctx, id, q))(t), resIDOf)
		}
		for _, tc := range []struct {
			name      string
			got, want []string
		}{
			{"parents", anc("doc_readme", authz.TreeQuery{Depth: 1}), []string{"f_b", "f_c"}},
			{"ancestors", anc("doc_readme", authz.TreeQuery{}), []string{"f_b", "f_c", "f_a"}},
			{"ancestors through cascading edges", anc("doc_readme", authz.TreeQuery{CascadeOnly: true}), []string{"f_c"}},
			{"ancestors paged", anc("doc_readme", authz.TreeQuery{Page: authz.Page{Limit: 5, After: "f_c"}}), []string{"f_a"}},
			{"children", desc("f_a", authz.TreeQuery{Depth: 1}), []string{"f_b"}},
			{"descendants", desc("f_a", authz.TreeQuery{}), []string{"f_b", "doc_readme"}},
			{"descendants a permission reaches", desc("f_a", authz.TreeQuery{CascadeOnly: true}), []string{"f_b"}},
			{"none", desc("doc_readme", authz.TreeQuery{}), []string{}},
		} {
			if d := cmp.Diff(tc.want, tc.got); d != "" {
				t.Errorf("%s (-want +got):\n%s", tc.name, d)
			}
		}
		_, err := c.ListResourceAncestors(ctx, "scope_acme", authz.TreeQuery{})
		wantErr(t, err, authz.ErrNotFound)
	})
}

// TestResourceHierarchyQueriesAgreeWithEdges compares the walks with a
// transitive closure computed from ListResourceEdges on random DAGs.
func TestResourceHierarchyQueriesAgreeWithEdges(t *testing.T) {
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		resourceFixture(t, c)
		const n = 12
		var res []authz.ResourceInput
		for i := range n {
			// Ids out of creation order, so that the order of the answers
			// (level by level, each in id order) is the walk's own.
			res = append(res, authz.ResourceInput{ID: "r" + string(rune('a'+(i*5)%n)), ResourceTypeID: "rt_folder", ScopeID: "scope_eng", ExternalResourceID: "x" + string(rune('a'+i))})
		}
		must(c.CreateResources(ctx, res))(t)
		var edges []authz.ResourceEdgeInput
		seed := uint32(7)
		for i := range n {
			for j := i + 1; j < n; j++ {
				seed = seed*1664525 + 1013904223
				if seed%5 == 0 {
					cas := authz.CascadeInherit
					if seed%3 == 0 {
						cas = authz.CascadeNone
					}
					edges = append(edges, authz.ResourceEdgeInput{ParentResourceID: res[i].ID, ChildResourceID: res[j].ID, Cascade: cas})
				}
			}
		}
		must(c.CreateResourceEdges(ctx, edges))(t)
		// closure by brute force, breadth first: every resource reachable
		// down from a, level by level, each level in id order
		reach := func(from string, cascadeOnly bool) []string {
			seen := map[string]bool{from: true}
			out := []string{}
			for level := []string{from}; len(level) > 0; {
				var next []string
				for _, x := range level {
					for _, e := range edges {
						if e.ParentResourceID == x && (!cascadeOnly || e.Cascade == authz.CascadeInherit) && !seen[e.ChildResourceID] {
							seen[e.ChildResourceID] = true
							next = append(next, e.ChildResourceID)
						}
					}
				}
				slices.Sort(next)
				out = append(out, next...)
				level = next
			}
			return out
		}
		for _, r := range res {
			for _, cascadeOnly := range []bool{false, true} {
				got := resIDs(must(c.ListResourceDescendants(ctx, r.ID, authz.TreeQuery{CascadeOnly: cascadeOnly}))(t), resIDOf)
				if d := cmp.Diff(reach(r.ID, cascadeOnly), got); d != "" {
					t.Errorf("descendants of %s (cascadeOnly %v) (-want +got):\n%s", r.ID, cascadeOnly, d)
				}
				// a is an ancestor of b exactly when b is a descendant of a
				for _, b := range res {
					isDesc := slices.Contains(reach(r.ID, cascadeOnly), b.ID)
					anc := resIDs(must(c.ListResourceAncestors(ctx, b.ID, authz.TreeQuery{CascadeOnly: cascadeOnly}))(t), resIDOf)
					if slices.Contains(anc, r.ID) != isDesc {
						t.Errorf("%s among the ancestors of %s (cascadeOnly %v): got %v; want %v", r.ID, b.ID, cascadeOnly, !isDesc, isDesc)
					}
				}
			}
		}
	})
}

func TestLinkTypeFilter(t *testing.T) {
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		resourceFixture(t, c)
		must(c.CreateResourceScopeLinks(ctx, []authz.ResourceScopeLinkInput{
			{ID: "l1", ResourceID: "f_a", ScopeID: "scope_project_a", LinkType: authz.LinkShare},
			{ID: "l2", ResourceID: "f_a", ScopeID: "scope_project_b", LinkType: authz.LinkAlias},
			{ID: "l3", ResourceID: "f_b", ScopeID: "scope_project_a", LinkType: authz.LinkShare},
		}))(t)
		list := func(f authz.ResourceScopeLinkFilter) []string {
			t.Helper()
			return resIDs(must(c.ListResourceScopeLinks(ctx, f))(t), linkIDOf)
		}
		for _, tc := range []struct {
			name      string
			got, want []string
		}{
			{"type alone", list(authz.ResourceScopeLinkFilter{LinkType: authz.LinkShare}), []string{"l1", "l3"}},
			{"type and resource", list(authz.ResourceScopeLinkFilter{LinkType: authz.LinkAlias, ResourceID: "f_a"}), []string{"l2"}},
			{"type and scope", list(authz.ResourceScopeLinkFilter{LinkType: authz.LinkAlias, ScopeID: "scope_project_a"}), []string{}},
			{"type paged", list(authz.ResourceScopeLinkFilter{LinkType: authz.LinkShare, Page: authz.Page{After: "l1"}}), []string{"l3"}},
		} {
			if d := cmp.Diff(tc.want, tc.got); d != "" {
				t.Errorf("%s (-want +got):\n%s", tc.name, d)
			}
		}
		_, err := c.ListResourceScopeLinks(ctx, authz.ResourceScopeLinkFilter{LinkType: "copy"})
		wantErr(t, err, authz.ErrInvalid)
		_, err = c.ListResourceScopeLinks(ctx, authz.ResourceScopeLinkFilter{})
		wantErr(t, err, authz.ErrInvalid)
	})
}

// TestOwnershipTransfer: ownerId changes with UpdateResource, and the
// "owned" pattern follows the new owner.
func TestOwnershipTransfer(t *testing.T) {
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		resourceFixture(t, c)
		must(c.Apply(ctx, authz.Batch{
			Permissions:     []authz.PermissionInput{{ID: "p_own", ScopeID: "scope_acme", Action: "edit", ResourceType: "document", ResourcePattern: "owned"}},
			RolePermissions: []authz.RolePermissionInput{{RoleID: "role_admin", PermissionID: "p_own"}},
			Memberships: []authz.MembershipInput{{SubjectID: "subject_jane", ScopeID: "scope_acme", RoleIDs: []string{"role_admin"}},
				{SubjectID: "subject_bob", ScopeID: "scope_acme", RoleIDs: []string{"role_admin"}}},
		}))(t)
		must(c.UpdateResource(ctx, "doc_readme", authz.ResourcePatch{OwnerID: ptr("subject_jane")}))(t)
		allowed := func(who string) bool {
			t.Helper()
			d := must(c.Evaluate(ctx, authz.EvaluateInput{Actor: authz.SubjectRef{SubjectID: who}, ScopeID: "scope_api", Action: "edit",
				Resource: &authz.ResourceRef{ResourceID: "doc_readme"}}))(t)
			return d.Allowed
		}
		if !allowed("subject_jane") || allowed("subject_bob") {
			t.Fatalf("after the transfer to jane: got jane %v, bob %v; want true, false", allowed("subject_jane"), allowed("subject_bob"))
		}
		r := must(c.UpdateResource(ctx, "doc_readme", authz.ResourcePatch{OwnerID: ptr("subject_bob")}))(t)
		if r.OwnerID != "subject_bob" || !allowed("subject_bob") || allowed("subject_jane") {
			t.Errorf("after the transfer to bob: got owner %q, bob %v, jane %v; want subject_bob, true, false", r.OwnerID, allowed("subject_bob"), allowed("subject_jane"))
		}
		_, err := c.UpdateResource(ctx, "doc_readme", authz.ResourcePatch{OwnerID: ptr("")})
		wantErr(t, err, authz.ErrInvalid)
		if got := must(c.GetResource(ctx, "doc_readme"))(t).OwnerID; got != "subject_bob" {
			t.Errorf("after a refused transfer: got owner %q; want subject_bob", got)
		}
	})
}

// TestErrorTextNamesOnce: the errors of a delete or update of a missing
// object name it once, and a blocked scope delete names a child scope.
func TestErrorTextNamesOnce(t *testing.T) {
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		bootstrap(t, c)
		for _, tc := range []struct {
			err  error
			want string
			is   error
		}{
			{c.DeleteResource(ctx, "x"), `delete resource "x": not found`, authz.ErrNotFound},
			{c.DeleteScope(ctx, "x"), `delete scope "x": not found`, authz.ErrNotFound},
			{second(c.UpdateScope(ctx, "x", authz.ScopePatch{Name: ptr("n")})), `update scope "x": not found`, authz.ErrNotFound},
			{c.DeleteScope(ctx, "scope_acme"), `delete scope "scope_acme": it has child scopes: delete them first (child scope "scope_eng" is one)`, authz.ErrNotAllowed},
		} {
			if tc.err == nil || tc.err.Error() != tc.want || !errors.Is(tc.err, tc.is) {
				t.Errorf("got %v; want %q matching %v", tc.err, tc.want, tc.is)
			}
			if tc.err != nil && strings.Count(tc.err.Error(), `"x"`) > 1 {
				t.Errorf("got %q; want the id named once", tc.err)
			}
		}
	})
}

func second[T any](_ T, err error) error { return err }

// TestMatchCarriesPermission: every match of an allowed decision carries
// the whole permission next to its roles.
func TestMatchCarriesPermission(t *testing.T) {
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		resourceFixture(t, c)
		must(c.Apply(ctx, authz.Batch{
			Permissions: []authz.PermissionInput{{ID: "p_read", ScopeID: "scope_acme", Action: "read", ResourceType: "document", Label: "Read documents", Description: "all of them"},
				{ID: "p_read_readme", ScopeID: "scope_acme", Action: "read", ResourceType: "document", ResourcePattern: "readme"}},
			RolePermissions: []authz.RolePermissionInput{{RoleID: "role_admin", PermissionID: "p_read"}, {RoleID: "role_dev", PermissionID: "p_read"},
				{RoleID: "role_admin", PermissionID: "p_read_readme"}},
			Memberships: []authz.MembershipInput{{SubjectID: "subject_jane", ScopeID: "scope_acme", RoleIDs: []string{"role_admin"}},
				{SubjectID: "subject_bob", ScopeID: "scope_eng", RoleIDs: []string{"role_dev"}}},
		}))(t)
		for _, who := range []string{"subject_jane", "subject_bob"} {
			for _, explain := range []bool{false, true} {
				d := must(c.Evaluate(ctx, authz.EvaluateInput{Actor: authz.SubjectRef{SubjectID: who}, ScopeID: "scope_api", Action: "read",
					Resource: &authz.ResourceRef{ResourceID: "doc_readme"}, Explain: explain}))(t)
				if !d.Allowed || len(d.Matches) == 0 {
					t.Fatalf("%s: got %+v; want allowed by role", who, d)
				}
				for _, m := range d.Matches {
					want := must(c.GetPermission(ctx, m.PermissionID))(t)
					if d := cmp.Diff(want, m.Permission); d != "" {
						t.Errorf("%s: match %s permission (-want +got):\n%s", who, m.PermissionID, d)
					}
				}
			}
		}
	})
}

// TestLookupNamesTypeByKey: a lookup answers the key of each resource's
// type, whether it was asked by key or by type id.
func TestLookupNamesTypeByKey(t *testing.T) {
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		resourceFixture(t, c)
		must(c.Apply(ctx, authz.Batch{
			Permissions:     []authz.PermissionInput{{ID: "p_read", ScopeID: "scope_acme", Action: "read", ResourceType: "folder"}},
			RolePermissions: []authz.RolePermissionInput{{RoleID: "role_admin", PermissionID: "p_read"}},
			Memberships:     []authz.MembershipInput{{SubjectID: "subject_jane", ScopeID: "scope_acme", RoleIDs: []string{"role_admin"}}},
		}))(t)
		for _, typ := range []string{"folder", "rt_folder"} {
			p := must(c.ListAllowedResources(ctx, authz.LookupResourcesInput{Actor: authz.SubjectRef{SubjectID: "subject_jane"}, ScopeID: "scope_eng", Action: "read", ResourceType: typ}))(t)
			if len(p.Resources) != 3 {
				t.Fatalf("by %s: got %+v; want the three folders", typ, p.Resources)
			}
			for _, r := range p.Resources {
				if r.ResourceType != "folder" {
					t.Errorf("by %s: got resource type %q for %s; want the key folder", typ, r.ResourceType, r.ResourceID)
				}
			}
		}
	})
}
