package authz_test

import (
	"encoding/json"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/scopegate/authz"
	"github.com/scopegate/authz/internal/authztest"
)

// evalModel builds the model the evaluation tests share:
//
//	platform (platform) ─ acme (org, define) ─ eng (dept) ─ backend (team) ─ api (project)
//	                    │                    └ sales (dept)
//	                    └ globex (org, define) ─ g_eng (dept)
//
// Resource types document and folder are defined at acme and globex. Roles at
// acme: viewer (document:read:*), editor (document:write:*, document:read:*),
// owner_editor (document:delete:owned), reporter (document:read:report-*);
// at platform: operator (document:read:*, defined at platform with its own
// resource type). Subjects: alice, bob, carol, mallory (users) and bot (agent).
// Resources: doc_acme (owned by acme), doc_api (api), doc_sales (sales),
// doc_globex (g_eng).
func evalModel(t testing.TB, c *authz.Client) {
	t.Helper()
	must(c.Apply(ctx, authz.Batch{
		ScopeTypes: []authz.ScopeTypeInput{
			{ID: "t_platform", Name: "Platform"},
			{ID: "t_org", Name: "Organization", Config: authz.ScopeTypeConfig{PermissionMode: authz.PermissionModeDefine}},
			{ID: "t_dept", Name: "Department"}, {ID: "t_team", Name: "Team"}, {ID: "t_project", Name: "Project"},
		},
		ScopeTypeEdges: []authz.ScopeTypeEdgeInput{
			{ParentTypeID: "t_platform", ChildTypeID: "t_org"}, {ParentTypeID: "t_org", ChildTypeID: "t_dept"},
			{ParentTypeID: "t_dept", ChildTypeID: "t_team"}, {ParentTypeID: "t_team", ChildTypeID: "t_project"},
		},
		Scopes: []authz.ScopeInput{
			{ID: "platform", TypeID: "t_platform"},
			{ID: "acme", TypeID: "t_org", ParentScopeID: "platform"},
			{ID: "eng", TypeID: "t_dept", ParentScopeID: "acme"},
			{ID: "backend", TypeID: "t_team", ParentScopeID: "eng"},
			{ID: "api", TypeID: "t_project", ParentScopeID: "backend"},
			{ID: "sales", TypeID: "t_dept", ParentScopeID: "acme"},
			{ID: "globex", TypeID: "t_org", ParentScopeID: "platform"},
			{ID: "g_eng", TypeID: "t_dept", ParentScopeID: "globex"},
		},
		ResourceTypes: []authz.ResourceTypeInput{
			{ID: "rt_doc", ScopeID: "acme", Key: "document", Name: "Document"},
			{ID: "rt_folder", ScopeID: "acme", Key: "folder", Name: "Folder"},
			{ID: "rt_gdoc", ScopeID: "globex", Key: "document", Name: "Document"},
			{ID: "rt_pdoc", ScopeID: "platform", Key: "document", Name: "Document"},
		},
		Permissions: []authz.PermissionInput{
			{ID: "p_read", ScopeID: "acme", Action: "read", ResourceType: "document"},
			{ID: "p_write", ScopeID: "acme", Action: "write", ResourceType: "document"},
			{ID: "p_delete_owned", ScopeID: "acme", Action: "delete", ResourceType: "document", ResourcePattern: "owned"},
			{ID: "p_read_reports", ScopeID: "acme", Action: "read", ResourceType: "document", ResourcePattern: "report-*"},
			{ID: "p_folder_read", ScopeID: "acme", Action: "read", ResourceType: "folder"},
			{ID: "p_g_read", ScopeID: "globex", Action: "read", ResourceType: "document"},
			{ID: "p_platform_read", ScopeID: "platform", Action: "read", ResourceType: "document"},
		},
		Roles: []authz.RoleInput{
			{ID: "viewer", ScopeID: "acme", Name: "Viewer"},
			{ID: "editor", ScopeID: "acme", Name: "Editor"},
			{ID: "owner_editor", ScopeID: "acme", Name: "Owner editor"},
			{ID: "reporter", ScopeID: "acme", Name: "Reporter"},
			{ID: "g_viewer", ScopeID: "globex", Name: "Globex viewer"},
			{ID: "operator", ScopeID: "platform", Name: "Operator"},
		},
		RolePermissions: []authz.RolePermissionInput{
			{RoleID: "viewer", PermissionID: "p_read"}, {RoleID: "viewer", PermissionID: "p_folder_read"},
			{RoleID: "editor", PermissionID: "p_read"}, {RoleID: "editor", PermissionID: "p_write"},
			{RoleID: "owner_editor", PermissionID: "p_delete_owned"},
			{RoleID: "reporter", PermissionID: "p_read_reports"},
			{RoleID: "g_viewer", PermissionID: "p_g_read"},
			{RoleID: "operator", PermissionID: "p_platform_read"},
		},
		Subjects: []authz.SubjectInput{
			{ID: "alice", SubjectType: authz.SubjectUser, ExternalID: "alice", Meta: map[string]any{"department": "finance", "level": 3}},
			{ID: "bob", SubjectType: authz.SubjectUser, ExternalID: "bob"},
			{ID: "carol", SubjectType: authz.SubjectUser, ExternalID: "carol"},
			{ID: "mallory", SubjectType: authz.SubjectUser, ExternalID: "mallory"},
			{ID: "bot", SubjectType: authz.SubjectAgent, ExternalID: "bot"},
		},
		Resources: []authz.ResourceInput{
			{ID: "doc_acme", ResourceTypeID: "rt_doc", ScopeID: "acme", ExternalResourceID: "handbook", OwnerID: "carol"},
			{ID: "doc_api", ResourceTypeID: "rt_doc", ScopeID: "api", ExternalResourceID: "api-spec", OwnerID: "bob", Meta: map[string]any{"classification": "internal", "pages": 12}},
			{ID: "doc_sales", ResourceTypeID: "rt_doc", ScopeID: "sales", ExternalResourceID: "report-q1", OwnerID: "carol"},
			{ID: "doc_globex", ResourceTypeID: "rt_gdoc", ScopeID: "g_eng", ExternalResourceID: "secret"},
		},
	}))(t)
}

// grant gives subject the roles at scope.
func grant(t *testing.T, c *authz.Client, subject, scope string, roles ...string) {
	t.Helper()
	must(c.CreateMembership(ctx, authz.MembershipInput{SubjectID: subject, ScopeID: scope, RoleIDs: roles}))(t)
}

// ask evaluates subject doing action on resource id in scope.
func ask(t *testing.T, c *authz.Client, subject, scope, action, resource string) authz.Decision {
	t.Helper()
	return must(c.Evaluate(ctx, authz.EvaluateInput{Actor: authz.SubjectRef{SubjectID: subject}, ScopeID: scope, Action: action,
		Resource: &authz.ResourceRef{ResourceID: resource}, Explain: true}))(t)
}

// want fails unless d is allowed/denied by the given step.
func want(t *testing.T, d authz.Decision, allowed bool, by authz.DecidedBy) {
	t.Helper()
	if d.Allowed != allowed || d.DecidedBy != by {
		t.Fatalf("got allowed=%v decidedBy=%s (%s); want allowed=%v decidedBy=%s\ntrace:\n  %s",
			d.Allowed, d.DecidedBy, d.Explanation, allowed, by, strings.Join(d.Trace, "\n  "))
	}
}

