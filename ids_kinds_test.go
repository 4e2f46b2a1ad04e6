package authz_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/scopegate/authz"
)

// idCase creates one object with a client id: batch puts id where the case
// says, in a batch that is otherwise valid over evalModel. kind is the Batch
// slice of the item carrying the id (always its first item) and field the
// path of the id in it.
type idCase struct {
	name  string
	kind  string
	field string
	batch func(id string) authz.Batch
}

var tagGroupEnv = authz.TagGroupInput{ID: "tg_env", ScopeID: "acme", Key: "env", Name: "Env"}

var idCases = []idCase{
	{"scope type", "scopeTypes", "id", func(id string) authz.Batch {
		return authz.Batch{ScopeTypes: []authz.ScopeTypeInput{{ID: id, Name: "New"}}}
	}},
	{"scope type edge", "scopeTypeEdges", "id", func(id string) authz.Batch {
		return authz.Batch{ScopeTypes: []authz.ScopeTypeInput{{ID: "t_new", Name: "New"}},
			ScopeTypeEdges: []authz.ScopeTypeEdgeInput{{ID: id, ParentTypeID: "t_project", ChildTypeID: "t_new"}}}
	}},
	{"scope", "scopes", "id", func(id string) authz.Batch {
		return authz.Batch{Scopes: []authz.ScopeInput{{ID: id, TypeID: "t_project", ParentScopeID: "backend"}}}
	}},
	{"membership inside a scope", "scopes", "memberships[0].id", func(id string) authz.Batch {
		return authz.Batch{Scopes: []authz.ScopeInput{{ID: "s_new", TypeID: "t_project", ParentScopeID: "backend",
			Memberships: []authz.ScopeMembershipInput{{ID: id, SubjectID: "alice", RoleIDs: []string{"viewer"}}}}}}
	}},
	{"scope edge", "scopeEdges", "id", func(id string) authz.Batch {
		return authz.Batch{Scopes: []authz.ScopeInput{{ID: "s_new", TypeID: "t_project"}},
			ScopeEdges: []authz.ScopeEdgeInput{{ID: id, ParentScopeID: "backend", ChildScopeID: "s_new"}}}
	}},
	{"subject", "subjects", "id", func(id string) authz.Batch {
		return authz.Batch{Subjects: []authz.SubjectInput{{ID: id, SubjectType: authz.SubjectUser, ExternalID: "newbie"}}}
	}},
	{"membership inside a subject", "subjects", "memberships[0].id", func(id string) authz.Batch {
		return authz.Batch{Subjects: []authz.SubjectInput{{ID: "newbie", SubjectType: authz.SubjectUser, ExternalID: "newbie",
			Memberships: []authz.SubjectMembershipInput{{ID: id, ScopeID: "acme", RoleIDs: []string{"viewer"}}}}}}
	}},
	{"membership", "memberships", "id", func(id string) authz.Batch {
		return authz.Batch{Memberships: []authz.MembershipInput{{ID: id, SubjectID: "alice", ScopeID: "acme"}}}
	}},
	{"role assignment", "roleAssignments", "id", func(id string) authz.Batch {
		return authz.Batch{Memberships: []authz.MembershipInput{{ID: "m_new", SubjectID: "alice", ScopeID: "acme"}},
			RoleAssignments: []authz.RoleAssignmentInput{{ID: id, MembershipID: "m_new", RoleID: "viewer"}}}
	}},
	{"role", "roles", "id", func(id string) authz.Batch {
		return authz.Batch{Roles: []authz.RoleInput{{ID: id, ScopeID: "acme", Name: "New role"}}}
	}},
	{"permission", "permissions", "id", func(id string) authz.Batch {
		return authz.Batch{Permissions: []authz.PermissionInput{{ID: id, ScopeID: "acme", Action: "archive", ResourceType: "document"}}}
	}},
	{"role permission", "rolePermissions", "id", func(id string) authz.Batch {
		return authz.Batch{RolePermissions: []authz.RolePermissionInput{{ID: id, RoleID: "viewer", PermissionID: "p_write"}}}
	}},
	{"scope override", "scopeOverrides", "id", func(id string) authz.Batch {
		return authz.Batch{ScopeOverrides: []authz.ScopeOverrideInput{{ID: id, ChildScopeID: "api", Kind: authz.OverrideRole, RoleID: "editor", State: authz.OverrideDisabled}}}
	}},
	{"resource type", "resourceTypes", "id", func(id string) authz.Batch {
		return authz.Batch{ResourceTypes: []authz.ResourceTypeInput{{ID: id, ScopeID: "acme", Key: "sheet", Name: "Sheet"}}}
	}},
	{"resource type edge", "resourceTypeEdges", "id", func(id string) authz.Batch {
		return authz.Batch{ResourceTypeEdges: []authz.ResourceTypeEdgeInput{{ID: id, ParentTypeID: "rt_folder", ChildTypeID: "rt_doc"}}}
	}},
	{"resource", "resources", "id", func(id string) authz.Batch {
		return authz.Batch{Resources: []authz.ResourceInput{{ID: id, ResourceTypeID: "rt_doc", ScopeID: "api", ExternalResourceID: "new-doc"}}}
	}},
	{"resource edge", "resourceEdges", "id", func(id string) authz.Batch {
		return authz.Batch{Resources: []authz.ResourceInput{{ID: "folder_new", ResourceTypeID: "rt_folder", ScopeID: "api", ExternalResourceID: "folder-new"}},
			ResourceEdges: []authz.ResourceEdgeInput{{ID: id, ParentResourceID: "folder_new", ChildResourceID: "doc_api"}}}
	}},
	{"resource scope link", "resourceScopeLinks", "id", func(id string) authz.Batch {
		return authz.Batch{ResourceScopeLinks: []authz.ResourceScopeLinkInput{{ID: id, ResourceID: "doc_api", ScopeID: "sales", LinkType: authz.LinkMirror}}}
	}},
	{"collection", "collections", "id", func(id string) authz.Batch {
		return authz.Batch{Collections: []authz.CollectionInput{{ID: id, ScopeID: "acme", ResourceTypeID: "rt_doc", Name: "Internal",
			MatchDefinition: json.RawMessage(`{"fields":{"classification":"internal"}}`)}}}
	}},
	{"resource policy", "resourcePolicies", "id", func(id string) authz.Batch {
		return authz.Batch{ResourcePolicies: []authz.ResourcePolicyInput{{ID: id, ScopeID: "acme", Name: "Share",
			Target: authz.PolicyTarget{Kind: authz.TargetResource, ResourceID: "doc_acme"}, Actions: []string{"share"}, Effect: authz.EffectAllow}}}
	}},
	{"tag group", "tagGroups", "id", func(id string) authz.Batch {
		g := tagGroupEnv
		g.ID = id
		return authz.Batch{TagGroups: []authz.TagGroupInput{g}}
	}},
	{"tag inside a tag group", "tagGroups", "tags[0].id", func(id string) authz.Batch {
		g := tagGroupEnv
		g.Tags = []authz.InlineTagInput{{ID: id, Identifier: "prod", Label: "Prod"}}
		return authz.Batch{TagGroups: []authz.TagGroupInput{g}}
	}},
	{"tag", "tags", "id", func(id string) authz.Batch {
		return authz.Batch{TagGroups: []authz.TagGroupInput{tagGroupEnv},
			Tags: []authz.TagInput{{ID: id, TagGroupID: "tg_env", Identifier: "prod", Label: "Prod"}}}
	}},
	{"tag binding", "tagBindings", "id", func(id string) authz.Batch {
		return authz.Batch{TagGroups: []authz.TagGroupInput{tagGroupEnv},
			TagBindings: []authz.TagBindingInput{{ID: id, TagGroupID: "tg_env", ModelType: authz.ModelResource}}}
	}},
	{"tag assignment", "tagAssignments", "id", func(id string) authz.Batch {
		return authz.Batch{TagGroups: []authz.TagGroupInput{tagGroupEnv},
			Tags:           []authz.TagInput{{ID: "tag_prod", TagGroupID: "tg_env", Identifier: "prod", Label: "Prod"}},
			TagBindings:    []authz.TagBindingInput{{TagGroupID: "tg_env", ModelType: authz.ModelResource}},
			TagAssignments: []authz.TagAssignmentInput{{ID: id, TagID: "tag_prod", TargetType: authz.ModelResource, TargetID: "doc_sales", ScopeID: "acme"}}}
	}},
}

