package httpapi

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestAttackListsPageExactly walks every list route of the table (so a new
// route is covered) with every limit from 1 to one past its length, following
// next, and requires the pages to make exactly the unpaged answer: no item
// lost or repeated, full pages before the last, no next on the last.
func TestAttackListsPageExactly(t *testing.T) {
	c := routesClient(t)
	h := NewHandler(c, token, "subject_admin", DefaultLimits())
	mux := newRouter(c, DefaultLimits())
	cands := map[string][]string{
		"id":      {"scope_org", "resource_lib_auth", "resource_lib_a", "resource_lib_b", "collection_archived", "collection_finance_docs", "scope_env_production"},
		"scopeId": {"scope_org", "scope_env_production", "scope_project_a"},
	}
	param := regexp.MustCompile(`\{([A-Za-z]+)\}`)
	for _, rt := range mux.table {
		if rt.Method != "GET" || !strings.HasPrefix(rt.response.Name(), "listPage") {
			continue
		}
		paths := []string{rt.Path}
		for _, m := range param.FindAllStringSubmatch(rt.Path, -1) {
			var np []string
			for _, p := range paths {
				for _, v := range cands[m[1]] {
					np = append(np, strings.Replace(p, m[0], v, 1))
				}
			}
			paths = np
		}
		for _, p := range paths {
			for _, extra := range []string{"", "cascadeOnly=true"} {
				if extra != "" && !strings.HasPrefix(p, "/resources/") {
					continue
				}
				q := "?" + extra
				st, body := call(t, h, "GET", p+q, "")
				if st != 200 {
					continue
				}
				full, next := ids(body)
				if next != nil {
					t.Errorf("%s: full page has next %v", p, next)
				}
				for limit := 1; limit <= len(full)+1; limit++ {
					var got = []string{}
					after := ""
					for n := 0; n < 100; n++ {
						u := fmt.Sprintf("%s?limit=%d", p, limit)
						if extra != "" {
							u += "&" + extra
						}
						if after != "" {
							u += "&after=" + url.QueryEscape(after)
						}
						st, body := call(t, h, "GET", u, "")
						if st != 200 {
							t.Errorf("%s: %d %v", u, st, body)
							break
						}
						page, nx := ids(body)
						got = append(got, page...)
						if nx == nil {
							break
						}
						after = nx.(string)
						if len(page) != limit {
							t.Errorf("%s: page of %d with next", u, len(page))
						}
					}
					if d := cmp.Diff(full, got); d != "" {
						t.Errorf("%s limit %d: (-full +paged)\n%s", p+q, limit, d)
					}
				}
			}
		}
	}
}
