package authz_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/scopegate/authz"
)

// The cycle checks of a batch are compared here with a brute-force
// reference: the edges checked one by one in item order, each refused when
// it lies on a cycle of the stored edges plus every edge of the batch not
// refused so far, the reported cycle found by a breadth-first walk. The
// generators make random graphs mixing stored edges and batch edges,
// between stored objects and objects of the batch, with loops, duplicates,
// reversed edges that close cycles through stored and batch edges, and
// several cycles sharing edges.

// sentinelName names the sentinel an item error wraps.
func sentinelName(err error) string {
	for _, s := range []error{authz.ErrInvalid, authz.ErrNotFound, authz.ErrAlreadyExists, authz.ErrNotAllowed} {
		if errors.Is(err, s) {
			return s.Error()
		}
	}
	return "no sentinel"
}

// itemLine is how the tests compare item errors.
func itemLine(kind string, index int, field string, sentinel error, msg string) string {
	return fmt.Sprintf("%s item %d %s [%s] %s", kind, index, field, sentinel.Error(), msg)
}

// itemLines returns the item errors of err whose kind is one of kinds, as
// itemLine formats them, sorted; nil for a nil err. Any other error fails
// the test.
func itemLines(t *testing.T, err error, kinds ...string) []string {
	t.Helper()
	if err == nil {
		return nil
	}
	var be *authz.BatchError
	if !errors.As(err, &be) {
		t.Fatalf("got %v (%T); want a *BatchError", err, err)
	}
	var out []string
	for _, it := range be.Items {
		if slices.Contains(kinds, it.Kind) {
			out = append(out, fmt.Sprintf("%s item %d %s [%s] %s", it.Kind, it.Index, it.Field, sentinelName(it.Err), it.Err.Error()))
		}
	}
	slices.Sort(out)
	return out
}

func diffLines(t *testing.T, what string, want, got []string) {
	t.Helper()
	slices.Sort(want)
	if !slices.Equal(want, got) {
		t.Errorf("%s:\ngot  %q\nwant %q", what, got, want)
	}
}

// dagEdgeCase is an edge of a generated graph.
type dagEdgeCase struct{ id, parent, child string }

// randomEdgeIDs returns n distinct edge ids in random order, so that the
// order of the ids (which is the order in which the store lists an object's
// edges) differs from the order of the items.
func randomEdgeIDs(r *rand.Rand, prefix string, n int) []string {
	nums := r.Perm(10 * (n + 1))[:n]
	out := make([]string, n)
	for i, k := range nums {
		out[i] = fmt.Sprintf("%s_%04d", prefix, k)
	}
	return out
}

// randomDAG returns edges between nodes that respect a random order of
// them: a DAG, each possible edge present with probability p.
func randomDAG(r *rand.Rand, nodes []string, p float64, ids []string) []dagEdgeCase {
	order := slices.Clone(nodes)
	r.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
	var out []dagEdgeCase
	for i := range order {
		for j := i + 1; j < len(order); j++ {
			if r.Float64() < p && len(out) < len(ids) {
				out = append(out, dagEdgeCase{id: ids[len(out)], parent: order[i], child: order[j]})
			}
		}
	}
	return out
}

// randomBatchEdges returns n edges for a batch over nodes: loops,
// duplicates of stored or earlier edges, reversed stored or earlier edges
// (which close cycles), and random pairs.
func randomBatchEdges(r *rand.Rand, nodes []string, stored []dagEdgeCase, ids []string) []dagEdgeCase {
	var out []dagEdgeCase
	pick := func() dagEdgeCase {
		all := append(slices.Clone(stored), out...)
		if len(all) == 0 {
			return dagEdgeCase{parent: nodes[r.IntN(len(nodes))], child: nodes[r.IntN(len(nodes))]}
		}
		return all[r.IntN(len(all))]
	}
	for _, id := range ids {
		var e dagEdgeCase
		switch k := r.IntN(20); {
		case k < 2:
			n := nodes[r.IntN(len(nodes))]
			e = dagEdgeCase{parent: n, child: n}
		case k < 5:
			e = pick()
		case k < 10:
			x := pick()
			e = dagEdgeCase{parent: x.child, child: x.parent}
		default:
			e = dagEdgeCase{parent: nodes[r.IntN(len(nodes))], child: nodes[r.IntN(len(nodes))]}
		}
		e.id = id
		out = append(out, e)
	}
	return out
}

