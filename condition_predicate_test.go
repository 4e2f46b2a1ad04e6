package authz_test

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/scopegate/authz"
)

// tagOverlap is the tag-based-access rule of the issue: the subject shares
// a department with the resource.
const tagOverlap = `{"some":[{"var":"resource.tags.departments"},{"in":[{"var":""},{"var":"subject.tags.departments"}]}]}`

// TestTagOverlapCondition checks the tag-overlap rule end to end: inside
// the predicate, {"var":""} is the resource's department and
// subject.tags.departments, which the element (a string) does not have, is
// read from the condition data. Evaluate allows exactly the pairs that
// share a department, and both lookups list exactly what Evaluate allows.
func TestTagOverlapCondition(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		evalModel(t, c)
		subjectTags := map[string][]string{"alice": {"tag_eng", "tag_fin"}, "bob": {"tag_ops"}, "mallory": {"tag_eng"}}
		resourceTags := map[string][]string{"doc_acme": {"tag_fin"}, "doc_api": {"tag_eng", "tag_ops"}}
		bt := authz.Batch{
			TagGroups: []authz.TagGroupInput{{ID: "tg_dept", ScopeID: "acme", Key: "departments", Name: "Departments",
				Tags: []authz.InlineTagInput{{ID: "tag_eng", Identifier: "engineering", Label: "Engineering"},
					{ID: "tag_fin", Identifier: "finance", Label: "Finance"}, {ID: "tag_ops", Identifier: "ops", Label: "Ops"}}}},
			TagBindings: []authz.TagBindingInput{{TagGroupID: "tg_dept", ModelType: authz.ModelSubject}, {TagGroupID: "tg_dept", ModelType: authz.ModelResource}},
			Permissions: []authz.PermissionInput{{ID: "p_shared", ScopeID: "acme", Action: "read_shared", ResourceType: "document",
				Logic: json.RawMessage(tagOverlap)}},
			Roles:           []authz.RoleInput{{ID: "dept_reader", ScopeID: "acme", Name: "Department reader"}},
			RolePermissions: []authz.RolePermissionInput{{RoleID: "dept_reader", PermissionID: "p_shared"}},
		}
		for s, tags := range subjectTags {
			for _, tag := range tags {
				bt.TagAssignments = append(bt.TagAssignments, authz.TagAssignmentInput{TagID: tag, TargetType: authz.ModelSubject, TargetID: s, ScopeID: "acme"})
			}
		}
		for r, tags := range resourceTags {
			for _, tag := range tags {
				bt.TagAssignments = append(bt.TagAssignments, authz.TagAssignmentInput{TagID: tag, TargetType: authz.ModelResource, TargetID: r, ScopeID: "acme"})
			}
		}
		must(c.Apply(ctx, bt))(t)
		subjects := []string{"alice", "bob", "carol", "mallory"}
		for _, s := range subjects {
			grant(t, c, s, "acme", "dept_reader")
		}
		resources := []string{"doc_acme", "doc_api", "doc_sales"}
		shares := func(s, r string) bool {
			for _, tag := range subjectTags[s] {
				if slices.Contains(resourceTags[r], tag) {
					return true
				}
			}
			return false
		}
		allowedPairs := 0
		for _, s := range subjects {
			for _, r := range resources {
				d := ask(t, c, s, "acme", "read_shared", r)
				if shares(s, r) {
					allowedPairs++
					want(t, d, true, authz.DecidedByRole)
				} else {
					want(t, d, false, authz.DecidedByDefault)
				}
			}
		}
		if allowedPairs == 0 || allowedPairs == len(subjects)*len(resources) {
			t.Fatalf("%d of %d pairs share a department; want some but not all", allowedPairs, len(subjects)*len(resources))
		}
		for _, r := range resources {
			page := must(c.ListAllowedSubjects(ctx, authz.LookupSubjectsInput{ScopeID: "acme", Action: "read_shared", Resource: authz.ResourceRef{ResourceID: r}}))(t)
			var got, wantIDs []string
			for _, s := range page.Subjects {
				got = append(got, s.SubjectID)
			}
			for _, s := range subjects {
				if shares(s, r) {
					wantIDs = append(wantIDs, s)
				}
			}
			slices.Sort(got)
			if d := cmp.Diff(wantIDs, got); d != "" {
				t.Errorf("ListAllowedSubjects(%s) (-want +got):\n%s", r, d)
			}
		}
		for _, s := range subjects {
			page := must(c.ListAllowedResources(ctx, authz.LookupResourcesInput{Actor: authz.SubjectRef{SubjectID: s}, ScopeID: "acme",
				Action: "read_shared", ResourceType: "document"}))(t)
			var got, wantIDs []string
			for _, r := range page.Resources {
				got = append(got, r.ResourceID)
			}
			for _, r := range resources {
				if shares(s, r) {
					wantIDs = append(wantIDs, r)
				}
			}
			slices.Sort(got)
			if d := cmp.Diff(wantIDs, got); d != "" {
				t.Errorf("ListAllowedResources(%s) (-want +got):\n%s", s, d)
			}
		}
	})
}

