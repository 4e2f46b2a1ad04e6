package authz

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/scopegate/authz/internal/logic"
)

// EffectivePermission is a permission a subject holds in a scope, with every
// role through which it holds it.
type EffectivePermission struct {
	Permission Permission        `json:"permission"`
	Grants     []PermissionGrant `json:"grants"`
}

// PermissionGrant is one role through which a subject holds a permission.
type PermissionGrant struct {
	RoleID string `json:"roleId"`
	// MembershipScopeIDs are the scopes of the memberships that give the
	// role, at or above the scope asked about.
	MembershipScopeIDs []string `json:"membershipScopeIds"`
	// Conditions must all hold for this grant to count: the permission's
	// logic, the role-permission's condition and the condition of the
	// role-permission override that applies, each when set. Empty means the
	// grant holds unconditionally.
	Conditions []json.RawMessage `json:"conditions,omitempty"`
}

// Unconditional reports whether some grant of p holds without conditions.
func (p EffectivePermission) Unconditional() bool {
	for _, g := range p.Grants {
		if len(g.Conditions) == 0 {
			return true
		}
	}
	return false
}

// ListEffectivePermissions lists the permissions subjectID holds in scopeID
// through its roles (docs/decisions.md#step-3-roles): the roles of its memberships at the
// scope or above it (up to the nearest define scope), less those switched
// off by role overrides, and their permissions, less those switched off by
// permission or role-permission overrides, all read along the scope's
// chain. It is what the role step sees for a request made in scopeID on a
// resource that lives there; a resource elsewhere may see other overrides,
// and resource policies and hierarchies are not roles, so they are not
// listed. Permissions come in id order, grants in role order.
func (c *Client) ListEffectivePermissions(ctx context.Context, subjectID, scopeID string) ([]EffectivePermission, error) {
	g, err := c.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	sub := g.subjectByID(subjectID)
	if sub == nil {
		return nil, notFound(subjectKind.name, subjectID)
	}
	sc := g.scopeByID(scopeID)
	if sc == nil {
		return nil, notFound(scopeKind.name, scopeID)
	}
	chain := g.chainOf(sc.h, nil)
	type key struct{ perm, role handle }
	grants := map[key]*PermissionGrant{}
	perms := map[handle]*EffectivePermission{}
	for _, ref := range sub.members {
		if !slices.Contains(chain, ref.scope) {
			continue
		}
		m := nodeAt[gMember](g, ref.h)
		if m == nil {
			continue
		}
		for _, rh := range m.roles {
			role := nodeAt[gRole](g, rh)
			if role == nil {
				continue
			}
			if o := g.roleOverride(sc.h, rh); o != nil && o.State == OverrideDisabled {
				continue
			}
			for _, rp := range role.perms {
				p := nodeAt[gPerm](g, rp.perm)
				if p == nil {
					continue
				}
				if o := g.permOverride(sc.h, rp.perm); o != nil && o.State == OverrideDisabled {
					continue
				}
				rpo := g.rolePermOverride(sc.h, rh, rp.perm)
				if rpo != nil && rpo.o.State == OverrideDisabled {
					continue
				}
				conds := []*logic.Cond{p.logic, rp.cond, overrideCond(rpo)}
				if slices.ContainsFunc(conds, func(c *logic.Cond) bool { return c.Broken() != nil }) {
					continue // a condition that no longer parses never holds
				}
				k := key{rp.perm, rh}
				gr := grants[k]
				if gr == nil {
					gr = &PermissionGrant{RoleID: role.r.ID}
					for _, c := range conds {
						if c != nil {
							gr.Conditions = append(gr.Conditions, json.RawMessage(c.String()))
						}
					}
					grants[k] = gr
					if perms[rp.perm] == nil {
						perms[rp.perm] = &EffectivePermission{Permission: *p.p}
					}
				}
				scopeID := g.scope(m.scope).s.ID
				if !slices.Contains(gr.MembershipScopeIDs, scopeID) {
					gr.MembershipScopeIDs = append(gr.MembershipScopeIDs, scopeID)
				}
			}
		}
	}
	out := make([]EffectivePermission, 0, len(perms))
	for k, gr := range grants {
		slices.Sort(gr.MembershipScopeIDs)
		ep := perms[k.perm]
		ep.Grants = append(ep.Grants, *gr)
	}
	for _, ep := range perms {
		slices.SortFunc(ep.Grants, func(a, b PermissionGrant) int { return strings.Compare(a.RoleID, b.RoleID) })
		out = append(out, *ep)
	}
	slices.SortFunc(out, func(a, b EffectivePermission) int { return strings.Compare(a.Permission.ID, b.Permission.ID) })
	return out, nil
}

