package authz_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/scopegate/authz"
	"github.com/scopegate/authz/internal/authztest"
)

// TestImportRestoresConditionsReadingNothing: the write-time refusal of
// condition paths that read nothing is new, and conditions stored before
// it are kept ("not re-checked"); an export of such a store must import
// again, as an export keeps the edges a hierarchy check would now refuse.
// Each condition field of the model (permission logic, role permission,
// override, both policy conditions, a collection's match condition) gets a
// path of each refused class, one at a time; Apply still refuses it.
func TestImportRestoresConditionsReadingNothing(t *testing.T) {
	refused := []string{"user.x", "subject.department", "action.x", "scopeId.x", "subject.id.x", "resource.ownerId.x"}
	fields := []string{"permissions", "rolePermissions", "scopeOverrides", "policySubject", "policyContext", "collections"}
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		b := oneTenantBatch()
		cond := func(mark string) json.RawMessage {
			return json.RawMessage(fmt.Sprintf(`{"==":[{"var":"subject.meta.%s"},"x"]}`, mark))
		}
		b.ScopeTypes = append(b.ScopeTypes, authz.ScopeTypeInput{ID: "teamtype", Name: "Team"})
		b.ScopeTypeEdges = []authz.ScopeTypeEdgeInput{{ParentTypeID: "org", ChildTypeID: "teamtype"}}
		b.Scopes = append(b.Scopes, authz.ScopeInput{ID: "team", TypeID: "teamtype", ParentScopeID: "acme"})
		b.Resources = []authz.ResourceInput{{ID: "d", ResourceTypeID: "rt", ScopeID: "acme", ExternalResourceID: "d"}}
		b.Permissions = []authz.PermissionInput{{ID: "p", ScopeID: "acme", Action: "read", ResourceType: "doc", Logic: cond("permissions")}}
		b.RolePermissions = []authz.RolePermissionInput{{RoleID: "r", PermissionID: "p", Condition: cond("rolePermissions")}}
		b.ScopeOverrides = []authz.ScopeOverrideInput{{Kind: authz.OverrideRolePermission, ChildScopeID: "team", RoleID: "r", PermissionID: "p",
			State: authz.OverrideEnabled, Condition: cond("scopeOverrides")}}
		b.Collections = []authz.CollectionInput{{ID: "coll", ScopeID: "acme", ResourceTypeID: "rt", Name: "C",
			MatchDefinition: json.RawMessage(`{"condition":` + string(cond("collections")) + `}`)}}
		b.ResourcePolicies = []authz.ResourcePolicyInput{{ID: "pol", ScopeID: "acme", Name: "P", Target: authz.PolicyTarget{Kind: authz.TargetResource, ResourceID: "d"},
			Actions: []string{"read"}, Effect: authz.EffectAllow, SubjectCondition: cond("policySubject"), ContextCondition: cond("policyContext")}}
		must(c.Apply(ctx, b))(t)
		var buf bytes.Buffer
		must(c.Export(ctx, &buf, nil))(t)
		for _, field := range fields {
			for _, bad := range refused {
				old := strings.Replace(buf.String(), "subject.meta."+field, bad, 1)
				if old == buf.String() {
					t.Fatalf("the export has no subject.meta.%s", field)
				}
				fresh := authztest.NewClient(t, authztest.Memstore(t), nil)
				if _, err := fresh.Import(ctx, strings.NewReader(old), nil); err != nil {
					t.Errorf("%s with %q: got %v; want the export imported", field, bad, err)
					continue
				}
				var again bytes.Buffer
				must(fresh.Export(ctx, &again, nil))(t)
				if !strings.Contains(again.String(), `"`+bad+`"`) {
					t.Errorf("%s with %q: the import does not hold the condition", field, bad)
				}
			}
		}
		// A write still refuses them.
		b2 := authz.Batch{Permissions: []authz.PermissionInput{{ID: "p2", ScopeID: "acme", Action: "read", ResourceType: "doc",
			Logic: json.RawMessage(`{"==":[{"var":"user.x"},"x"]}`)}}}
		if _, err := c.Apply(ctx, b2); !errors.Is(err, authz.ErrInvalid) {
			t.Errorf("Apply of a path that reads nothing: got %v; want ErrInvalid", err)
		}
	})
}