// TestPredicateElementShadowsConditionData checks the order of resolution
// through Evaluate: inside a predicate a field the element has shadows the
// condition data's field of the same path, and one it lacks (or holds
// null) is read from the condition data.
func TestPredicateElementShadowsConditionData(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		evalModel(t, c)
		// A delegate entry names who may act, or (without a subject) lets
		// the requesting subject through when the owner is named.
		logic := `{"some":[{"var":"resource.meta.delegates"},{"==":[{"var":"subject.id"},{"var":"resource.ownerId"}]}]}`
		must(c.Apply(ctx, authz.Batch{
			Permissions:     []authz.PermissionInput{{ID: "p_delegate", ScopeID: "acme", Action: "act", ResourceType: "document", Logic: json.RawMessage(logic)}},
			Roles:           []authz.RoleInput{{ID: "actor", ScopeID: "acme", Name: "Actor"}},
			RolePermissions: []authz.RolePermissionInput{{RoleID: "actor", PermissionID: "p_delegate"}},
			Resources: []authz.ResourceInput{
				// The element's subject.id (bob) shadows the requester's;
				// it equals the element-less ownerId (bob): anyone passes.
				{ID: "d_any", ExternalResourceID: "d_any", ResourceTypeID: "rt_doc", ScopeID: "acme", OwnerID: "bob", Meta: map[string]any{"delegates": []any{map[string]any{"subject": map[string]any{"id": "bob"}}}}},
				// Nothing in the element: the requester must be the owner.
				{ID: "d_owner", ExternalResourceID: "d_owner", ResourceTypeID: "rt_doc", ScopeID: "acme", OwnerID: "bob", Meta: map[string]any{"delegates": []any{map[string]any{"note": "x"}}}},
				// The element names another owner: requester carol passes.
				{ID: "d_carol", ExternalResourceID: "d_carol", ResourceTypeID: "rt_doc", ScopeID: "acme", OwnerID: "bob", Meta: map[string]any{"delegates": []any{map[string]any{"resource": map[string]any{"ownerId": "carol"}}}}},
				// A null field does not shadow.
				{ID: "d_null", ExternalResourceID: "d_null", ResourceTypeID: "rt_doc", ScopeID: "acme", OwnerID: "bob", Meta: map[string]any{"delegates": []any{map[string]any{"subject": map[string]any{"id": nil}}}}},
			},
		}))(t)
		for _, s := range []string{"alice", "bob", "carol"} {
			grant(t, c, s, "acme", "actor")
		}
		for _, tt := range []struct {
			subject, resource string
			allowed           bool
		}{
			{"alice", "d_any", true}, {"carol", "d_any", true},
			{"alice", "d_owner", false}, {"bob", "d_owner", true},
			{"carol", "d_carol", true}, {"bob", "d_carol", false},
			{"alice", "d_null", false}, {"bob", "d_null", true},
		} {
			d := ask(t, c, tt.subject, "acme", "act", tt.resource)
			if d.Allowed != tt.allowed {
				t.Errorf("%s act on %s: got allowed=%v (%s); want %v", tt.subject, tt.resource, d.Allowed, d.Explanation, tt.allowed)
			}
		}
	})
}

