package authz_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/scopegate/authz"
)

// TestIncrementalGraphMatchesFreshBuildWide: like
// TestIncrementalGraphMatchesFreshBuild, a long-lived Client that writes and
// a Client that never writes and catches up from the change log are
// compared, after every write, with a Client opened on the store after
// it. Here the random writes cover every kind the graph holds: scopes
// (leaf scopes made and deleted, scopes moved by deleting their edge and
// making another, detached, attached), subjects (made, with memberships or
// not, deleted, their meta changed), resources (made, deleted, moved to
// another owning scope, their owner and meta changed), resource edges,
// scope links (made, deleted, their cascade or type changed), collections
// (made, deleted, their definition changed), resource policies (allow and
// deny, on a resource and on a collection, made, deleted, their effect
// changed), resource types, roles, permissions, role permissions,
// memberships, role assignments, overrides, tag groups with tags, tags and
// tag assignments, read by conditions and collections. New objects take
// most of the time the id of an object deleted before, of any kind (the
// last ones deleted, often in the observer's gap, including those a
// cascade deleted), and external ids and type keys collide across types.
// A resource is also replaced: deleted, and made again with its type,
// scope and external id under the id of an object deleted before; a new
// membership often takes the id of a deleted one at its scope, for another
// subject. The observer looks one step in two, three or six (per model).
//
// The Clients are compared on Evaluate (the whole Decision) for random
// requests, some naming deleted subjects and resources, every resource
// named by its external id, and on
// ListAllowedResources, ListAllowedSubjects and ListEffectivePermissions
// (the whole answer, or the error) for random subjects, resources, types,
// scopes and actions, and who may do each action on a type at each scope
// with memberships. AUTHZ_WIDE_MODELS sets the number of models (30).
// Both backends.
func TestIncrementalGraphMatchesFreshBuildWide(t *testing.T) {
	models := envCount(t, "AUTHZ_WIDE_MODELS", 30)
	const steps = 30
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			writes := map[string]int{}
			for m := range models {
				r := rand.New(rand.NewPCG(uint64(m), 1919))
				store := be.open(t)
				c := must(authz.New(store, testOptions()))(t)
				applyPruned(t, c, randomModel(r))
				observer := must(authz.New(store, testOptions()))(t)
				w := &wideWriter{r: r, c: c, ever: map[string]bool{}, goneMembers: map[string]string{},
					goneResources: map[string]authz.ResourceInput{}}
				w.read(t)
				var history []string
				// The observer looks one step in two, three or six.
				every := pickFrom(r, []int{2, 3, 6})
				for step := range steps {
					name, what := w.step(t)
					history = append(history, fmt.Sprintf("step %d: %s", step, what))
					if strings.Contains(what, "(refused: ") {
						name += " (refused)"
					}
					writes[name]++
					fresh := must(authz.New(store, testOptions()))(t)
					clients := map[string]*authz.Client{"writing Client": c}
					if r.IntN(every) == 0 || step == steps-1 {
						clients["observing Client"] = observer
					}
					fail := func(name, call string, in any, diff string) {
						t.Helper()
						raw, _ := json.Marshal(in)
						t.Fatalf("model %d, %s: %s(%s): %s differs from a Client opened after the write (-fresh +%s):\n%s\nwrites so far:\n%s",
							m, history[len(history)-1], call, raw, name, name, diff, strings.Join(history, "\n"))
					}
					compareWide(t, r, w, fresh, clients, fail)
				}
				store.Close()
			}
			t.Logf("writes: %v", writes)
		})
	}
}

// compareWide compares the clients with fresh on random requests and
// lookups over the model w last read; fail reports a difference.
func compareWide(t *testing.T, r *rand.Rand, w *wideWriter, fresh *authz.Client, clients map[string]*authz.Client,
	fail func(name, call string, in any, diff string)) {
	t.Helper()
	st := w.st
	gone := w.goneIDs()
	// Names of subjects, resources, scopes and types, with some that
	// exist no more.
	orGone := func(id string) string {
		if len(gone) > 0 && r.IntN(8) == 0 {
			return pickFrom(r, gone)
		}
		return id
	}
	var subjects, scopes, resources []string
	for _, s := range st.Subjects {
		subjects = append(subjects, s.ID)
	}
	for _, s := range st.Scopes {
		scopes = append(scopes, s.ID)
	}
	for _, x := range st.Resources {
		resources = append(resources, x.ID)
	}
	typeNames := slices.Clone(typeKeys)
	for _, x := range st.ResourceTypes {
		typeNames = append(typeNames, x.ID)
	}
	if len(subjects) == 0 || len(scopes) == 0 {
		return
	}
	actions := []string{"read", "write", "list"}
	contexts := []map[string]any{nil, {"hour": 9}, {"hour": 20}}
	type answer struct {
		Value any
		Err   string
	}
	compare := func(call string, in any, ask func(c *authz.Client) (any, error)) {
		t.Helper()
		v, err := ask(fresh)
		want := answer{v, fmt.Sprint(err)}
		for name, c := range clients {
			v, err := ask(c)
			if diff := cmp.Diff(want, answer{v, fmt.Sprint(err)}); diff != "" {
				fail(name, call, in, diff)
			}
		}
	}
	for range 15 {
		q := randomRequest(r, st)
		if q.resource == "" {
			break
		}
		q.subject = orGone(q.subject)
		if q.ref == nil {
			q.resource = orGone(q.resource)
		}
		in := q.input()
		compare("Evaluate", in, func(c *authz.Client) (any, error) { return c.Evaluate(ctx, in) })
	}
	// Every resource named by its external id.
	for _, x := range st.Resources {
		q := randomRequest(r, st)
		typ := x.ResourceTypeID
		if t := slices.IndexFunc(st.ResourceTypes, func(t authz.ResourceTypeInput) bool { return t.ID == typ }); t >= 0 && r.IntN(2) == 0 {
			typ = st.ResourceTypes[t].Key
		}
		q.ref = &authz.ResourceRef{ExternalResourceID: x.ExternalResourceID, ResourceType: typ}
		in := q.input()
		compare("Evaluate", in, func(c *authz.Client) (any, error) { return c.Evaluate(ctx, in) })
	}
	// Most lookups ask what a request of randomRequest asks (a member's
	// scope or one below, a resource on its line), the others anything.
	for range 4 {
		in := authz.LookupResourcesInput{Actor: authz.SubjectRef{SubjectID: orGone(pickFrom(r, subjects))}, ScopeID: orGone(pickFrom(r, scopes)),
			Action: pickFrom(r, actions), ResourceType: pickFrom(r, typeNames), Context: pickFrom(r, contexts)}
		if q := randomRequest(r, st); q.resource != "" && r.IntN(3) != 0 {
			in.Actor.SubjectID, in.ScopeID, in.Action, in.Context = q.subject, q.scope, q.action, q.context
			if q.onBehalfOf != "" {
				in.OnBehalfOf = &authz.SubjectRef{SubjectID: q.onBehalfOf}
			}
			if i := slices.IndexFunc(st.Resources, func(x authz.ResourceInput) bool { return x.ID == q.resource }); i >= 0 && r.IntN(2) == 0 {
				in.ResourceType = st.Resources[i].ResourceTypeID
				if t := slices.IndexFunc(st.ResourceTypes, func(x authz.ResourceTypeInput) bool { return x.ID == in.ResourceType }); t >= 0 && r.IntN(2) == 0 {
					in.ResourceType = st.ResourceTypes[t].Key
				}
			}
		}
		compare("ListAllowedResources", in, func(c *authz.Client) (any, error) { return c.ListAllowedResources(ctx, in) })
	}
	for range 4 {
		in := authz.LookupSubjectsInput{ScopeID: orGone(pickFrom(r, scopes)), Action: pickFrom(r, actions), Context: pickFrom(r, contexts)}
		if len(resources) > 0 && r.IntN(4) != 0 {
			in.Resource = authz.ResourceRef{ResourceID: orGone(pickFrom(r, resources))}
		} else {
			in.Resource = authz.ResourceRef{ResourceType: pickFrom(r, typeNames)}
		}
		if q := randomRequest(r, st); q.resource != "" && r.IntN(3) != 0 {
			in.ScopeID, in.Action, in.Context, in.Resource = q.scope, q.action, q.context, authz.ResourceRef{ResourceID: q.resource}
			if q.ref != nil {
				in.Resource = *q.ref
			}
		}
		if r.IntN(4) == 0 {
			in.SubjectType = pickFrom(r, []authz.SubjectType{authz.SubjectUser, authz.SubjectAgent})
		}
		compare("ListAllowedSubjects", in, func(c *authz.Client) (any, error) { return c.ListAllowedSubjects(ctx, in) })
	}
	// Who may do each action on a type of each scope with memberships:
	// every membership is a candidate of one of these lookups.
	var memberScopes []string
	for _, m := range st.Memberships {
		memberScopes = append(memberScopes, m.ScopeID)
	}
	slices.Sort(memberScopes)
	for _, scope := range slices.Compact(memberScopes) {
		for _, action := range actions {
			in := authz.LookupSubjectsInput{ScopeID: scope, Action: action, Resource: authz.ResourceRef{ResourceType: pickFrom(r, typeKeys)}, Context: pickFrom(r, contexts)}
			compare("ListAllowedSubjects", in, func(c *authz.Client) (any, error) { return c.ListAllowedSubjects(ctx, in) })
		}
	}
	for range 2 {
		sub, scope := orGone(pickFrom(r, subjects)), orGone(pickFrom(r, scopes))
		compare("ListEffectivePermissions", []string{sub, scope}, func(c *authz.Client) (any, error) {
			return c.ListEffectivePermissions(ctx, sub, scope)
		})
	}
}

