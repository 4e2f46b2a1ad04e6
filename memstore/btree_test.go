package memstore

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// The tests keep several tables in one tree, each key prefixed with its
// table and a NUL (tk), as the store did before it gave each table a tree
// of its own: the tree then holds keys that share long prefixes.
func tk(table, key string) string { return table + "\x00" + key }

// scanTable scans the keys of table that start with prefix, passing fn the
// keys without their table.
func scanTable(tr *tree, table, prefix string, fn func(key, value string) error) error {
	return tr.scan(tk(table, prefix), func(k, v string) error { return fn(strings.TrimPrefix(k, tk(table, "")), v) })
}

// model is the reference the tree is checked against: a map of
// "table\x00key" (tk) to value (test tables never contain \x00).
type model map[string]string

func (m model) clone() model {
	c := make(model, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// sorted returns the model's entries in (table, key) order.
func (m model) sorted() []entry {
	var es []entry
	for k, v := range m {
		es = append(es, newEntry(k, v))
	}
	slices.SortFunc(es, func(a, b entry) int { return strings.Compare(a.key(), b.key()) })
	return es
}

// entries returns every entry of the tree in iteration order.
func (t *tree) entries() []entry {
	var es []entry
	it := iterator{t: t}
	for it.seek(""); it.valid(); it.next() {
		es = append(es, *it.entry())
	}
	return es
}

// checkInvariants reports the first violated B-tree invariant: entries in
// strictly ascending order, node sizes within bounds, leaves at one depth,
// one child more than entries in inner nodes.
func checkInvariants(t *tree) error {
	if t.root == nil {
		return nil
	}
	if len(t.root.entries) == 0 {
		return errors.New("root has no entries")
	}
	leafDepth := -1
	var prev *entry
	var walk func(n *node, depth int) error
	walk = func(n *node, depth int) error {
		if n != t.root && (len(n.entries) < minEntries || len(n.entries) > maxEntries) {
			return fmt.Errorf("node at depth %d has %d entries; want %d to %d", depth, len(n.entries), minEntries, maxEntries)
		}
		if n.leaf() {
			if leafDepth == -1 {
				leafDepth = depth
			} else if depth != leafDepth {
				return fmt.Errorf("leaf at depth %d; want %d", depth, leafDepth)
			}
		} else if len(n.children) != len(n.entries)+1 {
			return fmt.Errorf("inner node has %d entries and %d children", len(n.entries), len(n.children))
		}
		for i := range n.entries {
			if !n.leaf() {
				if err := walk(n.children[i], depth+1); err != nil {
					return err
				}
			}
			e := &n.entries[i]
			if prev != nil && prev.key() >= e.key() {
				return fmt.Errorf("entry %q after %q", e.key(), prev.key())
			}
			prev = e
		}
		if !n.leaf() {
			return walk(n.children[len(n.entries)], depth+1)
		}
		return nil
	}
	return walk(t.root, 0)
}

// checkTree fails the test when tr violates an invariant or differs from m.
func checkTree(t *testing.T, what string, tr *tree, m model) {
	t.Helper()
	if err := checkInvariants(tr); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	got, want := tr.entries(), m.sorted()
	if !slices.Equal(got, want) {
		t.Fatalf("%s: got %d entries %v; want %d entries %v", what, len(got), abbrev(got), len(want), abbrev(want))
	}
}

func abbrev(es []entry) string {
	if len(es) > 6 {
		return fmt.Sprintf("%v … %v", es[:3], es[len(es)-3:])
	}
	return fmt.Sprint(es)
}

// randomOps applies n random puts and deletes to tr and m, over a key space
// small enough that overwrites and deletes of present keys are common.
func randomOps(r *rand.Rand, tr *tree, m model, n, keySpace int) {
	tables := []string{"a", "b", "c"}
	for range n {
		table := tables[r.IntN(len(tables))]
		key := fmt.Sprintf("k%05d", r.IntN(keySpace))
		if r.IntN(3) == 0 {
			_, inModel := m[table+"\x00"+key]
			if got := tr.delete(tk(table, key)); got != inModel {
				panic(fmt.Sprintf("delete(%q, %q) reported %v; model has it: %v", table, key, got, inModel))
			}
			delete(m, table+"\x00"+key)
		} else {
			v := fmt.Sprint(r.Uint32())
			tr.put(tk(table, key), v)
			m[table+"\x00"+key] = v
		}
	}
}

func TestTreeRandomOperationsMatchModel(t *testing.T) {
	for _, keySpace := range []int{10, 300, 5000} {
		t.Run(fmt.Sprintf("key space %d", keySpace), func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, uint64(keySpace)))
			tr := &tree{gen: 1}
			m := model{}
			for round := range 40 {
				randomOps(r, tr, m, 500, keySpace)
				checkTree(t, fmt.Sprintf("round %d", round), tr, m)
				for k, want := range m {
					table, key, _ := strings.Cut(k, "\x00")
					if got, ok := tr.get(tk(table, key)); !ok || got != want {
						t.Fatalf("round %d: get(%q, %q) = %q, %v; want %q, true", round, table, key, got, ok, want)
					}
				}
				if _, ok := tr.get(tk("a", "missing")); ok {
					t.Fatalf("round %d: get of a missing key: got found; want not found", round)
				}
			}
		})
	}
}

