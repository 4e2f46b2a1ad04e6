package authz_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/scopegate/authz"
	"github.com/scopegate/authz/storage"
)

// tagFixture adds to bootstrap: resource types rt_doc (document) and
// rt_folder (folder) at scope_acme, resources res_doc, res_doc2 (documents)
// and res_folder, permission perm_read, and the tag group tg_dept at
// scope_acme with tags tag_eng, tag_fin and tag_ops. No binding exists yet.
func tagFixture(t *testing.T, c *authz.Client) {
	t.Helper()
	bootstrap(t, c)
	must(c.Apply(ctx, authz.Batch{
		ResourceTypes: []authz.ResourceTypeInput{
			{ID: "rt_doc", ScopeID: "scope_acme", Key: "document", Name: "Document"},
			{ID: "rt_folder", ScopeID: "scope_acme", Key: "folder", Name: "Folder"},
		},
		Resources: []authz.ResourceInput{
			{ID: "res_doc", ResourceTypeID: "rt_doc", ScopeID: "scope_acme", ExternalResourceID: "doc-1"},
			{ID: "res_doc2", ResourceTypeID: "rt_doc", ScopeID: "scope_acme", ExternalResourceID: "doc-2"},
			{ID: "res_folder", ResourceTypeID: "rt_folder", ScopeID: "scope_acme", ExternalResourceID: "folder-1"},
		},
		Permissions: []authz.PermissionInput{{ID: "perm_read", ScopeID: "scope_acme", Action: "read", ResourceType: "document"}},
		TagGroups: []authz.TagGroupInput{{ID: "tg_dept", ScopeID: "scope_acme", Key: "department", Name: "Department",
			Tags: []authz.InlineTagInput{
				{ID: "tag_eng", Identifier: "engineering", Label: "Engineering"},
				{ID: "tag_fin", Identifier: "finance", Label: "Finance"},
				{ID: "tag_ops", Identifier: "ops", Label: "Operations"},
			}}},
	}))(t)
}

// tagBind creates a binding of tg_dept.
func tagBind(t *testing.T, c *authz.Client, modelType authz.ModelType, modelID string) authz.TagBinding {
	t.Helper()
	in := authz.TagBindingInput{TagGroupID: "tg_dept", ModelType: modelType}
	if modelID != "" {
		in.ModelID = &modelID
	}
	return must(c.CreateTagBinding(ctx, in))(t)
}

func ptr[T any](v T) *T { return &v }

// tagOK fails the test on err.
func tagOK(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
}

func tagIDs[T any](list []T, id func(T) string) []string {
	out := []string{}
	for _, x := range list {
		out = append(out, id(x))
	}
	return out
}

func tagGroupID(g authz.TagGroup) string       { return g.ID }
func tagID(t authz.Tag) string                 { return t.ID }
func tagBindingID(b authz.TagBinding) string   { return b.ID }
func tagAssignID(a authz.TagAssignment) string { return a.ID }
func wantTagIDs(t *testing.T, what string, got, want []string) {
	t.Helper()
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("%s (-want +got):\n%s", what, d)
	}
}

// wantNothingStored fails unless rev is still the store's revision.
func wantNothingStored(t *testing.T, c *authz.Client, rev uint64) {
	t.Helper()
	if got := must(c.Revision(ctx))(t); got != rev {
		t.Errorf("got revision %d after a failed write; want %d (nothing stored)", got, rev)
	}
}

func TestSeedTagAssignments(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		bootstrap(t, c)
		must(c.Apply(ctx, authz.Batch{
			ResourceTypes: []authz.ResourceTypeInput{{ID: "resource_type_document", ScopeID: "scope_acme", Key: "document", Name: "Document"}},
			Resources:     []authz.ResourceInput{{ID: "resource_doc_123", ResourceTypeID: "resource_type_document", ScopeID: "scope_acme", ExternalResourceID: "doc-123"}},
			TagGroups: []authz.TagGroupInput{
				{ID: "tag_group_department", ScopeID: "scope_acme", Key: "department", Name: "Department",
					Tags: []authz.InlineTagInput{{ID: "tag_engineering", Identifier: "engineering", Label: "Engineering"}}},
				{ID: "tag_group_team", ScopeID: "scope_acme", Key: "team", Name: "Team",
					Tags: []authz.InlineTagInput{{ID: "tag_backend", Identifier: "backend", Label: "Backend"}}},
			},
			TagBindings: []authz.TagBindingInput{
				{TagGroupID: "tag_group_department", ModelType: authz.ModelSubject},
				{TagGroupID: "tag_group_department", ModelType: authz.ModelResourceType, ModelID: ptr("resource_type_document")},
				{TagGroupID: "tag_group_team", ModelType: authz.ModelSubject},
			},
		}))(t)
		var in []authz.TagAssignmentInput
		readSeed(t, "tag-assignments", "request", &in)
		got := must(c.CreateTagAssignments(authz.WithActor(ctx, "subject_admin"), in))(t)
		var want []map[string]any
		readSeed(t, "tag-assignments", "response", &want)
		// Our ids are generated: check their prefix, then compare the rest.
		if len(got) != len(want) {
			t.Fatalf("got %d assignments; want %d", len(got), len(want))
		}
		for i := range got {
			if !strings.HasPrefix(got[i].ID, "tag_assignment_") {
				t.Errorf("item %d: got id %q; want the tag_assignment prefix", i, got[i].ID)
			}
			got[i].ID = want[i]["id"].(string)
		}
		if d := cmp.Diff(asJSON(t, want), asJSON(t, got)); d != "" {
			t.Errorf("response (-want +got):\n%s", d)
		}
	})
}

func TestTagGroupCreateGetList(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		bootstrap(t, c)
		got := must(c.CreateTagGroups(authz.WithActor(ctx, "subject_jane"), []authz.TagGroupInput{
			{ID: "tg_b", ScopeID: "scope_acme", Key: "team", Name: "Team", Description: "Teams", MaxAppliedPerTarget: ptr(2), Origin: authz.OriginSystem,
				Tags: []authz.InlineTagInput{{Identifier: "backend", Label: "Backend"}, {ID: "tag_front", Identifier: "front-end", Label: "Frontend"}}},
			{ID: "tg_a", ScopeID: "scope_acme", Key: "department", Name: "Department"},
			{ID: "tg_c", ScopeID: "scope_eng", Key: "department", Name: "Department"},
		}))(t)
		want := authz.TagGroup{ID: "tg_b", ScopeID: "scope_acme", Key: "team", Name: "Team", Description: "Teams", MaxAppliedPerTarget: ptr(2),
			Origin: authz.OriginSystem, CreatedAt: authz.Time{Time: fixedNow}, CreatedBy: "subject_jane"}
		if d := cmp.Diff(want, got[0]); d != "" {
			t.Errorf("created group (-want +got):\n%s", d)
		}
		if got[1].Origin != authz.OriginUser || got[1].MaxAppliedPerTarget != nil || got[1].IsLocked {
			t.Errorf("got %+v; want origin user, no limit, unlocked by default", got[1])
		}
		if d := cmp.Diff(got[0], must(c.GetTagGroup(ctx, "tg_b"))(t)); d != "" {
			t.Errorf("stored group (-created +stored):\n%s", d)
		}
		_, err := c.GetTagGroup(ctx, "tg_nope")
		wantErr(t, err, authz.ErrNotFound)

		// Inline tags are stored in the group's scope.
		tags := must(c.ListTags(ctx, authz.TagFilter{TagGroupID: "tg_b"}))(t)
		if len(tags) != 2 || !strings.HasPrefix(tags[0].ID, "tag_0") || tags[0].Identifier != "backend" {
			t.Fatalf("got tags %+v; want a generated tag id for backend, then tag_front", tags)
		}
		wantTag := authz.Tag{ID: "tag_front", ScopeID: "scope_acme", TagGroupID: "tg_b", Identifier: "front-end", Label: "Frontend",
			CreatedAt: authz.Time{Time: fixedNow}, CreatedBy: "subject_jane"}
		if d := cmp.Diff(wantTag, tags[1]); d != "" {
			t.Errorf("inline tag (-want +got):\n%s", d)
		}

		// Lists are per scope, in id order, paged.
		all := must(c.ListTagGroups(ctx, authz.TagGroupFilter{ScopeID: "scope_acme"}))(t)
		wantTagIDs(t, "groups of scope_acme", tagIDs(all, tagGroupID), []string{"tg_a", "tg_b"})
		page := must(c.ListTagGroups(ctx, authz.TagGroupFilter{ScopeID: "scope_acme", Page: authz.Page{Limit: 1}}))(t)
		wantTagIDs(t, "first page", tagIDs(page, tagGroupID), []string{"tg_a"})
		page = must(c.ListTagGroups(ctx, authz.TagGroupFilter{ScopeID: "scope_acme", Page: authz.Page{Limit: 1, After: "tg_a"}}))(t)
		wantTagIDs(t, "second page", tagIDs(page, tagGroupID), []string{"tg_b"})
		_, err = c.ListTagGroups(ctx, authz.TagGroupFilter{})
		wantErr(t, err, authz.ErrInvalid)
	})
}