// LookupSubjectsInput asks ListAllowedSubjects which subjects may do Action
// on Resource, the request being made in scope ScopeID.
type LookupSubjectsInput struct {
	ScopeID string `json:"scopeId"`
	Action  string `json:"action"`
	// Resource names the resource as EvaluateInput.Resource does: a
	// concrete resource, or a resource type (with an optional pattern) for a
	// type-level question.
	Resource ResourceRef `json:"resource"`
	// SubjectType, when set, keeps only the subjects of that type.
	SubjectType SubjectType `json:"subjectType,omitempty"`
	// Context is what conditions see as "context", as in EvaluateInput;
	// they see the resource's tags as Evaluate does by default.
	Context map[string]any `json:"context,omitempty"`
	// Consistency says how fresh the model must be, as in EvaluateInput.
	Consistency *Consistency `json:"consistency,omitempty"`
	// Page selects the page: at most Limit subjects (0: all) whose ids sort
	// after After, the Next of the previous page.
	Page
}

// SubjectPage is a page of ListAllowedSubjects.
type SubjectPage struct {
	// Subjects are the allowed subjects, in id order.
	Subjects []SubjectRef `json:"subjects"`
	// Next is the After of the next page, set when the page is full and
	// subjects remain to be decided; the next page may be empty.
	Next string `json:"next,omitempty"`
}

// LookupResourcesInput asks ListAllowedResources which resources of
// ResourceType Actor (acting on behalf of OnBehalfOf, when set) may do
// Action on, the request being made in scope ScopeID.
type LookupResourcesInput struct {
	Actor      SubjectRef  `json:"actor"`
	OnBehalfOf *SubjectRef `json:"onBehalfOf,omitempty"`
	ScopeID    string      `json:"scopeId"`
	Action     string      `json:"action"`
	// ResourceType is the key of a resource type visible from ScopeID
	// (defined at it or above it, up to the nearest define scope): then
	// the resources of every type with that key are considered; or else
	// the id of a type visible from ScopeID: then its resources. A type
	// that is not visible from ScopeID is ErrNotFound.
	ResourceType string `json:"resourceType"`
	// Context is what conditions see as "context", as in EvaluateInput;
	// they see the resource's tags as Evaluate does by default.
	Context map[string]any `json:"context,omitempty"`
	// Consistency says how fresh the model must be, as in EvaluateInput.
	Consistency *Consistency `json:"consistency,omitempty"`
	// Page selects the page: at most Limit resources (0: all) whose ids
	// sort after After, the Next of the previous page.
	Page
}

// ResourcePage is a page of ListAllowedResources.
type ResourcePage struct {
	// Resources are the allowed resources, in id order, each with its
	// ResourceID, ExternalResourceID and ResourceType: the key of its type,
	// as a request names it (a lookup by type id answers keys too).
	Resources []ResourceRef `json:"resources"`
	// Next is the After of the next page, set when the page is full and
	// resources remain to be decided; the next page may be empty.
	Next string `json:"next,omitempty"`
}

