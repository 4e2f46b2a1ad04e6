package authz_test

import (
	"math/rand/v2"
	"testing"

	"github.com/scopegate/authz"
)

// TestListEffectivePermissions checks the listing against Evaluate on the
// random models of the oracle: for every subject, scope, action and type
// key, a type-level request is allowed when the listing has an
// unconditional "*" grant for them, and only when it has some "*" grant.
func TestListEffectivePermissions(t *testing.T) {
	checked := 0
	for m := range 80 {
		r := rand.New(rand.NewPCG(uint64(m), 777))
		c := must(authz.New(backends[m%2].open(t), testOptions()))
		bt := applyPruned(t, c, randomModel(r))
		for _, sub := range bt.Subjects {
			for _, sc := range bt.Scopes {
				eps := must(c.ListEffectivePermissions(ctx, sub.ID, sc.ID))
				for _, action := range []string{"read", "write", "list"} {
					for _, key := range []string{"doc", "folder"} {
						var some, unconditional bool
						for _, ep := range eps {
							p := ep.Permission
							if p.Action == action && p.ResourceType == key && p.ResourcePattern == "*" {
								some = true
								unconditional = unconditional || ep.Unconditional()
							}
						}
						d := must(c.Evaluate(ctx, authz.EvaluateInput{Actor: authz.SubjectRef{SubjectID: sub.ID}, ScopeID: sc.ID, Action: action,
							Resource: &authz.ResourceRef{ResourceType: key}}))
						if unconditional && !d.Allowed || d.Allowed && !some {
							t.Fatalf("model %d: %s in %s, %s on %s: listing has a grant: %v (unconditional: %v); Evaluate says allowed=%v (%s)\nlisting: %+v",
								m, sub.ID, sc.ID, action, key, some, unconditional, d.Allowed, d.Explanation, eps)
						}
						checked++
					}
				}
			}
		}
	}
	t.Logf("%d (subject, scope, action, type) compared with Evaluate", checked)
}

func TestListEffectivePermissionsErrors(t *testing.T) {
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		evalModel(t, c)
		_, err := c.ListEffectivePermissions(ctx, "nobody", "acme")
		wantErr(t, err, authz.ErrNotFound)
		_, err = c.ListEffectivePermissions(ctx, "alice", "nowhere")
		wantErr(t, err, authz.ErrNotFound)
		grant(t, c, "alice", "acme", "viewer", "editor")
		must(c.CreateScopeOverride(ctx, authz.ScopeOverrideInput{ChildScopeID: "api", Kind: authz.OverrideRole, RoleID: "editor", State: authz.OverrideDisabled}))
		var got []string
		for _, ep := range must(c.ListEffectivePermissions(ctx, "alice", "api")) {
			for _, g := range ep.Grants {
				got = append(got, ep.Permission.ID+" via "+g.RoleID)
			}
		}
		want := []string{"p_folder_read via viewer", "p_read via viewer"}
		if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
			t.Errorf("alice in api, editor disabled there: got %v; want %v", got, want)
		}
	})
}
