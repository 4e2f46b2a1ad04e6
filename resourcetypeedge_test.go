package authz_test

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/scopegate/authz"
	"github.com/scopegate/authz/internal/authztest"
	"github.com/scopegate/authz/memstore"
	"github.com/scopegate/authz/storage"
)

// typeTenancyBatch is a scope tree with tenants and resource types at
// several levels: platform P (not define) over the tenants acme and globex
// (define); eng (team) under acme; lab (define) under eng. Types: folder and
// doc at acme, eng_doc at eng, lab_doc at lab, g_folder and g_doc at
// globex, p_doc at P. The type ids "doc" and "folder" are also keys of
// other types.
func typeTenancyBatch() authz.Batch {
	return authz.Batch{
		ScopeTypes: []authz.ScopeTypeInput{{ID: "platform", Name: "Platform"},
			{ID: "org", Name: "Org", Config: authz.ScopeTypeConfig{PermissionMode: authz.PermissionModeDefine}},
			{ID: "team", Name: "Team"},
			{ID: "sub", Name: "Sub", Config: authz.ScopeTypeConfig{PermissionMode: authz.PermissionModeDefine}}},
		ScopeTypeEdges: []authz.ScopeTypeEdgeInput{{ParentTypeID: "platform", ChildTypeID: "org"}, {ParentTypeID: "org", ChildTypeID: "team"}, {ParentTypeID: "team", ChildTypeID: "sub"}},
		Scopes: []authz.ScopeInput{{ID: "P", TypeID: "platform"}, {ID: "acme", TypeID: "org", ParentScopeID: "P"},
			{ID: "eng", TypeID: "team", ParentScopeID: "acme"}, {ID: "lab", TypeID: "sub", ParentScopeID: "eng"},
			{ID: "globex", TypeID: "org", ParentScopeID: "P"}},
		ResourceTypes: []authz.ResourceTypeInput{
			{ID: "folder", ScopeID: "acme", Key: "folder", Name: "Folder"},
			{ID: "doc", ScopeID: "acme", Key: "doc", Name: "Doc"},
			{ID: "eng_doc", ScopeID: "eng", Key: "doc", Name: "Doc"},
			{ID: "lab_doc", ScopeID: "lab", Key: "doc", Name: "Doc"},
			{ID: "g_folder", ScopeID: "globex", Key: "doc", Name: "Folder keyed doc"},
			{ID: "g_doc", ScopeID: "globex", Key: "folder", Name: "Doc keyed folder"},
			{ID: "p_doc", ScopeID: "P", Key: "doc", Name: "Doc"},
		},
	}
}

// refChain is chain(s) computed from the batch: s and the scopes above it,
// up to and including the first define scope.
func refChain(bt authz.Batch, s string) []string {
	parent, define := map[string]string{}, map[string]bool{}
	for _, st := range bt.ScopeTypes {
		define[st.ID] = st.Config.PermissionMode == authz.PermissionModeDefine
	}
	typeOf := map[string]string{}
	for _, sc := range bt.Scopes {
		parent[sc.ID], typeOf[sc.ID] = sc.ParentScopeID, sc.TypeID
	}
	var out []string
	for x := s; x != ""; x = parent[x] {
		out = append(out, x)
		if define[typeOf[x]] {
			break
		}
	}
	return out
}

// TestResourceTypeEdgeTenancy creates an edge between every ordered pair
// of types of typeTenancyBatch: it is allowed exactly when the scope of one
// type is in the chain of the other's (computed here from the batch), and
// refused with ErrNotAllowed otherwise, naming both types.
func TestResourceTypeEdgeTenancy(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		bt := typeTenancyBatch()
		must(c.Apply(ctx, bt))(t)
		scopeOf := map[string]string{}
		for _, rt := range bt.ResourceTypes {
			scopeOf[rt.ID] = rt.ScopeID
		}
		allowed, refused := 0, 0
		for _, p := range bt.ResourceTypes {
			for _, ch := range bt.ResourceTypes {
				want := slices.Contains(refChain(bt, p.ScopeID), ch.ScopeID) || slices.Contains(refChain(bt, ch.ScopeID), p.ScopeID)
				e, err := c.CreateResourceTypeEdge(ctx, authz.ResourceTypeEdgeInput{ParentTypeID: p.ID, ChildTypeID: ch.ID})
				switch {
				case want && err != nil:
					t.Errorf("edge %s (%s) → %s (%s): got %v; want it created", p.ID, p.ScopeID, ch.ID, ch.ScopeID, err)
				case !want && (!errors.Is(err, authz.ErrNotAllowed) || !strings.Contains(err.Error(), `"`+p.ID+`"`) || !strings.Contains(err.Error(), `"`+ch.ID+`"`)):
					t.Errorf("edge %s (%s) → %s (%s): got %v; want ErrNotAllowed naming both types", p.ID, p.ScopeID, ch.ID, ch.ScopeID, err)
				case want:
					allowed++
					if err := c.DeleteResourceTypeEdge(ctx, e.ID); err != nil {
						t.Fatal(err)
					}
				default:
					refused++
				}
			}
		}
		// The fixture must hold both classes, or the test proves little.
		if allowed < 10 || refused < 20 {
			t.Errorf("got %d pairs allowed and %d refused; want both classes well represented", allowed, refused)
		}
	})
}

