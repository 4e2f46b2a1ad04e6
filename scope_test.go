package authz_test

import (
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/scopegate/authz"
	"github.com/scopegate/authz/storage"
)

// readSeed decodes testdata/seeds/<name>.<part>.json into v.
func readSeed(t *testing.T, name, part string, v any) {
	t.Helper()
	b, err := os.ReadFile("testdata/seeds/" + name + "." + part + ".json")
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("decode seed %s %s: %v", name, part, err)
	}
}

// asJSON round-trips v through JSON into a generic value for comparison.
func asJSON(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestSeedScopeTypes(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		var in []authz.ScopeTypeInput
		readSeed(t, "scope-types", "request", &in)
		got := must(c.CreateScopeTypes(ctx, in))(t)
		var want any
		readSeed(t, "scope-types", "response", &want)
		if d := cmp.Diff(want, asJSON(t, got)); d != "" {
			t.Errorf("response (-want +got):\n%s", d)
		}
		stored := must(c.GetScopeType(ctx, "scope_type_org"))(t)
		if stored.Config.PermissionMode != authz.PermissionModeDefine {
			t.Errorf("got mode %q; want define", stored.Config.PermissionMode)
		}
	})
}

func TestSeedScopes(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		must(c.Apply(ctx, authz.Batch{
			ScopeTypes: []authz.ScopeTypeInput{{ID: "type_env", Name: "Environment", Config: authz.ScopeTypeConfig{PermissionMode: "define"}},
				{ID: "type_department", Name: "Department"}, {ID: "type_team", Name: "Team"}},
			ScopeTypeEdges: []authz.ScopeTypeEdgeInput{{ParentTypeID: "type_env", ChildTypeID: "type_department"}, {ParentTypeID: "type_department", ChildTypeID: "type_team"}},
			Scopes:         []authz.ScopeInput{{ID: "scope_env_production", TypeID: "type_env", Name: "Production"}},
			Subjects: []authz.SubjectInput{{ID: "subject_jane", SubjectType: "user", ExternalID: "jane"}, {ID: "subject_bob", SubjectType: "user", ExternalID: "bob"},
				{ID: "subject_alice", SubjectType: "user", ExternalID: "alice"}, {ID: "subject_charlie", SubjectType: "user", ExternalID: "charlie"}},
			Roles: []authz.RoleInput{{ID: "role_admin", ScopeID: "scope_env_production", Name: "Admin"}, {ID: "role_lead", ScopeID: "scope_env_production", Name: "Lead"},
				{ID: "role_developer", ScopeID: "scope_env_production", Name: "Developer"}},
		}))(t)
		var in []authz.ScopeInput
		readSeed(t, "scopes", "request", &in)
		got := must(c.CreateScopes(ctx, in))(t)
		var want any
		readSeed(t, "scopes", "response", &want)
		if d := cmp.Diff(want, asJSON(t, got)); d != "" {
			t.Errorf("response (-want +got):\n%s", d)
		}
		// The parent edges and inline memberships with their roles exist.
		kids := must(c.ListScopes(ctx, authz.ScopeFilter{ParentScopeID: "scope_engineering"}))(t)
		if len(kids) != 2 || kids[0].ID != "scope_backend" || kids[1].ID != "scope_frontend" {
			t.Errorf("got children %+v; want scope_backend and scope_frontend", kids)
		}
		ms := must(c.ListMemberships(ctx, authz.MembershipFilter{SubjectID: "subject_jane"}))(t)
		if len(ms) != 2 {
			t.Fatalf("got %d memberships of jane; want 2", len(ms))
		}
		for _, m := range ms {
			ras := must(c.ListRoleAssignments(ctx, authz.RoleAssignmentFilter{MembershipID: m.ID}))(t)
			want := map[string]string{"scope_engineering": "role_admin", "scope_backend": "role_lead"}[m.ScopeID]
			if len(ras) != 1 || ras[0].RoleID != want {
				t.Errorf("membership in %s: got assignments %+v; want role %s", m.ScopeID, ras, want)
			}
		}
	})
}

