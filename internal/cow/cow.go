// Package cow holds persistent (copy-on-write) containers: a paged array,
// a sharded string map and a vector indexed by an integer handle.
//
// A container published to readers is never modified again, so any number
// of goroutines may read it without locks. A writer first takes a copy that
// shares everything with the original (ForWrite), then modifies it under a
// generation number: the first change of a page or shard in a generation
// copies it, later changes in the same generation write to the copy in
// place. A small write therefore costs a few kilobytes of copying whatever
// the size of the container. Writes to one copy must come from one
// goroutine at a time, and a generation must not be reused once the copy
// made under it is published.
//
// Nothing here returns an error: reading an index or key that was never set
// returns the zero value.
package cow

import (
	"hash/maphash"
	"slices"
)

// Array is a persistent array of pointers, in pages of PageSize. The zero
// Array is empty and ready to use.
type Array[T any] struct {
	pages []*page[T]
}

// PageSize is the number of items in a page of an Array.
const PageSize = 128

type page[T any] struct {
	gen   uint64
	items [PageSize]*T
}

// At returns the item at i, nil when i is negative or was never set.
func (a *Array[T]) At(i int) *T {
	p := i / PageSize
	if i < 0 || p >= len(a.pages) {
		return nil
	}
	return a.pages[p].items[i%PageSize]
}

// ForWrite returns a copy of a that shares its pages, for writes.
func (a Array[T]) ForWrite() Array[T] {
	a.pages = append([]*page[T](nil), a.pages...)
	return a
}

// Set stores v at i, growing the array as needed and copying the page of i
// first unless it was made in gen. a must come from ForWrite or be new.
func (a *Array[T]) Set(gen uint64, i int, v *T) {
	p := i / PageSize
	for p >= len(a.pages) {
		a.pages = append(a.pages, &page[T]{gen: gen})
	}
	pg := a.pages[p]
	if pg.gen != gen {
		cp := *pg
		cp.gen = gen
		pg = &cp
		a.pages[p] = pg
	}
	pg.items[i%PageSize] = v
}

// Map is a persistent map from string to V, split in shards by hash. An
// update copies each shard it touches, and the page of shard pointers above
// it. Make one with NewMap; the zero Map cannot be used.
//
// A shard is an open-addressing table with linear probing that keeps each
// key's hash next to the key, so that a lookup hashes once and usually
// reads two cache lines: the slot and the key's bytes.
type Map[V any] struct {
	shards  Array[shard[V]]
	nShards int // a power of two
	seed    maphash.Seed
	n       int
}

type shard[V any] struct {
	gen   uint64
	n     int       // keys set
	slots []slot[V] // a power of two in length, at most maxLoad full
}

// slot is a key with its value; h is the key's hash with its lowest bit
// set, so that 0 marks an empty slot.
type slot[V any] struct {
	h uint64
	k string
	v V
}

// ShardSize is the shard size a Map aims at: small enough that copying a
// shard costs a few microseconds.
const ShardSize = 256

// A shard's table grows at 3/4 full.
const (
	maxLoadNum = 3
	maxLoadDen = 4
)

// NewMap returns an empty Map made under gen, with enough shards for size
// keys.
func NewMap[V any](gen uint64, size int) Map[V] {
	n := 16
	for n*ShardSize < size {
		n *= 2
	}
	m := Map[V]{nShards: n, seed: maphash.MakeSeed()}
	for i := range n {
		m.shards.Set(gen, i, &shard[V]{gen: gen})
	}
	return m
}

func (m *Map[V]) hash(k string) uint64 { return maphash.String(m.seed, k) | 1 }

func (m *Map[V]) shardOf(h uint64) int { return int((h >> 1) & uint64(m.nShards-1)) }

// home is the first slot probed for hash h in a table of mask+1 slots: the
// high bits, independent of the bits that chose the shard.
func home(h uint64, mask int) int { return int(h>>32) & mask }

// find returns the slot index of k (hash h) in s, or -1.
func (s *shard[V]) find(h uint64, k string) int {
	if len(s.slots) == 0 {
		return -1
	}
	mask := len(s.slots) - 1
	for i := home(h, mask); ; i = (i + 1) & mask {
		sl := &s.slots[i]
		if sl.h == 0 {
			return -1
		}
		if sl.h == h && sl.k == k {
			return i
		}
	}
}

// Get returns the value of k and whether it is set.
func (m *Map[V]) Get(k string) (V, bool) {
	h := m.hash(k)
	s := m.shards.At(m.shardOf(h))
	if i := s.find(h, k); i >= 0 {
		return s.slots[i].v, true
	}
	var zero V
	return zero, false
}

// Len returns the number of keys in m.
func (m *Map[V]) Len() int { return m.n }

// ForWrite returns a copy of m that shares its shards, for writes under a
// new generation.
func (m Map[V]) ForWrite() Map[V] {
	m.shards = m.shards.ForWrite()
	return m
}

// writable returns the shard of hash h, copied first unless it was made in
// gen.
func (m *Map[V]) writable(gen uint64, h uint64) *shard[V] {
	i := m.shardOf(h)
	s := m.shards.At(i)
	if s.gen != gen {
		s = &shard[V]{gen: gen, n: s.n, slots: slices.Clone(s.slots)}
		m.shards.Set(gen, i, s)
	}
	return s
}

// put sets k (hash h) to v in s, which must have room for one more key,
// and reports whether k is new.
func (s *shard[V]) put(h uint64, k string, v V) bool {
	mask := len(s.slots) - 1
	for i := home(h, mask); ; i = (i + 1) & mask {
		sl := &s.slots[i]
		switch {
		case sl.h == 0:
			*sl = slot[V]{h: h, k: k, v: v}
			s.n++
			return true
		case sl.h == h && sl.k == k:
			sl.v = v
			return false
		}
	}
}