// TestResourceTypeEdgeCRUD: create (typed, single and batch), get, list by
// every filter, duplicates, missing types, delete, and the audit feed.
func TestResourceTypeEdgeCRUD(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		must(c.Apply(ctx, typeTenancyBatch()))(t)
		got := must(c.CreateResourceTypeEdges(ctx, []authz.ResourceTypeEdgeInput{
			{ID: "e_fd", ParentTypeID: "folder", ChildTypeID: "doc"},
			{ID: "e_ff", ParentTypeID: "folder", ChildTypeID: "folder"},
			{ParentTypeID: "folder", ChildTypeID: "eng_doc"},
		}))(t)
		if len(got) != 3 || got[0].ID != "e_fd" || got[2].ID == "" || got[2].ParentTypeID != "folder" || got[2].ChildTypeID != "eng_doc" {
			t.Fatalf("created: got %+v; want the three edges in input order, the third with a generated id", got)
		}
		if !strings.HasPrefix(got[2].ID, "resource_type_edge_") {
			t.Errorf("generated id: got %q; want prefix resource_type_edge_", got[2].ID)
		}
		one := must(c.CreateResourceTypeEdge(ctx, authz.ResourceTypeEdgeInput{ID: "e_de", ParentTypeID: "doc", ChildTypeID: "eng_doc"}))(t)
		if diff := cmp.Diff(authz.ResourceTypeEdge{ID: "e_de", ParentTypeID: "doc", ChildTypeID: "eng_doc"}, one); diff != "" {
			t.Errorf("single create (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(got[0], must(c.GetResourceTypeEdge(ctx, "e_fd"))(t)); diff != "" {
			t.Errorf("get (-want +got):\n%s", diff)
		}
		ids := func(es []authz.ResourceTypeEdge) []string {
			var out []string
			for _, e := range es {
				out = append(out, e.ParentTypeID+">"+e.ChildTypeID)
			}
			return out
		}
		for _, lc := range []struct {
			f    authz.ResourceTypeEdgeFilter
			want []string
		}{
			{authz.ResourceTypeEdgeFilter{}, []string{"doc>eng_doc", "folder>doc", "folder>eng_doc", "folder>folder"}},
			{authz.ResourceTypeEdgeFilter{ParentTypeID: "folder"}, []string{"folder>doc", "folder>eng_doc", "folder>folder"}},
			{authz.ResourceTypeEdgeFilter{ChildTypeID: "eng_doc"}, []string{"doc>eng_doc", "folder>eng_doc"}},
			{authz.ResourceTypeEdgeFilter{ParentTypeID: "folder", ChildTypeID: "folder"}, []string{"folder>folder"}},
			{authz.ResourceTypeEdgeFilter{ParentTypeID: "doc", ChildTypeID: "folder"}, nil},
			{authz.ResourceTypeEdgeFilter{ParentTypeID: "folder", Page: authz.Page{Limit: 1, After: "e_fd"}}, []string{"folder>folder"}},
		} {
			es := must(c.ListResourceTypeEdges(ctx, lc.f))(t)
			// The listing is in id order; compare as sets, then the order.
			g := ids(es)
			if !slices.IsSortedFunc(es, func(a, b authz.ResourceTypeEdge) int { return strings.Compare(a.ID, b.ID) }) {
				t.Errorf("list %+v: got ids out of order: %v", lc.f, es)
			}
			slices.Sort(g)
			if diff := cmp.Diff(lc.want, g); diff != "" {
				t.Errorf("list %+v (-want +got):\n%s", lc.f, diff)
			}
		}
		// Duplicates: with a stored edge, and twice in one batch.
		_, err := c.CreateResourceTypeEdge(ctx, authz.ResourceTypeEdgeInput{ParentTypeID: "folder", ChildTypeID: "doc"})
		wantErr(t, err, authz.ErrAlreadyExists)
		_, err = c.CreateResourceTypeEdges(ctx, []authz.ResourceTypeEdgeInput{{ParentTypeID: "doc", ChildTypeID: "doc"}, {ParentTypeID: "doc", ChildTypeID: "doc"}})
		wantItems(t, err, authz.ErrAlreadyExists, "1 childTypeId")
		// Missing and wrongly-kinded ends, and missing fields.
		_, err = c.CreateResourceTypeEdges(ctx, []authz.ResourceTypeEdgeInput{{ParentTypeID: "nope", ChildTypeID: "doc"}, {ParentTypeID: "folder", ChildTypeID: "acme"}, {ParentTypeID: "folder"}})
		be := wantItems(t, err, nil, "0 parentTypeId", "1 childTypeId", "2 childTypeId")
		for i, want := range []error{authz.ErrNotFound, authz.ErrNotFound, authz.ErrInvalid} {
			if !errors.Is(be.Items[i], want) {
				t.Errorf("item %d: got %v; want %v", i, be.Items[i], want)
			}
		}
		// Delete, then the edge is gone and may be created again.
		if err := c.DeleteResourceTypeEdge(ctx, "e_fd"); err != nil {
			t.Fatal(err)
		}
		_, err = c.GetResourceTypeEdge(ctx, "e_fd")
		wantErr(t, err, authz.ErrNotFound)
		wantErr(t, c.DeleteResourceTypeEdge(ctx, "e_fd"), authz.ErrNotFound)
		must(c.CreateResourceTypeEdge(ctx, authz.ResourceTypeEdgeInput{ID: "e_fd2", ParentTypeID: "folder", ChildTypeID: "doc"}))(t)
		// The audit feed records the kind by its Batch name.
		page := must(c.Changes(ctx, authz.ChangesInput{Kind: "resourceTypeEdges", ID: "e_fd", Limit: 10}))(t)
		var actions []string
		for _, ch := range page.Changes {
			actions = append(actions, string(ch.Action))
		}
		if len(actions) != 2 || page.Changes[0].Kind != "resourceTypeEdges" {
			t.Errorf("audit feed of e_fd: got %v; want its creation and deletion, of kind resourceTypeEdges", page.Changes)
		}
	})
}