// refCycles is the reference: it returns, for the edges of batch not
// failed before the cycle check (in item order), which ones are refused,
// each with the path the breadth-first walk up from its parent finds (the
// child, …, the parent), parents visited in edge id order.
func refCycles(stored, batch []dagEdgeCase, failed []bool) map[int][]string {
	refused := map[int][]string{}
	for i, e := range batch {
		if failed[i] {
			continue
		}
		parents := func(x string) []dagEdgeCase {
			var out []dagEdgeCase
			for _, s := range stored {
				if s.child == x {
					out = append(out, s)
				}
			}
			for j, b := range batch {
				if _, gone := refused[j]; !gone && !failed[j] && b.child == x {
					out = append(out, b)
				}
			}
			slices.SortFunc(out, func(a, b dagEdgeCase) int { return strings.Compare(a.id, b.id) })
			return out
		}
		below := map[string]string{e.parent: ""}
		queue := []string{e.parent}
	walk:
		for len(queue) > 0 {
			x := queue[0]
			queue = queue[1:]
			for _, pe := range parents(x) {
				if _, seen := below[pe.parent]; seen {
					continue
				}
				below[pe.parent] = x
				if pe.parent == e.child {
					path := []string{e.child}
					for y := x; y != ""; y = below[y] {
						path = append(path, y)
					}
					refused[i] = path
					break walk
				}
				queue = append(queue, pe.parent)
			}
		}
	}
	return refused
}

// refClashes marks the edges of batch (not failed yet) whose (parent,
// child) pair is stored or taken by an earlier edge of the batch, in item
// order, and returns their messages by index.
func refClashes(stored, batch []dagEdgeCase, failed []bool, what, group string) map[int]string {
	taken := map[[2]string]string{}
	for _, s := range stored {
		taken[[2]string{s.parent, s.child}] = s.id
	}
	byItem := map[string]int{}
	out := map[int]string{}
	for i, e := range batch {
		if failed[i] {
			continue
		}
		pair := [2]string{e.parent, e.child}
		if other, ok := taken[pair]; ok {
			if j, inBatch := byItem[other]; inBatch {
				out[i] = fmt.Sprintf("%s %q → %q is created twice in this batch (also by %s item %d)", what, e.parent, e.child, group, j)
			} else {
				out[i] = fmt.Sprintf("%s %q → %q already exists (%s)", what, e.parent, e.child, other)
			}
			failed[i] = true
			continue
		}
		taken[pair] = e.id
		byItem[e.id] = i
	}
	return out
}

func quotePath(path []string) string {
	q := make([]string, 0, len(path)+1)
	for _, p := range append(slices.Clone(path), path[0]) {
		q = append(q, strconv.Quote(p))
	}
	return strings.Join(q, " → ")
}

