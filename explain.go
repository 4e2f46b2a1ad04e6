package authz

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// tracef adds a step to the trace. Callers check s.explain first, so that a
// request without Explain builds no arguments.
func (s *subjectEval) tracef(format string, args ...any) {
	s.trace = append(s.trace, fmt.Sprintf(format, args...))
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
// made once when the role was loaded; the outcome of several grants is
// made once per graph for each list of grants (graph.grants): the outcome
// depends on nothing else, so an allowed decision allocates nothing once
// its grants have been seen.
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
	key, keyed := grantKey(hits)
	if keyed {
		if out, ok := s.g.grants.get(&key); ok {
			return out
		}
	}
	out := grantedOutcome(hits)
	if keyed {
		s.g.grants.put(&key, out)
	}
	return out
}

// grantedOutcome builds the outcome of hits with several grants.
func grantedOutcome(hits []hit) outcome {
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
		names[i] = grantedThrough(gr.perm.p.Key, gr.roles)
	}
	// The wording of the one-grant case (attachRolePermission), for each.
	out.explanation = "Allowed: " + strings.Join(names, "; ") + "."
	return out
}

// grantedThrough says that permission key is granted through roles:
// "permission doc:read:* is granted through roles editor, viewer".
func grantedThrough(key string, roles []string) string {
	noun := "role"
	if len(roles) > 1 {
		noun = "roles"
	}
	return fmt.Sprintf("permission %s is granted through %s %s", key, noun, strings.Join(roles, ", "))
}

// maxMemoHits is the most grants whose outcome graph.grants remembers.
const maxMemoHits = 16

// hitKey is a list of at most maxMemoHits grants, in the order found.
type hitKey struct {
	n   int
	rps [maxMemoHits]*gRolePerm
}

// grantKey returns the key of hits, or false when they are too many.
func grantKey(hits []hit) (hitKey, bool) {
	var k hitKey
	if len(hits) > maxMemoHits {
		return k, false
	}
	k.n = len(hits)
	for i, h := range hits {
		k.rps[i] = h.rp
	}
	return k, true
}