// TestResourceTypeEdgeCycles checks random batches of edges among a few
// types against a reference: edges are considered in item order, and one is
// refused (ErrNotAllowed on childTypeId) when it lies on a cycle through two
// or more types of the graph made of the stored edges and the batch's edges
// not refused before; loops are never refused.
func TestResourceTypeEdgeCycles(t *testing.T) {
	t.Parallel()
	const types = 5
	tn := func(i int) string { return fmt.Sprintf("T%d", i) }
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		base := authz.Batch{
			ScopeTypes: []authz.ScopeTypeInput{{ID: "org", Name: "Org", Config: authz.ScopeTypeConfig{PermissionMode: authz.PermissionModeDefine}}},
			Scopes:     []authz.ScopeInput{{ID: "acme", TypeID: "org"}},
		}
		for i := range types {
			base.ResourceTypes = append(base.ResourceTypes, authz.ResourceTypeInput{ID: tn(i), ScopeID: "acme", Key: fmt.Sprintf("k%d", i), Name: tn(i)})
		}
		must(c.Apply(ctx, base))(t)
		r := rand.New(rand.NewPCG(7, 8))
		refusals := 0
		for round := range envCount(t, "AUTHZ_TYPE_EDGE_ROUNDS", 60) {
			stored := map[[2]int]bool{}
			for _, e := range must(c.ListResourceTypeEdges(ctx, authz.ResourceTypeEdgeFilter{}))(t) {
				wantNoErr(t, c.DeleteResourceTypeEdge(ctx, e.ID))
			}
			// A stored acyclic part (plus loops), then a batch of any pairs.
			var setup []authz.ResourceTypeEdgeInput
			for range r.IntN(5) {
				a, b := r.IntN(types), r.IntN(types)
				if a > b {
					a, b = b, a
				}
				if !stored[[2]int{a, b}] {
					stored[[2]int{a, b}] = true
					setup = append(setup, authz.ResourceTypeEdgeInput{ParentTypeID: tn(a), ChildTypeID: tn(b)})
				}
			}
			if len(setup) > 0 {
				must(c.CreateResourceTypeEdges(ctx, setup))(t)
			}
			var batch [][2]int
			seen := maps.Clone(stored)
			for range 1 + r.IntN(7) {
				p := [2]int{r.IntN(types), r.IntN(types)}
				if !seen[p] {
					seen[p] = true
					batch = append(batch, p)
				}
			}
			// The reference.
			refused := make([]bool, len(batch))
			reaches := func(from, to int) bool {
				adj := map[int][]int{}
				for p := range stored {
					adj[p[0]] = append(adj[p[0]], p[1])
				}
				for i, p := range batch {
					if !refused[i] {
						adj[p[0]] = append(adj[p[0]], p[1])
					}
				}
				seen := map[int]bool{from: true}
				stack := []int{from}
				for len(stack) > 0 {
					n := stack[len(stack)-1]
					stack = stack[:len(stack)-1]
					if n == to {
						return true
					}
					for _, m := range adj[n] {
						if m != n && !seen[m] {
							seen[m] = true
							stack = append(stack, m)
						}
					}
				}
				return false
			}
			var want []string
			for i, p := range batch {
				if p[0] != p[1] && reaches(p[1], p[0]) {
					refused[i] = true
					want = append(want, fmt.Sprintf("%d childTypeId", i))
				}
			}
			var in []authz.ResourceTypeEdgeInput
			for _, p := range batch {
				in = append(in, authz.ResourceTypeEdgeInput{ParentTypeID: tn(p[0]), ChildTypeID: tn(p[1])})
			}
			_, err := c.CreateResourceTypeEdges(ctx, in)
			if len(want) == 0 {
				if err != nil {
					t.Fatalf("round %d: stored %v, batch %v: got %v; want the batch accepted", round, stored, batch, err)
				}
				continue
			}
			refusals++
			wantItems(t, err, authz.ErrNotAllowed, want...)
		}
		if refusals == 0 {
			t.Error("no round closed a cycle: the generator no longer exercises the rule")
		}
	})
}