// TestResourceEdgeCyclesMatchReference compares the verdict and messages of
// random batches of resource edges with the reference.
func TestResourceEdgeCyclesMatchReference(t *testing.T) {
	t.Parallel()
	rounds := envCount(t, "AUTHZ_CYCLE_ROUNDS", 60)
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		r := rand.New(rand.NewPCG(1, uint64(len(t.Name()))))
		must(c.Apply(ctx, authz.Batch{
			ScopeTypes:    []authz.ScopeTypeInput{{ID: "org", Name: "Org"}},
			Scopes:        []authz.ScopeInput{{ID: "root", TypeID: "org"}},
			ResourceTypes: []authz.ResourceTypeInput{{ID: "rt", ScopeID: "root", Key: "folder", Name: "Folder"}},
		}))(t)
		refused := 0
		for round := range rounds {
			var stored, fresh []string
			var in authz.Batch
			for i := range 2 + r.IntN(7) {
				stored = append(stored, fmt.Sprintf("r%d_%d", round, i))
				in.Resources = append(in.Resources, authz.ResourceInput{ID: stored[i], ResourceTypeID: "rt", ScopeID: "root", ExternalResourceID: stored[i]})
			}
			ids := randomEdgeIDs(r, fmt.Sprintf("e%d", round), 30)
			storedEdges := randomDAG(r, stored, r.Float64()*0.6, ids[:15])
			for _, e := range storedEdges {
				in.ResourceEdges = append(in.ResourceEdges, authz.ResourceEdgeInput{ID: e.id, ParentResourceID: e.parent, ChildResourceID: e.child})
			}
			must(c.Apply(ctx, in))(t)

			var bt authz.Batch
			for i := range r.IntN(4) {
				id := fmt.Sprintf("n%d_%d", round, i)
				fresh = append(fresh, id)
				bt.Resources = append(bt.Resources, authz.ResourceInput{ID: id, ResourceTypeID: "rt", ScopeID: "root", ExternalResourceID: id})
			}
			batch := randomBatchEdges(r, append(slices.Clone(stored), fresh...), storedEdges, ids[15:15+1+r.IntN(12)])
			for _, e := range batch {
				bt.ResourceEdges = append(bt.ResourceEdges, authz.ResourceEdgeInput{ID: e.id, ParentResourceID: e.parent, ChildResourceID: e.child})
			}

			var want []string
			failed := make([]bool, len(batch))
			for i, e := range batch {
				if e.parent == e.child {
					failed[i] = true
					want = append(want, itemLine("resourceEdges", i, "childResourceId", authz.ErrNotAllowed,
						fmt.Sprintf("resource %q cannot be its own child: the edge would make a cycle", e.child)))
				}
			}
			for i, msg := range refClashes(storedEdges, batch, failed, "resource edge", "resourceEdges") {
				want = append(want, itemLine("resourceEdges", i, "childResourceId", authz.ErrAlreadyExists, msg))
			}
			for i, path := range refCycles(storedEdges, batch, failed) {
				e := batch[i]
				want = append(want, itemLine("resourceEdges", i, "childResourceId", authz.ErrNotAllowed,
					fmt.Sprintf("resource %q is already above resource %q: the edge would make the cycle %s; the resource graph must stay acyclic", e.child, e.parent, quotePath(path))))
				refused++
			}
			_, err := c.Apply(ctx, bt)
			diffLines(t, fmt.Sprintf("round %d: stored %v, batch %v", round, storedEdges, batch), want, itemLines(t, err, "resourceEdges", "resources"))
		}
		if refused < rounds/4 {
			t.Errorf("only %d edges closed a cycle in %d rounds: the generator is too tame", refused, rounds)
		}
		if err := c.Check(ctx); err != nil {
			t.Fatal(err)
		}
	})
}

