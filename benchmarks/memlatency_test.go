package benchmarks

import (
	"math/rand/v2"
	"testing"
)

// BenchmarkMemoryLatency measures the cost of one dependent random read
// from memory on this machine: each op follows one pointer of a random
// cycle through 256 MiB, so every read misses the caches. It explains the
// checks without a decision cache on the larger models, whose cost is a
// handful of such reads (BENCHMARKS.md).
func BenchmarkMemoryLatency(b *testing.B) {
	const n = 1 << 25 // 32M uint64: 256 MiB
	next := make([]uint64, n)
	perm := rand.New(rand.NewPCG(1, 1)).Perm(n)
	for i := range n {
		next[perm[i]] = uint64(perm[(i+1)%n])
	}
	b.ReportAllocs()
	p := uint64(perm[0])
	for b.Loop() {
		p = next[p]
	}
	if p >= n {
		b.Fatal("out of range")
	}
}
