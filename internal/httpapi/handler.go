package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/scopegate/authz"
)

// queryOverhead is what a question body (evaluate, lookups) may hold
// besides its context: the largest such body is MaxContextBytes plus this.
const queryOverhead = 64 << 10

// Config configures a handler.
type Config struct {
	// Tokens maps each bearer token the server accepts to the subject id
	// its requests are attributed to (createdBy, appliedBy, the default
	// ownerId); an empty subject id means "system". At least one token is
	// required; an empty token is never accepted.
	Tokens map[string]string
	// Limits bounds what a request may take of the server.
	Limits Limits
	// Logger, when not nil, receives one line per request: its method,
	// route pattern, path, status, duration and request id (the id is
	// also answered in the X-Request-Id header). Tokens are never logged.
	Logger *slog.Logger
}

// NewHandler returns the API's routes behind the token check and the
// limits of lim. Writes are attributed to actor (a subject id; empty means
// "system"), as the original API attributes them to the token's owner. It
// is NewHandlerWith with one token and no request log.
func NewHandler(c *authz.Client, token, actor string, lim Limits) http.Handler {
	return NewHandlerWith(c, Config{Tokens: map[string]string{token: actor}, Limits: lim})
}

// NewHandlerWith returns the API's routes as configured by cfg: GET /
// lists them and GET /openapi.json describes them.
func NewHandlerWith(c *authz.Client, cfg Config) http.Handler {
	h, _ := buildHandler(c, cfg)
	return h
}

// buildHandler is NewHandlerWith that also returns the gate counting the
// requests in flight.
func buildHandler(c *authz.Client, cfg Config) (http.Handler, *gate) {
	mux := newRouter(c, cfg.Limits)
	g := newGate(cfg.Limits)
	h := authenticate(cfg.Tokens, g.wrap(revisionHeader(jsonFallback(mux.ServeMux))))
	return requestLog(cfg.Logger, mux.ServeMux, h), g
}

// revisionHeader answers, for a request that wrote, the revision the write
// committed in the Authz-Revision header: a client passes it on as
// consistency.atLeastRevision to read its write from any server sharing
// the store.
func revisionHeader(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var rev authz.WriteRevision
		r = r.WithContext(authz.WithWriteRevision(r.Context(), &rev))
		next.ServeHTTP(&revisionWriter{ResponseWriter: w, rev: &rev}, r)
	})
}

// revisionWriter sets the Authz-Revision header before the answer's.
type revisionWriter struct {
	http.ResponseWriter
	rev     *authz.WriteRevision
	written bool
}

