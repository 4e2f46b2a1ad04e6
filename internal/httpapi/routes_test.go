package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/scopegate/authz"
)

// routesClient is newSeededClient with a role, a permission and a
// membership at scope_org, resources under resource_lib_auth (lib_a
// inherits from it, lib_b from lib_a with cascade none), a finance
// document, links of lib_auth, and a policy on a resource and one on a
// collection.
func routesClient(t *testing.T) *authz.Client {
	t.Helper()
	c := newSeededClient(t)
	_, err := c.Apply(context.Background(), authz.Batch{
		Roles: []authz.RoleInput{{ID: "role_reader", ScopeID: "scope_org", Name: "Reader"}, {ID: "role_writer", ScopeID: "scope_org", Name: "Writer"}},
		Permissions: []authz.PermissionInput{{ID: "perm_read_lib", ScopeID: "scope_org", Action: "read", ResourceType: "library", Label: "Read libraries"},
			{ID: "perm_write_lib", ScopeID: "scope_org", Action: "write", ResourceType: "library"}},
		RolePermissions: []authz.RolePermissionInput{{RoleID: "role_reader", PermissionID: "perm_read_lib"}},
		Memberships:     []authz.MembershipInput{{ID: "m_jane", SubjectID: "subject_jane", ScopeID: "scope_org", RoleIDs: []string{"role_reader"}}},
		Resources: []authz.ResourceInput{{ID: "resource_lib_a", ResourceTypeID: "rt_lib", ScopeID: "scope_org", ExternalResourceID: "a"},
			{ID: "resource_lib_b", ResourceTypeID: "rt_lib", ScopeID: "scope_org", ExternalResourceID: "b"},
			{ID: "resource_fin_1", ResourceTypeID: "rt_fin", ScopeID: "scope_org", ExternalResourceID: "f1"}},
		ResourceEdges: []authz.ResourceEdgeInput{{ParentResourceID: "resource_lib_auth", ChildResourceID: "resource_lib_a"},
			{ParentResourceID: "resource_lib_a", ChildResourceID: "resource_lib_b", Cascade: authz.CascadeNone}},
		ResourceScopeLinks: []authz.ResourceScopeLinkInput{{ID: "rsl_a", ResourceID: "resource_lib_auth", ScopeID: "scope_project_a", LinkType: authz.LinkShare},
			{ID: "rsl_b", ResourceID: "resource_lib_auth", ScopeID: "scope_project_b", LinkType: authz.LinkAlias}},
		ResourcePolicies: []authz.ResourcePolicyInput{
			{ID: "pol_res", ScopeID: "scope_org", Name: "r", Target: authz.PolicyTarget{Kind: authz.TargetResource, ResourceID: "resource_lib_auth"}, Actions: []string{"read"}, Effect: authz.EffectAllow},
			{ID: "pol_coll", ScopeID: "scope_org", Name: "c", Target: authz.PolicyTarget{Kind: authz.TargetCollection, CollectionID: "collection_archived"}, Actions: []string{"read"}, Effect: authz.EffectDeny}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// call sends one request to h and returns its status and JSON answer.
func call(t *testing.T, h http.Handler, method, path, body string) (int, any) {
	t.Helper()
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	r.Header.Set("Authorization", "Bearer "+token)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	var out any
	if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil {
		t.Fatalf("%s %s: answer is not JSON: %q", method, path, w.Body)
	}
	return w.Code, out
}

// ids returns the ids of a list answer's items, and its next.
func ids(body any) ([]string, any) {
	page, _ := body.(map[string]any)
	out := []string{}
	items, _ := page["items"].([]any)
	for _, it := range items {
		id, _ := it.(map[string]any)["id"].(string)
		out = append(out, id)
	}
	return out, page["next"]
}

// errCode returns the code of an error answer.
func errCode(body any) string {
	m, _ := body.(map[string]any)
	e, _ := m["error"].(map[string]any)
	s, _ := e["code"].(string)
	return s
}

// TestQueryRoutes: the read routes of the issue, each with its answer and
// its errors.
func TestQueryRoutes(t *testing.T) {
	h := NewHandler(routesClient(t), token, "subject_admin", DefaultLimits())
	for _, tc := range []struct {
		path   string
		status int
		want   []string // the ids of the items (lists), or nil
		code   string   // the error code
	}{
		{"/roles/by-scope/scope_org", 200, []string{"role_reader", "role_writer"}, ""},
		{"/roles/by-scope/scope_org?limit=1", 200, []string{"role_reader"}, ""},
		{"/roles/by-scope/scope_env_production?limit=2", 200, []string{"role_admin", "role_developer"}, ""},
		{"/roles/by-scope/scope_nope", 404, nil, "not_found"},
		{"/permissions/by-scope/scope_org", 200, []string{"perm_read_lib", "perm_write_lib"}, ""},
		{"/permissions/by-scope/scope_acme", 200, []string{}, ""},
		{"/permissions/by-scope/scope_nope", 404, nil, "not_found"},
		{"/scopes?ids=scope_project_b,scope_acme,nope", 200, []string{"scope_acme", "scope_project_b"}, ""},
		{"/scopes?ids=scope_project_b&ids=scope_project_a&typeId=type_project", 200, []string{"scope_project_a", "scope_project_b"}, ""},
		{"/scopes/scope_project_a/parents", 200, []string{"scope_org"}, ""},
		{"/scopes/scope_org/parents", 200, []string{}, ""},
		{"/scopes/scope_project_a/ancestors", 200, []string{"scope_org"}, ""},
		{"/scopes/scope_org/children", 200, []string{"scope_project_a", "scope_project_b", "scope_project_c"}, ""},
		{"/scopes/scope_org/descendants?limit=1&after=scope_project_a", 200, []string{"scope_project_b"}, ""},
		{"/scopes/scope_nope/children", 404, nil, "not_found"},
		{"/scopes/scope_org/children?cascadeOnly=true", 400, nil, "invalid_argument"},
		{"/resources/resource_lib_b/parents", 200, []string{"resource_lib_a"}, ""},
		{"/resources/resource_lib_b/ancestors", 200, []string{"resource_lib_a", "resource_lib_auth"}, ""},
		{"/resources/resource_lib_b/ancestors?cascadeOnly=true", 200, []string{}, ""},
		{"/resources/resource_lib_a/ancestors?cascadeOnly=true", 200, []string{"resource_lib_auth"}, ""},
		{"/resources/resource_lib_auth/children", 200, []string{"resource_lib_a"}, ""},
		{"/resources/resource_lib_auth/descendants", 200, []string{"resource_lib_a", "resource_lib_b"}, ""},
		{"/resources/resource_lib_auth/descendants?cascadeOnly=true", 200, []string{"resource_lib_a"}, ""},
		{"/resources/resource_lib_auth/descendants?cascadeOnly=maybe", 400, nil, "invalid_argument"},
		{"/resources/nope/descendants", 404, nil, "not_found"},
		{"/resource-scope-links?linkType=alias", 200, []string{"rsl_b"}, ""},
		{"/resource-scope-links?linkType=share&resourceId=resource_lib_auth", 200, []string{"rsl_a"}, ""},
		{"/resource-scope-links?linkType=copy", 400, nil, "invalid_argument"},
		{"/resource-collections/collection_finance_docs/resources", 200, []string{"resource_fin_1"}, ""},
		{"/resource-collections/collection_archived/resources", 200, []string{}, ""},
		{"/resource-collections/nope/resources", 404, nil, "not_found"},
		{"/resource-policies/for-resource/resource_lib_auth", 200, []string{"pol_res"}, ""},
		{"/resource-policies/for-resource/resource_lib_a", 200, []string{}, ""},
		{"/resource-policies/for-resource/nope", 404, nil, "not_found"},
		{"/resource-policies/for-collection/collection_archived", 200, []string{"pol_coll"}, ""},
		{"/resource-policies/for-collection/nope", 404, nil, "not_found"},
		{"/scopes/scope_org/children/x", 404, nil, "no_route"},
	} {
		status, body := call(t, h, "GET", tc.path, "")
		if status != tc.status {
			t.Errorf("GET %s: got %d %v; want %d", tc.path, status, body, tc.status)
			continue
		}
		if tc.code != "" && errCode(body) != tc.code {
			t.Errorf("GET %s: got error %v; want code %s", tc.path, body, tc.code)
		}
		if tc.want != nil {
			got, _ := ids(body)
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("GET %s (-want +got):\n%s", tc.path, d)
			}
		}
	}
}

func TestSubjectByExternalRoute(t *testing.T) {
	h := NewHandler(routesClient(t), token, "subject_admin", DefaultLimits())
	status, body := call(t, h, "GET", "/subjects/by-external?type=user&externalId=jane", "")
	if m, _ := body.(map[string]any); status != 200 || m["id"] != "subject_jane" || m["externalId"] != "jane" {
		t.Errorf("got %d %v; want subject_jane", status, body)
	}
	for _, tc := range []struct {
		query  string
		status int
		code   string
	}{
		{"type=user&externalId=nobody", 404, "not_found"},
		{"type=service&externalId=jane", 404, "not_found"},
		{"type=user", 400, "invalid_argument"},
		{"externalId=jane&colour=red", 400, "invalid_argument"},
	} {
		status, body := call(t, h, "GET", "/subjects/by-external?"+tc.query, "")
		if status != tc.status || errCode(body) != tc.code {
			t.Errorf("?%s: got %d %v; want %d %s", tc.query, status, body, tc.status, tc.code)
		}
	}
}

func TestCollectionTestRoute(t *testing.T) {
	h := NewHandler(routesClient(t), token, "subject_admin", DefaultLimits())
	for _, tc := range []struct {
		path, body string
		status     int
		matches    any
		code       string
	}{
		{"/resource-collections/collection_finance_docs/test", `{"resourceId":"resource_fin_1"}`, 200, true, ""},
		{"/resource-collections/collection_archived/test", `{"resourceId":"resource_fin_1"}`, 200, false, ""},
		{"/resource-collections/collection_finance_docs/test", `{"resourceId":"resource_lib_auth"}`, 200, false, ""},
		{"/resource-collections/collection_finance_docs/test", `{"resourceId":"nope"}`, 422, nil, "unknown_reference"},
		{"/resource-collections/nope/test", `{"resourceId":"resource_fin_1"}`, 404, nil, "not_found"},
		{"/resource-collections/collection_finance_docs/test", `{}`, 400, nil, "invalid_argument"},
		{"/resource-collections/collection_finance_docs/test", `{"resourceID":"resource_fin_1"}`, 400, nil, "invalid_argument"},
	} {
		status, body := call(t, h, "POST", tc.path, tc.body)
		m, _ := body.(map[string]any)
		if status != tc.status || (tc.code == "" && m["matches"] != tc.matches) || errCode(body) != tc.code {
			t.Errorf("POST %s %s: got %d %v; want %d matches %v code %q", tc.path, tc.body, status, body, tc.status, tc.matches, tc.code)
		}
	}
}

// TestOverrideRoutes walks the override routes of each kind: PUT by
// natural keys creates then updates, the list at a scope shows it, PUT by
// id sets its state, DELETE by natural keys removes it.
func TestOverrideRoutes(t *testing.T) {
	c := routesClient(t)
	h := NewHandler(c, token, "subject_admin", DefaultLimits())
	for _, k := range []struct {
		path, natural, other string
		body                 string
	}{
		{"roles", "scope_project_a/role_reader", "permissions", `{"state":"disabled"}`},
		{"permissions", "scope_project_a/perm_read_lib", "roles", `{"state":"disabled"}`},
		{"role-permissions", "scope_project_a/role_reader/perm_read_lib", "roles", `{"state":"disabled","condition":{"==":[{"var":"context.x"},1]}}`},
	} {
		base := "/scope-overrides/" + k.path
		status, body := call(t, h, "PUT", base+"/"+k.natural, k.body)
		o, _ := body.(map[string]any)
		if status != 201 || o["state"] != "disabled" || o["childScopeId"] != "scope_project_a" {
			t.Fatalf("PUT %s/%s: got %d %v; want 201 and the override", base, k.natural, status, body)
		}
		id := o["id"].(string)
		if k.path == "role-permissions" && o["condition"] == nil {
			t.Errorf("PUT %s: got %v; want the condition", base, o)
		}
		status, body = call(t, h, "PUT", base+"/"+k.natural, `{"state":"enabled"}`)
		if o, _ := body.(map[string]any); status != 200 || o["id"] != id || o["state"] != "enabled" || o["condition"] != nil {
			t.Errorf("PUT %s again: got %d %v; want 200, the same override enabled, no condition", base, status, body)
		}
		status, body = call(t, h, "GET", base+"/scope_project_a", "")
		if got, _ := ids(body); status != 200 || !slices.Equal(got, []string{id}) {
			t.Errorf("GET %s/scope_project_a: got %d %v; want [%s]", base, status, body, id)
		}
		if _, body := call(t, h, "GET", "/scope-overrides/"+k.other+"/scope_project_a", ""); slices.Contains(first(ids(body)), id) {
			t.Errorf("GET /scope-overrides/%s/scope_project_a: got %v; want no %s override", k.other, body, k.path)
		}
		status, body = call(t, h, "PUT", base+"/"+id, `{"state":"disabled"}`)
		if o, _ := body.(map[string]any); status != 200 || o["state"] != "disabled" {
			t.Errorf("PUT %s/%s: got %d %v; want 200 disabled", base, id, status, body)
		}
		if status, body := call(t, h, "PUT", "/scope-overrides/"+k.other+"/"+id, `{"state":"enabled"}`); status != 404 || errCode(body) != "not_found" {
			t.Errorf("PUT as another kind: got %d %v; want 404", status, body)
		}
		if status, body := call(t, h, "PUT", base+"/"+id, `{}`); status != 400 {
			t.Errorf("PUT without state: got %d %v; want 400", status, body)
		}
		if status, body := call(t, h, "DELETE", base+"/"+k.natural, ""); status != 200 || body.(map[string]any)["success"] != true {
			t.Errorf("DELETE %s/%s: got %d %v; want success", base, k.natural, status, body)
		}
		if status, body := call(t, h, "DELETE", base+"/"+k.natural, ""); status != 404 || errCode(body) != "not_found" {
			t.Errorf("DELETE %s/%s again: got %d %v; want 404 not_found", base, k.natural, status, body)
		}
		if _, err := c.GetScopeOverride(context.Background(), id); err == nil {
			t.Errorf("override %s still stored after DELETE", id)
		}
	}
	// Overrides of one role for two permissions are two overrides.
	for _, perm := range []string{"perm_read_lib", "perm_write_lib"} {
		if status, body := call(t, h, "PUT", "/scope-overrides/role-permissions/scope_project_b/role_reader/"+perm, `{"state":"disabled"}`); status != 201 {
			t.Errorf("PUT role-permissions for %s: got %d %v; want 201", perm, status, body)
		}
	}
	if _, body := call(t, h, "GET", "/scope-overrides/role-permissions/scope_project_b", ""); len(first(ids(body))) != 2 {
		t.Errorf("GET /scope-overrides/role-permissions/scope_project_b: got %v; want two", body)
	}
	for _, tc := range []struct {
		method, path, body string
		status             int
		code               string
	}{
		{"PUT", "/scope-overrides/roles/scope_nope/role_reader", `{"state":"disabled"}`, 404, "not_found"},
		{"PUT", "/scope-overrides/roles/scope_project_a/role_nope", `{"state":"disabled"}`, 404, "not_found"},
		{"PUT", "/scope-overrides/roles/scope_project_a/role_reader", `{"state":"disabled","condition":{}}`, 400, "invalid_argument"},
		{"PUT", "/scope-overrides/roles/scope_project_a/role_reader", `{"state":"off"}`, 400, "invalid_argument"},
		{"GET", "/scope-overrides/roles/scope_nope", "", 404, "not_found"},
		{"PUT", "/scope-overrides/roles/nope", `{"state":"disabled"}`, 404, "not_found"},
	} {
		status, body := call(t, h, tc.method, tc.path, tc.body)
		if status != tc.status || errCode(body) != tc.code {
			t.Errorf("%s %s %s: got %d %v; want %d %s", tc.method, tc.path, tc.body, status, body, tc.status, tc.code)
		}
	}
}

func first[A, B any](a A, _ B) A { return a }

// TestOverrideByNaturalKeyDecides: the override written by PUT takes
// effect in evaluate, and DELETE lifts it.
func TestOverrideByNaturalKeyDecides(t *testing.T) {
	h := NewHandler(routesClient(t), token, "subject_admin", DefaultLimits())
	ask := `{"actor":{"subjectId":"subject_jane"},"scopeId":"scope_project_c","action":"read","resource":{"resourceId":"resource_lib_b"}}`
	allowed := func() any {
		_, body := call(t, h, "POST", "/evaluate", ask)
		return body.(map[string]any)["allowed"]
	}
	if allowed() != true {
		t.Fatal("before the override: got denied; want allowed")
	}
	call(t, h, "PUT", "/scope-overrides/roles/scope_project_c/role_reader", `{"state":"disabled"}`)
	if allowed() != false {
		t.Error("with role_reader disabled at scope_project_c: got allowed; want denied")
	}
	call(t, h, "DELETE", "/scope-overrides/roles/scope_project_c/role_reader", "")
	if allowed() != true {
		t.Error("after DELETE: got denied; want allowed")
	}
}

// TestEvaluateMatchCarriesPermission: each match has the whole permission
// next to sourceRoleIds.
func TestEvaluateMatchCarriesPermission(t *testing.T) {
	h := NewHandler(routesClient(t), token, "subject_admin", DefaultLimits())
	status, body := call(t, h, "POST", "/evaluate", `{"actor":{"subjectId":"subject_jane"},"scopeId":"scope_project_c","action":"read","resource":{"resourceId":"resource_lib_b"}}`)
	d, _ := body.(map[string]any)
	matches, _ := d["matches"].([]any)
	if status != 200 || d["allowed"] != true || len(matches) != 1 {
		t.Fatalf("got %d %v; want allowed with one match", status, body)
	}
	m := matches[0].(map[string]any)
	want := map[string]any{"id": "perm_read_lib", "scopeId": "scope_org", "action": "read", "resourceType": "library", "resourcePattern": "*",
		"key": "library:read:*", "label": "Read libraries"}
	if d := cmp.Diff(want, m["permission"]); d != "" {
		t.Errorf("matches[0].permission (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]any{"role_reader"}, m["sourceRoleIds"]); d != "" {
		t.Errorf("matches[0].sourceRoleIds (-want +got):\n%s", d)
	}
}

// TestBatchRoute: POST /batch applies a mixed batch in dependency order
// (a scope whose inline membership names a role of the same batch), and
// refuses a bad one whole, naming kind, index and field.
func TestBatchRoute(t *testing.T) {
	c := routesClient(t)
	h := NewHandler(c, token, "subject_admin", DefaultLimits())
	status, body := call(t, h, "POST", "/batch", `{
		"scopes":[{"id":"scope_b1","typeId":"type_project","parentScopeId":"scope_org","memberships":[{"subjectId":"subject_bob","roleIds":["role_b1"]}]}],
		"roles":[{"id":"role_b1","scopeId":"scope_org","name":"B"}]}`)
	m, _ := body.(map[string]any)
	if status != 201 || len(m["scopes"].([]any)) != 1 || len(m["roles"].([]any)) != 1 {
		t.Fatalf("got %d %v; want 201 with the scope and the role", status, body)
	}
	if m["roles"].([]any)[0].(map[string]any)["createdBy"] == nil && m["scopes"].([]any)[0].(map[string]any)["id"] != "scope_b1" {
		t.Errorf("got %v; want scope_b1", body)
	}
	for _, tc := range []struct {
		name, body  string
		status      int
		code        string
		kind, field string
		index       float64
		absent      string
	}{
		{"missing reference", `{"roles":[{"id":"role_b2","scopeId":"scope_org","name":"B2"}],"scopes":[{"id":"scope_b2","typeId":"type_project","parentScopeId":"scope_nope"}]}`,
			422, "unknown_reference", "scopes", "parentScopeId", 0, "role_b2"},
		{"taken id", `{"subjects":[{"id":"subject_new","subjectType":"user","externalId":"new"}],"roles":[{"id":"role_b1","scopeId":"scope_org","name":"again"}]}`,
			409, "already_exists", "roles", "id", 0, "subject_new"},
		{"unknown field", `{"scopes":[{"id":"scope_b3","typeId":"type_project","colour":"red"}]}`, 400, "invalid_argument", "", "", 0, "scope_b3"},
		{"unknown kind", `{"widgets":[]}`, 400, "invalid_argument", "", "", 0, ""},
	} {
		status, body := call(t, h, "POST", "/batch", tc.body)
		if status != tc.status || errCode(body) != tc.code {
			t.Errorf("%s: got %d %v; want %d %s", tc.name, status, body, tc.status, tc.code)
			continue
		}
		if tc.kind != "" {
			items, _ := body.(map[string]any)["error"].(map[string]any)["items"].([]any)
			if len(items) == 0 {
				t.Fatalf("%s: got %v; want items", tc.name, body)
			}
			it := items[0].(map[string]any)
			if it["kind"] != tc.kind || it["field"] != tc.field || it["index"] != tc.index || it["code"] != tc.code {
				t.Errorf("%s: got item %v; want kind %s index %v field %s code %s", tc.name, it, tc.kind, tc.index, tc.field, tc.code)
			}
		}
		if tc.absent != "" {
			if status, _ := call(t, h, "GET", "/roles/"+tc.absent, ""); status != 404 {
				if status, _ := call(t, h, "GET", "/subjects/"+tc.absent, ""); status != 404 {
					t.Errorf("%s: %s was stored; want nothing of the batch", tc.name, tc.absent)
				}
			}
		}
	}
}

// TestMembershipRoleIDs: every membership answer lists its roles.
func TestMembershipRoleIDs(t *testing.T) {
	h := NewHandler(routesClient(t), token, "subject_admin", DefaultLimits())
	check := func(what string, m any) {
		t.Helper()
		if d := cmp.Diff([]any{"role_reader", "role_writer"}, m.(map[string]any)["roleIds"]); d != "" {
			t.Errorf("%s: roleIds (-want +got):\n%s", what, d)
		}
	}
	status, body := call(t, h, "POST", "/memberships", `{"id":"m_bob","subjectId":"subject_bob","scopeId":"scope_org","roleIds":["role_writer","role_reader"]}`)
	if status != 201 {
		t.Fatalf("POST /memberships: got %d %v", status, body)
	}
	check("POST /memberships", body)
	_, body = call(t, h, "GET", "/memberships/m_bob", "")
	check("GET /memberships/m_bob", body)
	_, body = call(t, h, "GET", "/memberships?subjectId=subject_bob", "")
	check("GET /memberships?subjectId=subject_bob", body.(map[string]any)["items"].([]any)[0])
	_, body = call(t, h, "POST", "/memberships/batch", `[{"subjectId":"subject_alice","scopeId":"scope_org"}]`)
	if got := body.([]any)[0].(map[string]any)["roleIds"]; !reflect.DeepEqual(got, []any{}) {
		t.Errorf("a membership without roles: got roleIds %v; want []", got)
	}
}

// TestOwnershipTransferRoute: PATCH changes ownerId; an unknown resource
// is 404, an unknown scope in the body 422, an empty owner 400.
func TestOwnershipTransferRoute(t *testing.T) {
	h := NewHandler(routesClient(t), token, "subject_admin", DefaultLimits())
	status, body := call(t, h, "PATCH", "/resources/resource_lib_a", `{"ownerId":"subject_bob"}`)
	if m, _ := body.(map[string]any); status != 200 || m["ownerId"] != "subject_bob" {
		t.Errorf("got %d %v; want ownerId subject_bob", status, body)
	}
	if _, body := call(t, h, "GET", "/resources/resource_lib_a", ""); body.(map[string]any)["ownerId"] != "subject_bob" {
		t.Errorf("GET after the transfer: got %v; want ownerId subject_bob", body)
	}
	for _, tc := range []struct {
		path, body string
		status     int
		code       string
	}{
		{"/resources/nope", `{"ownerId":"subject_bob"}`, 404, "not_found"},
		{"/resources/resource_lib_a", `{"scopeId":"scope_nope"}`, 422, "unknown_reference"},
		{"/resources/resource_lib_a", `{"ownerId":""}`, 400, "invalid_argument"},
	} {
		status, body := call(t, h, "PATCH", tc.path, tc.body)
		if status != tc.status || errCode(body) != tc.code {
			t.Errorf("PATCH %s %s: got %d %v; want %d %s", tc.path, tc.body, status, body, tc.status, tc.code)
		}
	}
}

// TestErrorTexts: messages without repeated ids, naming a child scope.
func TestErrorTexts(t *testing.T) {
	h := NewHandler(routesClient(t), token, "subject_admin", DefaultLimits())
	for _, tc := range []struct {
		method, path string
		status       int
		message      string
	}{
		{"DELETE", "/resources/nope", 404, `delete resource "nope": not found`},
		{"DELETE", "/scopes/scope_org", 422, `delete scope "scope_org": it has child scopes: delete them first (child scope "scope_project_a" is one)`},
		{"GET", "/scopes/nope", 404, `scope "nope": not found`},
	} {
		status, body := call(t, h, tc.method, tc.path, "")
		msg := body.(map[string]any)["error"].(map[string]any)["message"]
		if status != tc.status || msg != tc.message {
			t.Errorf("%s %s: got %d %q; want %d %q", tc.method, tc.path, status, msg, tc.status, tc.message)
		}
	}
}

// TestIndexAndOpenAPIAgreeWithRoutes: GET / lists exactly the routes the
// mux serves, and the OpenAPI document has exactly those paths and
// methods, each with its parameters, body and answer, every $ref resolved.
func TestIndexAndOpenAPIAgreeWithRoutes(t *testing.T) {
	c := routesClient(t)
	mux := newRouter(c, DefaultLimits())
	served := map[string]bool{}
	for pattern := range mux.routes {
		method, path, _ := strings.Cut(pattern, " ")
		served[method+" "+apiPath(path)] = true
	}
	h := NewHandler(c, token, "subject_admin", DefaultLimits())
	status, body := call(t, h, "GET", "/", "")
	if status != 200 {
		t.Fatalf("GET /: got %d %v", status, body)
	}
	listed := map[string]bool{}
	for _, r := range body.(map[string]any)["routes"].([]any) {
		m := r.(map[string]any)
		if m["summary"] == "" {
			t.Errorf("route %v has no summary", m)
		}
		listed[m["method"].(string)+" "+apiPath(m["path"].(string))] = true
	}
	if d := cmp.Diff(served, listed); d != "" {
		t.Errorf("GET / lists (-served +listed):\n%s", d)
	}
	status, body = call(t, h, "GET", "/openapi.json", "")
	doc, _ := body.(map[string]any)
	if status != 200 || doc["openapi"] != "3.1.0" {
		t.Fatalf("GET /openapi.json: got %d, openapi %v", status, doc["openapi"])
	}
	schemas := doc["components"].(map[string]any)["schemas"].(map[string]any)
	var refs func(v any)
	refs = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if ref, ok := v["$ref"].(string); ok {
				if _, ok := schemas[strings.TrimPrefix(ref, "#/components/schemas/")]; !ok || !strings.HasPrefix(ref, "#/components/schemas/") {
					t.Errorf("$ref %s resolves to nothing", ref)
				}
			}
			for _, e := range v {
				refs(e)
			}
		case []any:
			for _, e := range v {
				refs(e)
			}
		}
	}
	refs(doc)
	for name, sc := range schemas {
		obj := sc.(map[string]any)
		props, _ := obj["properties"].(map[string]any)
		req, _ := obj["required"].([]any)
		for _, r := range req {
			if _, ok := props[r.(string)]; !ok {
				t.Errorf("schema %s requires %v, which it does not have", name, r)
			}
		}
	}
	documented := map[string]bool{}
	opIDs := map[string]string{}
	for path, ops := range doc["paths"].(map[string]any) {
		for method, op := range ops.(map[string]any) {
			key := strings.ToUpper(method) + " " + path
			documented[key] = true
			o := op.(map[string]any)
			id, _ := o["operationId"].(string)
			if other, dup := opIDs[id]; dup || id == "" {
				t.Errorf("%s: operationId %q is also %s's", key, id, other)
			}
			opIDs[id] = key
			var inPath []string
			params, _ := o["parameters"].([]any)
			for _, p := range params {
				if p := p.(map[string]any); p["in"] == "path" {
					inPath = append(inPath, "{"+p["name"].(string)+"}")
				}
			}
			for _, seg := range pathParam.FindAllString(path, -1) {
				if !slices.Contains(inPath, seg) {
					t.Errorf("%s: path parameter %s not declared", key, seg)
				}
			}
			_, hasBody := o["requestBody"]
			pattern := strings.ToUpper(method) + " " + path
			if path == "/" {
				pattern = "GET /{$}"
			}
			if wantBody := mux.routes[pattern] != nil; hasBody != wantBody {
				t.Errorf("%s: requestBody %v; want %v", key, hasBody, wantBody)
			}
			if len(o["responses"].(map[string]any)) < 2 {
				t.Errorf("%s: got responses %v; want the success and the error", key, o["responses"])
			}
		}
	}
	if d := cmp.Diff(served, documented); d != "" {
		t.Errorf("the OpenAPI document has (-served +documented):\n%s", d)
	}
	// The schema of a body names exactly the fields the strict decoder takes.
	scope := schemas["ScopeInput"].(map[string]any)["properties"].(map[string]any)
	for name := range shapeOf(reflect.TypeFor[authz.ScopeInput]()).fields {
		if _, ok := scope[name]; !ok {
			t.Errorf("ScopeInput schema lacks %s", name)
		}
	}
	if len(scope) != len(shapeOf(reflect.TypeFor[authz.ScopeInput]()).fields) {
		t.Errorf("ScopeInput schema has %d properties; the decoder takes %d", len(scope), len(shapeOf(reflect.TypeFor[authz.ScopeInput]()).fields))
	}
}

// TestTokensMapToActors: each token's writes are attributed to its actor,
// another token is refused, and an empty token never matches.
func TestTokensMapToActors(t *testing.T) {
	c := routesClient(t)
	h := NewHandlerWith(c, Config{Tokens: map[string]string{"tok-jane": "subject_jane", "tok-bob": "subject_bob", "tok-sys": ""}, Limits: DefaultLimits()})
	for _, tc := range []struct{ auth, id, want string }{
		{"Bearer tok-jane", "role_j", "subject_jane"},
		{"Bearer tok-bob", "role_b", "subject_bob"},
		{"Bearer tok-sys", "role_s", "system"},
	} {
		r := httptest.NewRequest("POST", "/resources", strings.NewReader(`{"id":"`+tc.id+`","resourceTypeId":"rt_lib","scopeId":"scope_org","externalResourceId":"`+tc.id+`"}`))
		r.Header.Set("Authorization", tc.auth)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		var got authz.Resource
		_ = json.Unmarshal(w.Body.Bytes(), &got)
		if w.Code != 201 || got.CreatedBy != tc.want || got.OwnerID != tc.want {
			t.Errorf("%s: got %d createdBy %q ownerId %q; want 201 %s", tc.auth, w.Code, got.CreatedBy, got.OwnerID, tc.want)
		}
	}
	for _, auth := range []string{"", "Bearer ", "Bearer tok-jane ", "Bearer tok-", "bearer tok-jane", "Bearer tok-janetok-bob"} {
		r := httptest.NewRequest("GET", "/scopes/scope_org", nil)
		r.Header.Set("Authorization", auth)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != 401 {
			t.Errorf("Authorization %q: got %d; want 401", auth, w.Code)
		}
	}
	empty := NewHandlerWith(c, Config{Tokens: map[string]string{"": "subject_jane"}, Limits: DefaultLimits()})
	r := httptest.NewRequest("GET", "/scopes/scope_org", nil)
	r.Header.Set("Authorization", "Bearer ")
	w := httptest.NewRecorder()
	empty.ServeHTTP(w, r)
	if w.Code != 401 {
		t.Errorf("empty token: got %d; want 401", w.Code)
	}
}

func TestReadTokens(t *testing.T) {
	got, err := ReadTokens(strings.NewReader("# the team\ntok-a subject_a\n\n  tok-b   subject_b  \ntok-c\n"))
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(map[string]string{"tok-a": "subject_a", "tok-b": "subject_b", "tok-c": ""}, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	for _, bad := range []string{"", "# only a comment\n", "tok-a subject_a extra\n", "tok-a x\ntok-a y\n"} {
		if _, err := ReadTokens(strings.NewReader(bad)); err == nil {
			t.Errorf("%q: got no error; want one", bad)
		} else if strings.Contains(err.Error(), "tok-a") {
			t.Errorf("%q: got %v; want the token not shown", bad, err)
		}
	}
}

// TestRequestLog: one log line per request with method, route, status,
// duration and the request id the answer carries.
func TestRequestLog(t *testing.T) {
	var buf bytes.Buffer
	const secret = "s3cret-token"
	h := NewHandlerWith(routesClient(t), Config{Tokens: map[string]string{secret: "subject_admin"}, Limits: DefaultLimits(),
		Logger: slog.New(slog.NewJSONHandler(&buf, nil))})
	var idsSeen []string
	for _, tc := range []struct {
		method, path, auth, route string
		status                    int
	}{
		{"GET", "/scopes/scope_org", "Bearer " + secret, "GET /scopes/{id}", 200},
		{"GET", "/nowhere", "Bearer " + secret, "", 404},
		{"POST", "/scopes", "Bearer wrong-token", "POST /scopes", 401},
	} {
		buf.Reset()
		r := httptest.NewRequest(tc.method, tc.path, strings.NewReader(`{}`))
		r.Header.Set("Authorization", tc.auth)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		var line map[string]any
		if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
			t.Fatalf("%s %s: log %q is not one JSON line: %v", tc.method, tc.path, buf.String(), err)
		}
		id := w.Header().Get("X-Request-Id")
		if line["method"] != tc.method || line["route"] != tc.route || line["path"] != tc.path || line["status"] != float64(tc.status) ||
			line["requestId"] != id || len(id) != 16 || line["duration"] == nil {
			t.Errorf("%s %s: got log %v and X-Request-Id %q; want route %q status %d and that id", tc.method, tc.path, line, id, tc.route, tc.status)
		}
		if strings.Contains(buf.String(), "wrong-token") || strings.Contains(buf.String(), secret) {
			t.Errorf("the log shows a token: %s", buf.String())
		}
		idsSeen = append(idsSeen, id)
	}
	if len(slices.Compact(slices.Sorted(slices.Values(idsSeen)))) != len(idsSeen) {
		t.Errorf("request ids %v; want each different", idsSeen)
	}
}

// conforms reports where v departs from the JSON Schema s (the subset the
// OpenAPI document uses), "" when it does not.
func conforms(schemas map[string]any, s map[string]any, v any, at string) string {
	if ref, ok := s["$ref"].(string); ok {
		return conforms(schemas, schemas[strings.TrimPrefix(ref, "#/components/schemas/")].(map[string]any), v, at)
	}
	if alts, ok := s["anyOf"].([]any); ok {
		for _, alt := range alts {
			if conforms(schemas, alt.(map[string]any), v, at) == "" {
				return ""
			}
		}
		return at + ": matches no alternative"
	}
	typ, _ := s["type"].(string)
	switch typ {
	case "":
		return ""
	case "null":
		if v != nil {
			return at + ": want null"
		}
	case "string":
		if _, ok := v.(string); !ok {
			return at + ": want a string"
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			return at + ": want a boolean"
		}
	case "integer", "number":
		n, ok := v.(float64)
		if !ok || (typ == "integer" && n != float64(int64(n))) {
			return at + ": want " + typ
		}
	case "array":
		list, ok := v.([]any)
		if !ok {
			return at + ": want an array"
		}
		for i, e := range list {
			if why := conforms(schemas, s["items"].(map[string]any), e, at+"["+strconv.Itoa(i)+"]"); why != "" {
				return why
			}
		}
	case "object":
		obj, ok := v.(map[string]any)
		if !ok {
			return at + ": want an object"
		}
		props, _ := s["properties"].(map[string]any)
		req, _ := s["required"].([]any)
		for _, r := range req {
			if _, ok := obj[r.(string)]; !ok && props != nil {
				return at + ": lacks " + r.(string)
			}
		}
		for k, e := range obj {
			ps, ok := props[k].(map[string]any)
			if !ok {
				if extra, ok := s["additionalProperties"].(map[string]any); ok {
					ps = extra
				} else {
					return at + ": has " + k + ", which the schema does not"
				}
			}
			if why := conforms(schemas, ps, e, at+"."+k); why != "" {
				return why
			}
		}
	}
	return ""
}

// TestAnswersConformToOpenAPI sends requests to routes of every shape and
// checks each answer against the schema the document gives for it.
func TestAnswersConformToOpenAPI(t *testing.T) {
	h := NewHandler(routesClient(t), token, "subject_admin", DefaultLimits())
	_, body := call(t, h, "GET", "/openapi.json", "")
	doc := body.(map[string]any)
	schemas := doc["components"].(map[string]any)["schemas"].(map[string]any)
	for _, tc := range []struct{ method, path, pattern, body string }{
		{"GET", "/", "/", ""},
		{"GET", "/scopes/scope_org", "/scopes/{id}", ""},
		{"GET", "/scopes?limit=1", "/scopes", ""},
		{"GET", "/memberships/m_jane", "/memberships/{id}", ""},
		{"GET", "/memberships?subjectId=subject_jane", "/memberships", ""},
		{"GET", "/resources/resource_lib_auth/descendants", "/resources/{id}/descendants", ""},
		{"GET", "/resource-policies/for-resource/resource_lib_auth", "/resource-policies/for-resource/{id}", ""},
		{"GET", "/tag-groups/tg_team", "/tag-groups/{id}", ""},
		{"GET", "/subjects/subject_jane/permissions?scopeId=scope_project_a", "/subjects/{id}/permissions", ""},
		{"GET", "/changes?limit=2", "/changes", ""},
		{"POST", "/evaluate", "/evaluate", `{"actor":{"subjectId":"subject_jane"},"scopeId":"scope_project_c","action":"read","resource":{"resourceId":"resource_lib_b"},"explain":true}`},
		{"POST", "/lookup/resources", "/lookup/resources", `{"actor":{"subjectId":"subject_jane"},"scopeId":"scope_org","action":"read","resourceType":"library"}`},
		{"POST", "/batch", "/batch", `{"roles":[{"scopeId":"scope_org","name":"B"}],"tagGroups":[{"scopeId":"scope_org","key":"k2","name":"K"}]}`},
		{"PUT", "/scope-overrides/role-permissions/scope_project_a/role_reader/perm_read_lib", "/scope-overrides/role-permissions/{scopeId}/{roleId}/{permissionId}", `{"state":"disabled","condition":{"==":[1,1]}}`},
		{"POST", "/resource-collections/collection_archived/test", "/resource-collections/{id}/test", `{"resourceId":"resource_fin_1"}`},
		{"DELETE", "/resource-scope-links/rsl_a", "/resource-scope-links/{id}", ""},
		{"GET", "/scopes/nope", "/scopes/{id}", ""},
	} {
		status, got := call(t, h, tc.method, tc.path, tc.body)
		op := doc["paths"].(map[string]any)[tc.pattern].(map[string]any)[strings.ToLower(tc.method)].(map[string]any)
		resp, ok := op["responses"].(map[string]any)[strconv.Itoa(status)].(map[string]any)
		if !ok {
			resp = op["responses"].(map[string]any)["default"].(map[string]any)
		}
		s := resp["content"].(map[string]any)["application/json"].(map[string]any)["schema"].(map[string]any)
		if why := conforms(schemas, s, got, "answer"); why != "" {
			t.Errorf("%s %s: got %d %v; it departs from the document: %s", tc.method, tc.path, status, got, why)
		}
	}
}

// TestResourceTypeHierarchyRoutes: Bedrock's POST /resource-type-hierarchy
// body declares that libraries may hold finance documents; a resource edge
// the hierarchy does not allow is then refused (422, naming the field),
// one it allows is created, and the edge is listed, read and deleted.
func TestResourceTypeHierarchyRoutes(t *testing.T) {
	h := NewHandler(routesClient(t), token, "subject_admin", DefaultLimits())
	code, body := call(t, h, "POST", "/resource-type-hierarchy", `{"parentTypeId":"rt_lib","childTypeId":"rt_fin"}`)
	if code != http.StatusCreated {
		t.Fatalf("POST /resource-type-hierarchy: got %d %v; want 201", code, body)
	}
	id, _ := body.(map[string]any)["id"].(string)
	if id == "" || body.(map[string]any)["parentTypeId"] != "rt_lib" || body.(map[string]any)["childTypeId"] != "rt_fin" {
		t.Fatalf("POST /resource-type-hierarchy: got %v; want the edge with its id", body)
	}
	// rt_fin now has a declared parent type: a finance document under a
	// finance document is refused, under a library allowed.
	code, _ = call(t, h, "POST", "/resources", `{"id":"resource_fin_2","resourceTypeId":"rt_fin","scopeId":"scope_org","externalResourceId":"f2"}`)
	if code != http.StatusCreated {
		t.Fatalf("POST /resources: got %d; want 201", code)
	}
	code, body = call(t, h, "POST", "/resource-hierarchy", `{"parentResourceId":"resource_fin_1","childResourceId":"resource_fin_2"}`)
	if code != http.StatusUnprocessableEntity || errCode(body) != "not_allowed" || !strings.Contains(fmtJSON(body), "parentResourceId") {
		t.Errorf("an edge the hierarchy does not allow: got %d %v; want 422 not_allowed naming parentResourceId", code, body)
	}
	if code, body = call(t, h, "POST", "/resource-hierarchy", `{"parentResourceId":"resource_lib_auth","childResourceId":"resource_fin_2"}`); code != http.StatusCreated {
		t.Errorf("an edge the hierarchy allows: got %d %v; want 201", code, body)
	}
	code, body = call(t, h, "GET", "/resource-type-hierarchy?childTypeId=rt_fin", "")
	if got, _ := ids(body); code != http.StatusOK || !slices.Equal(got, []string{id}) {
		t.Errorf("GET /resource-type-hierarchy?childTypeId=rt_fin: got %d %v; want [%s]", code, got, id)
	}
	if code, _ := call(t, h, "GET", "/resource-type-hierarchy/"+id, ""); code != http.StatusOK {
		t.Errorf("GET /resource-type-hierarchy/%s: got %d; want 200", id, code)
	}
	if code, _ := call(t, h, "DELETE", "/resource-type-hierarchy/"+id, ""); code != http.StatusNoContent && code != http.StatusOK {
		t.Errorf("DELETE /resource-type-hierarchy/%s: got %d; want 204", id, code)
	}
	if code, body := call(t, h, "GET", "/resource-type-hierarchy/"+id, ""); code != http.StatusNotFound || errCode(body) != "not_found" {
		t.Errorf("GET of the deleted edge: got %d %v; want 404 not_found", code, body)
	}
}

func fmtJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