// TestConditionPathRefusedOnWrite checks the refusal of a path that reads
// nothing on every write of a condition, creates and updates alike: the
// error wraps ErrInvalid, names the field and the path, and nothing is
// stored.
func TestConditionPathRefusedOnWrite(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		evalModel(t, c)
		bad := json.RawMessage(`{"==":[{"var":"subjet.meta.dept"},"eng"]}`)
		good := json.RawMessage(`{"==":[{"var":"subject.meta.dept"},"eng"]}`)
		const path = `var path "subjet.meta.dept" at ==[0] reads nothing`
		check := func(what string, err error, field string) {
			t.Helper()
			var be *authz.BatchError
			switch {
			case !errors.Is(err, authz.ErrInvalid) || !strings.Contains(err.Error(), path):
				t.Errorf("%s: got %v; want ErrInvalid naming %q", what, err, path)
			case errors.As(err, &be) && (len(be.Items) != 1 || be.Items[0].Field != field):
				t.Errorf("%s: items %+v; want one, at field %s", what, be.Items, field)
			case !errors.As(err, &be) && !strings.Contains(err.Error(), field+": "):
				t.Errorf("%s: got %v; want the field %s named", what, err, field)
			}
		}
		_, err := c.CreatePermission(ctx, authz.PermissionInput{ID: "p_bad", ScopeID: "acme", Action: "read", ResourceType: "folder", Logic: bad})
		check("permission logic", err, "logic")
		_, err = c.CreateRolePermission(ctx, authz.RolePermissionInput{RoleID: "viewer", PermissionID: "p_write", Condition: bad})
		check("role-permission condition", err, "condition")
		_, err = c.CreateScopeOverride(ctx, authz.ScopeOverrideInput{Kind: authz.OverrideRolePermission, ChildScopeID: "eng", RoleID: "viewer", PermissionID: "p_read",
			State: authz.OverrideEnabled, Condition: bad})
		check("override condition", err, "condition")
		_, err = c.CreateResourcePolicy(ctx, authz.ResourcePolicyInput{ScopeID: "acme", Name: "x", Target: authz.PolicyTarget{Kind: authz.TargetResource, ResourceID: "doc_acme"},
			Actions: []string{"read"}, Effect: authz.EffectAllow, ContextCondition: bad})
		check("policy contextCondition", err, "contextCondition")
		_, err = c.CreateCollection(ctx, authz.CollectionInput{ScopeID: "acme", ResourceTypeID: "rt_doc", Name: "x",
			MatchDefinition: json.RawMessage(`{"all":[{"condition":` + string(bad) + `}]}`)})
		check("collection matchDefinition", err, "matchDefinition")
		pol := must(c.CreateResourcePolicy(ctx, authz.ResourcePolicyInput{ScopeID: "acme", Name: "ok", Target: authz.PolicyTarget{Kind: authz.TargetResource, ResourceID: "doc_acme"},
			Actions: []string{"read"}, Effect: authz.EffectAllow, SubjectCondition: good}))(t)
		_, err = c.UpdateResourcePolicy(ctx, pol.ID, authz.ResourcePolicyPatch{SubjectCondition: &bad})
		check("policy subjectCondition update", err, "subjectCondition")
		if got := must(c.GetResourcePolicy(ctx, pol.ID))(t); !sameJSON(string(good), got.SubjectCondition) {
			t.Errorf("after a refused update: subjectCondition %s; want %s", got.SubjectCondition, good)
		}
		if _, err := c.GetPermission(ctx, "p_bad"); !errors.Is(err, authz.ErrNotFound) {
			t.Errorf("the refused permission: got %v; want ErrNotFound", err)
		}
	})
}