func TestScopeInBatchReferencesAnyOrder(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		// Every reference points forward: the child comes before its parent,
		// the scope before its type, the membership's role before the scope.
		res := must(c.Apply(ctx, authz.Batch{
			Scopes: []authz.ScopeInput{
				{ID: "scope_leaf", TypeID: "type_team", ParentScopeID: "scope_root", Memberships: []authz.ScopeMembershipInput{{SubjectID: "subject_x", RoleIDs: []string{"role_r"}}}},
				{ID: "scope_root", TypeID: "type_org"},
			},
			Roles:          []authz.RoleInput{{ID: "role_r", ScopeID: "scope_root", Name: "R"}},
			Subjects:       []authz.SubjectInput{{ID: "subject_x", SubjectType: "agent", ExternalID: "x"}},
			ScopeTypeEdges: []authz.ScopeTypeEdgeInput{{ParentTypeID: "type_org", ChildTypeID: "type_team"}},
			ScopeTypes:     []authz.ScopeTypeInput{{ID: "type_team", Name: "Team"}, {ID: "type_org", Name: "Org", Config: authz.ScopeTypeConfig{PermissionMode: "merge"}}},
		}))(t)
		if len(res.Scopes) != 2 || res.Scopes[0].ID != "scope_leaf" {
			t.Errorf("got scopes %+v; want input order", res.Scopes)
		}
		if got := res.ScopeTypes[1].Config.PermissionMode; got != authz.PermissionModeInherit {
			t.Errorf("merge stored as %q; want inherit", got)
		}
		edges := must(c.ListScopeEdges(ctx, authz.ScopeEdgeFilter{ChildScopeID: "scope_leaf"}))(t)
		if len(edges) != 1 || edges[0].ParentScopeID != "scope_root" {
			t.Errorf("got edges %+v; want scope_root → scope_leaf", edges)
		}
	})
}

func TestScopeErrors(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		bootstrap(t, c)
		rev := must(c.Revision(ctx))(t)
		_, err := c.CreateScopes(ctx, []authz.ScopeInput{
			{ID: "scope_ok", TypeID: "type_team", ParentScopeID: "scope_acme"},
			{ID: "scope_backend", TypeID: "type_team", ParentScopeID: "scope_nope"},
			{ID: "scope_x", TypeID: "type_nope"},
			{TypeID: "type_project", ParentScopeID: "scope_acme"}, // no org → project type edge
			{ID: "bad id!", TypeID: "type_team"},
			{ID: "scope_acme", TypeID: "type_org"},
		})
		be := wantItems(t, err, nil, "1 parentScopeId", "2 typeId", "3 parentScopeId", "4 id", "5 id")
		for i, want := range []error{authz.ErrNotFound, authz.ErrNotFound, authz.ErrNotAllowed, authz.ErrInvalid, authz.ErrAlreadyExists} {
			if !errors.Is(be.Items[i], want) {
				t.Errorf("item %d: got %v; want %v", be.Items[i].Index, be.Items[i].Err, want)
			}
		}
		if got, want := be.Items[0].Error(), `item 1 (scope_backend): parentScopeId: scope "scope_nope": not found`; got != want {
			t.Errorf("got message %q; want %q", got, want)
		}
		if !strings.HasPrefix(err.Error(), "create scopes: item 1 (scope_backend): parentScopeId: ") {
			t.Errorf("got message %q; want it to start with the op and the first item", err)
		}
		if msg := be.Items[2].Err.Error(); !strings.Contains(msg, `{parentTypeId: "type_org", childTypeId: "type_project"}`) {
			t.Errorf("got %q; want it to name the missing scope type edge", msg)
		}
		// Nothing was stored: not even the valid first item.
		_, err = c.GetScope(ctx, "scope_ok")
		wantErr(t, err, authz.ErrNotFound)
		if got := must(c.Revision(ctx))(t); got != rev {
			t.Errorf("got revision %d after a failed batch; want %d", got, rev)
		}
	})
}

