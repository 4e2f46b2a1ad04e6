package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/scopegate/authz"
	"github.com/scopegate/authz/internal/authztest"
)

const token = "t"

// newServer starts the API over a memstore holding every object the five
// seed requests reference.
func newServer(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(NewHandler(newSeededClient(t), token, "subject_admin", DefaultLimits()))
	t.Cleanup(srv.Close)
	return srv
}

// newSeededClient returns a client over a memstore holding every object the
// five seed requests reference.
func newSeededClient(t testing.TB) *authz.Client {
	t.Helper()
	c := authztest.NewClient(t, authztest.Memstore(t), nil)
	_, err := c.Apply(context.Background(), authz.Batch{
		ScopeTypes: []authz.ScopeTypeInput{
			{ID: "type_env", Name: "Environment", Config: authz.ScopeTypeConfig{PermissionMode: authz.PermissionModeDefine}},
			{ID: "type_department", Name: "Department"}, {ID: "type_team", Name: "Team"},
			{ID: "type_org", Name: "Org", Config: authz.ScopeTypeConfig{PermissionMode: authz.PermissionModeDefine}}, {ID: "type_project", Name: "Project"},
		},
		ScopeTypeEdges: []authz.ScopeTypeEdgeInput{{ParentTypeID: "type_env", ChildTypeID: "type_department"}, {ParentTypeID: "type_department", ChildTypeID: "type_team"},
			{ParentTypeID: "type_org", ChildTypeID: "type_project"}},
		Scopes: []authz.ScopeInput{{ID: "scope_env_production", TypeID: "type_env"}, {ID: "scope_org", TypeID: "type_org"}, {ID: "scope_acme", TypeID: "type_org"},
			{ID: "scope_project_a", TypeID: "type_project", ParentScopeID: "scope_org"}, {ID: "scope_project_b", TypeID: "type_project", ParentScopeID: "scope_org"},
			{ID: "scope_project_c", TypeID: "type_project", ParentScopeID: "scope_org"}},
		Subjects: []authz.SubjectInput{{ID: "subject_jane", SubjectType: "user", ExternalID: "jane"}, {ID: "subject_bob", SubjectType: "user", ExternalID: "bob"},
			{ID: "subject_alice", SubjectType: "user", ExternalID: "alice"}, {ID: "subject_charlie", SubjectType: "user", ExternalID: "charlie"},
			{ID: "subject_admin", SubjectType: "user", ExternalID: "admin"}},
		Roles: []authz.RoleInput{{ID: "role_admin", ScopeID: "scope_env_production", Name: "Admin"}, {ID: "role_lead", ScopeID: "scope_env_production", Name: "Lead"},
			{ID: "role_developer", ScopeID: "scope_env_production", Name: "Developer"}},
		ResourceTypes: []authz.ResourceTypeInput{{ID: "rt_lib", ScopeID: "scope_org", Key: "library", Name: "Library"},
			{ID: "rt_doc", ScopeID: "scope_acme", Key: "document", Name: "Document"}, {ID: "rt_fin", ScopeID: "scope_org", Key: "document", Name: "Document"}},
		Resources: []authz.ResourceInput{{ID: "resource_lib_auth", ResourceTypeID: "rt_lib", ScopeID: "scope_org", ExternalResourceID: "auth"},
			{ID: "resource_doc_123", ResourceTypeID: "rt_doc", ScopeID: "scope_acme", ExternalResourceID: "doc-123"}},
		TagGroups: []authz.TagGroupInput{{ID: "tg_team", ScopeID: "scope_acme", Key: "team", Name: "Team",
			Tags: []authz.InlineTagInput{{ID: "tag_engineering", Identifier: "engineering", Label: "Engineering"}, {ID: "tag_backend", Identifier: "backend", Label: "Backend"}}}},
		TagBindings: []authz.TagBindingInput{{TagGroupID: "tg_team", ModelType: authz.ModelSubject}, {TagGroupID: "tg_team", ModelType: authz.ModelResource}},
		Collections: []authz.CollectionInput{{ID: "collection_finance_docs", ScopeID: "scope_org", ResourceTypeID: "rt_fin", Name: "Finance", MatchDefinition: json.RawMessage(`{}`)},
			{ID: "collection_archived", ScopeID: "scope_org", ResourceTypeID: "rt_fin", Name: "Archived", MatchDefinition: json.RawMessage(`{"fields":{"archived":true}}`)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func post(t *testing.T, srv *httptest.Server, path, body, auth string) (int, any) {
	t.Helper()
	req, _ := http.NewRequest("POST", srv.URL+path, strings.NewReader(body))
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("%s: response is not JSON: %v", path, err)
	}
	return resp.StatusCode, out
}

var uuidv7 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// normalize checks the generated fields of got against want and removes
// them from both: ids the request did not give must be {prefix}_{uuidv7}
// with the seed's prefix, timestamps RFC 3339 UTC.
func normalize(t *testing.T, req, want, got []any) {
	t.Helper()
	for i := range want {
		w, g, r := want[i].(map[string]any), got[i].(map[string]any), req[i].(map[string]any)
		if _, given := r["id"]; !given {
			wid := w["id"].(string)
			prefix := wid[:strings.LastIndex(wid, "_")]
			gid, _ := g["id"].(string)
			if !strings.HasPrefix(gid, prefix+"_") || !uuidv7.MatchString(strings.TrimPrefix(gid, prefix+"_")) {
				t.Errorf("item %d: got id %q; want %s_<uuidv7>", i, gid, prefix)
			}
			delete(w, "id")
			delete(g, "id")
		}
		for _, k := range []string{"createdAt", "appliedAt"} {
			if _, ok := w[k]; !ok {
				continue
			}
			s, _ := g[k].(string)
			if ts, err := time.Parse(time.RFC3339, s); err != nil || ts.Location() != time.UTC || !strings.HasSuffix(s, "Z") {
				t.Errorf("item %d: got %s %q; want RFC 3339 UTC", i, k, s)
			}
			delete(w, k)
			delete(g, k)
		}
		if _, inSeed := w["createdBy"]; !inSeed && g["createdBy"] != nil {
			// The policy seed omits createdBy; we report it (docs/model.md#identifiers-and-timestamps).
			if g["createdBy"] != "subject_admin" {
				t.Errorf("item %d: got createdBy %v; want subject_admin", i, g["createdBy"])
			}
			delete(g, "createdBy")
		}
	}
}

func TestSeedRequests(t *testing.T) {
	srv := newServer(t)
	for _, name := range []string{"scope-types", "scopes", "resource-scope-links", "tag-assignments", "resource-policies"} {
		t.Run(name, func(t *testing.T) {
			reqBody, err := os.ReadFile("../../testdata/seeds/" + name + ".request.json")
			if err != nil {
				t.Fatal(err)
			}
			respBody, err := os.ReadFile("../../testdata/seeds/" + name + ".response.json")
			if err != nil {
				t.Fatal(err)
			}
			code, got := post(t, srv, "/"+name+"/batch", string(reqBody), "Bearer "+token)
			if code != http.StatusCreated {
				t.Fatalf("got status %d (%v); want 201", code, got)
			}
			var req, want []any
			json.Unmarshal(reqBody, &req)
			json.Unmarshal(respBody, &want)
			gotList, ok := got.([]any)
			if !ok || len(gotList) != len(want) {
				t.Fatalf("got %v; want %d objects", got, len(want))
			}
			normalize(t, req, want, gotList)
			if d := cmp.Diff(want, gotList); d != "" {
				t.Errorf("response (-want +got):\n%s", d)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	srv := newServer(t)
	auth := "Bearer " + token
	for _, tc := range []struct {
		name, path, body, auth string
		status                 int
		code, field            string
		index                  int
	}{
		{"no token", "/scopes", `{}`, "", 401, "unauthenticated", "", -1},
		{"wrong token", "/scopes", `{}`, "Bearer nope", 401, "unauthenticated", "", -1},
		{"bad JSON", "/scopes/batch", `[{`, auth, 400, "invalid_argument", "", -1},
		{"unknown field", "/scopes", `{"typeId":"type_team","colour":"red"}`, auth, 400, "invalid_argument", "", -1},
		{"missing reference", "/scopes/batch", `[{"typeId":"type_org"},{"typeId":"type_team","parentScopeId":"scope_nope"}]`, auth, 422, "unknown_reference", "parentScopeId", 1},
		{"missing reference, one object", "/memberships", `{"subjectId":"subject_nope","scopeId":"scope_org"}`, auth, 422, "unknown_reference", "", -1},
		{"no route", "/scopes/x/y/z", `{}`, auth, 404, "no_route", "", -1},
		{"duplicate id", "/scopes/batch", `[{"id":"scope_org","typeId":"type_org"}]`, auth, 409, "already_exists", "id", 0},
		{"not allowed", "/scopes", `{"typeId":"type_team","parentScopeId":"scope_org"}`, auth, 422, "not_allowed", "parentScopeId", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := post(t, srv, tc.path, tc.body, tc.auth)
			if code != tc.status {
				t.Fatalf("got status %d (%v); want %d", code, body, tc.status)
			}
			e, _ := body.(map[string]any)["error"].(map[string]any)
			if e["code"] != tc.code || e["message"] == "" {
				t.Errorf("got error %v; want code %s and a message", e, tc.code)
			}
			if tc.index < 0 {
				return
			}
			items, _ := e["items"].([]any)
			if len(items) != 1 {
				t.Fatalf("got items %v; want one", e["items"])
			}
			it := items[0].(map[string]any)
			if it["index"] != float64(tc.index) || it["field"] != tc.field || it["code"] != tc.code {
				t.Errorf("got item %v; want index %d field %s code %s", it, tc.index, tc.field, tc.code)
			}
		})
	}
}

func TestEvaluateRoute(t *testing.T) {
	srv := newServer(t)
	code, body := post(t, srv, "/evaluate", `{"actor":{"subjectId":"subject_jane"},"scopeId":"scope_acme","action":"read","resource":{"resourceId":"resource_doc_123"}}`, "Bearer "+token)
	d, _ := body.(map[string]any)
	if code != 200 || d["allowed"] != false || d["decidedBy"] != "default" || d["explanation"] == "" {
		t.Errorf("got %d %v; want 200 and a default denial", code, body)
	}
	for _, tc := range []struct {
		name, body string
		status     int
		code, msg  string // msg: the message contains it
	}{
		{"unknown actor", `{"actor":{"subjectId":"nobody"},"scopeId":"scope_acme","action":"read","resource":{"resourceId":"resource_doc_123"}}`,
			422, "unknown_actor", `actor.subjectId: subject "nobody": not found`},
		{"unknown principal", `{"actor":{"subjectId":"subject_jane"},"onBehalfOf":{"subjectId":"nobody"},"scopeId":"scope_acme","action":"read","resource":{"resourceId":"resource_doc_123"}}`,
			422, "unknown_actor", `onBehalfOf.subjectId: subject "nobody": not found`},
		{"unknown resource", `{"actor":{"subjectId":"subject_jane"},"scopeId":"scope_acme","action":"read","resource":{"resourceId":"nothing"}}`,
			422, "unknown_reference", `"nothing"`},
		{"actor of the wrong JSON type", `{"actor":"subject_jane","scopeId":"scope_acme","action":"read","resource":{"resourceId":"resource_doc_123"}}`,
			400, "invalid_argument", "actor: is a string; want an object"},
		{"a number for a string", `{"actor":{"subjectId":7},"scopeId":"scope_acme","action":"read"}`,
			400, "invalid_argument", "actor.subjectId: is a number; want a string"},
	} {
		code, body := post(t, srv, "/evaluate", tc.body, "Bearer "+token)
		e, _ := body.(map[string]any)["error"].(map[string]any)
		msg, _ := e["message"].(string)
		if code != tc.status || e["code"] != tc.code || !strings.Contains(msg, tc.msg) {
			t.Errorf("%s: got %d %v; want %d %s with %q", tc.name, code, body, tc.status, tc.code, tc.msg)
		}
		for _, goName := range []string{"Go struct", "authz.", "EvaluateInput", "SubjectRef"} {
			if strings.Contains(msg, goName) {
				t.Errorf("%s: got message %q; want no Go names (%s)", tc.name, msg, goName)
			}
		}
	}
}

func TestListAndPatchRoutes(t *testing.T) {
	srv := newServer(t)
	do := func(method, path, body string) (int, any) {
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out any
		json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	code, body := do("GET", "/scopes?parentScopeId=scope_org&limit=2", "")
	page, _ := body.(map[string]any)
	if list, _ := page["items"].([]any); code != 200 || len(list) != 2 || list[0].(map[string]any)["id"] != "scope_project_a" || page["next"] != "scope_project_b" {
		t.Errorf("got %d %v; want the first two projects and next", code, body)
	}
	code, body = do("GET", "/scopes?parentScopeId=scope_org&limit=2&after=scope_project_b", "")
	page, _ = body.(map[string]any)
	if list, _ := page["items"].([]any); code != 200 || len(list) != 1 || page["next"] != nil {
		t.Errorf("got %d %v; want the last project and no next", code, body)
	}
	code, body = do("GET", "/scopes?colour=red", "")
	if code != 400 {
		t.Errorf("got %d %v for an unknown filter; want 400", code, body)
	}
	code, body = do("PATCH", "/scopes/scope_org", `{"name":"The Org"}`)
	if m, _ := body.(map[string]any); code != 200 || m["name"] != "The Org" {
		t.Errorf("got %d %v; want the renamed scope", code, body)
	}
	code, _ = do("PATCH", "/scopes/scope_nope", `{"name":"x"}`)
	if code != 404 {
		t.Errorf("got %d; want 404", code)
	}
}

// FuzzRoutes sends arbitrary requests to every route. The handler must
// never panic nor answer 500, every answer must be JSON, the store must
// stay consistent, and a body the oracle hostile finds a reason to refuse
// (a duplicate key, a field name in another case, invalid UTF-8) must never
// be accepted.
func FuzzRoutes(f *testing.F) {
	methods := []string{http.MethodPost, http.MethodGet, http.MethodPatch, http.MethodDelete, http.MethodPut}
	seeds, _ := filepath.Glob("../../testdata/seeds/*.request.json")
	for _, p := range seeds {
		body, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(uint8(0), "/scopes/batch", body)
	}
	f.Add(uint8(0), "/evaluate", []byte(`{"actor":{"subjectId":"subject_jane"},"scopeId":"scope_org","action":"read","resource":{"resourceType":"library"}}`))
	f.Add(uint8(0), "/lookup/subjects", []byte(`{"scopeId":"scope_org","action":"read","resource":{"resourceId":"resource_lib_auth"},"limit":1}`))
	f.Add(uint8(0), "/lookup/resources", []byte(`{"actor":{"subjectId":"subject_jane"},"scopeId":"scope_org","action":"read","resourceType":"library"}`))
	f.Add(uint8(1), "/subjects/subject_jane/permissions?scopeId=scope_org", []byte(nil))
	f.Add(uint8(1), "/scopes?typeId=type_project&limit=2", []byte(nil))
	f.Add(uint8(2), "/subjects/subject_bob", []byte(`{"displayName":"Bob"}`))
	f.Add(uint8(3), "/scope-types/type_team", []byte(nil))
	f.Add(uint8(0), "/scope-overrides/roles", []byte(`{"childScopeId":"scope_project_a","roleId":"role_admin","state":"disabled"}`))
	f.Add(uint8(1), "/scopes?ids=scope_org,scope_acme&limit=1", []byte(nil))
	f.Add(uint8(1), "/resources/resource_lib_auth/descendants?cascadeOnly=true&limit=1", []byte(nil))
	f.Add(uint8(1), "/scopes/scope_org/ancestors?after=x", []byte(nil))
	f.Add(uint8(1), "/subjects/by-external?type=user&externalId=jane", []byte(nil))
	f.Add(uint8(1), "/scope-overrides/roles/scope_org", []byte(nil))
	f.Add(uint8(4), "/scope-overrides/roles/scope_project_a/role_admin", []byte(`{"state":"disabled"}`))
	f.Add(uint8(3), "/scope-overrides/roles/scope_project_a/role_admin", []byte(nil))
	f.Add(uint8(0), "/batch", []byte(`{"roles":[{"scopeId":"scope_org","name":"R"}],"scopes":[{"typeId":"type_project","parentScopeId":"scope_org"}]}`))
	f.Add(uint8(1), "/", []byte(nil))
	f.Add(uint8(0), "/scopes/batch", []byte(`[{"id":"dup1","typeId":"type_org","id":"dup2"}]`))
	f.Add(uint8(0), "/scopes", []byte(`{"id":"c1","TYPEID":"type_org"}`))
	f.Add(uint8(0), "/scopes/batch", []byte("[{\"id\":\"u\xff\",\"typeId\":\"type_org\"}]"))
	f.Add(uint8(2), "/subjects/subject_bob", []byte(`{"displayName":"B\udc00"}`))
	for _, b := range strictBodies {
		m, _, _ := strings.Cut(b.pattern, " ")
		f.Add(uint8(slices.Index(methods, m)), b.path, []byte(b.body))
	}
	c := newSeededClient(f)
	h := NewHandler(c, token, "subject_admin", DefaultLimits())
	names := fieldNames(newRouter(c, DefaultLimits()).routes)
	f.Fuzz(func(t *testing.T, m uint8, path string, body []byte) {
		if !strings.HasPrefix(path, "/") || strings.ContainsAny(path, " \r\n\t#") {
			return
		}
		r, err := http.NewRequest(methods[int(m)%len(methods)], "http://x"+path, bytes.NewReader(body))
		if err != nil {
			return
		}
		r.Header.Set("Authorization", "Bearer "+token)
		r.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code == http.StatusInternalServerError {
			t.Fatalf("%s %s %q: got 500: %s", r.Method, path, body, w.Body.String())
		}
		if !json.Valid(w.Body.Bytes()) {
			t.Fatalf("%s %s: got status %d with a body that is not JSON: %q", r.Method, path, w.Code, w.Body.String())
		}
		if err := c.Check(context.Background()); err != nil {
			t.Fatalf("%s %s %q: store inconsistent afterwards: %v", r.Method, path, body, err)
		}
		if why := hostile(body, names); w.Code/100 == 2 && len(why) > 0 && (r.Method == http.MethodPost || r.Method == http.MethodPatch || r.Method == http.MethodPut) {
			t.Fatalf("%s %s %q: got %d; want it refused: %s", r.Method, path, body, w.Code, why)
		}
	})
}

func TestSubjectPermissionsRoute(t *testing.T) {
	srv := newServer(t)
	code, body := post(t, srv, "/roles", `{"id":"role_reader","scopeId":"scope_org","name":"Reader"}`, "Bearer "+token)
	if code != http.StatusCreated {
		t.Fatalf("create role: got %d %v", code, body)
	}
	code, body = post(t, srv, "/memberships", `{"subjectId":"subject_jane","scopeId":"scope_org","roleIds":["role_reader"]}`, "Bearer "+token)
	if code != http.StatusCreated {
		t.Fatalf("create membership: got %d %v", code, body)
	}
	code, body = post(t, srv, "/permissions", `{"scopeId":"scope_org","action":"read","resourceType":"library"}`, "Bearer "+token)
	if code != http.StatusCreated {
		t.Fatalf("create permission: got %d %v", code, body)
	}
	perm := body.(map[string]any)["id"].(string)
	if code, body = post(t, srv, "/role-permissions", `{"roleId":"role_reader","permissionId":"`+perm+`"}`, "Bearer "+token); code != http.StatusCreated {
		t.Fatalf("grant: got %d %v", code, body)
	}
	for _, tc := range []struct {
		path string
		code int
	}{
		{"/subjects/subject_jane/permissions?scopeId=scope_project_a", http.StatusOK},
		{"/subjects/subject_jane/permissions", http.StatusBadRequest},
		{"/subjects/nobody/permissions?scopeId=scope_project_a", http.StatusNotFound},
	} {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+tc.path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var got any
		_ = json.NewDecoder(resp.Body).Decode(&got)
		resp.Body.Close()
		if resp.StatusCode != tc.code {
			t.Fatalf("GET %s: got %d %v; want %d", tc.path, resp.StatusCode, got, tc.code)
		}
		if tc.code == http.StatusOK {
			list, _ := got.([]any)
			if len(list) != 1 || list[0].(map[string]any)["permission"].(map[string]any)["id"] != perm {
				t.Errorf("GET %s: got %v; want one permission %s", tc.path, got, perm)
			}
		}
	}
}

func TestLookupRoutes(t *testing.T) {
	srv := newServer(t)
	for _, step := range []struct{ path, body string }{
		{"/roles", `{"id":"role_reader","scopeId":"scope_org","name":"Reader"}`},
		{"/memberships", `{"subjectId":"subject_jane","scopeId":"scope_org","roleIds":["role_reader"]}`},
		{"/permissions", `{"id":"perm_read_lib","scopeId":"scope_org","action":"read","resourceType":"library"}`},
		{"/role-permissions", `{"roleId":"role_reader","permissionId":"perm_read_lib"}`},
	} {
		if code, body := post(t, srv, step.path, step.body, "Bearer "+token); code != http.StatusCreated {
			t.Fatalf("POST %s: got %d %v", step.path, code, body)
		}
	}
	for _, tc := range []struct {
		path, body string
		code       int
		want       string // the JSON answer, when code is 200
	}{
		{"/lookup/resources", `{"actor":{"subjectId":"subject_jane"},"scopeId":"scope_project_a","action":"read","resourceType":"library"}`, http.StatusOK,
			`{"resources":[{"resourceId":"resource_lib_auth","externalResourceId":"auth","resourceType":"library"}]}`},
		{"/lookup/resources", `{"actor":{"subjectId":"subject_bob"},"scopeId":"scope_project_a","action":"read","resourceType":"library","limit":10}`, http.StatusOK,
			`{"resources":[]}`},
		{"/lookup/subjects", `{"scopeId":"scope_org","action":"read","resource":{"resourceId":"resource_lib_auth"}}`, http.StatusOK,
			`{"subjects":[{"subjectId":"subject_jane","subjectType":"user"}]}`},
		{"/lookup/subjects", `{"scopeId":"scope_org","action":"read","resource":{"resourceType":"library"},"subjectType":"user","limit":1}`, http.StatusOK,
			`{"subjects":[{"subjectId":"subject_jane","subjectType":"user"}]}`},
		{"/lookup/resources", `{"actor":{"subjectId":"subject_jane"},"scopeId":"scope_org","action":"read"}`, http.StatusBadRequest, ""},
		{"/lookup/resources", `{"actor":{"subjectId":"nobody"},"scopeId":"scope_org","action":"read","resourceType":"library"}`, http.StatusUnprocessableEntity, ""},
		{"/lookup/subjects", `{"scopeId":"scope_org","action":"read","resource":{"resourceId":"resource_lib_auth"},"page":2}`, http.StatusBadRequest, ""},
		{"/lookup/subjects", `{"scopeId":"scope_org","action":"read","resource":{"resourceId":"nothing"}}`, http.StatusUnprocessableEntity, ""},
	} {
		code, got := post(t, srv, tc.path, tc.body, "Bearer "+token)
		if code != tc.code {
			t.Errorf("POST %s %s: got %d %v; want %d", tc.path, tc.body, code, got, tc.code)
			continue
		}
		if tc.want == "" {
			continue
		}
		var want any
		if err := json.Unmarshal([]byte(tc.want), &want); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("POST %s %s (-want +got):\n%s", tc.path, tc.body, diff)
		}
	}
}

// TestWritesAnswerTheirRevision: a write answers the revision it committed
// in Authz-Revision, a read does not, and an evaluate body may ask for that
// revision as consistency.atLeastRevision.
func TestWritesAnswerTheirRevision(t *testing.T) {
	c := newSeededClient(t)
	srv := httptest.NewServer(NewHandler(c, token, "subject_admin", DefaultLimits()))
	t.Cleanup(srv.Close)
	do := func(method, path, body string) *http.Response {
		t.Helper()
		req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	resp := do("POST", "/roles", `{"id":"role_x","scopeId":"scope_env_production","name":"X"}`)
	rev, err := c.Revision(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
		t.Fatalf("create: got status %d", resp.StatusCode)
	}
	if got := resp.Header.Get("Authz-Revision"); got != strconv.FormatUint(rev, 10) {
		t.Errorf("Authz-Revision of a create: got %q; want %d", got, rev)
	}
	if got := do("GET", "/roles/role_x", "").Header.Get("Authz-Revision"); got != "" {
		t.Errorf("Authz-Revision of a read: got %q; want none", got)
	}
	body := `{"actor":{"subjectId":"subject_jane"},"scopeId":"scope_env_production","action":"read",` +
		`"resource":{"resourceId":"resource_lib_auth"},"consistency":{"atLeastRevision":` + strconv.FormatUint(rev, 10) + `}}`
	if resp := do("POST", "/evaluate", body); resp.StatusCode != http.StatusOK {
		t.Errorf("evaluate with consistency: got status %d; want 200", resp.StatusCode)
	}
}

// TestChangesRoute pages through the audit feed over HTTP: the writes made
// through the API are there, with the actor the token maps to.
func TestChangesRoute(t *testing.T) {
	srv := newServer(t)
	get := func(query string) (int, authz.ChangePage) {
		req, _ := http.NewRequest("GET", srv.URL+"/changes?"+query, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var p authz.ChangePage
		_ = json.NewDecoder(resp.Body).Decode(&p)
		return resp.StatusCode, p
	}
	code, first := get("limit=2")
	if code != http.StatusOK || len(first.Changes) != 2 || first.Changes[0].Seq != 1 || !first.More || first.Next != 2 {
		t.Fatalf("GET /changes?limit=2: got %d %+v; want the first two entries and more", code, first)
	}
	_, next := get("after=2&limit=1&kind=scopes")
	if len(next.Changes) != 1 || next.Changes[0].Kind != "scopes" || next.Changes[0].Seq <= 2 {
		t.Errorf("GET /changes?after=2&kind=scopes: got %+v; want one scope creation after entry 2", next)
	}
	if code, _ := get("after=x"); code != http.StatusBadRequest {
		t.Errorf("GET /changes?after=x: got %d; want 400", code)
	}
	if code, _ := get("scopeId=scope_env_production&subtree=maybe"); code != http.StatusBadRequest {
		t.Errorf("GET /changes?subtree=maybe: got %d; want 400", code)
	}
	for _, q := range []string{"scopeId=scope_env_production", "scopeId=scope_env_production&subtree=true"} {
		code, p := get(q + "&limit=1000")
		if code != http.StatusOK || len(p.Changes) == 0 {
			t.Fatalf("GET /changes?%s: got %d with %d entries; want some", q, code, len(p.Changes))
		}
		for _, ch := range p.Changes {
			if ch.ScopeID != "scope_env_production" {
				t.Errorf("GET /changes?%s: got %s %s of scope %q", q, ch.Kind, ch.ID, ch.ScopeID)
			}
		}
	}
	if code, _ := get("scopeId=nope&subtree=true"); code != http.StatusNotFound {
		t.Errorf("GET /changes?scopeId=nope&subtree=true: got %d; want 404", code)
	}
}