func wantExplanation(t *testing.T, d authz.Decision, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(d.Explanation, p) {
			t.Errorf("explanation %q does not mention %q", d.Explanation, p)
		}
	}
}

func TestEvaluateRolesFlowDown(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		evalModel(t, c)
		grant(t, c, "alice", "acme", "viewer")
		d := ask(t, c, "alice", "api", "read", "doc_api")
		want(t, d, true, authz.DecidedByRole)
		if len(d.Matches) != 1 || d.Matches[0].PermissionID != "p_read" || strings.Join(d.Matches[0].SourceRoleIDs, ",") != "viewer" {
			t.Errorf("got matches %+v; want p_read through viewer", d.Matches)
		}
		wantExplanation(t, d, "document:read:*", "viewer")
		// The same org role reaches the org document and from the org scope.
		want(t, ask(t, c, "alice", "acme", "read", "doc_api"), true, authz.DecidedByRole)
		want(t, ask(t, c, "alice", "acme", "read", "doc_acme"), true, authz.DecidedByRole)
		// No permission for write.
		want(t, ask(t, c, "alice", "api", "write", "doc_api"), false, authz.DecidedByDefault)
	})
}

func TestEvaluateRolesNeverFlowUp(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		evalModel(t, c)
		grant(t, c, "bob", "backend", "viewer")
		want(t, ask(t, c, "bob", "api", "read", "doc_api"), true, authz.DecidedByRole)
		// A team role never reaches an org-level document, whatever the scope asked.
		d := ask(t, c, "bob", "backend", "read", "doc_acme")
		want(t, d, false, authz.DecidedByDefault)
		wantExplanation(t, d, "no membership")
		want(t, ask(t, c, "bob", "acme", "read", "doc_acme"), false, authz.DecidedByDefault)
		// Asked at the org scope, a team membership does not count either.
		want(t, ask(t, c, "bob", "acme", "read", "doc_api"), false, authz.DecidedByDefault)
	})
}

func TestEvaluateDefineBoundaryIsolatesTenants(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		evalModel(t, c)
		grant(t, c, "mallory", "globex", "g_viewer")
		want(t, ask(t, c, "mallory", "g_eng", "read", "doc_globex"), true, authz.DecidedByRole)
		// acme's document is not reachable from globex, nor from acme for her.
		d := ask(t, c, "mallory", "globex", "read", "doc_acme")
		want(t, d, false, authz.DecidedByDefault)
		wantExplanation(t, d, "not reachable")
		want(t, ask(t, c, "mallory", "acme", "read", "doc_acme"), false, authz.DecidedByDefault)
		// A platform role does not cross the define boundary into a tenant.
		grant(t, c, "carol", "platform", "operator")
		want(t, ask(t, c, "carol", "acme", "read", "doc_acme"), false, authz.DecidedByDefault)
		want(t, ask(t, c, "carol", "platform", "read", "doc_acme"), false, authz.DecidedByDefault)
	})
}

func TestEvaluateResourceNotReachableFromUnrelatedScope(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		evalModel(t, c)
		grant(t, c, "alice", "acme", "viewer")
		// sales is a sibling of eng: doc_api (in api) is not on its line.
		d := ask(t, c, "alice", "sales", "read", "doc_api")
		want(t, d, false, authz.DecidedByDefault)
		wantExplanation(t, d, "not reachable from scope sales")
	})
}

func TestEvaluateOverrides(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		evalModel(t, c)
		grant(t, c, "alice", "acme", "viewer", "editor")
		ov := must(c.CreateScopeOverride(ctx, authz.ScopeOverrideInput{Kind: authz.OverrideRole, ChildScopeID: "eng", RoleID: "editor", State: authz.OverrideDisabled}))(t)
		// editor is off at eng and below: write is denied, read still comes from viewer.
		d := ask(t, c, "alice", "api", "write", "doc_api")
		want(t, d, false, authz.DecidedByDefault)
		wantExplanation(t, d, "role editor is disabled by an override at scope eng")
		d = ask(t, c, "alice", "api", "read", "doc_api")
		want(t, d, true, authz.DecidedByRole)
		if got := d.Matches[0].SourceRoleIDs; len(got) != 1 || got[0] != "viewer" {
			t.Errorf("got roles %v; want only viewer", got)
		}
		// Overrides are read along the deeper scope: asking at acme does not step around it.
		want(t, ask(t, c, "alice", "acme", "write", "doc_api"), false, authz.DecidedByDefault)
		// Above the override the role still works.
		want(t, ask(t, c, "alice", "acme", "write", "doc_acme"), true, authz.DecidedByRole)
		// Re-enabled below the disable: the nearest override wins.
		must(c.CreateScopeOverride(ctx, authz.ScopeOverrideInput{Kind: authz.OverrideRole, ChildScopeID: "api", RoleID: "editor", State: authz.OverrideEnabled}))(t)
		want(t, ask(t, c, "alice", "api", "write", "doc_api"), true, authz.DecidedByRole)
		// Updating the disable to enabled restores it everywhere.
		enabled := authz.OverrideEnabled
		must(c.UpdateScopeOverride(ctx, ov.ID, authz.ScopeOverridePatch{State: &enabled}))(t)
		want(t, ask(t, c, "alice", "acme", "write", "doc_api"), true, authz.DecidedByRole)
	})
}

func TestEvaluatePermissionAndRolePermissionOverrides(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		evalModel(t, c)
		grant(t, c, "alice", "acme", "viewer", "editor")
		must(c.CreateScopeOverride(ctx, authz.ScopeOverrideInput{Kind: authz.OverridePermission, ChildScopeID: "backend", PermissionID: "p_write", State: authz.OverrideDisabled}))(t)
		d := ask(t, c, "alice", "api", "write", "doc_api")
		want(t, d, false, authz.DecidedByDefault)
		wantExplanation(t, d, "permission document:write:* is disabled by an override at scope backend")
		// A role_permission override switches one grant off: read via viewer only.
		must(c.CreateScopeOverride(ctx, authz.ScopeOverrideInput{Kind: authz.OverrideRolePermission, ChildScopeID: "api", RoleID: "editor", PermissionID: "p_read", State: authz.OverrideDisabled}))(t)
		d = ask(t, c, "alice", "api", "read", "doc_api")
		want(t, d, true, authz.DecidedByRole)
		if got := d.Matches[0].SourceRoleIDs; len(got) != 1 || got[0] != "viewer" {
			t.Errorf("got roles %v; want only viewer", got)
		}
	})
}

func TestEvaluateOverridesNeverGrant(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		evalModel(t, c)
		grant(t, c, "bob", "api") // a membership without roles
		for _, in := range []authz.ScopeOverrideInput{
			{Kind: authz.OverrideRole, ChildScopeID: "api", RoleID: "editor", State: authz.OverrideEnabled},
			{Kind: authz.OverridePermission, ChildScopeID: "api", PermissionID: "p_write", State: authz.OverrideEnabled},
			{Kind: authz.OverrideRolePermission, ChildScopeID: "api", RoleID: "editor", PermissionID: "p_write", State: authz.OverrideEnabled},
		} {
			must(c.CreateScopeOverride(ctx, in))(t)
		}
		want(t, ask(t, c, "bob", "api", "write", "doc_api"), false, authz.DecidedByDefault)
	})
}