// TestScopeTypeEdgeCyclesMatchReference compares the verdict and messages of
// random batches of scope type edges with the reference.
func TestScopeTypeEdgeCyclesMatchReference(t *testing.T) {
	t.Parallel()
	rounds := envCount(t, "AUTHZ_CYCLE_ROUNDS", 60)
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		r := rand.New(rand.NewPCG(2, uint64(len(t.Name()))))
		refused := 0
		for round := range rounds {
			var stored, fresh []string
			var in authz.Batch
			for i := range 2 + r.IntN(7) {
				stored = append(stored, fmt.Sprintf("t%d_%d", round, i))
				in.ScopeTypes = append(in.ScopeTypes, authz.ScopeTypeInput{ID: stored[i], Name: "T"})
			}
			ids := randomEdgeIDs(r, fmt.Sprintf("e%d", round), 30)
			storedEdges := randomDAG(r, stored, r.Float64()*0.6, ids[:15])
			for _, e := range storedEdges {
				in.ScopeTypeEdges = append(in.ScopeTypeEdges, authz.ScopeTypeEdgeInput{ID: e.id, ParentTypeID: e.parent, ChildTypeID: e.child})
			}
			must(c.Apply(ctx, in))(t)

			var bt authz.Batch
			for i := range r.IntN(4) {
				id := fmt.Sprintf("n%d_%d", round, i)
				fresh = append(fresh, id)
				bt.ScopeTypes = append(bt.ScopeTypes, authz.ScopeTypeInput{ID: id, Name: "N"})
			}
			batch := randomBatchEdges(r, append(slices.Clone(stored), fresh...), storedEdges, ids[15:15+1+r.IntN(12)])
			for _, e := range batch {
				bt.ScopeTypeEdges = append(bt.ScopeTypeEdges, authz.ScopeTypeEdgeInput{ID: e.id, ParentTypeID: e.parent, ChildTypeID: e.child})
			}

			// A loop is stored before the checks refuse it: a second one
			// clashes with it.
			var want []string
			failed := make([]bool, len(batch))
			for i, msg := range refClashes(storedEdges, batch, failed, "scope type edge", "scopeTypeEdges") {
				want = append(want, itemLine("scopeTypeEdges", i, "childTypeId", authz.ErrAlreadyExists, msg))
			}
			for i, e := range batch {
				if !failed[i] && e.parent == e.child {
					failed[i] = true
					want = append(want, itemLine("scopeTypeEdges", i, "childTypeId", authz.ErrNotAllowed, fmt.Sprintf("scope type %q cannot be its own child", e.child)))
				}
			}
			for i := range refCycles(storedEdges, batch, failed) {
				e := batch[i]
				want = append(want, itemLine("scopeTypeEdges", i, "childTypeId", authz.ErrNotAllowed,
					fmt.Sprintf("scope type edge %q → %q would make a cycle: %q is already above %q", e.parent, e.child, e.child, e.parent)))
				refused++
			}
			_, err := c.Apply(ctx, bt)
			diffLines(t, fmt.Sprintf("round %d: stored %v, batch %v", round, storedEdges, batch), want, itemLines(t, err, "scopeTypeEdges", "scopeTypes"))
		}
		if refused < rounds/4 {
			t.Errorf("only %d edges closed a cycle in %d rounds: the generator is too tame", refused, rounds)
		}
		if err := c.Check(ctx); err != nil {
			t.Fatal(err)
		}
	})
}

