package authz_test

import (
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/scopegate/authz"
)

// resourceFixture builds on bootstrap: projects a, b and c under scope_eng,
// resource types at scope_acme (document, folder), at scope_api (ticket)
// and at scope_globex (document), and resources doc_readme (owned by
// scope_api) and folders f_a, f_b, f_c (owned by scope_eng).
func resourceFixture(t *testing.T, c *authz.Client) {
	t.Helper()
	bootstrap(t, c)
	must(c.Apply(ctx, authz.Batch{
		Scopes: []authz.ScopeInput{
			{ID: "scope_project_a", TypeID: "type_project", ParentScopeID: "scope_eng"},
			{ID: "scope_project_b", TypeID: "type_project", ParentScopeID: "scope_eng"},
			{ID: "scope_project_c", TypeID: "type_project", ParentScopeID: "scope_eng"},
		},
		ResourceTypes: []authz.ResourceTypeInput{
			{ID: "rt_doc", ScopeID: "scope_acme", Key: "document", Name: "Document"},
			{ID: "rt_folder", ScopeID: "scope_acme", Key: "folder", Name: "Folder"},
			{ID: "rt_ticket", ScopeID: "scope_api", Key: "ticket", Name: "Ticket"},
			{ID: "rt_globex_doc", ScopeID: "scope_globex", Key: "document", Name: "Globex document"},
		},
		Resources: []authz.ResourceInput{
			{ID: "doc_readme", ResourceTypeID: "rt_doc", ScopeID: "scope_api", ExternalResourceID: "readme"},
			{ID: "f_a", ResourceTypeID: "rt_folder", ScopeID: "scope_eng", ExternalResourceID: "a"},
			{ID: "f_b", ResourceTypeID: "rt_folder", ScopeID: "scope_eng", ExternalResourceID: "b"},
			{ID: "f_c", ResourceTypeID: "rt_folder", ScopeID: "scope_eng", ExternalResourceID: "c"},
		},
	}))(t)
}

// resIDs maps list to ids.
func resIDs[T any](list []T, id func(T) string) []string {
	out := []string{}
	for _, v := range list {
		out = append(out, id(v))
	}
	return out
}

func rtIDOf(r authz.ResourceType) string        { return r.ID }
func resIDOf(r authz.Resource) string           { return r.ID }
func edgeIDOf(e authz.ResourceEdge) string      { return e.ID }
func linkIDOf(l authz.ResourceScopeLink) string { return l.ID }

// resOK fails the test on err.
func resOK(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
}

// wantResIDs compares id lists.
func wantResIDs(t *testing.T, what string, got, want []string) {
	t.Helper()
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("%s (-want +got):\n%s", what, d)
	}
}

var rslIDPattern = regexp.MustCompile(`^rsl_[A-Za-z0-9_.:@|-]+$`)

func TestSeedResourceScopeLinks(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		resourceFixture(t, c)
		must(c.CreateResource(ctx, authz.ResourceInput{ID: "resource_lib_auth", ResourceTypeID: "rt_doc", ScopeID: "scope_eng", ExternalResourceID: "lib-auth"}))(t)
		var in []authz.ResourceScopeLinkInput
		readSeed(t, "resource-scope-links", "request", &in)
		got := must(c.CreateResourceScopeLinks(ctx, in))(t)
		var want []any
		readSeed(t, "resource-scope-links", "response", &want)
		gotJSON, ok := asJSON(t, got).([]any)
		if !ok || len(gotJSON) != len(want) {
			t.Fatalf("got %v; want %d links", asJSON(t, got), len(want))
		}
		// Ids are generated: check their form, then compare the rest.
		for i := range want {
			id, _ := gotJSON[i].(map[string]any)["id"].(string)
			if !rslIDPattern.MatchString(id) {
				t.Errorf("link %d: got id %q; want rsl_<...>", i, id)
			}
			want[i].(map[string]any)["id"] = id
		}
		if d := cmp.Diff(any(want), any(gotJSON)); d != "" {
			t.Errorf("response (-want +got):\n%s", d)
		}
		stored := must(c.ListResourceScopeLinks(ctx, authz.ResourceScopeLinkFilter{ResourceID: "resource_lib_auth"}))(t)
		if d := cmp.Diff(got, stored); d != "" {
			t.Errorf("stored links (-want +got):\n%s", d)
		}
	})
}

func TestResourceTypeCreateGetListUpdateDelete(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		bootstrap(t, c)
		actx := authz.WithActor(ctx, "subject_jane")
		got := must(c.CreateResourceTypes(actx, []authz.ResourceTypeInput{
			{ID: "rt_b", ScopeID: "scope_acme", Key: "doc_v2", Name: "Document"},
			{ScopeID: "scope_acme", Key: "folder", Name: "Folder"},
			{ID: "rt_a", ScopeID: "scope_acme", Key: "repo", Name: "Repository"},
			{ID: "rt_eng", ScopeID: "scope_eng", Key: "service", Name: "Service"},
		}))(t)
		want := authz.ResourceType{ID: "rt_b", ScopeID: "scope_acme", Key: "doc_v2", Name: "Document", CreatedAt: authz.Time{Time: fixedNow}, CreatedBy: "subject_jane"}
		if d := cmp.Diff(want, got[0]); d != "" {
			t.Errorf("created (-want +got):\n%s", d)
		}
		if !strings.HasPrefix(got[1].ID, "resource_type_") {
			t.Errorf("got generated id %q; want prefix resource_type_", got[1].ID)
		}
		if d := cmp.Diff(want, must(c.GetResourceType(ctx, "rt_b"))(t)); d != "" {
			t.Errorf("stored (-want +got):\n%s", d)
		}

		all := must(c.ListResourceTypes(ctx, authz.ResourceTypeFilter{ScopeID: "scope_acme"}))(t)
		wantResIDs(t, "types at scope_acme", resIDs(all, rtIDOf), []string{got[1].ID, "rt_a", "rt_b"})
		page := must(c.ListResourceTypes(ctx, authz.ResourceTypeFilter{ScopeID: "scope_acme", Page: authz.Page{Limit: 2}}))(t)
		wantResIDs(t, "first page", resIDs(page, rtIDOf), []string{got[1].ID, "rt_a"})
		page = must(c.ListResourceTypes(ctx, authz.ResourceTypeFilter{ScopeID: "scope_acme", Page: authz.Page{Limit: 2, After: "rt_a"}}))(t)
		wantResIDs(t, "second page", resIDs(page, rtIDOf), []string{"rt_b"})
		_, err := c.ListResourceTypes(ctx, authz.ResourceTypeFilter{})
		wantErr(t, err, authz.ErrInvalid)

		name := "Doc"
		upd := must(c.UpdateResourceType(ctx, "rt_b", authz.ResourceTypePatch{Name: &name}))(t)
		if upd.Name != "Doc" || upd.Key != "doc_v2" {
			t.Errorf("got %+v; want name Doc, key unchanged", upd)
		}
		if got := must(c.GetResourceType(ctx, "rt_b"))(t).Name; got != "Doc" {
			t.Errorf("got stored name %q; want Doc", got)
		}
		empty := ""
		_, err = c.UpdateResourceType(ctx, "rt_b", authz.ResourceTypePatch{Name: &empty})
		wantErr(t, err, authz.ErrInvalid)
		_, err = c.UpdateResourceType(ctx, "rt_nope", authz.ResourceTypePatch{Name: &name})
		wantErr(t, err, authz.ErrNotFound)

		resOK(t, c.DeleteResourceType(ctx, "rt_b"))
		_, err = c.GetResourceType(ctx, "rt_b")
		wantErr(t, err, authz.ErrNotFound)
		wantErr(t, c.DeleteResourceType(ctx, "rt_b"), authz.ErrNotFound)
		// The key is free again.
		must(c.CreateResourceType(ctx, authz.ResourceTypeInput{ScopeID: "scope_acme", Key: "doc_v2", Name: "Document"}))(t)
	})
}