func TestEvaluateConditions(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		evalModel(t, c)
		must(c.Apply(ctx, authz.Batch{
			Permissions: []authz.PermissionInput{
				{ID: "p_approve", ScopeID: "acme", Action: "approve", ResourceType: "document",
					Logic: json.RawMessage(`{"==":[{"var":"subject.meta.department"},"finance"]}`)},
			},
			Roles: []authz.RoleInput{{ID: "approver", ScopeID: "acme", Name: "Approver"}, {ID: "night", ScopeID: "acme", Name: "Night shift"}},
			RolePermissions: []authz.RolePermissionInput{
				{RoleID: "approver", PermissionID: "p_approve", Condition: json.RawMessage(`{"<":[{"var":"context.hour"},18]}`)},
				{RoleID: "night", PermissionID: "p_approve", Condition: json.RawMessage(`{">=":[{"var":"context.hour"},18]}`)},
			},
		}))(t)
		grant(t, c, "alice", "acme", "approver", "night")
		grant(t, c, "bob", "acme", "approver")
		at := func(subject string, hour any) authz.Decision {
			in := authz.EvaluateInput{Actor: authz.SubjectRef{SubjectID: subject}, ScopeID: "api", Action: "approve",
				Resource: &authz.ResourceRef{ResourceID: "doc_api"}, Explain: true}
			if hour != nil {
				in.Context = map[string]any{"hour": hour}
			}
			return must(c.Evaluate(ctx, in))(t)
		}
		// Two roles grant the same permission under different conditions: either path suffices.
		d := at("alice", 9)
		want(t, d, true, authz.DecidedByRole)
		if got := d.Matches[0].SourceRoleIDs; len(got) != 1 || got[0] != "approver" {
			t.Errorf("at 9: got roles %v; want approver", got)
		}
		d = at("alice", int64(20))
		want(t, d, true, authz.DecidedByRole)
		if got := d.Matches[0].SourceRoleIDs; len(got) != 1 || got[0] != "night" {
			t.Errorf("at 20: got roles %v; want night", got)
		}
		// Permission logic fails for bob (no department), whatever the hour.
		d = at("bob", 9)
		want(t, d, false, authz.DecidedByDefault)
		wantExplanation(t, d, "not met")
		// A missing context value never satisfies a comparison.
		want(t, at("alice", nil), false, authz.DecidedByDefault)
	})
}

func TestEvaluateOverrideCondition(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		evalModel(t, c)
		grant(t, c, "alice", "acme", "editor")
		must(c.CreateScopeOverride(ctx, authz.ScopeOverrideInput{Kind: authz.OverrideRolePermission, ChildScopeID: "eng",
			RoleID: "editor", PermissionID: "p_write", State: authz.OverrideEnabled, Condition: json.RawMessage(`{"==":[{"var":"context.ticket"},true]}`)}))(t)
		in := authz.EvaluateInput{Actor: authz.SubjectRef{SubjectID: "alice"}, ScopeID: "api", Action: "write", Resource: &authz.ResourceRef{ResourceID: "doc_api"}}
		want(t, must(c.Evaluate(ctx, in))(t), false, authz.DecidedByDefault)
		in.Context = map[string]any{"ticket": true}
		want(t, must(c.Evaluate(ctx, in))(t), true, authz.DecidedByRole)
		// Outside the override's subtree the grant has no extra condition.
		in.Context = nil
		in.ScopeID, in.Resource.ResourceID = "acme", "doc_acme"
		want(t, must(c.Evaluate(ctx, in))(t), true, authz.DecidedByRole)
	})
}

func TestEvaluateLenientJSONLogicNeverGrants(t *testing.T) {
	t.Parallel()
	for _, logic := range []string{
		`{"<":[{"var":"subject.meta.risk"},50]}`,                     // missing < number
		`{"==":[{"var":"subject.meta.a"},{"var":"subject.meta.b"}]}`, // null == null
		`{"var":"subject.meta.level"}`,                               // a number, not a boolean
		`{"cat":["a","b"]}`,                                          // a string
		`{"/":[1,{"var":"context.zero"}]}`,                           // not a boolean
	} {
		t.Run(logic, func(t *testing.T) {
			eachBackend(t, func(t *testing.T, c *authz.Client) {
				evalModel(t, c)
				must(c.CreatePermission(ctx, authz.PermissionInput{ID: "p_odd", ScopeID: "acme", Action: "odd", ResourceType: "document", Logic: json.RawMessage(logic)}))(t)
				must(c.CreateRolePermission(ctx, authz.RolePermissionInput{RoleID: "viewer", PermissionID: "p_odd"}))(t)
				grant(t, c, "alice", "acme", "viewer")
				d := must(c.Evaluate(ctx, authz.EvaluateInput{Actor: authz.SubjectRef{SubjectID: "alice"}, ScopeID: "api", Action: "odd",
					Resource: &authz.ResourceRef{ResourceID: "doc_api"}, Context: map[string]any{"zero": 0}, Explain: true}))(t)
				want(t, d, false, authz.DecidedByDefault)
			})
		})
	}
}

func TestEvaluateMalformedConditionRejectedAtWrite(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		evalModel(t, c)
		_, err := c.CreatePermission(ctx, authz.PermissionInput{ScopeID: "acme", Action: "x", ResourceType: "document", Logic: json.RawMessage(`{"regex":["a","b"]}`)})
		wantErr(t, err, authz.ErrInvalid)
		if !strings.Contains(err.Error(), "regex") || !strings.Contains(err.Error(), "logic") {
			t.Errorf("got %q; want it to name the field and the operator", err)
		}
	})
}

func TestEvaluatePatterns(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		evalModel(t, c)
		grant(t, c, "bob", "acme", "owner_editor", "reporter")
		// owned: bob owns doc_api, carol owns doc_acme.
		want(t, ask(t, c, "bob", "api", "delete", "doc_api"), true, authz.DecidedByRole)
		want(t, ask(t, c, "bob", "acme", "delete", "doc_acme"), false, authz.DecidedByDefault)
		// glob against the external id: doc_sales is report-q1.
		want(t, ask(t, c, "bob", "sales", "read", "doc_sales"), true, authz.DecidedByRole)
		want(t, ask(t, c, "bob", "api", "read", "doc_api"), false, authz.DecidedByDefault)
		// exact id and exact external id.
		must(c.Apply(ctx, authz.Batch{
			Permissions: []authz.PermissionInput{
				{ID: "p_one", ScopeID: "acme", Action: "share", ResourceType: "document", ResourcePattern: "doc_acme"},
				{ID: "p_ext", ScopeID: "acme", Action: "share", ResourceType: "document", ResourcePattern: "api-spec"},
			},
			RolePermissions: []authz.RolePermissionInput{{RoleID: "reporter", PermissionID: "p_one"}, {RoleID: "reporter", PermissionID: "p_ext"}},
		}))(t)
		want(t, ask(t, c, "bob", "acme", "share", "doc_acme"), true, authz.DecidedByRole)
		want(t, ask(t, c, "bob", "api", "share", "doc_api"), true, authz.DecidedByRole)
		want(t, ask(t, c, "bob", "sales", "share", "doc_sales"), false, authz.DecidedByDefault)
	})
}

