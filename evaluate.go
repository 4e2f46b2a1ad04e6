package authz

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/scopegate/authz/storage"
)

// SubjectRef names the subject of an evaluation. SubjectType is optional;
// when set it must be the subject's type.
type SubjectRef struct {
	SubjectID   string      `json:"subjectId"`
	SubjectType SubjectType `json:"subjectType,omitempty"`
}

// ResourceRef names the resource of an evaluation in one of three ways: by
// ResourceID; by ExternalResourceID and ResourceType (a resource type id or
// key); or, for a type-level question ("may X read documents here?"), by
// ResourceType (a key) alone, optionally with a ResourcePattern.
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
// error only for malformed input (ErrInvalid) or an unknown actor, scope or
// resource (ErrNotFound, with a Decision that is not allowed); every other
// outcome, including a denial, is a Decision. Evaluate never grants on an
// internal error.
func (c *Client) Evaluate(ctx context.Context, in EvaluateInput) (Decision, error) {
	g, err := c.snapshot(ctx)
	if err != nil {
		return denied(in, "the store could not be read"), err
	}
	return c.evaluate(g, &in)
}

// EvaluateBatch answers many questions against one snapshot of the store.
// Decisions come back in input order; the error is the first one returned
// for an input, prefixed with its index, and every input is still answered.
func (c *Client) EvaluateBatch(ctx context.Context, in []EvaluateInput) ([]Decision, error) {
	out := make([]Decision, len(in))
	g, err := c.snapshot(ctx)
	if err != nil {
		for i := range in {
			out[i] = denied(in[i], "the store could not be read")
		}
		return out, err
	}
	var first error
	for i := range in {
		d, err := c.evaluate(g, &in[i])
		out[i] = d
		if err != nil && first == nil {
			first = fmt.Errorf("evaluate batch: input %d: %w", i, err)
		}
	}
	return out, first
}

// snapshot returns the graph of the store's current revision, building it
// when the store changed since the last one.
func (c *Client) snapshot(ctx context.Context) (*graph, error) {
	var g *graph
	err := c.store.View(ctx, func(tx storage.Tx) error {
		rev, err := readRevision(tx)
		if err != nil {
			return err
		}
		if cur := c.graph.Load(); cur != nil && cur.rev == rev {
			g = cur
			return nil
		}
		c.graphMu.Lock()
		defer c.graphMu.Unlock()
		if cur := c.graph.Load(); cur != nil && cur.rev == rev {
			g = cur
			return nil
		}
		g, err = buildGraph(tx)
		if err != nil {
			return err
		}
		if cur := c.graph.Load(); cur == nil || cur.rev < g.rev {
			c.graph.Store(g)
		}
		return nil
	})
	return g, err
}

func denied(in EvaluateInput, why string) Decision {
	d := Decision{DecidedBy: DecidedByDefault, Explanation: "Denied: " + why + ".", EvaluatedActor: in.Actor}
	if in.OnBehalfOf != nil {
		p := *in.OnBehalfOf
		d.EvaluatedOnBehalfOf = &p
		d.UsedDelegation = true
	}
	return d
}

func (c *Client) evaluate(g *graph, in *EvaluateInput) (dec Decision, err error) {
	defer func() {
		// Fail closed: a bug must never grant.
		if r := recover(); r != nil {
			dec = denied(*in, "an internal error occurred")
			err = fmt.Errorf("authz: evaluate: internal error: %v", r)
		}
	}()
	e, err := c.newEvaluation(g, in)
	if err != nil {
		d := denied(*in, strings.TrimPrefix(err.Error(), "evaluate: "))
		return d, err
	}
	actor := e.decide(e.actor)
	if e.principal == nil {
		actor.Trace = e.traceFor(actor.Trace)
		return actor, nil
	}
	principal := e.decide(e.principal)
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
	context   any        // in.Context in JSON shape
	resTags   bool
	explain   bool
	now       time.Time
}