func TestResourceTypeValidation(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		bootstrap(t, c)
		_, err := c.CreateResourceTypes(ctx, []authz.ResourceTypeInput{
			{ID: "rt_ok", ScopeID: "scope_acme", Key: "ok", Name: "OK"},
			{ID: "rt_1", Key: "doc", Name: "Doc"},
			{ID: "rt_2", ScopeID: "scope_acme", Name: "Doc"},
			{ID: "rt_3", ScopeID: "scope_acme", Key: "doc"},
			{ID: "rt_4", ScopeID: "scope_nope", Key: "doc", Name: "Doc"},
			{ID: "rt_5", ScopeID: "scope_acme", Key: "Document", Name: "Doc"},
			{ID: "rt_6", ScopeID: "scope_acme", Key: "1doc", Name: "Doc"},
			{ID: "rt_7", ScopeID: "scope_acme", Key: "doc-type", Name: "Doc"},
			{ID: "rt_8", ScopeID: "scope_acme", Key: "_doc", Name: "Doc"},
		})
		be := wantItems(t, err, nil, "1 scopeId", "2 key", "3 name", "4 scopeId", "5 key", "6 key", "7 key", "8 key")
		for i, want := range []error{authz.ErrInvalid, authz.ErrInvalid, authz.ErrInvalid, authz.ErrNotFound, authz.ErrInvalid, authz.ErrInvalid, authz.ErrInvalid, authz.ErrInvalid} {
			if !errors.Is(be.Items[i], want) {
				t.Errorf("item %d: got %v; want %v", be.Items[i].Index, be.Items[i].Err, want)
			}
		}
		if msg := be.Items[4].Error(); !strings.Contains(msg, `"Document"`) || !strings.Contains(msg, "^[a-z][a-z0-9_]*$") {
			t.Errorf("got %q; want it to name the key and its syntax", msg)
		}
		// Nothing was stored.
		_, err = c.GetResourceType(ctx, "rt_ok")
		wantErr(t, err, authz.ErrNotFound)
	})
}

func TestResourceTypeKeyUniquePerScope(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		bootstrap(t, c)
		_, err := c.CreateResourceTypes(ctx, []authz.ResourceTypeInput{
			{ID: "rt_1", ScopeID: "scope_acme", Key: "doc", Name: "Doc"},
			{ID: "rt_2", ScopeID: "scope_acme", Key: "doc", Name: "Doc again"},
		})
		wantItems(t, err, authz.ErrAlreadyExists, "1 key")
		_, err = c.GetResourceType(ctx, "rt_1")
		wantErr(t, err, authz.ErrNotFound)

		must(c.CreateResourceType(ctx, authz.ResourceTypeInput{ID: "rt_1", ScopeID: "scope_acme", Key: "doc", Name: "Doc"}))(t)
		_, err = c.CreateResourceType(ctx, authz.ResourceTypeInput{ID: "rt_2", ScopeID: "scope_acme", Key: "doc", Name: "Doc again"})
		wantErr(t, err, authz.ErrAlreadyExists)
		if !strings.Contains(err.Error(), "rt_1") {
			t.Errorf("got %q; want it to name the existing type rt_1", err)
		}
		// The same key at another scope, even below, is another type.
		must(c.CreateResourceTypes(ctx, []authz.ResourceTypeInput{
			{ScopeID: "scope_eng", Key: "doc", Name: "Team doc"},
			{ScopeID: "scope_globex", Key: "doc", Name: "Globex doc"},
		}))(t)
	})
}