func wantNoErr(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// hierarchyModel is one random model of TestResourceEdgeTypeRule: types at
// acme and eng (ids that are also keys of other types), a hierarchy among
// them (loops included, acyclic otherwise), resources of the types visible
// where they live, and resource edges from lower to higher resource
// numbers (so the resource graph is acyclic).
type hierarchyModel struct {
	types     []authz.ResourceTypeInput
	typeEdges []authz.ResourceTypeEdgeInput
	resources []authz.ResourceInput
	edges     []authz.ResourceEdgeInput
	// refused[i] is the reference verdict on edges[i]: its child's type
	// has a declared parent type, and none from the parent's type.
	refused []bool
}

func randomHierarchyModel(r *rand.Rand) hierarchyModel {
	var m hierarchyModel
	keys := []string{"folder", "doc", "sheet"}
	typeScope := map[string]string{}
	for _, sc := range []string{"acme", "eng"} {
		for _, k := range keys {
			if r.IntN(3) == 0 {
				continue
			}
			id := sc + "_" + k
			if sc == "eng" && r.IntN(2) == 0 {
				id = pickFrom(r, keys) // an id that is a key of another type
				if _, taken := typeScope[id]; taken {
					id = sc + "_" + k
				}
			}
			m.types = append(m.types, authz.ResourceTypeInput{ID: id, ScopeID: sc, Key: k, Name: k})
			typeScope[id] = sc
		}
	}
	if len(m.types) == 0 {
		m.types = append(m.types, authz.ResourceTypeInput{ID: "acme_doc", ScopeID: "acme", Key: "doc", Name: "doc"})
		typeScope["acme_doc"] = "acme"
	}
	// The hierarchy: pairs (i, j) with i <= j in a random order of the
	// types, so the only cycles are loops.
	order := r.Perm(len(m.types))
	declared := map[[2]string]bool{}
	hasParent := map[string]bool{}
	for range r.IntN(2 * len(m.types)) {
		i, j := r.IntN(len(order)), r.IntN(len(order))
		if i > j {
			i, j = j, i
		}
		p, ch := m.types[order[i]].ID, m.types[order[j]].ID
		if declared[[2]string{p, ch}] {
			continue
		}
		declared[[2]string{p, ch}] = true
		hasParent[ch] = true
		m.typeEdges = append(m.typeEdges, authz.ResourceTypeEdgeInput{ParentTypeID: p, ChildTypeID: ch})
	}
	for k := range 2 + r.IntN(8) {
		sc := pickFrom(r, []string{"acme", "eng"})
		var visible []string
		for _, t := range m.types {
			if t.ScopeID == "acme" || sc == "eng" {
				visible = append(visible, t.ID)
			}
		}
		if len(visible) == 0 {
			continue
		}
		m.resources = append(m.resources, authz.ResourceInput{ID: fmt.Sprintf("res%d", k), ResourceTypeID: pickFrom(r, visible), ScopeID: sc, ExternalResourceID: fmt.Sprintf("x%d", k)})
	}
	seen := map[[2]int]bool{}
	for range r.IntN(3 * len(m.resources)) {
		a, b := r.IntN(len(m.resources)), r.IntN(len(m.resources))
		if a >= b || seen[[2]int{a, b}] {
			continue
		}
		seen[[2]int{a, b}] = true
		p, ch := m.resources[a], m.resources[b]
		m.edges = append(m.edges, authz.ResourceEdgeInput{ParentResourceID: p.ID, ChildResourceID: ch.ID})
		m.refused = append(m.refused, hasParent[ch.ResourceTypeID] && !declared[[2]string{p.ResourceTypeID, ch.ResourceTypeID}])
	}
	return m
}

// TestResourceEdgeTypeRule draws random models and checks the class "a
// resource edge is allowed iff its child's type has no declared parent
// type or a resource type edge goes from the parent's type to the child's
// type", on both backends, in two ways: everything in one Apply (the
// refused edges, and only they, are reported, and nothing is stored), and
// edge by edge over a stored model.
func TestResourceEdgeTypeRule(t *testing.T) {
	t.Parallel()
	models := envCount(t, "AUTHZ_TYPE_RULE_MODELS", 40)
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		scopes := authz.Batch{
			ScopeTypes:     []authz.ScopeTypeInput{{ID: "org", Name: "Org", Config: authz.ScopeTypeConfig{PermissionMode: authz.PermissionModeDefine}}, {ID: "team", Name: "Team"}},
			ScopeTypeEdges: []authz.ScopeTypeEdgeInput{{ParentTypeID: "org", ChildTypeID: "team"}},
		}
		must(c.Apply(ctx, scopes))(t)
		allowed, refused := 0, 0
		for mi := range models {
			r := rand.New(rand.NewPCG(uint64(mi), 99))
			m := randomHierarchyModel(r)
			// Each model lives in its own tenant: prefix every id.
			pre := fmt.Sprintf("m%d.", mi)
			acme, eng := pre+"acme", pre+"eng"
			scope := func(s string) string { return pre + s }
			bt := authz.Batch{Scopes: []authz.ScopeInput{{ID: acme, TypeID: "org"}, {ID: eng, TypeID: "team", ParentScopeID: acme}}}
			for _, t := range m.types {
				t.ID, t.ScopeID = pre+t.ID, scope(t.ScopeID)
				bt.ResourceTypes = append(bt.ResourceTypes, t)
			}
			for _, e := range m.typeEdges {
				e.ParentTypeID, e.ChildTypeID = pre+e.ParentTypeID, pre+e.ChildTypeID
				bt.ResourceTypeEdges = append(bt.ResourceTypeEdges, e)
			}
			for _, res := range m.resources {
				res.ID, res.ResourceTypeID, res.ScopeID = pre+res.ID, pre+res.ResourceTypeID, scope(res.ScopeID)
				bt.Resources = append(bt.Resources, res)
			}
			var edges []authz.ResourceEdgeInput
			var want []string
			for i, e := range m.edges {
				e.ParentResourceID, e.ChildResourceID = pre+e.ParentResourceID, pre+e.ChildResourceID
				edges = append(edges, e)
				if m.refused[i] {
					want = append(want, fmt.Sprintf("%d parentResourceId", i))
					refused++
				} else {
					allowed++
				}
			}
			bt.ResourceEdges = edges
			if mi%2 == 0 {
				// One batch: types, hierarchy, resources and edges.
				rev := must(c.Revision(ctx))(t)
				_, err := c.Apply(ctx, bt)
				if len(want) == 0 {
					if err != nil {
						t.Fatalf("model %d: got %v; want the batch accepted", mi, err)
					}
					continue
				}
				be := wantItems(t, err, authz.ErrNotAllowed, want...)
				for _, it := range be.Items {
					if it.Kind != "resourceEdges" || !strings.Contains(it.Err.Error(), "create the resource type edge") {
						t.Errorf("model %d: got %v in %q; want a resourceEdges item naming the type edge to create", mi, it, it.Kind)
					}
				}
				if got := must(c.Revision(ctx))(t); got != rev {
					t.Fatalf("model %d: revision %d after a refused batch; want %d", mi, got, rev)
				}
				continue
			}
			// Edge by edge over the stored model.
			bt.ResourceEdges = nil
			must(c.Apply(ctx, bt))(t)
			for i, e := range edges {
				_, err := c.CreateResourceEdge(ctx, e)
				switch {
				case m.refused[i] && !errors.Is(err, authz.ErrNotAllowed):
					t.Errorf("model %d: edge %s → %s: got %v; want ErrNotAllowed", mi, e.ParentResourceID, e.ChildResourceID, err)
				case !m.refused[i] && err != nil:
					t.Errorf("model %d: edge %s → %s: got %v; want it created", mi, e.ParentResourceID, e.ChildResourceID, err)
				}
			}
		}
		if allowed < models || refused < models/2 {
			t.Errorf("got %d edges allowed and %d refused over %d models; want both classes well represented", allowed, refused, models)
		}
	})
}

