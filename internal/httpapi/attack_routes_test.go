package httpapi

import (
	"context"
	"net/url"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/scopegate/authz"
)

// queryValues returns two different valid values of a query parameter of
// type t.
func queryValues(t reflect.Type) [2]string {
	switch t.Kind() {
	case reflect.Int, reflect.Int64, reflect.Uint64:
		return [2]string{"1", "2"}
	case reflect.Bool:
		return [2]string{"true", "false"}
	}
	return [2]string{"scope_org", "scope_acme"}
}

// TestAttackQueryParametersStrict: on every GET route that takes query
// parameters (the route table's, so a new route is covered), a parameter
// the route does not have is refused, and so is a parameter that is not a
// list given twice (which the route would read one of silently: a proxy
// and the server could then see different requests). Lists may repeat.
func TestAttackQueryParametersStrict(t *testing.T) {
	c := routesClient(t)
	h := NewHandler(c, token, "subject_admin", DefaultLimits())
	param := regexp.MustCompile(`\{[A-Za-z]+\}`)
	checked := 0
	for _, rt := range newRouter(c, DefaultLimits()).table {
		if rt.Method != "GET" || rt.query == nil {
			continue
		}
		path := param.ReplaceAllString(rt.Path, "scope_org")
		if strings.HasPrefix(path, "/resources/") || strings.HasPrefix(path, "/resource-policies/for-resource/") {
			path = param.ReplaceAllString(rt.Path, "resource_lib_a")
		}
		if strings.HasPrefix(path, "/resource-collections/") || strings.HasPrefix(path, "/resource-policies/for-collection/") {
			path = param.ReplaceAllString(rt.Path, "collection_archived")
		}
		if strings.HasPrefix(path, "/subjects/") && strings.HasSuffix(path, "/permissions") {
			path = param.ReplaceAllString(rt.Path, "subject_jane")
		}
		if status, body := call(t, h, "GET", path+"?bogusParam=1", ""); status != 400 || errCode(body) != "invalid_argument" {
			t.Errorf("GET %s?bogusParam=1: got %d %v; want 400 invalid_argument", path, status, body)
		}
		for name, ft := range queryFields(rt.query) {
			if ft.Kind() == reflect.Slice {
				continue
			}
			v := queryValues(ft)
			q := url.Values{name: {v[0], v[1]}}
			status, body := call(t, h, "GET", path+"?"+q.Encode(), "")
			if status != 400 || errCode(body) != "invalid_argument" || !strings.Contains(body.(map[string]any)["error"].(map[string]any)["message"].(string), name) {
				t.Errorf("GET %s?%s: got %d %v; want 400 invalid_argument naming %s", path, q.Encode(), status, body, name)
			}
			checked++
		}
	}
	if checked < 20 {
		t.Fatalf("checked %d repeated parameters; want the routes' (at least 20)", checked)
	}
	// A list parameter may repeat.
	if status, body := call(t, h, "GET", "/scopes?ids=scope_org&ids=scope_acme", ""); status != 200 {
		t.Errorf("GET /scopes?ids=…&ids=…: got %d %v; want 200", status, body)
	} else if got, _ := ids(body); strings.Join(got, ",") != "scope_acme,scope_org" {
		t.Errorf("GET /scopes?ids=…&ids=…: got %v; want both", got)
	}
}

// TestAttackSubjectNamedLikeARoute: "by-external" is a valid subject id,
// and GET /subjects/by-external (the route of that name) must still read
// that subject when it is asked without the route's query, rather than
// leave the subject readable by no route; with the query it looks up by
// external id as before.
func TestAttackSubjectNamedLikeARoute(t *testing.T) {
	c := routesClient(t)
	if _, err := c.CreateSubjects(context.Background(), []authz.SubjectInput{{ID: "by-external", SubjectType: "user", ExternalID: "be"}}); err != nil {
		t.Fatal(err)
	}
	h := NewHandler(c, token, "subject_admin", DefaultLimits())
	status, body := call(t, h, "GET", "/subjects/by-external", "")
	if m, _ := body.(map[string]any); status != 200 || m["id"] != "by-external" {
		t.Errorf("GET /subjects/by-external: got %d %v; want 200 the subject by-external", status, body)
	}
	status, body = call(t, h, "GET", "/subjects/by-external?type=user&externalId=jane", "")
	if m, _ := body.(map[string]any); status != 200 || m["id"] != "subject_jane" {
		t.Errorf("GET /subjects/by-external?type=user&externalId=jane: got %d %v; want 200 subject_jane", status, body)
	}
	for _, path := range []string{"/subjects/by-external?type=user", "/subjects/by-external?externalId=jane"} {
		if status, body := call(t, h, "GET", path, ""); status != 400 || errCode(body) != "invalid_argument" {
			t.Errorf("GET %s: got %d %v; want 400 invalid_argument", path, status, body)
		}
	}
	// Without such a subject, the route says what it needs.
	h = NewHandler(routesClient(t), token, "subject_admin", DefaultLimits())
	if status, body := call(t, h, "GET", "/subjects/by-external", ""); status != 400 || errCode(body) != "invalid_argument" {
		t.Errorf("GET /subjects/by-external without such a subject: got %d %v; want 400 invalid_argument", status, body)
	}
}