func (w *revisionWriter) WriteHeader(code int) {
	if !w.written {
		w.written = true
		if v := w.rev.Revision(); v > 0 {
			w.Header().Set("Authz-Revision", strconv.FormatUint(v, 10))
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *revisionWriter) Write(b []byte) (int, error) {
	if !w.written {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// route is one route of the API as the index (GET /) and the OpenAPI
// document (GET /openapi.json) show it; both are made from the routes the
// router registered, so they list exactly the routes served.
type route struct {
	Method  string `json:"method"`
	Path    string `json:"path"`
	Summary string `json:"summary"`
	// body is the type the request body decodes into (nil: no body),
	// query a struct whose JSON fields are the query parameters (nil:
	// none), response the type of the answer of a success, with status.
	body, query, response reflect.Type
	status                int
	upsert                bool // answers 201 rather than status when it creates
}

// router is the mux of the API with its route table, and the Go type the
// body of each route pattern decodes into (nil for routes without a body).
type router struct {
	*http.ServeMux
	client *authz.Client
	lim    Limits
	routes map[string]reflect.Type
	table  []route
}

// handle registers rt, served by h.
func (m *router) handle(rt route, h http.HandlerFunc) {
	pattern := rt.Method + " " + rt.Path
	if rt.status == 0 {
		rt.status = http.StatusOK
	}
	m.routes[pattern] = rt.body
	m.table = append(m.table, rt)
	m.HandleFunc(pattern, h)
}

// newRouter registers every route of the API over c. A new kind adds its
// line to each group (kind, lists, patches); routes of one kind's own
// (hierarchy queries, overrides by kind) are in routes.go.
func newRouter(c *authz.Client, lim Limits) *router {
	mux := &router{ServeMux: http.NewServeMux(), client: c, lim: lim, routes: map[string]reflect.Type{}}
	kind(mux, "scope-types", c.CreateScopeTypes, c.GetScopeType, c.DeleteScopeType)
	kind(mux, "scope-type-hierarchy", c.CreateScopeTypeEdges, c.GetScopeTypeEdge, c.DeleteScopeTypeEdge)
	kind(mux, "scopes", c.CreateScopes, c.GetScope, c.DeleteScope)
	kind(mux, "scope-hierarchy", c.CreateScopeEdges, c.GetScopeEdge, c.DeleteScopeEdge)
	kind(mux, "subjects", c.CreateSubjects, c.GetSubject, c.DeleteSubject)
	kind(mux, "memberships", withRoleIDs(c, c.CreateMemberships), oneWithRoleIDs(c, c.GetMembership), c.DeleteMembership)
	kind(mux, "role-assignments", c.CreateRoleAssignments, c.GetRoleAssignment, c.DeleteRoleAssignment)
	kind(mux, "roles", c.CreateRoles, c.GetRole, c.DeleteRole)
	kind(mux, "permissions", c.CreatePermissions, c.GetPermission, c.DeletePermission)
	kind(mux, "role-permissions", c.CreateRolePermissions, c.GetRolePermission, c.DeleteRolePermission)
	kind(mux, "resource-types", c.CreateResourceTypes, c.GetResourceType, c.DeleteResourceType)
	kind(mux, "resource-type-hierarchy", c.CreateResourceTypeEdges, c.GetResourceTypeEdge, c.DeleteResourceTypeEdge)
	kind(mux, "resources", c.CreateResources, c.GetResource, c.DeleteResource)
	kind(mux, "resource-hierarchy", c.CreateResourceEdges, c.GetResourceEdge, c.DeleteResourceEdge)
	kind(mux, "resource-scope-links", c.CreateResourceScopeLinks, c.GetResourceScopeLink, c.DeleteResourceScopeLink)
	kind(mux, "resource-collections", c.CreateCollections, c.GetCollection, c.DeleteCollection)
	kind(mux, "resource-policies", c.CreateResourcePolicies, c.GetResourcePolicy, c.DeleteResourcePolicy)
	kind(mux, "tag-groups", c.CreateTagGroups, c.GetTagGroup, c.DeleteTagGroup)
	kind(mux, "tags", c.CreateTags, c.GetTag, c.DeleteTag)
	kind(mux, "tag-group-bindings", c.CreateTagBindings, c.GetTagBinding, c.DeleteTagBinding)
	kind(mux, "tag-assignments", c.CreateTagAssignments, c.GetTagAssignment, c.DeleteTagAssignment)
	for _, ok := range overrideKinds {
		create := func(ctx context.Context, in []authz.ScopeOverrideInput) ([]authz.ScopeOverride, error) {
			for i := range in {
				in[i].Kind = ok.kind // set by the endpoint
			}
			return c.CreateScopeOverrides(ctx, in)
		}
		creates(mux, "scope-overrides/"+ok.path, create)
	}
	getDelete(mux, "scope-overrides", c.GetScopeOverride, c.DeleteScopeOverride)
	lists(mux, "scope-types", c.ListScopeTypes)
	lists(mux, "scope-type-hierarchy", c.ListScopeTypeEdges)
	lists(mux, "scopes", c.ListScopes)
	lists(mux, "scope-hierarchy", c.ListScopeEdges)
	lists(mux, "subjects", c.ListSubjects)
	lists(mux, "memberships", withRoleIDs(c, c.ListMemberships))
	lists(mux, "role-assignments", c.ListRoleAssignments)
	lists(mux, "roles", c.ListRoles)
	lists(mux, "permissions", c.ListPermissions)
	lists(mux, "role-permissions", c.ListRolePermissions)
	lists(mux, "scope-overrides", c.ListScopeOverrides)
	lists(mux, "resource-types", c.ListResourceTypes)
	lists(mux, "resource-type-hierarchy", c.ListResourceTypeEdges)
	lists(mux, "resources", c.ListResources)
	lists(mux, "resource-hierarchy", c.ListResourceEdges)
	lists(mux, "resource-scope-links", c.ListResourceScopeLinks)
	lists(mux, "resource-collections", c.ListCollections)
	lists(mux, "resource-policies", c.ListResourcePolicies)
	lists(mux, "tag-groups", c.ListTagGroups)
	lists(mux, "tags", c.ListTags)
	lists(mux, "tag-group-bindings", c.ListTagBindings)
	lists(mux, "tag-assignments", c.ListTagAssignments)
	patches(mux, "scope-types", c.UpdateScopeType, c.GetScopeType)
	patches(mux, "scopes", c.UpdateScope, c.GetScope)
	patches(mux, "subjects", c.UpdateSubject, c.GetSubject)
	patches(mux, "roles", c.UpdateRole, c.GetRole)
	patches(mux, "scope-overrides", c.UpdateScopeOverride, c.GetScopeOverride)
	patches(mux, "resource-types", c.UpdateResourceType, c.GetResourceType)
	patches(mux, "resources", c.UpdateResource, c.GetResource)
	patches(mux, "resource-hierarchy", c.UpdateResourceEdge, c.GetResourceEdge)
	patches(mux, "resource-scope-links", c.UpdateResourceScopeLink, c.GetResourceScopeLink)
	patches(mux, "resource-collections", c.UpdateCollection, c.GetCollection)
	patches(mux, "resource-policies", c.UpdateResourcePolicy, c.GetResourcePolicy)
	patches(mux, "tag-groups", c.UpdateTagGroup, c.GetTagGroup)
	patches(mux, "tags", c.UpdateTag, c.GetTag)
	mux.handle(route{Method: "GET", Path: "/subjects/{id}/permissions", Summary: "the permissions a subject holds at a scope (query scopeId, required)",
		query: reflect.TypeFor[struct {
			ScopeID string `json:"scopeId"`
		}](), response: reflect.TypeFor[[]authz.EffectivePermission]()}, func(w http.ResponseWriter, r *http.Request) {
		var q struct {
			ScopeID string `json:"scopeId"`
		}
		if msg := parseQuery(r, &q); msg != "" {
			writeErrorBody(w, http.StatusBadRequest, "invalid_argument", "query: "+msg, nil)
			return
		}
		scope := q.ScopeID
		if scope == "" {
			writeErrorBody(w, http.StatusBadRequest, "invalid_argument", "scopeId: is required", nil)
			return
		}
		perms, err := c.ListEffectivePermissions(r.Context(), r.PathValue("id"), scope)
		if err != nil {
			writeError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, perms)
	})
	mux.handle(route{Method: "GET", Path: "/changes", Summary: "the audit feed, paged by seq (query after, limit, kind, id)",
		query: reflect.TypeFor[authz.ChangesInput](), response: reflect.TypeFor[authz.ChangePage]()}, func(w http.ResponseWriter, r *http.Request) {
		var in authz.ChangesInput
		if msg := parseQuery(r, &authz.ChangesInput{}); msg != "" { // unknown and repeated parameters
			writeErrorBody(w, http.StatusBadRequest, "invalid_argument", "query: "+msg, nil)
			return
		}
		q := r.URL.Query()
		for name, dst := range map[string]*int{"after": nil, "limit": &in.Limit} {
			v := q.Get(name)
			if v == "" {
				continue
			}
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				writeErrorBody(w, http.StatusBadRequest, "invalid_argument", name+": not a whole number of 0 or more", nil)
				return
			}
			if dst == nil {
				in.After = n
			} else {
				*dst = int(min(n, 1000))
			}
		}
		in.Kind, in.ID, in.ScopeID = q.Get("kind"), q.Get("id"), q.Get("scopeId")
		switch q.Get("subtree") {
		case "", "false":
		case "true":
			in.Subtree = true
		default:
			writeErrorBody(w, http.StatusBadRequest, "invalid_argument", "subtree: not true or false", nil)
			return
		}
		page, err := c.Changes(r.Context(), in)
		if err != nil {
			writeError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, page)
	})
	query(mux, "/lookup/subjects", "the subjects allowed to do an action on a resource", c.ListAllowedSubjects,
		func(in *authz.LookupSubjectsInput) *bodyError { return boundPage(&in.Page, lim.MaxLookupLimit) }, nil)
	query(mux, "/lookup/resources", "the resources of a type a subject is allowed to do an action on", c.ListAllowedResources,
		func(in *authz.LookupResourcesInput) *bodyError { return boundPage(&in.Page, lim.MaxLookupLimit) },
		func(in *authz.LookupResourcesInput) []actorRef { return actorRefs(in.Actor, in.OnBehalfOf) })
	query(mux, "/evaluate", "decide one request: may the actor do the action on the resource in the scope", c.Evaluate, nil,
		func(in *authz.EvaluateInput) []actorRef { return actorRefs(in.Actor, in.OnBehalfOf) })
	moreRoutes(mux, c)
	index(mux)
	return mux
}

// boundPage gives a lookup without a limit the largest page, max, and
// refuses a larger limit: a lookup's cost grows with its page.
func boundPage(p *authz.Page, max int) *bodyError {
	switch {
	case p.Limit == 0:
		p.Limit = max
	case p.Limit > max:
		return &bodyError{Path: []pathElem{{key: "limit", isKey: true}}, Status: http.StatusBadRequest, Code: "invalid_argument",
			Msg: fmt.Sprintf("is %d; at most %d are allowed (the next page is asked for with after)", p.Limit, max)}
	}
	return nil
}

// actorRef is a subject a question names as its actor or principal, with
// the body field naming it.
type actorRef struct {
	field string
	id    string
}

func actorRefs(actor authz.SubjectRef, onBehalfOf *authz.SubjectRef) []actorRef {
	refs := []actorRef{{"actor.subjectId", actor.SubjectID}}
	if onBehalfOf != nil {
		refs = append(refs, actorRef{"onBehalfOf.subjectId", onBehalfOf.SubjectID})
	}
	return refs
}

// query serves POST path: a question in the body, answered by fn. The body
// may be at most MaxContextBytes+queryOverhead bytes long and its context
// at most MaxContextBytes; prepare, when not nil, checks and completes the
// question before fn answers it. A question whose actor (or principal, as
// actors names them) is no subject is answered 422 unknown_actor; another
// id of the body that names nothing, 422 unknown_reference.
func query[In, Out any](mux *router, path, summary string, fn func(context.Context, In) (Out, error), prepare func(*In) *bodyError, actors func(*In) []actorRef) {
	max := mux.lim.MaxContextBytes
	bounds := bodyBounds{maxBytes: int64(max) + queryOverhead, maxTop: map[string]int{"context": max}}
	mux.handle(route{Method: "POST", Path: path, Summary: summary, body: reflect.TypeFor[In](), response: reflect.TypeFor[Out]()}, func(w http.ResponseWriter, r *http.Request) {
		var in In
		if !decode(w, r, &in, bounds) {
			return
		}
		if prepare != nil {
			if err := prepare(&in); err != nil {
				writeBodyError(w, err)
				return
			}
		}
		out, err := fn(r.Context(), in)
		if err != nil {
			if errors.Is(err, authz.ErrNotFound) && actors != nil {
				for _, a := range actors(&in) {
					if _, gerr := mux.client.GetSubject(r.Context(), a.id); errors.Is(gerr, authz.ErrNotFound) {
						writeErrorBody(w, http.StatusUnprocessableEntity, "unknown_actor", a.field+": "+gerr.Error(), nil)
						return
					}
				}
			}
			writeRefError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, out)
	})
}

// jsonFallback answers the requests no route takes (an unknown path, a
// method the path does not have, a path to clean) with the API's JSON error
// body instead of the mux's plain text: 404 no_route, 405
// method_not_allowed, or a redirect.
func jsonFallback(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pattern := mux.Handler(r); pattern != "" && r.URL.Path == canonicalPath(r.URL.Path) {
			mux.ServeHTTP(w, r)
			return
		}
		rec := &headerRecorder{header: http.Header{}}
		mux.ServeHTTP(rec, r)
		for _, h := range []string{"Allow", "Location"} {
			if v := rec.header.Get(h); v != "" {
				w.Header().Set(h, v)
			}
		}
		switch {
		case rec.code == http.StatusMethodNotAllowed:
			writeErrorBody(w, rec.code, "method_not_allowed", fmt.Sprintf("%s is not allowed on %s (allowed: %s)", r.Method, r.URL.Path, rec.header.Get("Allow")), nil)
		case rec.code >= 300 && rec.code < 400:
			writeErrorBody(w, rec.code, "redirect", "the path is not in canonical form; follow the Location header", nil)
		default:
			writeErrorBody(w, http.StatusNotFound, "no_route", fmt.Sprintf("no route for %s %s (GET / lists the routes)", r.Method, r.URL.Path), nil)
		}
	})
}

// canonicalPath is p as the mux wants it: cleaned, keeping a trailing
// slash. The mux redirects other paths.
func canonicalPath(p string) string {
	np := path.Clean(p)
	if strings.HasSuffix(p, "/") && np != "/" {
		np += "/"
	}
	return np
}

// headerRecorder keeps the status and headers the mux answers with and
// drops its body.
type headerRecorder struct {
	header http.Header
	code   int
}

func (h *headerRecorder) Header() http.Header         { return h.header }
func (h *headerRecorder) Write(b []byte) (int, error) { return len(b), nil }
func (h *headerRecorder) WriteHeader(code int)        { h.code = code }

// kind registers POST /name, POST /name/batch, GET /name/{id} and
// DELETE /name/{id}.
func kind[I, O any](mux *router, name string, create func(context.Context, []I) ([]O, error), get func(context.Context, string) (O, error), del func(context.Context, string) error) {
	creates(mux, name, create)
	getDelete(mux, name, get, del)
}

// creates registers POST /name (one object) and POST /name/batch (an
// array, atomic). An id of the body that names nothing is 422
// unknown_reference, naming the item and field.
func creates[I, O any](mux *router, name string, create func(context.Context, []I) ([]O, error)) {
	bounds := bodyBounds{maxBytes: mux.lim.MaxBodyBytes}
	mux.handle(route{Method: "POST", Path: "/" + name, Summary: "create one of " + name, body: reflect.TypeFor[I](), response: reflect.TypeFor[O](), status: http.StatusCreated},
		func(w http.ResponseWriter, r *http.Request) {
			var in I
			if !decode(w, r, &in, bounds) {
				return
			}
			out, err := create(r.Context(), []I{in})
			if err != nil {
				writeRefError(w, err)
				return
			}
			writeJSON(w, http.StatusCreated, out[0])
		})
	mux.handle(route{Method: "POST", Path: "/" + name + "/batch", Summary: "create " + name + " in one atomic batch", body: reflect.TypeFor[[]I](), response: reflect.TypeFor[[]O](), status: http.StatusCreated},
		func(w http.ResponseWriter, r *http.Request) {
			var in []I
			if !decode(w, r, &in, bounds) {
				return
			}
			out, err := create(r.Context(), in)
			if err != nil {
				writeRefError(w, err)
				return
			}
			writeJSON(w, http.StatusCreated, out)
		})
}

// success is the answer of a delete.
type success struct {
	Success bool `json:"success"`
}

func getDelete[O any](mux *router, name string, get func(context.Context, string) (O, error), del func(context.Context, string) error) {
	mux.handle(route{Method: "GET", Path: "/" + name + "/{id}", Summary: "read one of " + name, response: reflect.TypeFor[O]()}, func(w http.ResponseWriter, r *http.Request) {
		out, err := get(r.Context(), r.PathValue("id"))
		if err != nil {
			writeError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, out)
	})
	mux.handle(route{Method: "DELETE", Path: "/" + name + "/{id}", Summary: "delete one of " + name + " and what depends on it", response: reflect.TypeFor[success]()}, func(w http.ResponseWriter, r *http.Request) {
		if err := del(r.Context(), r.PathValue("id")); err != nil {
			writeError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, success{true})
	})
}

// listPage is the answer of every list route: a page of items in the
// route's order and, when more remain, the after of the next page.
type listPage[T any] struct {
	Items []T    `json:"items"`
	Next  string `json:"next,omitempty"`
}

// pathID is an id of a list route's path, with how to read it: when the
// list is empty and the id names nothing, the route answers 404 not_found.
type pathID struct {
	name string
	get  func(context.Context, string) error
}

// exists adapts a Get method to pathID.get.
func exists[O any](get func(context.Context, string) (O, error)) func(context.Context, string) error {
	return func(ctx context.Context, id string) error {
		_, err := get(ctx, id)
		return err
	}
}

// lists registers GET /name?filters: the query parameters are the JSON
// fields of the filter (see parseQuery).
func lists[F, O any](mux *router, name string, list func(context.Context, F) ([]O, error)) {
	pagedList(mux, "/"+name, "list "+name+" (the query parameters filter and page it)", nil,
		func(ctx context.Context, _ *http.Request, f F) ([]O, error) { return list(ctx, f) })
}

// pagedList registers GET path, answered by fn with a listPage. The query
// parameters are the JSON fields of Q, which embeds authz.Page: limit (at
// most MaxLookupLimit; none gives that many) and after (the next of the
// previous page). ids are the ids of the path to check when the answer is
// empty.
func pagedList[Q, O any](mux *router, path, summary string, ids []pathID, fn func(context.Context, *http.Request, Q) ([]O, error)) {
	max := mux.lim.MaxLookupLimit
	mux.handle(route{Method: "GET", Path: path, Summary: summary, query: reflect.TypeFor[Q](), response: reflect.TypeFor[listPage[O]]()}, func(w http.ResponseWriter, r *http.Request) {
		var q Q
		if msg := parseQuery(r, &q); msg != "" {
			writeErrorBody(w, http.StatusBadRequest, "invalid_argument", "query: "+msg, nil)
			return
		}
		page := pageOf(&q)
		limit := page.Limit
		switch {
		case limit < 0:
			writeErrorBody(w, http.StatusBadRequest, "invalid_argument", "query: limit: must not be negative", nil)
			return
		case limit == 0:
			limit = max
		case limit > max:
			writeErrorBody(w, http.StatusBadRequest, "invalid_argument", fmt.Sprintf("query: limit: is %d; at most %d are allowed (the next page is asked for with after)", limit, max), nil)
			return
		}
		page.Limit = limit + 1 // one more tells whether a next page exists
		out, err := fn(r.Context(), r, q)
		if err != nil {
			writeError(w, err)
			return
		}
		if len(out) == 0 {
			for _, id := range ids {
				if err := id.get(r.Context(), r.PathValue(id.name)); err != nil {
					writeError(w, err)
					return
				}
			}
		}
		p := listPage[O]{Items: out}
		if len(out) > limit {
			p.Items = out[:limit]
			p.Next = reflect.ValueOf(out[limit-1]).FieldByName("ID").String()
		}
		writeJSON(w, http.StatusOK, p)
	})
}

var pageType = reflect.TypeFor[authz.Page]()

// pageOf returns the authz.Page of *q: q itself or its field (possibly
// promoted) of that type.
func pageOf(q any) *authz.Page {
	v := reflect.ValueOf(q).Elem()
	if v.Type() == pageType {
		return v.Addr().Interface().(*authz.Page)
	}
	return v.FieldByIndex(pageField(v.Type())).Addr().Interface().(*authz.Page)
}

func pageField(t reflect.Type) []int {
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Type == pageType {
			return []int{i}
		}
		if f.Anonymous && f.Type.Kind() == reflect.Struct {
			if sub := pageField(f.Type); sub != nil {
				return append([]int{i}, sub...)
			}
		}
	}
	return nil
}