func TestScopeSingleFormError(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		bootstrap(t, c)
		_, err := c.CreateScope(ctx, authz.ScopeInput{ID: "scope_backend", TypeID: "type_team", ParentScopeID: "scope_nope"})
		wantErr(t, err, authz.ErrNotFound)
		if got, want := err.Error(), `create scope scope_backend: parentScopeId: scope "scope_nope": not found`; got != want {
			t.Errorf("got %q; want %q", got, want)
		}
		var ie *authz.ItemError
		if !errors.As(err, &ie) || ie.Field != "parentScopeId" {
			t.Errorf("got %v; want an *ItemError for parentScopeId", err)
		}
	})
}

func TestScopeDuplicateIDsInBatch(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		bootstrap(t, c)
		_, err := c.CreateScopes(ctx, []authz.ScopeInput{{ID: "scope_dup", TypeID: "type_org"}, {ID: "scope_dup", TypeID: "type_org"}})
		wantItems(t, err, authz.ErrAlreadyExists, "1 id")
		// Ids are unique across kinds: a scope cannot take a role's id.
		_, err = c.CreateScopes(ctx, []authz.ScopeInput{{ID: "role_admin", TypeID: "type_org"}})
		wantItems(t, err, authz.ErrAlreadyExists, "0 id")
	})
}

func TestScopeCycles(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		bootstrap(t, c)
		// A cycle of parentScopeId references is refused. (With an acyclic
		// type graph the type rule already forbids it.)
		_, err := c.CreateScopes(ctx, []authz.ScopeInput{
			{ID: "scope_a", TypeID: "type_team", ParentScopeID: "scope_b"},
			{ID: "scope_b", TypeID: "type_team", ParentScopeID: "scope_a"},
		})
		if !errors.Is(err, authz.ErrInvalid) && !errors.Is(err, authz.ErrNotAllowed) {
			t.Fatalf("got %v; want a cycle error", err)
		}
		// An edge that puts a stored ancestor under its descendant is not allowed.
		_, err = c.CreateScopeEdge(ctx, authz.ScopeEdgeInput{ParentScopeID: "scope_api", ChildScopeID: "scope_acme"})
		wantErr(t, err, authz.ErrNotAllowed)
		// A scope has at most one parent.
		_, err = c.CreateScopeEdge(ctx, authz.ScopeEdgeInput{ParentScopeID: "scope_globex", ChildScopeID: "scope_eng"})
		wantErr(t, err, authz.ErrNotAllowed)
		// Type edges stay acyclic too.
		_, err = c.CreateScopeTypeEdge(ctx, authz.ScopeTypeEdgeInput{ParentTypeID: "type_team", ChildTypeID: "type_org"})
		wantErr(t, err, authz.ErrNotAllowed)
		_, err = c.CreateScopeTypeEdge(ctx, authz.ScopeTypeEdgeInput{ParentTypeID: "type_org", ChildTypeID: "type_team"})
		wantErr(t, err, authz.ErrAlreadyExists)
	})
}

func TestScopeReadsUpdatesAndPaging(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		bootstrap(t, c)
		name, ext := "Eng", "ext-eng"
		meta := map[string]any{"cost": "cc-1"}
		s := must(c.UpdateScope(ctx, "scope_eng", authz.ScopePatch{Name: &name, ExternalID: &ext, Meta: &meta}))(t)
		if s.Name != "Eng" || s.ExternalID != "ext-eng" || s.Meta["cost"] != "cc-1" || s.TypeID != "type_team" {
			t.Errorf("got %+v; want the patched scope", s)
		}
		if got := must(c.ListScopes(ctx, authz.ScopeFilter{ExternalID: "ext-eng"}))(t); len(got) != 1 || got[0].ID != "scope_eng" {
			t.Errorf("by external id: got %+v; want scope_eng", got)
		}
		// Paging walks the scopes of a type in id order.
		var ids []string
		for after := ""; ; {
			page := must(c.ListScopes(ctx, authz.ScopeFilter{TypeID: "type_org", Page: authz.Page{Limit: 1, After: after}}))(t)
			if len(page) == 0 {
				break
			}
			ids = append(ids, page[0].ID)
			after = page[0].ID
		}
		if got := strings.Join(ids, ","); got != "scope_acme,scope_globex" {
			t.Errorf("got pages %s; want scope_acme,scope_globex", got)
		}
		empty := ""
		_, err := c.UpdateScopeType(ctx, "type_org", authz.ScopeTypePatch{Name: &empty})
		wantErr(t, err, authz.ErrInvalid)
		_, err = c.UpdateScope(ctx, "scope_nope", authz.ScopePatch{Name: &name})
		wantErr(t, err, authz.ErrNotFound)
		subs := must(c.ListSubjects(ctx, authz.SubjectFilter{SubjectType: authz.SubjectUser, ExternalID: "jane"}))(t)
		if len(subs) != 1 || subs[0].ID != "subject_jane" {
			t.Errorf("got %+v; want subject_jane", subs)
		}
		_, err = c.ListMemberships(ctx, authz.MembershipFilter{})
		wantErr(t, err, authz.ErrInvalid)
	})
}