// TestResourceTypeHierarchyInOneBatch: one Apply holds the resource types,
// the hierarchy, the resources and their edges, each referring to items
// of the batch; an edge the batch's own hierarchy does not allow is
// refused, an edge under a type with no declared parent is allowed.
func TestResourceTypeHierarchyInOneBatch(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		bt := authz.Batch{
			ScopeTypes: []authz.ScopeTypeInput{{ID: "org", Name: "Org", Config: authz.ScopeTypeConfig{PermissionMode: authz.PermissionModeDefine}}},
			Scopes:     []authz.ScopeInput{{ID: "acme", TypeID: "org"}},
			// The hierarchy names types of the same batch.
			ResourceTypeEdges: []authz.ResourceTypeEdgeInput{{ID: "h1", ParentTypeID: "folder", ChildTypeID: "doc"}, {ID: "h2", ParentTypeID: "folder", ChildTypeID: "folder"}},
			ResourceTypes: []authz.ResourceTypeInput{{ID: "folder", ScopeID: "acme", Key: "folder", Name: "Folder"},
				{ID: "doc", ScopeID: "acme", Key: "doc", Name: "Doc"}, {ID: "note", ScopeID: "acme", Key: "note", Name: "Note"}},
			Resources: []authz.ResourceInput{{ID: "f1", ResourceTypeID: "folder", ScopeID: "acme", ExternalResourceID: "f1"},
				{ID: "f2", ResourceTypeID: "folder", ScopeID: "acme", ExternalResourceID: "f2"},
				{ID: "d1", ResourceTypeID: "doc", ScopeID: "acme", ExternalResourceID: "d1"},
				{ID: "n1", ResourceTypeID: "note", ScopeID: "acme", ExternalResourceID: "n1"}},
			ResourceEdges: []authz.ResourceEdgeInput{
				{ParentResourceID: "f1", ChildResourceID: "f2"}, // folder in folder: declared
				{ParentResourceID: "f2", ChildResourceID: "d1"}, // doc in folder: declared
				{ParentResourceID: "d1", ChildResourceID: "n1"}, // note: no declared parent type
				{ParentResourceID: "n1", ChildResourceID: "f1"}, // folder in note: refused
				{ParentResourceID: "n1", ChildResourceID: "d1"}, // doc in note: refused
			},
		}
		_, err := c.Apply(ctx, bt)
		be := wantItems(t, err, authz.ErrNotAllowed, "3 parentResourceId", "4 parentResourceId")
		if msg := be.Items[0].Err.Error(); !strings.Contains(msg, `{parentTypeId: "note", childTypeId: "folder"}`) {
			t.Errorf("got %q; want it to name the missing resource type edge", msg)
		}
		bt.ResourceEdges = bt.ResourceEdges[:3]
		res := must(c.Apply(ctx, bt))(t)
		if len(res.ResourceTypeEdges) != 2 || res.ResourceTypeEdges[1].ID != "h2" || len(res.ResourceEdges) != 3 {
			t.Errorf("result: got %d type edges (%+v) and %d resource edges; want 2 and 3", len(res.ResourceTypeEdges), res.ResourceTypeEdges, len(res.ResourceEdges))
		}
		// A batch that declares the first parent of note refuses the
		// resource edge of the same batch that the new rule forbids.
		_, err = c.Apply(ctx, authz.Batch{
			ResourceTypeEdges: []authz.ResourceTypeEdgeInput{{ParentTypeID: "doc", ChildTypeID: "note"}},
			Resources:         []authz.ResourceInput{{ID: "n2", ResourceTypeID: "note", ScopeID: "acme", ExternalResourceID: "n2"}},
			ResourceEdges:     []authz.ResourceEdgeInput{{ParentResourceID: "d1", ChildResourceID: "n2"}, {ParentResourceID: "f1", ChildResourceID: "n2"}},
		})
		wantItems(t, err, authz.ErrNotAllowed, "1 parentResourceId")
	})
}