// TestScopeEdgeCyclesMatchReference compares the verdict and messages of
// random batches of scope edges (edges of their own, and parents of scopes
// created by the batch) over a random stored forest with the reference.
//
// The type rule forbids every scope cycle as long as the type graph is
// acyclic, so each batch that places a scope under one of a later or equal
// type also adds the type edges it needs: they are refused as loops or
// cycles, but they are in the transaction when the scope edges are
// checked, which is what a batch of mistaken type edges looks like. The
// scope edges' errors are compared; the type edges' are not.
func TestScopeEdgeCyclesMatchReference(t *testing.T) {
	t.Parallel()
	const types = 6
	rounds := envCount(t, "AUTHZ_CYCLE_ROUNDS", 60)
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(3, uint64(len(be.name))))
			refused := 0
			for round := range rounds {
				// A new client per round: the generated ids of the parent
				// edges of new scopes are then predictable.
				c := must(authz.New(be.open(t), testOptions()))(t)
				var setup authz.Batch
				for i := range types {
					setup.ScopeTypes = append(setup.ScopeTypes, authz.ScopeTypeInput{ID: fmt.Sprintf("T%d", i), Name: "T"})
					for j := i + 1; j < types; j++ {
						setup.ScopeTypeEdges = append(setup.ScopeTypeEdges, authz.ScopeTypeEdgeInput{ID: fmt.Sprintf("te_%d_%d", i, j), ParentTypeID: fmt.Sprintf("T%d", i), ChildTypeID: fmt.Sprintf("T%d", j)})
					}
				}
				// The stored forest: a scope's parent has a smaller type.
				typeOf := map[string]int{}
				parent := map[string]string{}
				edgeOf := map[string]string{} // child → its edge id
				var stored []string
				for i := range 3 + r.IntN(8) {
					id := fmt.Sprintf("s%d", i)
					typeOf[id] = r.IntN(types)
					stored = append(stored, id)
					setup.Scopes = append(setup.Scopes, authz.ScopeInput{ID: id, TypeID: fmt.Sprintf("T%d", typeOf[id])})
				}
				for i, id := range stored {
					var above []string
					for _, p := range stored {
						if typeOf[p] < typeOf[id] {
							above = append(above, p)
						}
					}
					if len(above) > 0 && r.IntN(3) > 0 {
						p := above[r.IntN(len(above))]
						parent[id], edgeOf[id] = p, fmt.Sprintf("se_%d", i)
						setup.ScopeEdges = append(setup.ScopeEdges, authz.ScopeEdgeInput{ID: edgeOf[id], ParentScopeID: p, ChildScopeID: id})
					}
				}
				must(c.Apply(ctx, setup))(t)

				// The batch: new scopes, some with a parent, and edges.
				type sedge struct {
					kind        string
					index       int
					id          string
					parent, kid string
				}
				var bt authz.Batch
				var edges []sedge // in item order
				var fresh []string
				isNew := map[string]bool{}
				for i := range r.IntN(4) {
					id := fmt.Sprintf("n%d", i)
					fresh = append(fresh, id)
					isNew[id] = true
					typeOf[id] = r.IntN(types)
				}
				all := append(slices.Clone(stored), fresh...)
				generated := 0
				for i, id := range fresh {
					in := authz.ScopeInput{ID: id, TypeID: fmt.Sprintf("T%d", typeOf[id])}
					if r.IntN(3) > 0 {
						in.ParentScopeID = all[r.IntN(len(all))]
						generated++
						edges = append(edges, sedge{kind: "scopes", index: i, id: fmt.Sprintf("scope_edge_%04d", generated), parent: in.ParentScopeID, kid: id})
					}
					bt.Scopes = append(bt.Scopes, in)
				}
				roots := func() []string {
					var out []string
					for _, s := range all {
						if _, ok := parent[s]; !ok {
							out = append(out, s)
						}
					}
					return out
				}()
				for i := range 1 + r.IntN(8) {
					var p, k string
					switch x := r.IntN(10); {
					case x < 1: // a loop
						p = all[r.IntN(len(all))]
						k = p
					case x < 3: // a child that has a parent
						k = all[r.IntN(len(all))]
						p = all[r.IntN(len(all))]
					case x < 6 && len(roots) > 0: // a root under a scope of its own tree or another
						k = roots[r.IntN(len(roots))]
						p = all[r.IntN(len(all))]
					default:
						k = all[r.IntN(len(all))]
						p = all[r.IntN(len(all))]
					}
					id := fmt.Sprintf("be_%d", i)
					edges = append(edges, sedge{kind: "scopeEdges", index: i, id: id, parent: p, kid: k})
					bt.ScopeEdges = append(bt.ScopeEdges, authz.ScopeEdgeInput{ID: id, ParentScopeID: p, ChildScopeID: k})
				}
				needed := map[[2]int]bool{}
				for _, e := range edges {
					if tp, tc := typeOf[e.parent], typeOf[e.kid]; tp >= tc {
						needed[[2]int{tp, tc}] = true
					}
				}
				for pair := range needed {
					bt.ScopeTypeEdges = append(bt.ScopeTypeEdges, authz.ScopeTypeEdgeInput{ID: fmt.Sprintf("bte_%d_%d", pair[0], pair[1]), ParentTypeID: fmt.Sprintf("T%d", pair[0]), ChildTypeID: fmt.Sprintf("T%d", pair[1])})
				}
				slices.SortFunc(bt.ScopeTypeEdges, func(a, b authz.ScopeTypeEdgeInput) int { return strings.Compare(a.ID, b.ID) })

				// The reference: clashes in item order, then each edge
				// refused when its child is its parent or above it.
				var want []string
				cur := map[string]string{} // child → parent, as the checks go
				owner := map[string]int{}  // child → the edge that gave it its parent
				for k, p := range parent {
					cur[k] = p
				}
				live := make([]bool, len(edges))
				for j, e := range edges {
					if _, has := cur[e.kid]; has {
						other := edgeOf[e.kid]
						if o, ok := owner[e.kid]; ok {
							other = edges[o].id
						}
						want = append(want, itemLine(e.kind, e.index, "childScopeId", authz.ErrNotAllowed,
							fmt.Sprintf("scope %q already has a parent (scope edge %q): a scope has at most one parent", e.kid, other)))
						continue
					}
					cur[e.kid], owner[e.kid], live[j] = e.parent, j, true
				}
				for j, e := range edges {
					if !live[j] {
						continue
					}
					allNew, found := true, false
					seen := map[string]bool{}
					for s := e.parent; s != "" && !seen[s]; s = cur[s] {
						seen[s] = true
						allNew = allNew && isNew[s]
						if s == e.kid {
							found = true
							break
						}
					}
					if !found {
						continue
					}
					refused++
					delete(cur, e.kid)
					if allNew {
						want = append(want, itemLine(e.kind, e.index, "parentScopeId", authz.ErrInvalid,
							fmt.Sprintf("reference cycle: scope %q would be its own ancestor through parentScopeId references in this batch", e.kid)))
					} else {
						want = append(want, itemLine(e.kind, e.index, "parentScopeId", authz.ErrNotAllowed,
							fmt.Sprintf("scope %q is above scope %q: the edge would make a cycle", e.kid, e.parent)))
					}
				}
				_, err := c.Apply(ctx, bt)
				diffLines(t, fmt.Sprintf("round %d: stored parents %v, edges %v", round, parent, edges), want, itemLines(t, err, "scopes", "scopeEdges"))
				if err == nil {
					if err := c.Check(ctx); err != nil {
						t.Fatalf("round %d: %v", round, err)
					}
				}
			}
			if refused < rounds/4 {
				t.Errorf("only %d edges closed a cycle in %d rounds: the generator is too tame", refused, rounds)
			}
		})
	}
}

