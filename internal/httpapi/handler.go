package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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

// NewHandler returns the API's routes behind the token check and the
// limits of lim. Writes are attributed to actor (a subject id; empty means
// "system"), as the original API attributes them to the token's owner.
func NewHandler(c *authz.Client, token, actor string, lim Limits) http.Handler {
	h, _ := buildHandler(c, token, actor, lim)
	return h
}

// buildHandler is newHandler that also returns the gate counting the
// requests in flight.
func buildHandler(c *authz.Client, token, actor string, lim Limits) (http.Handler, *gate) {
	mux := newRouter(c, lim)
	g := newGate(lim)
	return authenticate(token, actor, g.wrap(revisionHeader(jsonFallback(mux.ServeMux)))), g
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

// router is the mux of the API with the pattern of every route and the Go
// type its body decodes into (nil for routes without a body).
type router struct {
	*http.ServeMux
	lim    Limits
	routes map[string]reflect.Type
}

func (m *router) handle(pattern string, body reflect.Type, h http.HandlerFunc) {
	m.routes[pattern] = body
	m.HandleFunc(pattern, h)
}

// newRouter registers every route of the API over c.
func newRouter(c *authz.Client, lim Limits) *router {
	mux := &router{ServeMux: http.NewServeMux(), lim: lim, routes: map[string]reflect.Type{}}
	kind(mux, "scope-types", c.CreateScopeTypes, c.GetScopeType, c.DeleteScopeType)
	kind(mux, "scope-type-hierarchy", c.CreateScopeTypeEdges, c.GetScopeTypeEdge, c.DeleteScopeTypeEdge)
	kind(mux, "scopes", c.CreateScopes, c.GetScope, c.DeleteScope)
	kind(mux, "scope-hierarchy", c.CreateScopeEdges, c.GetScopeEdge, c.DeleteScopeEdge)
	kind(mux, "subjects", c.CreateSubjects, c.GetSubject, c.DeleteSubject)
	kind(mux, "memberships", c.CreateMemberships, c.GetMembership, c.DeleteMembership)
	kind(mux, "role-assignments", c.CreateRoleAssignments, c.GetRoleAssignment, c.DeleteRoleAssignment)
	kind(mux, "roles", c.CreateRoles, c.GetRole, c.DeleteRole)
	kind(mux, "permissions", c.CreatePermissions, c.GetPermission, c.DeletePermission)
	kind(mux, "role-permissions", c.CreateRolePermissions, c.GetRolePermission, c.DeleteRolePermission)
	kind(mux, "resource-types", c.CreateResourceTypes, c.GetResourceType, c.DeleteResourceType)
	kind(mux, "resources", c.CreateResources, c.GetResource, c.DeleteResource)
	kind(mux, "resource-hierarchy", c.CreateResourceEdges, c.GetResourceEdge, c.DeleteResourceEdge)
	kind(mux, "resource-scope-links", c.CreateResourceScopeLinks, c.GetResourceScopeLink, c.DeleteResourceScopeLink)
	kind(mux, "resource-collections", c.CreateCollections, c.GetCollection, c.DeleteCollection)
	kind(mux, "resource-policies", c.CreateResourcePolicies, c.GetResourcePolicy, c.DeleteResourcePolicy)
	kind(mux, "tag-groups", c.CreateTagGroups, c.GetTagGroup, c.DeleteTagGroup)
	kind(mux, "tags", c.CreateTags, c.GetTag, c.DeleteTag)
	kind(mux, "tag-group-bindings", c.CreateTagBindings, c.GetTagBinding, c.DeleteTagBinding)
	kind(mux, "tag-assignments", c.CreateTagAssignments, c.GetTagAssignment, c.DeleteTagAssignment)
	for path, k := range map[string]authz.OverrideKind{"roles": authz.OverrideRole, "permissions": authz.OverridePermission, "role-permissions": authz.OverrideRolePermission} {
		create := func(ctx context.Context, in []authz.ScopeOverrideInput) ([]authz.ScopeOverride, error) {
			for i := range in {
				in[i].Kind = k // set by the endpoint
			}
			return c.CreateScopeOverrides(ctx, in)
		}
		creates(mux, "scope-overrides/"+path, create)
	}
	getDelete(mux, "scope-overrides", c.GetScopeOverride, c.DeleteScopeOverride)
	lists(mux, "scope-types", c.ListScopeTypes)
	lists(mux, "scope-type-hierarchy", c.ListScopeTypeEdges)
	lists(mux, "scopes", c.ListScopes)
	lists(mux, "scope-hierarchy", c.ListScopeEdges)
	lists(mux, "subjects", c.ListSubjects)
	lists(mux, "memberships", c.ListMemberships)
	lists(mux, "role-assignments", c.ListRoleAssignments)
	lists(mux, "roles", c.ListRoles)
	lists(mux, "permissions", c.ListPermissions)
	lists(mux, "role-permissions", c.ListRolePermissions)
	lists(mux, "scope-overrides", c.ListScopeOverrides)
	lists(mux, "resource-types", c.ListResourceTypes)
	lists(mux, "resources", c.ListResources)
	lists(mux, "resource-hierarchy", c.ListResourceEdges)
	lists(mux, "resource-scope-links", c.ListResourceScopeLinks)
	lists(mux, "resource-collections", c.ListCollections)
	lists(mux, "resource-policies", c.ListResourcePolicies)
	lists(mux, "tag-groups", c.ListTagGroups)
	lists(mux, "tags", c.ListTags)
	lists(mux, "tag-group-bindings", c.ListTagBindings)
	lists(mux, "tag-assignments", c.ListTagAssignments)
	patches(mux, "scope-types", c.UpdateScopeType)
	patches(mux, "scopes", c.UpdateScope)
	patches(mux, "subjects", c.UpdateSubject)
	patches(mux, "roles", c.UpdateRole)
	patches(mux, "scope-overrides", c.UpdateScopeOverride)
	patches(mux, "resource-types", c.UpdateResourceType)
	patches(mux, "resources", c.UpdateResource)
	patches(mux, "resource-hierarchy", c.UpdateResourceEdge)
	patches(mux, "resource-scope-links", c.UpdateResourceScopeLink)
	patches(mux, "resource-collections", c.UpdateCollection)
	patches(mux, "resource-policies", c.UpdateResourcePolicy)
	patches(mux, "tag-groups", c.UpdateTagGroup)
	patches(mux, "tags", c.UpdateTag)
	mux.handle("GET /subjects/{id}/permissions", nil, func(w http.ResponseWriter, r *http.Request) {
		scope := r.URL.Query().Get("scopeId")
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
	mux.handle("GET /changes", nil, func(w http.ResponseWriter, r *http.Request) {
		var in authz.ChangesInput
		q := r.URL.Query()
		for name, dst := range map[string]*int{"after": nil, "limit": &in.Limit} {
			v := q.Get(name)
			if v == "" {
				continue
			}
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				writeErrorBody(w, http.StatusBadRequest, "invalid_argument", name+": not a number", nil)
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
	query(mux, "/lookup/subjects", c.ListAllowedSubjects, func(in *authz.LookupSubjectsInput) *bodyError { return boundPage(&in.Page, lim.MaxLookupLimit) })
	query(mux, "/lookup/resources", c.ListAllowedResources, func(in *authz.LookupResourcesInput) *bodyError { return boundPage(&in.Page, lim.MaxLookupLimit) })
	query(mux, "/evaluate", c.Evaluate, nil)
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

// query serves POST path: a question in the body, answered by fn. The body
// may be at most MaxContextBytes+queryOverhead bytes long and its context
// at most MaxContextBytes; prepare, when not nil, checks and completes the
// question before fn answers it.
func query[In, Out any](mux *router, path string, fn func(context.Context, In) (Out, error), prepare func(*In) *bodyError) {
	max := mux.lim.MaxContextBytes
	bounds := bodyBounds{maxBytes: int64(max) + queryOverhead, maxTop: map[string]int{"context": max}}
	mux.handle("POST "+path, reflect.TypeFor[In](), func(w http.ResponseWriter, r *http.Request) {
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
			writeError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, out)
	})
}

// jsonFallback answers the requests no route takes (an unknown path, a
// method the path does not have, a path to clean) with the API's JSON error
// body instead of the mux's plain text.
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
			writeErrorBody(w, http.StatusNotFound, "not_found", fmt.Sprintf("no route for %s %s", r.Method, r.URL.Path), nil)
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

func creates[I, O any](mux *router, name string, create func(context.Context, []I) ([]O, error)) {
	bounds := bodyBounds{maxBytes: mux.lim.MaxBodyBytes}
	mux.handle("POST /"+name, reflect.TypeFor[I](), func(w http.ResponseWriter, r *http.Request) {
		var in I
		if !decode(w, r, &in, bounds) {
			return
		}
		out, err := create(r.Context(), []I{in})
		if err != nil {
			writeError(w, err)
			return
		}
		writeJSON(w, http.StatusCreated, out[0])
	})
	mux.handle("POST /"+name+"/batch", reflect.TypeFor[[]I](), func(w http.ResponseWriter, r *http.Request) {
		var in []I
		if !decode(w, r, &in, bounds) {
			return
		}
		out, err := create(r.Context(), in)
		if err != nil {
			writeError(w, err)
			return
		}
		writeJSON(w, http.StatusCreated, out)
	})
}

func getDelete[O any](mux *router, name string, get func(context.Context, string) (O, error), del func(context.Context, string) error) {
	mux.handle("GET /"+name+"/{id}", nil, func(w http.ResponseWriter, r *http.Request) {
		out, err := get(r.Context(), r.PathValue("id"))
		if err != nil {
			writeError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, out)
	})
	mux.handle("DELETE /"+name+"/{id}", nil, func(w http.ResponseWriter, r *http.Request) {
		if err := del(r.Context(), r.PathValue("id")); err != nil {
			writeError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]bool{"success": true})
	})
}

// lists registers GET /name?filters: the query parameters are the JSON
// fields of the filter (limit and after page it; fields named …Ids take a
// comma-separated or repeated list). An unknown parameter, a name in
// another case than the field's, and a name or value that is not valid
// UTF-8 are refused.
func lists[F, O any](mux *router, name string, list func(context.Context, F) ([]O, error)) {
	mux.handle("GET /"+name, nil, func(w http.ResponseWriter, r *http.Request) {
		q := map[string]any{}
		for k, vs := range r.URL.Query() {
			if !utf8.ValidString(k) {
				writeErrorBody(w, http.StatusBadRequest, "invalid_argument", fmt.Sprintf("query: parameter %q: name is not valid UTF-8", k), nil)
				return
			}
			for _, v := range vs {
				if !utf8.ValidString(v) {
					writeErrorBody(w, http.StatusBadRequest, "invalid_argument", fmt.Sprintf("query: %s: value %q is not valid UTF-8", k, v), nil)
					return
				}
			}
			switch {
			case k == "limit":
				n, err := strconv.Atoi(vs[0])
				if err != nil {
					writeErrorBody(w, http.StatusBadRequest, "invalid_argument", "limit: want a number", nil)
					return
				}
				q[k] = n
			case strings.HasSuffix(k, "Ids"):
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
		if err := checkJSON(raw, reflect.TypeFor[F](), nil); err != nil {
			writeErrorBody(w, http.StatusBadRequest, "invalid_argument", "query: "+err.Error(), nil)
			return
		}
		var f F
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&f); err != nil {
			writeErrorBody(w, http.StatusBadRequest, "invalid_argument", "query: "+err.Error(), nil)
			return
		}
		out, err := list(r.Context(), f)
		if err != nil {
			writeError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, out)
	})
}

// patches registers PATCH /name/{id} with the kind's patch as the body.
func patches[P, O any](mux *router, name string, update func(context.Context, string, P) (O, error)) {
	bounds := bodyBounds{maxBytes: mux.lim.MaxBodyBytes}
	mux.handle("PATCH /"+name+"/{id}", reflect.TypeFor[P](), func(w http.ResponseWriter, r *http.Request) {
		var p P
		if !decode(w, r, &p, bounds) {
			return
		}
		out, err := update(r.Context(), r.PathValue("id"), p)
		if err != nil {
			writeError(w, err)
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
		writeErrorBody(w, http.StatusBadRequest, "invalid_argument", "invalid JSON body: "+err.Error(), nil)
		return false
	}
	if err := checkJSON(body, reflect.TypeOf(v).Elem(), b.maxTop); err != nil {
		writeBodyError(w, err)
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeErrorBody(w, http.StatusBadRequest, "invalid_argument", "invalid JSON body: "+err.Error(), nil)
		return false
	}
	return true
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
	Index   int    `json:"index"`
	ID      string `json:"id,omitempty"`
	Field   string `json:"field,omitempty"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// status maps an error to its HTTP status and code.
func status(err error) (int, string) {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable, "timeout"
	case errors.Is(err, context.Canceled):
		return http.StatusServiceUnavailable, "canceled"
	case errors.Is(err, authz.ErrBatchTooLarge):
		return http.StatusRequestEntityTooLarge, "too_large"
	case errors.Is(err, authz.ErrInvalid):
		return http.StatusBadRequest, "invalid_argument"
	case errors.Is(err, authz.ErrNotFound):
		return http.StatusNotFound, "not_found"
	case errors.Is(err, authz.ErrAlreadyExists):
		return http.StatusConflict, "already_exists"
	case errors.Is(err, authz.ErrNotAllowed):
		return http.StatusUnprocessableEntity, "not_allowed"
	}
	return http.StatusInternalServerError, "internal"
}

// writeError answers err with the error body of the API; a *BatchError
// lists its items. A batch with items of several kinds answers with the
// status of the first item.
func writeError(w http.ResponseWriter, err error) {
	var items []itemBody
	var be *authz.BatchError
	code, name := status(err)
	if errors.As(err, &be) {
		for _, it := range be.Items {
			_, c := status(it)
			items = append(items, itemBody{Index: it.Index, ID: it.ID, Field: it.Field, Code: c, Message: it.Err.Error()})
		}
		if len(be.Items) > 0 {
			code, name = status(be.Items[0])
		}
	}
	msg := err.Error()
	if code == http.StatusInternalServerError {
		msg = "internal error"
	}
	writeErrorBody(w, code, name, msg, items)
}

func writeErrorBody(w http.ResponseWriter, code int, name, msg string, items []itemBody) {
	body := map[string]any{"code": name, "message": msg}
	if len(items) > 0 {
		body["items"] = items
	}
	writeJSON(w, code, map[string]any{"error": body})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}