func TestEvaluateTypeLevel(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		evalModel(t, c)
		grant(t, c, "alice", "eng", "viewer", "reporter")
		typeLevel := func(scope, action, typ, pattern string) authz.Decision {
			return must(c.Evaluate(ctx, authz.EvaluateInput{Actor: authz.SubjectRef{SubjectID: "alice"}, ScopeID: scope, Action: action,
				Resource: &authz.ResourceRef{ResourceType: typ, ResourcePattern: pattern}}))(t)
		}
		want(t, typeLevel("api", "read", "document", ""), true, authz.DecidedByRole)
		want(t, typeLevel("acme", "read", "document", ""), false, authz.DecidedByDefault) // membership is below
		want(t, typeLevel("api", "write", "document", ""), false, authz.DecidedByDefault)
		// Only "*" or the same pattern match a type-level request.
		must(c.CreateScopeOverride(ctx, authz.ScopeOverrideInput{Kind: authz.OverrideRolePermission, ChildScopeID: "eng", RoleID: "viewer", PermissionID: "p_read", State: authz.OverrideDisabled}))(t)
		want(t, typeLevel("api", "read", "document", "report-*"), true, authz.DecidedByRole)
		want(t, typeLevel("api", "read", "document", "other-*"), false, authz.DecidedByDefault)
	})
}

func TestEvaluateLinks(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		evalModel(t, c)
		grant(t, c, "bob", "backend", "editor")
		want(t, ask(t, c, "bob", "backend", "read", "doc_sales"), false, authz.DecidedByDefault)
		link := must(c.CreateResourceScopeLink(ctx, authz.ResourceScopeLinkInput{ResourceID: "doc_sales", ScopeID: "backend", LinkType: authz.LinkShare}))(t)
		want(t, ask(t, c, "bob", "backend", "read", "doc_sales"), true, authz.DecidedByRole)
		want(t, ask(t, c, "bob", "api", "write", "doc_sales"), true, authz.DecidedByRole)
		// An alias behaves as a share.
		alias := authz.LinkAlias
		must(c.UpdateResourceScopeLink(ctx, link.ID, authz.ResourceScopeLinkPatch{LinkType: &alias}))(t)
		want(t, ask(t, c, "bob", "api", "write", "doc_sales"), true, authz.DecidedByRole)
		// A mirror is a home for read actions only.
		mirror := authz.LinkMirror
		must(c.UpdateResourceScopeLink(ctx, link.ID, authz.ResourceScopeLinkPatch{LinkType: &mirror}))(t)
		want(t, ask(t, c, "bob", "api", "read", "doc_sales"), true, authz.DecidedByRole)
		want(t, ask(t, c, "bob", "api", "write", "doc_sales"), false, authz.DecidedByDefault)
		// A link never makes a resource reachable from another tenant's scope... and a
		// subject without a membership there gets nothing.
		grant(t, c, "mallory", "globex", "g_viewer")
		want(t, ask(t, c, "mallory", "globex", "read", "doc_sales"), false, authz.DecidedByDefault)
	})
}

func TestEvaluateHierarchy(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		evalModel(t, c)
		must(c.Apply(ctx, authz.Batch{
			Resources: []authz.ResourceInput{
				{ID: "folder_root", ResourceTypeID: "rt_folder", ScopeID: "api", ExternalResourceID: "root"},
				{ID: "folder_mid", ResourceTypeID: "rt_folder", ScopeID: "api", ExternalResourceID: "mid"},
				{ID: "doc_deep", ResourceTypeID: "rt_doc", ScopeID: "api", ExternalResourceID: "deep"},
				{ID: "doc_loose", ResourceTypeID: "rt_doc", ScopeID: "api", ExternalResourceID: "loose"},
			},
			ResourceEdges: []authz.ResourceEdgeInput{
				{ParentResourceID: "folder_root", ChildResourceID: "folder_mid"},
				{ParentResourceID: "folder_mid", ChildResourceID: "doc_deep"},
				{ParentResourceID: "folder_root", ChildResourceID: "doc_loose", Cascade: authz.CascadeNone},
			},
			ResourcePolicies: []authz.ResourcePolicyInput{
				{ID: "pol_root", ScopeID: "api", Name: "Root readers", Target: authz.PolicyTarget{Kind: authz.TargetResource, ResourceID: "folder_root"},
					Actions: []string{"read"}, Effect: authz.EffectAllow, SubjectCondition: json.RawMessage(`{"==":[{"var":"subject.id"},"carol"]}`)},
			},
		}))(t)
		// Two levels up, the root folder's policy allows carol: doc_deep inherits through folder_mid.
		d := ask(t, c, "carol", "api", "read", "doc_deep")
		want(t, d, true, authz.DecidedByHierarchy)
		if d.InheritedFrom != "folder_mid" {
			t.Errorf("got inheritedFrom %q; want folder_mid", d.InheritedFrom)
		}
		// cascade none stops inheritance.
		want(t, ask(t, c, "carol", "api", "read", "doc_loose"), false, authz.DecidedByDefault)
		// Others are not allowed by the parent.
		want(t, ask(t, c, "bob", "api", "read", "doc_deep"), false, authz.DecidedByDefault)
	})
}

func TestEvaluateHierarchyDepthLimit(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			opts := testOptions()
			opts.MaxHierarchyDepth = 1
			c := must(authz.New(b.open(t), opts))(t)
			evalModel(t, c)
			must(c.Apply(ctx, authz.Batch{
				Resources: []authz.ResourceInput{
					{ID: "f1", ResourceTypeID: "rt_folder", ScopeID: "api", ExternalResourceID: "f1"},
					{ID: "f2", ResourceTypeID: "rt_folder", ScopeID: "api", ExternalResourceID: "f2"},
					{ID: "d3", ResourceTypeID: "rt_doc", ScopeID: "api", ExternalResourceID: "d3"},
				},
				ResourceEdges:    []authz.ResourceEdgeInput{{ParentResourceID: "f1", ChildResourceID: "f2"}, {ParentResourceID: "f2", ChildResourceID: "d3"}},
				ResourcePolicies: []authz.ResourcePolicyInput{{ScopeID: "api", Name: "f1", Target: authz.PolicyTarget{Kind: authz.TargetResource, ResourceID: "f1"}, Actions: []string{"*"}, Effect: authz.EffectAllow}},
			}))(t)
			want(t, ask(t, c, "bob", "api", "read", "f2"), true, authz.DecidedByHierarchy)
			want(t, ask(t, c, "bob", "api", "read", "d3"), false, authz.DecidedByDefault)
		})
	}
}

