package authz

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/scopegate/authz/internal/logic"
	"github.com/scopegate/authz/internal/match"
)

// Evaluate answers one authorization question (docs/decisions.md). It returns an
// error only for malformed input (ErrInvalid), an unknown actor, scope or
// resource (ErrNotFound), a done ctx (also while it waits for the revision
// in.Consistency asks for) or a storage error, always with a Decision that
// is not allowed; every other outcome, including a denial, is a Decision.
// Evaluate never grants on an internal error.
//
// Evaluate reads the Client's in-memory graph of the model: when the store
// has changed since the graph was made (by this Client, or by another one
// on the same store), Evaluate first reloads what the change touched. With
// a store that other processes write (a storage.Watcher such as pgstore),
// the change is seen once the store has told of it, or at once when
// in.Consistency asks for it. The slices of the Decision (Matches and their
// SourceRoleIDs) may be shared with the graph and with other Decisions:
// treat them as read-only.
func (c *Client) Evaluate(ctx context.Context, in EvaluateInput) (Decision, error) {
	if c.decisionLog != nil && c.decisionLog.sampled() {
		return c.evaluateLogged(ctx, in)
	}
	d, _, _, err := c.evaluateOne(ctx, &in)
	return d, err
}

// evaluateLogged is Evaluate for a decision the decision log receives.
func (c *Client) evaluateLogged(ctx context.Context, in EvaluateInput) (Decision, error) {
	began, start := c.now(), time.Now()
	d, rev, cached, err := c.evaluateOne(ctx, &in)
	c.logDecision(ctx, start, began, &in, &d, err, rev, cached)
	return d, err
}

// evaluateOne answers in, and says from which revision and whether from
// the decision cache.
func (c *Client) evaluateOne(ctx context.Context, in *EvaluateInput) (_ Decision, rev uint64, cached bool, _ error) {
	g, err := c.snapshotFor(ctx, in.Consistency)
	if err != nil {
		return denied(in, "the store could not be read"), 0, false, err
	}
	var key decisionKey
	cacheable := false
	if g.decisions != nil {
		key, cacheable = cacheKey(in)
	}
	if cacheable {
		if d, ok := g.decisions.get(&key); ok {
			return d, g.rev, true, nil
		}
	}
	e := evaluations.Get().(*evaluation)
	e.input = *in
	d, err := c.evaluate(ctx, e, g, &e.input)
	if cacheable && err == nil && e.now.IsZero() {
		g.decisions.put(&key, d)
	}
	*e = evaluation{}
	evaluations.Put(e)
	return d, g.rev, false, err
}

// evaluations recycles evaluation state, so that a request allocates
// nothing when its decision needs no new data.
var evaluations = sync.Pool{New: func() any { return new(evaluation) }}