func TestScopeDeleteCascades(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		bootstrap(t, c)
		m := must(c.CreateMembership(ctx, authz.MembershipInput{SubjectID: "subject_jane", ScopeID: "scope_api", RoleIDs: []string{"role_dev"}}))(t)
		// A scope with children is refused, and nothing is deleted.
		err := c.DeleteScope(ctx, "scope_eng")
		wantErr(t, err, authz.ErrNotAllowed)
		if !strings.Contains(err.Error(), "child scopes") {
			t.Errorf("got %q; want it to say why", err)
		}
		must(c.GetRole(ctx, "role_dev"))(t)
		// A scope type in use is refused.
		wantErr(t, c.DeleteScopeType(ctx, "type_project"), authz.ErrNotAllowed)
		// Deleting the leaf removes its memberships, their role assignments and its parent edge.
		if err := c.DeleteScope(ctx, "scope_api"); err != nil {
			t.Fatal(err)
		}
		_, err = c.GetMembership(ctx, m.ID)
		wantErr(t, err, authz.ErrNotFound)
		if got := must(c.ListRoleAssignments(ctx, authz.RoleAssignmentFilter{RoleID: "role_dev"}))(t); len(got) != 0 {
			t.Errorf("got assignments %+v; want none", got)
		}
		if got := must(c.ListScopeEdges(ctx, authz.ScopeEdgeFilter{ChildScopeID: "scope_api"}))(t); len(got) != 0 {
			t.Errorf("got edges %+v; want none", got)
		}
		// Now eng is a leaf: its roles go with it; the type can go once unused.
		if err := c.DeleteScope(ctx, "scope_eng"); err != nil {
			t.Fatal(err)
		}
		_, err = c.GetRole(ctx, "role_dev")
		wantErr(t, err, authz.ErrNotFound)
		if err := c.DeleteScopeType(ctx, "type_project"); err != nil {
			t.Fatal(err)
		}
		if got := must(c.ListScopeTypeEdges(ctx, authz.ScopeTypeEdgeFilter{ChildTypeID: "type_project"}))(t); len(got) != 0 {
			t.Errorf("got type edges %+v; want none", got)
		}
		// Deleting a subject removes its memberships.
		must(c.CreateMembership(ctx, authz.MembershipInput{SubjectID: "subject_bob", ScopeID: "scope_acme", RoleIDs: []string{"role_admin"}}))(t)
		if err := c.DeleteSubject(ctx, "subject_bob"); err != nil {
			t.Fatal(err)
		}
		if got := must(c.ListMemberships(ctx, authz.MembershipFilter{ScopeID: "scope_acme"}))(t); len(got) != 0 {
			t.Errorf("got memberships %+v; want none", got)
		}
		wantErr(t, c.DeleteScope(ctx, "scope_nope"), authz.ErrNotFound)
	})
}

func TestNewRefusesUnknownSchemaVersion(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			store := b.open(t)
			if err := store.Update(ctx, func(tx storage.Tx) error { return tx.Put("meta", "schema", []byte("99")) }); err != nil {
				t.Fatal(err)
			}
			_, err := authz.New(store, nil)
			wantErr(t, err, authz.ErrSchemaVersion)
		})
	}
}