func TestTreeDeleteEverything(t *testing.T) {
	r := rand.New(rand.NewPCG(2, 2))
	tr := &tree{gen: 1}
	m := model{}
	for i := range 3000 {
		k := fmt.Sprintf("%06d", i)
		tr.put(tk("t", k), k)
		m["t\x00"+k] = k
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	r.Shuffle(len(keys), func(i, j int) { keys[i], keys[j] = keys[j], keys[i] })
	for i, k := range keys {
		_, key, _ := strings.Cut(k, "\x00")
		if !tr.delete(tk("t", key)) {
			t.Fatalf("delete(t, %q): got false; want true", key)
		}
		delete(m, k)
		if i%250 == 0 {
			checkTree(t, fmt.Sprintf("after %d deletes", i+1), tr, m)
		}
	}
	if tr.root != nil {
		t.Fatalf("root after deleting everything: got %d entries; want nil", len(tr.root.entries))
	}
	if tr.delete(tk("t", "000001")) {
		t.Fatal("delete from an empty tree: got true; want false")
	}
}

// TestTreeSnapshotsAreImmutable checks the copy-on-write rules: versions
// committed earlier and versions abandoned mid-way never change, whatever
// later generations do.
func TestTreeSnapshotsAreImmutable(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	type snapshot struct {
		root *node
		m    model
	}
	var snapshots []snapshot
	committed := &tree{}
	m := model{}
	for gen := uint64(1); gen <= 60; gen++ {
		work := &tree{root: committed.root, gen: gen}
		workModel := m.clone()
		randomOps(r, work, workModel, r.IntN(400)+1, 2000)
		if gen%4 == 0 {
			continue // rolled back: the committed version must be untouched
		}
		work.seal()
		committed, m = &tree{root: work.root}, workModel
		snapshots = append(snapshots, snapshot{work.root, workModel})
	}
	for i, s := range snapshots {
		checkTree(t, fmt.Sprintf("snapshot %d", i), &tree{root: s.root}, s.m)
	}
}

func TestTreeScan(t *testing.T) {
	tr := &tree{gen: 1}
	keys := []string{"a", "a\x00", "a\x00b", "ab", "b", "\x7f", "\x80", "\xff"}
	for _, k := range keys {
		tr.put(tk("t", k), "v"+k)
		tr.put(tk("s", k), "other")
		tr.put(tk("u", k), "other")
	}
	tests := []struct {
		prefix string
		want   []string
	}{
		{"", []string{"a", "a\x00", "a\x00b", "ab", "b", "\x7f", "\x80", "\xff"}},
		{"a", []string{"a", "a\x00", "a\x00b", "ab"}},
		{"a\x00", []string{"a\x00", "a\x00b"}},
		{"\x80", []string{"\x80"}},
		{"c", nil},
		{"\xff\xff", nil},
	}
	for _, tt := range tests {
		var got []string
		err := scanTable(tr, "t", tt.prefix, func(k, v string) error {
			if v != "v"+k {
				t.Errorf("prefix %q: value of %q: got %q; want %q", tt.prefix, k, v, "v"+k)
			}
			got = append(got, k)
			return nil
		})
		if err != nil {
			t.Fatalf("prefix %q: got error %v; want nil", tt.prefix, err)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("prefix %q: got %q; want %q", tt.prefix, got, tt.want)
		}
	}
}

// TestTreeScanWhileWriting checks that a scan survives writes made by its
// callback: to other tables (allowed by the storage contract) and, for
// robustness, to the scanned table itself.
func TestTreeScanWhileWriting(t *testing.T) {
	const n = 2000
	newTree := func() *tree {
		tr := &tree{gen: 1}
		for i := range n {
			tr.put(tk("a", fmt.Sprintf("%05d", i)), "x")
			tr.put(tk("c", fmt.Sprintf("%05d", i)), "x")
		}
		return tr
	}

	t.Run("writes to other tables", func(t *testing.T) {
		tr := newTree()
		var got int
		err := scanTable(tr, "a", "", func(k, _ string) error {
			if want := fmt.Sprintf("%05d", got); k != want {
				return fmt.Errorf("key %d: got %q; want %q", got, k, want)
			}
			got++
			tr.put(tk("b", k), "copy") // splits nodes next to the scanned ones
			tr.delete(tk("c", k))      // merges them
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if got != n {
			t.Fatalf("scanned keys: got %d; want %d", got, n)
		}
		if err := checkInvariants(tr); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("deletes of visited keys in the scanned table", func(t *testing.T) {
		tr := newTree()
		var got int
		err := scanTable(tr, "a", "", func(k, _ string) error {
			got++
			tr.delete(tk("a", k))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if got != n {
			t.Fatalf("scanned keys: got %d; want %d", got, n)
		}
		if scanTable(tr, "a", "", func(string, string) error { return errors.New("table a is not empty") }) != nil {
			t.Fatal("table a after deleting every scanned key: got entries; want none")
		}
	})
}

// TestSealTrimsTheNodesOfTheGeneration checks that seal leaves no node made
// in the generation with more than two spare slots, and that the next
// generation writes to the sealed nodes as to any other.
func TestSealTrimsTheNodesOfTheGeneration(t *testing.T) {
	tr := &tree{gen: 1}
	m := model{}
	for i := range 5000 {
		k := fmt.Sprintf("%06d", i)
		tr.put(k, k)
		m[k] = k
	}
	tr.seal()
	var walk func(n *node) int
	walk = func(n *node) int {
		spare := max(cap(n.entries)-len(n.entries), cap(n.children)-len(n.children))
		for _, c := range n.children {
			spare = max(spare, walk(c))
		}
		return spare
	}
	if got := walk(tr.root); got > 2 {
		t.Fatalf("spare slots in a sealed node: got %d; want at most 2", got)
	}
	next := &tree{root: tr.root, gen: 2}
	nm := m.clone()
	randomOps(rand.New(rand.NewPCG(4, 4)), next, nm, 3000, 6000)
	checkTree(t, "sealed generation", &tree{root: tr.root}, m)
	checkTree(t, "next generation", next, nm)
}
