package httpapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/scopegate/authz"
)

// TestIssueBodiesRefused: the three bodies of the issue, each refused with
// 400 naming the field, and nothing stored.
func TestIssueBodiesRefused(t *testing.T) {
	srv := newServer(t)
	auth := "Bearer " + token
	for _, tc := range []struct {
		name, path, body string
		message          string // the message starts with it
		index            int    // the item's index in a batch, or -1
		field            string // the item's field
		absent           []string
	}{
		{"duplicate id", "/scopes/batch", `[{"id":"dup1","typeId":"type_org","id":"dup2"}]`, "[0].id: duplicate key", 0, "id", []string{"dup1", "dup2"}},
		{"duplicate id, escaped", "/scopes", `{"id":"dup1","typeId":"type_org","\u0069d":"dup2"}`, "id: duplicate key", -1, "", []string{"dup1", "dup2"}},
		{"duplicate nested key", "/scopes/batch", `[{"id":"s1","typeId":"type_org"},{"id":"s2","typeId":"type_team","parentScopeId":"scope_env_production"},{"id":"s3","typeId":"type_org","memberships":[{"subjectId":"subject_jane","roleIds":["role_admin"],"roleIds":["role_lead"]}]}]`,
			"[2].memberships[0].roleIds: duplicate key", 2, "memberships[0].roleIds", []string{"s1", "s2", "s3"}},
		{"duplicate key in meta", "/scopes", `{"id":"m1","typeId":"type_org","meta":{"a":{"b":1,"b":2}}}`, "meta.a.b: duplicate key", -1, "", []string{"m1"}},
		{"upper-case field", "/scopes", `{"id":"c1","TYPEID":"type_org"}`, `TYPEID: unknown field; field names are case-sensitive: did you mean "typeId"?`, -1, "", []string{"c1"}},
		{"case in a nested input", "/scopes/batch", `[{"id":"c2","typeId":"type_org","memberships":[{"subjectId":"subject_jane","RoleIds":["role_admin"]}]}]`, "[0].memberships[0].RoleIds: unknown field", 0, "memberships[0].RoleIds", []string{"c2"}},
		{"Kelvin sign", "/tag-groups", "{\"id\":\"tg_k\",\"scopeId\":\"scope_org\",\"\u212aey\":\"k\",\"name\":\"K\"}", "[\"\u212aey\"]: unknown field; field names are case-sensitive: did you mean \"key\"?", -1, "", nil},
		{"long s", "/tag-groups", "{\"id\":\"tg_s\",\"\u017fcopeId\":\"scope_org\",\"key\":\"k\",\"name\":\"K\"}", "[\"\u017fcopeId\"]: unknown field; field names are case-sensitive: did you mean \"scopeId\"?", -1, "", nil},
		{"invalid byte", "/scopes/batch", "[{\"id\":\"u\xff\",\"typeId\":\"type_org\"},{\"id\":\"u\xfe\",\"typeId\":\"type_org\"}]", "[0].id: string is not valid UTF-8", 0, "id", []string{"u\ufffd"}},
		{"lone surrogate", "/scopes/batch", `[{"id":"v\ud800","typeId":"type_org"},{"id":"v\udbff","typeId":"type_org"}]`, `[0].id: string is not valid UTF-8 (\ud800 is a lone surrogate)`, 0, "id", []string{"v\ufffd"}},
		{"invalid key", "/scopes", "{\"id\":\"k1\",\"typeId\":\"type_org\",\"meta\":{\"a\xffb\":1}}", `meta["a\xffb"]: key is not valid UTF-8`, -1, "", []string{"k1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, got := post(t, srv, tc.path, tc.body, auth)
			body, _ := got.(map[string]any)
			e, _ := body["error"].(map[string]any)
			msg, _ := e["message"].(string)
			if code != http.StatusBadRequest || e["code"] != "invalid_argument" || !strings.HasPrefix(msg, tc.message) {
				t.Fatalf("got %d %v; want 400 invalid_argument with a message starting %q", code, got, tc.message)
			}
			items, _ := e["items"].([]any)
			switch {
			case tc.index < 0 && items != nil:
				t.Errorf("got items %v; want none", items)
			case tc.index >= 0:
				if len(items) != 1 {
					t.Fatalf("got items %v; want one", items)
				}
				it := items[0].(map[string]any)
				if it["index"] != float64(tc.index) || it["field"] != tc.field || it["code"] != "invalid_argument" {
					t.Errorf("got item %v; want index %d, field %s", it, tc.index, tc.field)
				}
			}
			for _, id := range tc.absent {
				req, _ := http.NewRequest("GET", srv.URL+"/scopes/"+id, nil)
				req.Header.Set("Authorization", auth)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusNotFound {
					t.Errorf("GET /scopes/%s: got %d; want 404 (nothing stored)", id, resp.StatusCode)
				}
			}
		})
	}
}