func TestResourceCreateGetListUpdateDelete(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		resourceFixture(t, c)
		actx := authz.WithActor(ctx, "subject_jane")
		got := must(c.CreateResources(actx, []authz.ResourceInput{
			{ID: "doc_spec", ResourceTypeID: "rt_doc", ScopeID: "scope_api", ExternalResourceID: "spec", DisplayName: "Spec", Meta: map[string]any{"pages": 3.0}},
			{ID: "doc_plan", ResourceTypeID: "rt_doc", ScopeID: "scope_api", ExternalResourceID: "plan", OwnerID: "subject_bob"},
			{ResourceTypeID: "rt_doc", ScopeID: "scope_eng", ExternalResourceID: "roadmap"},
		}))(t)
		want := authz.Resource{ID: "doc_spec", ResourceTypeID: "rt_doc", ScopeID: "scope_api", ExternalResourceID: "spec", DisplayName: "Spec",
			Meta: map[string]any{"pages": 3.0}, OwnerID: "subject_jane", CreatedAt: authz.Time{Time: fixedNow}, CreatedBy: "subject_jane"}
		if d := cmp.Diff(want, got[0]); d != "" {
			t.Errorf("created (-want +got):\n%s", d)
		}
		if got[1].OwnerID != "subject_bob" {
			t.Errorf("got owner %q; want the given subject_bob", got[1].OwnerID)
		}
		if !strings.HasPrefix(got[2].ID, "resource_") {
			t.Errorf("got generated id %q; want prefix resource_", got[2].ID)
		}
		if d := cmp.Diff(want, must(c.GetResource(ctx, "doc_spec"))(t)); d != "" {
			t.Errorf("stored (-want +got):\n%s", d)
		}
		// Without an actor the owner is "system".
		sys := must(c.CreateResource(ctx, authz.ResourceInput{ID: "doc_sys", ResourceTypeID: "rt_doc", ScopeID: "scope_api", ExternalResourceID: "sys"}))(t)
		if sys.OwnerID != "system" || sys.CreatedBy != "system" {
			t.Errorf("got owner %q, createdBy %q; want system", sys.OwnerID, sys.CreatedBy)
		}

		byExt := must(c.GetResourceByExternalID(ctx, "rt_doc", "plan"))(t)
		if byExt.ID != "doc_plan" {
			t.Errorf("GetResourceByExternalID: got %q; want doc_plan", byExt.ID)
		}
		_, err := c.GetResourceByExternalID(ctx, "rt_folder", "plan")
		wantErr(t, err, authz.ErrNotFound)
		_, err = c.GetResourceByExternalID(ctx, "rt_doc", "")
		wantErr(t, err, authz.ErrInvalid)

		list := func(f authz.ResourceFilter) []string { return resIDs(must(c.ListResources(ctx, f))(t), resIDOf) }
		wantResIDs(t, "resources of scope_api", list(authz.ResourceFilter{ScopeID: "scope_api"}), []string{"doc_plan", "doc_readme", "doc_spec", "doc_sys"})
		wantResIDs(t, "page", list(authz.ResourceFilter{ScopeID: "scope_api", Page: authz.Page{Limit: 2, After: "doc_plan"}}), []string{"doc_readme", "doc_spec"})
		wantResIDs(t, "folders", list(authz.ResourceFilter{ResourceTypeID: "rt_folder"}), []string{"f_a", "f_b", "f_c"})
		wantResIDs(t, "documents of scope_eng", list(authz.ResourceFilter{ScopeID: "scope_eng", ResourceTypeID: "rt_doc"}), []string{got[2].ID})
		wantResIDs(t, "by external id", list(authz.ResourceFilter{ResourceTypeID: "rt_doc", ExternalResourceID: "spec"}), []string{"doc_spec"})
		wantResIDs(t, "by external id, other scope", list(authz.ResourceFilter{ResourceTypeID: "rt_doc", ExternalResourceID: "spec", ScopeID: "scope_eng"}), []string{})
		wantResIDs(t, "by scope and external id", list(authz.ResourceFilter{ScopeID: "scope_api", ExternalResourceID: "plan"}), []string{"doc_plan"})
		_, err = c.ListResources(ctx, authz.ResourceFilter{ExternalResourceID: "spec"})
		wantErr(t, err, authz.ErrInvalid)

		name, meta := "Specification", map[string]any{"draft": true}
		upd := must(c.UpdateResource(ctx, "doc_spec", authz.ResourcePatch{DisplayName: &name, Meta: &meta}))(t)
		want.DisplayName, want.Meta = name, meta
		if d := cmp.Diff(want, upd); d != "" {
			t.Errorf("updated (-want +got):\n%s", d)
		}
		if d := cmp.Diff(want, must(c.GetResource(ctx, "doc_spec"))(t)); d != "" {
			t.Errorf("stored after update (-want +got):\n%s", d)
		}

		resOK(t, c.DeleteResource(ctx, "doc_spec"))
		_, err = c.GetResource(ctx, "doc_spec")
		wantErr(t, err, authz.ErrNotFound)
		_, err = c.GetResourceByExternalID(ctx, "rt_doc", "spec")
		wantErr(t, err, authz.ErrNotFound)
		wantErr(t, c.DeleteResource(ctx, "doc_spec"), authz.ErrNotFound)
	})
}

func TestResourceValidation(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		resourceFixture(t, c)
		_, err := c.CreateResources(ctx, []authz.ResourceInput{
			{ID: "r_ok", ResourceTypeID: "rt_doc", ScopeID: "scope_api", ExternalResourceID: "ok"},
			{ID: "r_1", ScopeID: "scope_api", ExternalResourceID: "x1"},
			{ID: "r_2", ResourceTypeID: "rt_doc", ExternalResourceID: "x2"},
			{ID: "r_3", ResourceTypeID: "rt_doc", ScopeID: "scope_api"},
			{ID: "r_4", ResourceTypeID: "rt_nope", ScopeID: "scope_api", ExternalResourceID: "x4"},
			{ID: "r_5", ResourceTypeID: "rt_doc", ScopeID: "scope_nope", ExternalResourceID: "x5"},
			{ID: "r_6", ResourceTypeID: "scope_api", ScopeID: "scope_api", ExternalResourceID: "x6"}, // a scope's id, not a type's
		})
		be := wantItems(t, err, nil, "1 resourceTypeId", "2 scopeId", "3 externalResourceId", "4 resourceTypeId", "5 scopeId", "6 resourceTypeId")
		for i, want := range []error{authz.ErrInvalid, authz.ErrInvalid, authz.ErrInvalid, authz.ErrNotFound, authz.ErrNotFound, authz.ErrNotFound} {
			if !errors.Is(be.Items[i], want) {
				t.Errorf("item %d: got %v; want %v", be.Items[i].Index, be.Items[i].Err, want)
			}
		}
		_, err = c.GetResource(ctx, "r_ok")
		wantErr(t, err, authz.ErrNotFound)
	})
}