func (c *Client) newEvaluation(g *graph, in *EvaluateInput) (*evaluation, error) {
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
	if len(missing) > 0 {
		return nil, invalidf("evaluate: %s: is required", strings.Join(missing, ", "))
	}
	e := &evaluation{c: c, g: g, in: in, read: c.readActions[in.Action], explain: in.Explain,
		resTags: in.IncludeResourceTags == nil || *in.IncludeResourceTags, now: c.now()}
	if e.scope = g.scopes[in.ScopeID]; e.scope == nil {
		return nil, notFoundErr("evaluate: scope", in.ScopeID)
	}
	var err error
	if e.actor, err = g.subjectFor(in.Actor, "actor"); err != nil {
		return nil, err
	}
	if in.OnBehalfOf != nil {
		if e.principal, err = g.subjectFor(*in.OnBehalfOf, "onBehalfOf"); err != nil {
			return nil, err
		}
	}
	if err := e.resolveResource(); err != nil {
		return nil, err
	}
	if in.Context != nil {
		e.context = jsonValue(in.Context)
	}
	return e, nil
}

func notFoundErr(what, id string) error {
	return &ruleError{msg: fmt.Sprintf("%s %q: not found", what, id), kind: ErrNotFound}
}

func (g *graph) subjectFor(ref SubjectRef, field string) (*gSubject, error) {
	s := g.subjects[ref.SubjectID]
	if s == nil {
		return nil, notFoundErr("evaluate: "+field+": subject", ref.SubjectID)
	}
	if ref.SubjectType != "" && ref.SubjectType != s.s.SubjectType {
		return nil, invalidf("evaluate: %s: subject %q is a %s, not a %s", field, ref.SubjectID, s.s.SubjectType, ref.SubjectType)
	}
	return s, nil
}

// resolveResource finds the named resource, or sets up a type-level request.
func (e *evaluation) resolveResource() error {
	ref := e.in.Resource
	switch {
	case ref == nil:
		return invalidf("evaluate: resource: is required (a resourceId, an externalResourceId with its resourceType, or a resourceType)")
	case ref.ResourceID != "":
		if ref.ExternalResourceID != "" || ref.ResourcePattern != "" {
			return invalidf("evaluate: resource: give either resourceId, or externalResourceId with resourceType, or resourceType with an optional resourcePattern")
		}
		if e.res = e.g.resources[ref.ResourceID]; e.res == nil {
			return notFoundErr("evaluate: resource", ref.ResourceID)
		}
		if ref.ResourceType != "" && ref.ResourceType != e.res.typ.rt.Key && ref.ResourceType != e.res.typ.rt.ID {
			return invalidf("evaluate: resource: resource %q is of type %q, not %q", ref.ResourceID, e.res.typ.rt.Key, ref.ResourceType)
		}
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
		e.typeKey, e.pattern = ref.ResourceType, ref.ResourcePattern
		if t := e.g.resTypes[ref.ResourceType]; t != nil {
			e.typeKey = t.rt.Key
		}
		return nil
	}
	return invalidf("evaluate: resource: is empty; give a resourceId, an externalResourceId with its resourceType, or a resourceType")
}

