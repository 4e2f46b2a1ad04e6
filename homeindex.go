package authz

import (
	"slices"
	"strings"
)

// The resources living in each scope, for ListAllowedResources: per scope
// (graph.homes, a cow.Vec indexed by scope handle) and per resource type, a
// list sorted by resource id of the resources owned by the scope or linked
// to it (whatever the link type). Sorted lists let a lookup merge the lists
// of the scopes it can see and stop after a page, instead of sorting every
// candidate.
//
// A graph build or update collects the changes of its resources (homeDelta)
// and applies them once at the end: each changed list is copied once,
// filtered and merged with its sorted additions, so a batch of many
// resources in one scope costs one pass over its list.

// homeSet is the resources of one scope, by type.
type homeSet struct {
	byType []typeHomes
}

// typeHomes is the resources of one type in one scope, sorted by id. Each
// comes with its id, which keeps the list sortable without loading nodes.
type typeHomes struct {
	typ handle
	res []candidate
}

// homeKey names one list: a scope and a resource type.
type homeKey struct{ scope, typ handle }

// homeDelta is what an update adds to and removes from one list.
type homeDelta struct {
	add []candidate
	del map[handle]bool
}

// rehome records that resource h (old before, n now; either may be nil or
// not a resource) moved between the lists of its homes.
func (b *graphBuilder) rehome(h handle, old, n any) {
	was, is := homeKeys(old), homeKeys(n)
	for _, k := range was {
		if !slices.Contains(is, k) {
			d := b.homeDelta(k)
			if d.del == nil {
				d.del = map[handle]bool{}
			}
			d.del[h] = true
		}
	}
	for _, k := range is {
		if !slices.Contains(was, k) {
			d := b.homeDelta(k)
			d.add = append(d.add, candidate{id: n.(*gResource).r.ID, h: h})
		}
	}
}

// homeKeys returns the lists a resource belongs in: one per home.
func homeKeys(n any) []homeKey {
	r, ok := n.(*gResource)
	if !ok {
		return nil
	}
	var out []homeKey
	for _, s := range resourceHomes(r) {
		if s != noHandle {
			out = append(out, homeKey{s, r.typ})
		}
	}
	return out
}

func (b *graphBuilder) homeDelta(k homeKey) *homeDelta {
	if b.homeDeltas == nil {
		b.homeDeltas = map[homeKey]*homeDelta{}
	}
	d := b.homeDeltas[k]
	if d == nil {
		d = &homeDelta{}
		b.homeDeltas[k] = d
	}
	return d
}

// applyHomes applies the recorded changes: each scope with a change gets a
// new homeSet sharing its unchanged lists.
func (b *graphBuilder) applyHomes() {
	scopes := map[handle]*homeSet{}
	for k, d := range b.homeDeltas {
		ns := scopes[k.scope]
		if ns == nil {
			ns = &homeSet{}
			if cur, _ := b.g.homes.At(k.scope).(*homeSet); cur != nil {
				ns.byType = slices.Clone(cur.byType)
			}
			scopes[k.scope] = ns
		}
		i := slices.IndexFunc(ns.byType, func(t typeHomes) bool { return t.typ == k.typ })
		if i < 0 {
			ns.byType = append(ns.byType, typeHomes{typ: k.typ})
			i = len(ns.byType) - 1
		}
		ns.byType[i].res = d.apply(ns.byType[i].res)
	}
	for s, ns := range scopes {
		ns.byType = slices.DeleteFunc(ns.byType, func(t typeHomes) bool { return len(t.res) == 0 })
		var v any = ns
		if len(ns.byType) == 0 {
			v = nil
		}
		b.g.homes.Set(b.gen, s, v)
	}
	b.homeDeltas = nil
}

// apply returns list (sorted, shared with older graphs) less d.del plus
// d.add, sorted, in a new slice.
func (d *homeDelta) apply(list []candidate) []candidate {
	slices.SortFunc(d.add, compareCandidates)
	out := make([]candidate, 0, len(list)+len(d.add))
	i := 0
	for _, x := range list {
		if d.del[x.h] {
			continue
		}
		for i < len(d.add) && d.add[i].id < x.id {
			out = append(out, d.add[i])
			i++
		}
		out = append(out, x)
	}
	return append(out, d.add[i:]...)
}

func compareCandidates(a, b candidate) int { return strings.Compare(a.id, b.id) }

// homesOf returns the lists of scope s for the given types. They belong to
// the graph: do not modify them.
func (g *graph) homesOf(s handle, types []handle, out [][]candidate) [][]candidate {
	hs, _ := g.homes.At(s).(*homeSet)
	if hs == nil {
		return out
	}
	for _, t := range hs.byType {
		if slices.Contains(types, t.typ) {
			out = append(out, t.res)
		}
	}
	return out
}
