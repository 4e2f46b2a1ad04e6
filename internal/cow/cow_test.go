package cow

import (
	"maps"
	"math/rand/v2"
	"strconv"
	"testing"
)

// TestMapSnapshots applies random sets and deletes over many generations,
// each on a ForWrite copy of the previous version, and checks that every
// version still holds exactly what a plain map held when it was made: a
// write never reaches an earlier version, whatever shard or page it
// touches, including across the rehash when the map grows.
func TestMapSnapshots(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3} {
		rng := rand.New(rand.NewPCG(seed, 0))
		var versions []Map[int]
		var wants []map[string]int
		cur := NewMap[int](1, 0)
		want := map[string]int{}
		keys := 20000 // enough to grow past 4*ShardSize*16 keys
		for gen := uint64(2); gen < 40; gen++ {
			cur = cur.ForWrite()
			for range rng.IntN(3000) {
				k := strconv.Itoa(rng.IntN(keys))
				switch rng.IntN(8) {
				case 0, 1:
					cur.Del(gen, k)
					delete(want, k)
				case 2:
					v := rng.Int()
					got, found := cur.GetOrSet(gen, k, v)
					w, had := want[k]
					if found != had || (had && got != w) || (!had && got != v) {
						t.Fatalf("GetOrSet(%q) = %d, %v; want %d, %v (or the new value when absent)", k, got, found, w, had)
					}
					if !had {
						want[k] = v
					}
				default:
					v := rng.Int()
					cur.Set(gen, k, v)
					want[k] = v
				}
			}
			versions = append(versions, cur)
			wants = append(wants, maps.Clone(want))
		}
		for i := range versions {
			checkMap(t, &versions[i], wants[i], keys)
		}
	}
}

func checkMap(t *testing.T, m *Map[int], want map[string]int, keys int) {
	t.Helper()
	if m.Len() != len(want) {
		t.Fatalf("Len() = %d; want %d", m.Len(), len(want))
	}
	for i := range keys {
		k := strconv.Itoa(i)
		got, ok := m.Get(k)
		w, wok := want[k]
		if ok != wok || got != w {
			t.Fatalf("Get(%q) = %d, %v; want %d, %v", k, got, ok, w, wok)
		}
	}
}

// TestMapSameGenerationWritesInPlace checks that a second write to a shard
// in one generation does not copy it again (the cost rule of the package):
// the shard seen after the first write is the one the second write changes.
func TestMapSameGenerationWritesInPlace(t *testing.T) {
	m := NewMap[int](1, 0).ForWrite()
	m.Set(2, "a", 1)
	s := m.shards.At(m.shardOf(m.hash("a")))
	m.Set(2, "a", 2)
	if got := m.shards.At(m.shardOf(m.hash("a"))); got != s {
		t.Fatalf("second write in one generation copied the shard again")
	}
	m.Set(3, "a", 3)
	if got := m.shards.At(m.shardOf(m.hash("a"))); got == s {
		t.Fatalf("write in a new generation did not copy the shard")
	}
}

// TestVecSnapshots does for Vec what TestMapSnapshots does for Map, with
// handles spread over many chunks and pages.
func TestVecSnapshots(t *testing.T) {
	type handle int32
	rng := rand.New(rand.NewPCG(7, 0))
	const n = 3 * PageSize * ChunkSize / 2
	var versions []Vec[handle]
	var wants [][]any
	var cur Vec[handle]
	want := make([]any, n)
	for gen := uint64(1); gen < 30; gen++ {
		cur = cur.ForWrite()
		for range rng.IntN(2000) {
			h := handle(rng.IntN(n))
			var v any
			if rng.IntN(5) > 0 {
				v = rng.Int()
			}
			cur.Set(gen, h, v)
			want[h] = v
		}
		versions = append(versions, cur)
		wants = append(wants, append([]any(nil), want...))
	}
	for i := range versions {
		for h := handle(0); h < n; h++ {
			if got := versions[i].At(h); got != wants[i][h] {
				t.Fatalf("version %d: At(%d) = %v; want %v", i, h, got, wants[i][h])
			}
		}
		for _, h := range []handle{-1, -ChunkSize, n + PageSize*ChunkSize} {
			if got := versions[i].At(h); got != nil {
				t.Fatalf("version %d: At(%d) = %v; want nil", i, h, got)
			}
		}
	}
}

// TestArrayOutOfRange checks that At outside the array returns nil.
func TestArrayOutOfRange(t *testing.T) {
	var a Array[int]
	x := 5
	a.Set(1, PageSize+3, &x)
	for _, i := range []int{-1, -PageSize, 0, PageSize + 2, 2 * PageSize} {
		if got := a.At(i); got != nil {
			t.Errorf("At(%d) = %v; want nil", i, got)
		}
	}
	if got := a.At(PageSize + 3); got != &x {
		t.Errorf("At(%d) = %v; want %v", PageSize+3, got, &x)
	}
}

// BenchmarkMapGet reads random keys of a map of a million.
func BenchmarkMapGet(b *testing.B) {
	const n = 1 << 20
	m := NewMap[int32](1, 0).ForWrite()
	keys := make([]string, n)
	for i := range keys {
		keys[i] = "object-" + strconv.Itoa(i*7919)
		m.Set(1, keys[i], int32(i))
	}
	rng := rand.New(rand.NewPCG(1, 2))
	order := make([]string, 1<<16)
	for i := range order {
		order[i] = keys[rng.IntN(n)]
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, ok := m.Get(order[i&(len(order)-1)]); !ok {
			b.Fatal("missing key")
		}
		i++
	}
}