// TestStrictBodiesAccepted: what the checks must let through.
func TestStrictBodiesAccepted(t *testing.T) {
	srv := newServer(t)
	for _, tc := range []struct{ name, path, body string }{
		{"keys of any case in meta", "/scopes", `{"typeId":"type_org","meta":{"TypeId":1,"typeid":2,"TYPEID":{"A":1,"a":2}}}`},
		{"the same key in sibling objects", "/scopes", `{"typeId":"type_org","meta":{"a":{"k":1},"b":{"k":1},"c":[{"k":1},{"k":2}]}}`},
		{"an escaped field name", "/scopes", `{"typ\u0065Id":"type_org"}`},
		{"non-ASCII text", "/scopes", `{"typeId":"type_org","name":"Ünïcødé ✓ 😀 \ud83d\ude00 \ufffd ` + "\ufffd" + `"}`},
		{"a condition with any keys", "/resource-policies", `{"scopeId":"scope_org","name":"p","target":{"kind":"collection","collectionId":"collection_finance_docs"},"actions":["read"],"effect":"allow","subjectCondition":{"==":[{"var":"subject.meta.Dept"},"x"]}}`},
		{"a nullable field", "/tag-groups", `{"scopeId":"scope_org","key":"k","name":"K","maxAppliedPerTarget":2}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, got := post(t, srv, tc.path, tc.body, "Bearer "+token)
			if code != http.StatusCreated {
				t.Errorf("got %d %v; want 201", code, got)
			}
		})
	}
}

// freeForm are the fields whose values may have any keys.
var freeForm = map[string]bool{"meta": true, "metadata": true, "context": true, "condition": true, "logic": true,
	"subjectCondition": true, "contextCondition": true, "matchDefinition": true, "conditions": true}

// site is a key or a string value of a JSON body, found by the tokens of
// encoding/json (not by the code under test).
type site struct {
	path       []pathElem
	isKey      bool
	start, end int  // the quoted string
	memberEnd  int  // keys: the end of the member's value
	free       bool // inside a free-form value
}

// sites returns every key and string value of body.
func sites(t *testing.T, body []byte) []site {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(body))
	next := func() int { // the start of the next token
		i := int(dec.InputOffset())
		for i < len(body) && strings.IndexByte(" \t\r\n,:", body[i]) >= 0 {
			i++
		}
		return i
	}
	var out []site
	var value func(path []pathElem, free bool)
	value = func(path []pathElem, free bool) {
		start := next()
		tok, err := dec.Token()
		if err != nil {
			t.Fatalf("tokens: %v", err)
		}
		switch tok {
		case json.Delim('{'):
			for dec.More() {
				kstart := next()
				k, err := dec.Token()
				if err != nil {
					t.Fatal(err)
				}
				kend := int(dec.InputOffset())
				key := k.(string)
				p := append(append([]pathElem(nil), path...), pathElem{key: key, isKey: true})
				value(p, free || freeForm[key])
				out = append(out, site{path: p, isKey: true, start: kstart, end: kend, memberEnd: int(dec.InputOffset()), free: free})
			}
			dec.Token()
		case json.Delim('['):
			for i := 0; dec.More(); i++ {
				value(append(append([]pathElem(nil), path...), pathElem{index: i}), free)
			}
			dec.Token()
		default:
			if _, ok := tok.(string); ok {
				out = append(out, site{path: path, start: start, end: int(dec.InputOffset()), free: free})
			}
		}
	}
	value(nil, false)
	return out
}

// pathString writes a path as the API documents it, independently of
// formatPath: [2].memberships[0].roleIds, meta["a b"].
func pathString(p []pathElem) string {
	var b strings.Builder
	for i, e := range p {
		switch {
		case !e.isKey:
			fmt.Fprintf(&b, "[%d]", e.index)
		case e.key != "" && strings.Trim(e.key, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-$") == "":
			if i > 0 {
				b.WriteString(".")
			}
			b.WriteString(e.key)
		default:
			fmt.Fprintf(&b, "[%s]", strconv.Quote(e.key))
		}
	}
	if b.Len() == 0 {
		return "body"
	}
	return b.String()
}

// invalidUTF8 are byte sequences that are not UTF-8, one of each kind, and
// an escaped lone surrogate.
var invalidUTF8 = []string{"\xff", "\x80", "\xc0\xaf", "\xed\xa0\x80", "\xe2\x82", "\xf4\x90\x80\x80", "\xf8\x88\x80\x80\x80", `\udc00`, `\ud83d`}

// boundaries returns the offsets inside the quoted string b[start:end] at
// which bytes can be inserted without splitting a character or an escape.
func boundaries(b []byte, start, end int) []int {
	var out []int
	for i := start + 1; i < end; {
		out = append(out, i)
		if i == end-1 {
			break
		}
		if b[i] == '\\' {
			if b[i+1] == 'u' {
				i += 6
			} else {
				i += 2
			}
			continue
		}
		_, n := utf8.DecodeRune(b[i:])
		i += n
	}
	return out
}

// swapCase changes the case of every letter of s.
func swapCase(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsUpper(r) {
			return unicode.ToLower(r)
		}
		return unicode.ToUpper(r)
	}, s)
}

// mutation is a body made hostile at one place, and the path the answer
// must name.
type mutation struct {
	what string
	body []byte
	path []pathElem
}

func splice(b []byte, at, del int, ins string) []byte {
	return append(append(append([]byte(nil), b[:at]...), ins...), b[at+del:]...)
}

// mutations returns, for every place of body: the member given twice, the
// key with its case changed (outside free-form values), and each kind of
// invalid UTF-8 put into the key or string at a random place.
func mutations(t *testing.T, body []byte, rng *rand.Rand) []mutation {
	var out []mutation
	for _, s := range sites(t, body) {
		last := s.path[len(s.path)-1]
		if s.isKey {
			member := string(body[s.start:s.memberEnd])
			out = append(out, mutation{"duplicate " + pathString(s.path), splice(body, s.memberEnd, 0, ","+member), s.path})
			if k := swapCase(last.key); !s.free && k != last.key {
				p := append(append([]pathElem(nil), s.path[:len(s.path)-1]...), pathElem{key: k, isKey: true})
				out = append(out, mutation{"case " + pathString(p), splice(body, s.start, s.end-s.start, strconv.Quote(k)), p})
			}
		}
		for _, bad := range invalidUTF8 {
			at := boundaries(body, s.start, s.end)
			pos := at[rng.IntN(len(at))]
			mutated := splice(body, pos, 0, bad)
			p := s.path
			if s.isKey { // named as written
				p = append(append([]pathElem(nil), s.path[:len(s.path)-1]...), pathElem{key: string(mutated[s.start+1 : s.end-1+len(bad)]), isKey: true})
			}
			out = append(out, mutation{fmt.Sprintf("%q in %s", bad, pathString(s.path)), mutated, p})
		}
	}
	return out
}

// strictBodies are bodies of routes with free-form values, nullable fields,
// nested inputs and lookups, besides the seeds.
var strictBodies = []struct{ pattern, path, body string }{
	{"POST /evaluate", "/evaluate", `{"actor":{"subjectId":"subject_jane","subjectType":"user"},"scopeId":"scope_org","action":"read","resource":{"resourceType":"library","resourcePattern":"au*"},"context":{"ip":"10.0.0.1","Tags":["a","b"],"nested":{"k":"v","list":[{"k":"w"}]}},"explain":true}`},
	{"POST /lookup/subjects", "/lookup/subjects", `{"scopeId":"scope_org","action":"read","resource":{"resourceId":"resource_lib_auth"},"subjectType":"user","context":{"now":"2024"},"limit":5,"after":"a"}`},
	{"POST /lookup/resources", "/lookup/resources", `{"actor":{"subjectId":"subject_jane"},"onBehalfOf":{"subjectId":"subject_bob"},"scopeId":"scope_org","action":"read","resourceType":"library","limit":2}`},
	{"POST /subjects/batch", "/subjects/batch", `[{"id":"subject_x","subjectType":"user","externalId":"x","displayName":"X","meta":{"Dept":"eng","levels":[1,{"a":"b"}]},"memberships":[{"scopeId":"scope_org","roleIds":["role_admin"]}]}]`},
	{"POST /resources", "/resources", `{"resourceTypeId":"rt_lib","scopeId":"scope_org","externalResourceId":"ext","meta":{"Owner":"jane"}}`},
	{"POST /resource-collections", "/resource-collections", `{"scopeId":"scope_org","resourceTypeId":"rt_fin","name":"C","matchDefinition":{"fields":{"Archived":true}}}`},
	{"PATCH /tag-groups/{id}", "/tag-groups/tg_team", `{"name":"Team","maxAppliedPerTarget":3,"isLocked":false}`},
	{"POST /tag-groups", "/tag-groups", `{"scopeId":"scope_org","key":"k","name":"K","tags":[{"identifier":"a","label":"A"}]}`},
	{"POST /scope-overrides/roles", "/scope-overrides/roles", `{"childScopeId":"scope_project_a","roleId":"role_admin","state":"disabled"}`},
	{"POST /batch", "/batch", `{"roles":[{"id":"role_b","scopeId":"scope_org","name":"B"}],"scopes":[{"id":"scope_b","typeId":"type_project","parentScopeId":"scope_org","meta":{"Team":"x"},"memberships":[{"subjectId":"subject_bob","roleIds":["role_b"]}]}],"tagGroups":[{"scopeId":"scope_org","key":"k","name":"K","maxAppliedPerTarget":1}]}`},
	{"PUT /scope-overrides/role-permissions/{scopeId}/{roleId}/{permissionId}", "/scope-overrides/role-permissions/scope_project_a/role_admin/perm_x", `{"state":"disabled","condition":{"==":[{"var":"context.Env"},"prod"]}}`},
	{"PUT /scope-overrides/roles/{id}", "/scope-overrides/roles/override_x", `{"state":"enabled"}`},
	{"POST /resource-collections/{id}/test", "/resource-collections/collection_finance_docs/test", `{"resourceId":"resource_lib_auth"}`},
	{"PATCH /resources/{id}", "/resources/resource_lib_auth", `{"ownerId":"subject_bob","meta":{"Owner":"bob"}}`},
	// The two other scope batches of the original documentation.
	{"POST /scopes/batch", "/scopes/batch", "[\n{\n\"id\": \"scope_dept\",\n\"typeId\": \"type_department\",\n\"name\": \"Engineering\"\n},\n{\n\"typeId\": \"type_team\",\n\"name\": \"Backend\",\n\"parentScopeId\": \"scope_dept\"\n},\n{\n\"typeId\": \"type_team\",\n\"name\": \"Frontend\",\n\"parentScopeId\": \"scope_dept\"\n}\n]"},
	{"POST /scopes/batch", "/scopes/batch", "[\n{\"typeId\": \"type_team\", \"name\": \"Team A\"},\n{\"typeId\": \"type_team\", \"name\": \"Team B\"},\n{\"typeId\": \"type_team\", \"name\": \"Team C\"}\n]"},
}

// TestMutatedBodiesRefused takes every seed body and the bodies above and
// makes each hostile at every place: each key given twice, each key (not
// inside a free-form value) in another case, each kind of invalid UTF-8 in
// each key and string. Every mutated body must be refused with 400 naming
// the place by its JSON path, and, in a batch, with the item's index and
// field.
func TestMutatedBodiesRefused(t *testing.T) {
	mux := newRouter(newSeededClient(t), DefaultLimits())
	h := jsonFallback(mux.ServeMux)
	type body struct {
		pattern, path string
		raw           []byte
	}
	var bodies []body
	seeds, _ := filepath.Glob("../../testdata/seeds/*.request.json")
	if len(seeds) != 5 {
		t.Fatalf("got %d seed bodies; want 5", len(seeds))
	}
	for _, p := range seeds {
		raw, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimSuffix(filepath.Base(p), ".request.json")
		bodies = append(bodies, body{"POST /" + name + "/batch", "/" + name + "/batch", raw})
	}
	for _, b := range strictBodies {
		bodies = append(bodies, body{b.pattern, b.path, []byte(b.body)})
	}
	rng := rand.New(rand.NewPCG(14, 5))
	total := 0
	for _, b := range bodies {
		typ, ok := mux.routes[b.pattern]
		if !ok || typ == nil {
			t.Fatalf("%s: no route with a body", b.pattern)
		}
		if err := checkJSON(b.raw, typ, nil); err != nil {
			t.Fatalf("%s: the body as given is refused: %v", b.pattern, err)
		}
		for _, m := range mutations(t, b.raw, rng) {
			total++
			method, _, _ := strings.Cut(b.pattern, " ")
			r := httptest.NewRequest(method, b.path, bytes.NewReader(m.body))
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			var got struct {
				Error struct {
					Code, Message string
					Items         []itemBody
				}
			}
			_ = json.Unmarshal(w.Body.Bytes(), &got)
			want := pathString(m.path) + ": "
			if w.Code != http.StatusBadRequest || got.Error.Code != "invalid_argument" || !strings.HasPrefix(got.Error.Message, want) {
				t.Errorf("%s, %s: got %d %s; want 400 naming %q\nbody: %q", b.pattern, m.what, w.Code, w.Body, want, m.body)
				continue
			}
			if m.path[0].isKey {
				continue
			}
			field := ""
			if len(m.path) > 1 {
				field = pathString(m.path[1:])
			}
			if len(got.Error.Items) != 1 || got.Error.Items[0].Index != m.path[0].index || got.Error.Items[0].Field != field {
				t.Errorf("%s, %s: got items %+v; want index %d, field %q", b.pattern, m.what, got.Error.Items, m.path[0].index, field)
			}
		}
	}
	t.Logf("%d mutated bodies", total)
	if total < 1000 {
		t.Errorf("got %d mutations; want over 1000", total)
	}
}

// routeTypes returns every type reachable from t through fields, elements
// and pointers.
func routeTypes(t reflect.Type, seen map[reflect.Type]bool) {
	if seen[t] {
		return
	}
	seen[t] = true
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Array, reflect.Map:
		routeTypes(t.Elem(), seen)
	case reflect.Struct:
		for i := range t.NumField() {
			routeTypes(t.Field(i).Type, seen)
		}
	}
}

// TestShapesKnowEveryUnmarshaler: a type that decodes itself is looked into
// only when checkJSON knows what it decodes as; a new one in a route's body
// must be added to unmarshalerInner (or be free-form JSON on purpose).
func TestShapesKnowEveryUnmarshaler(t *testing.T) {
	mux := newRouter(newSeededClient(t), DefaultLimits())
	seen := map[reflect.Type]bool{}
	for _, typ := range mux.routes {
		if typ != nil {
			routeTypes(typ, seen)
		}
	}
	found := 0
	for typ := range seen {
		if typ.Kind() == reflect.Pointer || typ == rawMessageType || !reflect.PointerTo(typ).Implements(unmarshalerType) {
			continue
		}
		found++
		if _, ok := unmarshalerInner(typ); !ok {
			t.Errorf("%v decodes itself; want it known to unmarshalerInner", typ)
		}
	}
	if found == 0 {
		t.Error("got no unmarshalers in the route bodies; want Nullable at least")
	}
}

// TestShapesMatchDecoder: every field name checkJSON accepts in a route's
// body is one encoding/json decodes (with DisallowUnknownFields), and the
// names differ from encoding/json's only in case sensitivity.
func TestShapesMatchDecoder(t *testing.T) {
	mux := newRouter(newSeededClient(t), DefaultLimits())
	for pattern, typ := range mux.routes {
		if typ == nil {
			continue
		}
		s := shapeOf(typ)
		et := typ
		if s.kind == shapeList {
			s, et = s.elem, typ.Elem()
		}
		if s.kind != shapeStruct || len(s.fields) == 0 {
			t.Errorf("%s: got shape kind %d; want a struct with fields", pattern, s.kind)
			continue
		}
		for name := range s.fields {
			dec := json.NewDecoder(strings.NewReader(`{"` + name + `":null}`))
			dec.DisallowUnknownFields()
			if err := dec.Decode(reflect.New(et).Interface()); err != nil {
				t.Errorf("%s: field %q: encoding/json says %v", pattern, name, err)
			}
			if err := checkJSON([]byte(`{"`+swapCase(name)+`":null}`), et, nil); err == nil && swapCase(name) != name {
				t.Errorf("%s: %q accepted; want case-sensitive names", pattern, swapCase(name))
			}
		}
	}
}

// nullableProbe has a Nullable of a struct, which no route body has yet.
type nullableProbe struct {
	N authz.Nullable[struct {
		Inner string `json:"inner"`
	}] `json:"n,omitzero"`
	T authz.Time `json:"t"`
}

// TestShapesLookIntoNullable: the value of a Nullable is checked as its
// type, and a Time as a string.
func TestShapesLookIntoNullable(t *testing.T) {
	typ := reflect.TypeFor[nullableProbe]()
	for _, tc := range []struct {
		body, err string
	}{
		{`{"n":{"inner":"x"},"t":"2024-01-15T10:30:00Z"}`, ""},
		{`{"n":null}`, ""},
		{`{"n":{"INNER":"x"}}`, `n.INNER: unknown field; field names are case-sensitive: did you mean "inner"?`},
		{`{"n":{"inner":"x","inner":"y"}}`, "n.inner: duplicate key (the object has it more than once)"},
		{"{\"t\":\"\xff\"}", "t: string is not valid UTF-8 (byte 0xff at offset 0)"},
	} {
		got := ""
		if err := checkJSON([]byte(tc.body), typ, nil); err != nil {
			got = err.Error()
		}
		if got != tc.err {
			t.Errorf("%s: got error %q; want %q", tc.body, got, tc.err)
		}
	}
}

// TestDeepBodyRefused: nesting past maxBodyDepth is refused, naming where.
func TestDeepBodyRefused(t *testing.T) {
	typ := reflect.TypeFor[authz.ScopeInput]()
	deep := func(n int) []byte { // meta nested n levels deep in the body
		return []byte(`{"typeId":"t","meta":` + strings.Repeat(`{"a":`, n-1) + "1" + strings.Repeat("}", n-1) + "}")
	}
	if err := checkJSON(deep(maxBodyDepth), typ, nil); err != nil {
		t.Errorf("depth %d: got %v; want nil", maxBodyDepth, err)
	}
	err := checkJSON(deep(maxBodyDepth+1), typ, nil)
	if want := "meta" + strings.Repeat(".a", maxBodyDepth-1) + ": nests deeper than 128 levels"; err == nil || err.Error() != want {
		t.Errorf("depth %d: got %v; want %s", maxBodyDepth+1, err, want)
	}
}

// fieldNames returns the JSON names of every struct field reachable from
// the bodies of the routes (a flat set: where each name may appear is not
// known here).
func fieldNames(routes map[string]reflect.Type) map[string]bool {
	seen := map[reflect.Type]bool{}
	for _, typ := range routes {
		if typ != nil {
			routeTypes(typ, seen)
		}
	}
	names := map[string]bool{}
	for typ := range seen {
		if typ.Kind() != reflect.Struct {
			continue
		}
		for i := range typ.NumField() {
			f := typ.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "" {
				name = f.Name
			}
			names[name] = true
		}
	}
	return names
}

// hostile returns the reasons why body must not be accepted; none when
// this oracle finds no reason. It is independent of checkJSON: it reads the
// tokens of encoding/json and knows only the flat set of field names and
// which fields are free-form. A reason it gives is certain; it may miss some
// (a lone surrogate when the body also holds a real U+FFFD).
func hostile(body []byte, names map[string]bool) []string {
	var reasons []string
	if !utf8.Valid(body) {
		reasons = append(reasons, "invalid UTF-8 bytes")
	}
	realFFFD := bytes.Contains(body, []byte("\ufffd")) || bytes.Contains(bytes.ToLower(body), []byte(`\ufffd`)) || !utf8.Valid(body)
	dec := json.NewDecoder(bytes.NewReader(body))
	str := func(s string) {
		if !realFFFD && strings.ContainsRune(s, utf8.RuneError) {
			reasons = append(reasons, "a lone surrogate")
		}
	}
	var value func(free bool) bool
	value = func(free bool) bool {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		switch tok {
		case json.Delim('{'):
			keys := map[string]bool{}
			for dec.More() {
				k, err := dec.Token()
				if err != nil {
					return false
				}
				key := k.(string)
				str(key)
				if keys[key] {
					reasons = append(reasons, fmt.Sprintf("duplicate key %q", key))
				}
				keys[key] = true
				if !free && !names[key] {
					for n := range names {
						if strings.EqualFold(n, key) {
							reasons = append(reasons, fmt.Sprintf("key %q for %q", key, n))
							break
						}
					}
				}
				if !value(free || freeForm[key]) {
					return false
				}
			}
			_, err := dec.Token()
			return err == nil
		case json.Delim('['):
			for dec.More() {
				if !value(free) {
					return false
				}
			}
			_, err := dec.Token()
			return err == nil
		}
		if s, ok := tok.(string); ok {
			str(s)
		}
		return true
	}
	value(false)
	return reasons
}

// FuzzStrictBody checks arbitrary JSON against the body types of the
// routes: checkJSON never panics, never accepts what the oracle hostile
// finds a reason to refuse, and refuses for a duplicate key or an invalid
// byte only when there is one.
func FuzzStrictBody(f *testing.F) {
	mux := newRouter(newSeededClient(f), DefaultLimits())
	var types []reflect.Type
	var patterns []string
	for p, typ := range mux.routes {
		if typ != nil {
			patterns = append(patterns, p)
		}
	}
	slices.Sort(patterns)
	for _, p := range patterns {
		types = append(types, mux.routes[p])
	}
	names := fieldNames(mux.routes)
	seeds, _ := filepath.Glob("../../testdata/seeds/*.request.json")
	for _, p := range seeds {
		body, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		name := strings.TrimSuffix(filepath.Base(p), ".request.json")
		f.Add(uint8(slices.Index(patterns, "POST /"+name+"/batch")), body)
	}
	for _, b := range strictBodies {
		f.Add(uint8(slices.Index(patterns, b.pattern)), []byte(b.body))
	}
	f.Add(uint8(slices.Index(patterns, "POST /scopes/batch")), []byte(`[{"id":"dup1","typeId":"type_org","id":"dup2"}]`))
	f.Add(uint8(slices.Index(patterns, "POST /scopes")), []byte(`{"TYPEID":"type_org","meta":{"a":"\ud800"}}`))
	f.Add(uint8(slices.Index(patterns, "POST /scopes")), []byte("{\"typeId\":\"t\xff\"}"))
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		if !json.Valid(body) {
			return
		}
		typ := types[int(which)%len(types)]
		err := checkJSON(body, typ, map[string]int{"context": 64})
		why := hostile(body, names)
		switch {
		case err == nil && len(why) > 0:
			t.Fatalf("%v: accepted %q; want it refused: %s", typ, body, why)
		case err == nil:
		case strings.Contains(err.Msg, "duplicate key") && !slices.ContainsFunc(why, func(r string) bool { return strings.HasPrefix(r, "duplicate key") }):
			t.Fatalf("%v: %q refused with %v; the oracle finds no duplicate key (%q)", typ, body, err, why)
		case strings.Contains(err.Msg, "(byte 0x") && utf8.Valid(body):
			t.Fatalf("%v: %q refused with %v; the body is valid UTF-8", typ, body, err)
		}
	})
}

// TestListQueryStrict: the query parameters of the list routes follow the
// rules of bodies.
func TestListQueryStrict(t *testing.T) {
	srv := newServer(t)
	for _, tc := range []struct {
		query, inMessage string
		code             int
	}{
		{"parentScopeId=scope_org", "", http.StatusOK},
		{"PARENTSCOPEID=scope_org", `PARENTSCOPEID: unknown field; field names are case-sensitive: did you mean "parentScopeId"?`, http.StatusBadRequest},
		{"parentScopeId=scope%FForg", `parentScopeId: value "scope\xfforg" is not valid UTF-8`, http.StatusBadRequest},
		{"parent%FFScopeId=scope_org", `parameter "parent\xffScopeId": name is not valid UTF-8`, http.StatusBadRequest},
	} {
		req, _ := http.NewRequest("GET", srv.URL+"/scopes?"+tc.query, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var got struct {
			Error struct{ Code, Message string }
		}
		_ = json.NewDecoder(resp.Body).Decode(&got)
		resp.Body.Close()
		if resp.StatusCode != tc.code || !strings.Contains(got.Error.Message, tc.inMessage) {
			t.Errorf("GET /scopes?%s: got %d %+v; want %d with %q", tc.query, resp.StatusCode, got, tc.code, tc.inMessage)
		}
	}
}