// parseQuery decodes the query parameters of r into *v, a struct: each
// parameter is the JSON field of that name, a number for an int field,
// true or false for a bool, a comma-separated (or repeated) list for a
// slice, else a string. An unknown parameter, a name in another case than
// the field's, a parameter other than a list given more than once, and a
// name or value that is not valid UTF-8 are refused. It returns the message
// of the refusal, or "".
func parseQuery(r *http.Request, v any) string {
	t := reflect.TypeOf(v).Elem()
	fields := queryFields(t)
	q := map[string]any{}
	for k, vs := range r.URL.Query() {
		if !utf8.ValidString(k) {
			return fmt.Sprintf("parameter %q: name is not valid UTF-8", k)
		}
		for _, v := range vs {
			if !utf8.ValidString(v) {
				return fmt.Sprintf("%s: value %q is not valid UTF-8", k, v)
			}
		}
		ft := fields[k]
		if ft != nil && ft.Kind() != reflect.Slice && len(vs) > 1 {
			return fmt.Sprintf("%s: given %d times; give it once (only a list may repeat)", k, len(vs))
		}
		switch {
		case ft == nil:
			q[k] = vs[0] // refused below, with the field it may stand for
		case ft.Kind() == reflect.Int || ft.Kind() == reflect.Int64 || ft.Kind() == reflect.Uint64:
			n, err := strconv.ParseInt(vs[0], 10, 64)
			if err != nil {
				return k + ": want a number"
			}
			q[k] = n
		case ft.Kind() == reflect.Bool:
			b, err := strconv.ParseBool(vs[0])
			if err != nil {
				return k + ": want true or false"
			}
			q[k] = b
		case ft.Kind() == reflect.Slice:
			var all []string
			for _, v := range vs {
				all = append(all, strings.Split(v, ",")...)
			}
			q[k] = all
		default:
			q[k] = vs[0]
		}
	}
	raw, _ := json.Marshal(q)
	if err := checkJSON(raw, t, nil); err != nil {
		return err.Error()
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonErrorText(err)
	}
	return ""
}