// resolveExternal finds a resource by external id and type id or key. With a
// key, several types may share it (keys are unique per scope); the resource
// reachable from the request scope is chosen, and more than one is
// ambiguous.
func (e *evaluation) resolveExternal(ext, typ string) error {
	if t := e.g.resTypes[typ]; t != nil {
		if e.res = e.g.resByExt[[2]string{t.rt.ID, ext}]; e.res == nil {
			return notFoundErr("evaluate: resource of type "+t.rt.Key+" with external id", ext)
		}
		return nil
	}
	var found []*gResource
	for _, t := range e.g.typesByKey[typ] {
		if r := e.g.resByExt[[2]string{t.rt.ID, ext}]; r != nil {
			found = append(found, r)
		}
	}
	if len(found) > 1 {
		var reachable []*gResource
		for _, r := range found {
			if len(e.lines(r)) > 0 {
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
// deeper of the two scopes (E in SPEC §4.1).
type line struct {
	home *gScope
	e    *gScope
}

// lines returns the homes of r on the request scope's line (SPEC §4.1).
func (e *evaluation) lines(r *gResource) []line {
	var out []line
	add := func(h *gScope) {
		for _, l := range out {
			if l.home == h {
				return
			}
		}
		switch {
		case containsScope(h.chain, e.scope):
			out = append(out, line{home: h, e: h})
		case containsScope(e.scope.chain, h):
			out = append(out, line{home: h, e: e.scope})
		}
	}
	add(r.owner)
	for _, l := range r.links {
		if l.typ == LinkMirror && !e.read {
			continue
		}
		add(l.scope)
	}
	return out
}

// subjectEval is the evaluation of one subject (the actor or the principal).
type subjectEval struct {
	*evaluation
	x       *gSubject
	trace   []string
	visited map[*gResource]bool
	data    map[*gScope]map[string]any // condition data per E, built lazily
}

func (e *evaluation) decide(x *gSubject) Decision {
	s := &subjectEval{evaluation: e, x: x}
	d := Decision{EvaluatedActor: SubjectRef{SubjectID: x.s.ID, SubjectType: x.s.SubjectType}}
	var out outcome
	if e.res == nil {
		s.tracef("type-level request: %s on %q resources in scope %s", e.in.Action, e.typeKey, e.scope.s.ID)
		out = s.roles(nil, []line{{e: e.scope}})
	} else {
		out = s.resource(e.res, 0)
	}
	d.Allowed, d.DecidedBy, d.PolicyID, d.Matches, d.InheritedFrom, d.Explanation = out.allowed, out.by, out.policyID, out.matches, out.inheritedFrom, out.explanation
	d.Trace = s.trace
	return d
}

func (e *evaluation) traceFor(t []string) []string {
	if !e.explain {
		return nil
	}
	return t
}

func (s *subjectEval) tracef(format string, args ...any) {
	if s.explain {
		s.trace = append(s.trace, fmt.Sprintf(format, args...))
	}
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
	if s.visited == nil {
		s.visited = map[*gResource]bool{}
	}
	s.visited[r] = true
	lines := s.lines(r)
	if len(lines) == 0 {
		s.tracef("resource %s: no home (owner %s or link) is on the line of scope %s", r.r.ID, r.owner.s.ID, s.scope.s.ID)
		return outcome{by: DecidedByDefault, explanation: fmt.Sprintf("Denied: resource %s is not reachable from scope %s (it lives in scope %s, which is neither above nor below it within the same tenant).", r.r.ID, s.scope.s.ID, r.owner.s.ID)}
	}
	for _, l := range lines {
		s.tracef("resource %s: home %s is on the line of scope %s (E = %s)", r.r.ID, l.home.s.ID, s.scope.s.ID, l.e.s.ID)
	}
	if out, ok := s.policies(r, lines); ok {
		return out
	}
	for _, p := range r.parents {
		if p.cascade == CascadeNone {
			s.tracef("resource %s: parent %s does not cascade (edge %s)", r.r.ID, p.res.r.ID, p.edgeID)
			continue
		}
		if s.visited[p.res] {
			s.tracef("resource %s: parent %s already considered", r.r.ID, p.res.r.ID)
			continue
		}
		if depth+1 > s.c.maxHierarchyDepth {
			s.tracef("resource %s: parent %s is deeper than the hierarchy limit %d", r.r.ID, p.res.r.ID, s.c.maxHierarchyDepth)
			continue
		}
		s.tracef("resource %s: evaluating parent %s", r.r.ID, p.res.r.ID)
		if sub := s.resource(p.res, depth+1); sub.allowed {
			return outcome{allowed: true, by: DecidedByHierarchy, inheritedFrom: p.res.r.ID,
				explanation: fmt.Sprintf("Allowed: %s is inherited from parent resource %s (%s).", s.in.Action, p.res.r.ID, strings.TrimSuffix(lowerFirst(sub.explanation), "."))}
		}
	}
	return s.roles(r, lines)
}

// policies runs step 1: the first applicable policy, if any, decides.
func (s *subjectEval) policies(r *gResource, lines []line) (outcome, bool) {
	var best *gPolicy
	consider := func(p *gPolicy, via *gColl) {
		l, ok := policyLine(p, lines)
		if !ok {
			return
		}
		if !actionListed(p.p.Actions, s.in.Action) {
			s.tracef("policy %s: does not apply to action %s", p.p.ID, s.in.Action)
			return
		}
		if via != nil && !s.collectionMatches(via, r, l) {
			return
		}
		if ok, why := s.cond(p.subject, r, l); !ok {
			s.tracef("policy %s: subjectCondition is not met (%s)", p.p.ID, why)
			return
		}
		if ok, why := s.cond(p.context, r, l); !ok {
			s.tracef("policy %s: contextCondition is not met (%s)", p.p.ID, why)
			return
		}
		s.tracef("policy %s (%s, priority %d) applies", p.p.ID, p.p.Effect, p.p.Priority)
		if best == nil || policyBefore(p, best) {
			best = p
		}
	}
	for _, p := range r.policies {
		consider(p, nil)
	}
	for _, c := range r.typ.colls {
		for _, p := range c.policies {
			consider(p, c)
		}
	}
	if best == nil {
		return outcome{}, false
	}
	allowed := best.p.Effect == EffectAllow
	target := "resource " + r.r.ID
	if !best.direct {
		target = "collection " + best.p.Target.CollectionID
	}
	verb := "Allowed"
	if !allowed {
		verb = "Denied"
	}
	return outcome{allowed: allowed, by: DecidedByPolicy, policyID: best.p.ID,
		explanation: fmt.Sprintf("%s by policy %q (%s, %s on %s, priority %d, defined at scope %s).", verb, best.p.Name, best.p.ID, best.p.Effect, target, best.p.Priority, best.scope.s.ID)}, true
}

// policyLine returns the line through which policy p reaches the request: p
// is defined in ancestors(E) of that line.
func policyLine(p *gPolicy, lines []line) (line, bool) {
	for _, l := range lines {
		if containsScope(l.e.anc, p.scope) {
			return l, true
		}
	}
	return line{}, false
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
	ok := c.def.match(s.matchInput(r, l), s.now)
	if !ok {
		s.tracef("collection %s: does not match resource %s", c.c.ID, r.r.ID)
	}
	return ok
}

// grant is one permission granted through one role, being collected.
type grant struct {
	perm  *gPerm
	roles []string
}

// roles runs step 3 (and step 4 when nothing matches).
func (s *subjectEval) roles(r *gResource, lines []line) outcome {
	var grants []grant
	var why denialReason
	typeKey := s.typeKey
	if r != nil {
		typeKey = r.typ.rt.Key
	}
	for _, l := range lines {
		for _, m := range s.x.members {
			if !containsScope(s.scope.chain, m.scope) || (l.home != nil && !containsScope(l.home.chain, m.scope)) {
				continue
			}
			why.member = true
			s.tracef("membership %s at scope %s counts (roles %d)", m.id, m.scope.s.ID, len(m.roles))
			for _, role := range m.roles {
				if o := roleOverride(l.e, role.r.ID); o != nil && o.State == OverrideDisabled {
					s.tracef("role %s: disabled by override %s at scope %s", role.r.ID, o.ID, o.ChildScopeID)
					why.note(fmt.Sprintf("role %s is disabled by an override at scope %s", role.r.ID, o.ChildScopeID))
					continue
				}
				for _, rp := range role.perms {
					p := rp.perm
					if p.p.Action != s.in.Action || p.p.ResourceType != typeKey {
						continue
					}
					if !s.patternMatches(p, r) {
						s.tracef("permission %s (role %s): pattern %q does not match", p.p.ID, role.r.ID, p.p.ResourcePattern)
						why.note(fmt.Sprintf("permission %s matches the action but its pattern %q does not match the resource", p.p.Key, p.p.ResourcePattern))
						continue
					}
					if o := permOverride(l.e, p.p.ID); o != nil && o.State == OverrideDisabled {
						s.tracef("permission %s: disabled by override %s at scope %s", p.p.ID, o.ID, o.ChildScopeID)
						why.note(fmt.Sprintf("permission %s is disabled by an override at scope %s", p.p.Key, o.ChildScopeID))
						continue
					}
					rpo := rolePermOverride(l.e, role.r.ID, p.p.ID)
					if rpo != nil && rpo.o.State == OverrideDisabled {
						s.tracef("permission %s through role %s: disabled by override %s at scope %s", p.p.ID, role.r.ID, rpo.o.ID, rpo.o.ChildScopeID)
						why.note(fmt.Sprintf("permission %s through role %s is disabled by an override at scope %s", p.p.Key, role.r.ID, rpo.o.ChildScopeID))
						continue
					}
					if !s.grantConditions(p, rp, rpo, role, r, l, &why) {
						continue
					}
					s.tracef("permission %s granted through role %s", p.p.ID, role.r.ID)
					grants = addGrant(grants, p, role.r.ID)
				}
			}
		}
	}
	if len(grants) == 0 {
		return outcome{by: DecidedByDefault, explanation: why.explain(s, r)}
	}
	out := outcome{allowed: true, by: DecidedByRole, matches: make([]Match, len(grants))}
	var names []string
	for i, gr := range grants {
		p := gr.perm.p
		sort.Strings(gr.roles)
		out.matches[i] = Match{PermissionID: p.ID, Key: p.Key, Action: p.Action, ResourceType: p.ResourceType,
			ResourcePattern: p.ResourcePattern, ScopeID: p.ScopeID, SourceRoleIDs: gr.roles}
		names = append(names, fmt.Sprintf("%s through role %s", p.Key, strings.Join(gr.roles, ", ")))
	}
	out.explanation = "Allowed: " + s.x.s.ID + " holds permission " + strings.Join(names, "; ") + "."
	return out
}

func (s *subjectEval) grantConditions(p *gPerm, rp *gRolePerm, rpo *gOverride, role *gRole, r *gResource, l line, why *denialReason) bool {
	for _, c := range []struct {
		cond *condition
		what string
	}{{p.logic, "permission " + p.p.ID + " logic"}, {rp.cond, "condition of role permission " + rp.id}, {overrideCond(rpo), "condition of override"}} {
		if ok, detail := s.cond(c.cond, r, l); !ok {
			s.tracef("permission %s through role %s: %s is not met (%s)", p.p.ID, role.r.ID, c.what, detail)
			why.note(fmt.Sprintf("permission %s through role %s matched but the %s was not met", p.p.Key, role.r.ID, c.what))
			return false
		}
	}
	return true
}

func overrideCond(o *gOverride) *condition {
	if o == nil {
		return nil
	}
	return o.cond
}

func addGrant(grants []grant, p *gPerm, roleID string) []grant {
	for i := range grants {
		if grants[i].perm == p {
			for _, r := range grants[i].roles {
				if r == roleID {
					return grants
				}
			}
			grants[i].roles = append(grants[i].roles, roleID)
			return grants
		}
	}
	return append(grants, grant{perm: p, roles: []string{roleID}})
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
		return globMatch(pat, r.r.ExternalResourceID)
	}
	return pat == r.r.ID || pat == r.r.ExternalResourceID
}

// Overrides are read along chain(E), from E upward; the first decides.
func roleOverride(e *gScope, roleID string) *ScopeOverride {
	for _, sc := range e.chain {
		if o := sc.roleOv[roleID]; o != nil {
			return o
		}
	}
	return nil
}

func permOverride(e *gScope, permID string) *ScopeOverride {
	for _, sc := range e.chain {
		if o := sc.permOv[permID]; o != nil {
			return o
		}
	}
	return nil
}

func rolePermOverride(e *gScope, roleID, permID string) *gOverride {
	for _, sc := range e.chain {
		if o := sc.rpOv[[2]string{roleID, permID}]; o != nil {
			return o
		}
	}
	return nil
}

// denialReason collects why the role step granted nothing.
type denialReason struct {
	member bool
	first  string
}

func (d *denialReason) note(s string) {
	if d.first == "" {
		d.first = s
	}
}

func (d *denialReason) explain(s *subjectEval, r *gResource) string {
	target := fmt.Sprintf("%q resources", s.typeKey)
	if r != nil {
		target = "resource " + r.r.ID
	}
	switch {
	case !d.member:
		return fmt.Sprintf("Denied: %s has no membership at or above scope %s that reaches %s.", s.x.s.ID, s.scope.s.ID, target)
	case d.first != "":
		return "Denied: " + d.first + "."
	}
	return fmt.Sprintf("Denied: no role of %s grants %s on %s.", s.x.s.ID, s.in.Action, target)
}

// cond evaluates a condition for the subject on line l. A nil condition
// holds. Anything but a boolean true is false; the reason is returned.
func (s *subjectEval) cond(c *condition, r *gResource, l line) (bool, string) {
	if c == nil {
		return true, ""
	}
	ok, err := c.eval(s.conditionData(r, l))
	if err != nil {
		return false, err.Error()
	}
	if !ok {
		return false, "false"
	}
	return true, ""
}

// conditionData builds (once per E) the data conditions see (SPEC §4.1).
func (s *subjectEval) conditionData(r *gResource, l line) map[string]any {
	if d, ok := s.data[l.e]; ok && (r == nil || d["resource"].(map[string]any)["id"] == r.r.ID) {
		return d
	}
	x := s.x.s
	subject := map[string]any{"id": x.ID, "type": string(x.SubjectType), "subjectType": string(x.SubjectType),
		"externalId": x.ExternalID, "displayName": x.DisplayName, "meta": jsonValue(x.Meta), "tags": tagsIn(s.x.tags, l.e)}
	if x.Meta == nil {
		subject["meta"] = map[string]any{}
	}
	d := map[string]any{"subject": subject, "context": s.context, "action": s.in.Action, "scopeId": s.scope.s.ID,
		"resource": s.resourceData(r, l)}
	if d["context"] == nil {
		d["context"] = map[string]any{}
	}
	if s.data == nil {
		s.data = map[*gScope]map[string]any{}
	}
	s.data[l.e] = d
	return d
}

func (s *subjectEval) resourceData(r *gResource, l line) map[string]any {
	if r == nil {
		m := map[string]any{"type": s.typeKey, "tags": map[string]any{}}
		if s.pattern != "" {
			m["resourcePattern"] = s.pattern
		}
		return m
	}
	res := r.r
	m := map[string]any{}
	for k, v := range res.Meta {
		m[k] = jsonValue(v)
	}
	meta := jsonValue(res.Meta)
	if res.Meta == nil {
		meta = map[string]any{}
	}
	tags := map[string]any{}
	if s.resTags {
		tags = tagsIn(r.tags, l.e)
	}
	for k, v := range map[string]any{"id": res.ID, "type": r.typ.rt.Key, "resourceTypeId": res.ResourceTypeID, "scopeId": res.ScopeID,
		"externalResourceId": res.ExternalResourceID, "ownerId": res.OwnerID, "createdBy": res.CreatedBy,
		"createdAt": res.CreatedAt.UTC().Format(time.RFC3339), "displayName": res.DisplayName, "meta": meta, "tags": tags} {
		m[k] = v
	}
	return m
}

// matchInput builds the collection-matching view of r.
func (s *subjectEval) matchInput(r *gResource, l line) *matchInput {
	data := s.conditionData(r, l)
	props := map[string]any{}
	for k, v := range data["resource"].(map[string]any) {
		props[k] = v
	}
	tags := map[string][]string{}
	for _, t := range r.tags {
		if containsScope(l.e.chain, t.scope) {
			tags[t.groupKey] = append(tags[t.groupKey], t.identifier)
		}
	}
	meta, _ := jsonValue(r.r.Meta).(map[string]any)
	return &matchInput{props: props, meta: meta, tags: tags, data: data}
}

// tagsIn returns {groupKey: [identifier…]} for the assignments whose scope
// is in chain(e).
func tagsIn(tags []gTag, e *gScope) map[string]any {
	out := map[string]any{}
	for _, t := range tags {
		if !containsScope(e.chain, t.scope) {
			continue
		}
		list, _ := out[t.groupKey].([]any)
		out[t.groupKey] = append(list, t.identifier)
	}
	return out
}