// wideConds are the conditions the writes of the wide test put on
// policies and permissions: those of the oracle, and some reading tags of
// the group keyed "sens".
var wideConds = func() []string {
	var out []string
	for _, c := range oracleConds {
		out = append(out, c.json)
	}
	return append(out, `{"in":["hi",{"var":"resource.tags.sens"}]}`, `{"in":["hi",{"var":"subject.tags.sens"}]}`,
		`{"!":{"in":["lo",{"var":"resource.tags.sens"}]}}`)
}()

// wideMatchDefs are the collection definitions of the wide test.
var wideMatchDefs = func() []string {
	var out []string
	for _, d := range oracleMatchDefs {
		out = append(out, d.json)
	}
	return append(out, `{"tags":{"sens":"hi"}}`, `{"any":[{"fields":{"class":"secret"}},{"tags":{"sens":"lo"}}]}`)
}()

// wideExternalIDs are the external ids of new subjects and resources: those
// of the model's resources and subjects, so that they collide across types.
var wideExternalIDs = append(slices.Clone(oracleExternalIDs), "u0", "u1", "res1", "doc")

// wideWriter makes the random writes of the wide test on c, and reads
// the model back from the store after each.
type wideWriter struct {
	t    *testing.T // the test of the current step
	r    *rand.Rand
	c    *authz.Client
	st   authz.Batch     // the model as the store holds it
	ids  map[string]bool // the ids of st
	ever map[string]bool // every id ever seen
	// lastGone holds the ids deleted by the last write that deleted some.
	lastGone []string
	// goneMembers holds the scope of each membership deleted whose id no
	// object has now.
	goneMembers map[string]string
	// goneResources holds each resource deleted whose id no object has
	// now.
	goneResources map[string]authz.ResourceInput
	// taken holds the ids given to new objects during the current step.
	taken map[string]bool
	n     int
}

