package authz

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/scopegate/authz/boltstore"
	"github.com/scopegate/authz/memstore"
	"github.com/scopegate/authz/storage"
)

// TestPolicyOfABorrowerStoredEarlier: a direct policy that another tenant
// attached to a shared resource (possible before the rule existed, so it is
// written here straight into the store) is a borrower's policy: it decides
// only when no policy of the owner applies, and it cannot be updated.
func TestPolicyOfABorrowerStoredEarlier(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	opens := map[string]func(t *testing.T) storage.Storage{
		"memstore": func(*testing.T) storage.Storage { return memstore.New() },
		"boltstore": func(t *testing.T) storage.Storage {
			s, err := boltstore.Open(filepath.Join(t.TempDir(), "authz.bolt"), &boltstore.Options{NoSync: true})
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
	}
	for name, open := range opens {
		t.Run(name, func(t *testing.T) {
			store := open(t)
			defer store.Close()
			c, err := New(store, &Options{Now: func() time.Time { return time.Unix(0, 0) }})
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Apply(ctx, Batch{
				ScopeTypes:         []ScopeTypeInput{{ID: "org", Name: "Org", Config: ScopeTypeConfig{PermissionMode: PermissionModeDefine}}},
				Scopes:             []ScopeInput{{ID: "A", TypeID: "org"}, {ID: "B", TypeID: "org"}},
				Subjects:           []SubjectInput{{ID: "bob", SubjectType: SubjectUser, ExternalID: "bob"}},
				ResourceTypes:      []ResourceTypeInput{{ID: "a_doc", ScopeID: "A", Key: "doc", Name: "Doc"}},
				Resources:          []ResourceInput{{ID: "plan", ResourceTypeID: "a_doc", ScopeID: "A", ExternalResourceID: "plan"}},
				ResourceScopeLinks: []ResourceScopeLinkInput{{ResourceID: "plan", ScopeID: "B", LinkType: LinkShare}},
			})
			if err != nil {
				t.Fatal(err)
			}
			old := &ResourcePolicy{ID: "b_allow", ScopeID: "B", Name: "B reads", Target: PolicyTarget{Kind: TargetResource, ResourceID: "plan"},
				Actions: []string{"read"}, Effect: EffectAllow, Priority: 9}
			if _, err := c.write(ctx, "test", func(tx *writeTx) error { return putRecord(tx, old, nil) }); err != nil {
				t.Fatal(err)
			}
			read := func() Decision {
				d, err := c.Evaluate(ctx, EvaluateInput{Actor: SubjectRef{SubjectID: "bob"}, ScopeID: "B", Action: "read", Resource: &ResourceRef{ResourceID: "plan"}})
				if err != nil {
					t.Fatal(err)
				}
				return d
			}
			if d := read(); !d.Allowed || d.PolicyID != "b_allow" {
				t.Errorf("bob reads plan in B, only B's old policy: got allowed=%v by %s %s; want allowed by b_allow", d.Allowed, d.DecidedBy, d.PolicyID)
			}
			if _, err := c.CreateResourcePolicy(ctx, ResourcePolicyInput{ID: "a_deny", ScopeID: "A", Name: "no", Effect: EffectDeny, Actions: []string{"*"},
				Target: PolicyTarget{Kind: TargetResource, ResourceID: "plan"}}); err != nil {
				t.Fatal(err)
			}
			if d := read(); d.Allowed || d.PolicyID != "a_deny" {
				t.Errorf("bob reads plan in B with A's deny: got allowed=%v by %s %s; want denied by a_deny", d.Allowed, d.DecidedBy, d.PolicyID)
			}
			name := "renamed"
			if _, err := c.UpdateResourcePolicy(ctx, "b_allow", ResourcePolicyPatch{Name: &name}); !errors.Is(err, ErrNotAllowed) {
				t.Errorf("update B's policy on A's resource: got %v; want ErrNotAllowed", err)
			}
			if _, err := c.UpdateResourcePolicy(ctx, "a_deny", ResourcePolicyPatch{Name: &name}); err != nil {
				t.Errorf("update A's own policy: got %v; want success", err)
			}
		})
	}
}
