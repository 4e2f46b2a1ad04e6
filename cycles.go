package authz

import "strings"

// Cycle checks of a batch. Scope type edges and resource edges form DAGs;
// resource type edges too, but for the loops they may hold (a type that is
// its own parent); scope edges a forest. A batch may add thousands of edges at once (an
// import), so each kind is checked by one pass over all the batch's edges
// instead of one walk per edge, which cost O(n²) reads for a chain of n
// edges.
//
// The verdict is the one the edges would get if they were checked one by
// one in item order, each against the stored edges and every edge of the
// batch not yet refused: an edge is refused when it lies on a cycle of
// that graph. So of the edges of a batch that together close a cycle, the
// first one in item order is reported, and the others are not (the cycle
// is broken once one of its edges is refused).

// maxCycleErrors bounds the edges of one kind that a batch reports as
// closing a cycle. Each report costs a walk of the strongly connected part
// of the graph it lies in, so the bound keeps a batch made of many
// intertwined cycles from costing the square of its size; the batch is
// refused all the same, and the next attempt reports the next ones.
const maxCycleErrors = 100

// dagEdge is an edge parent → child created by a batch item, in a graph that
// must stay acyclic.
type dagEdge struct {
	it            *item
	parent, child string
}

// dagUp is an edge of the graph as seen from its child: the parent, and the
// edge's id.
type dagUp struct {
	parent, edgeID string
}

// dagGraph is the part of a graph that the cycle search explores: the
// nodes reachable upwards (from child to parent) from the children of the
// batch's edges, and their edges. It is read once, lazily.
type dagGraph struct {
	up    func(node string) []dagUp // parents of a node through every live edge (stored and batch)
	batch map[string]int            // edge id → index of a batch edge in the edges checked
	ids   map[string]int
	names []string
	arcs  [][]dagArc // upward arcs of each node; nil until read
	read  []bool

	// Tarjan's strongly connected components.
	comp    []int // component of each node
	ncomp   int
	index   []int
	low     []int
	onStack []bool
	stack   []int
	counter int
}

// dagArc is an edge from a node to its parent; edge is the index of the
// batch edge, or -1 for a stored edge.
type dagArc struct {
	to, edge int
}

func (g *dagGraph) node(name string) int {
	if n, ok := g.ids[name]; ok {
		return n
	}
	n := len(g.names)
	g.ids[name] = n
	g.names = append(g.names, name)
	g.arcs = append(g.arcs, nil)
	g.read = append(g.read, false)
	g.comp = append(g.comp, -1)
	g.index = append(g.index, -1)
	g.low = append(g.low, 0)
	g.onStack = append(g.onStack, false)
	return n
}

// arcsOf returns the upward arcs of node n, reading them on first use.
func (g *dagGraph) arcsOf(n int) []dagArc {
	if !g.read[n] {
		g.read[n] = true
		var arcs []dagArc
		for _, u := range g.up(g.names[n]) {
			e, ok := g.batch[u.edgeID]
			if !ok {
				e = -1
			}
			arcs = append(arcs, dagArc{to: g.node(u.parent), edge: e})
		}
		g.arcs[n] = arcs
	}
	return g.arcs[n]
}

// components runs Tarjan's algorithm (iteratively) from each root not yet
// visited, following the arcs keep accepts, and numbers the strongly
// connected components found.
func (g *dagGraph) components(roots []int, keep func(a dagArc) bool) {
	type frame struct{ n, next int }
	for _, r := range roots {
		if g.index[r] >= 0 {
			continue
		}
		frames := []frame{{r, 0}}
		g.visit(r)
		for len(frames) > 0 {
			f := &frames[len(frames)-1]
			arcs := g.arcsOf(f.n)
			if f.next < len(arcs) {
				a := arcs[f.next]
				f.next++
				if !keep(a) {
					continue
				}
				switch {
				case g.index[a.to] < 0:
					g.visit(a.to)
					frames = append(frames, frame{a.to, 0})
				case g.onStack[a.to]:
					g.low[f.n] = min(g.low[f.n], g.index[a.to])
				}
				continue
			}
			n := f.n
			frames = frames[:len(frames)-1]
			if len(frames) > 0 {
				p := frames[len(frames)-1].n
				g.low[p] = min(g.low[p], g.low[n])
			}
			if g.low[n] == g.index[n] {
				for {
					m := g.stack[len(g.stack)-1]
					g.stack = g.stack[:len(g.stack)-1]
					g.onStack[m] = false
					g.comp[m] = g.ncomp
					if m == n {
						break
					}
				}
				g.ncomp++
			}
		}
	}
}