func newMatch(p *Permission, roles []string) Match {
	return Match{PermissionID: p.ID, Key: p.Key, Action: p.Action, ResourceType: p.ResourceType,
		ResourcePattern: p.ResourcePattern, ScopeID: p.ScopeID, Permission: *p, SourceRoleIDs: roles}
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

// denialKey is a first reason of denialReason, the key of its sentence.
type denialKey struct {
	note    denialNote
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
	return "condition of override " + id
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
//
// When no grant with the action was considered, and nothing visible to the
// request names its action (actionUnnamed), the explanation says so instead:
// "Denied: no permission or policy of the visible model has action
// "wirte"."
func (d *denialReason) explain(s *subjectEval, r *gResource) string {
	switch {
	case (d.first == noNote || d.first == noteRoleDisabled) && s.actionUnnamed(r):
		// The other notes are about a permission with the action.
		if s.explain {
			s.tracef("action %q: no permission visible from scope %s, and no policy that can apply, names it", s.in.Action, s.scope.s.ID)
		}
		key := textKey{kind: textUnnamed, action: s.in.Action}
		if text, ok := s.g.texts.get(&key); ok {
			return text
		}
		text := fmt.Sprintf("Denied: no permission or policy of the visible model has action %q.", s.in.Action)
		s.g.texts.put(&key, text)
		return text
	case d.first != noNote:
		// The sentence depends on the note alone: made once per graph.
		key := denialKey{d.first, d.a, d.b, d.c}
		if text, ok := s.g.denials.get(&key); ok {
			return text
		}
		text := "Denied: " + d.sentence() + "."
		s.g.denials.put(&key, text)
		return text
	case r != nil && !d.member:
		return "Denied: the subject has no membership at or above the request scope that reaches the resource."
	case r != nil:
		return "Denied: no role of the subject grants the action on the resource."
	case !d.member:
		return fmt.Sprintf("Denied: %s has no membership at or above scope %s that reaches %q resources.", s.x.s.ID, s.scope.s.ID, s.typeKey)
	}
	return fmt.Sprintf("Denied: no role of %s grants %s on %q resources.", s.x.s.ID, s.in.Action, s.typeKey)
}

// Actions the visible model names. The graph counts, for each scope and
// action, the permissions defined there with that action (graph.actionsAt),
// so that a denial can say when nothing the request could use names its
// action at all, a misspelt action being the usual cause. Policies are
// looked at where they can apply: those that target the resource, directly
// or through a collection of its type, defined at the request scope or
// above it or above a home of the resource. A policy's "*" names no action,
// and an override names an action only through its permission. Objects that
// cannot apply to the request (another tenant's, a policy on another
// resource) are not looked at, so that they cannot change the explanation.

// actionKey is the key of graph.actionsAt for the permissions defined at
// scope that have action, written into buf (it fits buf, and so stays off
// the heap, for actions of up to 28 bytes).
func actionKey(buf *[32]byte, scope handle, action string) []byte {
	return append(append(buf[:0], byte(scope>>24), byte(scope>>16), byte(scope>>8), byte(scope)), action...)
}

// countActions adds delta to the count of the action of node n, when n is
// a permission (and does nothing otherwise).
func (b *graphBuilder) countActions(n any, delta int) {
	p, ok := n.(*gPerm)
	if !ok || p.p.Action == "" {
		return
	}
	var buf [32]byte
	k := string(actionKey(&buf, b.handle(p.p.ScopeID), p.p.Action))
	switch c, _ := b.g.actionsAt.Get(k); {
	case c+delta > 0:
		b.g.actionsAt.Set(b.gen, k, c+delta)
	default:
		b.g.actionsAt.Del(b.gen, k)
	}
}

// permissionAbove reports whether a permission defined at scope or one of
// its ancestors (define scopes included) has action.
func (g *graph) permissionAbove(scope handle, action string) bool {
	var buf [32]byte
	for h := scope; h != noHandle; {
		if c, _ := g.actionsAt.Get(string(actionKey(&buf, h, action))); c > 0 {
			return true
		}
		sc := g.scope(h)
		if sc == nil {
			return false
		}
		h = sc.parent
	}
	return false
}

// actionUnnamed reports whether nothing of the model that can apply to the
// request names its action: no permission defined at the request scope or
// above it, and no policy of the resource that lists it (see above). It
// runs only when a denial is explained, and allocates nothing.
func (s *subjectEval) actionUnnamed(r *gResource) bool {
	a, g := s.in.Action, s.g
	if g.permissionAbove(s.scope.h, a) {
		return false
	}
	if r == nil {
		return true // policies apply to resources only
	}
	for _, ph := range r.policies() {
		if s.policyNames(nodeAt[gPolicy](g, ph), r, a) {
			return false
		}
	}
	if t := nodeAt[gResType](g, r.typ); t != nil {
		for _, ch := range t.colls {
			c := nodeAt[gColl](g, ch)
			if c == nil || !c.actions[a] {
				continue
			}
			for _, ph := range c.policies {
				if s.policyNames(nodeAt[gPolicy](g, ph), r, a) {
					return false
				}
			}
		}
	}
	return true
}

// policyNames reports whether p lists action and is defined at the request
// scope or above it, or above a home of r.
func (s *subjectEval) policyNames(p *gPolicy, r *gResource, action string) bool {
	if p == nil || !slices.Contains(p.p.Actions, action) {
		return false
	}
	g := s.g
	if g.isAncestor(p.scope, s.scope.h) || g.isAncestor(p.scope, r.owner) {
		return true
	}
	for _, l := range r.links() {
		if g.isAncestor(p.scope, l.scope) {
			return true
		}
	}
	return false
}

// isAncestor reports whether a is h or one of its ancestors.
func (g *graph) isAncestor(a, h handle) bool {
	for h != noHandle {
		if h == a {
			return true
		}
		sc := g.scope(h)
		if sc == nil {
			return false
		}
		h = sc.parent
	}
	return false
}

// unreachable explains the denial of a resource with no home on the
// request scope's line, owner being the id of its owning scope: the
// resource lives in another tenant than the request scope (their chains
// end at different scopes: the nearest define scope at or above each, or
// the root; see otherTenant), or in the same tenant but neither above nor
// below it.
//
// A mirror link counts for read actions only: when one would have put the
// resource on the line, the explanation says so instead.
func (s *subjectEval) unreachable(r *gResource, owner string) string {
	key := textKey{kind: textUnreachable, resource: r.r.ID, scope: s.scope.h, read: s.read}
	if text, ok := s.g.texts.get(&key); ok {
		return text
	}
	text := s.unreachableText(r, owner)
	s.g.texts.put(&key, text)
	return text
}

// textKey names a sentence that depends on the request only through its
// fields, made once per graph (graph.texts).
type textKey struct {
	kind     uint8
	resource string // the resource's id, not its node: a key of strings and numbers hashes without allocating
	scope    handle
	read     bool
	action   string
}

// The kinds of textKey.
const (
	textUnnamed     uint8 = iota + 1 // action
	textUnreachable                  // resource, scope, read
)

// unreachableText is the sentence of unreachable.
func (s *subjectEval) unreachableText(r *gResource, owner string) string {
	if !s.read {
		for _, l := range r.links() {
			if l.typ == LinkMirror && (s.g.inChain(l.scope, s.scope.h) || s.g.inChain(s.scope.h, l.scope)) {
				if ls := s.g.scope(l.scope); ls != nil {
					return fmt.Sprintf("Denied: resource %s reaches scope %s only through a mirror link to scope %s, which counts for read actions only (the resource lives in scope %s).",
						r.r.ID, s.scope.s.ID, ls.s.ID, owner)
				}
			}
		}
	}
	if mine := s.otherTenant(r); mine != nil {
		return fmt.Sprintf("Denied: resource %s is not reachable from scope %s: they are in different tenants (scope %s is of tenant %s).",
			r.r.ID, s.scope.s.ID, s.scope.s.ID, mine.s.ID)
	}
	return fmt.Sprintf("Denied: resource %s is not reachable from scope %s (it lives in scope %s, which is neither above nor below it within the same tenant).", r.r.ID, s.scope.s.ID, owner)
}

// otherTenant returns the tenant of the request scope when r's owning
// scope is in another tenant, nil otherwise. The denial of such a resource
// names nothing of the resource's tenant but the resource the request
// named: not its owning scope, not its tenant (nothing of another tenant
// can change the answer of a request, its explanation and trace
// included).
func (s *subjectEval) otherTenant(r *gResource) *gScope {
	o := s.g.scope(r.owner)
	if o == nil {
		return nil
	}
	mine, theirs := s.g.tenantOf(s.scope.h), s.g.tenantOf(o.h)
	if mine == nil || theirs == nil || mine == theirs {
		return nil
	}
	return mine
}

// tenantOf returns the last scope of chain(h): the nearest define scope at
// or above h, or its root; nil when h is not a scope.
func (g *graph) tenantOf(h handle) *gScope {
	sc := g.scope(h)
	for sc != nil && !sc.define {
		up := g.scope(sc.parent)
		if up == nil {
			break
		}
		sc = up
	}
	return sc
}