func TestEvaluatePolicies(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		evalModel(t, c)
		grant(t, c, "alice", "acme", "editor")
		target := authz.PolicyTarget{Kind: authz.TargetResource, ResourceID: "doc_api"}
		must(c.CreateResourcePolicies(ctx, []authz.ResourcePolicyInput{
			{ID: "pol_allow_bob", ScopeID: "eng", Name: "Bob reads", Target: target, Actions: []string{"read"}, Effect: authz.EffectAllow,
				SubjectCondition: json.RawMessage(`{"==":[{"var":"subject.id"},"bob"]}`)},
			{ID: "pol_freeze", ScopeID: "api", Name: "Freeze", Target: target, Actions: []string{"write"}, Effect: authz.EffectDeny,
				ContextCondition: json.RawMessage(`{"==":[{"var":"context.freeze"},true]}`)},
		}))(t)
		// A policy allows without any role.
		d := ask(t, c, "bob", "api", "read", "doc_api")
		want(t, d, true, authz.DecidedByPolicy)
		if d.PolicyID != "pol_allow_bob" {
			t.Errorf("got policy %q; want pol_allow_bob", d.PolicyID)
		}
		wantExplanation(t, d, "Bob reads", "allow")
		// A deny policy decides before roles, and only when its context condition holds.
		in := authz.EvaluateInput{Actor: authz.SubjectRef{SubjectID: "alice"}, ScopeID: "api", Action: "write", Resource: &authz.ResourceRef{ResourceID: "doc_api"}}
		want(t, must(c.Evaluate(ctx, in))(t), true, authz.DecidedByRole)
		in.Context = map[string]any{"freeze": true}
		d = must(c.Evaluate(ctx, in))(t)
		want(t, d, false, authz.DecidedByPolicy)
		// The deny sits at the resource's home: asking from acme does not avoid it.
		in.ScopeID = "acme"
		want(t, must(c.Evaluate(ctx, in))(t), false, authz.DecidedByPolicy)
	})
}

func TestEvaluatePolicyOrder(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		evalModel(t, c)
		must(c.CreateCollection(ctx, authz.CollectionInput{ID: "coll_all_docs", ScopeID: "acme", ResourceTypeID: "rt_doc", Name: "All docs", MatchDefinition: json.RawMessage(`{}`)}))(t)
		direct := authz.PolicyTarget{Kind: authz.TargetResource, ResourceID: "doc_api"}
		coll := authz.PolicyTarget{Kind: authz.TargetCollection, CollectionID: "coll_all_docs"}
		pol := func(id string, target authz.PolicyTarget, effect authz.Effect, prio int) authz.ResourcePolicyInput {
			return authz.ResourcePolicyInput{ID: id, ScopeID: "acme", Name: id, Target: target, Actions: []string{"read"}, Effect: effect, Priority: prio}
		}
		// Equal priority: deny before allow.
		must(c.CreateResourcePolicies(ctx, []authz.ResourcePolicyInput{pol("a_allow", direct, authz.EffectAllow, 5), pol("z_deny", coll, authz.EffectDeny, 5)}))(t)
		d := ask(t, c, "bob", "api", "read", "doc_api")
		want(t, d, false, authz.DecidedByPolicy)
		if d.PolicyID != "z_deny" {
			t.Errorf("got %q; want z_deny (deny first at equal priority)", d.PolicyID)
		}
		// Higher priority first.
		must(c.CreateResourcePolicy(ctx, pol("hi_allow", coll, authz.EffectAllow, 10)))(t)
		if d := ask(t, c, "bob", "api", "read", "doc_api"); d.PolicyID != "hi_allow" || !d.Allowed {
			t.Errorf("got %q allowed=%v; want hi_allow", d.PolicyID, d.Allowed)
		}
		// Equal priority and effect: direct before collection.
		must(c.CreateResourcePolicies(ctx, []authz.ResourcePolicyInput{pol("b_direct", direct, authz.EffectAllow, 20), pol("a_coll", coll, authz.EffectAllow, 20)}))(t)
		if d := ask(t, c, "bob", "api", "read", "doc_api"); d.PolicyID != "b_direct" {
			t.Errorf("got %q; want b_direct", d.PolicyID)
		}
	})
}

func TestEvaluatePlatformDenyCrossesDefineBoundary(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		evalModel(t, c)
		grant(t, c, "alice", "acme", "viewer")
		must(c.CreateCollection(ctx, authz.CollectionInput{ID: "coll_internal", ScopeID: "platform", ResourceTypeID: "rt_doc", Name: "Internal",
			MatchDefinition: json.RawMessage(`{"fields":{"classification":"internal"}}`)}))(t)
		must(c.CreateResourcePolicy(ctx, authz.ResourcePolicyInput{ScopeID: "platform", Name: "Lockdown", Target: authz.PolicyTarget{Kind: authz.TargetCollection, CollectionID: "coll_internal"},
			Actions: []string{"*"}, Effect: authz.EffectDeny}))(t)
		want(t, ask(t, c, "alice", "api", "read", "doc_api"), false, authz.DecidedByPolicy)
		// doc_acme has no classification: the collection does not match it.
		want(t, ask(t, c, "alice", "acme", "read", "doc_acme"), true, authz.DecidedByRole)
	})
}

func TestEvaluateDelegation(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		evalModel(t, c)
		onBehalf := func(actor, principal string) authz.Decision {
			return must(c.Evaluate(ctx, authz.EvaluateInput{Actor: authz.SubjectRef{SubjectID: actor}, OnBehalfOf: &authz.SubjectRef{SubjectID: principal},
				ScopeID: "api", Action: "read", Resource: &authz.ResourceRef{ResourceID: "doc_api"}}))(t)
		}
		check := func(d authz.Decision, allowed, actorAllowed, principalAllowed bool) {
			t.Helper()
			if d.Allowed != allowed || !d.UsedDelegation || d.Delegation == nil ||
				d.Delegation.Actor.Allowed != actorAllowed || d.Delegation.OnBehalfOf.Allowed != principalAllowed {
				t.Fatalf("got %+v; want allowed=%v actor=%v principal=%v", d, allowed, actorAllowed, principalAllowed)
			}
			if d.EvaluatedActor.SubjectID != "bot" || d.EvaluatedOnBehalfOf == nil || d.EvaluatedOnBehalfOf.SubjectID != "alice" {
				t.Errorf("got evaluated %+v / %+v; want bot on behalf of alice", d.EvaluatedActor, d.EvaluatedOnBehalfOf)
			}
		}
		check(onBehalf("bot", "alice"), false, false, false)
		grant(t, c, "bot", "api", "viewer")
		check(onBehalf("bot", "alice"), false, true, false)
		grant(t, c, "alice", "acme", "viewer")
		d := onBehalf("bot", "alice")
		check(d, true, true, true)
		if d.Delegation.Actor.EvaluatedActor.SubjectType != authz.SubjectAgent {
			t.Errorf("got actor type %q; want agent", d.Delegation.Actor.EvaluatedActor.SubjectType)
		}
		must(c.CreateScopeOverride(ctx, authz.ScopeOverrideInput{Kind: authz.OverrideRole, ChildScopeID: "api", RoleID: "viewer", State: authz.OverrideDisabled}))(t)
		grant(t, c, "alice", "api", "editor")
		check(onBehalf("bot", "alice"), false, false, true)
	})
}