// TestResourceTypeEdgeDeletes: deleting an edge of the hierarchy leaves the
// resource edges made under it, and the rule then follows the edges left
// (none left: the child type is free again); deleting a resource type, or
// the scope defining it, deletes the edges from and to it.
func TestResourceTypeEdgeDeletes(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		bt := typeTenancyBatch()
		bt.ResourceTypes = append(bt.ResourceTypes, authz.ResourceTypeInput{ID: "drive", ScopeID: "acme", Key: "drive", Name: "Drive"},
			authz.ResourceTypeInput{ID: "archive", ScopeID: "acme", Key: "archive", Name: "Archive"})
		bt.ResourceTypeEdges = []authz.ResourceTypeEdgeInput{
			{ID: "drive:folder", ParentTypeID: "drive", ChildTypeID: "folder"},
			{ID: "folder:folder", ParentTypeID: "folder", ChildTypeID: "folder"},
			{ID: "folder:doc", ParentTypeID: "folder", ChildTypeID: "doc"},
			{ID: "archive:folder", ParentTypeID: "archive", ChildTypeID: "folder"},
			{ID: "doc:eng_doc", ParentTypeID: "doc", ChildTypeID: "eng_doc"},
			{ID: "eng_doc:eng_doc", ParentTypeID: "eng_doc", ChildTypeID: "eng_doc"},
		}
		bt.Resources = []authz.ResourceInput{
			{ID: "d1", ResourceTypeID: "drive", ScopeID: "acme", ExternalResourceID: "d1"},
			{ID: "f1", ResourceTypeID: "folder", ScopeID: "acme", ExternalResourceID: "f1"},
			{ID: "f2", ResourceTypeID: "folder", ScopeID: "acme", ExternalResourceID: "f2"},
			{ID: "doc1", ResourceTypeID: "doc", ScopeID: "acme", ExternalResourceID: "doc1"},
		}
		bt.ResourceEdges = []authz.ResourceEdgeInput{{ID: "d1:f1", ParentResourceID: "d1", ChildResourceID: "f1"},
			{ID: "f1:f2", ParentResourceID: "f1", ChildResourceID: "f2"}, {ID: "f2:doc1", ParentResourceID: "f2", ChildResourceID: "doc1"}}
		must(c.Apply(ctx, bt))(t)

		_, err := c.CreateResourceEdge(ctx, authz.ResourceEdgeInput{ParentResourceID: "d1", ChildResourceID: "doc1"})
		wantErr(t, err, authz.ErrNotAllowed)
		// The last declared parent of doc goes: the edges made under it
		// stay, and doc may go anywhere again.
		wantNoErr(t, c.DeleteResourceTypeEdge(ctx, "folder:doc"))
		must(c.GetResourceEdge(ctx, "f2:doc1"))(t)
		must(c.CreateResourceEdge(ctx, authz.ResourceEdgeInput{ParentResourceID: "d1", ChildResourceID: "doc1"}))(t)
		// folder keeps other declared parents: drive goes, d1 → f1 stays,
		// and a new folder under the drive is refused.
		wantNoErr(t, c.DeleteResourceTypeEdge(ctx, "drive:folder"))
		must(c.GetResourceEdge(ctx, "d1:f1"))(t)
		must(c.CreateResource(ctx, authz.ResourceInput{ID: "f3", ResourceTypeID: "folder", ScopeID: "acme", ExternalResourceID: "f3"}))(t)
		_, err = c.CreateResourceEdge(ctx, authz.ResourceEdgeInput{ParentResourceID: "d1", ChildResourceID: "f3"})
		wantErr(t, err, authz.ErrNotAllowed)
		must(c.CreateResourceEdge(ctx, authz.ResourceEdgeInput{ParentResourceID: "f2", ChildResourceID: "f3"}))(t)

		// A type without resources takes its edges with it.
		wantNoErr(t, c.DeleteResourceType(ctx, "archive"))
		_, err = c.GetResourceTypeEdge(ctx, "archive:folder")
		wantErr(t, err, authz.ErrNotFound)
		// A type with resources is refused, edges and all.
		wantErr(t, c.DeleteResourceType(ctx, "drive"), authz.ErrNotAllowed)
		// Deleting the scope eng deletes its type eng_doc and the edges to
		// and from it (the loop included).
		wantNoErr(t, c.DeleteScope(ctx, "lab"))
		wantNoErr(t, c.DeleteScope(ctx, "eng"))
		for _, id := range []string{"doc:eng_doc", "eng_doc:eng_doc"} {
			_, err = c.GetResourceTypeEdge(ctx, id)
			wantErr(t, err, authz.ErrNotFound)
		}
		left := must(c.ListResourceTypeEdges(ctx, authz.ResourceTypeEdgeFilter{}))(t)
		if len(left) != 1 || left[0].ID != "folder:folder" {
			t.Errorf("edges left: got %+v; want only folder>folder", left)
		}
		if err := c.Check(ctx); err != nil {
			t.Error(err)
		}
	})
}

