package authz

import (
	"hash/maphash"
	"maps"
)

// Persistent (copy-on-write) containers for the graph. A graph is immutable
// once published, so Evaluate reads it without locks; the next revision's
// graph shares everything but the parts a write touched. Writes made under
// one generation (one graph update) copy each touched part once.

// cowMap is a persistent map from string to V, split in shards by hash. An
// update copies the shard slice and each shard it touches.
type cowMap[V any] struct {
	shards []*cowShard[V]
	seed   maphash.Seed
	n      int
}

type cowShard[V any] struct {
	gen uint64
	m   map[string]V
}

// cowShardSize is the shard size the map aims at: small enough that copying
// a shard costs microseconds.
const cowShardSize = 256

func newCowMap[V any](gen uint64, size int) cowMap[V] {
	n := 16
	for n*cowShardSize < size {
		n *= 2
	}
	m := cowMap[V]{shards: make([]*cowShard[V], n), seed: maphash.MakeSeed()}
	for i := range m.shards {
		m.shards[i] = &cowShard[V]{gen: gen, m: map[string]V{}}
	}
	return m
}

func (m *cowMap[V]) shard(k string) int {
	return int(maphash.String(m.seed, k) & uint64(len(m.shards)-1))
}

func (m *cowMap[V]) get(k string) (V, bool) {
	v, ok := m.shards[m.shard(k)].m[k]
	return v, ok
}

// forWrite returns a copy of m that shares its shards, for writes under gen.
func (m cowMap[V]) forWrite() cowMap[V] {
	m.shards = append([]*cowShard[V](nil), m.shards...)
	return m
}

// writable returns the shard of k, copied first unless it was made in gen.
func (m *cowMap[V]) writable(gen uint64, k string) *cowShard[V] {
	i := m.shard(k)
	s := m.shards[i]
	if s.gen != gen {
		s = &cowShard[V]{gen: gen, m: maps.Clone(s.m)}
		if s.m == nil {
			s.m = map[string]V{}
		}
		m.shards[i] = s
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
	if m.n > 4*cowShardSize*len(m.shards) {
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
	for _, s := range m.shards {
		for k, v := range s.m {
			bigger.shards[bigger.shard(k)].m[k] = v
		}
	}
	bigger.n = m.n
	*m = bigger
}

// nodeVec is a persistent vector of graph nodes indexed by handle, in chunks.
// An update copies the chunk slice and each chunk it touches.
type nodeVec struct {
	chunks []*nodeChunk
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
	c := int(h >> chunkBits)
	if h < 0 || c >= len(v.chunks) {
		return nil
	}
	return v.chunks[c].nodes[h&(chunkSize-1)]
}

// forWrite returns a copy of v that shares its chunks, for writes.
func (v nodeVec) forWrite() nodeVec {
	v.chunks = append([]*nodeChunk(nil), v.chunks...)
	return v
}

// set stores n at h, copying the chunk of h first unless it was made in gen.
// v must come from forWrite.
func (v *nodeVec) set(gen uint64, h handle, n any) {
	c := int(h >> chunkBits)
	for c >= len(v.chunks) {
		v.chunks = append(v.chunks, &nodeChunk{gen: gen})
	}
	ch := v.chunks[c]
	if ch.gen != gen {
		cp := *ch
		cp.gen = gen
		ch = &cp
		v.chunks[c] = ch
	}
	ch.nodes[h&(chunkSize-1)] = n
}
