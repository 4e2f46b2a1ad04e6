package authz_test

import (
	"testing"

	"github.com/scopegate/authz"
)

// TestDecisionCacheFollowsWrites asks the same cacheable question around
// writes that change its answer: the cache must never answer with the
// decision of an earlier revision.
func TestDecisionCacheFollowsWrites(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		evalModel(t, c)
		in := authz.EvaluateInput{Actor: authz.SubjectRef{SubjectID: "alice"}, ScopeID: "api", Action: "read", Resource: &authz.ResourceRef{ResourceID: "doc_api"}}
		ask := func(want bool) {
			t.Helper()
			for range 3 { // the second and third answers come from the cache
				if d := must(c.Evaluate(ctx, in))(t); d.Allowed != want {
					t.Fatalf("got allowed=%v (%s); want %v", d.Allowed, d.Explanation, want)
				}
			}
		}
		ask(false)
		m := must(c.CreateMembership(ctx, authz.MembershipInput{SubjectID: "alice", ScopeID: "acme", RoleIDs: []string{"viewer"}}))(t)
		ask(true)
		ov := must(c.CreateScopeOverride(ctx, authz.ScopeOverrideInput{ChildScopeID: "api", Kind: authz.OverrideRole, RoleID: "viewer", State: authz.OverrideDisabled}))(t)
		ask(false)
		if err := c.DeleteScopeOverride(ctx, ov.ID); err != nil {
			t.Fatal(err)
		}
		ask(true)
		if err := c.DeleteMembership(ctx, m.ID); err != nil {
			t.Fatal(err)
		}
		ask(false)
	})
}