// queryFields returns the JSON fields of struct t by name, those of
// untagged embedded structs included.
func queryFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			for k, v := range queryFields(f.Type) {
				if _, ok := out[k]; !ok {
					out[k] = v
				}
			}
			continue
		}
		if !f.IsExported() || name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f.Type
	}
	return out
}

// patches registers PATCH /name/{id} with the kind's patch as the body. An
// id of the path that names nothing is 404 not_found; an id of the body
// that does, 422 unknown_reference.
func patches[P, O any](mux *router, name string, update func(context.Context, string, P) (O, error), get func(context.Context, string) (O, error)) {
	bounds := bodyBounds{maxBytes: mux.lim.MaxBodyBytes}
	mux.handle(route{Method: "PATCH", Path: "/" + name + "/{id}", Summary: "change one of " + name + " (fields not given are left unchanged)",
		body: reflect.TypeFor[P](), response: reflect.TypeFor[O]()}, func(w http.ResponseWriter, r *http.Request) {
		var p P
		if !decode(w, r, &p, bounds) {
			return
		}
		id := r.PathValue("id")
		out, err := update(r.Context(), id, p)
		if err != nil {
			if errors.Is(err, authz.ErrNotFound) {
				if _, gerr := get(r.Context(), id); errors.Is(gerr, authz.ErrNotFound) {
					writeError(w, err)
					return
				}
			}
			writeRefError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, out)
	})
}