func TestTagGroupJSONNulls(t *testing.T) {
	t.Parallel()
	g := authz.TagGroup{ID: "tg", ScopeID: "s", Key: "k", Name: "N", Origin: authz.OriginUser}
	b, err := json.Marshal(g)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"maxAppliedPerTarget":null`) {
		t.Errorf("got %s; want maxAppliedPerTarget null when unset", b)
	}
	b, err = json.Marshal(authz.TagBinding{ID: "b", TagGroupID: "tg", ModelType: authz.ModelSubject})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), `{"id":"b","tagGroupId":"tg","modelType":"subject","modelId":null}`; got != want {
		t.Errorf("got %s; want %s", got, want)
	}
}

func TestTagGroupPatchJSON(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		json string
		want authz.Nullable[int]
	}{
		{`{}`, authz.Nullable[int]{}},
		{`{"maxAppliedPerTarget": null}`, authz.Null[int]()},
		{`{"maxAppliedPerTarget": 3}`, authz.NullableOf(3)},
	} {
		var p authz.TagGroupPatch
		if err := json.Unmarshal([]byte(tc.json), &p); err != nil {
			t.Fatalf("%s: %v", tc.json, err)
		}
		if d := cmp.Diff(tc.want, p.MaxAppliedPerTarget); d != "" {
			t.Errorf("%s: maxAppliedPerTarget (-want +got):\n%s", tc.json, d)
		}
		b, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.ReplaceAll(tc.json, " ", ""); string(b) != got {
			t.Errorf("round trip of %s gave %s", tc.json, b)
		}
	}
	var p authz.TagGroupPatch
	if err := json.Unmarshal([]byte(`{"maxAppliedPerTarget": "x"}`), &p); err == nil {
		t.Errorf("decoding a string limit succeeded; want an error")
	}
}

func TestTagGroupValidation(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		bootstrap(t, c)
		rev := must(c.Revision(ctx))(t)
		_, err := c.CreateTagGroups(ctx, []authz.TagGroupInput{
			{ID: "tg_ok", ScopeID: "scope_acme", Key: "ok", Name: "OK"},
			{ScopeID: "scope_acme", Key: "Dept", Name: "x"},
			{ScopeID: "scope_acme", Key: "1dept", Name: "x"},
			{ScopeID: "scope_acme", Key: "dept"},
			{Key: "dept", Name: "x"},
			{ScopeID: "scope_nope", Key: "dept", Name: "x"},
			{ScopeID: "scope_acme", Key: "limited", Name: "x", MaxAppliedPerTarget: ptr(0)},
			{ScopeID: "scope_acme", Key: "origin", Name: "x", Origin: "vendor"},
			{ScopeID: "scope_acme", Key: "tagged", Name: "x", Tags: []authz.InlineTagInput{
				{Identifier: "ok-1_a", Label: "OK"}, {Identifier: "-bad", Label: "x"}, {Identifier: "Bad", Label: "x"}, {Identifier: "nolabel"}, {Label: "x"}}},
		})
		wantItems(t, err, nil, "1 key", "2 key", "3 name", "4 scopeId", "5 scopeId", "6 maxAppliedPerTarget", "7 origin",
			"8 tags[1].identifier", "8 tags[2].identifier", "8 tags[3].label", "8 tags[4].identifier")
		var be *authz.BatchError
		errors.As(err, &be)
		for _, ie := range be.Items {
			want := authz.ErrInvalid
			if ie.Index == 5 {
				want = authz.ErrNotFound
			}
			if !errors.Is(ie, want) {
				t.Errorf("item %d %s: got %v; want %v", ie.Index, ie.Field, ie.Err, want)
			}
		}
		_, err = c.GetTagGroup(ctx, "tg_ok")
		wantErr(t, err, authz.ErrNotFound)
		wantNothingStored(t, c, rev)
	})
}

func TestTagGroupKeyUniquePerScope(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		tagFixture(t, c)
		_, err := c.CreateTagGroups(ctx, []authz.TagGroupInput{
			{ScopeID: "scope_acme", Key: "team", Name: "Team"},
			{ScopeID: "scope_acme", Key: "team", Name: "Team again"},
		})
		wantItems(t, err, authz.ErrAlreadyExists, "1 key")
		_, err = c.CreateTagGroup(ctx, authz.TagGroupInput{ScopeID: "scope_acme", Key: "department", Name: "Dept"})
		wantErr(t, err, authz.ErrAlreadyExists)
		// The same key in another scope is another group.
		must(c.CreateTagGroup(ctx, authz.TagGroupInput{ScopeID: "scope_eng", Key: "department", Name: "Dept"}))(t)
	})
}

func TestTagIdentifierUniquePerGroup(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		tagFixture(t, c)
		_, err := c.CreateTagGroup(ctx, authz.TagGroupInput{ScopeID: "scope_acme", Key: "team", Name: "Team",
			Tags: []authz.InlineTagInput{{Identifier: "red", Label: "Red"}, {Identifier: "red", Label: "Red again"}}})
		wantErr(t, err, authz.ErrAlreadyExists)
		var ie *authz.ItemError
		if !errors.As(err, &ie) || ie.Field != "tags[1].identifier" {
			t.Errorf("got %v; want the error at tags[1].identifier", err)
		}
		_, err = c.CreateTags(ctx, []authz.TagInput{
			{TagGroupID: "tg_dept", Identifier: "legal", Label: "Legal"},
			{TagGroupID: "tg_dept", Identifier: "legal", Label: "Legal"},
		})
		wantItems(t, err, authz.ErrAlreadyExists, "1 identifier")
		_, err = c.CreateTag(ctx, authz.TagInput{TagGroupID: "tg_dept", Identifier: "engineering", Label: "Eng"})
		wantErr(t, err, authz.ErrAlreadyExists)
		// The same identifier in another group is another tag.
		must(c.CreateTagGroup(ctx, authz.TagGroupInput{ScopeID: "scope_acme", Key: "team", Name: "Team",
			Tags: []authz.InlineTagInput{{Identifier: "engineering", Label: "Eng"}}}))(t)
	})
}

func TestTagGroupUpdate(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		tagFixture(t, c)
		g := must(c.UpdateTagGroup(ctx, "tg_dept", authz.TagGroupPatch{Name: ptr("Departments"), Description: ptr("Who you work for"), MaxAppliedPerTarget: authz.NullableOf(2)}))(t)
		if g.Name != "Departments" || g.Description != "Who you work for" || g.MaxAppliedPerTarget == nil || *g.MaxAppliedPerTarget != 2 || g.Key != "department" {
			t.Errorf("got %+v; want the new name, description and limit", g)
		}
		g = must(c.UpdateTagGroup(ctx, "tg_dept", authz.TagGroupPatch{Description: ptr("")}))(t)
		if g.MaxAppliedPerTarget == nil || g.Description != "" {
			t.Errorf("got %+v; want the limit unchanged and the description cleared", g)
		}
		g = must(c.UpdateTagGroup(ctx, "tg_dept", authz.TagGroupPatch{MaxAppliedPerTarget: authz.Null[int]()}))(t)
		if g.MaxAppliedPerTarget != nil {
			t.Errorf("got limit %d; want null", *g.MaxAppliedPerTarget)
		}
		if stored := must(c.GetTagGroup(ctx, "tg_dept"))(t); stored.MaxAppliedPerTarget != nil || stored.Name != "Departments" {
			t.Errorf("stored %+v; want the updates", stored)
		}
		_, err := c.UpdateTagGroup(ctx, "tg_dept", authz.TagGroupPatch{Name: ptr("")})
		wantErr(t, err, authz.ErrInvalid)
		_, err = c.UpdateTagGroup(ctx, "tg_dept", authz.TagGroupPatch{MaxAppliedPerTarget: authz.NullableOf(0)})
		wantErr(t, err, authz.ErrInvalid)
		_, err = c.UpdateTagGroup(ctx, "tg_nope", authz.TagGroupPatch{Name: ptr("x")})
		wantErr(t, err, authz.ErrNotFound)
	})
}

func TestTagCreateGetListUpdateDelete(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		tagFixture(t, c)
		got := must(c.CreateTags(authz.WithActor(ctx, "subject_bob"), []authz.TagInput{
			{ID: "tag_legal", TagGroupID: "tg_dept", Identifier: "legal", Label: "Legal"},
			{ID: "tag_api", TagGroupID: "tg_dept", ScopeID: "scope_api", Identifier: "api", Label: "API"},
		}))(t)
		want := authz.Tag{ID: "tag_legal", ScopeID: "scope_acme", TagGroupID: "tg_dept", Identifier: "legal", Label: "Legal",
			CreatedAt: authz.Time{Time: fixedNow}, CreatedBy: "subject_bob"}
		if d := cmp.Diff(want, got[0]); d != "" {
			t.Errorf("tag with the default scope (-want +got):\n%s", d)
		}
		if got[1].ScopeID != "scope_api" {
			t.Errorf("got scope %q; want scope_api", got[1].ScopeID)
		}
		if d := cmp.Diff(got[0], must(c.GetTag(ctx, "tag_legal"))(t)); d != "" {
			t.Errorf("stored tag (-created +stored):\n%s", d)
		}
		_, err := c.GetTag(ctx, "tag_nope")
		wantErr(t, err, authz.ErrNotFound)

		all := must(c.ListTags(ctx, authz.TagFilter{TagGroupID: "tg_dept"}))(t)
		wantTagIDs(t, "tags", tagIDs(all, tagID), []string{"tag_api", "tag_eng", "tag_fin", "tag_legal", "tag_ops"})
		page := must(c.ListTags(ctx, authz.TagFilter{TagGroupID: "tg_dept", Page: authz.Page{Limit: 2, After: "tag_eng"}}))(t)
		wantTagIDs(t, "page", tagIDs(page, tagID), []string{"tag_fin", "tag_legal"})
		_, err = c.ListTags(ctx, authz.TagFilter{})
		wantErr(t, err, authz.ErrInvalid)

		up := must(c.UpdateTag(ctx, "tag_legal", authz.TagPatch{Label: ptr("Legal & Compliance")}))(t)
		if up.Label != "Legal & Compliance" || up.Identifier != "legal" {
			t.Errorf("got %+v; want the new label", up)
		}
		_, err = c.UpdateTag(ctx, "tag_legal", authz.TagPatch{Label: ptr("")})
		wantErr(t, err, authz.ErrInvalid)
		_, err = c.UpdateTag(ctx, "tag_nope", authz.TagPatch{Label: ptr("x")})
		wantErr(t, err, authz.ErrNotFound)

		tagOK(t, c.DeleteTag(ctx, "tag_legal"))
		_, err = c.GetTag(ctx, "tag_legal")
		wantErr(t, err, authz.ErrNotFound)
		wantErr(t, c.DeleteTag(ctx, "tag_legal"), authz.ErrNotFound)
		// A tag placed at a scope goes with the scope.
		tagOK(t, c.DeleteScope(ctx, "scope_api"))
		_, err = c.GetTag(ctx, "tag_api")
		wantErr(t, err, authz.ErrNotFound)
	})
}

func TestTagValidation(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		tagFixture(t, c)
		rev := must(c.Revision(ctx))(t)
		_, err := c.CreateTags(ctx, []authz.TagInput{
			{ID: "tag_ok", TagGroupID: "tg_dept", Identifier: "ok", Label: "OK"},
			{Identifier: "x", Label: "x"},
			{TagGroupID: "tg_nope", Identifier: "x", Label: "x"},
			{TagGroupID: "tg_dept", Identifier: "X", Label: "x"},
			{TagGroupID: "tg_dept", Identifier: "y"},
			{TagGroupID: "tg_dept", Identifier: "z", Label: "x", ScopeID: "scope_nope"},
			{TagGroupID: "scope_acme", Identifier: "w", Label: "x"},
		})
		be := wantItems(t, err, nil, "1 tagGroupId", "2 tagGroupId", "3 identifier", "4 label", "5 scopeId", "6 tagGroupId")
		for i, want := range []error{authz.ErrInvalid, authz.ErrNotFound, authz.ErrInvalid, authz.ErrInvalid, authz.ErrNotFound, authz.ErrNotFound} {
			if !errors.Is(be.Items[i], want) {
				t.Errorf("item %d: got %v; want %v", be.Items[i].Index, be.Items[i].Err, want)
			}
		}
		wantNothingStored(t, c, rev)
	})
}

// TestTagDefaultScopeLeavesNoIndexEntries checks, below the API, that a tag
// whose scope is filled in from its group leaves no index or unique entry
// behind once deleted.
func TestTagDefaultScopeLeavesNoIndexEntries(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			s := b.open(t)
			c := must(authz.New(s, testOptions()))(t)
			tagFixture(t, c)
			must(c.CreateTag(ctx, authz.TagInput{ID: "tag_lonely", TagGroupID: "tg_dept", Identifier: "lonely", Label: "Lonely"}))(t)
			tagOK(t, c.DeleteTagGroup(ctx, "tg_dept"))
			for _, table := range []string{"index", "unique"} {
				err := s.View(ctx, func(tx storage.Tx) error {
					return tx.Scan(table, "", func(k string, v []byte) error {
						if strings.Contains(k, "tag_lonely") || strings.Contains(string(v), "tag_lonely") {
							t.Errorf("table %s: entry %q → %q is left behind", table, k, v)
						}
						return nil
					})
				})
				tagOK(t, err)
			}
		})
	}
}

func TestTagScopeMustSeeTheGroup(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		tagFixture(t, c)
		must(c.CreateTag(ctx, authz.TagInput{TagGroupID: "tg_dept", ScopeID: "scope_eng", Identifier: "platform", Label: "Platform"}))(t)
		_, err := c.CreateTag(ctx, authz.TagInput{TagGroupID: "tg_dept", ScopeID: "scope_globex", Identifier: "globex", Label: "Globex"})
		wantErr(t, err, authz.ErrNotAllowed)
		if !strings.Contains(err.Error(), `tag group "tg_dept" is defined at scope "scope_acme"`) {
			t.Errorf("got %q; want it to name the group's scope", err)
		}
	})
}

func TestTagBindingCreateGetListDelete(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		tagFixture(t, c)
		got := must(c.CreateTagBindings(ctx, []authz.TagBindingInput{
			{ID: "tb_subjects", TagGroupID: "tg_dept", ModelType: authz.ModelSubject},
			{ID: "tb_jane", TagGroupID: "tg_dept", ModelType: authz.ModelSubject, ModelID: ptr("subject_jane")},
			{ID: "tb_doc", TagGroupID: "tg_dept", ModelType: authz.ModelResourceType, ModelID: ptr("rt_doc")},
			{ID: "tb_role", TagGroupID: "tg_dept", ModelType: authz.ModelRole, ModelID: ptr("role_admin")},
			{ID: "tb_perm", TagGroupID: "tg_dept", ModelType: authz.ModelPermission, ModelID: ptr("perm_read")},
			{ID: "tb_res", TagGroupID: "tg_dept", ModelType: authz.ModelResource, ModelID: ptr("res_doc")},
		}))(t)
		if d := cmp.Diff(authz.TagBinding{ID: "tb_jane", TagGroupID: "tg_dept", ModelType: authz.ModelSubject, ModelID: ptr("subject_jane")}, got[1]); d != "" {
			t.Errorf("binding (-want +got):\n%s", d)
		}
		if d := cmp.Diff(got[0], must(c.GetTagBinding(ctx, "tb_subjects"))(t)); d != "" {
			t.Errorf("stored binding (-created +stored):\n%s", d)
		}
		_, err := c.GetTagBinding(ctx, "tb_nope")
		wantErr(t, err, authz.ErrNotFound)

		all := must(c.ListTagBindings(ctx, authz.TagBindingFilter{TagGroupID: "tg_dept"}))(t)
		wantTagIDs(t, "bindings", tagIDs(all, tagBindingID), []string{"tb_doc", "tb_jane", "tb_perm", "tb_res", "tb_role", "tb_subjects"})
		page := must(c.ListTagBindings(ctx, authz.TagBindingFilter{TagGroupID: "tg_dept", Page: authz.Page{Limit: 2, After: "tb_jane"}}))(t)
		wantTagIDs(t, "page", tagIDs(page, tagBindingID), []string{"tb_perm", "tb_res"})
		subj := must(c.ListTagBindings(ctx, authz.TagBindingFilter{TagGroupID: "tg_dept", ModelType: authz.ModelSubject}))(t)
		wantTagIDs(t, "subject bindings", tagIDs(subj, tagBindingID), []string{"tb_jane", "tb_subjects"})
		byModel := must(c.ListTagBindings(ctx, authz.TagBindingFilter{ModelID: "subject_jane"}))(t)
		wantTagIDs(t, "bindings naming jane", tagIDs(byModel, tagBindingID), []string{"tb_jane"})
		_, err = c.ListTagBindings(ctx, authz.TagBindingFilter{ModelType: authz.ModelSubject})
		wantErr(t, err, authz.ErrInvalid)
		_, err = c.ListTagBindings(ctx, authz.TagBindingFilter{TagGroupID: "tg_dept", ModelType: "group"})
		wantErr(t, err, authz.ErrInvalid)

		tagOK(t, c.DeleteTagBinding(ctx, "tb_jane"))
		_, err = c.GetTagBinding(ctx, "tb_jane")
		wantErr(t, err, authz.ErrNotFound)
		wantErr(t, c.DeleteTagBinding(ctx, "tb_jane"), authz.ErrNotFound)
	})
}

func TestTagBindingValidation(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		tagFixture(t, c)
		rev := must(c.Revision(ctx))(t)
		_, err := c.CreateTagBindings(ctx, []authz.TagBindingInput{
			{TagGroupID: "tg_dept", ModelType: authz.ModelSubject},
			{ModelType: authz.ModelSubject},
			{TagGroupID: "tg_nope", ModelType: authz.ModelSubject},
			{TagGroupID: "tg_dept"},
			{TagGroupID: "tg_dept", ModelType: "group"},
			{TagGroupID: "tg_dept", ModelType: authz.ModelSubject, ModelID: ptr("")},
			{TagGroupID: "tg_dept", ModelType: authz.ModelSubject, ModelID: ptr("role_admin")},   // not a subject
			{TagGroupID: "tg_dept", ModelType: authz.ModelResourceType, ModelID: ptr("res_doc")}, // not a type
			{TagGroupID: "tg_dept", ModelType: authz.ModelRole, ModelID: ptr("role_nope")},
		})
		be := wantItems(t, err, nil, "1 tagGroupId", "2 tagGroupId", "3 modelType", "4 modelType", "5 modelId", "6 modelId", "7 modelId", "8 modelId")
		for i, want := range []error{authz.ErrInvalid, authz.ErrNotFound, authz.ErrInvalid, authz.ErrInvalid, authz.ErrInvalid, authz.ErrNotFound, authz.ErrNotFound, authz.ErrNotFound} {
			if !errors.Is(be.Items[i], want) {
				t.Errorf("item %d: got %v; want %v", be.Items[i].Index, be.Items[i].Err, want)
			}
		}
		wantNothingStored(t, c, rev)
	})
}

func TestTagAssignmentCreateGetListDelete(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		tagFixture(t, c)
		tagBind(t, c, authz.ModelSubject, "")
		tagBind(t, c, authz.ModelResource, "")
		must(c.CreateTagGroup(ctx, authz.TagGroupInput{ID: "tg_team", ScopeID: "scope_acme", Key: "team", Name: "Team",
			Tags: []authz.InlineTagInput{{ID: "tag_red", Identifier: "red", Label: "Red"}}}))(t)
		must(c.CreateTagBinding(ctx, authz.TagBindingInput{TagGroupID: "tg_team", ModelType: authz.ModelSubject}))(t)
		got := must(c.CreateTagAssignments(authz.WithActor(ctx, "subject_bob"), []authz.TagAssignmentInput{
			{ID: "ta_1", TagID: "tag_eng", TargetType: authz.ModelSubject, TargetID: "subject_jane", ScopeID: "scope_acme"},
			{ID: "ta_2", TagID: "tag_eng", TargetType: authz.ModelSubject, TargetID: "subject_jane", ScopeID: "scope_eng"},
			{ID: "ta_3", TagID: "tag_fin", TargetType: authz.ModelSubject, TargetID: "subject_bob", ScopeID: "scope_acme"},
			{ID: "ta_4", TagID: "tag_eng", TargetType: authz.ModelResource, TargetID: "res_doc", ScopeID: "scope_eng"},
			{ID: "ta_5", TagID: "tag_red", TargetType: authz.ModelSubject, TargetID: "subject_jane", ScopeID: "scope_acme"},
		}))(t)
		want := authz.TagAssignment{ID: "ta_1", TagID: "tag_eng", TargetType: authz.ModelSubject, TargetID: "subject_jane", ScopeID: "scope_acme",
			AppliedBy: "subject_bob", AppliedAt: authz.Time{Time: fixedNow}}
		if d := cmp.Diff(want, got[0]); d != "" {
			t.Errorf("assignment (-want +got):\n%s", d)
		}
		if d := cmp.Diff(got[0], must(c.GetTagAssignment(ctx, "ta_1"))(t)); d != "" {
			t.Errorf("stored assignment (-created +stored):\n%s", d)
		}
		_, err := c.GetTagAssignment(ctx, "ta_nope")
		wantErr(t, err, authz.ErrNotFound)
		// Without an actor, appliedBy is "system".
		sys := must(c.CreateTagAssignment(ctx, authz.TagAssignmentInput{TagID: "tag_ops", TargetType: authz.ModelSubject, TargetID: "subject_bob", ScopeID: "scope_acme"}))(t)
		if sys.AppliedBy != authz.SystemActor {
			t.Errorf("got appliedBy %q; want %q", sys.AppliedBy, authz.SystemActor)
		}
		tagOK(t, c.DeleteTagAssignment(ctx, sys.ID))

		for _, tc := range []struct {
			name   string
			filter authz.TagAssignmentFilter
			want   []string
		}{
			{"by tag", authz.TagAssignmentFilter{TagID: "tag_eng"}, []string{"ta_1", "ta_2", "ta_4"}},
			{"by target", authz.TagAssignmentFilter{TargetID: "subject_jane"}, []string{"ta_1", "ta_2", "ta_5"}},
			{"by target type", authz.TagAssignmentFilter{TargetType: authz.ModelResource}, []string{"ta_4"}},
			{"by scope", authz.TagAssignmentFilter{ScopeID: "scope_eng"}, []string{"ta_2", "ta_4"}},
			{"by group", authz.TagAssignmentFilter{TagGroupID: "tg_dept"}, []string{"ta_1", "ta_2", "ta_3", "ta_4"}},
			{"by group and target", authz.TagAssignmentFilter{TagGroupID: "tg_team", TargetID: "subject_jane"}, []string{"ta_5"}},
			{"by group and scope", authz.TagAssignmentFilter{TagGroupID: "tg_dept", ScopeID: "scope_acme"}, []string{"ta_1", "ta_3"}},
			{"by tag and target", authz.TagAssignmentFilter{TagID: "tag_eng", TargetID: "subject_jane", ScopeID: "scope_eng"}, []string{"ta_2"}},
			{"by tag of another group", authz.TagAssignmentFilter{TagID: "tag_red", TagGroupID: "tg_dept"}, []string{}},
			{"by target type and scope", authz.TagAssignmentFilter{TargetType: authz.ModelSubject, ScopeID: "scope_eng"}, []string{"ta_2"}},
			{"paged", authz.TagAssignmentFilter{TagGroupID: "tg_dept", Page: authz.Page{Limit: 2, After: "ta_1"}}, []string{"ta_2", "ta_3"}},
		} {
			got := must(c.ListTagAssignments(ctx, tc.filter))(t)
			wantTagIDs(t, tc.name, tagIDs(got, tagAssignID), tc.want)
		}
		_, err = c.ListTagAssignments(ctx, authz.TagAssignmentFilter{})
		wantErr(t, err, authz.ErrInvalid)
		_, err = c.ListTagAssignments(ctx, authz.TagAssignmentFilter{TargetType: authz.ModelResourceType})
		wantErr(t, err, authz.ErrInvalid)

		tagOK(t, c.DeleteTagAssignment(ctx, "ta_1"))
		_, err = c.GetTagAssignment(ctx, "ta_1")
		wantErr(t, err, authz.ErrNotFound)
		wantErr(t, c.DeleteTagAssignment(ctx, "ta_1"), authz.ErrNotFound)
	})
}

func TestTagAssignmentValidation(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		tagFixture(t, c)
		tagBind(t, c, authz.ModelSubject, "")
		rev := must(c.Revision(ctx))(t)
		_, err := c.CreateTagAssignments(ctx, []authz.TagAssignmentInput{
			{ID: "ta_ok", TagID: "tag_eng", TargetType: authz.ModelSubject, TargetID: "subject_jane", ScopeID: "scope_acme"},
			{TargetType: authz.ModelSubject, TargetID: "subject_jane", ScopeID: "scope_acme"},
			{TagID: "tag_nope", TargetType: authz.ModelSubject, TargetID: "subject_jane", ScopeID: "scope_acme"},
			{TagID: "tag_eng", TargetID: "subject_jane", ScopeID: "scope_acme"},
			{TagID: "tag_eng", TargetType: authz.ModelResourceType, TargetID: "rt_doc", ScopeID: "scope_acme"},
			{TagID: "tag_eng", TargetType: authz.ModelSubject, ScopeID: "scope_acme"},
			{TagID: "tag_eng", TargetType: authz.ModelSubject, TargetID: "subject_nope", ScopeID: "scope_acme"},
			{TagID: "tag_eng", TargetType: authz.ModelSubject, TargetID: "role_admin", ScopeID: "scope_acme"}, // a role, not a subject
			{TagID: "tag_eng", TargetType: authz.ModelSubject, TargetID: "subject_bob"},
			{TagID: "tag_eng", TargetType: authz.ModelSubject, TargetID: "subject_bob", ScopeID: "scope_nope"},
		})
		be := wantItems(t, err, nil, "1 tagId", "2 tagId", "3 targetType", "4 targetType", "5 targetId", "6 targetId", "7 targetId", "8 scopeId", "9 scopeId")
		for i, want := range []error{authz.ErrInvalid, authz.ErrNotFound, authz.ErrInvalid, authz.ErrInvalid, authz.ErrInvalid, authz.ErrNotFound, authz.ErrNotFound, authz.ErrInvalid, authz.ErrNotFound} {
			if !errors.Is(be.Items[i], want) {
				t.Errorf("item %d: got %v; want %v", be.Items[i].Index, be.Items[i].Err, want)
			}
		}
		_, err = c.GetTagAssignment(ctx, "ta_ok")
		wantErr(t, err, authz.ErrNotFound)
		wantNothingStored(t, c, rev)
	})
}

func TestTagAssignmentUnique(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		tagFixture(t, c)
		tagBind(t, c, authz.ModelSubject, "")
		jane := authz.TagAssignmentInput{TagID: "tag_eng", TargetType: authz.ModelSubject, TargetID: "subject_jane", ScopeID: "scope_acme"}
		_, err := c.CreateTagAssignments(ctx, []authz.TagAssignmentInput{jane, jane})
		wantItems(t, err, authz.ErrAlreadyExists, "1 tagId")
		must(c.CreateTagAssignment(ctx, jane))(t)
		_, err = c.CreateTagAssignment(ctx, jane)
		wantErr(t, err, authz.ErrAlreadyExists)
		// The same tag on the same target in another scope is another
		// assignment.
		jane.ScopeID = "scope_eng"
		must(c.CreateTagAssignment(ctx, jane))(t)
	})
}

func TestTagAssignmentNeedsABinding(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		tagFixture(t, c)
		for _, tc := range []struct {
			targetType authz.ModelType
			targetID   string
		}{
			{authz.ModelSubject, "subject_jane"},
			{authz.ModelRole, "role_admin"},
			{authz.ModelPermission, "perm_read"},
			{authz.ModelResource, "res_doc"},
		} {
			in := authz.TagAssignmentInput{TagID: "tag_eng", TargetType: tc.targetType, TargetID: tc.targetID, ScopeID: "scope_acme"}
			_, err := c.CreateTagAssignment(ctx, in)
			wantErr(t, err, authz.ErrNotAllowed)
			want := `create a tag binding {tagGroupId: "tg_dept", modelType: "` + string(tc.targetType) + `"}`
			if !strings.Contains(err.Error(), want) {
				t.Errorf("got %q; want it to name the binding to create: %s", err, want)
			}
			tagBind(t, c, tc.targetType, "")
			must(c.CreateTagAssignment(ctx, in))(t)
		}
	})
}

func TestTagBindingOfOneModel(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		tagFixture(t, c)
		tagBind(t, c, authz.ModelSubject, "subject_jane")
		tagBind(t, c, authz.ModelResource, "res_doc")
		must(c.CreateTagAssignments(ctx, []authz.TagAssignmentInput{
			{TagID: "tag_eng", TargetType: authz.ModelSubject, TargetID: "subject_jane", ScopeID: "scope_acme"},
			{TagID: "tag_eng", TargetType: authz.ModelResource, TargetID: "res_doc", ScopeID: "scope_acme"},
		}))(t)
		_, err := c.CreateTagAssignments(ctx, []authz.TagAssignmentInput{
			{TagID: "tag_eng", TargetType: authz.ModelSubject, TargetID: "subject_bob", ScopeID: "scope_acme"},
			{TagID: "tag_eng", TargetType: authz.ModelResource, TargetID: "res_doc2", ScopeID: "scope_acme"},
		})
		wantItems(t, err, authz.ErrNotAllowed, "0 targetId", "1 targetId")
	})
}

func TestTagBindingOfResourceTypes(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		tagFixture(t, c)
		// A binding of one resource type covers the resources of that type.
		tagBind(t, c, authz.ModelResourceType, "rt_doc")
		must(c.CreateTagAssignments(ctx, []authz.TagAssignmentInput{
			{TagID: "tag_eng", TargetType: authz.ModelResource, TargetID: "res_doc", ScopeID: "scope_acme"},
			{TagID: "tag_eng", TargetType: authz.ModelResource, TargetID: "res_doc2", ScopeID: "scope_acme"},
		}))(t)
		folder := authz.TagAssignmentInput{TagID: "tag_eng", TargetType: authz.ModelResource, TargetID: "res_folder", ScopeID: "scope_acme"}
		_, err := c.CreateTagAssignment(ctx, folder)
		wantErr(t, err, authz.ErrNotAllowed)
		// It does not cover other model types.
		_, err = c.CreateTagAssignment(ctx, authz.TagAssignmentInput{TagID: "tag_eng", TargetType: authz.ModelSubject, TargetID: "subject_jane", ScopeID: "scope_acme"})
		wantErr(t, err, authz.ErrNotAllowed)
		// A resource_type binding without modelId covers every resource.
		tagBind(t, c, authz.ModelResourceType, "")
		must(c.CreateTagAssignment(ctx, folder))(t)
	})
}

func TestTagBindingInTheSameBatch(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		bootstrap(t, c)
		res := must(c.Apply(ctx, authz.Batch{
			TagAssignments: []authz.TagAssignmentInput{{TagID: "tag_x", TargetType: authz.ModelSubject, TargetID: "subject_jane", ScopeID: "scope_acme"}},
			TagBindings:    []authz.TagBindingInput{{TagGroupID: "tg_x", ModelType: authz.ModelSubject}},
			TagGroups:      []authz.TagGroupInput{{ID: "tg_x", ScopeID: "scope_acme", Key: "x", Name: "X", Tags: []authz.InlineTagInput{{ID: "tag_x", Identifier: "x", Label: "X"}}}},
		}))(t)
		if len(res.TagAssignments) != 1 || len(res.TagBindings) != 1 || len(res.TagGroups) != 1 || len(res.Tags) != 0 {
			t.Errorf("got %+v; want one group, binding and assignment (inline tags are not listed)", res)
		}
	})
}

func TestTagMaxAppliedPerTargetInOneBatch(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		tagFixture(t, c)
		tagBind(t, c, authz.ModelSubject, "")
		must(c.UpdateTagGroup(ctx, "tg_dept", authz.TagGroupPatch{MaxAppliedPerTarget: authz.NullableOf(2)}))(t)
		rev := must(c.Revision(ctx))(t)
		_, err := c.CreateTagAssignments(ctx, []authz.TagAssignmentInput{
			{TagID: "tag_eng", TargetType: authz.ModelSubject, TargetID: "subject_jane", ScopeID: "scope_acme"},
			{TagID: "tag_fin", TargetType: authz.ModelSubject, TargetID: "subject_jane", ScopeID: "scope_acme"},
			{TagID: "tag_eng", TargetType: authz.ModelSubject, TargetID: "subject_bob", ScopeID: "scope_acme"},
			{TagID: "tag_ops", TargetType: authz.ModelSubject, TargetID: "subject_jane", ScopeID: "scope_acme"},
		})
		be := wantItems(t, err, authz.ErrNotAllowed, "3 tagId")
		msg := be.Items[0].Err.Error()
		for _, want := range []string{`"tg_dept"`, "at most 2", `subject "subject_jane"`} {
			if !strings.Contains(msg, want) {
				t.Errorf("got %q; want it to contain %s", msg, want)
			}
		}
		wantNothingStored(t, c, rev)
	})
}

func TestTagMaxAppliedPerTargetAcrossBatchesAndScopes(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		tagFixture(t, c)
		tagBind(t, c, authz.ModelSubject, "")
		must(c.UpdateTagGroup(ctx, "tg_dept", authz.TagGroupPatch{MaxAppliedPerTarget: authz.NullableOf(1)}))(t)
		must(c.CreateTagGroup(ctx, authz.TagGroupInput{ID: "tg_team", ScopeID: "scope_acme", Key: "team", Name: "Team", MaxAppliedPerTarget: ptr(1),
			Tags: []authz.InlineTagInput{{ID: "tag_red", Identifier: "red", Label: "Red"}}}))(t)
		must(c.CreateTagBinding(ctx, authz.TagBindingInput{TagGroupID: "tg_team", ModelType: authz.ModelSubject}))(t)
		must(c.CreateTagAssignment(ctx, authz.TagAssignmentInput{TagID: "tag_eng", TargetType: authz.ModelSubject, TargetID: "subject_jane", ScopeID: "scope_acme"}))(t)
		// Another tag of the group on the same target, in a later batch.
		_, err := c.CreateTagAssignment(ctx, authz.TagAssignmentInput{TagID: "tag_fin", TargetType: authz.ModelSubject, TargetID: "subject_jane", ScopeID: "scope_acme"})
		wantErr(t, err, authz.ErrNotAllowed)
		// The limit counts across scopes: the same tag in another scope.
		_, err = c.CreateTagAssignment(ctx, authz.TagAssignmentInput{TagID: "tag_eng", TargetType: authz.ModelSubject, TargetID: "subject_jane", ScopeID: "scope_eng"})
		wantErr(t, err, authz.ErrNotAllowed)
		// Other targets and other groups have their own counts.
		must(c.CreateTagAssignments(ctx, []authz.TagAssignmentInput{
			{TagID: "tag_fin", TargetType: authz.ModelSubject, TargetID: "subject_bob", ScopeID: "scope_acme"},
			{TagID: "tag_red", TargetType: authz.ModelSubject, TargetID: "subject_jane", ScopeID: "scope_acme"},
		}))(t)
	})
}

func TestTagMaxAppliedPerTargetUpdate(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		tagFixture(t, c)
		tagBind(t, c, authz.ModelSubject, "")
		must(c.CreateTagAssignments(ctx, []authz.TagAssignmentInput{
			{TagID: "tag_eng", TargetType: authz.ModelSubject, TargetID: "subject_jane", ScopeID: "scope_acme"},
			{TagID: "tag_fin", TargetType: authz.ModelSubject, TargetID: "subject_jane", ScopeID: "scope_acme"},
			{TagID: "tag_eng", TargetType: authz.ModelSubject, TargetID: "subject_bob", ScopeID: "scope_acme"},
		}))(t)
		// A limit below what a target already carries is refused.
		_, err := c.UpdateTagGroup(ctx, "tg_dept", authz.TagGroupPatch{MaxAppliedPerTarget: authz.NullableOf(1)})
		wantErr(t, err, authz.ErrNotAllowed)
		if !strings.Contains(err.Error(), `subject "subject_jane" already carries 2`) {
			t.Errorf("got %q; want it to name the target over the limit", err)
		}
		if g := must(c.GetTagGroup(ctx, "tg_dept"))(t); g.MaxAppliedPerTarget != nil {
			t.Errorf("got limit %d after a refused update; want none", *g.MaxAppliedPerTarget)
		}
		must(c.UpdateTagGroup(ctx, "tg_dept", authz.TagGroupPatch{MaxAppliedPerTarget: authz.NullableOf(2)}))(t)
		_, err = c.CreateTagAssignment(ctx, authz.TagAssignmentInput{TagID: "tag_ops", TargetType: authz.ModelSubject, TargetID: "subject_jane", ScopeID: "scope_acme"})
		wantErr(t, err, authz.ErrNotAllowed)
		// Null removes the limit.
		must(c.UpdateTagGroup(ctx, "tg_dept", authz.TagGroupPatch{MaxAppliedPerTarget: authz.Null[int]()}))(t)
		must(c.CreateTagAssignment(ctx, authz.TagAssignmentInput{TagID: "tag_ops", TargetType: authz.ModelSubject, TargetID: "subject_jane", ScopeID: "scope_acme"}))(t)
	})
}

func TestTagGroupLockedRefusesChanges(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		tagFixture(t, c)
		tagBind(t, c, authz.ModelSubject, "")
		must(c.UpdateTagGroup(ctx, "tg_dept", authz.TagGroupPatch{IsLocked: ptr(true)}))(t)
		rev := must(c.Revision(ctx))(t)

		_, err := c.UpdateTagGroup(ctx, "tg_dept", authz.TagGroupPatch{Name: ptr("Renamed")})
		wantErr(t, err, authz.ErrNotAllowed)
		_, err = c.UpdateTagGroup(ctx, "tg_dept", authz.TagGroupPatch{MaxAppliedPerTarget: authz.NullableOf(3)})
		wantErr(t, err, authz.ErrNotAllowed)
		// Unlocking and changing in one patch is refused too.
		_, err = c.UpdateTagGroup(ctx, "tg_dept", authz.TagGroupPatch{IsLocked: ptr(false), Name: ptr("Renamed")})
		wantErr(t, err, authz.ErrNotAllowed)
		_, err = c.CreateTag(ctx, authz.TagInput{TagGroupID: "tg_dept", Identifier: "legal", Label: "Legal"})
		wantErr(t, err, authz.ErrNotAllowed)
		_, err = c.UpdateTag(ctx, "tag_eng", authz.TagPatch{Label: ptr("Eng")})
		wantErr(t, err, authz.ErrNotAllowed)
		wantErr(t, c.DeleteTag(ctx, "tag_eng"), authz.ErrNotAllowed)
		wantErr(t, c.DeleteTagGroup(ctx, "tg_dept"), authz.ErrNotAllowed)
		wantNothingStored(t, c, rev)
		if g := must(c.GetTagGroup(ctx, "tg_dept"))(t); g.Name != "Department" || !g.IsLocked {
			t.Errorf("got %+v; want it unchanged", g)
		}
		must(c.GetTag(ctx, "tag_eng"))(t)

		// Its tags can still be used.
		must(c.CreateTagAssignment(ctx, authz.TagAssignmentInput{TagID: "tag_eng", TargetType: authz.ModelSubject, TargetID: "subject_jane", ScopeID: "scope_acme"}))(t)
	})
}

func TestTagGroupLockedRefusesCascades(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		bootstrap(t, c)
		must(c.CreateTagGroup(ctx, authz.TagGroupInput{ID: "tg_globex", ScopeID: "scope_globex", Key: "region", Name: "Region", IsLocked: true,
			Tags: []authz.InlineTagInput{{ID: "tag_eu", Identifier: "eu", Label: "EU"}}}))(t)
		err := c.DeleteScope(ctx, "scope_globex")
		wantErr(t, err, authz.ErrNotAllowed)
		if !strings.Contains(err.Error(), `tag group "tg_globex"`) {
			t.Errorf("got %q; want it to name the locked group", err)
		}
		must(c.GetScope(ctx, "scope_globex"))(t)
		must(c.GetTag(ctx, "tag_eu"))(t)
		// A tag of an unlocked group placed in a scope whose deletion would
		// remove it: refused while the group is locked.
		must(c.CreateTagGroup(ctx, authz.TagGroupInput{ID: "tg_acme", ScopeID: "scope_acme", Key: "team", Name: "Team"}))(t)
		must(c.CreateTag(ctx, authz.TagInput{ID: "tag_api", TagGroupID: "tg_acme", ScopeID: "scope_api", Identifier: "api", Label: "API"}))(t)
		must(c.UpdateTagGroup(ctx, "tg_acme", authz.TagGroupPatch{IsLocked: ptr(true)}))(t)
		wantErr(t, c.DeleteScope(ctx, "scope_api"), authz.ErrNotAllowed)
		must(c.GetTag(ctx, "tag_api"))(t)
	})
}

func TestTagGroupLockedWithoutTagsCannotBeDeleted(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		bootstrap(t, c)
		must(c.CreateTagGroup(ctx, authz.TagGroupInput{ID: "tg_empty", ScopeID: "scope_acme", Key: "empty", Name: "Empty", IsLocked: true}))(t)
		err := c.DeleteTagGroup(ctx, "tg_empty")
		wantErr(t, err, authz.ErrNotAllowed)
		if !strings.Contains(err.Error(), "locked") {
			t.Errorf("got %q; want it to say the group is locked", err)
		}
		must(c.GetTagGroup(ctx, "tg_empty"))(t)
	})
}

func TestTagGroupUnlock(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		tagFixture(t, c)
		must(c.UpdateTagGroup(ctx, "tg_dept", authz.TagGroupPatch{IsLocked: ptr(true)}))(t)
		g := must(c.UpdateTagGroup(ctx, "tg_dept", authz.TagGroupPatch{IsLocked: ptr(false)}))(t)
		if g.IsLocked {
			t.Fatalf("got %+v; want it unlocked", g)
		}
		must(c.UpdateTagGroup(ctx, "tg_dept", authz.TagGroupPatch{Name: ptr("Renamed")}))(t)
		must(c.CreateTag(ctx, authz.TagInput{TagGroupID: "tg_dept", Identifier: "legal", Label: "Legal"}))(t)
		must(c.UpdateTag(ctx, "tag_eng", authz.TagPatch{Label: ptr("Eng")}))(t)
		tagOK(t, c.DeleteTag(ctx, "tag_ops"))
		tagOK(t, c.DeleteTagGroup(ctx, "tg_dept"))
	})
}

func TestTagGroupCreatedLockedGetsItsBatchTags(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		bootstrap(t, c)
		must(c.Apply(ctx, authz.Batch{
			TagGroups: []authz.TagGroupInput{{ID: "tg_sys", ScopeID: "scope_acme", Key: "tier", Name: "Tier", Origin: authz.OriginSystem, IsLocked: true,
				Tags: []authz.InlineTagInput{{Identifier: "gold", Label: "Gold"}}}},
			Tags: []authz.TagInput{{TagGroupID: "tg_sys", Identifier: "silver", Label: "Silver"}},
		}))(t)
		tags := must(c.ListTags(ctx, authz.TagFilter{TagGroupID: "tg_sys"}))(t)
		if len(tags) != 2 {
			t.Errorf("got tags %+v; want gold and silver", tags)
		}
		_, err := c.CreateTag(ctx, authz.TagInput{TagGroupID: "tg_sys", Identifier: "bronze", Label: "Bronze"})
		wantErr(t, err, authz.ErrNotAllowed)
	})
}

func TestTagGroupInlineTagsCountInBatchSize(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			opts := testOptions()
			opts.MaxBatchSize = 3
			c := must(authz.New(b.open(t), opts))(t)
			must(c.CreateScopeType(ctx, authz.ScopeTypeInput{ID: "type_org", Name: "Org"}))(t)
			must(c.CreateScope(ctx, authz.ScopeInput{ID: "scope_acme", TypeID: "type_org"}))(t)
			tags := []authz.InlineTagInput{{Identifier: "a", Label: "A"}, {Identifier: "b", Label: "B"}, {Identifier: "c", Label: "C"}}
			_, err := c.CreateTagGroup(ctx, authz.TagGroupInput{ScopeID: "scope_acme", Key: "big", Name: "Big", Tags: tags})
			wantErr(t, err, authz.ErrBatchTooLarge)
			if got := must(c.ListTagGroups(ctx, authz.TagGroupFilter{ScopeID: "scope_acme"}))(t); len(got) != 0 {
				t.Errorf("got groups %+v after a refused batch; want none", got)
			}
			must(c.CreateTagGroup(ctx, authz.TagGroupInput{ScopeID: "scope_acme", Key: "small", Name: "Small", Tags: tags[:2]}))(t)
		})
	}
}

func TestDeleteTagGroupCascades(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		tagFixture(t, c)
		bd := tagBind(t, c, authz.ModelSubject, "")
		must(c.CreateTagGroup(ctx, authz.TagGroupInput{ID: "tg_team", ScopeID: "scope_acme", Key: "team", Name: "Team",
			Tags: []authz.InlineTagInput{{ID: "tag_red", Identifier: "red", Label: "Red"}}}))(t)
		must(c.CreateTagBinding(ctx, authz.TagBindingInput{ID: "tb_team", TagGroupID: "tg_team", ModelType: authz.ModelSubject}))(t)
		must(c.CreateTagAssignments(ctx, []authz.TagAssignmentInput{
			{ID: "ta_eng", TagID: "tag_eng", TargetType: authz.ModelSubject, TargetID: "subject_jane", ScopeID: "scope_acme"},
			{ID: "ta_fin", TagID: "tag_fin", TargetType: authz.ModelSubject, TargetID: "subject_bob", ScopeID: "scope_eng"},
			{ID: "ta_red", TagID: "tag_red", TargetType: authz.ModelSubject, TargetID: "subject_jane", ScopeID: "scope_acme"},
		}))(t)
		tagOK(t, c.DeleteTagGroup(ctx, "tg_dept"))
		_, err := c.GetTagGroup(ctx, "tg_dept")
		wantErr(t, err, authz.ErrNotFound)
		for _, id := range []string{"tag_eng", "tag_fin", "tag_ops"} {
			_, err := c.GetTag(ctx, id)
			wantErr(t, err, authz.ErrNotFound)
		}
		_, err = c.GetTagBinding(ctx, bd.ID)
		wantErr(t, err, authz.ErrNotFound)
		for _, id := range []string{"ta_eng", "ta_fin"} {
			_, err := c.GetTagAssignment(ctx, id)
			wantErr(t, err, authz.ErrNotFound)
		}
		// The other group is untouched.
		must(c.GetTag(ctx, "tag_red"))(t)
		must(c.GetTagBinding(ctx, "tb_team"))(t)
		must(c.GetTagAssignment(ctx, "ta_red"))(t)
		wantErr(t, c.DeleteTagGroup(ctx, "tg_dept"), authz.ErrNotFound)
	})
}

func TestDeleteTagRemovesItsAssignments(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		tagFixture(t, c)
		tagBind(t, c, authz.ModelSubject, "")
		must(c.CreateTagAssignments(ctx, []authz.TagAssignmentInput{
			{ID: "ta_eng", TagID: "tag_eng", TargetType: authz.ModelSubject, TargetID: "subject_jane", ScopeID: "scope_acme"},
			{ID: "ta_fin", TagID: "tag_fin", TargetType: authz.ModelSubject, TargetID: "subject_jane", ScopeID: "scope_acme"},
		}))(t)
		tagOK(t, c.DeleteTag(ctx, "tag_eng"))
		_, err := c.GetTagAssignment(ctx, "ta_eng")
		wantErr(t, err, authz.ErrNotFound)
		must(c.GetTagAssignment(ctx, "ta_fin"))(t)
	})
}

func TestDeleteTagBindingKeepsAssignments(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		tagFixture(t, c)
		bd := tagBind(t, c, authz.ModelSubject, "")
		must(c.CreateTagAssignment(ctx, authz.TagAssignmentInput{ID: "ta_eng", TagID: "tag_eng", TargetType: authz.ModelSubject, TargetID: "subject_jane", ScopeID: "scope_acme"}))(t)
		tagOK(t, c.DeleteTagBinding(ctx, bd.ID))
		must(c.GetTagAssignment(ctx, "ta_eng"))(t)
		_, err := c.CreateTagAssignment(ctx, authz.TagAssignmentInput{TagID: "tag_fin", TargetType: authz.ModelSubject, TargetID: "subject_jane", ScopeID: "scope_acme"})
		wantErr(t, err, authz.ErrNotAllowed)
	})
}

func TestDeleteTargetsRemovesTagAssignmentsAndBindings(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		tagFixture(t, c)
		tagBind(t, c, authz.ModelSubject, "")
		janeOnly := tagBind(t, c, authz.ModelSubject, "subject_jane")
		tagBind(t, c, authz.ModelResource, "")
		must(c.CreateTagAssignments(ctx, []authz.TagAssignmentInput{
			{ID: "ta_jane", TagID: "tag_eng", TargetType: authz.ModelSubject, TargetID: "subject_jane", ScopeID: "scope_acme"},
			{ID: "ta_bob", TagID: "tag_eng", TargetType: authz.ModelSubject, TargetID: "subject_bob", ScopeID: "scope_acme"},
			{ID: "ta_doc", TagID: "tag_eng", TargetType: authz.ModelResource, TargetID: "res_doc", ScopeID: "scope_acme"},
		}))(t)
		tagOK(t, c.DeleteSubject(ctx, "subject_jane"))
		_, err := c.GetTagAssignment(ctx, "ta_jane")
		wantErr(t, err, authz.ErrNotFound)
		_, err = c.GetTagBinding(ctx, janeOnly.ID)
		wantErr(t, err, authz.ErrNotFound)
		must(c.GetTagAssignment(ctx, "ta_bob"))(t)

		tagOK(t, c.DeleteResource(ctx, "res_doc"))
		_, err = c.GetTagAssignment(ctx, "ta_doc")
		wantErr(t, err, authz.ErrNotFound)
		if got := must(c.ListTagAssignments(ctx, authz.TagAssignmentFilter{TagGroupID: "tg_dept"}))(t); len(got) != 1 || got[0].ID != "ta_bob" {
			t.Errorf("got %+v; want only ta_bob left", got)
		}
	})
}