// read reads the model from the store, through Export, and returns the
// ids that are gone since the last read.
func (w *wideWriter) read(t *testing.T) []string {
	t.Helper()
	var buf bytes.Buffer
	if _, err := w.c.Export(ctx, &buf, nil); err != nil {
		t.Fatalf("export: %v", err)
	}
	items := map[string][]json.RawMessage{}
	ids := map[string]bool{}
	sc := bufio.NewScanner(&buf)
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		var line struct {
			Kind string          `json:"kind"`
			Item json.RawMessage `json:"item"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil || line.Kind == "" {
			continue
		}
		items[line.Kind] = append(items[line.Kind], line.Item)
		var x struct{ ID string }
		_ = json.Unmarshal(line.Item, &x)
		if x.ID != "" {
			ids[x.ID] = true
		}
	}
	raw, _ := json.Marshal(items)
	var st authz.Batch
	if err := json.Unmarshal(raw, &st); err != nil {
		t.Fatalf("decoding the export: %v", err)
	}
	parent := map[string]string{}
	for _, e := range st.ScopeEdges {
		parent[e.ChildScopeID] = e.ParentScopeID
	}
	for i := range st.Scopes {
		st.Scopes[i].ParentScopeID = parent[st.Scopes[i].ID]
	}
	var deleted []string
	for id := range w.ids {
		if !ids[id] {
			deleted = append(deleted, id)
		}
	}
	for _, m := range w.st.Memberships {
		if !ids[m.ID] {
			w.goneMembers[m.ID] = m.ScopeID
		}
	}
	for _, m := range st.Memberships {
		delete(w.goneMembers, m.ID)
	}
	for _, x := range w.st.Resources {
		if !ids[x.ID] {
			w.goneResources[x.ID] = x
		}
	}
	for _, x := range st.Resources {
		delete(w.goneResources, x.ID)
	}
	if len(deleted) > 0 {
		slices.Sort(deleted)
		w.lastGone = deleted
	}
	for id := range ids {
		w.ever[id] = true
	}
	w.st, w.ids = st, ids
	return deleted
}

// goneIDs lists the ids of the objects deleted so far that no object has
// now.
func (w *wideWriter) goneIDs() []string {
	var out []string
	for _, id := range slices.Sorted(maps.Keys(w.ever)) {
		if !w.ids[id] {
			out = append(out, id)
		}
	}
	return out
}

// newID returns the id of a new object: two times in three the id of an
// object deleted before, of whatever kind, half of these one of the last
// deleted; else a fresh one.
func (w *wideWriter) newID() string {
	var free, last []string
	for _, id := range w.goneIDs() {
		if !w.taken[id] {
			free = append(free, id)
		}
	}
	for _, id := range w.lastGone {
		if !w.taken[id] && !w.ids[id] {
			last = append(last, id)
		}
	}
	var id string
	switch {
	case len(last) > 0 && w.r.IntN(3) == 0:
		id = pickFrom(w.r, last)
	case len(free) > 0 && w.r.IntN(2) == 0:
		id = pickFrom(w.r, free)
	default:
		w.n++
		id = fmt.Sprintf("w%d", w.n)
	}
	w.taken[id] = true
	return id
}

// chain is chain(scope) in the model read last.
func (w *wideWriter) chain(scope string) []string {
	if !w.isScope(scope) {
		return nil
	}
	return (&oracle{bt: w.st}).chain(scope)
}

// isScope reports whether id is a scope's in the model read last.
func (w *wideWriter) isScope(id string) bool {
	return slices.ContainsFunc(w.st.Scopes, func(s authz.ScopeInput) bool { return s.ID == id })
}

// visibleRoles lists the roles defined in chain(scope).
func (w *wideWriter) visibleRoles(scope string) []string {
	var out []string
	chain := w.chain(scope)
	for _, x := range w.st.Roles {
		if slices.Contains(chain, x.ScopeID) {
			out = append(out, x.ID)
		}
	}
	return out
}

// visibleTypes lists the resource types defined in chain(scope).
func (w *wideWriter) visibleTypes(scope string) []string {
	var out []string
	chain := w.chain(scope)
	for _, x := range w.st.ResourceTypes {
		if slices.Contains(chain, x.ScopeID) {
			out = append(out, x.ID)
		}
	}
	return out
}

// roleIDs draws one to three roles visible from scope, or one of any
// scope.
func (w *wideWriter) roleIDs(scope string) []string {
	roles := w.visibleRoles(scope)
	if len(roles) == 0 || w.r.IntN(10) == 0 {
		roles = nil
		for _, x := range w.st.Roles {
			roles = append(roles, x.ID)
		}
	}
	if len(roles) == 0 {
		return nil
	}
	var out []string
	for range 1 + w.r.IntN(3) {
		out = append(out, pickFrom(w.r, roles))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func (w *wideWriter) cond(p float64) json.RawMessage {
	if w.r.Float64() < p {
		return json.RawMessage(pickFrom(w.r, wideConds))
	}
	return nil
}

func (w *wideWriter) meta() map[string]any {
	meta := map[string]any{"dept": pickFrom(w.r, []string{"eng", "ops"})}
	if w.r.IntN(4) == 0 {
		meta["suspended"] = true
	}
	if depts := oracleDepts(w.r); depts != nil {
		meta["depts"] = depts
	}
	return meta
}

// wideWrite is one kind of random write: it returns what it did, or ""
// when the model has nothing for it to work on.
type wideWrite struct {
	name   string
	weight int
	run    func(w *wideWriter) (string, error)
}

var wideWrites = []wideWrite{
	{"scope type made", 2, func(w *wideWriter) (string, error) {
		// A new scope type (define or not) under an existing one, and
		// mostly a scope of it.
		if len(w.st.ScopeTypes) == 0 {
			return "", nil
		}
		typ := authz.ScopeTypeInput{ID: w.newID(), Name: "T"}
		if w.r.IntN(2) == 0 {
			typ.Config.PermissionMode = authz.PermissionModeDefine
		}
		parent := pickFrom(w.r, w.st.ScopeTypes).ID
		b := authz.Batch{ScopeTypes: []authz.ScopeTypeInput{typ}, ScopeTypeEdges: []authz.ScopeTypeEdgeInput{{ID: w.newID(), ParentTypeID: parent, ChildTypeID: typ.ID}}}
		what := fmt.Sprintf("scope type %s (mode %q) made under type %s", typ.ID, typ.Config.PermissionMode, parent)
		var under []string
		for _, sc := range w.st.Scopes {
			if sc.TypeID == parent {
				under = append(under, sc.ID)
			}
		}
		if len(under) > 0 && w.r.IntN(4) != 0 {
			b.Scopes = []authz.ScopeInput{{ID: w.newID(), TypeID: typ.ID, ParentScopeID: pickFrom(w.r, under)}}
			what += fmt.Sprintf(", with scope %s under %s", b.Scopes[0].ID, b.Scopes[0].ParentScopeID)
		}
		_, err := w.c.Apply(ctx, b)
		return what, err
	}},
	{"scope type deleted", 1, func(w *wideWriter) (string, error) {
		var unused []string
		for _, x := range w.st.ScopeTypes {
			if !slices.ContainsFunc(w.st.Scopes, func(s authz.ScopeInput) bool { return s.TypeID == x.ID }) {
				unused = append(unused, x.ID)
			}
		}
		if len(unused) == 0 {
			return "", nil
		}
		id := pickFrom(w.r, unused)
		return "scope type " + id + " deleted", w.c.DeleteScopeType(ctx, id)
	}},
	{"leaf scope made", 6, func(w *wideWriter) (string, error) {
		var parents []authz.ScopeInput
		for _, s := range w.st.Scopes {
			if len(w.childTypes(s.TypeID)) > 0 {
				parents = append(parents, s)
			}
		}
		if len(parents) == 0 {
			return "", nil
		}
		p := pickFrom(w.r, parents)
		in := authz.ScopeInput{ID: w.newID(), TypeID: pickFrom(w.r, w.childTypes(p.TypeID)), ParentScopeID: p.ID, ExternalID: pickFrom(w.r, wideExternalIDs)}
		what := fmt.Sprintf("leaf scope %s (%s) made under %s", in.ID, in.TypeID, p.ID)
		if len(w.st.Subjects) > 0 && w.r.IntN(2) == 0 {
			in.Memberships = []authz.ScopeMembershipInput{{ID: w.newID(), SubjectID: pickFrom(w.r, w.st.Subjects).ID, RoleIDs: w.roleIDs(p.ID)}}
			what += fmt.Sprintf(" with membership %+v", in.Memberships[0])
		}
		_, err := w.c.Apply(ctx, authz.Batch{Scopes: []authz.ScopeInput{in}})
		return what, err
	}},
	{"leaf scope deleted", 5, func(w *wideWriter) (string, error) {
		var leaves []string
		for _, s := range w.st.Scopes {
			if !slices.ContainsFunc(w.st.ScopeEdges, func(e authz.ScopeEdgeInput) bool { return e.ParentScopeID == s.ID }) &&
				!slices.ContainsFunc(w.st.Resources, func(x authz.ResourceInput) bool { return x.ScopeID == s.ID }) {
				leaves = append(leaves, s.ID)
			}
		}
		if len(leaves) == 0 {
			return "", nil
		}
		id := pickFrom(w.r, leaves)
		return "leaf scope " + id + " deleted", w.c.DeleteScope(ctx, id)
	}},
	{"scope moved or detached", 5, func(w *wideWriter) (string, error) {
		if len(w.st.ScopeEdges) == 0 {
			return "", nil
		}
		e := pickFrom(w.r, w.st.ScopeEdges)
		if w.r.IntN(4) == 0 {
			return fmt.Sprintf("scope %s detached from %s (edge %s deleted)", e.ChildScopeID, e.ParentScopeID, e.ID), w.c.DeleteScopeEdge(ctx, e.ID)
		}
		parent := w.parentFor(e.ChildScopeID)
		if parent == "" {
			return "", nil
		}
		what := fmt.Sprintf("scope %s moved from %s to %s (edge %s deleted", e.ChildScopeID, e.ParentScopeID, parent, e.ID)
		if err := w.c.DeleteScopeEdge(ctx, e.ID); err != nil {
			return what + ")", err
		}
		id := w.newID()
		_, err := w.c.Apply(ctx, authz.Batch{ScopeEdges: []authz.ScopeEdgeInput{{ID: id, ParentScopeID: parent, ChildScopeID: e.ChildScopeID}}})
		return what + ", edge " + id + " made)", err
	}},
	{"root scope attached", 2, func(w *wideWriter) (string, error) {
		var roots []string
		for _, s := range w.st.Scopes {
			if s.ParentScopeID == "" && s.TypeID != "platform" {
				roots = append(roots, s.ID)
			}
		}
		if len(roots) == 0 {
			return "", nil
		}
		child := pickFrom(w.r, roots)
		parent := w.parentFor(child)
		if parent == "" {
			return "", nil
		}
		id := w.newID()
		_, err := w.c.Apply(ctx, authz.Batch{ScopeEdges: []authz.ScopeEdgeInput{{ID: id, ParentScopeID: parent, ChildScopeID: child}}})
		return fmt.Sprintf("root scope %s attached under %s (edge %s)", child, parent, id), err
	}},
	{"subject made", 6, func(w *wideWriter) (string, error) {
		in := authz.SubjectInput{ID: w.newID(), SubjectType: pickFrom(w.r, []authz.SubjectType{authz.SubjectUser, authz.SubjectAgent}),
			ExternalID: pickFrom(w.r, wideExternalIDs), Meta: w.meta()}
		what := fmt.Sprintf("subject %s (%s %s) made", in.ID, in.SubjectType, in.ExternalID)
		if len(w.st.Scopes) > 0 && w.r.IntN(2) == 0 {
			scope := pickFrom(w.r, w.st.Scopes).ID
			in.Memberships = []authz.SubjectMembershipInput{{ID: w.newID(), ScopeID: scope, RoleIDs: w.roleIDs(scope)}}
			what += fmt.Sprintf(" with membership %+v", in.Memberships[0])
		}
		_, err := w.c.Apply(ctx, authz.Batch{Subjects: []authz.SubjectInput{in}})
		return what, err
	}},
	{"subject deleted", 4, func(w *wideWriter) (string, error) {
		if len(w.st.Subjects) == 0 {
			return "", nil
		}
		id := pickFrom(w.r, w.st.Subjects).ID
		return "subject " + id + " deleted", w.c.DeleteSubject(ctx, id)
	}},
	{"subject meta changed", 2, func(w *wideWriter) (string, error) {
		if len(w.st.Subjects) == 0 {
			return "", nil
		}
		id, meta := pickFrom(w.r, w.st.Subjects).ID, w.meta()
		_, err := w.c.UpdateSubject(ctx, id, authz.SubjectPatch{Meta: &meta})
		return fmt.Sprintf("subject %s's meta set to %v", id, meta), err
	}},
	{"resource made", 8, func(w *wideWriter) (string, error) {
		if len(w.st.Scopes) == 0 || len(w.st.Subjects) == 0 {
			return "", nil
		}
		scope := pickFrom(w.r, w.st.Scopes).ID
		types := w.visibleTypes(scope)
		if len(types) == 0 {
			return "", nil
		}
		in := authz.ResourceInput{ID: w.newID(), ResourceTypeID: pickFrom(w.r, types), ScopeID: scope, ExternalResourceID: pickFrom(w.r, wideExternalIDs),
			OwnerID: pickFrom(w.r, w.st.Subjects).ID, Meta: resourceMeta(w.r)}
		if gone := slices.Sorted(maps.Keys(w.goneResources)); len(gone) > 0 && w.r.IntN(3) == 0 {
			// The type and external id of a resource deleted before, at
			// its scope: the resource made again under another id.
			old := w.goneResources[pickFrom(w.r, gone)]
			if w.isScope(old.ScopeID) && slices.Contains(w.visibleTypes(old.ScopeID), old.ResourceTypeID) {
				in.ResourceTypeID, in.ScopeID, in.ExternalResourceID = old.ResourceTypeID, old.ScopeID, old.ExternalResourceID
			}
		}
		b := authz.Batch{Resources: []authz.ResourceInput{in}}
		what := fmt.Sprintf("resource %s (type %s, ext %s) made at %s", in.ID, in.ResourceTypeID, in.ExternalResourceID, in.ScopeID)
		if w.r.IntN(3) == 0 {
			// With what hangs on it, in the same write.
			b.ResourcePolicies = []authz.ResourcePolicyInput{{ID: w.newID(), ScopeID: in.ScopeID, Name: "p", Target: authz.PolicyTarget{Kind: authz.TargetResource, ResourceID: in.ID},
				Actions: []string{pickFrom(w.r, []string{"read", "write", "*"})}, Effect: pickFrom(w.r, []authz.Effect{authz.EffectAllow, authz.EffectDeny}), SubjectCondition: w.cond(0.3)}}
			what += fmt.Sprintf(", with %s policy %s", b.ResourcePolicies[0].Effect, b.ResourcePolicies[0].ID)
			if len(w.st.Resources) > 0 && w.r.IntN(2) == 0 {
				b.ResourceEdges = []authz.ResourceEdgeInput{{ID: w.newID(), ParentResourceID: pickFrom(w.r, w.st.Resources).ID, ChildResourceID: in.ID, Cascade: authz.CascadeInherit}}
				what += fmt.Sprintf(", edge %s under %s", b.ResourceEdges[0].ID, b.ResourceEdges[0].ParentResourceID)
			}
			if w.r.IntN(2) == 0 {
				b.ResourceScopeLinks = []authz.ResourceScopeLinkInput{{ID: w.newID(), ResourceID: in.ID, ScopeID: pickFrom(w.r, w.st.Scopes).ID, LinkType: authz.LinkShare}}
				what += fmt.Sprintf(", link %s into %s", b.ResourceScopeLinks[0].ID, b.ResourceScopeLinks[0].ScopeID)
			}
		}
		_, err := w.c.Apply(ctx, b)
		return what, err
	}},
	{"resource replaced", 3, func(w *wideWriter) (string, error) {
		// A resource deleted, and made again at once with its type, scope
		// and external id under the id of an object deleted before.
		if len(w.st.Resources) == 0 {
			return "", nil
		}
		old := pickFrom(w.r, w.st.Resources)
		what := "resource " + old.ID + " deleted"
		if err := w.c.DeleteResource(ctx, old.ID); err != nil {
			return what, err
		}
		w.read(w.t)
		in := old
		in.ID = w.newID()
		if gone := w.goneIDs(); len(gone) > 0 {
			in.ID = pickFrom(w.r, gone)
		}
		_, err := w.c.Apply(ctx, authz.Batch{Resources: []authz.ResourceInput{in}})
		return what + fmt.Sprintf(", made again as %s (type %s, ext %s)", in.ID, in.ResourceTypeID, in.ExternalResourceID), err
	}},
	{"resource deleted", 5, func(w *wideWriter) (string, error) {
		if len(w.st.Resources) == 0 {
			return "", nil
		}
		id := pickFrom(w.r, w.st.Resources).ID
		return "resource " + id + " deleted", w.c.DeleteResource(ctx, id)
	}},
	{"resource changed", 6, func(w *wideWriter) (string, error) {
		if len(w.st.Resources) == 0 {
			return "", nil
		}
		x := pickFrom(w.r, w.st.Resources)
		var p authz.ResourcePatch
		var what string
		switch w.r.IntN(3) {
		case 0:
			scope := pickFrom(w.r, w.st.Scopes).ID
			if w.r.IntN(4) != 0 {
				typ := w.st.ResourceTypes[slices.IndexFunc(w.st.ResourceTypes, func(t authz.ResourceTypeInput) bool { return t.ID == x.ResourceTypeID })]
				scope = w.below(typ.ScopeID)
			}
			p.ScopeID, what = &scope, "moved from "+x.ScopeID+" to "+scope
		case 1:
			owner := pickFrom(w.r, append(idsOf(w.st.Subjects, func(s authz.SubjectInput) string { return s.ID }), ""))
			p.OwnerID, what = &owner, "given owner "+owner
		default:
			meta := resourceMeta(w.r)
			p.Meta, what = &meta, fmt.Sprintf("given meta %v", meta)
		}
		_, err := w.c.UpdateResource(ctx, x.ID, p)
		return "resource " + x.ID + " " + what, err
	}},
	{"resource edge made", 5, func(w *wideWriter) (string, error) {
		if len(w.st.Resources) == 0 {
			return "", nil
		}
		if len(w.st.Resources) < 2 {
			return "", nil
		}
		perm := w.r.Perm(len(w.st.Resources))
		in := authz.ResourceEdgeInput{ID: w.newID(), ParentResourceID: w.st.Resources[perm[0]].ID, ChildResourceID: w.st.Resources[perm[1]].ID,
			Cascade: pickFrom(w.r, []authz.Cascade{authz.CascadeInherit, authz.CascadeInherit, authz.CascadeNone})}
		_, err := w.c.Apply(ctx, authz.Batch{ResourceEdges: []authz.ResourceEdgeInput{in}})
		return fmt.Sprintf("resource edge %s made: %s under %s (%s)", in.ID, in.ChildResourceID, in.ParentResourceID, in.Cascade), err
	}},
	{"resource edge deleted or changed", 3, func(w *wideWriter) (string, error) {
		if len(w.st.ResourceEdges) == 0 {
			return "", nil
		}
		e := pickFrom(w.r, w.st.ResourceEdges)
		if w.r.IntN(3) == 0 {
			cascade := authz.CascadeNone
			if e.Cascade == authz.CascadeNone {
				cascade = authz.CascadeInherit
			}
			_, err := w.c.UpdateResourceEdge(ctx, e.ID, authz.ResourceEdgePatch{Cascade: &cascade})
			return fmt.Sprintf("resource edge %s's cascade set to %s", e.ID, cascade), err
		}
		return "resource edge " + e.ID + " deleted", w.c.DeleteResourceEdge(ctx, e.ID)
	}},
	{"link made", 5, func(w *wideWriter) (string, error) {
		if len(w.st.Resources) == 0 {
			return "", nil
		}
		in := authz.ResourceScopeLinkInput{ID: w.newID(), ResourceID: pickFrom(w.r, w.st.Resources).ID, ScopeID: pickFrom(w.r, w.st.Scopes).ID,
			LinkType: pickFrom(w.r, []authz.LinkType{authz.LinkShare, authz.LinkAlias, authz.LinkMirror})}
		_, err := w.c.Apply(ctx, authz.Batch{ResourceScopeLinks: []authz.ResourceScopeLinkInput{in}})
		return fmt.Sprintf("link %s made: %s into %s (%s)", in.ID, in.ResourceID, in.ScopeID, in.LinkType), err
	}},
	{"link deleted or changed", 3, func(w *wideWriter) (string, error) {
		if len(w.st.ResourceScopeLinks) == 0 {
			return "", nil
		}
		l := pickFrom(w.r, w.st.ResourceScopeLinks)
		if w.r.IntN(3) == 0 {
			typ := pickFrom(w.r, []authz.LinkType{authz.LinkShare, authz.LinkAlias, authz.LinkMirror})
			_, err := w.c.UpdateResourceScopeLink(ctx, l.ID, authz.ResourceScopeLinkPatch{LinkType: &typ})
			return fmt.Sprintf("link %s's type set to %s", l.ID, typ), err
		}
		return "link " + l.ID + " deleted", w.c.DeleteResourceScopeLink(ctx, l.ID)
	}},
	{"collection made", 4, func(w *wideWriter) (string, error) {
		if len(w.st.ResourceTypes) == 0 {
			return "", nil
		}
		typ := pickFrom(w.r, w.st.ResourceTypes)
		in := authz.CollectionInput{ID: w.newID(), ScopeID: typ.ScopeID, ResourceTypeID: typ.ID, Name: "c", MatchDefinition: json.RawMessage(pickFrom(w.r, wideMatchDefs))}
		if w.r.IntN(4) == 0 {
			in.ScopeID = pickFrom(w.r, w.st.Scopes).ID
		}
		_, err := w.c.Apply(ctx, authz.Batch{Collections: []authz.CollectionInput{in}})
		return fmt.Sprintf("collection %s made at %s on type %s: %s", in.ID, in.ScopeID, in.ResourceTypeID, in.MatchDefinition), err
	}},
	{"collection deleted or changed", 3, func(w *wideWriter) (string, error) {
		if len(w.st.Collections) == 0 {
			return "", nil
		}
		id := pickFrom(w.r, w.st.Collections).ID
		if w.r.IntN(3) == 0 {
			def := json.RawMessage(pickFrom(w.r, wideMatchDefs))
			_, err := w.c.UpdateCollection(ctx, id, authz.CollectionPatch{MatchDefinition: &def})
			return fmt.Sprintf("collection %s's definition set to %s", id, def), err
		}
		return "collection " + id + " deleted", w.c.DeleteCollection(ctx, id)
	}},
	{"policy made", 9, func(w *wideWriter) (string, error) {
		if len(w.st.Scopes) == 0 {
			return "", nil
		}
		in := authz.ResourcePolicyInput{ID: w.newID(), ScopeID: pickFrom(w.r, w.st.Scopes).ID, Name: "p",
			Effect: pickFrom(w.r, []authz.Effect{authz.EffectAllow, authz.EffectDeny}), Priority: w.r.IntN(3),
			Actions:          slices.Compact([]string{pickFrom(w.r, []string{"read", "write", "*"}), pickFrom(w.r, []string{"read", "list"})}),
			SubjectCondition: w.cond(0.3), ContextCondition: w.cond(0.15)}
		switch {
		case len(w.st.Collections) > 0 && w.r.IntN(2) == 0:
			in.Target = authz.PolicyTarget{Kind: authz.TargetCollection, CollectionID: pickFrom(w.r, w.st.Collections).ID}
		case len(w.st.Resources) > 0:
			in.Target = authz.PolicyTarget{Kind: authz.TargetResource, ResourceID: pickFrom(w.r, w.st.Resources).ID}
		default:
			return "", nil
		}
		if w.r.IntN(4) != 0 {
			// Mostly a scope that sees the target, so that most policies
			// are accepted.
			if in.Target.Kind == authz.TargetResource {
				x := w.st.Resources[slices.IndexFunc(w.st.Resources, func(x authz.ResourceInput) bool { return x.ID == in.Target.ResourceID })]
				in.ScopeID = pickFrom(w.r, (&oracle{bt: w.st}).ancestors(x.ScopeID))
			} else {
				coll := w.st.Collections[slices.IndexFunc(w.st.Collections, func(x authz.CollectionInput) bool { return x.ID == in.Target.CollectionID })]
				in.ScopeID = w.below(coll.ScopeID)
			}
		}
		_, err := w.c.Apply(ctx, authz.Batch{ResourcePolicies: []authz.ResourcePolicyInput{in}})
		return fmt.Sprintf("%s policy %s made at %s on %+v for %v (subject %s, context %s)", in.Effect, in.ID, in.ScopeID, in.Target, in.Actions,
			in.SubjectCondition, in.ContextCondition), err
	}},
	{"policy deleted or changed", 4, func(w *wideWriter) (string, error) {
		if len(w.st.ResourcePolicies) == 0 {
			return "", nil
		}
		p := pickFrom(w.r, w.st.ResourcePolicies)
		if w.r.IntN(2) == 0 {
			effect := authz.EffectDeny
			if p.Effect == authz.EffectDeny {
				effect = authz.EffectAllow
			}
			actions := []string{pickFrom(w.r, []string{"read", "write", "list", "*"})}
			_, err := w.c.UpdateResourcePolicy(ctx, p.ID, authz.ResourcePolicyPatch{Effect: &effect, Actions: &actions})
			return fmt.Sprintf("policy %s's effect set to %s, actions to %v", p.ID, effect, actions), err
		}
		return "policy " + p.ID + " deleted", w.c.DeleteResourcePolicy(ctx, p.ID)
	}},
	{"membership made", 5, func(w *wideWriter) (string, error) {
		if len(w.st.Scopes) == 0 || len(w.st.Subjects) == 0 {
			return "", nil
		}
		scope, id := pickFrom(w.r, w.st.Scopes).ID, ""
		if gone := slices.Sorted(maps.Keys(w.goneMembers)); len(gone) > 0 && w.r.IntN(2) == 0 {
			// The id of a membership deleted before, at its scope, most
			// likely for another subject.
			id = pickFrom(w.r, gone)
			if s := w.goneMembers[id]; w.isScope(s) {
				scope = s
			}
			w.taken[id] = true
		} else {
			id = w.newID()
		}
		in := authz.MembershipInput{ID: id, SubjectID: pickFrom(w.r, w.st.Subjects).ID, ScopeID: scope, RoleIDs: w.roleIDs(scope)}
		_, err := w.c.Apply(ctx, authz.Batch{Memberships: []authz.MembershipInput{in}})
		return fmt.Sprintf("membership %+v made", in), err
	}},
	{"role assignment made or membership deleted", 3, func(w *wideWriter) (string, error) {
		if len(w.st.Memberships) == 0 {
			return "", nil
		}
		m := pickFrom(w.r, w.st.Memberships)
		if w.r.IntN(2) == 0 {
			roles := w.roleIDs(m.ScopeID)
			if len(roles) == 0 {
				return "", nil
			}
			in := authz.RoleAssignmentInput{ID: w.newID(), MembershipID: m.ID, RoleID: roles[0]}
			_, err := w.c.Apply(ctx, authz.Batch{RoleAssignments: []authz.RoleAssignmentInput{in}})
			return fmt.Sprintf("role assignment %+v made", in), err
		}
		return "membership " + m.ID + " deleted", w.c.DeleteMembership(ctx, m.ID)
	}},
	{"role assignment deleted", 2, func(w *wideWriter) (string, error) {
		if len(w.st.RoleAssignments) == 0 {
			return "", nil
		}
		id := pickFrom(w.r, w.st.RoleAssignments).ID
		return "role assignment " + id + " deleted", w.c.DeleteRoleAssignment(ctx, id)
	}},
	{"resource type made", 3, func(w *wideWriter) (string, error) {
		if len(w.st.Scopes) == 0 {
			return "", nil
		}
		// A type keyed like others, at a define scope mostly; its id may
		// be a key.
		scope := pickFrom(w.r, w.st.Scopes).ID
		if chain := w.chain(scope); len(chain) > 0 && w.r.IntN(4) != 0 {
			scope = chain[len(chain)-1]
		}
		in := authz.ResourceTypeInput{ID: w.newID(), ScopeID: scope, Key: pickFrom(w.r, typeKeys), Name: "t"}
		if k := pickFrom(w.r, typeKeys); w.r.IntN(4) == 0 && !w.ids[k] && k != in.Key {
			in.ID = k
		}
		_, err := w.c.Apply(ctx, authz.Batch{ResourceTypes: []authz.ResourceTypeInput{in}})
		return fmt.Sprintf("resource type %s (key %s) made at %s", in.ID, in.Key, in.ScopeID), err
	}},
	{"resource type deleted", 2, func(w *wideWriter) (string, error) {
		var unused []string
		for _, x := range w.st.ResourceTypes {
			if !slices.ContainsFunc(w.st.Resources, func(res authz.ResourceInput) bool { return res.ResourceTypeID == x.ID }) {
				unused = append(unused, x.ID)
			}
		}
		if len(unused) == 0 {
			return "", nil
		}
		id := pickFrom(w.r, unused)
		return "resource type " + id + " deleted", w.c.DeleteResourceType(ctx, id)
	}},
	{"role, permission or role permission made", 4, func(w *wideWriter) (string, error) {
		if len(w.st.Scopes) == 0 {
			return "", nil
		}
		scope := pickFrom(w.r, w.st.Scopes).ID
		if chain := w.chain(scope); len(chain) > 0 && w.r.IntN(4) != 0 {
			scope = chain[len(chain)-1]
		}
		var b authz.Batch
		var what string
		switch w.r.IntN(3) {
		case 0:
			b.Roles = []authz.RoleInput{{ID: w.newID(), ScopeID: scope, Name: "r"}}
			what = fmt.Sprintf("role %s made at %s", b.Roles[0].ID, scope)
			if perms := idsOf(w.st.Permissions, func(p authz.PermissionInput) string { return p.ID }); len(perms) > 0 {
				b.RolePermissions = []authz.RolePermissionInput{{ID: w.newID(), RoleID: b.Roles[0].ID, PermissionID: pickFrom(w.r, perms)}}
				what += fmt.Sprintf(" with role permission %+v", b.RolePermissions[0])
			}
		case 1:
			b.Permissions = []authz.PermissionInput{{ID: w.newID(), ScopeID: scope, Action: pickFrom(w.r, []string{"read", "write", "list"}),
				ResourceType: pickFrom(w.r, typeKeys), ResourcePattern: pickFrom(w.r, oraclePatterns), Logic: w.cond(0.3)}}
			what = fmt.Sprintf("permission %+v made", b.Permissions[0])
			if roles := w.visibleRoles(scope); len(roles) > 0 {
				b.RolePermissions = []authz.RolePermissionInput{{ID: w.newID(), RoleID: pickFrom(w.r, roles), PermissionID: b.Permissions[0].ID, Condition: w.cond(0.2)}}
				what += fmt.Sprintf(" with role permission %+v", b.RolePermissions[0])
			}
		default:
			roles := idsOf(w.st.Roles, func(x authz.RoleInput) string { return x.ID })
			perms := idsOf(w.st.Permissions, func(p authz.PermissionInput) string { return p.ID })
			if len(roles) == 0 || len(perms) == 0 {
				return "", nil
			}
			b.RolePermissions = []authz.RolePermissionInput{{ID: w.newID(), RoleID: pickFrom(w.r, roles), PermissionID: pickFrom(w.r, perms), Condition: w.cond(0.2)}}
			what = fmt.Sprintf("role permission %+v made", b.RolePermissions[0])
		}
		_, err := w.c.Apply(ctx, b)
		return what, err
	}},
	{"role, permission or role permission deleted", 3, func(w *wideWriter) (string, error) {
		switch w.r.IntN(3) {
		case 0:
			if len(w.st.Roles) > 0 {
				id := pickFrom(w.r, w.st.Roles).ID
				return "role " + id + " deleted", w.c.DeleteRole(ctx, id)
			}
		case 1:
			if len(w.st.Permissions) > 0 {
				id := pickFrom(w.r, w.st.Permissions).ID
				return "permission " + id + " deleted", w.c.DeletePermission(ctx, id)
			}
		default:
			if len(w.st.RolePermissions) > 0 {
				id := pickFrom(w.r, w.st.RolePermissions).ID
				return "role permission " + id + " deleted", w.c.DeleteRolePermission(ctx, id)
			}
		}
		return "", nil
	}},
	{"override made, changed or deleted", 3, func(w *wideWriter) (string, error) {
		if len(w.st.ScopeOverrides) > 0 && w.r.IntN(3) == 0 {
			o := pickFrom(w.r, w.st.ScopeOverrides)
			if w.r.IntN(2) == 0 {
				state := authz.OverrideEnabled
				if o.State == authz.OverrideEnabled {
					state = authz.OverrideDisabled
				}
				_, err := w.c.UpdateScopeOverride(ctx, o.ID, authz.ScopeOverridePatch{State: &state})
				return fmt.Sprintf("override %s's state set to %s", o.ID, state), err
			}
			return "override " + o.ID + " deleted", w.c.DeleteScopeOverride(ctx, o.ID)
		}
		if len(w.st.Scopes) == 0 || len(w.st.Roles) == 0 || len(w.st.Permissions) == 0 {
			return "", nil
		}
		role := pickFrom(w.r, w.st.Roles)
		in := authz.ScopeOverrideInput{ID: w.newID(), ChildScopeID: w.below(role.ScopeID),
			State: pickFrom(w.r, []authz.OverrideState{authz.OverrideDisabled, authz.OverrideDisabled, authz.OverrideEnabled})}
		var perms []string
		for _, p := range w.st.Permissions {
			if slices.Contains(w.chain(in.ChildScopeID), p.ScopeID) {
				perms = append(perms, p.ID)
			}
		}
		if len(perms) == 0 {
			perms = idsOf(w.st.Permissions, func(p authz.PermissionInput) string { return p.ID })
		}
		perm := pickFrom(w.r, perms)
		switch w.r.IntN(3) {
		case 0:
			in.Kind, in.RoleID = authz.OverrideRole, role.ID
		case 1:
			in.Kind, in.PermissionID = authz.OverridePermission, perm
		default:
			in.Kind, in.RoleID, in.PermissionID = authz.OverrideRolePermission, role.ID, perm
			if in.State == authz.OverrideEnabled {
				in.Condition = w.cond(0.7)
			}
		}
		_, err := w.c.Apply(ctx, authz.Batch{ScopeOverrides: []authz.ScopeOverrideInput{in}})
		return fmt.Sprintf("override %+v made", in), err
	}},
	{"tag group made", 3, func(w *wideWriter) (string, error) {
		if len(w.st.Scopes) == 0 {
			return "", nil
		}
		scope := pickFrom(w.r, w.st.Scopes).ID
		if chain := w.chain(scope); len(chain) > 0 && w.r.IntN(2) != 0 {
			scope = chain[len(chain)-1]
		}
		g := authz.TagGroupInput{ID: w.newID(), ScopeID: scope, Key: "sens", Name: "Sensitivity",
			Tags: []authz.InlineTagInput{{ID: w.newID(), Identifier: "hi", Label: "High"}, {ID: w.newID(), Identifier: "lo", Label: "Low"}}}
		b := authz.Batch{TagGroups: []authz.TagGroupInput{g}, TagBindings: []authz.TagBindingInput{
			{ID: w.newID(), TagGroupID: g.ID, ModelType: authz.ModelSubject}, {ID: w.newID(), TagGroupID: g.ID, ModelType: authz.ModelResource}}}
		_, err := w.c.Apply(ctx, b)
		return fmt.Sprintf("tag group %s (key sens) made at %s with tags %s (hi) and %s (lo), bound to subjects and resources", g.ID, scope, g.Tags[0].ID, g.Tags[1].ID), err
	}},
	{"tag or tag group deleted", 2, func(w *wideWriter) (string, error) {
		if len(w.st.Tags) > 0 && w.r.IntN(2) == 0 {
			id := pickFrom(w.r, w.st.Tags).ID
			return "tag " + id + " deleted", w.c.DeleteTag(ctx, id)
		}
		if len(w.st.TagGroups) > 0 {
			id := pickFrom(w.r, w.st.TagGroups).ID
			return "tag group " + id + " deleted", w.c.DeleteTagGroup(ctx, id)
		}
		return "", nil
	}},
	{"tag assignment made or deleted", 6, func(w *wideWriter) (string, error) {
		if len(w.st.TagAssignments) > 0 && w.r.IntN(3) == 0 {
			id := pickFrom(w.r, w.st.TagAssignments).ID
			return "tag assignment " + id + " deleted", w.c.DeleteTagAssignment(ctx, id)
		}
		if len(w.st.Tags) == 0 {
			return "", nil
		}
		tag := pickFrom(w.r, w.st.Tags)
		in := authz.TagAssignmentInput{ID: w.newID(), TagID: tag.ID, ScopeID: tag.ScopeID}
		if len(w.st.Resources) > 0 && w.r.IntN(3) != 0 {
			in.TargetType, in.TargetID = authz.ModelResource, pickFrom(w.r, w.st.Resources).ID
		} else if len(w.st.Subjects) > 0 {
			in.TargetType, in.TargetID = authz.ModelSubject, pickFrom(w.r, w.st.Subjects).ID
		} else {
			return "", nil
		}
		if w.r.IntN(3) == 0 {
			in.ScopeID = pickFrom(w.r, w.st.Scopes).ID
		}
		_, err := w.c.Apply(ctx, authz.Batch{TagAssignments: []authz.TagAssignmentInput{in}})
		return fmt.Sprintf("tag assignment %+v made", in), err
	}},
}

// childTypes lists the scope types allowed under scope type typ.
func (w *wideWriter) childTypes(typ string) []string {
	var out []string
	for _, e := range w.st.ScopeTypeEdges {
		if e.ParentTypeID == typ {
			out = append(out, e.ChildTypeID)
		}
	}
	return out
}

// below draws a scope whose chain holds scope (scope itself when there is
// none, or one time in six).
func (w *wideWriter) below(scope string) string {
	var out []string
	for _, s := range w.st.Scopes {
		if slices.Contains(w.chain(s.ID), scope) {
			out = append(out, s.ID)
		}
	}
	if len(out) == 0 || w.r.IntN(6) == 0 {
		return scope
	}
	return pickFrom(w.r, out)
}

// parentFor draws a new parent for scope child: a scope whose type may
// hold child's, outside child's subtree, or "" when there is none.
func (w *wideWriter) parentFor(child string) string {
	i := slices.IndexFunc(w.st.Scopes, func(s authz.ScopeInput) bool { return s.ID == child })
	if i < 0 {
		return ""
	}
	typ := w.st.Scopes[i].TypeID
	o := &oracle{bt: w.st}
	var out []string
	for _, s := range w.st.Scopes {
		if slices.Contains(w.childTypes(s.TypeID), typ) && !slices.Contains(o.ancestors(s.ID), child) {
			out = append(out, s.ID)
		}
	}
	if len(out) == 0 {
		return ""
	}
	return pickFrom(w.r, out)
}

// step makes one random write (a move is two) and reads the model back;
// it returns the write's name and what it did. A write the store refuses changes nothing, and
// is fine.
func (w *wideWriter) step(t *testing.T) (name, what string) {
	t.Helper()
	w.t, w.taken = t, map[string]bool{}
	total := 0
	for _, x := range wideWrites {
		total += x.weight
	}
	for {
		n := w.r.IntN(total)
		i := 0
		for ; n >= wideWrites[i].weight; i++ {
			n -= wideWrites[i].weight
		}
		what, err := wideWrites[i].run(w)
		if what == "" {
			continue
		}
		if err != nil {
			what += " (refused: " + err.Error() + ")"
		}
		if gone := w.read(t); len(gone) > 0 {
			what += fmt.Sprintf(" [ids gone: %v]", gone)
		}
		return wideWrites[i].name, what
	}
}

// TestObserverCatchesUpMembershipIDReusedForAnotherSubject: a membership
// deleted and one of another subject created with its id, in the gap a
// Client catches up from the change log in one update, must leave the
// subjects a lookup starts from (those with a membership at a scope of the
// chain) as a Client opened after the writes has them: the new subject
// listed at the new membership's scope, and its other memberships kept.
// Both backends.
func TestObserverCatchesUpMembershipIDReusedForAnotherSubject(t *testing.T) {
	cases := map[string]struct {
		amyAlso bool   // amy has a membership of her own at acme
		scope   string // the scope of amy's membership m
	}{
		"same scope":                            {false, "acme"},
		"another scope, amy's other membership": {true, "team"},
	}
	for _, be := range backends {
		for name, tc := range cases {
			t.Run(be.name+"/"+name, func(t *testing.T) {
				store := be.open(t)
				c := must(authz.New(store, testOptions()))(t)
				b := oneTenantBatch()
				b.ScopeTypes = append(b.ScopeTypes, authz.ScopeTypeInput{ID: "team_type", Name: "Team"})
				b.ScopeTypeEdges = []authz.ScopeTypeEdgeInput{{ParentTypeID: "org", ChildTypeID: "team_type"}}
				b.Scopes = append(b.Scopes, authz.ScopeInput{ID: "team", TypeID: "team_type", ParentScopeID: "acme"})
				b.Subjects = append(b.Subjects, authz.SubjectInput{ID: "amy", SubjectType: authz.SubjectUser, ExternalID: "amy"})
				b.Memberships = []authz.MembershipInput{{ID: "m", SubjectID: "bob", ScopeID: "acme", RoleIDs: []string{"r"}}}
				if tc.amyAlso {
					b.Memberships = append(b.Memberships, authz.MembershipInput{ID: "ma", SubjectID: "amy", ScopeID: "acme", RoleIDs: []string{"r"}})
				}
				b.Permissions = []authz.PermissionInput{{ID: "p", ScopeID: "acme", Action: "read", ResourceType: "doc"}}
				b.RolePermissions = []authz.RolePermissionInput{{RoleID: "r", PermissionID: "p"}}
				b.Resources = []authz.ResourceInput{{ID: "d1", ResourceTypeID: "rt", ScopeID: "acme", ExternalResourceID: "d1"}}
				must(c.Apply(ctx, b))(t)
				observer := must(authz.New(store, testOptions()))(t)
				list := func(c *authz.Client, scope string) []authz.SubjectRef {
					return must(c.ListAllowedSubjects(ctx, authz.LookupSubjectsInput{ScopeID: scope, Action: "read",
						Resource: authz.ResourceRef{ResourceID: "d1"}}))(t).Subjects
				}
				list(observer, "acme") // the observer has its graph before the two writes
				if err := c.DeleteMembership(ctx, "m"); err != nil {
					t.Fatalf("deleting membership m: got %v; want nil", err)
				}
				must(c.Apply(ctx, authz.Batch{Memberships: []authz.MembershipInput{{ID: "m", SubjectID: "amy", ScopeID: tc.scope, RoleIDs: []string{"r"}}}}))(t)
				fresh := must(authz.New(store, testOptions()))(t)
				for _, scope := range []string{"acme", "team"} {
					if diff := cmp.Diff(list(fresh, scope), list(observer, scope)); diff != "" {
						t.Errorf("subjects allowed in %s: the observing Client differs from a Client opened after the writes (-fresh +observing):\n%s", scope, diff)
					}
				}
			})
		}
	}
}

// TestObserverCatchesUpExternalIDTakenOver: a resource deleted and another
// one created with its type and external id, in the gap a Client catches
// up from the change log in one update, must leave the external id naming
// the new resource, whichever of the two the Client indexes first: here
// the new resource takes the id of an older resource deleted in the same
// gap, whose handle comes first. Both backends.
func TestObserverCatchesUpExternalIDTakenOver(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			store := be.open(t)
			c := must(authz.New(store, testOptions()))(t)
			b := oneTenantBatch()
			b.Permissions = []authz.PermissionInput{{ID: "p", ScopeID: "acme", Action: "read", ResourceType: "doc"}}
			b.RolePermissions = []authz.RolePermissionInput{{RoleID: "r", PermissionID: "p"}}
			b.Resources = []authz.ResourceInput{{ID: "a_early", ResourceTypeID: "rt", ScopeID: "acme", ExternalResourceID: "e"},
				{ID: "z_late", ResourceTypeID: "rt", ScopeID: "acme", ExternalResourceID: "x"}}
			must(c.Apply(ctx, b))(t)
			observer := must(authz.New(store, testOptions()))(t)
			ask := func(c *authz.Client) (authz.Decision, error) {
				return c.Evaluate(ctx, authz.EvaluateInput{Actor: authz.SubjectRef{SubjectID: "bob"}, ScopeID: "acme", Action: "read",
					Resource: &authz.ResourceRef{ExternalResourceID: "x", ResourceType: "doc"}})
			}
			must(ask(observer))(t) // the observer has its graph before the writes
			for _, id := range []string{"a_early", "z_late"} {
				if err := c.DeleteResource(ctx, id); err != nil {
					t.Fatalf("deleting resource %s: got %v; want nil", id, err)
				}
			}
			must(c.Apply(ctx, authz.Batch{Resources: []authz.ResourceInput{{ID: "a_early", ResourceTypeID: "rt", ScopeID: "acme", ExternalResourceID: "x"}}}))(t)
			fresh := must(authz.New(store, testOptions()))(t)
			want, werr := ask(fresh)
			got, gerr := ask(observer)
			if fmt.Sprint(gerr) != fmt.Sprint(werr) || got.Allowed != want.Allowed || got.Explanation != want.Explanation {
				t.Errorf("external id x: got allowed=%v %q, error %v; want allowed=%v %q, error %v (as a Client opened after the writes)",
					got.Allowed, got.Explanation, gerr, want.Allowed, want.Explanation, werr)
			}
		})
	}
}