// bodyBounds bounds a request body: maxBytes in all, and maxTop[name]
// bytes for its top-level field name.
type bodyBounds struct {
	maxBytes int64
	maxTop   map[string]int
}

// decode reads a JSON body into v, refusing what checkJSON refuses,
// unknown fields and trailing data, and a body larger than b allows (413,
// before reading it when Content-Length says so). It answers the error
// itself.
func decode(w http.ResponseWriter, r *http.Request, v any, b bodyBounds) bool {
	tooLarge := func() bool {
		msg := fmt.Sprintf("request body is larger than %d bytes", b.maxBytes)
		if max, ok := b.maxTop["context"]; ok {
			msg += fmt.Sprintf(" (context: at most %d bytes)", max)
		}
		w.Header().Set("Connection", "close")
		writeErrorBody(w, http.StatusRequestEntityTooLarge, "too_large", msg, nil)
		return false
	}
	if r.ContentLength > b.maxBytes {
		return tooLarge()
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, b.maxBytes))
	var mbe *http.MaxBytesError
	var ne net.Error
	switch {
	case errors.As(err, &mbe):
		return tooLarge()
	case errors.As(err, &ne) && ne.Timeout():
		w.Header().Set("Connection", "close")
		writeErrorBody(w, http.StatusRequestTimeout, "timeout", "the request body was not received in time", nil)
		return false
	case err != nil:
		w.Header().Set("Connection", "close")
		writeErrorBody(w, http.StatusBadRequest, "invalid_argument", "read body: "+err.Error(), nil)
		return false
	}
	var raw json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil { // syntax only: builds nothing
		writeErrorBody(w, http.StatusBadRequest, "invalid_argument", "invalid JSON body: "+jsonErrorText(err), nil)
		return false
	}
	if err := checkJSON(body, reflect.TypeOf(v).Elem(), b.maxTop); err != nil {
		writeBodyError(w, err)
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeErrorBody(w, http.StatusBadRequest, "invalid_argument", "invalid JSON body: "+jsonErrorText(err), nil)
		return false
	}
	return true
}

