package authz

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/scopegate/authz/memstore"
	"github.com/scopegate/authz/storage"
)

// TestLevelQueriesMatchWalks stores the levels of random forests, deep
// (mostly chains, thousands of levels) and bushy, with define scopes here
// and there, and compares every answer of the level queries with a walk up
// the parent pointers; it also bounds the levels a query reads by
// 2·log2(depth) + 3.
func TestLevelQueriesMatchWalks(t *testing.T) {
	t.Parallel()
	for _, shape := range []struct {
		name        string
		n           int
		chain       float64 // probability that a scope's parent is the previous scope
		define, cut float64 // probabilities of a define scope and of a root
	}{
		{"deep chain", 4000, 0.97, 0.001, 0.0005},
		{"deep with defines", 3000, 0.9, 0.02, 0.002},
		{"bushy", 2000, 0.3, 0.05, 0.01},
	} {
		t.Run(shape.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(4, uint64(shape.n)))
			ids := make([]string, shape.n)
			parent := make([]int, shape.n)
			define := make([]bool, shape.n)
			levels := make([]*scopeLevel, shape.n)
			byID := map[string]*scopeLevel{}
			for i := range shape.n {
				ids[i] = fmt.Sprintf("s%05d", i)
				define[i] = r.Float64() < shape.define
				switch {
				case i == 0 || r.Float64() < shape.cut:
					parent[i] = -1
				case r.Float64() < shape.chain:
					parent[i] = i - 1
				default:
					parent[i] = r.IntN(i)
				}
				if parent[i] < 0 {
					levels[i] = newLevel(ids[i], define[i], nil, nil)
				} else {
					p := levels[parent[i]]
					levels[i] = newLevel(ids[i], define[i], p, byID[p.Jump])
				}
				byID[ids[i]] = levels[i]
			}
			store := memstore.New()
			defer store.Close()
			err := store.Update(context.Background(), func(tx storage.Tx) error {
				for _, l := range levels {
					if err := tx.Put(tableLevels, l.id, l.encode()); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			// The walks of the reference.
			path := func(x int) []int { // x, its parent, …, its root
				var out []int
				for ; x >= 0; x = parent[x] {
					out = append(out, x)
				}
				return out
			}
			maxReads := func(depth int) int { return 2*int(math.Ceil(math.Log2(float64(depth+1)))) + 3 }
			err = store.View(context.Background(), func(tx storage.Tx) error {
				for range 3000 {
					x := r.IntN(shape.n)
					up := path(x)
					// Half of the targets are ancestors of x.
					a := r.IntN(shape.n)
					if r.IntN(2) == 0 {
						a = up[r.IntN(len(up))]
					}
					wantAnc, wantChain := false, false
					for _, y := range up {
						if y == a {
							wantAnc = true
						}
					}
					for _, y := range up {
						if y == a {
							wantChain = true
							break
						}
						if define[y] {
							break
						}
					}
					v := newView(tx, nil)
					if got := v.isAncestor(ids[a], ids[x]); got != wantAnc {
						t.Fatalf("isAncestor(%s, %s): got %v; want %v", ids[a], ids[x], got, wantAnc)
					}
					if got := v.inChain(ids[x], ids[a]); got != wantChain {
						t.Fatalf("inChain(%s, %s): got %v; want %v", ids[x], ids[a], got, wantChain)
					}
					if n := len(v.levels); n > maxReads(len(up)-1)+1 {
						t.Fatalf("isAncestor and inChain(%s at depth %d, %s) read %d levels; want at most %d", ids[x], len(up)-1, ids[a], n, maxReads(len(up)-1)+1)
					}
					d := r.IntN(len(up))
					v = newView(tx, nil)
					got := v.levelAncestor(v.level(ids[x]), d)
					if want := up[len(up)-1-d]; got == nil || got.id != ids[want] {
						t.Fatalf("levelAncestor(%s, %d): got %v; want %s", ids[x], d, got, ids[want])
					}
					if n := len(v.levels); n > maxReads(len(up)-1) {
						t.Fatalf("levelAncestor(%s at depth %d, %d) read %d levels; want at most %d", ids[x], len(up)-1, d, n, maxReads(len(up)-1))
					}
					if v.err != nil {
						t.Fatal(v.err)
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestLevelQueriesStopOnCorruptLevels: level records that point sideways or
// down (never written by the library) end a query with a corruption error
// instead of a loop.
func TestLevelQueriesStopOnCorruptLevels(t *testing.T) {
	t.Parallel()
	store := memstore.New()
	defer store.Close()
	err := store.Update(context.Background(), func(tx storage.Tx) error {
		for _, l := range []*scopeLevel{
			{id: "a", Depth: 2, Parent: "b", Root: "r", Jump: "b", JumpDepth: 1},
			{id: "b", Depth: 5, Parent: "a", Root: "r", Jump: "a", JumpDepth: 2},
		} {
			if err := tx.Put(tableLevels, l.id, l.encode()); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = store.View(context.Background(), func(tx storage.Tx) error {
		v := newView(tx, nil)
		if v.levelAncestor(v.level("a"), 0) != nil || v.err == nil {
			t.Errorf("got err %v; want a corruption error", v.err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
