package authz

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/scopegate/authz/internal/logic"
	"github.com/scopegate/authz/internal/match"
)

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
		if s.explain {
			why += missingPaths(c, s.conditionData(r, l))
		}
	}
	s.rememberCond(condResult{condKey: key, ok: ok, why: why})
	return ok, why
}

// missingPaths lists, for the trace of a condition that did not hold, the
// paths it reads outside predicates that have no value in data — a
// misspelt field ("resource.owner" for "resource.ownerId") reads nothing
// and cannot be refused when written, since a resource's meta keys are
// read at the top of resource too.
func missingPaths(c *logic.Cond, data map[string]any) string {
	var out []string
	for _, p := range c.Paths() {
		if p.Op != "var" || len(p.In) > 0 || len(p.Segments) == 0 || slices.Contains(out, p.Path) {
			continue
		}
		v := logic.LookupPath(data, p.Path)
		if v == nil {
			out = append(out, p.Path)
		}
	}
	if len(out) == 0 {
		return ""
	}
	return "; no value at " + strings.Join(out, ", ")
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

// conditionData builds (once per E) the data conditions see (docs/conditions.md#the-condition-data).
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
		if tags && s.resTags && len(r.tags()) > 0 {
			return f.EvalValue(s.g.tagsIn(r.tags(), l.e), rest[1:])
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
	return withTags(s.resourceStatic(r), s.g, r.tags(), l.e)
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
	if len(r.tags()) > 0 {
		tags = map[string][]string{}
		s.g.eachTag(r.tags(), l.e, func(group, identifier string) {
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