// jsonErrorText says what encoding/json found wrong in words of the API,
// without Go's names: "actor: is a string; want an object" rather than
// "cannot unmarshal string into Go struct field EvaluateInput.actor of
// type authz.SubjectRef".
func jsonErrorText(err error) string {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		where := te.Field
		if where == "" {
			where = "body"
		}
		return fmt.Sprintf("%s: is %s; want %s", where, article(te.Value), jsonKind(te.Type))
	case errors.As(err, &se):
		return fmt.Sprintf("%s (at byte %d)", strings.TrimPrefix(se.Error(), "json: "), se.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return "unexpected end of JSON input"
	}
	msg := strings.TrimPrefix(err.Error(), "json: ")
	if i := strings.Index(msg, " of type "); i >= 0 {
		msg = msg[:i] // a Go type name follows
	}
	return msg
}

// article puts "a" or "an" before what encoding/json calls a JSON value
// ("string", "number", "object", "array", "bool", "number -1").
func article(v string) string {
	switch {
	case v == "bool":
		return "true or false"
	case strings.HasPrefix(v, "number "):
		return "the number " + strings.TrimPrefix(v, "number ")
	case v != "" && strings.ContainsRune("aeiou", rune(v[0])):
		return "an " + v
	}
	return "a " + v
}