// TestCycleErrorsBounded: a batch closing 150 cycles reports the first 100
// of them (the bound that keeps the reports from costing the square of the
// batch) and stores nothing.
func TestCycleErrorsBounded(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, c *authz.Client) {
		const pairs = 150
		in := authz.Batch{
			ScopeTypes:    []authz.ScopeTypeInput{{ID: "org", Name: "Org"}},
			Scopes:        []authz.ScopeInput{{ID: "root", TypeID: "org"}},
			ResourceTypes: []authz.ResourceTypeInput{{ID: "rt", ScopeID: "root", Key: "folder", Name: "Folder"}},
		}
		var bt authz.Batch
		for i := range pairs {
			a, b := fmt.Sprintf("a%d", i), fmt.Sprintf("b%d", i)
			in.Resources = append(in.Resources, authz.ResourceInput{ID: a, ResourceTypeID: "rt", ScopeID: "root", ExternalResourceID: a},
				authz.ResourceInput{ID: b, ResourceTypeID: "rt", ScopeID: "root", ExternalResourceID: b})
			bt.ResourceEdges = append(bt.ResourceEdges, authz.ResourceEdgeInput{ParentResourceID: a, ChildResourceID: b}, authz.ResourceEdgeInput{ParentResourceID: b, ChildResourceID: a})
		}
		must(c.Apply(ctx, in))(t)
		_, err := c.CreateResourceEdges(ctx, bt.ResourceEdges)
		var be *authz.BatchError
		if !errors.As(err, &be) {
			t.Fatalf("got %v; want a *BatchError", err)
		}
		var got []int
		for _, it := range be.Items {
			if !errors.Is(it, authz.ErrNotAllowed) {
				t.Errorf("item %d: got %v; want a cycle error", it.Index, it.Err)
			}
			got = append(got, it.Index)
		}
		var want []int
		for i := range 100 {
			want = append(want, 2*i)
		}
		if !slices.Equal(got, want) {
			t.Errorf("got items %v; want %v", got, want)
		}
		if es := must(c.ListResourceEdges(ctx, authz.ResourceEdgeFilter{ParentResourceID: "a0"}))(t); len(es) != 0 {
			t.Errorf("got edges %v; want none stored", es)
		}
	})
}