// ListAllowedSubjects lists the subjects for which Evaluate would allow
// in.Action on in.Resource in in.ScopeID (docs/lookups.md#exact-answers): through roles,
// resource and collection policies, cascades and links, with overrides and
// conditions applied. The answer is exact: every subject listed is
// allowed, and every allowed subject is listed, because each candidate is
// decided by the algorithm Evaluate runs, on one snapshot of the store.
//
// The candidates are the subjects with a membership at a scope of
// chain(ScopeID), which are the only ones a role can reach, and, when an
// allow policy listing the action targets the resource, one of its
// collections or a resource it inherits from, every subject. In that case,
// when the decision for one subject depends on nothing of the subject (an
// unconditional policy decides), it is the decision for all of them;
// otherwise (a subject condition decides) each subject of the store is
// decided, and the lookup costs in proportion to the store's subjects.
//
// Errors are those of Evaluate for the same request (ErrInvalid,
// ErrNotFound for an unknown scope or resource), ErrInvalid for a negative
// Limit or an unknown SubjectType, a done ctx or a storage error.
func (c *Client) ListAllowedSubjects(ctx context.Context, in LookupSubjectsInput) (SubjectPage, error) {
	const op = "list allowed subjects"
	out := SubjectPage{Subjects: []SubjectRef{}}
	if err := checkLookup(op, in.ScopeID, in.Action, in.Limit); err != nil {
		return out, err
	}
	if in.SubjectType != "" && !slices.Contains(subjectTypes, in.SubjectType) {
		return out, invalidf("%s: subjectType: %q is not one of %v", op, in.SubjectType, subjectTypes)
	}
	ein := EvaluateInput{ScopeID: in.ScopeID, Action: in.Action, Resource: &in.Resource, Context: in.Context}
	g, err := c.snapshotFor(ctx, in.Consistency)
	if err != nil {
		return out, err
	}
	err = func() (err error) {
		defer recoverLookup(op, &err)
		e := new(evaluation)
		if err := e.prepare(c, g, &ein); err != nil {
			return renamed(op, err)
		}
		e.ctx = ctx
		if err := e.resolveResource(); err != nil {
			return renamed(op, err)
		}
		e.decideOnly = true
		keep := func(h handle) bool {
			s := g.subject(h)
			return s != nil && (in.SubjectType == "" || s.s.SubjectType == in.SubjectType)
		}
		var cands []candidate
		everyone := e.res != nil && g.policyMayAllow(e.res, in.Action)
		if everyone {
			n := 0
			for k := range g.next/subjectBucket + 1 {
				n += len(reverseOf(&g.subjects, k))
			}
			cands = make([]candidate, 0, n)
			for k := range g.next/subjectBucket + 1 {
				for _, h := range reverseOf(&g.subjects, k) {
					if keep(h) {
						cands = append(cands, candidate{id: g.subject(h).s.ID, h: h})
					}
				}
			}
		} else {
			cands = memberCandidates(g, e.chain, keep)
		}
		s := &subjectEval{evaluation: e}
		allow := func(h handle) bool {
			s.reuse(g.subject(h))
			return s.run().allowed
		}
		if everyone && len(cands) > 0 {
			s.reuse(g.subject(cands[0].h))
			if o := s.run(); !s.bySubject {
				// The outcome read nothing of the subject: it is every
				// subject's outcome.
				allow = func(handle) bool { return o.allowed }
			}
		}
		hs, next, err := pageCandidates(ctx, inOrder(cands, in.After, in.Limit), in.Limit, allow)
		out.Subjects = slices.Grow(out.Subjects, len(hs))
		for _, h := range hs {
			s := g.subject(h)
			out.Subjects = append(out.Subjects, SubjectRef{SubjectID: s.s.ID, SubjectType: s.s.SubjectType})
		}
		out.Next = next
		return err
	}()
	if err != nil {
		return SubjectPage{Subjects: []SubjectRef{}}, err
	}
	return out, nil
}