func TestResourceTypeVisibility(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		resourceFixture(t, c)
		// A type defined at the org is usable in a project below it, and a
		// type defined at a project is usable there.
		must(c.CreateResources(ctx, []authz.ResourceInput{
			{ResourceTypeID: "rt_doc", ScopeID: "scope_project_a", ExternalResourceID: "pa"},
			{ResourceTypeID: "rt_ticket", ScopeID: "scope_api", ExternalResourceID: "t1"},
		}))(t)
		_, err := c.CreateResources(ctx, []authz.ResourceInput{
			{ID: "r_globex", ResourceTypeID: "rt_globex_doc", ScopeID: "scope_api", ExternalResourceID: "g"},  // another tenant's type
			{ID: "r_up", ResourceTypeID: "rt_ticket", ScopeID: "scope_eng", ExternalResourceID: "t2"},         // a type of a scope below
			{ID: "r_side", ResourceTypeID: "rt_ticket", ScopeID: "scope_project_a", ExternalResourceID: "t3"}, // a type of a sibling
			{ID: "r_acme", ResourceTypeID: "rt_doc", ScopeID: "scope_globex", ExternalResourceID: "a"},        // acme's type in globex
		})
		be := wantItems(t, err, authz.ErrNotAllowed, "0 resourceTypeId", "1 resourceTypeId", "2 resourceTypeId", "3 resourceTypeId")
		msg := be.Items[0].Err.Error()
		for _, part := range []string{`"rt_globex_doc"`, `"scope_globex"`, `"scope_api"`} {
			if !strings.Contains(msg, part) {
				t.Errorf("got %q; want it to name %s", msg, part)
			}
		}
		// Types and scopes created in the same batch are checked too.
		_, err = c.Apply(ctx, authz.Batch{
			Resources:     []authz.ResourceInput{{ID: "r_new", ResourceTypeID: "rt_new", ScopeID: "scope_eng", ExternalResourceID: "n"}},
			ResourceTypes: []authz.ResourceTypeInput{{ID: "rt_new", ScopeID: "scope_new", Key: "new", Name: "New"}},
			Scopes:        []authz.ScopeInput{{ID: "scope_new", TypeID: "type_project", ParentScopeID: "scope_eng"}},
		})
		wantErr(t, err, authz.ErrNotAllowed)
		_, err = c.GetScope(ctx, "scope_new")
		wantErr(t, err, authz.ErrNotFound)
	})
}

func TestResourceExternalIDUniquePerType(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		resourceFixture(t, c)
		_, err := c.CreateResources(ctx, []authz.ResourceInput{
			{ID: "r_1", ResourceTypeID: "rt_doc", ScopeID: "scope_api", ExternalResourceID: "x"},
			{ID: "r_2", ResourceTypeID: "rt_doc", ScopeID: "scope_eng", ExternalResourceID: "x"},
		})
		wantItems(t, err, authz.ErrAlreadyExists, "1 externalResourceId")
		_, err = c.CreateResource(ctx, authz.ResourceInput{ID: "r_3", ResourceTypeID: "rt_doc", ScopeID: "scope_eng", ExternalResourceID: "readme"})
		wantErr(t, err, authz.ErrAlreadyExists)
		if !strings.Contains(err.Error(), "doc_readme") {
			t.Errorf("got %q; want it to name the existing resource doc_readme", err)
		}
		// Another type may use the same external id.
		must(c.CreateResource(ctx, authz.ResourceInput{ResourceTypeID: "rt_folder", ScopeID: "scope_api", ExternalResourceID: "readme"}))(t)
	})
}

func TestResourceMove(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		resourceFixture(t, c)
		to := "scope_project_a"
		moved := must(c.UpdateResource(ctx, "doc_readme", authz.ResourcePatch{ScopeID: &to}))(t)
		if moved.ScopeID != to {
			t.Errorf("got scope %q; want %q", moved.ScopeID, to)
		}
		wantResIDs(t, "resources of scope_api", resIDs(must(c.ListResources(ctx, authz.ResourceFilter{ScopeID: "scope_api"}))(t), resIDOf), []string{})
		wantResIDs(t, "documents of project a", resIDs(must(c.ListResources(ctx, authz.ResourceFilter{ScopeID: to, ResourceTypeID: "rt_doc"}))(t), resIDOf), []string{"doc_readme"})

		// The type must stay visible: not in another tenant, nor above the
		// scope that defines it.
		for _, bad := range []struct {
			id, scope string
			want      error
		}{
			{"doc_readme", "scope_globex", authz.ErrNotAllowed},
			{"doc_readme", "scope_nope", authz.ErrNotFound},
			{"doc_readme", "", authz.ErrInvalid},
		} {
			_, err := c.UpdateResource(ctx, bad.id, authz.ResourcePatch{ScopeID: &bad.scope})
			wantErr(t, err, bad.want)
		}
		ticket := must(c.CreateResource(ctx, authz.ResourceInput{ResourceTypeID: "rt_ticket", ScopeID: "scope_api", ExternalResourceID: "t"}))(t)
		up := "scope_eng"
		_, err := c.UpdateResource(ctx, ticket.ID, authz.ResourcePatch{ScopeID: &up})
		wantErr(t, err, authz.ErrNotAllowed)
		if got := must(c.GetResource(ctx, ticket.ID))(t).ScopeID; got != "scope_api" {
			t.Errorf("got scope %q after a refused move; want scope_api", got)
		}
	})
}

func TestResourceMoveOntoLinkedScopeRemovesTheLink(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		resourceFixture(t, c)
		links := must(c.CreateResourceScopeLinks(ctx, []authz.ResourceScopeLinkInput{
			{ID: "rsl_a", ResourceID: "doc_readme", ScopeID: "scope_project_a", LinkType: authz.LinkShare},
			{ID: "rsl_b", ResourceID: "doc_readme", ScopeID: "scope_project_b", LinkType: authz.LinkMirror},
		}))(t)
		to := "scope_project_a"
		must(c.UpdateResource(ctx, "doc_readme", authz.ResourcePatch{ScopeID: &to}))(t)
		_, err := c.GetResourceScopeLink(ctx, "rsl_a")
		wantErr(t, err, authz.ErrNotFound)
		left := must(c.ListResourceScopeLinks(ctx, authz.ResourceScopeLinkFilter{ResourceID: "doc_readme"}))(t)
		if d := cmp.Diff(links[1:], left); d != "" {
			t.Errorf("links after the move (-want +got):\n%s", d)
		}
		// The old owner can now be linked.
		must(c.CreateResourceScopeLink(ctx, authz.ResourceScopeLinkInput{ResourceID: "doc_readme", ScopeID: "scope_api", LinkType: authz.LinkAlias}))(t)
	})
}

