package httpapi

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/scopegate/authz"
)

// TestAttackEveryWriteRouteRecordsItsTokensActor: each route that writes —
// create, batch create, POST /batch, PATCH (an ownership transfer too),
// PUT of an override by id and by natural keys (create and update), DELETE
// by id and by natural keys — done with one of several tokens, is recorded
// in the audit feed with that token's actor and no other, and what it
// creates carries that actor as createdBy.
func TestAttackEveryWriteRouteRecordsItsTokensActor(t *testing.T) {
	c := routesClient(t)
	tokens := map[string]string{"tok-jane": "subject_jane", "tok-bob": "subject_bob", "tok-sys": ""}
	h := NewHandlerWith(c, Config{Tokens: tokens, Limits: DefaultLimits()})
	writes := []struct{ method, path, body string }{
		{"POST", "/roles", `{"id":"role_x","scopeId":"scope_org","name":"X"}`},
		{"POST", "/roles/batch", `[{"id":"role_y","scopeId":"scope_org","name":"Y"}]`},
		{"POST", "/batch", `{"roles":[{"id":"role_z","scopeId":"scope_org","name":"Z"}],"resources":[{"id":"res_z","resourceTypeId":"rt_lib","scopeId":"scope_org","externalResourceId":"z"}]}`},
		{"PATCH", "/roles/role_x", `{"name":"X2"}`},
		{"PATCH", "/resources/res_z", `{"ownerId":"subject_alice"}`},
		{"PUT", "/scope-overrides/roles/scope_project_a/role_reader", `{"state":"disabled"}`},
		{"PUT", "/scope-overrides/roles/scope_project_a/role_reader", `{"state":"enabled"}`},
		{"PUT", "/scope-overrides/role-permissions/scope_project_a/role_reader/perm_read_lib", `{"state":"disabled","condition":{"==":[{"var":"context.x"},ROUND]}}`},
		{"DELETE", "/scope-overrides/roles/scope_project_a/role_reader", ``},
		{"DELETE", "/roles/role_y", ``},
	}
	i := 0
	for _, tok := range []string{"tok-jane", "tok-bob", "tok-sys"} {
		actor := tokens[tok]
		if actor == "" {
			actor = authz.SystemActor
		}
		for _, wr := range writes {
			i++
			// Each round writes its own objects.
			body := strings.NewReplacer("role_x", fmt.Sprint("role_x", i), "role_y", fmt.Sprint("role_y", i), "role_z", fmt.Sprint("role_z", i),
				"res_z", fmt.Sprint("res_z", i), `"z"}`, fmt.Sprintf(`"z%d"}`, i), "ROUND", fmt.Sprint(i)).Replace(wr.body)
			path := strings.NewReplacer("role_x", fmt.Sprint("role_x", i-3), "role_y", fmt.Sprint("role_y", i-8), "res_z", fmt.Sprint("res_z", i-2)).Replace(wr.path)
			before, err := c.Changes(context.Background(), authz.ChangesInput{Limit: 1000})
			if err != nil {
				t.Fatal(err)
			}
			r := httptest.NewRequest(wr.method, path, strings.NewReader(body))
			r.Header.Set("Authorization", "Bearer "+tok)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code >= 300 {
				t.Fatalf("%s %s %s with %s: got %d %s", wr.method, path, body, tok, w.Code, w.Body)
			}
			if strings.Contains(w.Body.String(), `"createdBy"`) && !strings.Contains(w.Body.String(), `"createdBy": "`+actor+`"`) &&
				wr.method != "PATCH" && !(wr.method == "PUT" && w.Code == 200) {
				t.Errorf("%s %s with %s: createdBy is not %s: %s", wr.method, path, tok, actor, w.Body)
			}
			after, err := c.Changes(context.Background(), authz.ChangesInput{After: before.Next, Limit: 1000})
			if err != nil {
				t.Fatal(err)
			}
			if len(after.Changes) == 0 {
				t.Errorf("%s %s with %s: no change recorded", wr.method, path, tok)
			}
			for _, ch := range after.Changes {
				if ch.Actor != actor {
					t.Errorf("%s %s with %s: change %s %s %s by %q; want %q", wr.method, path, tok, ch.Action, ch.Kind, ch.ID, ch.Actor, actor)
				}
			}
		}
	}
}