// ListAllowedResources lists the resources of in.ResourceType for which
// Evaluate would allow in.Action to in.Actor (on behalf of in.OnBehalfOf,
// when set) in in.ScopeID (docs/lookups.md#exact-answers). The answer is exact: each candidate
// is decided by the algorithm Evaluate runs, on one snapshot of the store.
//
// The candidates are the resources of the type with a home (owning scope or
// linked scope) on the line of ScopeID: in chain(ScopeID), or below ScopeID
// without a define scope in between. A resource anywhere else is not
// reachable from ScopeID, so Evaluate denies it. The cost of a lookup is
// therefore that of the part of the scope tree the request can see, not
// that of the store.
//
// Errors are those of Evaluate for the same request (ErrInvalid,
// ErrNotFound for an unknown actor, principal or scope), ErrNotFound for a
// resource type id or key that names no type, ErrInvalid for a missing
// ResourceType or a negative Limit, a done ctx or a storage error.
func (c *Client) ListAllowedResources(ctx context.Context, in LookupResourcesInput) (ResourcePage, error) {
	const op = "list allowed resources"
	out := ResourcePage{Resources: []ResourceRef{}}
	if err := checkLookup(op, in.ScopeID, in.Action, in.Limit); err != nil {
		return out, err
	}
	if in.ResourceType == "" {
		return out, invalidf("%s: resourceType: is required", op)
	}
	ein := EvaluateInput{Actor: in.Actor, OnBehalfOf: in.OnBehalfOf, ScopeID: in.ScopeID, Action: in.Action,
		Resource: &ResourceRef{ResourceType: in.ResourceType}, Context: in.Context}
	g, err := c.snapshotFor(ctx, in.Consistency)
	if err != nil {
		return out, err
	}
	err = func() (err error) {
		defer recoverLookup(op, &err)
		e := new(evaluation)
		if err := e.init(c, g, &ein); err != nil {
			return renamed(op, err)
		}
		e.ctx = ctx
		e.decideOnly = true
		types := e.typesNamed(in.ResourceType)
		if len(types) == 0 {
			return notFoundErr(op+": resource type "+strconv.Quote(in.ResourceType)+" visible from scope", in.ScopeID)
		}
		cands := merged(lineResources(g, e, types), in.After)
		actor, principal := &subjectEval{evaluation: e}, &subjectEval{evaluation: e}
		hs, next, err := pageCandidates(ctx, cands, in.Limit, func(h handle) bool {
			if e.res = g.resource(h); e.res == nil {
				return false
			}
			e.matched = e.matched[:0] // matches of the previous resource
			return e.allows(actor, principal)
		})
		out.Resources = slices.Grow(out.Resources, len(hs))
		for _, h := range hs {
			gr, t := g.resourceOf(h)
			out.Resources = append(out.Resources, ResourceRef{ResourceID: gr.r.ID, ExternalResourceID: gr.r.ExternalResourceID, ResourceType: t.rt.Key})
		}
		out.Next = next
		return err
	}()
	if err != nil {
		return ResourcePage{Resources: []ResourceRef{}}, err
	}
	return out, nil
}

// allows reports whether Evaluate would allow the request e holds: for the
// actor and, under delegation, for the principal too. It decides them with
// actor and principal, evaluations of e it reuses.
func (e *evaluation) allows(actor, principal *subjectEval) bool {
	actor.reuse(e.actor)
	if !actor.run().allowed {
		return false
	}
	if e.principal == nil {
		return true
	}
	principal.reuse(e.principal)
	return principal.run().allowed
}

func checkLookup(op, scopeID, action string, limit int) error {
	var missing []string
	if scopeID == "" {
		missing = append(missing, "scopeId")
	}
	if action == "" {
		missing = append(missing, "action")
	}
	if len(missing) > 0 {
		return invalidf("%s: %s: is required", op, strings.Join(missing, ", "))
	}
	if limit < 0 {
		return invalidf("%s: limit is %d; it must not be negative", op, limit)
	}
	return nil
}