func TestEvaluateTagsInConditions(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		evalModel(t, c)
		must(c.Apply(ctx, authz.Batch{
			TagGroups: []authz.TagGroupInput{{ID: "tg_team", ScopeID: "acme", Key: "team", Name: "Team",
				Tags: []authz.InlineTagInput{{ID: "tag_red", Identifier: "red", Label: "Red"}, {ID: "tag_blue", Identifier: "blue", Label: "Blue"}}}},
			TagBindings: []authz.TagBindingInput{{TagGroupID: "tg_team", ModelType: authz.ModelSubject}, {TagGroupID: "tg_team", ModelType: authz.ModelResource}},
			TagAssignments: []authz.TagAssignmentInput{
				{TagID: "tag_red", TargetType: authz.ModelSubject, TargetID: "alice", ScopeID: "acme"},
				{TagID: "tag_red", TargetType: authz.ModelResource, TargetID: "doc_api", ScopeID: "eng"},
				{TagID: "tag_blue", TargetType: authz.ModelSubject, TargetID: "bob", ScopeID: "sales"},
			},
			Permissions: []authz.PermissionInput{{ID: "p_tagged", ScopeID: "acme", Action: "comment", ResourceType: "document",
				Logic: json.RawMessage(`{"and":[{"in":["red",{"var":"subject.tags.team"}]},{"in":["red",{"var":"resource.tags.team"}]}]}`)}},
			RolePermissions: []authz.RolePermissionInput{{RoleID: "viewer", PermissionID: "p_tagged"}},
		}))(t)
		grant(t, c, "alice", "acme", "viewer")
		grant(t, c, "bob", "acme", "viewer")
		want(t, ask(t, c, "alice", "api", "comment", "doc_api"), true, authz.DecidedByRole)
		// bob's tag was assigned in sales, which is not in chain(api).
		want(t, ask(t, c, "bob", "api", "comment", "doc_api"), false, authz.DecidedByDefault)
		// Without resource tags the condition cannot hold.
		no := false
		d := must(c.Evaluate(ctx, authz.EvaluateInput{Actor: authz.SubjectRef{SubjectID: "alice"}, ScopeID: "api", Action: "comment",
			Resource: &authz.ResourceRef{ResourceID: "doc_api"}, IncludeResourceTags: &no}))(t)
		want(t, d, false, authz.DecidedByDefault)
	})
}

func TestEvaluateUnknownObjects(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		evalModel(t, c)
		for name, in := range map[string]authz.EvaluateInput{
			"actor":     {Actor: authz.SubjectRef{SubjectID: "nobody"}, ScopeID: "api", Action: "read", Resource: &authz.ResourceRef{ResourceID: "doc_api"}},
			"principal": {Actor: authz.SubjectRef{SubjectID: "bot"}, OnBehalfOf: &authz.SubjectRef{SubjectID: "nobody"}, ScopeID: "api", Action: "read", Resource: &authz.ResourceRef{ResourceID: "doc_api"}},
			"scope":     {Actor: authz.SubjectRef{SubjectID: "alice"}, ScopeID: "nowhere", Action: "read", Resource: &authz.ResourceRef{ResourceID: "doc_api"}},
			"resource":  {Actor: authz.SubjectRef{SubjectID: "alice"}, ScopeID: "api", Action: "read", Resource: &authz.ResourceRef{ResourceID: "nothing"}},
			"external":  {Actor: authz.SubjectRef{SubjectID: "alice"}, ScopeID: "api", Action: "read", Resource: &authz.ResourceRef{ExternalResourceID: "nothing", ResourceType: "document"}},
		} {
			t.Run(name, func(t *testing.T) {
				d, err := c.Evaluate(ctx, in)
				wantErr(t, err, authz.ErrNotFound)
				if d.Allowed || d.DecidedBy != authz.DecidedByDefault {
					t.Errorf("got %+v; want a default denial", d)
				}
			})
		}
		for name, in := range map[string]authz.EvaluateInput{
			"no actor":  {ScopeID: "api", Action: "read", Resource: &authz.ResourceRef{ResourceID: "doc_api"}},
			"no scope":  {Actor: authz.SubjectRef{SubjectID: "alice"}, Action: "read", Resource: &authz.ResourceRef{ResourceID: "doc_api"}},
			"no action": {Actor: authz.SubjectRef{SubjectID: "alice"}, ScopeID: "api", Resource: &authz.ResourceRef{ResourceID: "doc_api"}},
			"wrong type": {Actor: authz.SubjectRef{SubjectID: "alice", SubjectType: authz.SubjectAgent}, ScopeID: "api", Action: "read",
				Resource: &authz.ResourceRef{ResourceID: "doc_api"}},
		} {
			t.Run(name, func(t *testing.T) {
				d, err := c.Evaluate(ctx, in)
				wantErr(t, err, authz.ErrInvalid)
				if d.Allowed {
					t.Errorf("got allowed; want denied")
				}
			})
		}
	})
}

func TestEvaluateByExternalID(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		evalModel(t, c)
		grant(t, c, "alice", "acme", "viewer")
		for _, typ := range []string{"document", "rt_doc"} {
			d := must(c.Evaluate(ctx, authz.EvaluateInput{Actor: authz.SubjectRef{SubjectID: "alice"}, ScopeID: "api", Action: "read",
				Resource: &authz.ResourceRef{ExternalResourceID: "api-spec", ResourceType: typ}}))(t)
			want(t, d, true, authz.DecidedByRole)
		}
	})
}

func TestEvaluateExplainTrace(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		evalModel(t, c)
		grant(t, c, "alice", "acme", "viewer")
		d := ask(t, c, "alice", "api", "read", "doc_api")
		if len(d.Trace) < 2 {
			t.Fatalf("got trace %q; want the steps considered", d.Trace)
		}
		d = must(c.Evaluate(ctx, authz.EvaluateInput{Actor: authz.SubjectRef{SubjectID: "alice"}, ScopeID: "api", Action: "read", Resource: &authz.ResourceRef{ResourceID: "doc_api"}}))(t)
		if d.Trace != nil {
			t.Errorf("got trace %q without Explain; want none", d.Trace)
		}
	})
}

func TestEvaluateBatchAndFreshness(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			store := b.open(t)
			c1 := must(authz.New(store, testOptions()))(t)
			c2 := must(authz.New(store, &authz.Options{NewID: func(p string) string { return authz.NewUUIDv7ID(p) }}))(t)
			evalModel(t, c1)
			in := authz.EvaluateInput{Actor: authz.SubjectRef{SubjectID: "alice"}, ScopeID: "api", Action: "read", Resource: &authz.ResourceRef{ResourceID: "doc_api"}}
			want(t, must(c2.Evaluate(ctx, in))(t), false, authz.DecidedByDefault)
			// A write through another client on the same store is seen at once.
			grant(t, c1, "alice", "acme", "viewer")
			want(t, must(c2.Evaluate(ctx, in))(t), true, authz.DecidedByRole)
			bad := in
			bad.ScopeID = "nowhere"
			ds, err := c2.EvaluateBatch(ctx, []authz.EvaluateInput{in, bad, in})
			wantErr(t, err, authz.ErrNotFound)
			if len(ds) != 3 || !ds[0].Allowed || ds[1].Allowed || !ds[2].Allowed {
				t.Errorf("got %+v; want allowed, denied, allowed", ds)
			}
		})
	}
}