// resize moves s's keys into a table of size slots.
func (s *shard[V]) resize(size int) {
	old := s.slots
	s.slots, s.n = make([]slot[V], size), 0
	for i := range old {
		if old[i].h != 0 {
			s.put(old[i].h, old[i].k, old[i].v)
		}
	}
}

// Set sets k to v. m must come from ForWrite (or NewMap) under gen.
func (m *Map[V]) Set(gen uint64, k string, v V) {
	h := m.hash(k)
	s := m.writable(gen, h)
	if (s.n+1)*maxLoadDen > len(s.slots)*maxLoadNum {
		s.resize(max(8, 2*len(s.slots)))
	}
	if s.put(h, k, v) {
		m.n++
	}
	if m.n > 4*ShardSize*m.nShards {
		m.grow(gen)
	}
}

// GetOrSet returns the value of k and true when k is set; otherwise it
// sets k to v and returns v and false. For a key not yet set it probes the
// table once, where Get then Set would probe it twice. m must come from
// ForWrite (or NewMap) under gen.
func (m *Map[V]) GetOrSet(gen uint64, k string, v V) (V, bool) {
	h := m.hash(k)
	s := m.shards.At(m.shardOf(h))
	if s.gen == gen && (s.n+1)*maxLoadDen <= len(s.slots)*maxLoadNum {
		// The common case of a build: insert where the probe ends.
		mask := len(s.slots) - 1
		for i := home(h, mask); ; i = (i + 1) & mask {
			sl := &s.slots[i]
			if sl.h == 0 {
				*sl = slot[V]{h: h, k: k, v: v}
				s.n++
				m.n++
				if m.n > 4*ShardSize*m.nShards {
					m.grow(gen)
				}
				return v, false
			}
			if sl.h == h && sl.k == k {
				return sl.v, true
			}
		}
	}
	if i := s.find(h, k); i >= 0 {
		return s.slots[i].v, true
	}
	m.Set(gen, k, v)
	return v, false
}

// Del removes k. m must come from ForWrite (or NewMap) under gen.
func (m *Map[V]) Del(gen uint64, k string) {
	h := m.hash(k)
	if m.shards.At(m.shardOf(h)).find(h, k) < 0 {
		return
	}
	s := m.writable(gen, h)
	i := s.find(h, k)
	// Backward-shift deletion: move up each later key of the probe run
	// whose home is not in (i, j], so that no lookup meets a hole before
	// its key.
	mask := len(s.slots) - 1
	for j := (i + 1) & mask; s.slots[j].h != 0; j = (j + 1) & mask {
		hj := home(s.slots[j].h, mask)
		if (j > i && (hj <= i || hj > j)) || (j < i && hj <= i && hj > j) {
			s.slots[i] = s.slots[j]
			i = j
		}
	}
	s.slots[i] = slot[V]{}
	s.n--
	m.n--
}

// grow rehashes m into shards of the target size, when it has grown well
// past it since it was made. The seed is kept, so that each key moves with
// the hash its slot holds, into a shard made large enough for its share.
func (m *Map[V]) grow(gen uint64) {
	bigger := NewMap[V](gen, m.n)
	bigger.seed = m.seed
	size := 8
	for size*maxLoadNum < (m.n/bigger.nShards+1)*maxLoadDen {
		size *= 2
	}
	for i := range bigger.nShards {
		bigger.shards.At(i).slots = make([]slot[V], size)
	}
	for i := range m.nShards {
		s := m.shards.At(i)
		for j := range s.slots {
			if sl := &s.slots[j]; sl.h != 0 {
				t := bigger.shards.At(bigger.shardOf(sl.h))
				if (t.n+1)*maxLoadDen > len(t.slots)*maxLoadNum {
					t.resize(2 * len(t.slots))
				}
				t.put(sl.h, sl.k, sl.v)
			}
		}
	}
	bigger.n = m.n
	*m = bigger
}

// Handle is the type of a Vec's index: an integer kind.
type Handle interface {
	~int | ~int32 | ~int64
}

// Vec is a persistent vector of values indexed by handle, in chunks of
// ChunkSize. The zero Vec is empty and ready to use.
type Vec[H Handle] struct {
	chunks Array[chunk]
}

const (
	chunkBits = 8
	// ChunkSize is the number of values in a chunk of a Vec.
	ChunkSize = 1 << chunkBits
)

type chunk struct {
	gen   uint64
	nodes [ChunkSize]any
}

// At returns the value at h, nil when h is negative or was never set.
func (v *Vec[H]) At(h H) any {
	c := v.chunks.At(int(h >> chunkBits))
	if c == nil || h < 0 {
		return nil
	}
	return c.nodes[h&(ChunkSize-1)]
}

// ForWrite returns a copy of v that shares its chunks, for writes.
func (v Vec[H]) ForWrite() Vec[H] {
	v.chunks = v.chunks.ForWrite()
	return v
}

// Set stores n at h, copying the chunk of h first unless it was made in
// gen. v must come from ForWrite or be new. h must not be negative.
func (v *Vec[H]) Set(gen uint64, h H, n any) {
	i := int(h >> chunkBits)
	c := v.chunks.At(i)
	switch {
	case c == nil:
		c = &chunk{gen: gen}
		v.chunks.Set(gen, i, c)
	case c.gen != gen:
		cp := *c
		cp.gen = gen
		c = &cp
		v.chunks.Set(gen, i, c)
	}
	c.nodes[h&(ChunkSize-1)] = n
}