func TestResourceEdgeCreateGetListUpdateDelete(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		resourceFixture(t, c)
		got := must(c.CreateResourceEdges(ctx, []authz.ResourceEdgeInput{
			{ID: "e_ab", ParentResourceID: "f_a", ChildResourceID: "f_b"},
			{ID: "e_ac", ParentResourceID: "f_a", ChildResourceID: "f_c", RelationshipType: "references", Cascade: authz.CascadeNone},
			{ID: "e_b_doc", ParentResourceID: "f_b", ChildResourceID: "doc_readme"},
			{ParentResourceID: "f_c", ChildResourceID: "doc_readme"}, // a DAG: two parents
		}))(t)
		want := authz.ResourceEdge{ID: "e_ab", ParentResourceID: "f_a", ChildResourceID: "f_b", RelationshipType: "contains", Cascade: authz.CascadeInherit}
		if d := cmp.Diff(want, got[0]); d != "" {
			t.Errorf("defaults (-want +got):\n%s", d)
		}
		if got[1].RelationshipType != "references" || got[1].Cascade != authz.CascadeNone {
			t.Errorf("got %+v; want the given relationship type and cascade", got[1])
		}
		if !strings.HasPrefix(got[3].ID, "resource_edge_") {
			t.Errorf("got generated id %q; want prefix resource_edge_", got[3].ID)
		}
		if d := cmp.Diff(want, must(c.GetResourceEdge(ctx, "e_ab"))(t)); d != "" {
			t.Errorf("stored (-want +got):\n%s", d)
		}

		list := func(f authz.ResourceEdgeFilter) []string {
			return resIDs(must(c.ListResourceEdges(ctx, f))(t), edgeIDOf)
		}
		wantResIDs(t, "children of f_a", list(authz.ResourceEdgeFilter{ParentResourceID: "f_a"}), []string{"e_ab", "e_ac"})
		wantResIDs(t, "page", list(authz.ResourceEdgeFilter{ParentResourceID: "f_a", Page: authz.Page{Limit: 1, After: "e_ab"}}), []string{"e_ac"})
		wantResIDs(t, "parents of doc_readme", list(authz.ResourceEdgeFilter{ChildResourceID: "doc_readme"}), []string{"e_b_doc", got[3].ID})
		wantResIDs(t, "one edge", list(authz.ResourceEdgeFilter{ParentResourceID: "f_b", ChildResourceID: "doc_readme"}), []string{"e_b_doc"})
		wantResIDs(t, "no edge", list(authz.ResourceEdgeFilter{ParentResourceID: "f_c", ChildResourceID: "f_b"}), []string{})
		_, err := c.ListResourceEdges(ctx, authz.ResourceEdgeFilter{})
		wantErr(t, err, authz.ErrInvalid)

		none := authz.CascadeNone
		if upd := must(c.UpdateResourceEdge(ctx, "e_ab", authz.ResourceEdgePatch{Cascade: &none}))(t); upd.Cascade != none {
			t.Errorf("got cascade %q; want none", upd.Cascade)
		}
		if got := must(c.GetResourceEdge(ctx, "e_ab"))(t).Cascade; got != none {
			t.Errorf("got stored cascade %q; want none", got)
		}
		bad := authz.Cascade("always")
		_, err = c.UpdateResourceEdge(ctx, "e_ab", authz.ResourceEdgePatch{Cascade: &bad})
		wantErr(t, err, authz.ErrInvalid)

		resOK(t, c.DeleteResourceEdge(ctx, "e_ab"))
		_, err = c.GetResourceEdge(ctx, "e_ab")
		wantErr(t, err, authz.ErrNotFound)
		must(c.GetResource(ctx, "f_b"))(t) // the resources stay
		// The pair is free again.
		must(c.CreateResourceEdge(ctx, authz.ResourceEdgeInput{ParentResourceID: "f_a", ChildResourceID: "f_b"}))(t)
	})
}

func TestResourceEdgeValidation(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		resourceFixture(t, c)
		_, err := c.CreateResourceEdges(ctx, []authz.ResourceEdgeInput{
			{ID: "e_ok", ParentResourceID: "f_a", ChildResourceID: "f_b"},
			{ID: "e_1", ChildResourceID: "f_b"},
			{ID: "e_2", ParentResourceID: "f_a"},
			{ID: "e_3", ParentResourceID: "f_nope", ChildResourceID: "f_b"},
			{ID: "e_4", ParentResourceID: "f_a", ChildResourceID: "f_c", Cascade: "always"},
			{ID: "e_5", ParentResourceID: "f_a", ChildResourceID: "f_a"},
		})
		be := wantItems(t, err, nil, "1 parentResourceId", "2 childResourceId", "3 parentResourceId", "4 cascade", "5 childResourceId")
		for i, want := range []error{authz.ErrInvalid, authz.ErrInvalid, authz.ErrNotFound, authz.ErrInvalid, authz.ErrNotAllowed} {
			if !errors.Is(be.Items[i], want) {
				t.Errorf("item %d: got %v; want %v", be.Items[i].Index, be.Items[i].Err, want)
			}
		}
		_, err = c.GetResourceEdge(ctx, "e_ok")
		wantErr(t, err, authz.ErrNotFound)
	})
}

func TestResourceEdgeUnique(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		resourceFixture(t, c)
		_, err := c.CreateResourceEdges(ctx, []authz.ResourceEdgeInput{
			{ParentResourceID: "f_a", ChildResourceID: "f_b"},
			{ParentResourceID: "f_a", ChildResourceID: "f_b", Cascade: authz.CascadeNone},
		})
		wantItems(t, err, authz.ErrAlreadyExists, "1 childResourceId")
		must(c.CreateResourceEdge(ctx, authz.ResourceEdgeInput{ID: "e_ab", ParentResourceID: "f_a", ChildResourceID: "f_b"}))(t)
		_, err = c.CreateResourceEdge(ctx, authz.ResourceEdgeInput{ParentResourceID: "f_a", ChildResourceID: "f_b"})
		wantErr(t, err, authz.ErrAlreadyExists)
		// The reverse pair would be a cycle, not a duplicate.
		_, err = c.CreateResourceEdge(ctx, authz.ResourceEdgeInput{ParentResourceID: "f_b", ChildResourceID: "f_a"})
		wantErr(t, err, authz.ErrNotAllowed)
	})
}