// renamed gives an error of the evaluation the name of the lookup.
func renamed(op string, err error) error {
	var re *ruleError
	if errors.As(err, &re) {
		return &ruleError{msg: op + ": " + strings.TrimPrefix(re.msg, "evaluate: "), kind: re.kind}
	}
	return err
}

// recoverLookup turns a panic of a lookup into an error: a lookup never
// answers with a partial list.
func recoverLookup(op string, err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("authz: %s: internal error: %v", op, r)
	}
}

// candidate is a subject or resource to decide.
type candidate struct {
	id string
	h  handle
}

// candidates yields candidates in id order. An id may come several times
// in a row (a resource with two homes on the line).
type candidates func() (candidate, bool)

// pageCandidates decides candidates in order until limit (0: no limit) are
// allowed. next is the id of the last one returned when candidates remain
// undecided.
func pageCandidates(ctx context.Context, cands candidates, limit int, allow func(handle) bool) (hs []handle, next string, err error) {
	last := ""
	for n := 0; ; n++ {
		if n%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, "", err
			}
		}
		c, ok := cands()
		if !ok {
			return hs, "", nil
		}
		if c.id == last {
			continue
		}
		last = c.id
		allowed := allow(c.h)
		// A decision stops early when ctx is done (and is then a denial):
		// never answer with a list cut short by it.
		if err := ctx.Err(); err != nil {
			return nil, "", err
		}
		if !allowed {
			continue
		}
		hs = append(hs, c.h)
		if limit > 0 && len(hs) == limit {
			for {
				more, ok := cands()
				if !ok {
					return hs, "", nil
				}
				if more.id != last {
					return hs, last, nil
				}
			}
		}
	}
}

// inOrder yields the candidates of an unordered list whose ids sort after
// after. For a page it takes them from a heap, so that it costs the
// candidates decided rather than a sort of them all.
func inOrder(list []candidate, after string, limit int) candidates {
	q := candidateQueue(slices.DeleteFunc(list, func(c candidate) bool { return c.id <= after }))
	if limit == 0 {
		slices.SortFunc(q, compareCandidates)
		return func() (candidate, bool) {
			if len(q) == 0 {
				return candidate{}, false
			}
			c := q[0]
			q = q[1:]
			return c, true
		}
	}
	q.heapify(func(c candidate) string { return c.id })
	return func() (candidate, bool) {
		if len(q) == 0 {
			return candidate{}, false
		}
		return q.pop(func(c candidate) string { return c.id }), true
	}
}

// merged yields the candidates of lists, each sorted by id, whose ids sort
// after after: a k-way merge, which costs the candidates taken and the
// number of lists, not their lengths.
func merged(lists [][]candidate, after string) candidates {
	var runs heapOf[[]candidate]
	for _, l := range lists {
		i, _ := slices.BinarySearchFunc(l, after, func(c candidate, after string) int {
			if c.id <= after {
				return -1
			}
			return 1
		})
		if i < len(l) {
			runs = append(runs, l[i:])
		}
	}
	head := func(r []candidate) string { return r[0].id }
	runs.heapify(head)
	return func() (candidate, bool) {
		if len(runs) == 0 {
			return candidate{}, false
		}
		r := runs[0]
		c := r[0]
		if len(r) > 1 {
			runs[0] = r[1:]
			runs.down(0, head)
		} else {
			runs.pop(head)
		}
		return c, true
	}
}

// candidateQueue is a min-heap of candidates by id.
type candidateQueue = heapOf[candidate]

// heapOf is a min-heap of T by the key key returns.
type heapOf[T any] []T

func (q heapOf[T]) heapify(key func(T) string) {
	for i := len(q)/2 - 1; i >= 0; i-- {
		q.down(i, key)
	}
}

// pop removes and returns the least element.
func (q *heapOf[T]) pop(key func(T) string) T {
	h := *q
	x := h[0]
	h[0] = h[len(h)-1]
	*q = h[:len(h)-1]
	q.down(0, key)
	return x
}

