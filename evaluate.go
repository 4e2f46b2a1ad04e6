package authz

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/scopegate/authz/internal/logic"
	"github.com/scopegate/authz/internal/match"
	"github.com/scopegate/authz/storage"
)

// SubjectRef names the subject of an evaluation. SubjectType is optional;
// when set it must be the subject's type.
type SubjectRef struct {
	SubjectID   string      `json:"subjectId"`
	SubjectType SubjectType `json:"subjectType,omitempty"`
}

// ResourceRef names the resource of an evaluation in one of three ways: by
// ResourceID; by ExternalResourceID and ResourceType; or, for a type-level
// question ("may X read documents here?"), by ResourceType alone, optionally
// with a ResourcePattern.
//
// ResourceType is resolved as the request scope sees it: it is the key of
// the resource types visible from the request scope (defined at the scope
// or above it, up to and including the nearest define scope), or else the
// id of such a type. A type of another tenant is never found by its id or
// its key. A type-level request naming no visible type is answered as a key
// no permission of the request scope can match unless it names it.
type ResourceRef struct {
	ResourceID         string `json:"resourceId,omitempty"`
	ExternalResourceID string `json:"externalResourceId,omitempty"`
	ResourceType       string `json:"resourceType,omitempty"`
	ResourcePattern    string `json:"resourcePattern,omitempty"`
}

// EvaluateInput is one authorization question: may Actor (acting on behalf
// of OnBehalfOf, when set) do Action on Resource, asked in scope ScopeID?
type EvaluateInput struct {
	Actor      SubjectRef   `json:"actor"`
	OnBehalfOf *SubjectRef  `json:"onBehalfOf,omitempty"`
	ScopeID    string       `json:"scopeId"`
	Action     string       `json:"action"`
	Resource   *ResourceRef `json:"resource,omitempty"`
	// Context is visible to conditions as "context". Values are converted
	// to JSON shapes (numbers become float64).
	Context map[string]any `json:"context,omitempty"`
	// IncludeResourceTags, when false, leaves resource.tags out of the
	// condition data. Nil means true.
	IncludeResourceTags *bool `json:"includeResourceTags,omitempty"`
	// Explain fills Decision.Trace with every step considered.
	Explain bool `json:"explain,omitempty"`
}

// DecidedBy says which step of the algorithm decided.
type DecidedBy string

// The steps of SPEC §4.2.
const (
	DecidedByPolicy    DecidedBy = "policy"
	DecidedByHierarchy DecidedBy = "hierarchy"
	DecidedByRole      DecidedBy = "role"
	DecidedByDefault   DecidedBy = "default"
)

// Match is a permission that granted the request, with every role through
// which it was granted.
type Match struct {
	PermissionID    string   `json:"permissionId"`
	Key             string   `json:"key"`
	Action          string   `json:"action"`
	ResourceType    string   `json:"resourceType"`
	ResourcePattern string   `json:"resourcePattern"`
	ScopeID         string   `json:"scopeId"`
	SourceRoleIDs   []string `json:"sourceRoleIds"`
}

// Decision is the answer to an EvaluateInput. A denial is a Decision with
// Allowed false, not an error.
type Decision struct {
	Allowed   bool      `json:"allowed"`
	DecidedBy DecidedBy `json:"decidedBy"`
	// PolicyID is the deciding policy when DecidedBy is policy.
	PolicyID string `json:"policyId,omitempty"`
	// Matches lists the granting permissions when DecidedBy is role.
	Matches []Match `json:"matches,omitempty"`
	// InheritedFrom is the parent resource that allowed, when DecidedBy is
	// hierarchy.
	InheritedFrom string `json:"inheritedFrom,omitempty"`
	// Explanation is one sentence saying why.
	Explanation         string      `json:"explanation"`
	UsedDelegation      bool        `json:"usedDelegation"`
	EvaluatedActor      SubjectRef  `json:"evaluatedActor"`
	EvaluatedOnBehalfOf *SubjectRef `json:"evaluatedOnBehalfOf,omitempty"`
	// Delegation holds both sub-decisions when OnBehalfOf was given.
	Delegation *Delegation `json:"delegation,omitempty"`
	// Trace lists every step considered, when EvaluateInput.Explain is set.
	Trace []string `json:"trace,omitempty"`
}

// Delegation holds the decisions for the actor and for the principal it
// acts for; a delegated request is allowed only when both are.
type Delegation struct {
	Actor      Decision `json:"actor"`
	OnBehalfOf Decision `json:"onBehalfOf"`
}

// Evaluate answers one authorization question (SPEC §4). It returns an
// error only for malformed input (ErrInvalid), an unknown actor, scope or
// resource (ErrNotFound), a done ctx or a storage error, always with a
// Decision that is not allowed; every other outcome, including a denial, is
// a Decision. Evaluate never grants on an internal error.
//
// Evaluate reads the Client's in-memory graph of the model, which is never
// stale: when the store has changed since the graph was made (by this
// Client, or by another one on the same store), Evaluate first reloads what
// the change touched. The slices of the Decision (Matches and their
// SourceRoleIDs) may be shared with the graph and with other Decisions:
// treat them as read-only.
func (c *Client) Evaluate(ctx context.Context, in EvaluateInput) (Decision, error) {
	g, err := c.snapshot(ctx)
	if err != nil {
		return denied(&in, "the store could not be read"), err
	}
	key, cacheable := cacheKey(&in)
	cacheable = cacheable && g.decisions != nil
	if cacheable {
		if d, ok := g.decisions.get(&key); ok {
			return d, nil
		}
	}
	e := evaluations.Get().(*evaluation)
	e.input = in
	d, err := c.evaluate(ctx, e, g, &e.input)
	if cacheable && err == nil && e.now.IsZero() {
		g.decisions.put(&key, d)
	}
	*e = evaluation{}
	evaluations.Put(e)
	return d, err
}

// evaluations recycles evaluation state, so that a request allocates
// nothing when its decision needs no new data.
var evaluations = sync.Pool{New: func() any { return new(evaluation) }}

// EvaluateBatch answers many questions against one snapshot of the store.
// Decisions come back in input order; the error is the first one returned
// for an input, prefixed with its index, and every input is still answered.
func (c *Client) EvaluateBatch(ctx context.Context, in []EvaluateInput) ([]Decision, error) {
	out := make([]Decision, len(in))
	g, err := c.snapshot(ctx)
	if err != nil {
		for i := range in {
			out[i] = denied(&in[i], "the store could not be read")
		}
		return out, err
	}
	var first error
	e := evaluations.Get().(*evaluation)
	defer func() {
		*e = evaluation{}
		evaluations.Put(e)
	}()
	for i := range in {
		d, err := c.evaluate(ctx, e, g, &in[i])
		out[i] = d
		if err != nil && first == nil {
			first = fmt.Errorf("evaluate batch: input %d: %w", i, err)
		}
	}
	return out, first
}

// snapshot returns the graph of the store's current revision. With a
// storage.Versioner it costs two atomic loads when nothing has changed;
// otherwise it reads the revision in a View.
func (c *Client) snapshot(ctx context.Context) (*graph, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var seq uint64
	if c.versioner != nil {
		seq = c.versioner.Version()
		if g := c.graph.Load(); g != nil && g.seq == seq {
			return g, nil
		}
	}
	var g *graph
	err := c.store.View(ctx, func(tx storage.Tx) error {
		var err error
		g, err = c.graphAt(tx, seq, false)
		return err
	})
	return g, err
}

// maxIncremental is the number of changed nodes above which a graph update
// rebuilds the graph from the whole store instead, when they are also more
// than an eighth of the graph.
const maxIncremental = 4096

