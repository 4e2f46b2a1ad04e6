package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"slices"

	"github.com/scopegate/authz"
)

// pageQuery is the query of a list route that only pages.
type pageQuery struct {
	authz.Page
}

// treeQuery is the query of a resource hierarchy route.
type treeQuery struct {
	CascadeOnly bool `json:"cascadeOnly,omitempty"`
	authz.Page
}

// membershipView is a membership as the API answers it: with the ids of
// the roles assigned through it, in id order.
type membershipView struct {
	authz.Membership
	RoleIDs []string `json:"roleIds"`
}

// withRoleIDs adds the role ids to the memberships fn answers.
func withRoleIDs[A any](c *authz.Client, fn func(context.Context, A) ([]authz.Membership, error)) func(context.Context, A) ([]membershipView, error) {
	return func(ctx context.Context, a A) ([]membershipView, error) {
		ms, err := fn(ctx, a)
		if err != nil {
			return nil, err
		}
		out := make([]membershipView, len(ms))
		for i, m := range ms {
			if out[i], err = roleIDsOf(ctx, c, m); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
}

// oneWithRoleIDs adds the role ids to the membership get answers.
func oneWithRoleIDs(c *authz.Client, get func(context.Context, string) (authz.Membership, error)) func(context.Context, string) (membershipView, error) {
	return func(ctx context.Context, id string) (membershipView, error) {
		m, err := get(ctx, id)
		if err != nil {
			return membershipView{}, err
		}
		return roleIDsOf(ctx, c, m)
	}
}

func roleIDsOf(ctx context.Context, c *authz.Client, m authz.Membership) (membershipView, error) {
	ras, err := c.ListRoleAssignments(ctx, authz.RoleAssignmentFilter{MembershipID: m.ID})
	if err != nil {
		return membershipView{}, err
	}
	v := membershipView{Membership: m, RoleIDs: make([]string, 0, len(ras))}
	for _, ra := range ras {
		v.RoleIDs = append(v.RoleIDs, ra.RoleID)
	}
	slices.Sort(v.RoleIDs)
	return v, nil
}

// overrideKindRoute is a kind of scope override as its routes name it:
// /scope-overrides/{path}/…, with the ids that, with the scope, identify
// one override of the kind.
type overrideKindRoute struct {
	path string
	kind authz.OverrideKind
	keys []string // roleId, permissionId or both
}

var overrideKinds = []overrideKindRoute{
	{"roles", authz.OverrideRole, []string{"roleId"}},
	{"permissions", authz.OverridePermission, []string{"permissionId"}},
	{"role-permissions", authz.OverrideRolePermission, []string{"roleId", "permissionId"}},
}

// overrideState is the body of PUT on a role or permission override.
type overrideState struct {
	State authz.OverrideState `json:"state"`
}

// overrideStateCondition is the body of PUT on a role-permission
// override; a condition left out removes the override's condition.
type overrideStateCondition struct {
	State     authz.OverrideState `json:"state"`
	Condition json.RawMessage     `json:"condition,omitempty"`
}

// moreRoutes registers the routes beyond the five per kind: queries of the
// hierarchies, lists by scope, overrides by kind and natural keys,
// collection membership, and POST /batch.
func moreRoutes(mux *router, c *authz.Client) {
	mux.handle(route{Method: "GET", Path: "/subjects/by-external", Summary: "the subject of a type with an external id (query type and externalId, both required; without them, the subject whose id is by-external)",
		query: reflect.TypeFor[struct {
			Type       authz.SubjectType `json:"type"`
			ExternalID string            `json:"externalId"`
		}](), response: reflect.TypeFor[authz.Subject]()}, func(w http.ResponseWriter, r *http.Request) {
		var q struct {
			Type       authz.SubjectType `json:"type"`
			ExternalID string            `json:"externalId"`
		}
		if msg := parseQuery(r, &q); msg != "" {
			writeErrorBody(w, http.StatusBadRequest, "invalid_argument", "query: "+msg, nil)
			return
		}
		if q.Type == "" && q.ExternalID == "" {
			// "by-external" is a valid subject id, which this route hides
			// from GET /subjects/{id}: without the query, read it.
			if s, err := c.GetSubject(r.Context(), "by-external"); err == nil {
				writeJSON(w, http.StatusOK, s)
				return
			}
		}
		if q.Type == "" || q.ExternalID == "" {
			writeErrorBody(w, http.StatusBadRequest, "invalid_argument", "query: type and externalId are required", nil)
			return
		}
		list, err := c.ListSubjects(r.Context(), authz.SubjectFilter{SubjectType: q.Type, ExternalID: q.ExternalID, Page: authz.Page{Limit: 1}})
		if err != nil {
			writeError(w, err)
			return
		}
		if len(list) == 0 {
			writeErrorBody(w, http.StatusNotFound, "not_found", fmt.Sprintf("no subject of type %q has external id %q", q.Type, q.ExternalID), nil)
			return
		}
		writeJSON(w, http.StatusOK, list[0])
	})
	scopeID := []pathID{{"scopeId", exists(c.GetScope)}}
	pagedList(mux, "/roles/by-scope/{scopeId}", "the roles defined at a scope", scopeID,
		func(ctx context.Context, r *http.Request, q pageQuery) ([]authz.Role, error) {
			return c.ListRoles(ctx, authz.RoleFilter{ScopeID: r.PathValue("scopeId"), Page: q.Page})
		})
	pagedList(mux, "/permissions/by-scope/{scopeId}", "the permissions defined at a scope", scopeID,
		func(ctx context.Context, r *http.Request, q pageQuery) ([]authz.Permission, error) {
			return c.ListPermissions(ctx, authz.PermissionFilter{ScopeID: r.PathValue("scopeId"), Page: q.Page})
		})
	for _, rel := range []struct {
		name, summary string
		depth         int
		scopes        func(context.Context, string, authz.TreeQuery) ([]authz.Scope, error)
		resources     func(context.Context, string, authz.TreeQuery) ([]authz.Resource, error)
	}{
		{"parents", "the parent (none for a root, at most one)", 1, c.ListScopeAncestors, c.ListResourceAncestors},
		{"ancestors", "the ancestors, nearest first", 0, c.ListScopeAncestors, c.ListResourceAncestors},
		{"children", "the children, in id order", 1, c.ListScopeDescendants, c.ListResourceDescendants},
		{"descendants", "the descendants, level by level, each level in id order", 0, c.ListScopeDescendants, c.ListResourceDescendants},
	} {
		pagedList(mux, "/scopes/{id}/"+rel.name, "scope hierarchy: "+rel.summary, nil,
			func(ctx context.Context, r *http.Request, q pageQuery) ([]authz.Scope, error) {
				return rel.scopes(ctx, r.PathValue("id"), authz.TreeQuery{Depth: rel.depth, Page: q.Page})
			})
		summary := "resource hierarchy: " + rel.summary + "; cascadeOnly=true follows only edges with cascade inherit"
		if rel.name == "parents" {
			summary = "resource hierarchy: the parents (a resource may have several); cascadeOnly=true: only those whose permissions cascade to it"
		}
		pagedList(mux, "/resources/{id}/"+rel.name, summary, nil,
			func(ctx context.Context, r *http.Request, q treeQuery) ([]authz.Resource, error) {
				return rel.resources(ctx, r.PathValue("id"), authz.TreeQuery{Depth: rel.depth, CascadeOnly: q.CascadeOnly, Page: q.Page})
			})
	}
	pagedList(mux, "/resource-collections/{id}/resources", "the resources in a collection", nil,
		func(ctx context.Context, r *http.Request, q pageQuery) ([]authz.Resource, error) {
			return c.ListCollectionResources(ctx, r.PathValue("id"), q.Page)
		})
	type testBody struct {
		ResourceID string `json:"resourceId"`
	}
	type testAnswer struct {
		Matches bool `json:"matches"`
	}
	mux.handle(route{Method: "POST", Path: "/resource-collections/{id}/test", Summary: "whether a resource is in a collection",
		body: reflect.TypeFor[testBody](), response: reflect.TypeFor[testAnswer]()}, func(w http.ResponseWriter, r *http.Request) {
		var in testBody
		if !decode(w, r, &in, bodyBounds{maxBytes: mux.lim.MaxBodyBytes}) {
			return
		}
		if in.ResourceID == "" {
			writeErrorBody(w, http.StatusBadRequest, "invalid_argument", "resourceId: is required", nil)
			return
		}
		id := r.PathValue("id")
		ok, err := c.MatchesCollection(r.Context(), id, in.ResourceID)
		if err != nil {
			if _, gerr := c.GetCollection(r.Context(), id); errors.Is(gerr, authz.ErrNotFound) {
				writeError(w, gerr)
				return
			}
			if errors.Is(err, authz.ErrNotFound) {
				writeErrorBody(w, http.StatusUnprocessableEntity, "unknown_reference", "resourceId: "+err.Error(), nil)
				return
			}
			writeError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, testAnswer{ok})
	})
	pagedList(mux, "/resource-policies/for-resource/{id}", "the policies targeting a resource, whatever scope defines them",
		[]pathID{{"id", exists(c.GetResource)}}, func(ctx context.Context, r *http.Request, q pageQuery) ([]authz.ResourcePolicy, error) {
			return c.ListResourcePolicies(ctx, authz.ResourcePolicyFilter{ResourceID: r.PathValue("id"), Page: q.Page})
		})
	pagedList(mux, "/resource-policies/for-collection/{id}", "the policies targeting a collection, whatever scope defines them",
		[]pathID{{"id", exists(c.GetCollection)}}, func(ctx context.Context, r *http.Request, q pageQuery) ([]authz.ResourcePolicy, error) {
			return c.ListResourcePolicies(ctx, authz.ResourcePolicyFilter{CollectionID: r.PathValue("id"), Page: q.Page})
		})
	for _, ok := range overrideKinds {
		if ok.kind == authz.OverrideRolePermission {
			overrideRoutes(mux, c, ok, func(b overrideStateCondition) authz.ScopeOverridePatch {
				cond := b.Condition
				if cond == nil {
					cond = json.RawMessage{} // PUT sets the whole state: no condition removes it
				}
				return authz.ScopeOverridePatch{State: &b.State, Condition: &cond}
			})
		} else {
			overrideRoutes(mux, c, ok, func(b overrideState) authz.ScopeOverridePatch { return authz.ScopeOverridePatch{State: &b.State} })
		}
	}
	mux.handle(route{Method: "POST", Path: "/batch", Summary: "create objects of several kinds in one atomic batch, in dependency order (errors name the kind, index and field of each item)",
		body: reflect.TypeFor[authz.Batch](), response: reflect.TypeFor[authz.BatchResult](), status: http.StatusCreated}, func(w http.ResponseWriter, r *http.Request) {
		var b authz.Batch
		if !decode(w, r, &b, bodyBounds{maxBytes: mux.lim.MaxBodyBytes}) {
			return
		}
		out, err := c.Apply(r.Context(), b)
		if err != nil {
			writeRefError(w, err)
			return
		}
		writeJSON(w, http.StatusCreated, out)
	})
}

// overrideRoutes registers the routes of one kind of override: its list at
// a scope, PUT of its state by id, and PUT (create or update) and DELETE
// by the scope and the ids the override is about. patch turns the body B
// into the change.
func overrideRoutes[B any](mux *router, c *authz.Client, ok overrideKindRoute, patch func(B) authz.ScopeOverridePatch) {
	base := "/scope-overrides/" + ok.path
	pagedList(mux, base+"/{scopeId}", "the "+string(ok.kind)+" overrides at a scope", []pathID{{"scopeId", exists(c.GetScope)}},
		func(ctx context.Context, r *http.Request, q pageQuery) ([]authz.ScopeOverride, error) {
			return c.ListScopeOverrides(ctx, authz.ScopeOverrideFilter{ChildScopeID: r.PathValue("scopeId"), Kind: ok.kind, Page: q.Page})
		})
	bounds := bodyBounds{maxBytes: mux.lim.MaxBodyBytes}
	decodeState := func(w http.ResponseWriter, r *http.Request) (authz.ScopeOverridePatch, bool) {
		var b B
		if !decode(w, r, &b, bounds) {
			return authz.ScopeOverridePatch{}, false
		}
		p := patch(b)
		if *p.State == "" {
			writeErrorBody(w, http.StatusBadRequest, "invalid_argument", "state: is required", nil)
			return p, false
		}
		return p, true
	}
	mux.handle(route{Method: "PUT", Path: base + "/{id}", Summary: "set the state of a " + string(ok.kind) + " override",
		body: reflect.TypeFor[B](), response: reflect.TypeFor[authz.ScopeOverride]()}, func(w http.ResponseWriter, r *http.Request) {
		p, good := decodeState(w, r)
		if !good {
			return
		}
		id := r.PathValue("id")
		o, err := c.GetScopeOverride(r.Context(), id)
		if err != nil {
			writeError(w, err)
			return
		}
		if o.Kind != ok.kind {
			writeErrorBody(w, http.StatusNotFound, "not_found", fmt.Sprintf("scope override %q is a %s override, not a %s override", id, o.Kind, ok.kind), nil)
			return
		}
		out, err := c.UpdateScopeOverride(r.Context(), id, p)
		if err != nil {
			writeError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, out)
	})
	natural := base + "/{scopeId}"
	for _, k := range ok.keys {
		natural += "/{" + k + "}"
	}
	keys := func(r *http.Request) (scope, role, perm string) {
		scope = r.PathValue("scopeId")
		if slices.Contains(ok.keys, "roleId") {
			role = r.PathValue("roleId")
		}
		if slices.Contains(ok.keys, "permissionId") {
			perm = r.PathValue("permissionId")
		}
		return
	}
	mux.handle(route{Method: "PUT", Path: natural, Summary: "create (201) or update (200) the " + string(ok.kind) + " override at a scope",
		body: reflect.TypeFor[B](), response: reflect.TypeFor[authz.ScopeOverride](), upsert: true}, func(w http.ResponseWriter, r *http.Request) {
		p, good := decodeState(w, r)
		if !good {
			return
		}
		scope, role, perm := keys(r)
		for attempt := 0; ; attempt++ {
			o, found, err := findOverride(r.Context(), c, ok.kind, scope, role, perm)
			if err != nil {
				writeError(w, err)
				return
			}
			if found {
				out, err := c.UpdateScopeOverride(r.Context(), o.ID, p)
				if err != nil {
					writeError(w, err)
					return
				}
				writeJSON(w, http.StatusOK, out)
				return
			}
			in := authz.ScopeOverrideInput{Kind: ok.kind, ChildScopeID: scope, RoleID: role, PermissionID: perm, State: *p.State}
			if p.Condition != nil {
				in.Condition = *p.Condition
			}
			out, err := c.CreateScopeOverrides(r.Context(), []authz.ScopeOverrideInput{in})
			if errors.Is(err, authz.ErrAlreadyExists) && attempt == 0 {
				continue // created meanwhile: update it
			}
			if err != nil {
				writeError(w, err) // the ids are the path's: a missing one is 404
				return
			}
			writeJSON(w, http.StatusCreated, out[0])
			return
		}
	})
	mux.handle(route{Method: "DELETE", Path: natural, Summary: "delete the " + string(ok.kind) + " override at a scope",
		response: reflect.TypeFor[success]()}, func(w http.ResponseWriter, r *http.Request) {
		scope, role, perm := keys(r)
		o, found, err := findOverride(r.Context(), c, ok.kind, scope, role, perm)
		if err != nil {
			writeError(w, err)
			return
		}
		if !found {
			writeErrorBody(w, http.StatusNotFound, "not_found", fmt.Sprintf("no %s override of %s at scope %q", ok.kind, overrideOf(role, perm), scope), nil)
			return
		}
		if err := c.DeleteScopeOverride(r.Context(), o.ID); err != nil {
			writeError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, success{true})
	})
}

func overrideOf(role, perm string) string {
	switch {
	case role != "" && perm != "":
		return fmt.Sprintf("role %q and permission %q", role, perm)
	case role != "":
		return fmt.Sprintf("role %q", role)
	}
	return fmt.Sprintf("permission %q", perm)
}

// findOverride returns the override of kind k at scope about role and
// perm (the ids the kind has; the others empty), if there is one.
func findOverride(ctx context.Context, c *authz.Client, k authz.OverrideKind, scope, role, perm string) (authz.ScopeOverride, bool, error) {
	list, err := c.ListScopeOverrides(ctx, authz.ScopeOverrideFilter{ChildScopeID: scope, RoleID: role, PermissionID: perm, Kind: k})
	if err != nil {
		return authz.ScopeOverride{}, false, err
	}
	for _, o := range list {
		if o.RoleID == role && o.PermissionID == perm {
			return o, true, nil
		}
	}
	return authz.ScopeOverride{}, false, nil
}