func (q heapOf[T]) down(i int, key func(T) string) {
	for {
		least, l, r := i, 2*i+1, 2*i+2
		if l < len(q) && key(q[l]) < key(q[least]) {
			least = l
		}
		if r < len(q) && key(q[r]) < key(q[least]) {
			least = r
		}
		if least == i {
			return
		}
		q[i], q[least] = q[least], q[i]
		i = least
	}
}

// memberCandidates returns the subjects, kept by keep, with a membership at
// one of scopes.
func memberCandidates(g *graph, scopes []handle, keep func(handle) bool) []candidate {
	var out []candidate
	for _, sh := range scopes {
		for _, h := range reverseOf(&g.members, sh) {
			if keep(h) {
				out = append(out, candidate{id: g.subject(h).s.ID, h: h})
			}
		}
	}
	return out
}

// policyMayAllow reports whether an allow policy listing action targets r
// or a collection of its type, or does so for a resource r inherits from
// through cascading edges: only then may a subject with no role be allowed
// on r.
func (g *graph) policyMayAllow(r *gResource, action string) bool {
	allows := func(ph handle) bool {
		p := nodeAt[gPolicy](g, ph)
		return p != nil && p.p.Effect == EffectAllow && actionListed(p.p.Actions, action)
	}
	seen := map[*gResource]bool{r: true}
	for stack := []*gResource{r}; len(stack) > 0; {
		r := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if slices.ContainsFunc(r.policies(), allows) {
			return true
		}
		if t := nodeAt[gResType](g, r.typ); t != nil {
			for _, ch := range t.colls {
				if c := nodeAt[gColl](g, ch); c != nil && c.hasAction(action) && slices.ContainsFunc(c.policies, allows) {
					return true
				}
			}
		}
		for _, p := range r.parents() {
			if parent, _ := g.resourceOf(p.res); parent != nil && p.cascade != CascadeNone && !seen[parent] {
				seen[parent] = true
				stack = append(stack, parent)
			}
		}
	}
	return false
}

// typesNamed returns the resource types whose resources a lookup in the
// evaluation's scope S considers for name: when name is the key of a type
// visible from S, every type with that key (a resource on S's line may be of
// a type defined below S, or shared from elsewhere: permissions match it by
// key); when name is the id of a type visible from S, that type; otherwise
// none. Types another tenant defines are never resolved from S, so they
// cannot change the answer.
func (e *evaluation) typesNamed(name string) []handle {
	g := e.g
	vis, byKey := e.visibleTypes(name, nil)
	switch {
	case len(vis) == 0:
		return nil
	case !byKey:
		return []handle{g.lookup(vis[0].rt.ID)}
	}
	list, _ := g.typesByKey.Get(name)
	return slices.DeleteFunc(slices.Clone(list), func(h handle) bool { return nodeAt[gResType](g, h) == nil })
}

// lineScopes returns the scopes on the line of the request scope
// (docs/decisions.md#homes-and-lines): chain(S), and the scopes below S whose chain reaches S.
func lineScopes(g *graph, e *evaluation) []handle {
	out := slices.Clone(e.chain)
	for i, queue := 0, []handle{e.scope.h}; i < len(queue); i++ {
		for _, h := range reverseOf(&g.kids, queue[i]) {
			// A define child starts a chain of its own: S is not in it.
			if child := g.scope(h); child != nil && !child.define && child.parent == queue[i] {
				queue = append(queue, h)
				out = append(out, h)
			}
		}
	}
	return out
}

// lineResources returns the lists, sorted by id, of the resources of the
// given types with a home (owning or linked scope) on the line of the
// request scope.
func lineResources(g *graph, e *evaluation, types []handle) [][]candidate {
	var out [][]candidate
	for _, sh := range lineScopes(g, e) {
		out = g.homesOf(sh, types, out)
	}
	return out
}
