package authz_test

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/scopegate/authz"
)

// idToken splits a text into the words an id can be.
var idToken = regexp.MustCompile(`[A-Za-z0-9_.:@|-]+`)

// TestCrossTenantDenialNamesNothingOfTheOtherTenant: a request made in one
// tenant that names (by id) a resource of another tenant, not linked into
// the first, is denied; its explanation and trace name nothing of the
// resource's tenant but the resource the request gave — not its owning
// scope, not its tenant, nor any other object there — and do not change
// when the resource moves within its tenant. Every request scope outside
// tenant acme (globex's and the platform above both), every resource of
// acme, several actions, every backend.
func TestCrossTenantDenialNamesNothingOfTheOtherTenant(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		evalModel(t, c)
		grant(t, c, "mallory", "globex", "g_viewer")
		grant(t, c, "mallory", "platform", "operator")
		acme := []string{"acme", "eng", "backend", "api", "sales", "rt_doc", "rt_folder", "p_read", "p_write", "p_delete_owned",
			"p_read_reports", "p_folder_read", "viewer", "editor", "owner_editor", "reporter"}
		resources := []string{"doc_acme", "doc_api", "doc_sales"}
		answers := func(res string) []string {
			var out []string
			for _, scope := range []string{"platform", "globex", "g_eng"} {
				for _, action := range []string{"read", "write", "delete", "wirte"} {
					d := ask(t, c, "mallory", scope, action, res)
					if d.Allowed {
						t.Fatalf("%s %s from %s: allowed; want denied", action, res, scope)
					}
					text := d.Explanation + "\n" + strings.Join(d.Trace, "\n")
					for _, tok := range idToken.FindAllString(text, -1) {
						if slices.Contains(acme, tok) {
							t.Errorf("%s %s from %s names %q of tenant acme:\n%s", action, res, scope, tok, text)
						}
					}
					out = append(out, text)
				}
			}
			return out
		}
		for _, res := range resources {
			before := answers(res)
			for _, to := range []string{"acme", "eng", "backend", "api", "sales"} {
				must(c.UpdateResource(ctx, res, authz.ResourcePatch{ScopeID: &to}))(t)
				if after := answers(res); !slices.Equal(before, after) {
					t.Errorf("%s moved to %s within acme: the answers in other tenants changed:\n%s\n--- to ---\n%s", res, to,
						strings.Join(before, "\n"), strings.Join(after, "\n"))
				}
			}
		}
	})
}