func TestResourceEdgeCycleWithStoredEdges(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		resourceFixture(t, c)
		must(c.CreateResourceEdges(ctx, []authz.ResourceEdgeInput{
			{ParentResourceID: "f_a", ChildResourceID: "f_b"},
			{ParentResourceID: "f_b", ChildResourceID: "f_c"},
		}))(t)
		_, err := c.CreateResourceEdge(ctx, authz.ResourceEdgeInput{ID: "e_ca", ParentResourceID: "f_c", ChildResourceID: "f_a"})
		wantErr(t, err, authz.ErrNotAllowed)
		if want := `"f_a" → "f_b" → "f_c" → "f_a"`; !strings.Contains(err.Error(), want) {
			t.Errorf("got %q; want it to name the cycle %s", err, want)
		}
		_, err = c.GetResourceEdge(ctx, "e_ca")
		wantErr(t, err, authz.ErrNotFound)
		// A shortcut is no cycle.
		must(c.CreateResourceEdge(ctx, authz.ResourceEdgeInput{ParentResourceID: "f_a", ChildResourceID: "f_c"}))(t)
	})
}

func TestResourceEdgeCycleInOneBatch(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		resourceFixture(t, c)
		_, err := c.CreateResourceEdges(ctx, []authz.ResourceEdgeInput{
			{ID: "e_ab", ParentResourceID: "f_a", ChildResourceID: "f_b"},
			{ID: "e_bc", ParentResourceID: "f_b", ChildResourceID: "f_c"},
			{ID: "e_ca", ParentResourceID: "f_c", ChildResourceID: "f_a"},
		})
		wantErr(t, err, authz.ErrNotAllowed)
		for _, id := range []string{"e_ab", "e_bc", "e_ca"} {
			_, err := c.GetResourceEdge(ctx, id)
			wantErr(t, err, authz.ErrNotFound)
		}
		// The same with resources created by the batch too.
		_, err = c.Apply(ctx, authz.Batch{
			ResourceEdges: []authz.ResourceEdgeInput{
				{ParentResourceID: "n_1", ChildResourceID: "n_2"},
				{ParentResourceID: "n_2", ChildResourceID: "n_3"},
				{ParentResourceID: "n_3", ChildResourceID: "n_1"},
			},
			Resources: []authz.ResourceInput{
				{ID: "n_1", ResourceTypeID: "rt_folder", ScopeID: "scope_api", ExternalResourceID: "n1"},
				{ID: "n_2", ResourceTypeID: "rt_folder", ScopeID: "scope_api", ExternalResourceID: "n2"},
				{ID: "n_3", ResourceTypeID: "rt_folder", ScopeID: "scope_api", ExternalResourceID: "n3"},
			},
		})
		if !errors.Is(err, authz.ErrNotAllowed) && !errors.Is(err, authz.ErrInvalid) {
			t.Fatalf("got %v; want a cycle error", err)
		}
		_, err = c.GetResource(ctx, "n_1")
		wantErr(t, err, authz.ErrNotFound)
	})
}

func TestResourceInBatchReferences(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		bootstrap(t, c)
		// Every reference points forward: the edges and links come before
		// the resources they name, the resources before their type, and a
		// resource owned by a scope created later.
		res := must(c.Apply(ctx, authz.Batch{
			ResourceScopeLinks: []authz.ResourceScopeLinkInput{{ResourceID: "doc_1", ScopeID: "scope_proj", LinkType: authz.LinkShare}},
			ResourceEdges:      []authz.ResourceEdgeInput{{ParentResourceID: "folder_1", ChildResourceID: "doc_1"}},
			Resources: []authz.ResourceInput{
				{ID: "doc_1", ResourceTypeID: "rt_doc", ScopeID: "scope_api", ExternalResourceID: "d1"},
				{ID: "folder_1", ResourceTypeID: "rt_doc", ScopeID: "scope_proj", ExternalResourceID: "f1"},
			},
			ResourceTypes: []authz.ResourceTypeInput{{ID: "rt_doc", ScopeID: "scope_acme", Key: "document", Name: "Document"}},
			Scopes:        []authz.ScopeInput{{ID: "scope_proj", TypeID: "type_project", ParentScopeID: "scope_eng"}},
		}))(t)
		if len(res.ResourceEdges) != 1 || res.ResourceEdges[0].ParentResourceID != "folder_1" {
			t.Errorf("got edges %+v; want folder_1 → doc_1", res.ResourceEdges)
		}
		edges := must(c.ListResourceEdges(ctx, authz.ResourceEdgeFilter{ChildResourceID: "doc_1"}))(t)
		if len(edges) != 1 {
			t.Errorf("got %d stored edges; want 1", len(edges))
		}
		links := must(c.ListResourceScopeLinks(ctx, authz.ResourceScopeLinkFilter{ScopeID: "scope_proj"}))(t)
		if len(links) != 1 || links[0].ResourceID != "doc_1" {
			t.Errorf("got links %+v; want doc_1 linked to scope_proj", links)
		}
		// An edge naming an object of another kind of the batch is not found.
		_, err := c.Apply(ctx, authz.Batch{
			ResourceEdges: []authz.ResourceEdgeInput{{ParentResourceID: "rt_new", ChildResourceID: "doc_1"}},
			ResourceTypes: []authz.ResourceTypeInput{{ID: "rt_new", ScopeID: "scope_acme", Key: "new", Name: "New"}},
		})
		wantErr(t, err, authz.ErrNotFound)
	})
}