func (g *dagGraph) visit(n int) {
	g.index[n] = g.counter
	g.low[n] = g.counter
	g.counter++
	g.stack = append(g.stack, n)
	g.onStack[n] = true
}

// pathUp returns the shortest path from node to, going up from node from
// within component c without the removed batch edges, as node names from to
// down to from (to, …, from), breadth first with the parents in the order
// up lists them; nil when there is none.
func (g *dagGraph) pathUp(from, to, c int, removed []bool) []string {
	below := map[int]int{from: -1}
	queue := []int{from}
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		for _, a := range g.arcsOf(n) {
			if g.comp[a.to] != c || (a.edge >= 0 && removed[a.edge]) {
				continue
			}
			if _, seen := below[a.to]; seen {
				continue
			}
			below[a.to] = n
			if a.to == to {
				var path []string
				for x := to; x >= 0; x = below[x] {
					path = append(path, g.names[x])
				}
				return path
			}
			queue = append(queue, a.to)
		}
	}
	return nil
}

// findCycles decides which of edges (the batch's live edges of one kind, in
// item order) close a cycle, as described at the top of this file, and
// calls refuse for each, in item order, with the cycle as the path from the
// edge's child down to its parent (child, …, parent). up lists the parents
// of a node through the live edges as the batch sees them, stored ones and
// the batch's own; hasChild reports whether a node is the parent of such an
// edge.
//
// The search goes up from the children of the edges, except from a child
// that is the parent of no edge at all: its edge lies on no cycle, and a
// node added under a deep hierarchy (the usual write) then reads nothing
// of it. The cost is linear in the part of the graph above the other
// children, plus, per refused edge, the size of the strongly connected part
// it lies in.
func findCycles(edges []dagEdge, up func(string) []dagUp, hasChild func(string) bool, refuse func(e dagEdge, path []string)) {
	if len(edges) == 0 {
		return
	}
	g := &dagGraph{up: up, batch: make(map[string]int, len(edges)), ids: map[string]int{}}
	isParent := make(map[string]bool, len(edges))
	for i, e := range edges {
		g.batch[e.it.rec.recordID()] = i
		isParent[e.parent] = true
	}
	var roots []int
	for _, e := range edges {
		if isParent[e.child] || hasChild(e.child) {
			roots = append(roots, g.node(e.child))
		}
	}
	g.components(roots, func(dagArc) bool { return true })
	var candidates []int
	for i, e := range edges {
		p, okp := g.ids[e.parent]
		c, okc := g.ids[e.child]
		if okp && okc && g.index[c] >= 0 && g.comp[p] == g.comp[c] {
			candidates = append(candidates, i)
		}
	}
	if len(candidates) == 0 {
		return
	}
	removed := make([]bool, len(edges))
	refused := 0
	for _, i := range candidates {
		p, c := g.ids[edges[i].parent], g.ids[edges[i].child]
		comp := g.comp[p]
		if comp != g.comp[c] {
			continue // a cycle broken by an earlier refusal
		}
		path := g.pathUp(p, c, comp, removed)
		refuse(edges[i], path)
		removed[i] = true
		if refused++; refused == maxCycleErrors {
			return
		}
		// Split the component without the refused edge.
		var members []int
		for n, k := range g.comp {
			if k == comp {
				members = append(members, n)
				g.index[n] = -1
			}
		}
		// Nodes of the component not yet placed in a new one keep its
		// number; arcs leaving the component are not followed.
		inside := func(a dagArc) bool {
			return !(a.edge >= 0 && removed[a.edge]) && g.comp[a.to] == comp
		}
		g.components(members, inside)
	}
}