// graphAt returns the graph of the store as tx sees it, seq being the
// storage version read before tx began: from the current graph when the
// revision is the same, by reloading the changed nodes when the change log
// covers the gap, or by reading the whole store. Unless exact is set, a
// current graph newer than tx (published meanwhile) is returned as it is.
func (c *Client) graphAt(tx storage.Tx, seq uint64, exact bool) (*graph, error) {
	rev, err := readRevision(tx)
	if err != nil {
		return nil, err
	}
	usable := func(cur *graph) bool {
		return cur != nil && ((cur.rev == rev && cur.seq >= seq) || (!exact && cur.rev > rev))
	}
	if cur := c.graph.Load(); usable(cur) {
		return cur, nil
	}
	c.graphMu.Lock()
	defer c.graphMu.Unlock()
	cur := c.graph.Load()
	if usable(cur) {
		return cur, nil
	}
	if cur != nil && cur.rev == rev {
		if seq > cur.seq {
			ng := *cur
			ng.seq = seq
			c.graph.Store(&ng)
			return &ng, nil
		}
		return cur, nil
	}
	var g *graph
	if cur != nil && cur.rev < rev {
		keys, ok, err := readChanges(tx, cur.rev, rev)
		if err != nil {
			return nil, err
		}
		if ok && (len(keys) <= maxIncremental || len(keys) <= int(cur.next)/8) {
			if g, err = cur.update(tx, rev, seq, keys); err != nil {
				return nil, err
			}
		}
	}
	if g == nil {
		if g, err = buildGraph(tx, seq); err != nil {
			return nil, err
		}
	}
	g.decisions = newDecisionCache(c.decisionCacheSize)
	if cur == nil || cur.rev < g.rev {
		c.graph.Store(g)
	}
	return g, nil
}

func denied(in *EvaluateInput, why string) Decision {
	d := Decision{DecidedBy: DecidedByDefault, Explanation: "Denied: " + why + ".", EvaluatedActor: in.Actor}
	if in.OnBehalfOf != nil {
		p := *in.OnBehalfOf
		d.EvaluatedOnBehalfOf = &p
		d.UsedDelegation = true
	}
	return d
}