// jsonKind names the JSON value a Go type decodes from.
func jsonKind(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "an integer"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a non-negative integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	}
	return "another JSON value"
}

// writeBodyError answers a refused body. In a batch (an array body) the
// error also lists the item, as the library's batch errors do: its index,
// and the path within it as field.
func writeBodyError(w http.ResponseWriter, e *bodyError) {
	var items []itemBody
	if len(e.Path) > 0 && !e.Path[0].isKey {
		field := ""
		if len(e.Path) > 1 {
			field = formatPath(e.Path[1:])
		}
		items = []itemBody{{Index: e.Path[0].index, Field: field, Code: e.Code, Message: e.Msg}}
	}
	writeErrorBody(w, e.Status, e.Code, e.Error(), items)
}

type itemBody struct {
	Kind    string `json:"kind,omitempty"`
	Index   int    `json:"index"`
	ID      string `json:"id,omitempty"`
	Field   string `json:"field,omitempty"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// status maps an error to its HTTP status and code. With refs, a missing
// object is one an id of the request body names: 422 unknown_reference;
// else it is the object the path names: 404 not_found.
func status(err error, refs bool) (int, string) {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable, "timeout"
	case errors.Is(err, context.Canceled):
		return http.StatusServiceUnavailable, "canceled"
	case errors.Is(err, authz.ErrBatchTooLarge):
		return http.StatusRequestEntityTooLarge, "too_large"
	case errors.Is(err, authz.ErrInvalid):
		return http.StatusBadRequest, "invalid_argument"
	case errors.Is(err, authz.ErrNotFound) && refs:
		return http.StatusUnprocessableEntity, "unknown_reference"
	case errors.Is(err, authz.ErrNotFound):
		return http.StatusNotFound, "not_found"
	case errors.Is(err, authz.ErrAlreadyExists):
		return http.StatusConflict, "already_exists"
	case errors.Is(err, authz.ErrNotAllowed):
		return http.StatusUnprocessableEntity, "not_allowed"
	}
	return http.StatusInternalServerError, "internal"
}

// writeError answers err, the failure of a route whose path names the
// object read or written (a missing one is 404 not_found).
func writeError(w http.ResponseWriter, err error) { answerError(w, err, false) }

// writeRefError answers err, the failure of a route whose body names
// objects (a missing one is 422 unknown_reference).
func writeRefError(w http.ResponseWriter, err error) { answerError(w, err, true) }

// answerError answers err with the error body of the API; a *BatchError
// lists its items, each with its kind (POST /batch), index, id and field.
// A batch with items of several kinds answers with the status of the first
// item.
func answerError(w http.ResponseWriter, err error, refs bool) {
	var items []itemBody
	var be *authz.BatchError
	code, name := status(err, refs)
	if errors.As(err, &be) {
		for _, it := range be.Items {
			_, c := status(it, refs)
			items = append(items, itemBody{Kind: it.Kind, Index: it.Index, ID: it.ID, Field: it.Field, Code: c, Message: it.Err.Error()})
		}
		if len(be.Items) > 0 {
			code, name = status(be.Items[0], refs)
		}
	}
	msg := err.Error()
	if code == http.StatusInternalServerError {
		msg = "internal error"
	}
	writeErrorBody(w, code, name, msg, items)
}

// errorBody is the body of every error answer.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string     `json:"code"`
	Message string     `json:"message"`
	Items   []itemBody `json:"items,omitempty"`
}

func writeErrorBody(w http.ResponseWriter, code int, name, msg string, items []itemBody) {
	writeJSON(w, code, errorBody{errorDetail{Code: name, Message: msg, Items: items}})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}