func TestCollectionMembership(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		evalModel(t, c)
		must(c.CreateCollections(ctx, []authz.CollectionInput{
			{ID: "coll_big", ScopeID: "acme", ResourceTypeID: "rt_doc", Name: "Big", MatchDefinition: json.RawMessage(`{"fields":{"pages":{"gte":10}}}`)},
			{ID: "coll_reports", ScopeID: "acme", ResourceTypeID: "rt_doc", Name: "Reports", MatchDefinition: json.RawMessage(`{"patterns":{"externalResourceId":"report-*"}}`)},
			{ID: "coll_every", ScopeID: "acme", ResourceTypeID: "rt_doc", Name: "Every", MatchDefinition: json.RawMessage(`{}`)},
		}))(t)
		for _, tc := range []struct {
			coll, res string
			want      bool
		}{{"coll_big", "doc_api", true}, {"coll_big", "doc_acme", false}, {"coll_reports", "doc_sales", true}, {"coll_reports", "doc_api", false}, {"coll_every", "doc_globex", false}} {
			if got := must(c.MatchesCollection(ctx, tc.coll, tc.res))(t); got != tc.want {
				t.Errorf("MatchesCollection(%s, %s) = %v; want %v", tc.coll, tc.res, got, tc.want)
			}
		}
		var ids []string
		for _, r := range must(c.ListCollectionResources(ctx, "coll_every", authz.Page{}))(t) {
			ids = append(ids, r.ID)
		}
		if got := strings.Join(ids, ","); got != "doc_acme,doc_api,doc_sales" {
			t.Errorf("got %s; want doc_acme,doc_api,doc_sales", got)
		}
		page := must(c.ListCollectionResources(ctx, "coll_every", authz.Page{After: "doc_acme", Limit: 1}))(t)
		if len(page) != 1 || page[0].ID != "doc_api" {
			t.Errorf("got page %+v; want doc_api", page)
		}
		_, err := c.MatchesCollection(ctx, "nope", "doc_api")
		wantErr(t, err, authz.ErrNotFound)
	})
}

// TestEvaluateAfterDelegatedBatch is a regression test: evaluation state is
// recycled, and a delegated request of EvaluateBatch once left its principal
// behind for the next Evaluate.
func TestEvaluateAfterDelegatedBatch(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		evalModel(t, c)
		grant(t, c, "alice", "acme", "viewer")
		read := authz.EvaluateInput{Actor: authz.SubjectRef{SubjectID: "alice"}, ScopeID: "api", Action: "read", Resource: &authz.ResourceRef{ResourceID: "doc_api"}}
		delegated := read
		delegated.OnBehalfOf = &authz.SubjectRef{SubjectID: "mallory"}
		for range 3 {
			must(c.EvaluateBatch(ctx, []authz.EvaluateInput{delegated}))(t)
			d := must(c.Evaluate(ctx, read))(t)
			if d.UsedDelegation || !d.Allowed {
				t.Fatalf("got usedDelegation=%v allowed=%v (%s); want a plain allowed decision", d.UsedDelegation, d.Allowed, d.Explanation)
			}
		}
	})
}

// TestEvaluateDenialExplanations checks the sentence of each reason the
// role step can give for skipping the only grant it found.
func TestEvaluateDenialExplanations(t *testing.T) {
	t.Parallel()
	cond := json.RawMessage(`{"==":[{"var":"context.ticket"},"open"]}`)
	for _, tc := range []struct {
		name   string
		setup  func(t *testing.T, c *authz.Client)
		action string
		want   string
	}{
		{"pattern", func(t *testing.T, c *authz.Client) { grant(t, c, "bob", "acme", "reporter") }, "read",
			`permission document:read:report-* matches the action but its pattern "report-*" does not match the resource`},
		{"role-permission override", func(t *testing.T, c *authz.Client) {
			grant(t, c, "bob", "acme", "editor")
			must(c.CreateScopeOverride(ctx, authz.ScopeOverrideInput{Kind: authz.OverrideRolePermission, ChildScopeID: "api", RoleID: "editor", PermissionID: "p_write", State: authz.OverrideDisabled}))(t)
		}, "write", "permission document:write:* through role editor is disabled by an override at scope api"},
		{"permission logic", func(t *testing.T, c *authz.Client) {
			must(c.Apply(ctx, authz.Batch{
				Permissions:     []authz.PermissionInput{{ID: "p_approve", ScopeID: "acme", Action: "approve", ResourceType: "document", Logic: cond}},
				Roles:           []authz.RoleInput{{ID: "approver", ScopeID: "acme", Name: "Approver"}},
				RolePermissions: []authz.RolePermissionInput{{RoleID: "approver", PermissionID: "p_approve"}},
			}))(t)
			grant(t, c, "bob", "acme", "approver")
		}, "approve", "permission document:approve:* through role approver matched but the permission p_approve logic was not met"},
		{"role-permission condition", func(t *testing.T, c *authz.Client) {
			must(c.Apply(ctx, authz.Batch{
				Permissions:     []authz.PermissionInput{{ID: "p_approve", ScopeID: "acme", Action: "approve", ResourceType: "document"}},
				Roles:           []authz.RoleInput{{ID: "approver", ScopeID: "acme", Name: "Approver"}},
				RolePermissions: []authz.RolePermissionInput{{ID: "rp_approve", RoleID: "approver", PermissionID: "p_approve", Condition: cond}},
			}))(t)
			grant(t, c, "bob", "acme", "approver")
		}, "approve", "permission document:approve:* through role approver matched but the condition of role permission rp_approve was not met"},
		{"override condition", func(t *testing.T, c *authz.Client) {
			grant(t, c, "bob", "acme", "editor")
			must(c.CreateScopeOverride(ctx, authz.ScopeOverrideInput{ID: "ov_write", Kind: authz.OverrideRolePermission, ChildScopeID: "api", RoleID: "editor", PermissionID: "p_write", State: authz.OverrideEnabled, Condition: cond}))(t)
		}, "write", "permission document:write:* through role editor matched but the condition of override ov_write was not met"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			eachBackend(t, func(t *testing.T, c *authz.Client) {
				evalModel(t, c)
				tc.setup(t, c)
				d := ask(t, c, "bob", "api", tc.action, "doc_api")
				want(t, d, false, authz.DecidedByDefault)
				if got, wantText := d.Explanation, "Denied: "+tc.want+"."; got != wantText {
					t.Errorf("got explanation %q; want %q", got, wantText)
				}
			})
		})
	}
}

// TestTraceNamesMissingPaths: the trace of a condition that did not hold
// names the paths it read that have no value — a misspelt field reads
// nothing — and not those that have one.
func TestTraceNamesMissingPaths(t *testing.T) {
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		bt := tinyModel()
		bt.Subjects[0].Meta = map[string]any{"level": 3, "teams": []any{"red"}}
		bt.Permissions[0].Logic = json.RawMessage(`{"and":[{">=":[{"var":"subject.meta.level"},1]},{"==":[{"var":"subject.meta.teams.0"},"red"]},` +
			`{"==":[{"var":"resource.owner"},{"var":"subject.id"}]},{"!":{"var":"context.flags.9"}}]}`)
		must(c.Apply(ctx, bt))(t)
		d := must(c.Evaluate(ctx, authz.EvaluateInput{Actor: authz.SubjectRef{SubjectID: "alice"}, ScopeID: "eng", Action: "read",
			Resource: &authz.ResourceRef{ResourceID: "doc_1"}, Explain: true}))(t)
		if d.Allowed {
			t.Fatal("allowed; want the condition to fail")
		}
		var line string
		for _, l := range d.Trace {
			if strings.Contains(l, "logic is not met") {
				line = l
			}
		}
		if !strings.Contains(line, "no value at resource.owner, context.flags.9") || strings.Contains(line, "subject.meta") {
			t.Errorf("trace line of the condition: got %q; want it to name resource.owner and context.flags.9 only", line)
		}
	})
}