// EvaluateBatch answers many questions against one snapshot of the store,
// one that satisfies the Consistency of every input (the highest
// AtLeastRevision; fully consistent when one input asks for it).
// Decisions come back in input order; the error is the first one returned
// for an input, prefixed with its index, and every input is still answered.
func (c *Client) EvaluateBatch(ctx context.Context, in []EvaluateInput) ([]Decision, error) {
	out := make([]Decision, len(in))
	var cons *Consistency
	for i := range in {
		cons = cons.strongest(in[i].Consistency)
	}
	g, err := c.snapshotFor(ctx, cons)
	if err != nil {
		for i := range in {
			out[i] = denied(&in[i], "the store could not be read")
			if c.decisionLog != nil && c.decisionLog.sampled() {
				c.logDecision(ctx, time.Now(), c.now(), &in[i], &out[i], err, 0, false)
			}
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
		var began, start time.Time
		logged := c.decisionLog != nil && c.decisionLog.sampled()
		if logged {
			began, start = c.now(), time.Now()
		}
		d, err := c.evaluate(ctx, e, g, &in[i])
		out[i] = d
		if logged {
			c.logDecision(ctx, start, began, &in[i], &d, err, g.rev, false)
		}
		if err != nil && first == nil {
			first = fmt.Errorf("evaluate batch: input %d: %w", i, err)
		}
	}
	return out, first
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
	// decisions counts the subject decisions made so far (subjectEval.seq).
	decisions int
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

// line is a home of the resource on the request scope's line, with the
// deeper of the two scopes (E in docs/decisions.md#homes-and-lines). home is noHandle for a
// type-level request.
type line struct {
	home handle
	e    handle
}

// lines appends to buf the homes of r on the request scope's line
// (docs/decisions.md#homes-and-lines).
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
	for _, l := range r.links() {
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
	// seq numbers the decisions of a request (evaluation.decisions), for
	// what they share (collMatch.paidBy).
	seq int
}

type collMatch struct {
	c     *gColl
	r     *gResource
	e     handle
	match bool
	// cost is what matching cost: a decision that reuses a match another
	// one computed is charged it, so that it does not depend on which
	// decision came first; paidBy is the seq of the last decision charged.
	cost   int64
	paidBy int
}

// reuse makes s the evaluation of x, keeping the memory of its slices for
// what x's evaluation remembers: a lookup decides many subjects with one
// subjectEval.
func (s *subjectEval) reuse(x *gSubject) {
	clear(s.visited)
	// stop is reset with the rest: a lookup decides each subject anew.
	*s = subjectEval{evaluation: s.evaluation, x: x, visited: s.visited,
		data: s.data[:0], matched: s.matched[:0], conds: s.conds[:0], condIdx: s.condIdx}
	s.decisions++
	s.seq = s.decisions
	clear(s.condIdx)
	s.budget.Reset(s.ctx, s.c.maxEvalCost)
}

func (e *evaluation) decide(x *gSubject) Decision {
	s := subjectEval{evaluation: e, x: x}
	s.budget.Reset(e.ctx, e.c.maxEvalCost)
	e.decisions++
	s.seq = e.decisions
	d := Decision{EvaluatedActor: SubjectRef{SubjectID: x.id, SubjectType: x.typ}}
	out := s.run()
	d.Allowed, d.DecidedBy, d.PolicyID, d.Matches, d.InheritedFrom, d.Explanation = out.allowed, out.by, out.policyID, out.matches, out.inheritedFrom, out.explanation
	d.Trace = s.trace
	return d
}

// run runs steps 1–4 (docs/decisions.md#the-order-of-the-steps) for the subject, on the request's
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

// outcome is the result of evaluating one subject on one resource.
type outcome struct {
	allowed       bool
	by            DecidedBy
	policyID      string
	matches       []Match
	inheritedFrom string
	explanation   string
}

// resource runs steps 1–4 (docs/decisions.md#the-order-of-the-steps) for the subject on r.
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
			if s.otherTenant(r) != nil {
				s.tracef("resource %s: no home (owner or link) is on the line of scope %s: the resource is of another tenant", r.r.ID, s.scope.s.ID)
			} else {
				s.tracef("resource %s: no home (owner %s or link) is on the line of scope %s", r.r.ID, owner, s.scope.s.ID)
			}
		}
		return outcome{by: DecidedByDefault, explanation: s.unreachable(r, owner)}
	}
	if s.explain {
		for _, l := range lines {
			s.tracef("resource %s: home %s is on the line of scope %s (E = %s)", r.r.ID, g.scope(l.home).s.ID, s.scope.s.ID, g.scope(l.e).s.ID)
		}
	}
	if out, ok := s.policies(r, lines); ok || s.halted() {
		return out
	}
	for _, p := range r.parents() {
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
	for _, ph := range r.policies() {
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
	shared := !c.readsData && !s.explain
	memo := &s.matched
	if shared {
		// The match reads nothing of the subject: every decision of the
		// request shares it (the actor's and the principal's, those of a
		// lookup's candidates), each paying what it cost once.
		memo = &s.evaluation.matched
	}
	for i := range *memo {
		m := &(*memo)[i]
		if m.c != c || m.r != r || m.e != l.e {
			continue
		}
		if m.paidBy != s.seq {
			if s.stop != nil {
				return false
			}
			if s.budget.Charge(m.cost, (*collWhere)(c)) != nil {
				s.stopped()
				return false
			}
			m.paidBy = s.seq
		}
		return m.match
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
	*memo = append(*memo, collMatch{c: c, r: r, e: l.e, match: ok, cost: s.budget.Used() - before, paidBy: s.seq})
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
	var hitBuf [16]hit
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
		roles := []handle{ref.role}
		if ref.nroles != 1 || s.explain {
			m := nodeAt[gMember](g, ref.h)
			if m == nil {
				continue
			}
			if s.explain {
				s.tracef("membership %s at scope %s counts (roles %d)", m.id, g.scope(m.scope).s.ID, len(m.roles))
			}
			roles = m.roles
		}
		st.why.member = true
		for _, rh := range roles {
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
	for _, rp := range role.grantsFor(st.typeKey, st.action) {
		if rp.exact && st.r != nil && rp.pattern != st.r.id && rp.pattern != st.r.ext &&
			st.why.first != noNote && !s.explain {
			// Does not match, and the first reason of a denial is known.
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

// grantConditions reports whether the conditions of a grant hold: the
// permission's logic, the role-permission's condition and that of an
// override of it.
func (s *subjectEval) grantConditions(p *gPerm, rp *gRolePerm, rpo *gOverride, role *gRole, r *gResource, l line, why *denialReason) bool {
	for i, c := range [3]*logic.Cond{p.logic, rp.cond, overrideCond(rpo)} {
		if ok, detail := s.cond(c, r, l); !ok {
			s.skip(why, skipped{note: [3]denialNote{noteLogicNotMet, noteGrantCondNotMet, noteOverrideCondNotMet}[i],
				role: role, perm: p, condID: [3]string{p.p.ID, rp.id, overrideID(rpo)}[i], detail: detail})
			return false
		}
	}
	return true
}

func overrideID(o *gOverride) string {
	if o == nil {
		return ""
	}
	return o.o.ID
}

func overrideCond(o *gOverride) *logic.Cond {
	if o == nil {
		return nil
	}
	return o.cond
}

// patternMatches applies the pattern rules (docs/model.md#resource-patterns).
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
	return pat == r.id || pat == r.ext
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