// checkScopeTypeEdges refuses the scope type edges of a batch that are
// loops or close a cycle of the type graph.
func checkScopeTypeEdges(v *view, edges []dagEdge) {
	var live []dagEdge
	for _, e := range edges {
		if e.it.failed {
			continue
		}
		if e.parent == e.child {
			v.fail(e.it, "childTypeId", notAllowedf("scope type %q cannot be its own child", e.child))
			continue
		}
		live = append(live, e)
	}
	up := func(t string) []dagUp {
		var out []dagUp
		for _, eid := range v.indexed(ixScopeTypeEdgeChild, t) {
			if e := get[ScopeTypeEdge](v, scopeTypeEdgeKind, eid); e != nil {
				out = append(out, dagUp{parent: e.ParentTypeID, edgeID: eid})
			}
		}
		return out
	}
	hasChild := func(t string) bool {
		return v.anyIndexed(ixScopeTypeEdgePar, t, func(eid string) bool { return get[ScopeTypeEdge](v, scopeTypeEdgeKind, eid) != nil })
	}
	findCycles(live, up, hasChild, func(e dagEdge, _ []string) {
		v.fail(e.it, "childTypeId", notAllowedf("scope type edge %q → %q would make a cycle: %q is already above %q", e.parent, e.child, e.child, e.parent))
	})
}

// checkResourceTypeEdges refuses the resource type edges of a batch that
// close a cycle of the resource type hierarchy through two or more types.
// A loop (a type that is its own parent: folders in folders) is allowed,
// and ignored by the search.
func checkResourceTypeEdges(v *view, edges []dagEdge) {
	var live []dagEdge
	for _, e := range edges {
		if !e.it.failed && e.parent != e.child {
			live = append(live, e)
		}
	}
	up := func(t string) []dagUp {
		var out []dagUp
		for _, eid := range v.indexed(ixResourceTypeEdgeChild, t) {
			if e := get[ResourceTypeEdge](v, resourceTypeEdgeKind, eid); e != nil && e.ParentTypeID != t {
				out = append(out, dagUp{parent: e.ParentTypeID, edgeID: eid})
			}
		}
		return out
	}
	hasChild := func(t string) bool {
		return v.anyIndexed(ixResourceTypeEdgePar, t, func(eid string) bool {
			e := get[ResourceTypeEdge](v, resourceTypeEdgeKind, eid)
			return e != nil && e.ChildTypeID != t
		})
	}
	findCycles(live, up, hasChild, func(e dagEdge, path []string) {
		quoted := quoteAll(append(path, e.child))
		v.fail(e.it, "childTypeId", notAllowedf("resource type %q is already above resource type %q: the edge would make the cycle %s; only a type may be its own parent",
			e.child, e.parent, strings.Join(quoted, " → ")))
	})
}

// checkResourceEdges refuses the resource edges of a batch that the
// resource type hierarchy does not allow (checkResourceEdgeTypes; not on
// Import) or that
// close a cycle of the resource graph, naming the cycle. Loops are refused
// when the items are built.
func checkResourceEdges(v *view, edges []dagEdge) {
	if !v.b.restoring {
		edges = checkResourceEdgeTypes(v, edges)
	}
	var live []dagEdge
	for _, e := range edges {
		if e.it.failed || get[Resource](v, resourceKind, e.parent) == nil || get[Resource](v, resourceKind, e.child) == nil {
			continue // reported elsewhere
		}
		live = append(live, e)
	}
	up := func(r string) []dagUp {
		var out []dagUp
		for _, eid := range v.indexed(ixResourceEdgeChild, r) {
			if e := get[ResourceEdge](v, resourceEdgeKind, eid); e != nil {
				out = append(out, dagUp{parent: e.ParentResourceID, edgeID: eid})
			}
		}
		return out
	}
	hasChild := func(r string) bool {
		return v.anyIndexed(ixResourceEdgeParent, r, func(eid string) bool { return get[ResourceEdge](v, resourceEdgeKind, eid) != nil })
	}
	findCycles(live, up, hasChild, func(e dagEdge, path []string) {
		quoted := quoteAll(append(path, e.child))
		v.fail(e.it, "childResourceId", notAllowedf("resource %q is already above resource %q: the edge would make the cycle %s; the resource graph must stay acyclic",
			e.child, e.parent, strings.Join(quoted, " → ")))
	})
}

