package httpapi

import (
	"encoding/json"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

var goInternals = regexp.MustCompile(`Go struct|json: |authz\.|\bstruct\b|map\[|\[\]string|\*authz|reflect|runtime|goroutine|<invalid|%!`)

// TestAttackHostileRequests sends every route of the table (so a new route
// is covered) hostile path ids (encoded slashes and dots, NUL, invalid
// UTF-8, unicode, 5,000 characters, existing ids of other kinds), query
// strings (negative, huge, repeated, case-folded, empty, invalid UTF-8,
// unknown) and bodies (empty, null, wrong JSON kinds, case-folded and
// unknown keys, nulls, references to nothing): every answer is JSON, none
// is a 5xx, every error's code is one of its status, and no error text
// shows Go internals.
func TestAttackHostileRequests(t *testing.T) {
	c := routesClient(t)
	h := NewHandler(c, token, "subject_admin", DefaultLimits())
	mux := newRouter(c, DefaultLimits())
	ids := []string{"x", "%2F", "a%2Fb", "..", "%2E%2E", "a%00b", "%ff", "é", strings.Repeat("a", 5000), "%20", "resource_lib_auth", "scope_org", "collection_archived", "%25", "a%3Fb"}
	queries := []string{"", "?limit=-1", "?limit=0", "?limit=99999999999999999999", "?limit=1&limit=2", "?after=zzz", "?after=", "?limit=1e3", "?Limit=1", "?cascadeOnly=yes", "?cascadeOnly=true", "?ids=", "?ids=,,", "?%ff=1", "?limit=%ff", "?linkType=bogus", "?x=1", "?limit=1&after=resource_lib_a"}
	bodies := []string{"", "{}", "null", "[]", `{"a":1}`, `{"id":"x","ID":"y"}`, `{"state":null}`, `{"state":"enabled"}`, `{"state":"disabled","condition":{"var":"resource.x"}}`, `[null]`, `{"resourceId":null}`, `{"resourceId":"resource_lib_auth"}`, `{"ownerId":"nobody"}`, `{"ownerId":null}`, `"s"`, `1`, `{"scopes":[{"id":"q","typeId":"nope"}]}`, `{"roles":[null]}`}
	seen := map[string]bool{}
	for _, rt := range mux.table {
		for _, id := range ids {
			p := regexp.MustCompile(`\{[A-Za-z$]+\}`).ReplaceAllString(rt.Path, id)
			if rt.Path == "/{$}" {
				p = "/"
			}
			if seen[rt.Method+p] {
				continue
			}
			seen[rt.Method+p] = true
			qs := []string{""}
			if rt.query != nil {
				qs = queries
			}
			bs := []string{""}
			if rt.body != nil {
				bs = bodies
			}
			for _, q := range qs {
				for _, b := range bs {
					func() {
						defer func() {
							if r := recover(); r != nil {
								t.Errorf("%s %s%s %s: panic %v", rt.Method, p, q, b, r)
							}
						}()
						r := httptest.NewRequest(rt.Method, "http://x"+p+q, strings.NewReader(b))
						r.Header.Set("Authorization", "Bearer "+token)
						w := httptest.NewRecorder()
						h.ServeHTTP(w, r)
						var out map[string]any
						if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil && rt.Path != "/openapi.json" {
							var arr []any
							if json.Unmarshal(w.Body.Bytes(), &arr) != nil {
								t.Errorf("%s %s%s %s: not JSON: %d %q", rt.Method, p, q, b, w.Code, w.Body.String())
							}
							return
						}
						if w.Code >= 500 {
							t.Errorf("%s %s%s %s: %d %s", rt.Method, p, q, b, w.Code, w.Body.String())
						}
						if w.Code >= 400 {
							e, _ := out["error"].(map[string]any)
							msg, _ := e["message"].(string)
							its, _ := e["items"].([]any)
							for _, it := range its {
								m, _ := it.(map[string]any)["message"].(string)
								msg += " | " + m
							}
							if goInternals.MatchString(msg) {
								t.Errorf("%s %s%s %s: go internals: %d %s", rt.Method, p[:min(len(p), 80)], q, b, w.Code, msg[:min(len(msg), 300)])
							}
							code := errCode(out)
							want := map[int][]string{400: {"invalid_argument"}, 404: {"not_found", "no_route"}, 422: {"unknown_reference", "unknown_actor", "not_allowed"}, 409: {"already_exists"}, 405: {"method_not_allowed"}, 413: {"too_large"}, 301: {"redirect"}, 307: {"redirect"}, 308: {"redirect"}}[w.Code]
							ok := false
							for _, wc := range want {
								ok = ok || wc == code
							}
							if !ok {
								t.Errorf("%s %s%s %s: status %d code %q", rt.Method, p, q, b, w.Code, code)
							}
						}
					}()
				}
			}
		}
	}
}