// TestGrantOutcomesDoNotDependOnOrder: the outcome of a request granted
// several times (permissions, roles) is made once per list of grants and
// remembered; every decision of random models must be the same whatever
// requests came before it — in order, reversed and shuffled, each on a new
// Client over the same store — and the models must grant several times
// often.
func TestGrantOutcomesDoNotDependOnOrder(t *testing.T) {
	t.Parallel()
	multi := 0
	for m := range invariantModels(t) {
		s := authztest.Memstore(t)
		_, bt := loadRandomModel(t, s, m)
		reqs := allRequests(bt)
		orders := [][]int{make([]int, len(reqs)), make([]int, len(reqs)), rand.New(rand.NewPCG(uint64(m), 1)).Perm(len(reqs))}
		for i := range reqs {
			orders[0][i], orders[1][i] = i, len(reqs)-1-i
		}
		var first []authz.Decision
		for o, order := range orders {
			c := must(authz.New(s, &authz.Options{DecisionCacheSize: -1}))(t)
			got := make([]authz.Decision, len(reqs))
			for _, i := range order {
				got[i] = must(c.Evaluate(ctx, reqs[i]))(t)
			}
			if o == 0 {
				first = got
				for _, d := range got {
					if len(d.Matches) > 1 || len(d.Matches) == 1 && len(d.Matches[0].SourceRoleIDs) > 1 {
						multi++
					}
				}
				continue
			}
			if diff := cmp.Diff(first, got); diff != "" {
				t.Fatalf("model %d, order %d: decisions differ from the first order (-first +got):\n%s", m, o, diff)
			}
		}
	}
	if multi < 10 {
		t.Errorf("%d decisions granted several times; want at least 10", multi)
	}
}

// TestSeveralGrantsMatchTheModel: subjects holding random subsets of roles
// that share permissions (patterns *, exact and globs), asked about every
// resource and action in shuffled order on one Client: each allowed
// decision lists exactly the permissions that grant, each with exactly the
// roles it comes through, whatever lists of grants came before.
func TestSeveralGrantsMatchTheModel(t *testing.T) {
	t.Parallel()
	patterns := []string{"*", "x-1", "x-*", "y-?", "*"}
	actions := []string{"read", "write"}
	ext := []string{"x-1", "x-2", "y-1", "z"}
	several := 0
	for seed := range 20 {
		r := rand.New(rand.NewPCG(uint64(seed), 9))
		bt := authz.Batch{
			ScopeTypes:    []authz.ScopeTypeInput{{ID: "org", Name: "Org", Config: authz.ScopeTypeConfig{PermissionMode: authz.PermissionModeDefine}}},
			Scopes:        []authz.ScopeInput{{ID: "acme", TypeID: "org"}},
			ResourceTypes: []authz.ResourceTypeInput{{ID: "rt", ScopeID: "acme", Key: "doc", Name: "Doc"}},
		}
		for i, x := range ext {
			bt.Resources = append(bt.Resources, authz.ResourceInput{ID: "d" + strconv.Itoa(i), ResourceTypeID: "rt", ScopeID: "acme", ExternalResourceID: x})
		}
		type perm struct{ id, action, pattern string }
		var perms []perm
		for i := range 6 {
			p := perm{"p" + strconv.Itoa(i), actions[r.IntN(2)], patterns[r.IntN(len(patterns))]}
			perms = append(perms, p)
			bt.Permissions = append(bt.Permissions, authz.PermissionInput{ID: p.id, ScopeID: "acme", Action: p.action, ResourceType: "doc", ResourcePattern: p.pattern, Key: p.id})
		}
		holds := map[string][]string{} // role → permissions
		for i := range 5 {
			role := "r" + strconv.Itoa(i)
			bt.Roles = append(bt.Roles, authz.RoleInput{ID: role, ScopeID: "acme", Name: role})
			for _, p := range perms {
				if r.IntN(2) == 0 {
					holds[role] = append(holds[role], p.id)
					bt.RolePermissions = append(bt.RolePermissions, authz.RolePermissionInput{RoleID: role, PermissionID: p.id})
				}
			}
		}
		rolesOf := map[string][]string{}
		for i := range 6 {
			sub := "s" + strconv.Itoa(i)
			bt.Subjects = append(bt.Subjects, authz.SubjectInput{ID: sub, SubjectType: authz.SubjectUser, ExternalID: sub})
			for _, role := range bt.Roles {
				if r.IntN(2) == 0 {
					rolesOf[sub] = append(rolesOf[sub], role.ID)
				}
			}
			if len(rolesOf[sub]) > 0 {
				bt.Memberships = append(bt.Memberships, authz.MembershipInput{SubjectID: sub, ScopeID: "acme", RoleIDs: rolesOf[sub]})
			}
		}
		c := authztest.NewClient(t, authztest.Memstore(t), &authz.Options{DecisionCacheSize: -1})
		must(c.Apply(ctx, bt))(t)
		type q struct {
			sub, action string
			res         int
		}
		var qs []q
		for _, s := range bt.Subjects {
			for _, a := range actions {
				for i := range ext {
					qs = append(qs, q{s.ID, a, i})
				}
			}
		}
		r.Shuffle(len(qs), func(i, j int) { qs[i], qs[j] = qs[j], qs[i] })
		for _, x := range qs {
			want := map[string][]string{}
			for _, role := range rolesOf[x.sub] {
				for _, pid := range holds[role] {
					p := perms[pid[1]-'0']
					if p.action == x.action && glob(p.pattern, ext[x.res]) {
						want[pid] = append(want[pid], role)
					}
				}
			}
			d := must(c.Evaluate(ctx, authz.EvaluateInput{Actor: authz.SubjectRef{SubjectID: x.sub}, ScopeID: "acme", Action: x.action,
				Resource: &authz.ResourceRef{ResourceID: "d" + strconv.Itoa(x.res)}}))(t)
			got := map[string][]string{}
			for _, mt := range d.Matches {
				got[mt.PermissionID] = mt.SourceRoleIDs
			}
			if d.Allowed != (len(want) > 0) || len(want) > 0 && cmp.Diff(want, got) != "" {
				t.Fatalf("seed %d: %s %s %s: got allowed=%v matches %v; want %v", seed, x.sub, x.action, ext[x.res], d.Allowed, got, want)
			}
			if len(want) > 1 || len(want) == 1 && len(got[d.Matches[0].PermissionID]) > 1 {
				several++
			}
		}
	}
	if several < 50 {
		t.Errorf("%d decisions granted several times; want at least 50", several)
	}
}