// TestResourceTypeEdgesExportSubtree: a tenant's export carries the
// hierarchy of its types and none of another tenant's, and the imported
// tenant enforces it.
func TestResourceTypeEdgesExportSubtree(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, src *authz.Client) {
		bt := typeTenancyBatch()
		bt.ResourceTypeEdges = []authz.ResourceTypeEdgeInput{{ID: "a_h", ParentTypeID: "folder", ChildTypeID: "doc"}, {ID: "g_h", ParentTypeID: "g_folder", ChildTypeID: "g_doc"}}
		bt.Resources = []authz.ResourceInput{{ID: "d1", ResourceTypeID: "doc", ScopeID: "acme", ExternalResourceID: "d1"},
			{ID: "d2", ResourceTypeID: "doc", ScopeID: "acme", ExternalResourceID: "d2"}}
		must(src.Apply(ctx, bt))(t)
		var exp bytes.Buffer
		must(src.Export(ctx, &exp, &authz.ExportOptions{ScopeID: "acme"}))(t)
		if !strings.Contains(exp.String(), `{"kind":"resourceTypeEdges","item":{"id":"a_h","parentTypeId":"folder","childTypeId":"doc"}}`) {
			t.Errorf("the export of acme does not hold its type edge a_h:\n%s", exp.String())
		}
		if strings.Contains(exp.String(), `"g_h"`) {
			t.Error("the export of acme holds globex's type edge g_h")
		}
		dst := authztest.NewClient(t, authztest.Memstore(t), testOptions())
		must(dst.Import(ctx, &exp, nil))(t)
		_, err := dst.CreateResourceEdge(ctx, authz.ResourceEdgeInput{ParentResourceID: "d1", ChildResourceID: "d2"})
		wantErr(t, err, authz.ErrNotAllowed)
	})
}

// withResourceTypeHierarchy adds to a random model (randomModel) a
// resource type hierarchy drawn by r: in half the models, for each scope
// defining types, up to three edges among its types (loops included), and
// now and then an edge between any two types of the model, which the
// write path may refuse (types of two tenants, a cycle). Resource edges
// the hierarchy forbids are then refused, and pruned, like any refused
// item.
func withResourceTypeHierarchy(r *rand.Rand, bt authz.Batch) authz.Batch {
	if len(bt.ResourceTypes) == 0 || r.IntN(2) == 0 {
		return bt
	}
	byScope := map[string][]string{}
	var scopes []string
	for _, t := range bt.ResourceTypes {
		if byScope[t.ScopeID] == nil {
			scopes = append(scopes, t.ScopeID)
		}
		byScope[t.ScopeID] = append(byScope[t.ScopeID], t.ID)
	}
	seen := map[[2]string]bool{}
	add := func(p, c string) {
		if !seen[[2]string{p, c}] {
			seen[[2]string{p, c}] = true
			bt.ResourceTypeEdges = append(bt.ResourceTypeEdges, authz.ResourceTypeEdgeInput{ID: fmt.Sprintf("rte%d", len(bt.ResourceTypeEdges)), ParentTypeID: p, ChildTypeID: c})
		}
	}
	for _, s := range scopes {
		for range r.IntN(4) {
			add(pickFrom(r, byScope[s]), pickFrom(r, byScope[s]))
		}
	}
	if r.IntN(4) == 0 {
		add(pickFrom(r, bt.ResourceTypes).ID, pickFrom(r, bt.ResourceTypes).ID)
	}
	return bt
}

// declareLateTypeEdges changes the resource type hierarchy of a loaded
// random model after its resource edges exist, as an application may: it
// declares edges among the types of one scope (drawn by r; those the write
// path refuses are skipped) and deletes one declared edge, so that the
// store holds resource edges its hierarchy would now refuse. It returns
// how many edges it declared.
func declareLateTypeEdges(t *testing.T, c *authz.Client, bt authz.Batch, r *rand.Rand) int {
	t.Helper()
	if len(bt.ResourceTypes) == 0 {
		return 0
	}
	declared := 0
	for range 1 + r.IntN(4) {
		p := pickFrom(r, bt.ResourceTypes)
		var same []string
		for _, x := range bt.ResourceTypes {
			if x.ScopeID == p.ScopeID {
				same = append(same, x.ID)
			}
		}
		_, err := c.CreateResourceTypeEdge(ctx, authz.ResourceTypeEdgeInput{ParentTypeID: p.ID, ChildTypeID: pickFrom(r, same)})
		switch {
		case err == nil:
			declared++
		case !errors.Is(err, authz.ErrAlreadyExists) && !errors.Is(err, authz.ErrNotAllowed):
			t.Fatalf("declare a late resource type edge: %v", err)
		}
	}
	if len(bt.ResourceTypeEdges) > 0 && r.IntN(2) == 0 {
		if err := c.DeleteResourceTypeEdge(ctx, pickFrom(r, bt.ResourceTypeEdges).ID); err != nil && !errors.Is(err, authz.ErrNotFound) {
			t.Fatalf("delete a resource type edge: %v", err)
		}
	}
	return declared
}