func TestResourceScopeLinkCreateGetListUpdateDelete(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		resourceFixture(t, c)
		got := must(c.CreateResourceScopeLinks(ctx, []authz.ResourceScopeLinkInput{
			{ID: "rsl_1", ResourceID: "doc_readme", ScopeID: "scope_project_a", LinkType: authz.LinkShare, Metadata: map[string]any{"reason": "shared lib"}},
			{ID: "rsl_2", ResourceID: "doc_readme", ScopeID: "scope_project_b", LinkType: authz.LinkMirror},
			{ID: "rsl_3", ResourceID: "f_a", ScopeID: "scope_project_a", LinkType: authz.LinkAlias},
			{ID: "rsl_4", ResourceID: "doc_readme", ScopeID: "scope_globex", LinkType: authz.LinkShare}, // across tenants
		}))(t)
		want := authz.ResourceScopeLink{ID: "rsl_1", ResourceID: "doc_readme", ScopeID: "scope_project_a", LinkType: authz.LinkShare,
			Metadata: map[string]any{"reason": "shared lib"}, CreatedAt: authz.Time{Time: fixedNow}}
		if d := cmp.Diff(want, got[0]); d != "" {
			t.Errorf("created (-want +got):\n%s", d)
		}
		if d := cmp.Diff(want, must(c.GetResourceScopeLink(ctx, "rsl_1"))(t)); d != "" {
			t.Errorf("stored (-want +got):\n%s", d)
		}

		list := func(f authz.ResourceScopeLinkFilter) []string {
			return resIDs(must(c.ListResourceScopeLinks(ctx, f))(t), linkIDOf)
		}
		wantResIDs(t, "links of doc_readme", list(authz.ResourceScopeLinkFilter{ResourceID: "doc_readme"}), []string{"rsl_1", "rsl_2", "rsl_4"})
		wantResIDs(t, "page", list(authz.ResourceScopeLinkFilter{ResourceID: "doc_readme", Page: authz.Page{Limit: 1, After: "rsl_1"}}), []string{"rsl_2"})
		wantResIDs(t, "links into project a", list(authz.ResourceScopeLinkFilter{ScopeID: "scope_project_a"}), []string{"rsl_1", "rsl_3"})
		wantResIDs(t, "one link", list(authz.ResourceScopeLinkFilter{ResourceID: "f_a", ScopeID: "scope_project_a"}), []string{"rsl_3"})
		wantResIDs(t, "no link", list(authz.ResourceScopeLinkFilter{ResourceID: "f_a", ScopeID: "scope_project_b"}), []string{})
		_, err := c.ListResourceScopeLinks(ctx, authz.ResourceScopeLinkFilter{})
		wantErr(t, err, authz.ErrInvalid)

		alias, meta := authz.LinkAlias, map[string]any{"until": "2025"}
		want.LinkType, want.Metadata = alias, meta
		if d := cmp.Diff(want, must(c.UpdateResourceScopeLink(ctx, "rsl_1", authz.ResourceScopeLinkPatch{LinkType: &alias, Metadata: &meta}))(t)); d != "" {
			t.Errorf("updated (-want +got):\n%s", d)
		}
		if d := cmp.Diff(want, must(c.GetResourceScopeLink(ctx, "rsl_1"))(t)); d != "" {
			t.Errorf("stored after update (-want +got):\n%s", d)
		}
		bad := authz.LinkType("copy")
		_, err = c.UpdateResourceScopeLink(ctx, "rsl_1", authz.ResourceScopeLinkPatch{LinkType: &bad})
		wantErr(t, err, authz.ErrInvalid)

		resOK(t, c.DeleteResourceScopeLink(ctx, "rsl_1"))
		_, err = c.GetResourceScopeLink(ctx, "rsl_1")
		wantErr(t, err, authz.ErrNotFound)
		must(c.GetResource(ctx, "doc_readme"))(t) // the resource stays
		wantResIDs(t, "links into project a after delete", list(authz.ResourceScopeLinkFilter{ScopeID: "scope_project_a"}), []string{"rsl_3"})
	})
}

func TestResourceScopeLinkValidation(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		resourceFixture(t, c)
		_, err := c.CreateResourceScopeLinks(ctx, []authz.ResourceScopeLinkInput{
			{ID: "rsl_ok", ResourceID: "doc_readme", ScopeID: "scope_project_a", LinkType: authz.LinkShare},
			{ID: "rsl_1", ScopeID: "scope_project_a", LinkType: authz.LinkShare},
			{ID: "rsl_2", ResourceID: "doc_readme", LinkType: authz.LinkShare},
			{ID: "rsl_3", ResourceID: "doc_readme", ScopeID: "scope_project_b"},
			{ID: "rsl_4", ResourceID: "doc_readme", ScopeID: "scope_project_c", LinkType: "copy"},
			{ID: "rsl_5", ResourceID: "doc_nope", ScopeID: "scope_project_c", LinkType: authz.LinkShare},
			{ID: "rsl_6", ResourceID: "doc_readme", ScopeID: "scope_nope", LinkType: authz.LinkShare},
		})
		be := wantItems(t, err, nil, "1 resourceId", "2 scopeId", "3 linkType", "4 linkType", "5 resourceId", "6 scopeId")
		for i, want := range []error{authz.ErrInvalid, authz.ErrInvalid, authz.ErrInvalid, authz.ErrInvalid, authz.ErrNotFound, authz.ErrNotFound} {
			if !errors.Is(be.Items[i], want) {
				t.Errorf("item %d: got %v; want %v", be.Items[i].Index, be.Items[i].Err, want)
			}
		}
		_, err = c.GetResourceScopeLink(ctx, "rsl_ok")
		wantErr(t, err, authz.ErrNotFound)
	})
}

func TestResourceScopeLinkToOwnerRefused(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		resourceFixture(t, c)
		_, err := c.CreateResourceScopeLink(ctx, authz.ResourceScopeLinkInput{ResourceID: "doc_readme", ScopeID: "scope_api", LinkType: authz.LinkShare})
		wantErr(t, err, authz.ErrNotAllowed)
		if want := `scope "scope_api" owns resource "doc_readme"; a link must point to another scope`; !strings.Contains(err.Error(), want) {
			t.Errorf("got %q; want it to contain %q", err, want)
		}
		// Also for a resource created in the same batch.
		_, err = c.Apply(ctx, authz.Batch{
			Resources:          []authz.ResourceInput{{ID: "doc_new", ResourceTypeID: "rt_doc", ScopeID: "scope_eng", ExternalResourceID: "new"}},
			ResourceScopeLinks: []authz.ResourceScopeLinkInput{{ResourceID: "doc_new", ScopeID: "scope_eng", LinkType: authz.LinkMirror}},
		})
		wantErr(t, err, authz.ErrNotAllowed)
		_, err = c.GetResource(ctx, "doc_new")
		wantErr(t, err, authz.ErrNotFound)
	})
}

