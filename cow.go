package authz

import (
	"hash/maphash"
	"maps"
)

// Persistent (copy-on-write) containers for the graph. A graph is immutable
// once published, so Evaluate reads it without locks; the next revision's
// graph shares everything but the parts a write touched. Writes made under
// one generation (one graph update) copy each touched part once, so a small
// write costs a few kilobytes of copying whatever the size of the graph.

// cowArray is a persistent array of pointers, in pages.
type cowArray[T any] struct {
	pages []*cowPage[T]
}

const pageSize = 128

type cowPage[T any] struct {
	gen   uint64
	items [pageSize]*T
}

func (a *cowArray[T]) at(i int) *T {
	p := i / pageSize
	if i < 0 || p >= len(a.pages) {
		return nil
	}
	return a.pages[p].items[i%pageSize]
}

// forWrite returns a copy of a that shares its pages, for writes.
func (a cowArray[T]) forWrite() cowArray[T] {
	a.pages = append([]*cowPage[T](nil), a.pages...)
	return a
}

// set stores v at i, growing the array as needed and copying the page of i
// first unless it was made in gen. a must come from forWrite or be new.
func (a *cowArray[T]) set(gen uint64, i int, v *T) {
	p := i / pageSize
	for p >= len(a.pages) {
		a.pages = append(a.pages, &cowPage[T]{gen: gen})
	}
	pg := a.pages[p]
	if pg.gen != gen {
		cp := *pg
		cp.gen = gen
		pg = &cp
		a.pages[p] = pg
	}
	pg.items[i%pageSize] = v
}

// cowMap is a persistent map from string to V, split in shards by hash. An
// update copies each shard it touches, and the page of shard pointers above
// it.
type cowMap[V any] struct {
	shards  cowArray[cowShard[V]]
	nShards int // a power of two
	seed    maphash.Seed
	n       int
}

type cowShard[V any] struct {
	gen uint64
	m   map[string]V
}

// cowShardSize is the shard size the map aims at: small enough that copying
// a shard costs a few microseconds.
const cowShardSize = 256

func newCowMap[V any](gen uint64, size int) cowMap[V] {
	n := 16
	for n*cowShardSize < size {
		n *= 2
	}
	m := cowMap[V]{nShards: n, seed: maphash.MakeSeed()}
	for i := range n {
		m.shards.set(gen, i, &cowShard[V]{gen: gen, m: map[string]V{}})
	}
	return m
}

func (m *cowMap[V]) shard(k string) int {
	return int(maphash.String(m.seed, k) & uint64(m.nShards-1))
}

func (m *cowMap[V]) get(k string) (V, bool) {
	v, ok := m.shards.at(m.shard(k)).m[k]
	return v, ok
}

// forWrite returns a copy of m that shares its shards, for writes under a
// new generation.
func (m cowMap[V]) forWrite() cowMap[V] {
	m.shards = m.shards.forWrite()
	return m
}

// writable returns the shard of k, copied first unless it was made in gen.
func (m *cowMap[V]) writable(gen uint64, k string) *cowShard[V] {
	i := m.shard(k)
	s := m.shards.at(i)
	if s.gen != gen {
		s = &cowShard[V]{gen: gen, m: maps.Clone(s.m)}
		if s.m == nil {
			s.m = map[string]V{}
		}
		m.shards.set(gen, i, s)
	}
	return s
}

// set sets k to v. m must come from forWrite (or newCowMap) under gen.
func (m *cowMap[V]) set(gen uint64, k string, v V) {
	s := m.writable(gen, k)
	if _, ok := s.m[k]; !ok {
		m.n++
	}
	s.m[k] = v
	if m.n > 4*cowShardSize*m.nShards {
		m.grow(gen)
	}
}

// del removes k. m must come from forWrite (or newCowMap) under gen.
func (m *cowMap[V]) del(gen uint64, k string) {
	if _, ok := m.get(k); !ok {
		return
	}
	delete(m.writable(gen, k).m, k)
	m.n--
}

// grow rehashes m into shards of the target size, when it has grown well
// past it since it was made.
func (m *cowMap[V]) grow(gen uint64) {
	bigger := newCowMap[V](gen, m.n)
	for i := range m.nShards {
		for k, v := range m.shards.at(i).m {
			bigger.shards.at(bigger.shard(k)).m[k] = v
		}
	}
	bigger.n = m.n
	*m = bigger
}

// nodeVec is a persistent vector of graph nodes indexed by handle, in
// chunks.
type nodeVec struct {
	chunks cowArray[nodeChunk]
}

const (
	chunkBits = 8
	chunkSize = 1 << chunkBits
)

type nodeChunk struct {
	gen   uint64
	nodes [chunkSize]any
}

func (v *nodeVec) at(h handle) any {
	c := v.chunks.at(int(h >> chunkBits))
	if c == nil || h < 0 {
		return nil
	}
	return c.nodes[h&(chunkSize-1)]
}

// forWrite returns a copy of v that shares its chunks, for writes.
func (v nodeVec) forWrite() nodeVec {
	v.chunks = v.chunks.forWrite()
	return v
}

// set stores n at h, copying the chunk of h first unless it was made in gen.
// v must come from forWrite or be new.
func (v *nodeVec) set(gen uint64, h handle, n any) {
	i := int(h >> chunkBits)
	c := v.chunks.at(i)
	switch {
	case c == nil:
		c = &nodeChunk{gen: gen}
		v.chunks.set(gen, i, c)
	case c.gen != gen:
		cp := *c
		cp.gen = gen
		c = &cp
		v.chunks.set(gen, i, c)
	}
	c.nodes[h&(chunkSize-1)] = n
}