// TestIDCasesCoverEveryKind fails when a slice of Batch has no case in
// idCases, so that a new kind cannot escape TestDotIDsRefused.
func TestIDCasesCoverEveryKind(t *testing.T) {
	t.Parallel()
	covered := map[string]bool{}
	for _, c := range idCases {
		covered[c.kind] = true
	}
	bt := reflect.TypeFor[authz.Batch]()
	for i := range bt.NumField() {
		name, _, _ := strings.Cut(bt.Field(i).Tag.Get("json"), ",")
		if !covered[name] {
			t.Errorf("Batch.%s (%s): no case in idCases", bt.Field(i).Name, name)
		}
	}
}

// TestDotIDsRefused gives "." and ".." as the client id of every kind, and
// of every object created inside another: each write fails with ErrInvalid
// on that id's field and stores nothing. "...", which a URL path can name,
// is accepted in the same place.
func TestDotIDsRefused(t *testing.T) {
	t.Parallel()
	for _, tc := range idCases {
		t.Run(tc.name, func(t *testing.T) {
			eachBackend(t, func(t *testing.T, c *authz.Client) {
				evalModel(t, c)
				rev := must(c.Revision(ctx))(t)
				for _, id := range []string{".", ".."} {
					_, err := c.Apply(ctx, tc.batch(id))
					be := wantItems(t, err, authz.ErrInvalid, "0 "+tc.field)
					if it := be.Items[0]; it.Kind != tc.kind || !strings.Contains(it.Err.Error(), `"`+id+`"`) {
						t.Errorf("id %q: got %v in %q; want an error in %q quoting the id", id, it, it.Kind, tc.kind)
					}
					if got := must(c.Revision(ctx))(t); got != rev {
						t.Fatalf("id %q: revision got %d; want %d (nothing stored)", id, got, rev)
					}
				}
				if _, err := c.Apply(ctx, tc.batch("...")); err != nil {
					t.Fatalf(`id "...": got %v; want the batch stored`, err)
				}
			})
		})
	}
}

// TestDotIDSingleForm checks the error of a typed create method: it names
// the id field and matches ErrInvalid.
func TestDotIDSingleForm(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		_, err := c.CreateScopeType(ctx, authz.ScopeTypeInput{ID: "..", Name: "Up"})
		var ie *authz.ItemError
		if !errors.Is(err, authz.ErrInvalid) || !errors.As(err, &ie) || ie.Field != "id" {
			t.Fatalf("got %v; want ErrInvalid on field id", err)
		}
	})
}