func TestResourceScopeLinkUnique(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		resourceFixture(t, c)
		_, err := c.CreateResourceScopeLinks(ctx, []authz.ResourceScopeLinkInput{
			{ResourceID: "doc_readme", ScopeID: "scope_project_a", LinkType: authz.LinkShare},
			{ResourceID: "doc_readme", ScopeID: "scope_project_a", LinkType: authz.LinkMirror},
		})
		wantItems(t, err, authz.ErrAlreadyExists, "1 scopeId")
		must(c.CreateResourceScopeLink(ctx, authz.ResourceScopeLinkInput{ID: "rsl_a", ResourceID: "doc_readme", ScopeID: "scope_project_a", LinkType: authz.LinkShare}))(t)
		_, err = c.CreateResourceScopeLink(ctx, authz.ResourceScopeLinkInput{ResourceID: "doc_readme", ScopeID: "scope_project_a", LinkType: authz.LinkAlias})
		wantErr(t, err, authz.ErrAlreadyExists)
		if !strings.Contains(err.Error(), "rsl_a") {
			t.Errorf("got %q; want it to name the existing link rsl_a", err)
		}
	})
}

func TestDeleteResourceRemovesEdgesLinksAndPolicies(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		resourceFixture(t, c)
		must(c.CreateResourceEdges(ctx, []authz.ResourceEdgeInput{
			{ID: "e_ab", ParentResourceID: "f_a", ChildResourceID: "f_b"},
			{ID: "e_bc", ParentResourceID: "f_b", ChildResourceID: "f_c"},
			{ID: "e_ac", ParentResourceID: "f_a", ChildResourceID: "f_c"},
		}))(t)
		must(c.CreateResourceScopeLinks(ctx, []authz.ResourceScopeLinkInput{
			{ID: "rsl_b", ResourceID: "f_b", ScopeID: "scope_project_a", LinkType: authz.LinkShare},
			{ID: "rsl_c", ResourceID: "f_c", ScopeID: "scope_project_a", LinkType: authz.LinkShare},
		}))(t)
		must(c.CreateResourcePolicy(ctx, authz.ResourcePolicyInput{ID: "policy_b", ScopeID: "scope_eng", Name: "Folder b",
			Target: authz.PolicyTarget{Kind: authz.TargetResource, ResourceID: "f_b"}, Actions: []string{"read"}, Effect: authz.EffectAllow}))(t)
		resOK(t, c.DeleteResource(ctx, "f_b"))
		_, err := c.GetResourcePolicy(ctx, "policy_b")
		wantErr(t, err, authz.ErrNotFound)
		for _, id := range []string{"e_ab", "e_bc"} {
			_, err := c.GetResourceEdge(ctx, id)
			wantErr(t, err, authz.ErrNotFound)
		}
		_, err = c.GetResourceScopeLink(ctx, "rsl_b")
		wantErr(t, err, authz.ErrNotFound)
		// The rest stays, and the indexes no longer name the deleted objects.
		must(c.GetResource(ctx, "f_c"))(t)
		wantResIDs(t, "children of f_a", resIDs(must(c.ListResourceEdges(ctx, authz.ResourceEdgeFilter{ParentResourceID: "f_a"}))(t), edgeIDOf), []string{"e_ac"})
		wantResIDs(t, "links into project a", resIDs(must(c.ListResourceScopeLinks(ctx, authz.ResourceScopeLinkFilter{ScopeID: "scope_project_a"}))(t), linkIDOf), []string{"rsl_c"})
		// The external id is free again.
		must(c.CreateResource(ctx, authz.ResourceInput{ResourceTypeID: "rt_folder", ScopeID: "scope_eng", ExternalResourceID: "b"}))(t)
	})
}

func TestDeleteResourceTypeWithResourcesRefused(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		resourceFixture(t, c)
		err := c.DeleteResourceType(ctx, "rt_folder")
		wantErr(t, err, authz.ErrNotAllowed)
		if !strings.Contains(err.Error(), "has resources of this type") {
			t.Errorf("got %q; want it to say the type has resources", err)
		}
		must(c.GetResourceType(ctx, "rt_folder"))(t)
		for _, id := range []string{"f_a", "f_b", "f_c"} {
			resOK(t, c.DeleteResource(ctx, id))
		}
		resOK(t, c.DeleteResourceType(ctx, "rt_folder"))
		_, err = c.GetResourceType(ctx, "rt_folder")
		wantErr(t, err, authz.ErrNotFound)
	})
}

func TestDeleteScopeOwningResources(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		resourceFixture(t, c)
		must(c.CreateResources(ctx, []authz.ResourceInput{
			{ID: "doc_pa1", ResourceTypeID: "rt_doc", ScopeID: "scope_project_a", ExternalResourceID: "pa1"},
			{ID: "doc_pa2", ResourceTypeID: "rt_doc", ScopeID: "scope_project_a", ExternalResourceID: "pa2"},
		}))(t)
		must(c.CreateResourceScopeLink(ctx, authz.ResourceScopeLinkInput{ID: "rsl_in", ResourceID: "doc_readme", ScopeID: "scope_project_a", LinkType: authz.LinkShare}))(t)
		must(c.CreateResourceType(ctx, authz.ResourceTypeInput{ID: "rt_local", ScopeID: "scope_project_a", Key: "local", Name: "Local"}))(t)
		err := c.DeleteScope(ctx, "scope_project_a")
		wantErr(t, err, authz.ErrNotAllowed)
		if !strings.Contains(err.Error(), "owns resources") {
			t.Errorf("got %q; want it to say the scope owns resources", err)
		}
		must(c.GetScope(ctx, "scope_project_a"))(t)
		must(c.GetResourceScopeLink(ctx, "rsl_in"))(t)

		to := "scope_project_b"
		for _, id := range []string{"doc_pa1", "doc_pa2"} {
			must(c.UpdateResource(ctx, id, authz.ResourcePatch{ScopeID: &to}))(t)
		}
		resOK(t, c.DeleteScope(ctx, "scope_project_a"))
		_, err = c.GetScope(ctx, "scope_project_a")
		wantErr(t, err, authz.ErrNotFound)
		// Links into the scope and types defined there went with it; the
		// moved resources stay.
		_, err = c.GetResourceScopeLink(ctx, "rsl_in")
		wantErr(t, err, authz.ErrNotFound)
		_, err = c.GetResourceType(ctx, "rt_local")
		wantErr(t, err, authz.ErrNotFound)
		wantResIDs(t, "resources of project b", resIDs(must(c.ListResources(ctx, authz.ResourceFilter{ScopeID: to}))(t), resIDOf), []string{"doc_pa1", "doc_pa2"})
	})
}