// scopeEdgeItem is a scope edge created by a batch item (a scope edge, or
// the parent edge of a scope); field is the input field its errors name.
type scopeEdgeItem struct {
	it    *item
	e     *ScopeEdge
	field string
}

// checkScopeEdges enforces the type rule and acyclicity on the scope edges
// of a batch, in item order. It runs before the levels of the batch's
// scopes are computed, and reads only the stored levels.
//
// Only a root can gain a parent (a second parent is refused as a unique
// clash before the checks), so a cycle runs through whole stored trees:
// from the child of a batch edge up its parent's stored tree to that tree's
// root, which must be the child of another batch edge, and so on. Each
// batch edge is thus an arc from its child to the root of its parent's
// tree (a scope created by the batch is a tree of its own), at most one arc
// leaves each node, and the cycles are found in one pass over the arcs,
// with one read per edge (the root of its parent). A cycle made only of
// scopes created by the batch is a reference cycle (ErrInvalid); one
// through a stored scope is ErrNotAllowed.
func checkScopeEdges(v *view, edges []scopeEdgeItem) {
	var live []scopeEdgeItem
	for _, se := range edges {
		if se.it.failed {
			continue
		}
		parent := get[Scope](v, scopeKind, se.e.ParentScopeID)
		child := get[Scope](v, scopeKind, se.e.ChildScopeID)
		if parent == nil || child == nil {
			continue // reported elsewhere
		}
		// Import restores the edges a store kept after the type edge that
		// allowed them was deleted (restoring).
		if !v.b.restoring && v.unique(uniqueScopeTypeEdge, parent.TypeID, child.TypeID) == "" {
			v.fail(se.it, se.field, notAllowedf("a scope of type %q cannot be placed under a scope of type %q: create the scope type edge {parentTypeId: %q, childTypeId: %q} first",
				child.TypeID, parent.TypeID, parent.TypeID, child.TypeID))
			continue
		}
		live = append(live, se)
	}
	isNew := func(id string) bool {
		it, ok := v.b.byID[id]
		return ok && it.rec.kind() == scopeKind
	}
	treeOf := func(id string) string {
		if isNew(id) {
			return id
		}
		if l := v.level(id); l != nil {
			return l.Root
		}
		return id // v.err says why
	}
	arc := make(map[string]int, len(live)) // child → its edge
	for i, se := range live {
		if _, dup := arc[se.e.ChildScopeID]; !dup {
			arc[se.e.ChildScopeID] = i
		}
	}
	const onWalk, walked = 1, 2
	state := map[string]int8{}
	pos := map[string]int{}
	for i := range live {
		var walk []string
		for x := live[i].e.ChildScopeID; state[x] != walked; {
			if state[x] == onWalk {
				cycle := walk[pos[x]:]
				first, allNew := len(live), true
				for _, n := range cycle {
					first = min(first, arc[n])
					allNew = allNew && isNew(n)
				}
				se := live[first]
				if allNew {
					v.fail(se.it, se.field, invalidf("reference cycle: scope %q would be its own ancestor through parentScopeId references in this batch", se.e.ChildScopeID))
				} else {
					v.fail(se.it, se.field, notAllowedf("scope %q is above scope %q: the edge would make a cycle", se.e.ChildScopeID, se.e.ParentScopeID))
				}
				break
			}
			state[x], pos[x] = onWalk, len(walk)
			walk = append(walk, x)
			j, ok := arc[x]
			if !ok {
				break
			}
			x = treeOf(live[j].e.ParentScopeID)
		}
		for _, n := range walk {
			state[n] = walked
		}
	}
}
