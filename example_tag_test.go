package authz_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/scopegate/authz"
)

// Tags label subjects and resources, and conditions read them. A tag group
// holds the tags (here one department per person and per document:
// MaxAppliedPerTarget 1); a binding says what the group's tags may label;
// an assignment puts a tag on one object, in a scope
// (docs/model.md#tags-tag-groups-and-bindings). Members read the documents of
// their own department.
func ExampleTagAssignment() {
	ctx := context.Background()
	m := saasModel()
	one, docType := 1, "rt_doc"
	m.TagGroups = []authz.TagGroupInput{{
		ID: "tg_dept", ScopeID: "acme", Key: "departments", Name: "Department", MaxAppliedPerTarget: &one,
		Tags: []authz.InlineTagInput{
			{ID: "dept_eng", Identifier: "eng", Label: "Engineering"},
			{ID: "dept_sales", Identifier: "sales", Label: "Sales"},
		},
	}}
	m.TagBindings = []authz.TagBindingInput{
		{TagGroupID: "tg_dept", ModelType: authz.ModelSubject},                         // every subject
		{TagGroupID: "tg_dept", ModelType: authz.ModelResourceType, ModelID: &docType}, // every document
	}
	m.Resources = []authz.ResourceInput{
		{ID: "doc_spec", ResourceTypeID: "rt_doc", ScopeID: "acme_api", ExternalResourceID: "spec"},
		{ID: "doc_pitch", ResourceTypeID: "rt_doc", ScopeID: "acme_api", ExternalResourceID: "pitch"},
	}
	m.TagAssignments = []authz.TagAssignmentInput{
		{TagID: "dept_eng", TargetType: authz.ModelSubject, TargetID: "alice", ScopeID: "acme"},
		{TagID: "dept_sales", TargetType: authz.ModelSubject, TargetID: "bob", ScopeID: "acme"},
		{TagID: "dept_eng", TargetType: authz.ModelResource, TargetID: "doc_spec", ScopeID: "acme"},
		{TagID: "dept_sales", TargetType: authz.ModelResource, TargetID: "doc_pitch", ScopeID: "acme"},
	}
	m.Roles = append(m.Roles, authz.RoleInput{ID: "member", ScopeID: "acme", Name: "Member"})
	m.RolePermissions = append(m.RolePermissions, authz.RolePermissionInput{
		ID: "rp_member_read", RoleID: "member", PermissionID: "doc_read",
		Condition: json.RawMessage(`{"==":[{"var":"subject.tags.departments.0"},{"var":"resource.tags.departments.0"}]}`),
	})
	m.Memberships = []authz.MembershipInput{
		{SubjectID: "alice", ScopeID: "acme", RoleIDs: []string{"member"}},
		{SubjectID: "bob", ScopeID: "acme", RoleIDs: []string{"member"}},
	}
	c := saasClient(m)

	for _, q := range [][2]string{{"alice", "doc_spec"}, {"bob", "doc_spec"}, {"bob", "doc_pitch"}} {
		decide(c, authz.EvaluateInput{Actor: authz.SubjectRef{SubjectID: q[0]}, ScopeID: "acme_api",
			Action: "read", Resource: &authz.ResourceRef{ResourceID: q[1]}}, true)
	}

	// A second department on a document is beyond the group's limit, and no
	// binding lets departments label roles.
	_, err := c.CreateTagAssignment(ctx, authz.TagAssignmentInput{ID: "ta_second", TagID: "dept_sales", TargetType: authz.ModelResource, TargetID: "doc_spec", ScopeID: "acme"})
	fmt.Println(errors.Is(err, authz.ErrNotAllowed), err)
	_, err = c.CreateTagAssignment(ctx, authz.TagAssignmentInput{ID: "ta_role", TagID: "dept_eng", TargetType: authz.ModelRole, TargetID: "member", ScopeID: "acme"})
	fmt.Println(errors.Is(err, authz.ErrNotAllowed), err)
	// Output:
	// alice read doc_spec: allowed=true decidedBy=role
	//   Allowed: permission document:read:* is granted through role member.
	// bob read doc_spec: allowed=false decidedBy=default
	//   Denied: permission document:read:* through role member matched but the condition of role permission rp_member_read was not met.
	// bob read doc_pitch: allowed=true decidedBy=role
	//   Allowed: permission document:read:* is granted through role member.
	// true create tag assignment ta_second: tagId: tag group "tg_dept" allows at most 1 of its tags on one target (maxAppliedPerTarget, counted across scopes), and resource "doc_spec" would carry 2: remove one of its tags of that group first, or raise the limit
	// true create tag assignment ta_role: targetId: no binding of tag group "tg_dept" (of tag "dept_eng") covers role "member": create a tag binding {tagGroupId: "tg_dept", modelType: "role"} (add modelId: "member" to allow this role only)
}