// TestResourceEdgesUnderHierarchyReadThroughPrefetch applies one batch of
// resource edges between stored resources (and a few new ones) whose
// types are constrained by a hierarchy, in a store that prefetches, and
// bounds the Gets no Prefetch covered: the type edge each resource edge
// needs is looked up by its pair of types, one round trip each on
// PostgreSQL unless prefetched.
func TestResourceEdgesUnderHierarchyReadThroughPrefetch(t *testing.T) {
	t.Parallel()
	s := &prefetchingStore{Storage: memstore.New()}
	t.Cleanup(func() { s.Close() })
	c := s.client(t)
	must(c.Apply(ctx, authz.Batch{
		ScopeTypes:        []authz.ScopeTypeInput{{ID: "org", Name: "Org"}},
		Scopes:            []authz.ScopeInput{{ID: "root", TypeID: "org"}},
		ResourceTypes:     []authz.ResourceTypeInput{{ID: "folder", ScopeID: "root", Key: "folder", Name: "Folder"}, {ID: "doc", ScopeID: "root", Key: "doc", Name: "Doc"}},
		ResourceTypeEdges: []authz.ResourceTypeEdgeInput{{ParentTypeID: "folder", ChildTypeID: "folder"}, {ParentTypeID: "folder", ChildTypeID: "doc"}},
	}))(t)
	const n = 400
	typeOf := func(i int) string { return []string{"folder", "doc"}[i%2] }
	applyInBatches(t, c, n, func(bt *authz.Batch, i int) {
		bt.Resources = append(bt.Resources, authz.ResourceInput{ID: fmt.Sprintf("r%d", i), ResourceTypeID: typeOf(i), ScopeID: "root", ExternalResourceID: fmt.Sprint(i)})
	})
	var bt authz.Batch
	for i := range 20 {
		bt.Resources = append(bt.Resources, authz.ResourceInput{ID: fmt.Sprintf("new%d", i), ResourceTypeID: "doc", ScopeID: "root", ExternalResourceID: fmt.Sprintf("new%d", i)})
		bt.ResourceEdges = append(bt.ResourceEdges, authz.ResourceEdgeInput{ParentResourceID: fmt.Sprintf("r%d", 2*i), ChildResourceID: fmt.Sprintf("new%d", i)})
	}
	// Folders (even) hold the next folder and the next document.
	for i := 0; i+2 < n; i += 2 {
		bt.ResourceEdges = append(bt.ResourceEdges, authz.ResourceEdgeInput{ParentResourceID: fmt.Sprintf("r%d", i), ChildResourceID: fmt.Sprintf("r%d", i+1)},
			authz.ResourceEdgeInput{ParentResourceID: fmt.Sprintf("r%d", i), ChildResourceID: fmt.Sprintf("r%d", i+2)})
	}
	s.unprefetched.Store(0)
	must(c.Apply(ctx, bt))(t)
	t.Logf("%d resource edges under a hierarchy: %d Gets not prefetched", len(bt.ResourceEdges), s.unprefetched.Load())
	if got := s.unprefetched.Load(); got > 8 {
		t.Errorf("Gets not prefetched: got %d for %d resource edges; want at most 8", got, len(bt.ResourceEdges))
	}
}

// TestCheckFindsDanglingResourceTypeEdge: Check accepts a store holding a
// resource type hierarchy, and names an edge whose type was deleted
// behind the Client's back, by either end.
func TestCheckFindsDanglingResourceTypeEdge(t *testing.T) {
	t.Parallel()
	for _, be := range backends {
		for _, end := range []struct{ typ, index string }{{"doc", "resource_type_edge.child"}, {"folder", "resource_type_edge.parent"}} {
			t.Run(be.name+"/"+end.typ, func(t *testing.T) {
				store := be.open(t)
				c := must(authz.New(store, testOptions()))(t)
				bt := typeTenancyBatch()
				bt.ResourceTypeEdges = []authz.ResourceTypeEdgeInput{{ID: "h", ParentTypeID: "folder", ChildTypeID: "doc"}}
				must(c.Apply(ctx, bt))(t)
				if err := c.Check(ctx); err != nil {
					t.Fatalf("before the damage: got %v; want nil", err)
				}
				if err := store.Update(ctx, func(tx storage.Tx) error { return tx.Delete("resource_types", end.typ) }); err != nil {
					t.Fatal(err)
				}
				want := fmt.Sprintf(`resource type edge "h": refers to %q (index %s), which does not exist`, end.typ, end.index)
				if err := c.Check(ctx); err == nil || !strings.Contains(err.Error(), want) {
					t.Errorf("got %v; want a problem saying %s", err, want)
				}
			})
		}
	}
}
