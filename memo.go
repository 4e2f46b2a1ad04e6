package authz

import (
	"hash/maphash"
	"sync"
	"sync/atomic"
)

// memo remembers values made from one graph, which never changes (a new
// graph starts with new memos: its nodes may differ), so that what is made
// the same way again is not made again: decisions (decisionCache), the
// outcome of a list of grants, the sentences of denials (graph.grants,
// graph.denials, graph.texts). It holds at most limit values; past it, put
// does nothing. A nil memo holds nothing.
type memo[K comparable, V any] struct {
	seed   maphash.Seed
	limit  int64
	n      atomic.Int64
	shards [64]memoShard[K, V]
}

type memoShard[K comparable, V any] struct {
	mu sync.RWMutex
	m  map[K]V
}

// maxMemo bounds the values of the memos of sentences and grant outcomes.
const maxMemo = 1 << 14

func newMemo[K comparable, V any](limit int) *memo[K, V] {
	return &memo[K, V]{seed: maphash.MakeSeed(), limit: int64(limit)}
}

func (m *memo[K, V]) shard(k *K) *memoShard[K, V] {
	return &m.shards[maphash.Comparable(m.seed, *k)%uint64(len(m.shards))]
}

// get returns the value of k.
func (m *memo[K, V]) get(k *K) (V, bool) {
	if m == nil {
		var zero V
		return zero, false
	}
	sh := m.shard(k)
	sh.mu.RLock()
	v, ok := sh.m[*k]
	sh.mu.RUnlock()
	return v, ok
}

// put remembers v for k, unless the memo is full.
func (m *memo[K, V]) put(k *K, v V) {
	if m == nil || m.n.Load() >= m.limit {
		return
	}
	sh := m.shard(k)
	sh.mu.Lock()
	if sh.m == nil {
		sh.m = map[K]V{}
	}
	if _, ok := sh.m[*k]; !ok {
		sh.m[*k] = v
		m.n.Add(1)
	}
	sh.mu.Unlock()
}
