package authz_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"sort"
	"testing"

	"github.com/scopegate/authz"
)

// This file holds the reference oracle: an evaluator written straight from
// decision rules (docs/decisions.md) over the Batch that built a model, with no index, cache or graph,
// and a generator of random models it is compared with. Conditions and
// match definitions come from small families whose meaning the oracle
// computes in plain Go.

// oracleConds are the conditions random models use, with their meaning.
var oracleConds = []struct {
	json string
	eval func(sub authz.SubjectInput, res authz.ResourceInput, ctx map[string]any) bool
}{
	{`{"<":[{"var":"context.hour"},18]}`, func(_ authz.SubjectInput, _ authz.ResourceInput, ctx map[string]any) bool {
		h, ok := ctx["hour"].(int)
		return ok && h < 18
	}},
	{`{"==":[{"var":"subject.meta.dept"},"eng"]}`, func(sub authz.SubjectInput, _ authz.ResourceInput, _ map[string]any) bool {
		return sub.Meta["dept"] == "eng"
	}},
	{`{"==":[{"var":"resource.meta.class"},"internal"]}`, func(_ authz.SubjectInput, res authz.ResourceInput, _ map[string]any) bool {
		return res.Meta["class"] == "internal"
	}},
	{`{"!":{"var":"subject.meta.suspended"}}`, func(sub authz.SubjectInput, _ authz.ResourceInput, _ map[string]any) bool {
		return sub.Meta["suspended"] != true
	}},
	// Predicates read the element first, then the enclosing data: the
	// tag-overlap rule over meta lists (the element, a string, has no
	// subject.meta.depts)…
	{`{"some":[{"var":"resource.meta.depts"},{"in":[{"var":""},{"var":"subject.meta.depts"}]}]}`, func(sub authz.SubjectInput, res authz.ResourceInput, _ map[string]any) bool {
		for _, d := range metaList(res.Meta, "depts") {
			if slices.Contains(metaList(sub.Meta, "depts"), d) {
				return true
			}
		}
		return false
	}},
	// …a grant whose own subject.meta.dept shadows the subject's (null
	// does not)…
	{`{"some":[{"var":"resource.meta.grants"},{"==":[{"var":"subject.meta.dept"},"eng"]}]}`, func(sub authz.SubjectInput, res authz.ResourceInput, _ map[string]any) bool {
		for _, g := range metaList(res.Meta, "grants") {
			if firstValue(valueAt(g, "subject", "meta", "dept"), sub.Meta["dept"]) == "eng" {
				return true
			}
		}
		return false
	}},
	// …and nested predicates: the innermost element (a department of the
	// subject), then the grant, then the condition data (context.hour,
	// which a grant may shadow).
	{`{"some":[{"var":"resource.meta.grants"},{"some":[{"var":"subject.meta.depts"},{"and":[{"==":[{"var":""},{"var":"dept"}]},{"<":[{"var":"context.hour"},18]}]}]}]}`, func(sub authz.SubjectInput, res authz.ResourceInput, ctx map[string]any) bool {
		for _, g := range metaList(res.Meta, "grants") {
			dept := valueAt(g, "dept")
			hour, ok := number(firstValue(valueAt(g, "context", "hour"), ctx["hour"]))
			if dept != nil && slices.Contains(metaList(sub.Meta, "depts"), dept) && ok && hour < 18 {
				return true
			}
		}
		return false
	}},
}

// oracleGrants are the elements of the resources' meta.grants lists: some
// hold fields of the condition data (subject.meta.dept, context.hour),
// which shadow the data's inside a predicate, some hold null there.
var oracleGrants = []map[string]any{
	{},
	{"dept": "eng"},
	{"dept": "ops", "context": map[string]any{"hour": 20.0}},
	{"dept": "hr", "context": map[string]any{"hour": 9.0}},
	{"subject": map[string]any{"meta": map[string]any{"dept": "ops"}}},
	{"subject": map[string]any{"meta": map[string]any{"dept": "eng"}}, "dept": "ops"},
	{"subject": map[string]any{"meta": map[string]any{"dept": nil}}, "context": map[string]any{"hour": nil}, "dept": "eng"},
}

// oracleDepts draws a list of departments (nil: none at all).
func oracleDepts(r *rand.Rand) []any {
	if r.IntN(4) == 0 {
		return nil
	}
	out := []any{}
	for _, d := range []string{"eng", "ops", "hr"} {
		if r.IntN(2) == 0 {
			out = append(out, d)
		}
	}
	return out
}

// metaList is the list m[key], nil when it is not one.
func metaList(m map[string]any, key string) []any {
	l, _ := m[key].([]any)
	return l
}

