package authz_test

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/scopegate/authz"
)

// deepMeta returns a meta object nested n levels deep.
func deepMeta(n int) map[string]any {
	m := map[string]any{"leaf": true}
	for range n - 1 {
		m = map[string]any{"x": m}
	}
	return m
}

// TestLimits checks each size limit: the write fails with ErrInvalid naming
// the field, and nothing is stored.
func TestLimits(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("a", authz.MaxTextLength+1)
	cases := []struct {
		name  string
		batch authz.Batch
		field string
	}{
		{"name too long", authz.Batch{ScopeTypes: []authz.ScopeTypeInput{{ID: "t", Name: long}}}, "name"},
		{"meta too deep", authz.Batch{Subjects: []authz.SubjectInput{{ID: "s", SubjectType: authz.SubjectUser, ExternalID: "s", Meta: deepMeta(authz.MaxMetaDepth + 1)}}}, "meta"},
		{"meta too large", authz.Batch{Subjects: []authz.SubjectInput{{ID: "s", SubjectType: authz.SubjectUser, ExternalID: "s",
			Meta: map[string]any{"blob": strings.Repeat("b", authz.MaxMetaBytes)}}}}, "meta"},
		{"too many actions", authz.Batch{ResourcePolicies: []authz.ResourcePolicyInput{{ScopeID: "acme", Name: "p", Effect: authz.EffectAllow,
			Target: authz.PolicyTarget{Kind: authz.TargetResource, ResourceID: "doc_acme"}, Actions: make([]string, authz.MaxListLength+1)}}}, "actions"},
		{"action too long", authz.Batch{ResourcePolicies: []authz.ResourcePolicyInput{{ScopeID: "acme", Name: "p", Effect: authz.EffectAllow,
			Target: authz.PolicyTarget{Kind: authz.TargetResource, ResourceID: "doc_acme"}, Actions: []string{long}}}}, "actions[0]"},
		{"condition too large", authz.Batch{Permissions: []authz.PermissionInput{{ScopeID: "acme", Action: "read", ResourceType: "document",
			Logic: json.RawMessage(`{"==":["` + strings.Repeat("c", authz.MaxRawJSONBytes) + `","x"]}`)}}}, "logic"},
		{"condition nested 10,000 deep", authz.Batch{Permissions: []authz.PermissionInput{{ScopeID: "acme", Action: "read", ResourceType: "document",
			Logic: json.RawMessage(strings.Repeat(`{"!":`, 10000) + "true" + strings.Repeat("}", 10000))}}}, "logic"},
		{"huge number in a condition", authz.Batch{Permissions: []authz.PermissionInput{{ScopeID: "acme", Action: "read", ResourceType: "document",
			Logic: json.RawMessage(`{"<":[{"var":"context.n"},1e400]}`)}}}, "logic"},
		{"match definition nested too deep", authz.Batch{Collections: []authz.CollectionInput{{ScopeID: "acme", ResourceTypeID: "rt_doc", Name: "c",
			MatchDefinition: json.RawMessage(strings.Repeat(`{"any":[`, 100) + "{}" + strings.Repeat("]}", 100))}}}, "matchDefinition"},
	}
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		evalModel(t, c)
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				rev := must(c.Revision(ctx))(t)
				_, err := c.Apply(ctx, tc.batch)
				wantErr(t, err, authz.ErrInvalid)
				var be *authz.BatchError
				if !errors.As(err, &be) || len(be.Items) == 0 || !strings.HasPrefix(be.Items[0].Field, tc.field) {
					t.Fatalf("got %v; want an item error on field %s", err, tc.field)
				}
				if got := must(c.Revision(ctx))(t); got != rev {
					t.Errorf("revision: got %d; want %d (nothing stored)", got, rev)
				}
			})
		}
		t.Run("update past a limit", func(t *testing.T) {
			long := strings.Repeat("d", authz.MaxTextLength+1)
			_, err := c.UpdateSubject(ctx, "alice", authz.SubjectPatch{DisplayName: &long})
			wantErr(t, err, authz.ErrInvalid)
			if !strings.Contains(err.Error(), "displayName") {
				t.Errorf("got %v; want it to name displayName", err)
			}
			if s := must(c.GetSubject(ctx, "alice"))(t); s.DisplayName == long {
				t.Error("the display name was stored")
			}
		})
	})
}

// TestHostileEvaluateInput sends values a JSON decoder never produces but a
// Go caller can: NaN, infinities, deep nesting. Evaluate must answer, not
// panic, and grant only where the condition (hour < 18) holds.
func TestHostileEvaluateInput(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		benchModel(t, c)
		deep := map[string]any{}
		for cur, i := deep, 0; i < 10000; i++ {
			next := map[string]any{}
			cur["x"] = next
			cur = next
		}
		for _, tc := range []struct {
			hour  any
			allow bool
		}{
			{math.NaN(), false}, {math.Inf(1), false}, {math.Inf(-1), true}, {deep, false}, {[]any{deep}, false}, {nil, false},
			{"9", true}, // JSON Logic compares like JavaScript: "9" < 18
		} {
			d, err := c.Evaluate(ctx, authz.EvaluateInput{Actor: authz.SubjectRef{SubjectID: "bob"}, ScopeID: "api", Action: "approve",
				Resource: &authz.ResourceRef{ResourceID: "doc_api"}, Context: map[string]any{"hour": tc.hour}})
			if err != nil {
				t.Fatalf("hour %T: %v", tc.hour, err)
			}
			if d.Allowed != tc.allow {
				t.Errorf("hour %T %.20v: got allowed=%v (%s); want %v", tc.hour, tc.hour, d.Allowed, d.Explanation, tc.allow)
			}
		}
	})
}