// evaluate answers in using e, which it overwrites. A ctx done before the
// answer is complete stops the evaluation and returns ctx's error with a
// denial.
func (c *Client) evaluate(ctx context.Context, e *evaluation, g *graph, in *EvaluateInput) (dec Decision, err error) {
	defer func() {
		// Fail closed: a bug must never grant.
		if r := recover(); r != nil {
			dec = denied(in, "an internal error occurred")
			err = fmt.Errorf("authz: evaluate: internal error: %v", r)
		}
	}()
	if err := e.init(c, g, in); err != nil {
		return denied(in, strings.TrimPrefix(err.Error(), "evaluate: ")), err
	}
	e.ctx = ctx
	actor := e.decide(e.actor)
	if err := ctx.Err(); err != nil {
		return denied(in, "the request was cancelled before it was decided"), err
	}
	if e.principal == nil {
		if !e.explain {
			actor.Trace = nil
		}
		return actor, nil
	}
	principal := e.decide(e.principal)
	if err := ctx.Err(); err != nil {
		return denied(in, "the request was cancelled before it was decided"), err
	}
	d := Decision{
		Allowed: actor.Allowed && principal.Allowed, UsedDelegation: true,
		EvaluatedActor: actor.EvaluatedActor, EvaluatedOnBehalfOf: &principal.EvaluatedActor,
		Delegation: &Delegation{Actor: actor, OnBehalfOf: principal},
	}
	deciding := principal
	switch {
	case !actor.Allowed:
		deciding = actor
		d.Explanation = fmt.Sprintf("Denied: the actor %s may not act here: %s", e.actor.s.ID, lowerFirst(actor.Explanation))
	case !principal.Allowed:
		d.Explanation = fmt.Sprintf("Denied: %s acts on behalf of %s, who is not allowed: %s", e.actor.s.ID, e.principal.s.ID, lowerFirst(principal.Explanation))
	default:
		d.Explanation = fmt.Sprintf("Allowed: both the actor %s and %s, on whose behalf it acts, are allowed (%s; %s)",
			e.actor.s.ID, e.principal.s.ID, strings.TrimSuffix(lowerFirst(actor.Explanation), "."), strings.TrimSuffix(lowerFirst(principal.Explanation), ".")) + "."
	}
	d.DecidedBy, d.PolicyID, d.Matches, d.InheritedFrom = deciding.DecidedBy, deciding.PolicyID, deciding.Matches, deciding.InheritedFrom
	if e.explain {
		d.Trace = append(append([]string{"actor:"}, actor.Trace...), append([]string{"on behalf of:"}, principal.Trace...)...)
	}
	d.Delegation.Actor.Trace, d.Delegation.OnBehalfOf.Trace = nil, nil
	return d, nil
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

// evaluation holds one request resolved against a graph.
type evaluation struct {
	ctx       context.Context // checked as the evaluation goes (subjectEval.halted); set after init
	c         *Client
	g         *graph
	in        *EvaluateInput
	scope     *gScope
	actor     *gSubject
	principal *gSubject
	res       *gResource // nil for a type-level request
	typeKey   string     // the requested type key of a type-level request
	pattern   string     // the requested pattern of a type-level request
	read      bool       // the action is a read action (mirror links count)
	context   any        // in.Context in JSON shape, made by the first condition
	// contextCost is what converting the context cost: every subject
	// that reads it is charged it (subjectEval.contextData).
	contextCost int64
	// action and scopeID are in.Action and the scope id as values of the
	// condition data, made by the first condition.
	action, scopeID any
	resTags         bool
	explain         bool
	// matched remembers the collection matches that read nothing of the
	// subject, for every subject of the request (subjectEval.matched
	// holds the others).
	matched []collMatch
	// decideOnly is set by the lookups, which need only Allowed: the
	// role step stops at the first grant, and no explanation or match
	// list is built.
	decideOnly bool
	now        time.Time // set on first use (nowTime)
	// chain is chain(scope), in chainBuf when it fits.
	chain    []handle
	chainBuf [16]handle
	// input holds the request of Evaluate, whose in points to it.
	input EvaluateInput
}

func (e *evaluation) init(c *Client, g *graph, in *EvaluateInput) error {
	if in.Actor.SubjectID == "" || (in.OnBehalfOf != nil && in.OnBehalfOf.SubjectID == "") || in.ScopeID == "" || in.Action == "" {
		var missing []string
		if in.Actor.SubjectID == "" {
			missing = append(missing, "actor.subjectId")
		}
		if in.OnBehalfOf != nil && in.OnBehalfOf.SubjectID == "" {
			missing = append(missing, "onBehalfOf.subjectId")
		}
		if in.ScopeID == "" {
			missing = append(missing, "scopeId")
		}
		if in.Action == "" {
			missing = append(missing, "action")
		}
		return invalidf("evaluate: %s: is required", strings.Join(missing, ", "))
	}
	if err := e.prepare(c, g, in); err != nil {
		return err
	}
	var err error
	if e.actor, err = g.subjectFor(in.Actor, "actor"); err != nil {
		return err
	}
	if in.OnBehalfOf != nil {
		if e.principal, err = g.subjectFor(*in.OnBehalfOf, "onBehalfOf"); err != nil {
			return err
		}
	}
	if err := e.resolveResource(); err != nil {
		return err
	}
	return nil
}

// prepare resets e for the request in (e is recycled; in may point to
// e.input, which keeps its value) and resolves the request scope.
func (e *evaluation) prepare(c *Client, g *graph, in *EvaluateInput) error {
	*e = evaluation{input: e.input, c: c, g: g, in: in, read: c.readActions[in.Action], explain: in.Explain,
		resTags: in.IncludeResourceTags == nil || *in.IncludeResourceTags}
	if e.scope = g.scopeByID(in.ScopeID); e.scope == nil {
		return notFoundErr("evaluate: scope", in.ScopeID)
	}
	e.chain = g.chainOf(e.scope.h, e.chainBuf[:0])
	return nil
}

func (e *evaluation) nowTime() time.Time {
	if e.now.IsZero() {
		e.now = e.c.now()
	}
	return e.now
}

func notFoundErr(what, id string) error {
	return &ruleError{msg: fmt.Sprintf("%s %q: not found", what, id), kind: ErrNotFound}
}

func (g *graph) subjectFor(ref SubjectRef, field string) (*gSubject, error) {
	s := g.subjectByID(ref.SubjectID)
	if s == nil {
		return nil, notFoundErr("evaluate: "+field+": subject", ref.SubjectID)
	}
	if ref.SubjectType != "" && ref.SubjectType != s.s.SubjectType {
		return nil, invalidf("evaluate: %s: subject %q is a %s, not a %s", field, ref.SubjectID, s.s.SubjectType, ref.SubjectType)
	}
	return s, nil
}

// resourceOf returns the resource of h when it is usable: its type exists.
func (g *graph) resourceOf(h handle) (*gResource, *gResType) {
	r := g.resource(h)
	if r == nil {
		return nil, nil
	}
	t := nodeAt[gResType](g, r.typ)
	if t == nil {
		return nil, nil
	}
	return r, t
}

// resolveResource finds the named resource, or sets up a type-level request.
//
// A resource type named by the request (ResourceRef.ResourceType) is
// resolved as the request scope S sees it, never globally: it is a type key
// when a resource type with that key is visible from S (defined at a scope
// of chain(S)), else a type id when that type is visible from S. So nothing
// of another tenant, neither its type ids nor its keys nor its external
// ids, can change the answer of a request made in S.
func (e *evaluation) resolveResource() error {
	ref := e.in.Resource
	switch {
	case ref == nil:
		return invalidf("evaluate: resource: is required (a resourceId, an externalResourceId with its resourceType, or a resourceType)")
	case ref.ResourceID != "":
		if ref.ExternalResourceID != "" || ref.ResourcePattern != "" {
			return invalidf("evaluate: resource: give either resourceId, or externalResourceId with resourceType, or resourceType with an optional resourcePattern")
		}
		r, t := e.g.resourceOf(e.g.lookup(ref.ResourceID))
		if r == nil {
			return notFoundErr("evaluate: resource", ref.ResourceID)
		}
		if ref.ResourceType != "" && ref.ResourceType != t.rt.Key && ref.ResourceType != t.rt.ID {
			return invalidf("evaluate: resource: resource %q is of type %q, not %q", ref.ResourceID, t.rt.Key, ref.ResourceType)
		}
		e.res = r
		return nil
	case ref.ExternalResourceID != "":
		if ref.ResourceType == "" {
			return invalidf("evaluate: resource.resourceType: is required with externalResourceId")
		}
		if ref.ResourcePattern != "" {
			return invalidf("evaluate: resource.resourcePattern: only type-level requests take a pattern")
		}
		return e.resolveExternal(ref.ExternalResourceID, ref.ResourceType)
	case ref.ResourceType != "":
		// A name that no visible type has stays a key: only permissions
		// of chain(S), which name keys, can match it.
		e.typeKey, e.pattern = ref.ResourceType, ref.ResourcePattern
		if types, byKey := e.visibleTypes(ref.ResourceType, nil); len(types) > 0 && !byKey {
			e.typeKey = types[0].rt.Key
		}
		return nil
	}
	return invalidf("evaluate: resource: is empty; give a resourceId, an externalResourceId with its resourceType, or a resourceType")
}

// visibleTypes appends to buf the resource types that name designates for
// a request in the evaluation's scope S: the types visible from S (defined
// at a scope of chain(S)) whose key is name, or, when there is none, the
// type visible from S whose id is name. byKey says which.
func (e *evaluation) visibleTypes(name string, buf []*gResType) (types []*gResType, byKey bool) {
	g := e.g
	list, _ := g.typesByKey.Get(name)
	for _, th := range list {
		if t := nodeAt[gResType](g, th); t != nil && slices.Contains(e.chain, g.lookup(t.rt.ScopeID)) {
			buf = append(buf, t)
		}
	}
	if len(buf) > 0 {
		return buf, true
	}
	if t := nodeAt[gResType](g, g.lookup(name)); t != nil && slices.Contains(e.chain, g.lookup(t.rt.ScopeID)) {
		return append(buf, t), false
	}
	return buf, false
}

// byExternalID returns the resource of type typeID with external id ext.
func (g *graph) byExternalID(typeID, ext string) *gResource {
	h, ok := g.resByExt.Get(extKey(typeID, ext))
	if !ok {
		return nil
	}
	r, _ := g.resourceOf(h)
	return r
}

// resolveExternal finds a resource by external id and a type key or id,
// resolved among the types visible from the request scope (see
// resolveResource). Several visible types may share a key (keys are unique
// per scope, and chain(S) holds several scopes): the resource reachable
// from the request scope is chosen, and more than one is ambiguous.
func (e *evaluation) resolveExternal(ext, typ string) error {
	var tbuf [4]*gResType
	types, _ := e.visibleTypes(typ, tbuf[:0])
	if len(types) == 0 {
		return notFoundErr("evaluate: resource type "+strconv.Quote(typ)+" visible from scope", e.scope.s.ID)
	}
	var fbuf [4]*gResource
	found := fbuf[:0]
	for _, t := range types {
		if r := e.g.byExternalID(t.rt.ID, ext); r != nil {
			found = append(found, r)
		}
	}
	if len(found) > 1 {
		reachable := found[len(found):]
		for _, r := range found {
			if len(e.lines(r, nil)) > 0 {
				reachable = append(reachable, r)
			}
		}
		if len(reachable) > 0 {
			found = reachable
		}
	}
	switch len(found) {
	case 0:
		return notFoundErr("evaluate: resource of type "+typ+" with external id", ext)
	case 1:
		e.res = found[0]
		return nil
	}
	return invalidf("evaluate: resource: external id %q of type key %q names %d resources reachable from scope %q; name it by resourceId or by resource type id", ext, typ, len(found), e.scope.s.ID)
}

// line is a home of the resource on the request scope's line, with the
// deeper of the two scopes (E in SPEC §4.1). home is noHandle for a
// type-level request.
type line struct {
	home handle
	e    handle
}

// lines appends to buf the homes of r on the request scope's line (SPEC
// §4.1).
func (e *evaluation) lines(r *gResource, buf []line) []line {
	out := buf
	add := func(h handle) {
		for _, l := range out {
			if l.home == h {
				return
			}
		}
		switch {
		case e.g.inChain(h, e.scope.h):
			out = append(out, line{home: h, e: h})
		case e.g.inChain(e.scope.h, h):
			out = append(out, line{home: h, e: e.scope.h})
		}
	}
	if e.g.scope(r.owner) != nil {
		add(r.owner)
	}
	for _, l := range r.links {
		if l.typ == LinkMirror && !e.read {
			continue
		}
		if e.g.scope(l.scope) != nil {
			add(l.scope)
		}
	}
	return out
}

// subjectEval is the evaluation of one subject (the actor or the principal).
type subjectEval struct {
	*evaluation
	x       *gSubject
	trace   []string
	visited map[*gResource]bool
	data    []builtData // condition data per resource and E, built lazily
	// mi is the collection-matching view of miRes on line miE.
	mi    *match.Input
	miRes *gResource
	miE   handle
	// matched remembers collection matches already computed, conds the
	// conditions evaluated.
	matched []collMatch
	conds   []condResult
	// condIdx indexes conds once it is long (condIndexFrom entries), so
	// that finding a result costs the same however many conditions a
	// request evaluates.
	condIdx map[condKey]int
	// bySubject records that the outcome so far depends on the subject:
	// a condition was evaluated (its data holds the subject), a collection
	// definition with a condition was matched, or the role step ran. An
	// outcome reached without it is the same for every subject.
	bySubject bool
	// stop says why the evaluation stopped before its end: the request's
	// ctx is done, or the evaluation ran out of its budget (see halted).
	stop error
	// budget counts the operations of conditions, match definitions and
	// glob patterns (Options.MaxEvaluationCost) and checks ctx as they go.
	budget logic.Budget
	// contextPaid says the subject was charged the context's conversion.
	contextPaid bool
}

type collMatch struct {
	c     *gColl
	r     *gResource
	e     handle
	match bool
	// cost is what matching cost: a subject that reuses a match another
	// subject computed is charged it, so that its decision does not depend
	// on which subject came first.
	cost int64
}

// reuse makes s the evaluation of x, keeping the memory of its slices for
// what x's evaluation remembers: a lookup decides many subjects with one
// subjectEval.
func (s *subjectEval) reuse(x *gSubject) {
	clear(s.visited)
	// stop is reset with the rest: a lookup decides each subject anew.
	*s = subjectEval{evaluation: s.evaluation, x: x, visited: s.visited,
		data: s.data[:0], matched: s.matched[:0], conds: s.conds[:0], condIdx: s.condIdx}
	clear(s.condIdx)
	s.budget.Reset(s.ctx, s.c.maxEvalCost)
}

func (e *evaluation) decide(x *gSubject) Decision {
	s := subjectEval{evaluation: e, x: x}
	s.budget.Reset(e.ctx, e.c.maxEvalCost)
	d := Decision{EvaluatedActor: SubjectRef{SubjectID: x.s.ID, SubjectType: x.s.SubjectType}}
	out := s.run()
	d.Allowed, d.DecidedBy, d.PolicyID, d.Matches, d.InheritedFrom, d.Explanation = out.allowed, out.by, out.policyID, out.matches, out.inheritedFrom, out.explanation
	d.Trace = s.trace
	return d
}

// run runs steps 1–4 of SPEC §4.2 for the subject, on the request's
// resource or, for a type-level request, on its type.
func (s *subjectEval) run() outcome {
	out := s.steps()
	if s.c.costHook != nil {
		s.c.costHook(s.budget.Used(), s.stop)
	}
	if s.stop == nil {
		return out
	}
	// Fail closed: what was not evaluated might have denied. A role step
	// that finds a grant although the budget ran out keeps it (see
	// interrupted): the steps before it all ran, and grants only add. A
	// done ctx denies whatever was found (Evaluate then returns ctx's
	// error).
	if !out.allowed || out.by != DecidedByRole || s.cancelled() {
		if s.explain {
			s.tracef("stopped: %v", s.stop)
		}
		return outcome{by: DecidedByDefault, explanation: "Denied: " + s.stopReason() + "."}
	}
	if s.explain {
		s.tracef("granted with the grants found although the evaluation ran out: %v", s.stop)
	}
	return out
}

// cancelled reports whether the evaluation stopped because the request's
// ctx is done.
func (s *subjectEval) cancelled() bool {
	return errors.Is(s.stop, context.Canceled) || errors.Is(s.stop, context.DeadlineExceeded)
}

// ctxErr returns the error of the request's ctx, or nil.
func (s *subjectEval) ctxErr() error {
	if s.ctx == nil {
		return nil
	}
	return s.ctx.Err()
}

// halted reports whether the evaluation must stop now: the request's ctx is
// done, or the evaluation ran out of its budget. Steps call it before work
// whose amount depends on the model or the input (each resource of the
// hierarchy, each policy and grant considered), so that a cancelled request
// returns promptly.
func (s *subjectEval) halted() bool {
	if s.stop == nil {
		s.stop = s.ctxErr()
	}
	return s.stop != nil
}

// interrupted is halted for the role step: it reports whether the
// request's ctx is done, but not whether the budget ran out. After the
// budget runs out, the role step goes on looking for a grant that needs no
// evaluation (no condition, and a pattern that is not a glob): finding one
// costs no operation, and a grant can only add to what the steps before
// it, which all ran, decided.
func (s *subjectEval) interrupted() bool {
	if s.stop == nil {
		s.stop = s.ctxErr()
	}
	return s.cancelled()
}

// stopReason says in words why the evaluation stopped.
func (s *subjectEval) stopReason() string {
	if s.cancelled() {
		return "the request was cancelled before it was decided"
	}
	return "the evaluation was stopped, failing closed: " + s.stop.Error()
}

// steps runs the steps for run.
func (s *subjectEval) steps() outcome {
	if s.res != nil {
		return s.resource(s.res, 0)
	}
	if s.explain {
		s.tracef("type-level request: %s on %q resources in scope %s", s.in.Action, s.typeKey, s.scope.s.ID)
	}
	return s.roles(nil, []line{{home: noHandle, e: s.scope.h}})
}

// tracef adds a step to the trace. Callers check s.explain first, so that a
// request without Explain builds no arguments.
func (s *subjectEval) tracef(format string, args ...any) {
	s.trace = append(s.trace, fmt.Sprintf(format, args...))
}

// outcome is the result of evaluating one subject on one resource.
type outcome struct {
	allowed       bool
	by            DecidedBy
	policyID      string
	matches       []Match
	inheritedFrom string
	explanation   string
}

// resource runs steps 1–4 of SPEC §4.2 for the subject on r.
func (s *subjectEval) resource(r *gResource, depth int) outcome {
	if s.halted() {
		return outcome{by: DecidedByDefault}
	}
	var buf [4]line
	lines := s.lines(r, buf[:0])
	g := s.g
	if len(lines) == 0 {
		if s.decideOnly {
			return outcome{by: DecidedByDefault}
		}
		owner := "(none)"
		if o := g.scope(r.owner); o != nil {
			owner = o.s.ID
		}
		if s.explain {
			s.tracef("resource %s: no home (owner %s or link) is on the line of scope %s", r.r.ID, owner, s.scope.s.ID)
		}
		return outcome{by: DecidedByDefault, explanation: fmt.Sprintf("Denied: resource %s is not reachable from scope %s (it lives in scope %s, which is neither above nor below it within the same tenant).", r.r.ID, s.scope.s.ID, owner)}
	}
	if s.explain {
		for _, l := range lines {
			s.tracef("resource %s: home %s is on the line of scope %s (E = %s)", r.r.ID, g.scope(l.home).s.ID, s.scope.s.ID, g.scope(l.e).s.ID)
		}
	}
	if out, ok := s.policies(r, lines); ok || s.halted() {
		return out
	}
	for _, p := range r.parents {
		parent, _ := g.resourceOf(p.res)
		if parent == nil {
			continue
		}
		if p.cascade == CascadeNone {
			if s.explain {
				s.tracef("resource %s: parent %s does not cascade (edge %s)", r.r.ID, parent.r.ID, p.edgeID)
			}
			continue
		}
		if s.visited == nil {
			s.visited = map[*gResource]bool{}
		}
		s.visited[r] = true
		if s.visited[parent] {
			if s.explain {
				s.tracef("resource %s: parent %s already considered", r.r.ID, parent.r.ID)
			}
			continue
		}
		if depth+1 > s.c.maxHierarchyDepth {
			if s.explain {
				s.tracef("resource %s: parent %s is deeper than the hierarchy limit %d", r.r.ID, parent.r.ID, s.c.maxHierarchyDepth)
			}
			continue
		}
		if s.explain {
			s.tracef("resource %s: evaluating parent %s", r.r.ID, parent.r.ID)
		}
		sub := s.resource(parent, depth+1)
		if s.halted() {
			return outcome{by: DecidedByDefault}
		}
		if sub.allowed {
			if s.decideOnly {
				return outcome{allowed: true, by: DecidedByHierarchy}
			}
			return outcome{allowed: true, by: DecidedByHierarchy, inheritedFrom: parent.r.ID,
				explanation: fmt.Sprintf("Allowed: %s is inherited from parent resource %s (%s).", s.in.Action, parent.r.ID, strings.TrimSuffix(lowerFirst(sub.explanation), "."))}
		}
	}
	return s.roles(r, lines)
}

// policies runs step 1: the first applicable policy, if any, decides.
//
// Policies come in two tiers, the owner's first. The owner's policies are
// those defined in ancestors(O), O being the resource's owning scope (define
// boundaries included: a platform policy reaches every tenant); they apply
// wherever the request is made, through a link too, so that sharing a
// resource never steps around a policy of its owner. Their conditions and
// collection definitions see the data of the first line (the owner's home
// when it is on the request scope's line, else the first linked home that
// is). Only when none of them applies are the borrowers' policies
// considered: those defined in ancestors(E) of a linked home on the line,
// seeing that line's data. Within a tier the first in policyBefore order
// decides.
func (s *subjectEval) policies(r *gResource, lines []line) (outcome, bool) {
	g := s.g
	best := s.bestPolicy(r, func(p *gPolicy) (line, bool) {
		return lines[0], g.inAncestors(r.owner, p.scope)
	})
	if best == nil {
		best = s.bestPolicy(r, func(p *gPolicy) (line, bool) {
			if g.inAncestors(r.owner, p.scope) {
				return line{}, false // the owner's, and it did not apply
			}
			for _, l := range lines {
				if l.home != r.owner && g.inAncestors(l.e, p.scope) {
					return l, true
				}
			}
			return line{}, false
		})
	}
	if best == nil || s.halted() {
		return outcome{}, false
	}
	allowed := best.p.Effect == EffectAllow
	if s.decideOnly {
		return outcome{allowed: allowed, by: DecidedByPolicy}, true
	}
	target := "resource " + r.r.ID
	if !best.direct {
		target = "collection " + best.p.Target.CollectionID
	}
	verb := "Allowed"
	if !allowed {
		verb = "Denied"
	}
	scope := ""
	if sc := g.scope(best.scope); sc != nil {
		scope = sc.s.ID
	}
	return outcome{allowed: allowed, by: DecidedByPolicy, policyID: best.p.ID,
		explanation: fmt.Sprintf("%s by policy %q (%s, %s on %s, priority %d, defined at scope %s).", verb, best.p.Name, best.p.ID, best.p.Effect, target, best.p.Priority, scope)}, true
}

// bestPolicy returns the first, in policyBefore order, of the policies of
// r (direct, and through the collections of r's type) that apply to the
// request, among those tier accepts; tier also gives the line whose data a
// policy's conditions and collection see.
func (s *subjectEval) bestPolicy(r *gResource, tier func(*gPolicy) (line, bool)) *gPolicy {
	g := s.g
	var best *gPolicy
	consider := func(p *gPolicy, via *gColl) {
		l, ok := tier(p)
		if !ok || s.halted() {
			return
		}
		if !actionListed(p.p.Actions, s.in.Action) {
			if s.explain {
				s.tracef("policy %s: does not apply to action %s", p.p.ID, s.in.Action)
			}
			return
		}
		if via != nil && !s.collectionMatches(via, r, l) {
			return
		}
		if ok, why := s.cond(p.subject, r, l); !ok {
			if s.explain {
				s.tracef("policy %s: subjectCondition is not met (%s)", p.p.ID, why)
			}
			return
		}
		if ok, why := s.cond(p.context, r, l); !ok {
			if s.explain {
				s.tracef("policy %s: contextCondition is not met (%s)", p.p.ID, why)
			}
			return
		}
		if s.explain {
			who := "the owner's"
			if !g.inAncestors(r.owner, p.scope) {
				who = "a borrower's"
			}
			s.tracef("policy %s (%s, priority %d, %s) applies", p.p.ID, p.p.Effect, p.p.Priority, who)
		}
		if best == nil || policyBefore(p, best) {
			best = p
		}
	}
	for _, ph := range r.policies {
		if p := nodeAt[gPolicy](g, ph); p != nil {
			consider(p, nil)
		}
	}
	if t := nodeAt[gResType](g, r.typ); t != nil {
		for _, ch := range t.colls {
			c := nodeAt[gColl](g, ch)
			if c == nil || !c.hasAction(s.in.Action) {
				continue
			}
			for _, ph := range c.policies {
				if p := nodeAt[gPolicy](g, ph); p != nil {
					consider(p, c)
				}
			}
		}
	}
	return best
}

// hasAction reports whether some policy of c lists action (or "*").
func (c *gColl) hasAction(action string) bool {
	return c.actions[action] || c.actions["*"]
}

// policyBefore orders policies: priority descending, deny before allow,
// direct before collection, then id.
func policyBefore(a, b *gPolicy) bool {
	if a.p.Priority != b.p.Priority {
		return a.p.Priority > b.p.Priority
	}
	if (a.p.Effect == EffectDeny) != (b.p.Effect == EffectDeny) {
		return a.p.Effect == EffectDeny
	}
	if a.direct != b.direct {
		return a.direct
	}
	return a.p.ID < b.p.ID
}

func actionListed(actions []string, action string) bool {
	for _, a := range actions {
		if a == action || a == "*" {
			return true
		}
	}
	return false
}

func (s *subjectEval) collectionMatches(c *gColl, r *gResource, l line) bool {
	for _, m := range s.matched {
		if m.c == c && m.r == r && m.e == l.e {
			return m.match
		}
	}
	shared := !c.readsData && !s.explain
	if shared {
		// The match reads nothing of the subject: every subject of the
		// request shares it (the actor and the principal, or the
		// subjects of a lookup), each paying what it cost.
		for _, m := range s.evaluation.matched {
			if m.c == c && m.r == r && m.e == l.e {
				if s.stop != nil {
					return false
				}
				if s.budget.Charge(m.cost, (*collWhere)(c)) != nil {
					s.stopped()
					return false
				}
				s.matched = append(s.matched, m)
				return m.match
			}
		}
	}
	if c.readsData {
		s.bySubject = true
	}
	if s.stop != nil {
		return false
	}
	before := s.budget.Used()
	ok, err := c.def.Eval(s.matchInput(r, l), s.nowTime(), &s.budget)
	if s.stopped() {
		// Not remembered: another subject of a lookup has its own budget.
		if s.explain {
			s.tracef("collection %s: not matched: %v", c.c.ID, err)
		}
		return false
	}
	m := collMatch{c: c, r: r, e: l.e, match: ok, cost: s.budget.Used() - before}
	s.matched = append(s.matched, m)
	if shared {
		s.evaluation.matched = append(s.evaluation.matched, m)
	}
	if !ok && s.explain {
		s.tracef("collection %s: does not match resource %s", c.c.ID, r.r.ID)
	}
	return ok
}

// stopped reports whether the evaluation's budget has run out or its ctx
// is done, recording why in s.stop: callers of the budget ask it after
// each evaluation they charge.
func (s *subjectEval) stopped() bool {
	if s.stop == nil {
		s.stop = s.budget.Err()
	}
	return s.stop != nil
}

// hit is one permission granted through one role.
type hit struct {
	rp   *gRolePerm
	perm *gPerm
	role *gRole
}

// roleStep is the state of one role step: the resource and what a grant
// must be for, and the first reason a grant did not apply. (The grants
// found are passed along by value, so that their buffer stays on the
// stack.)
type roleStep struct {
	r         *gResource
	typeKey   string
	action    string
	overrides bool // some scope of chain(E) of the current line has overrides
	why       denialReason
}

// roles runs step 3 (and step 4 when nothing matches): the grants of the
// subject's roles, through its memberships in chain(S), on each line of
// the resource.
func (s *subjectEval) roles(r *gResource, lines []line) outcome {
	s.bySubject = true
	st := &roleStep{r: r, typeKey: s.typeKey, action: s.in.Action}
	if r != nil {
		st.typeKey = nodeAt[gResType](s.g, r.typ).rt.Key
	}
	var hitBuf [4]hit
	hits := hitBuf[:0]
	for _, l := range lines {
		var decided bool
		if hits, decided = s.lineGrants(st, l, hits); decided {
			return outcome{allowed: true, by: DecidedByRole}
		}
	}
	why := &st.why
	if len(hits) == 0 {
		if s.decideOnly {
			return outcome{by: DecidedByDefault}
		}
		return outcome{by: DecidedByDefault, explanation: why.explain(s, r)}
	}
	return s.granted(hits)
}

// lineGrants appends to hits the grants of the subject's roles on line l,
// through the memberships that count on it (at a scope of chain(S), and of
// the chain of the line's home). It reports whether the step is decided: a
// grant was found and only the decision is wanted.
func (s *subjectEval) lineGrants(st *roleStep, l line, hits []hit) ([]hit, bool) {
	g := s.g
	homeChain := s.chain
	var homeBuf [16]handle
	if l.home != noHandle && l.home != s.scope.h {
		homeChain = g.chainOf(l.home, homeBuf[:0])
	}
	st.overrides = g.overridesInChain(l.e)
	for _, ref := range s.x.members {
		if !slices.Contains(s.chain, ref.scope) || (l.home != noHandle && !slices.Contains(homeChain, ref.scope)) {
			continue
		}
		if s.interrupted() {
			return hits, false
		}
		m := nodeAt[gMember](g, ref.h)
		if m == nil {
			continue
		}
		st.why.member = true
		if s.explain {
			s.tracef("membership %s at scope %s counts (roles %d)", m.id, g.scope(m.scope).s.ID, len(m.roles))
		}
		for _, rh := range m.roles {
			var decided bool
			if hits, decided = s.roleGrants(st, l, rh, hits); decided {
				return hits, true
			}
		}
	}
	return hits, false
}

// roleGrants appends to hits the grants of role rh on line l; it reports
// whether the step is decided.
func (s *subjectEval) roleGrants(st *roleStep, l line, rh handle, hits []hit) ([]hit, bool) {
	g := s.g
	role := nodeAt[gRole](g, rh)
	if role == nil {
		return hits, false
	}
	if st.overrides {
		if o := g.roleOverride(l.e, rh); o != nil && o.State == OverrideDisabled {
			s.skip(&st.why, skipped{note: noteRoleDisabled, role: role, ov: o})
			return hits, false
		}
	}
	for _, rp := range role.perms {
		if rp.action != st.action || rp.typeKey != st.typeKey {
			continue
		}
		p := nodeAt[gPerm](g, rp.perm)
		if p == nil {
			continue
		}
		if !s.grantApplies(st, l, rh, role, rp, p) {
			if s.interrupted() {
				return hits, false
			}
			continue
		}
		if s.explain {
			s.tracef("permission %s granted through role %s", p.p.ID, role.r.ID)
		}
		if s.decideOnly {
			return hits, true
		}
		hits = append(hits, hit{rp: rp, perm: p, role: role})
	}
	return hits, false
}

// grantApplies reports whether permission p, held through role (rp),
// grants on line l: its pattern matches the resource, no override in
// chain(E) disables it, and its conditions hold.
func (s *subjectEval) grantApplies(st *roleStep, l line, rh handle, role *gRole, rp *gRolePerm, p *gPerm) bool {
	if !s.patternMatches(p, st.r) {
		s.skip(&st.why, skipped{note: notePattern, role: role, perm: p})
		return false
	}
	var rpo *gOverride
	if st.overrides {
		g := s.g
		if o := g.permOverride(l.e, rp.perm); o != nil && o.State == OverrideDisabled {
			s.skip(&st.why, skipped{note: notePermDisabled, role: role, perm: p, ov: o})
			return false
		}
		rpo = g.rolePermOverride(l.e, rh, rp.perm)
		if rpo != nil && rpo.o.State == OverrideDisabled {
			s.skip(&st.why, skipped{note: noteGrantDisabled, role: role, perm: p, ov: rpo.o})
			return false
		}
	}
	return s.grantConditions(p, rp, rpo, role, st.r, l, &st.why)
}

// skipped is a grant, or a whole role, that the role step passes over,
// and why.
type skipped struct {
	note   denialNote
	role   *gRole
	perm   *gPerm         // nil when the whole role is disabled
	ov     *ScopeOverride // the override that disables it
	condID string         // the unmet condition's owner (noteLogicNotMet…)
	detail string         // what the unmet condition gave
}

// skip records why a grant does not apply: the first reason of the step
// explains its denial, and with Explain every one is a line of the trace.
// Without Explain it formats nothing and allocates nothing.
func (s *subjectEval) skip(why *denialReason, k skipped) {
	switch k.note {
	case noteRoleDisabled:
		why.note(k.note, k.role.r.ID, k.ov.ChildScopeID, "")
	case notePattern:
		why.note(k.note, k.perm.p.Key, k.perm.p.ResourcePattern, "")
	case notePermDisabled:
		why.note(k.note, k.perm.p.Key, k.ov.ChildScopeID, "")
	case noteGrantDisabled:
		why.note(k.note, k.perm.p.Key, k.role.r.ID, k.ov.ChildScopeID)
	default:
		why.note(k.note, k.perm.p.Key, k.role.r.ID, k.condID)
	}
	if !s.explain {
		return
	}
	switch k.note {
	case noteRoleDisabled:
		s.tracef("role %s: disabled by override %s at scope %s", k.role.r.ID, k.ov.ID, k.ov.ChildScopeID)
	case notePattern:
		s.tracef("permission %s (role %s): pattern %q does not match", k.perm.p.ID, k.role.r.ID, k.perm.p.ResourcePattern)
	case notePermDisabled:
		s.tracef("permission %s: disabled by override %s at scope %s", k.perm.p.ID, k.ov.ID, k.ov.ChildScopeID)
	case noteGrantDisabled:
		s.tracef("permission %s through role %s: disabled by override %s at scope %s", k.perm.p.ID, k.role.r.ID, k.ov.ID, k.ov.ChildScopeID)
	default:
		s.tracef("permission %s through role %s: %s is not met (%s)", k.perm.p.ID, k.role.r.ID, k.note.unmet(k.condID), k.detail)
	}
}

// granted builds the outcome of the role step from its hits. The common
// case, one permission through one role, uses the Match and explanation
// made once when the role was loaded.
func (s *subjectEval) granted(hits []hit) outcome {
	single := true
	for _, h := range hits[1:] {
		if h.perm != hits[0].perm || h.role != hits[0].role {
			single = false
			break
		}
	}
	if single {
		return outcome{allowed: true, by: DecidedByRole, matches: hits[0].rp.match, explanation: hits[0].rp.explanation}
	}
	type grant struct {
		perm  *gPerm
		roles []string
	}
	var grants []grant
	for _, h := range hits {
		i := slices.IndexFunc(grants, func(gr grant) bool { return gr.perm == h.perm })
		if i < 0 {
			grants = append(grants, grant{perm: h.perm})
			i = len(grants) - 1
		}
		if !slices.Contains(grants[i].roles, h.role.r.ID) {
			grants[i].roles = append(grants[i].roles, h.role.r.ID)
		}
	}
	out := outcome{allowed: true, by: DecidedByRole, matches: make([]Match, len(grants))}
	names := make([]string, len(grants))
	for i, gr := range grants {
		sort.Strings(gr.roles)
		out.matches[i] = newMatch(gr.perm.p, gr.roles)
		names[i] = fmt.Sprintf("%s through role %s", gr.perm.p.Key, strings.Join(gr.roles, ", "))
	}
	out.explanation = "Allowed: " + s.x.s.ID + " holds permission " + strings.Join(names, "; ") + "."
	return out
}

func newMatch(p *Permission, roles []string) Match {
	return Match{PermissionID: p.ID, Key: p.Key, Action: p.Action, ResourceType: p.ResourceType,
		ResourcePattern: p.ResourcePattern, ScopeID: p.ScopeID, SourceRoleIDs: roles}
}

// grantConditions reports whether the conditions of a grant hold: the
// permission's logic, the role-permission's condition and that of an
// override of it.
func (s *subjectEval) grantConditions(p *gPerm, rp *gRolePerm, rpo *gOverride, role *gRole, r *gResource, l line, why *denialReason) bool {
	for i, c := range [3]*logic.Cond{p.logic, rp.cond, overrideCond(rpo)} {
		if ok, detail := s.cond(c, r, l); !ok {
			s.skip(why, skipped{note: [3]denialNote{noteLogicNotMet, noteGrantCondNotMet, noteOverrideCondNotMet}[i],
				role: role, perm: p, condID: [3]string{p.p.ID, rp.id, ""}[i], detail: detail})
			return false
		}
	}
	return true
}

func overrideCond(o *gOverride) *logic.Cond {
	if o == nil {
		return nil
	}
	return o.cond
}

// patternMatches applies SPEC §4.2 step 3's pattern rules.
func (s *subjectEval) patternMatches(p *gPerm, r *gResource) bool {
	pat := p.p.ResourcePattern
	if pat == "*" {
		return true
	}
	if r == nil {
		return s.pattern != "" && pat == s.pattern
	}
	switch {
	case pat == "owned":
		return r.r.OwnerID != "" && r.r.OwnerID == s.x.s.ID
	case p.glob:
		if s.stop != nil {
			return false
		}
		ok, _ := match.GlobBudget(pat, r.r.ExternalResourceID, &s.budget, (*patternWhere)(p))
		if s.stopped() {
			return false
		}
		return ok
	}
	return pat == r.r.ID || pat == r.r.ExternalResourceID
}

// collWhere names a collection's match for the budget's error.
type collWhere gColl

func (c *collWhere) String() string {
	return fmt.Sprintf("the match definition of collection %q", c.c.ID)
}

// patternWhere names a permission's pattern for the budget's error.
type patternWhere gPerm

func (p *patternWhere) String() string {
	return fmt.Sprintf("the resource pattern of permission %q", p.p.ID)
}

// overridesInChain reports whether any scope of chain(e) defines an
// override, so that the role step can skip looking them up.
func (g *graph) overridesInChain(e handle) bool {
	for range maxScopeDepth {
		s := g.scope(e)
		if s == nil {
			return false
		}
		if len(s.roleOv) > 0 || len(s.permOv) > 0 || len(s.rpOv) > 0 {
			return true
		}
		if s.define {
			return false
		}
		e = s.parent
	}
	return false
}

// Overrides are read along chain(E), from E upward; the first decides.
func (g *graph) roleOverride(e, role handle) *ScopeOverride {
	return firstInChain(g, e, func(s *gScope) *ScopeOverride { return s.roleOv[role] })
}

func (g *graph) permOverride(e, perm handle) *ScopeOverride {
	return firstInChain(g, e, func(s *gScope) *ScopeOverride { return s.permOv[perm] })
}

func (g *graph) rolePermOverride(e, role, perm handle) *gOverride {
	return firstInChain(g, e, func(s *gScope) *gOverride { return s.rpOv[[2]handle{role, perm}] })
}

// firstInChain returns the first non-nil result of fn along chain(e).
func firstInChain[T any](g *graph, e handle, fn func(*gScope) *T) *T {
	for range maxScopeDepth {
		s := g.scope(e)
		if s == nil {
			return nil
		}
		if v := fn(s); v != nil {
			return v
		}
		if s.define {
			return nil
		}
		e = s.parent
	}
	return nil
}

// denialReason collects why the role step granted nothing.
type denialReason struct {
	member bool
	// first is the first reason noted, with its arguments: it is put into
	// words only when the explanation is made, so that a request that is
	// allowed after all, or decided without explanation, pays nothing.
	first   denialNote
	a, b, c string
}

// denialNote is a reason the role step skipped a grant; the comments say
// what a, b and c of denialReason are.
type denialNote uint8

const (
	noNote                 denialNote = iota
	noteRoleDisabled                  // role a, scope b
	notePattern                       // permission key a, pattern b
	notePermDisabled                  // permission key a, scope b
	noteGrantDisabled                 // permission key a, role b, scope c
	noteLogicNotMet                   // permission key a, role b, permission id c
	noteGrantCondNotMet               // permission key a, role b, role-permission id c
	noteOverrideCondNotMet            // permission key a, role b
)

// note keeps the first reason noted.
func (d *denialReason) note(n denialNote, a, b, c string) {
	if d.first == noNote {
		d.first, d.a, d.b, d.c = n, a, b, c
	}
}

// unmet names the condition a note of an unmet condition is about.
func (n denialNote) unmet(id string) string {
	switch n {
	case noteLogicNotMet:
		return "permission " + id + " logic"
	case noteGrantCondNotMet:
		return "condition of role permission " + id
	}
	return "condition of override"
}

// sentence puts the first reason into words.
func (d *denialReason) sentence() string {
	switch d.first {
	case noteRoleDisabled:
		return fmt.Sprintf("role %s is disabled by an override at scope %s", d.a, d.b)
	case notePattern:
		return fmt.Sprintf("permission %s matches the action but its pattern %q does not match the resource", d.a, d.b)
	case notePermDisabled:
		return fmt.Sprintf("permission %s is disabled by an override at scope %s", d.a, d.b)
	case noteGrantDisabled:
		return fmt.Sprintf("permission %s through role %s is disabled by an override at scope %s", d.a, d.b, d.c)
	}
	return fmt.Sprintf("permission %s through role %s matched but the %s was not met", d.a, d.b, d.first.unmet(d.c))
}

// explain says why the role step denied. The two common reasons on a
// resource are constant sentences (the subject, scope, action and resource
// are those of the request), so that a denial allocates nothing.
func (d *denialReason) explain(s *subjectEval, r *gResource) string {
	switch {
	case d.first != noNote:
		return "Denied: " + d.sentence() + "."
	case r != nil && !d.member:
		return "Denied: the subject has no membership at or above the request scope that reaches the resource."
	case r != nil:
		return "Denied: no role of the subject grants the action on the resource."
	case !d.member:
		return fmt.Sprintf("Denied: %s has no membership at or above scope %s that reaches %q resources.", s.x.s.ID, s.scope.s.ID, s.typeKey)
	}
	return fmt.Sprintf("Denied: no role of %s grants %s on %q resources.", s.x.s.ID, s.in.Action, s.typeKey)
}

// cond evaluates a condition for the subject on line l. A nil condition
// holds. Anything but a boolean true is false; the reason is returned.
//
// Results are remembered for the request: the same condition (by source)
// on the same resource and E sees the same data, so it is evaluated once
// however many grants carry it.
func (s *subjectEval) cond(c *logic.Cond, r *gResource, l line) (bool, string) {
	if c == nil {
		return true, ""
	}
	if s.stop != nil {
		return false, "not evaluated: the evaluation was stopped"
	}
	s.bySubject = true
	key := condKey{src: c.String(), broken: c.Broken() != nil, r: r, e: l.e}
	if m, ok := s.lookupCond(key); ok {
		return m.ok, m.why
	}
	ok, decided := false, false
	var err error
	if f := c.Fast(); f != nil {
		if ok, decided = s.fastCond(f, r, l); decided {
			err = s.budget.Charge(c.Cost(), logic.Label("the condition"))
		}
	}
	if !decided {
		ok, err = c.Eval(s.conditionData(r, l), &s.budget)
	}
	if s.stopped() {
		// Not remembered: the condition was not decided.
		return false, fmt.Sprintf("not evaluated to the end: %v", s.stop)
	}
	why := ""
	switch {
	case err != nil:
		ok, why = false, err.Error()
	case !ok:
		why = "false"
	}
	s.rememberCond(condResult{condKey: key, ok: ok, why: why})
	return ok, why
}

// condKey identifies a condition's evaluation in a request: the same
// condition (by source) on the same resource and E sees the same data.
type condKey struct {
	src    string
	broken bool
	r      *gResource
	e      handle
}

// condResult is a condition evaluated during a request.
type condResult struct {
	condKey
	ok  bool
	why string
}

// condIndexFrom is the number of remembered conditions from which they are
// indexed by a map rather than searched.
const condIndexFrom = 8

// lookupCond returns the remembered result of the evaluation key.
func (s *subjectEval) lookupCond(key condKey) (condResult, bool) {
	if len(s.conds) >= condIndexFrom {
		i, ok := s.condIdx[key]
		if !ok {
			return condResult{}, false
		}
		return s.conds[i], true
	}
	for _, m := range s.conds {
		if m.condKey == key {
			return m, true
		}
	}
	return condResult{}, false
}

// rememberCond remembers a result, indexing them all once there are
// condIndexFrom.
func (s *subjectEval) rememberCond(m condResult) {
	s.conds = append(s.conds, m)
	switch n := len(s.conds); {
	case n == condIndexFrom:
		if s.condIdx == nil {
			s.condIdx = make(map[condKey]int, 2*condIndexFrom)
		}
		for i, c := range s.conds {
			s.condIdx[c.condKey] = i
		}
	case n > condIndexFrom:
		s.condIdx[m.condKey] = n - 1
	}
}

// conditionData builds (once per E) the data conditions see (SPEC §4.1).
func (s *subjectEval) conditionData(r *gResource, l line) map[string]any {
	if d := s.dataBuilt(r, l); d != nil {
		return d
	}
	if s.action == nil {
		s.action, s.scopeID = s.in.Action, s.scope.s.ID
	}
	d := map[string]any{"subject": s.subjectData(l), "context": s.contextData(), "action": s.action, "scopeId": s.scopeID,
		"resource": s.resourceData(r, l)}
	s.data = append(s.data, builtData{e: l.e, r: r, d: d})
	return d
}

// fastCond evaluates a condition of the fast form for the subject on line
// l without building the condition data: the value the var names is looked
// up in the parts of the data it lies in (the subject's or the resource's
// fields, kept once built, their tags in chain(E), the context), so
// deciding one condition for each of many subjects allocates nothing. It
// sees exactly the data conditionData builds; decided is false when the
// condition must be evaluated in full on the built data
// (TestFastCondSeesConditionData). The caller charges the condition's
// static cost when it decides.
func (s *subjectEval) fastCond(f *logic.Compare, r *gResource, l line) (result, decided bool) {
	if d := s.dataBuilt(r, l); d != nil {
		return f.Eval(d)
	}
	path := f.Path()
	rest := path[1:]
	tags := len(rest) > 0 && rest[0] == "tags"
	switch path[0] {
	case "subject":
		if tags && len(s.x.tags) > 0 {
			return f.EvalValue(s.g.tagsIn(s.x.tags, l.e), rest[1:])
		}
		return f.EvalValue(s.subjectStatic(), rest)
	case "resource":
		if r == nil {
			return false, false // type-level data is built per request
		}
		if tags && s.resTags && len(r.tags) > 0 {
			return f.EvalValue(s.g.tagsIn(r.tags, l.e), rest[1:])
		}
		return f.EvalValue(s.resourceStatic(r), rest)
	case "context":
		if s.context != nil {
			cx := s.contextData()
			if cx == nil {
				return false, true // out of budget: the caller sees it
			}
			return f.EvalValue(cx, rest)
		}
		// Walk in.Context as given and convert only the value found: the
		// result is that of walking its conversion (logic.Value converts a
		// map value by value). The conversion is charged.
		var cur any = s.in.Context
		for i, k := range rest {
			m, ok := cur.(map[string]any)
			if !ok {
				v, err := logic.ValueAtDepthBudget(cur, i, &s.budget)
				if err != nil {
					return false, true
				}
				return f.EvalValue(v, rest[i:])
			}
			if cur, ok = m[k]; !ok {
				return false, true
			}
		}
		v, err := logic.ValueAtDepthBudget(cur, len(rest), &s.budget)
		if err != nil {
			return false, true
		}
		return f.EvalValue(v, nil)
	case "action":
		return f.EvalValue(s.in.Action, rest)
	case "scopeId":
		return f.EvalValue(s.scope.s.ID, rest)
	}
	return false, true // no such field: a missing value
}

// dataBuilt returns the condition data already built for r on line l, or
// nil.
func (s *subjectEval) dataBuilt(r *gResource, l line) map[string]any {
	for _, x := range s.data {
		if x.e == l.e && x.r == r {
			return x.d
		}
	}
	return nil
}

// builtData is the condition data of one resource on one line.
type builtData struct {
	e handle
	r *gResource
	d map[string]any
}

// contextData returns the request's context as conditions see it. It is
// made once per request and shared by its subjects (conditions never
// modify their data), and its conversion is charged to every subject that
// reads it, so that no decision depends on which subject came first. It
// returns nil when the budget runs out (s.stop says so); a conversion that
// ran out is not kept.
func (s *subjectEval) contextData() any {
	if s.context == nil {
		if s.in.Context == nil {
			s.context = map[string]any{}
		} else {
			before := s.budget.Used()
			v, err := logic.ValueBudget(s.in.Context, &s.budget)
			if err != nil {
				s.stopped()
				return nil
			}
			s.context, s.contextCost = v, s.budget.Used()-before
		}
		s.contextPaid = true
		return s.context
	}
	if !s.contextPaid {
		s.contextPaid = true
		if s.budget.Charge(s.contextCost, logic.Label("the conversion of the request's context")) != nil {
			s.stopped()
			return nil
		}
	}
	return s.context
}

// subjectData returns the subject as conditions on line l see it.
func (s *subjectEval) subjectData(l line) map[string]any {
	return withTags(s.subjectStatic(), s.g, s.x.tags, l.e)
}

// subjectStatic returns the subject's fields as conditions see them, with
// no tags; it is built once per subject and kept until the subject changes.
func (s *subjectEval) subjectStatic() map[string]any {
	x := s.x
	static := x.data.Load()
	if static == nil {
		m := map[string]any{"id": x.s.ID, "type": string(x.s.SubjectType), "subjectType": string(x.s.SubjectType),
			"externalId": x.s.ExternalID, "displayName": x.s.DisplayName, "meta": logic.Value(x.s.Meta), "tags": map[string]any{}}
		if x.s.Meta == nil {
			m["meta"] = map[string]any{}
		}
		static = &m
		x.data.Store(static)
	}
	return *static
}

// withTags returns static with its tags set to those of tags in chain(e):
// static itself when there are none, else a copy.
func withTags(static map[string]any, g *graph, tags []gTag, e handle) map[string]any {
	if len(tags) == 0 {
		return static
	}
	m := make(map[string]any, len(static))
	for k, v := range static {
		m[k] = v
	}
	m["tags"] = g.tagsIn(tags, e)
	return m
}

// resourceData returns r as conditions on line l see it, or the requested
// type (and pattern) for a type-level request.
func (s *subjectEval) resourceData(r *gResource, l line) map[string]any {
	if r == nil {
		m := map[string]any{"type": s.typeKey, "tags": map[string]any{}}
		if s.pattern != "" {
			m["resourcePattern"] = s.pattern
		}
		return m
	}
	if !s.resTags {
		return s.resourceStatic(r)
	}
	return withTags(s.resourceStatic(r), s.g, r.tags, l.e)
}

// resourceStatic returns r's fields as conditions see them, with no tags;
// it is built once per resource and kept until the resource changes.
func (s *subjectEval) resourceStatic(r *gResource) map[string]any {
	static := r.data.Load()
	if static == nil {
		res := r.r
		m := map[string]any{}
		for k, v := range res.Meta {
			m[k] = logic.Value(v)
		}
		meta := logic.Value(res.Meta)
		if res.Meta == nil {
			meta = map[string]any{}
		}
		typeKey := ""
		if t := nodeAt[gResType](s.g, r.typ); t != nil {
			typeKey = t.rt.Key
		}
		for k, v := range map[string]any{"id": res.ID, "type": typeKey, "resourceTypeId": res.ResourceTypeID, "scopeId": res.ScopeID,
			"externalResourceId": res.ExternalResourceID, "ownerId": res.OwnerID, "createdBy": res.CreatedBy,
			"createdAt": res.CreatedAt.UTC().Format(time.RFC3339), "displayName": res.DisplayName, "meta": meta, "tags": map[string]any{}} {
			m[k] = v
		}
		static = &m
		r.data.Store(static)
	}
	return *static
}

// matchInput builds the collection-matching view of r.
// It is made once per resource and E; matching never modifies it.
func (s *subjectEval) matchInput(r *gResource, l line) *match.Input {
	if s.mi != nil && s.miRes == r && s.miE == l.e {
		return s.mi
	}
	data := s.conditionData(r, l)
	props := data["resource"].(map[string]any)
	var tags map[string][]string
	if len(r.tags) > 0 {
		tags = map[string][]string{}
		s.g.eachTag(r.tags, l.e, func(group, identifier string) {
			tags[group] = append(tags[group], identifier)
		})
	}
	meta, _ := props["meta"].(map[string]any)
	s.mi, s.miRes, s.miE = &match.Input{Props: props, Meta: meta, Tags: tags, Data: data}, r, l.e
	return s.mi
}

// eachTag calls fn for the assignments of tags whose scope is in chain(e).
func (g *graph) eachTag(tags []gTag, e handle, fn func(group, identifier string)) {
	for _, t := range tags {
		n := nodeAt[gTagNode](g, t.tag)
		if n == nil || !g.inChain(e, t.scope) {
			continue
		}
		fn(n.groupKey, n.t.Identifier)
	}
}

// tagsIn returns {groupKey: [identifier…]} for the assignments whose scope
// is in chain(e).
func (g *graph) tagsIn(tags []gTag, e handle) map[string]any {
	out := map[string]any{}
	g.eachTag(tags, e, func(group, identifier string) {
		list, _ := out[group].([]any)
		out[group] = append(list, identifier)
	})
	return out
}