// valueAt is the value at path in v (nested objects), nil when there is
// none.
func valueAt(v any, path ...string) any {
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// firstValue is the first of vals that is not nil.
func firstValue(vals ...any) any {
	for _, v := range vals {
		if v != nil {
			return v
		}
	}
	return nil
}

// number is v as a number, when it is one.
func number(v any) (float64, bool) {
	switch x := v.(type) {
	case int:
		return float64(x), true
	case float64:
		return x, true
	}
	return 0, false
}

// oracleMatchDefs are the collection definitions random models use.
var oracleMatchDefs = []struct {
	json  string
	match func(sub authz.SubjectInput, res authz.ResourceInput) bool
}{
	{`{}`, func(authz.SubjectInput, authz.ResourceInput) bool { return true }},
	{`{"fields":{"class":"internal"}}`, func(_ authz.SubjectInput, res authz.ResourceInput) bool { return res.Meta["class"] == "internal" }},
	{`{"fields":{"class":{"in":["public","secret"]}}}`, func(_ authz.SubjectInput, res authz.ResourceInput) bool {
		return res.Meta["class"] == "public" || res.Meta["class"] == "secret"
	}},
	// A condition section sees the subject: the collection differs from
	// one subject to another.
	{`{"fields":{"class":{"notIn":["secret"]}},"condition":{"==":[{"var":"subject.meta.dept"},"eng"]}}`, func(sub authz.SubjectInput, res authz.ResourceInput) bool {
		return res.Meta["class"] != "secret" && sub.Meta["dept"] == "eng"
	}},
}

func condIndex(raw json.RawMessage) int {
	for i, c := range oracleConds {
		if sameJSON(c.json, raw) {
			return i
		}
	}
	panic("oracle: unknown condition " + string(raw))
}

// sameJSON reports whether a and b are the same JSON value (a Batch that
// went through json.Marshal has its < escaped).
func sameJSON(a string, b json.RawMessage) bool {
	var x, y any
	return json.Unmarshal([]byte(a), &x) == nil && json.Unmarshal(b, &y) == nil && reflect.DeepEqual(x, y)
}

// oracle evaluates requests on the model a Batch describes.
type oracle struct {
	bt          authz.Batch
	readActions map[string]bool
}

func (o *oracle) scope(id string) *authz.ScopeInput {
	for i := range o.bt.Scopes {
		if o.bt.Scopes[i].ID == id {
			return &o.bt.Scopes[i]
		}
	}
	return nil
}

func (o *oracle) define(id string) bool {
	s := o.scope(id)
	for _, t := range o.bt.ScopeTypes {
		if s != nil && t.ID == s.TypeID {
			return t.Config.PermissionMode == authz.PermissionModeDefine
		}
	}
	return false
}

// chain is chain(S) (docs/model.md#chains-and-tenants); ancestors ignores define.
func (o *oracle) chain(id string) []string {
	var out []string
	for s := id; s != ""; s = o.scope(s).ParentScopeID {
		out = append(out, s)
		if o.define(s) {
			break
		}
	}
	return out
}

func (o *oracle) ancestors(id string) []string {
	var out []string
	for s := id; s != ""; s = o.scope(s).ParentScopeID {
		out = append(out, s)
	}
	return out
}

func (o *oracle) resource(id string) authz.ResourceInput {
	for _, r := range o.bt.Resources {
		if r.ID == id {
			return r
		}
	}
	panic("oracle: no resource " + id)
}

func (o *oracle) subject(id string) authz.SubjectInput {
	for _, s := range o.bt.Subjects {
		if s.ID == id {
			return s
		}
	}
	panic("oracle: no subject " + id)
}

func (o *oracle) typeKey(typeID string) string {
	for _, t := range o.bt.ResourceTypes {
		if t.ID == typeID {
			return t.Key
		}
	}
	return ""
}

type oracleLine struct{ home, e string }

// lines returns the homes of res on S's line, with E.
func (o *oracle) lines(res authz.ResourceInput, s, action string) []oracleLine {
	homes := []string{res.ScopeID}
	for _, l := range o.bt.ResourceScopeLinks {
		if l.ResourceID == res.ID && (l.LinkType != authz.LinkMirror || o.readActions[action]) {
			homes = append(homes, l.ScopeID)
		}
	}
	var out []oracleLine
	seen := map[string]bool{}
	for _, h := range homes {
		if seen[h] {
			continue
		}
		seen[h] = true
		switch {
		case slices.Contains(o.chain(h), s):
			out = append(out, oracleLine{h, h})
		case slices.Contains(o.chain(s), h):
			out = append(out, oracleLine{h, s})
		}
	}
	return out
}

type oracleRequest struct {
	subject, onBehalfOf, scope, action, resource string
	// ref, when set, names the resource as the request gives it (by
	// external id, or a type-level request); resource is then unused.
	ref     *authz.ResourceRef
	context map[string]any
}

func (q oracleRequest) input() authz.EvaluateInput {
	ref := q.ref
	if ref == nil {
		ref = &authz.ResourceRef{ResourceID: q.resource}
	}
	in := authz.EvaluateInput{Actor: authz.SubjectRef{SubjectID: q.subject}, ScopeID: q.scope, Action: q.action,
		Resource: ref, Context: q.context}
	if q.onBehalfOf != "" {
		in.OnBehalfOf = &authz.SubjectRef{SubjectID: q.onBehalfOf}
	}
	return in
}

// visibleTypes returns the resource types name designates in a request
// made in scope: the types defined in chain(scope) with key name, or else
// the one defined there with id name.
func (o *oracle) visibleTypes(scope, name string) (types []authz.ResourceTypeInput, byKey bool) {
	chain := o.chain(scope)
	for _, t := range o.bt.ResourceTypes {
		if t.Key == name && slices.Contains(chain, t.ScopeID) {
			types = append(types, t)
		}
	}
	if len(types) > 0 {
		return types, true
	}
	for _, t := range o.bt.ResourceTypes {
		if t.ID == name && slices.Contains(chain, t.ScopeID) {
			return []authz.ResourceTypeInput{t}, false
		}
	}
	return nil, false
}

// resolve finds what q names: a resource id, or for a type-level request
// the type key and pattern; err is ErrNotFound or ErrInvalid as Evaluate
// must return them.
func (o *oracle) resolve(q oracleRequest) (resID, typeKey, pattern string, err error) {
	ref := q.ref
	if ref == nil {
		return q.resource, "", "", nil
	}
	switch {
	case ref.ResourceID != "":
		i := slices.IndexFunc(o.bt.Resources, func(r authz.ResourceInput) bool { return r.ID == ref.ResourceID })
		if i < 0 {
			return "", "", "", authz.ErrNotFound
		}
		res := o.bt.Resources[i]
		if ref.ResourceType != "" && ref.ResourceType != res.ResourceTypeID && ref.ResourceType != o.typeKey(res.ResourceTypeID) {
			return "", "", "", authz.ErrInvalid
		}
		return res.ID, "", "", nil
	case ref.ExternalResourceID != "":
		types, _ := o.visibleTypes(q.scope, ref.ResourceType)
		if len(types) == 0 {
			return "", "", "", authz.ErrNotFound
		}
		var found []authz.ResourceInput
		for _, res := range o.bt.Resources {
			if res.ExternalResourceID == ref.ExternalResourceID && slices.ContainsFunc(types, func(t authz.ResourceTypeInput) bool { return t.ID == res.ResourceTypeID }) {
				found = append(found, res)
			}
		}
		if len(found) > 1 {
			var reachable []authz.ResourceInput
			for _, res := range found {
				if len(o.lines(res, q.scope, q.action)) > 0 {
					reachable = append(reachable, res)
				}
			}
			if len(reachable) > 0 {
				found = reachable
			}
		}
		switch len(found) {
		case 0:
			return "", "", "", authz.ErrNotFound
		case 1:
			return found[0].ID, "", "", nil
		}
		return "", "", "", authz.ErrInvalid
	}
	typeKey = ref.ResourceType
	if types, byKey := o.visibleTypes(q.scope, ref.ResourceType); len(types) > 0 && !byKey {
		typeKey = types[0].Key
	}
	return "", typeKey, ref.ResourcePattern, nil
}

// decide returns what the decision rules say about q, whose resource must resolve.
func (o *oracle) decide(q oracleRequest) (bool, authz.DecidedBy) {
	allowed, by, err := o.answer(q)
	if err != nil {
		panic(fmt.Sprintf("oracle: request %+v: %v", q, err))
	}
	return allowed, by
}

// answer returns what the decision rules say about q, or the error Evaluate must
// return for it.
func (o *oracle) answer(q oracleRequest) (bool, authz.DecidedBy, error) {
	resID, typeKey, pattern, err := o.resolve(q)
	if err != nil {
		return false, authz.DecidedByDefault, err
	}
	decideFor := func(subject string) (bool, authz.DecidedBy) {
		if resID == "" {
			return o.onType(subject, q, typeKey, pattern)
		}
		return o.onResource(subject, q, resID, map[string]bool{}, 0)
	}
	allowed, by := decideFor(q.subject)
	if q.onBehalfOf == "" || !allowed {
		return allowed, by, nil
	}
	allowed, by = decideFor(q.onBehalfOf)
	return allowed, by, nil
}

// onType decides a type-level request: only the role step, on the one line
// whose E is the request scope; a permission's pattern matches when it is
// "*" or equal to the requested pattern.
func (o *oracle) onType(subject string, q oracleRequest, key, pattern string) (bool, authz.DecidedBy) {
	sub := o.subject(subject)
	var none authz.ResourceInput
	for _, m := range o.bt.Memberships {
		if m.SubjectID != subject || !slices.Contains(o.chain(q.scope), m.ScopeID) {
			continue
		}
		for _, role := range m.RoleIDs {
			if o.override(q.scope, authz.OverrideRole, role, "") == authz.OverrideDisabled {
				continue
			}
			for _, rp := range o.bt.RolePermissions {
				if rp.RoleID != role {
					continue
				}
				p := o.permission(rp.PermissionID)
				pat := p.ResourcePattern
				if p.Action != q.action || p.ResourceType != key || !(pat == "" || pat == "*" || (pattern != "" && pat == pattern)) {
					continue
				}
				if o.override(q.scope, authz.OverridePermission, "", p.ID) == authz.OverrideDisabled ||
					o.override(q.scope, authz.OverrideRolePermission, role, p.ID) == authz.OverrideDisabled {
					continue
				}
				if o.holds(p.Logic, sub, none, q.context) && o.holds(rp.Condition, sub, none, q.context) && o.holds(o.pairCondition(q.scope, role, p.ID), sub, none, q.context) {
					return true, authz.DecidedByRole
				}
			}
		}
	}
	return false, authz.DecidedByDefault
}

func (o *oracle) onResource(subject string, q oracleRequest, resID string, visited map[string]bool, depth int) (bool, authz.DecidedBy) {
	visited[resID] = true
	res := o.resource(resID)
	lines := o.lines(res, q.scope, q.action)
	if len(lines) == 0 {
		return false, authz.DecidedByDefault
	}
	sub := o.subject(subject)
	// 1. Policies.
	type cand struct {
		p      authz.ResourcePolicyInput
		direct bool
	}
	// Two tiers: the owner's policies (defined in ancestors of the owning
	// scope, wherever the request is made), then, only when none applies,
	// the borrowers' (defined in ancestors(E) of a linked home on the line).
	owners := o.ancestors(res.ScopeID)
	applies := func(p authz.ResourcePolicyInput) bool {
		if !(slices.Contains(p.Actions, q.action) || slices.Contains(p.Actions, "*")) {
			return false
		}
		if p.Target.Kind == authz.TargetResource && p.Target.ResourceID != resID {
			return false
		}
		if p.Target.Kind == authz.TargetCollection && !o.inCollection(p.Target.CollectionID, sub, res) {
			return false
		}
		return o.holds(p.SubjectCondition, sub, res, q.context) && o.holds(p.ContextCondition, sub, res, q.context)
	}
	var cands []cand
	for _, p := range o.bt.ResourcePolicies {
		if slices.Contains(owners, p.ScopeID) && applies(p) {
			cands = append(cands, cand{p, p.Target.Kind == authz.TargetResource})
		}
	}
	if len(cands) == 0 {
		for _, p := range o.bt.ResourcePolicies {
			borrowed := false
			for _, l := range lines {
				borrowed = borrowed || (l.home != res.ScopeID && slices.Contains(o.ancestors(l.e), p.ScopeID))
			}
			if !slices.Contains(owners, p.ScopeID) && borrowed && applies(p) {
				cands = append(cands, cand{p, p.Target.Kind == authz.TargetResource})
			}
		}
	}
	if len(cands) > 0 {
		sort.Slice(cands, func(i, j int) bool {
			a, b := cands[i], cands[j]
			if a.p.Priority != b.p.Priority {
				return a.p.Priority > b.p.Priority
			}
			if (a.p.Effect == authz.EffectDeny) != (b.p.Effect == authz.EffectDeny) {
				return a.p.Effect == authz.EffectDeny
			}
			if a.direct != b.direct {
				return a.direct
			}
			return a.p.ID < b.p.ID
		})
		return cands[0].p.Effect == authz.EffectAllow, authz.DecidedByPolicy
	}
	// 2. Hierarchy.
	for _, e := range o.bt.ResourceEdges {
		if e.ChildResourceID != resID || e.Cascade == authz.CascadeNone || visited[e.ParentResourceID] || depth+1 > authz.DefaultMaxHierarchyDepth {
			continue
		}
		if ok, _ := o.onResource(subject, q, e.ParentResourceID, visited, depth+1); ok {
			return true, authz.DecidedByHierarchy
		}
	}
	// 3. Roles.
	key := o.typeKey(res.ResourceTypeID)
	for _, l := range lines {
		for _, m := range o.bt.Memberships {
			if m.SubjectID != subject || !slices.Contains(o.chain(q.scope), m.ScopeID) || !slices.Contains(o.chain(l.home), m.ScopeID) {
				continue
			}
			for _, role := range m.RoleIDs {
				if o.override(l.e, authz.OverrideRole, role, "") == authz.OverrideDisabled {
					continue
				}
				for _, rp := range o.bt.RolePermissions {
					if rp.RoleID != role {
						continue
					}
					p := o.permission(rp.PermissionID)
					if p.Action != q.action || p.ResourceType != key || !o.patternMatches(p, res, subject) {
						continue
					}
					if o.override(l.e, authz.OverridePermission, "", p.ID) == authz.OverrideDisabled ||
						o.override(l.e, authz.OverrideRolePermission, role, p.ID) == authz.OverrideDisabled {
						continue
					}
					pairCond := o.pairCondition(l.e, role, p.ID)
					if o.holds(p.Logic, sub, res, q.context) && o.holds(rp.Condition, sub, res, q.context) && o.holds(pairCond, sub, res, q.context) {
						return true, authz.DecidedByRole
					}
				}
			}
		}
	}
	return false, authz.DecidedByDefault
}

func (o *oracle) permission(id string) authz.PermissionInput {
	for _, p := range o.bt.Permissions {
		if p.ID == id {
			return p
		}
	}
	panic("oracle: no permission " + id)
}

// override returns the state of the first override of the kind for role
// and permission along chain(e), or "" when none.
func (o *oracle) override(e string, kind authz.OverrideKind, role, perm string) authz.OverrideState {
	if ov := o.firstOverride(e, kind, role, perm); ov != nil {
		return ov.State
	}
	return ""
}

func (o *oracle) firstOverride(e string, kind authz.OverrideKind, role, perm string) *authz.ScopeOverrideInput {
	for _, s := range o.chain(e) {
		for i, ov := range o.bt.ScopeOverrides {
			if ov.ChildScopeID == s && ov.Kind == kind && ov.RoleID == role && ov.PermissionID == perm {
				return &o.bt.ScopeOverrides[i]
			}
		}
	}
	return nil
}

func (o *oracle) pairCondition(e, role, perm string) json.RawMessage {
	if ov := o.firstOverride(e, authz.OverrideRolePermission, role, perm); ov != nil {
		return ov.Condition
	}
	return nil
}

func (o *oracle) holds(raw json.RawMessage, sub authz.SubjectInput, res authz.ResourceInput, ctx map[string]any) bool {
	if len(raw) == 0 {
		return true
	}
	return oracleConds[condIndex(raw)].eval(sub, res, ctx)
}

func (o *oracle) inCollection(id string, sub authz.SubjectInput, res authz.ResourceInput) bool {
	for _, c := range o.bt.Collections {
		if c.ID != id {
			continue
		}
		if c.ResourceTypeID != res.ResourceTypeID {
			return false
		}
		for _, d := range oracleMatchDefs {
			if sameJSON(d.json, c.MatchDefinition) {
				return d.match(sub, res)
			}
		}
	}
	return false
}

func (o *oracle) patternMatches(p authz.PermissionInput, res authz.ResourceInput, subject string) bool {
	switch pat := p.ResourcePattern; {
	case pat == "" || pat == "*":
		return true
	case pat == "owned":
		return res.OwnerID != "" && res.OwnerID == subject
	case containsAny(pat, "*?"):
		return glob(pat, res.ExternalResourceID)
	default:
		return pat == res.ID || pat == res.ExternalResourceID
	}
}

func containsAny(s, chars string) bool {
	for _, c := range chars {
		if slices.Contains([]rune(s), c) {
			return true
		}
	}
	return false
}

// glob matches * (any run) and ? (one character).
func glob(pat, s string) bool {
	if pat == "" {
		return s == ""
	}
	switch pat[0] {
	case '*':
		for i := 0; i <= len(s); i++ {
			if glob(pat[1:], s[i:]) {
				return true
			}
		}
		return false
	case '?':
		return s != "" && glob(pat[1:], s[1:])
	}
	return s != "" && s[0] == pat[0] && glob(pat[1:], s[1:])
}

// The names random models give types, patterns and external ids: few, so
// that they collide.
var (
	typeKeys          = []string{"doc", "folder", "secret"}
	oraclePatterns    = []string{"*", "*", "owned", "x-*", "x-1", "y-?"}
	oracleExternalIDs = []string{"x-1", "x-2", "y-1", "y-2"}
)

// randomModel draws a model: a platform over one or two tenants, each a
// tree with define boundaries inside, and everything evaluation reads.
// Items the write path refuses are dropped by applyPruned.
func randomModel(r *rand.Rand) authz.Batch {
	var bt authz.Batch
	bt.ScopeTypes = []authz.ScopeTypeInput{{ID: "platform", Name: "Platform"},
		{ID: "org", Name: "Org", Config: authz.ScopeTypeConfig{PermissionMode: authz.PermissionModeDefine}},
		{ID: "dept", Name: "Dept"}, {ID: "sub", Name: "Sub", Config: authz.ScopeTypeConfig{PermissionMode: authz.PermissionModeDefine}}, {ID: "team", Name: "Team"}}
	bt.ScopeTypeEdges = []authz.ScopeTypeEdgeInput{{ParentTypeID: "platform", ChildTypeID: "org"}, {ParentTypeID: "org", ChildTypeID: "dept"},
		{ParentTypeID: "dept", ChildTypeID: "team"}, {ParentTypeID: "dept", ChildTypeID: "sub"}, {ParentTypeID: "sub", ChildTypeID: "team"}}
	bt.Scopes = []authz.ScopeInput{{ID: "P", TypeID: "platform"}}
	var defines []string
	add := func(id, typ, parent string) {
		bt.Scopes = append(bt.Scopes, authz.ScopeInput{ID: id, TypeID: typ, ParentScopeID: parent})
		if typ == "org" || typ == "sub" {
			defines = append(defines, id)
		}
	}
	for o := range 1 + r.IntN(2) {
		org := fmt.Sprintf("O%d", o)
		add(org, "org", "P")
		for d := range 1 + r.IntN(2) {
			dept := fmt.Sprintf("%s.d%d", org, d)
			add(dept, "dept", org)
			for t := range r.IntN(3) {
				add(fmt.Sprintf("%s.t%d", dept, t), "team", dept)
			}
			if r.IntN(2) == 0 {
				sub := dept + ".s"
				add(sub, "sub", dept)
				for t := range r.IntN(3) {
					add(fmt.Sprintf("%s.t%d", sub, t), "team", sub)
				}
			}
		}
	}
	cond := func(p float64) json.RawMessage {
		if r.Float64() < p {
			return json.RawMessage(oracleConds[r.IntN(len(oracleConds))].json)
		}
		return nil
	}
	var allScopes, types []string
	for _, s := range bt.Scopes {
		allScopes = append(allScopes, s.ID)
	}
	// What is visible from a scope: defined at a define scope of its chain.
	gen := &oracle{bt: bt}
	rolesAt, typesAt, permsAt := map[string][]string{}, map[string][]string{}, map[string][]string{}
	visible := func(at map[string][]string, scope string) []string {
		var out []string
		for _, s := range gen.chain(scope) {
			out = append(out, at[s]...)
		}
		return out
	}
	// Names collide across tenants on purpose: every define scope has types
	// keyed doc and folder, some a type keyed secret, and a type id may be
	// a key of other types ("doc" the id of a type keyed secret), so that a
	// name resolved outside the request's tenant would change answers.
	typeScope := map[string]string{}
	usedIDs := map[string]bool{}
	for _, d := range defines {
		for _, key := range typeKeys {
			if key == "secret" && r.IntN(2) == 0 {
				continue
			}
			id := d + ".rt." + key
			if bare := pickFrom(r, typeKeys); r.IntN(4) == 0 && bare != key && !usedIDs[bare] {
				id = bare
			}
			usedIDs[id] = true
			bt.ResourceTypes = append(bt.ResourceTypes, authz.ResourceTypeInput{ID: id, ScopeID: d, Key: key, Name: key})
			types = append(types, id)
			typesAt[d] = append(typesAt[d], id)
			typeScope[id] = d
		}
		var local []string
		for k := range 2 + r.IntN(3) {
			id := fmt.Sprintf("%s.p%d", d, k)
			bt.Permissions = append(bt.Permissions, authz.PermissionInput{ID: id, ScopeID: d, Action: pickFrom(r, []string{"read", "write", "list"}),
				ResourceType: pickFrom(r, []string{"doc", "folder", "doc", "folder", "secret"}), ResourcePattern: pickFrom(r, oraclePatterns), Logic: cond(0.15)})
			local = append(local, id)
			permsAt[d] = append(permsAt[d], id)
		}
		for k := range 1 + r.IntN(3) {
			id := fmt.Sprintf("%s.r%d", d, k)
			bt.Roles = append(bt.Roles, authz.RoleInput{ID: id, ScopeID: d, Name: id})
			rolesAt[d] = append(rolesAt[d], id)
			for _, p := range local {
				if r.IntN(2) == 0 {
					bt.RolePermissions = append(bt.RolePermissions, authz.RolePermissionInput{ID: id + "|" + p, RoleID: id, PermissionID: p, Condition: cond(0.2)})
				}
			}
		}
	}
	var subjects []string
	for k := range 3 + r.IntN(4) {
		id := fmt.Sprintf("u%d", k)
		meta := map[string]any{"dept": pickFrom(r, []string{"eng", "ops"})}
		if r.IntN(5) == 0 {
			meta["suspended"] = true
		}
		if depts := oracleDepts(r); depts != nil {
			meta["depts"] = depts
		}
		typ := authz.SubjectUser
		if k%3 == 2 {
			typ = authz.SubjectAgent
		}
		bt.Subjects = append(bt.Subjects, authz.SubjectInput{ID: id, SubjectType: typ, ExternalID: id, Meta: meta})
		subjects = append(subjects, id)
	}
	gen.bt = bt
	seenMember := map[[2]string]bool{}
	for k := range 3 + r.IntN(8) {
		sub, scope := pickFrom(r, subjects), pickFrom(r, allScopes)
		can := visible(rolesAt, scope)
		if len(can) == 0 || seenMember[[2]string{sub, scope}] {
			continue
		}
		seenMember[[2]string{sub, scope}] = true
		var rs []string
		for range 1 + r.IntN(2) {
			rs = append(rs, pickFrom(r, can))
		}
		slices.Sort(rs)
		bt.Memberships = append(bt.Memberships, authz.MembershipInput{ID: fmt.Sprintf("m%d", k), SubjectID: sub, ScopeID: scope, RoleIDs: slices.Compact(rs)})
	}
	// External ids repeat across types and tenants (unique per type).
	var resources []string
	usedExt := map[string]bool{}
	for k := range 3 + r.IntN(8) {
		id := fmt.Sprintf("res%d", k)
		scope := pickFrom(r, allScopes)
		can := visible(typesAt, scope)
		if len(can) == 0 {
			continue
		}
		typ := pickFrom(r, can)
		ext := pickFrom(r, oracleExternalIDs)
		if usedExt[typ+"|"+ext] {
			ext = fmt.Sprintf("%s-%d", pickFrom(r, []string{"x", "y"}), 10+k)
		}
		usedExt[typ+"|"+ext] = true
		bt.Resources = append(bt.Resources, authz.ResourceInput{ID: id, ResourceTypeID: typ, ScopeID: scope,
			ExternalResourceID: ext, OwnerID: pickFrom(r, subjects),
			Meta: resourceMeta(r)})
		resources = append(resources, id)
	}
	if len(resources) == 0 {
		return bt
	}
	for k := range r.IntN(4) {
		bt.ResourceScopeLinks = append(bt.ResourceScopeLinks, authz.ResourceScopeLinkInput{ID: fmt.Sprintf("l%d", k), ResourceID: pickFrom(r, resources), ScopeID: pickFrom(r, allScopes),
			LinkType: pickFrom(r, []authz.LinkType{authz.LinkShare, authz.LinkAlias, authz.LinkMirror})})
	}
	for k := range 2 + r.IntN(8) {
		bt.ResourceEdges = append(bt.ResourceEdges, authz.ResourceEdgeInput{ID: fmt.Sprintf("e%d", k), ParentResourceID: pickFrom(r, resources), ChildResourceID: pickFrom(r, resources),
			Cascade: pickFrom(r, []authz.Cascade{authz.CascadeInherit, authz.CascadeInherit, authz.CascadeNone})})
	}
	for k := range r.IntN(5) {
		scope := pickFrom(r, allScopes)
		vr, vp := visible(rolesAt, scope), visible(permsAt, scope)
		if len(vr) == 0 || len(vp) == 0 {
			continue
		}
		ov := authz.ScopeOverrideInput{ID: fmt.Sprintf("o%d", k), ChildScopeID: scope, State: pickFrom(r, []authz.OverrideState{authz.OverrideDisabled, authz.OverrideDisabled, authz.OverrideEnabled})}
		switch r.IntN(3) {
		case 0:
			ov.Kind, ov.RoleID = authz.OverrideRole, pickFrom(r, vr)
		case 1:
			ov.Kind, ov.PermissionID = authz.OverridePermission, pickFrom(r, vp)
		default:
			ov.Kind, ov.RoleID, ov.PermissionID = authz.OverrideRolePermission, pickFrom(r, vr), pickFrom(r, vp)
			if ov.State == authz.OverrideEnabled {
				ov.Condition = cond(0.7)
			}
		}
		bt.ScopeOverrides = append(bt.ScopeOverrides, ov)
	}
	var colls []string
	for k := range r.IntN(3) {
		id := fmt.Sprintf("c%d", k)
		t := pickFrom(r, types)
		bt.Collections = append(bt.Collections, authz.CollectionInput{ID: id, ScopeID: typeScope[t], ResourceTypeID: t, Name: id,
			MatchDefinition: json.RawMessage(oracleMatchDefs[r.IntN(len(oracleMatchDefs))].json)})
		colls = append(colls, id)
	}
	for k := range r.IntN(5) {
		p := authz.ResourcePolicyInput{ID: fmt.Sprintf("pol%d", k), ScopeID: pickFrom(r, allScopes), Name: fmt.Sprintf("pol%d", k),
			Effect: pickFrom(r, []authz.Effect{authz.EffectAllow, authz.EffectDeny}), Priority: r.IntN(3),
			Actions: slices.Compact([]string{pickFrom(r, []string{"read", "write", "*"}), pickFrom(r, []string{"read", "list"})}), SubjectCondition: cond(0.3), ContextCondition: cond(0.2)}
		if len(colls) > 0 && r.IntN(2) == 0 {
			p.Target = authz.PolicyTarget{Kind: authz.TargetCollection, CollectionID: pickFrom(r, colls)}
		} else {
			p.Target = authz.PolicyTarget{Kind: authz.TargetResource, ResourceID: pickFrom(r, resources)}
		}
		bt.ResourcePolicies = append(bt.ResourcePolicies, p)
	}
	return bt
}

// resourceMeta draws a resource's meta: a class, departments and grants.
func resourceMeta(r *rand.Rand) map[string]any {
	meta := map[string]any{"class": pickFrom(r, []string{"public", "internal", "secret"})}
	if depts := oracleDepts(r); depts != nil {
		meta["depts"] = depts
	}
	if n := r.IntN(4); n > 0 {
		grants := []any{}
		for range n {
			grants = append(grants, pickFrom(r, oracleGrants))
		}
		meta["grants"] = grants
	}
	return meta
}

// applyPruned applies bt, dropping the items the write path refuses (and
// then those that referred to them) until the rest is accepted. It returns
// what was stored.
func applyPruned(t *testing.T, c *authz.Client, bt authz.Batch) authz.Batch {
	t.Helper()
	for range 50 {
		_, err := c.Apply(ctx, bt)
		if err == nil {
			return bt
		}
		var be *authz.BatchError
		if !errors.As(err, &be) {
			t.Fatalf("apply: %v", err)
		}
		bt = pruneRefused(bt, be)
	}
	t.Fatal("apply: still refused after 50 rounds of pruning")
	return bt
}

// pruneRefused removes from bt the items be refused.
func pruneRefused(bt authz.Batch, be *authz.BatchError) authz.Batch {
	drop := map[string]map[int]bool{}
	for _, it := range be.Items {
		if drop[it.Kind] == nil {
			drop[it.Kind] = map[int]bool{}
		}
		drop[it.Kind][it.Index] = true
	}
	return pruneBatch(bt, drop)
}

// pruneBatch removes the items at the given indexes, by the kind names of
// ItemError.Kind (the Batch field's JSON name).
func pruneBatch(bt authz.Batch, drop map[string]map[int]bool) authz.Batch {
	raw, _ := json.Marshal(bt)
	var fields map[string][]json.RawMessage
	_ = json.Unmarshal(raw, &fields)
	for kind, idx := range drop {
		var kept []json.RawMessage
		for i, item := range fields[kind] {
			if !idx[i] {
				kept = append(kept, item)
			}
		}
		fields[kind] = kept
	}
	raw, _ = json.Marshal(fields)
	var out authz.Batch
	_ = json.Unmarshal(raw, &out)
	return out
}

// TestOracle compares Evaluate with the oracle on random requests over
// random models, on both backends, on allowed and decidedBy. A failure
// prints the model as one Apply batch and the request.
func TestOracle(t *testing.T) {
	t.Parallel()
	models := envCount(t, "AUTHZ_ORACLE_MODELS", 150)
	const requests = 60
	compared := 0
	outcomes := map[string]int{}
	for _, be := range withPG {
		t.Run(be.name, func(t *testing.T) {
			n := models
			if be.name == "pgstore" {
				n = min(models, envCount(t, "AUTHZ_PG_ORACLE_MODELS", 30))
			}
			for m := range n {
				r := rand.New(rand.NewPCG(uint64(m), 42))
				store := be.open(t)
				c := must(authz.New(store, testOptions()))(t)
				bt := applyPruned(t, c, randomModel(r))
				o := &oracle{bt: bt, readActions: map[string]bool{"read": true, "list": true, "view": true}}
				for range requests {
					q := randomRequest(r, bt)
					if q.resource == "" {
						continue
					}
					wantAllowed, wantBy, wantErr := o.answer(q)
					d, err := c.Evaluate(ctx, q.input())
					if wantErr != nil || err != nil {
						if !errors.Is(err, wantErr) || d.Allowed {
							model, _ := json.Marshal(bt)
							req, _ := json.Marshal(q.input())
							t.Fatalf("model %d: got error %v (allowed=%v); oracle says error %v\nmodel (one Apply batch):\n%s\nrequest:\n%s", m, err, d.Allowed, wantErr, model, req)
						}
						outcomes["error"]++
						continue
					}
					if q.ref != nil {
						outcomes["named otherwise"]++
					}
					compared++
					outcomes[fmt.Sprintf("%v/%s", d.Allowed, d.DecidedBy)]++
					if d.Allowed != wantAllowed || d.DecidedBy != wantBy {
						model, _ := json.Marshal(bt)
						req, _ := json.Marshal(q.input())
						t.Fatalf("model %d: got allowed=%v decidedBy=%s (%s); oracle says allowed=%v decidedBy=%s\nmodel (one Apply batch):\n%s\nrequest:\n%s",
							m, d.Allowed, d.DecidedBy, d.Explanation, wantAllowed, wantBy, model, req)
					}
				}
				store.Close() // now rather than at the end: a pgstore holds connections
			}
		})
	}
	t.Logf("%d decisions compared with the oracle: %v", compared, outcomes)
	// The models must exercise every step, or agreement proves little.
	for _, o := range []string{"true/policy", "false/policy", "true/hierarchy", "true/role", "false/default", "error", "named otherwise"} {
		if outcomes[o] < compared/200 {
			t.Errorf("outcome %s: got %d of %d decisions; want at least 0.5%%: the generator no longer exercises it", o, outcomes[o], compared)
		}
	}
}

func pickFrom[T any](r *rand.Rand, list []T) T { return list[r.IntN(len(list))] }

func randomRequest(r *rand.Rand, bt authz.Batch) oracleRequest {
	if len(bt.Subjects) == 0 || len(bt.Resources) == 0 {
		return oracleRequest{}
	}
	q := oracleRequest{
		subject:  bt.Subjects[r.IntN(len(bt.Subjects))].ID,
		scope:    bt.Scopes[r.IntN(len(bt.Scopes))].ID,
		action:   []string{"read", "write", "list"}[r.IntN(3)],
		resource: bt.Resources[r.IntN(len(bt.Resources))].ID,
	}
	// Most requests come from a member, at or below the membership, on a
	// resource on that scope's line: the cases where the steps matter.
	if len(bt.Memberships) > 0 && r.IntN(10) < 7 {
		o := &oracle{bt: bt}
		m := pickFrom(r, bt.Memberships)
		q.subject = m.SubjectID
		var below, reachable []string
		for _, sc := range bt.Scopes {
			if slices.Contains(o.chain(sc.ID), m.ScopeID) {
				below = append(below, sc.ID)
			}
		}
		q.scope = pickFrom(r, below)
		for _, res := range bt.Resources {
			if len(o.lines(res, q.scope, q.action)) > 0 {
				reachable = append(reachable, res.ID)
			}
		}
		if len(reachable) > 0 {
			q.resource = pickFrom(r, reachable)
		}
	}
	// Some requests name the resource another way, with names drawn from
	// every tenant: by external id and type key or id, or by type alone.
	names := slices.Clone(typeKeys)
	for _, t := range bt.ResourceTypes {
		names = append(names, t.ID)
	}
	res := bt.Resources[slices.IndexFunc(bt.Resources, func(x authz.ResourceInput) bool { return x.ID == q.resource })]
	typ := bt.ResourceTypes[slices.IndexFunc(bt.ResourceTypes, func(t authz.ResourceTypeInput) bool { return t.ID == res.ResourceTypeID })]
	switch n := r.IntN(20); {
	case n < 2:
		q.ref = &authz.ResourceRef{ExternalResourceID: res.ExternalResourceID, ResourceType: pickFrom(r, []string{typ.Key, typ.ID})}
	case n < 3:
		q.ref = &authz.ResourceRef{ExternalResourceID: pickFrom(r, oracleExternalIDs), ResourceType: pickFrom(r, names)}
	case n < 5:
		q.ref = &authz.ResourceRef{ResourceType: pickFrom(r, names)}
		if r.IntN(3) == 0 {
			q.ref.ResourcePattern = pickFrom(r, oraclePatterns)
		}
	case n < 6:
		q.ref = &authz.ResourceRef{ResourceID: res.ID, ResourceType: pickFrom(r, names)}
	}
	switch r.IntN(3) {
	case 0:
		q.context = map[string]any{"hour": 9}
	case 1:
		q.context = map[string]any{"hour": 20}
	}
	if r.IntN(10) == 0 {
		q.onBehalfOf = bt.Subjects[r.IntN(len(bt.Subjects))].ID
	}
	return q
}
