package memstore

import "strings"

// This file holds a persistent (copy-on-write) B-tree of the entries of one
// table, ordered by key. A tree value is a root pointer plus a generation: nodes
// carrying the tree's generation belong to that tree alone and are changed in
// place; any other node may be shared with snapshots and is copied before it
// is changed (path copying). A snapshot is therefore just a root pointer, and
// a write copies at most one root-to-leaf path, once per generation.
//
// Each Update works in a new generation, so a transaction copies every node
// it touches at most once, whatever the number of writes, and nodes become
// immutable as soon as the transaction that made them commits.

const (
	// degree is the minimum number of children of a non-root inner node.
	degree = 16
	// maxEntries is the most entries a node holds.
	maxEntries = 2*degree - 1
	// minEntries is the fewest entries a non-root node holds.
	minEntries = degree - 1
)

// entry is one key-value pair of a table, kept in one string (the key's
// bytes, then the value's) so that an entry costs one allocation and 24
// bytes in its node. Values are immutable: the store copies bytes in on Put
// and out on Get and Scan.
type entry struct {
	kv   string
	klen int
}

func newEntry(key, value string) entry {
	if value == "" {
		return entry{kv: key, klen: len(key)}
	}
	return entry{kv: key + value, klen: len(key)}
}

func (e *entry) key() string   { return e.kv[:e.klen] }
func (e *entry) value() string { return e.kv[e.klen:] }

// node is a B-tree node. A leaf has no children; an inner node has one child
// more than it has entries.
type node struct {
	gen      uint64
	entries  []entry
	children []*node
}

func (n *node) leaf() bool { return n.children == nil }

// find returns the index of the first entry of n not less than key and
// whether that entry is key.
func (n *node) find(key string) (int, bool) {
	lo, hi := 0, len(n.entries)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if n.entries[m].key() < key {
			lo = m + 1
		} else {
			hi = m
		}
	}
	found := lo < len(n.entries) && n.entries[lo].key() == key
	return lo, found
}

// tree is a B-tree version. The zero value is an empty read-only tree.
type tree struct {
	root *node
	// gen marks the nodes this tree may change in place. Zero means the
	// tree is read-only: generations of writers start at 1.
	gen uint64
	// mods counts the changes made through this tree value, so that an
	// iterator can tell that the nodes it walks may have moved.
	mods uint64
	// made lists the nodes made in this generation, for seal.
	made []*node
}

// get returns the value stored under key.
func (t *tree) get(key string) (string, bool) {
	n := t.root
	for n != nil {
		i, found := n.find(key)
		if found {
			return n.entries[i].value(), true
		}
		if n.leaf() {
			break
		}
		n = n.children[i]
	}
	return "", false
}

// newNode returns an empty node of the tree's generation.
func (t *tree) newNode(leaf bool) *node {
	n := &node{gen: t.gen, entries: make([]entry, 0, maxEntries)}
	if !leaf {
		n.children = make([]*node, 0, maxEntries+1)
	}
	t.made = append(t.made, n)
	return n
}

// seal trims the nodes made in this generation to their length, before
// they become immutable: a node is made with room for maxEntries, and a
// bulk load leaves most nodes about half full (splits halve them), so this
// saves about a third of the tree's memory. The tree must not be written in
// this generation afterwards.
func (t *tree) seal() {
	for _, n := range t.made {
		if cap(n.entries)-len(n.entries) > 2 {
			n.entries = append([]entry(nil), n.entries...)
		}
		if cap(n.children)-len(n.children) > 2 {
			n.children = append([]*node(nil), n.children...)
		}
	}
	t.made = nil
}

// mutable returns n itself if it belongs to the tree's generation, else a
// copy of n that does.
func (t *tree) mutable(n *node) *node {
	if n.gen == t.gen {
		return n
	}
	c := t.newNode(n.leaf())
	c.entries = append(c.entries, n.entries...)
	if !n.leaf() {
		c.children = append(c.children, n.children...)
	}
	return c
}

// mutableChild makes child i of the mutable node n mutable and returns it.
func (t *tree) mutableChild(n *node, i int) *node {
	c := t.mutable(n.children[i])
	n.children[i] = c
	return c
}

// split splits the mutable node n at entry i: n keeps the entries before i,
// the returned node gets those after it, and entry i is returned to move up.
func (t *tree) split(n *node, i int) (entry, *node) {
	mid := n.entries[i]
	right := t.newNode(n.leaf())
	right.entries = append(right.entries, n.entries[i+1:]...)
	clear(n.entries[i:])
	n.entries = n.entries[:i]
	if !n.leaf() {
		right.children = append(right.children, n.children[i+1:]...)
		clear(n.children[i+1:])
		n.children = n.children[:i+1]
	}
	return mid, right
}

// put stores value under key. The tree must be writable.
func (t *tree) put(key, value string) {
	t.mods++
	e := newEntry(key, value)
	if t.root == nil {
		n := t.newNode(true)
		n.entries = append(n.entries, e)
		t.root = n
		return
	}
	root := t.mutable(t.root)
	if len(root.entries) >= maxEntries {
		mid, right := t.split(root, maxEntries/2)
		top := t.newNode(false)
		top.entries = append(top.entries, mid)
		top.children = append(top.children, root, right)
		root = top
	}
	t.root = root
	t.insert(root, e)
}

// insert adds e below the mutable, non-full node n, splitting full nodes on
// the way down so that a split never has to climb back up.
func (t *tree) insert(n *node, e entry) {
	for {
		i, found := n.find(e.key())
		if found {
			n.entries[i] = e
			return
		}
		if n.leaf() {
			n.entries = insertAt(n.entries, i, e)
			return
		}
		if len(n.children[i].entries) >= maxEntries {
			child := t.mutableChild(n, i)
			mid, right := t.split(child, maxEntries/2)
			n.entries = insertAt(n.entries, i, mid)
			n.children = insertAt(n.children, i+1, right)
			switch c := strings.Compare(e.key(), mid.key()); {
			case c == 0:
				n.entries[i] = e
				return
			case c > 0:
				i++
			}
		}
		n = t.mutableChild(n, i)
	}
}

// delete removes key and reports whether it was present. The tree must be
// writable.
func (t *tree) delete(key string) bool {
	if _, ok := t.get(key); !ok {
		return false // nothing to copy
	}
	t.mods++
	root := t.mutable(t.root)
	t.remove(root, key, false)
	switch {
	case len(root.entries) > 0:
		t.root = root
	case root.leaf():
		t.root = nil
	default:
		t.root = root.children[0]
	}
	return true
}

// remove deletes key from the subtree of the mutable node n, or its
// largest entry when max is set, and returns the removed entry. Every node it
// descends into holds more than minEntries entries first, so that removing
// one never leaves a node too small.
func (t *tree) remove(n *node, key string, max bool) entry {
	var i int
	var found bool
	if max {
		if n.leaf() {
			e := n.entries[len(n.entries)-1]
			n.entries[len(n.entries)-1] = entry{}
			n.entries = n.entries[:len(n.entries)-1]
			return e
		}
		i = len(n.entries)
	} else {
		i, found = n.find(key)
		if n.leaf() {
			if !found {
				return entry{} // unreachable: delete checks presence first
			}
			e := n.entries[i]
			n.entries = removeAt(n.entries, i)
			return e
		}
	}
	if len(n.children[i].entries) <= minEntries {
		t.growChild(n, i)
		return t.remove(n, key, max)
	}
	child := t.mutableChild(n, i)
	if found {
		// Replace the entry by its predecessor, the largest entry of the
		// child on its left.
		e := n.entries[i]
		n.entries[i] = t.remove(child, "", true)
		return e
	}
	return t.remove(child, key, max)
}

// growChild gives child i of the mutable node n more than minEntries entries
// by moving one from a sibling through n, or by merging the child with a
// sibling and the entry between them.
func (t *tree) growChild(n *node, i int) {
	switch {
	case i > 0 && len(n.children[i-1].entries) > minEntries:
		child := t.mutableChild(n, i)
		left := t.mutableChild(n, i-1)
		last := len(left.entries) - 1
		child.entries = insertAt(child.entries, 0, n.entries[i-1])
		n.entries[i-1] = left.entries[last]
		left.entries[last] = entry{}
		left.entries = left.entries[:last]
		if !left.leaf() {
			child.children = insertAt(child.children, 0, left.children[last+1])
			left.children[last+1] = nil
			left.children = left.children[:last+1]
		}
	case i < len(n.entries) && len(n.children[i+1].entries) > minEntries:
		child := t.mutableChild(n, i)
		right := t.mutableChild(n, i+1)
		child.entries = append(child.entries, n.entries[i])
		n.entries[i] = right.entries[0]
		right.entries = removeAt(right.entries, 0)
		if !right.leaf() {
			child.children = append(child.children, right.children[0])
			right.children = removeAt(right.children, 0)
		}
	default:
		if i >= len(n.entries) {
			i--
		}
		child := t.mutableChild(n, i)
		right := n.children[i+1] // only read: it is dropped
		child.entries = append(child.entries, n.entries[i])
		child.entries = append(child.entries, right.entries...)
		if !child.leaf() {
			child.children = append(child.children, right.children...)
		}
		n.entries = removeAt(n.entries, i)
		n.children = removeAt(n.children, i+1)
	}
}

// insertAt inserts v at index i of s, which must have spare capacity in the
// common case (nodes are allocated with room for maxEntries).
func insertAt[T any](s []T, i int, v T) []T {
	var zero T
	s = append(s, zero)
	copy(s[i+1:], s[i:])
	s[i] = v
	return s
}

// removeAt removes index i of s and clears the freed slot for the collector.
func removeAt[T any](s []T, i int) []T {
	copy(s[i:], s[i+1:])
	var zero T
	s[len(s)-1] = zero
	return s[:len(s)-1]
}

// iterator walks a tree in ascending order. Each frame of the stack is a
// node and an index: the current entry for the top frame, the child being
// walked for the others (whose entry at that index comes next).
type iterator struct {
	t     *tree
	stack []frame
	mods  uint64
}

type frame struct {
	n *node
	i int
}

// seek positions the iterator at the first entry not less than key.
func (it *iterator) seek(key string) {
	it.stack = it.stack[:0]
	it.mods = it.t.mods
	n := it.t.root
	for n != nil {
		i, found := n.find(key)
		it.stack = append(it.stack, frame{n, i})
		if found || n.leaf() {
			break
		}
		n = n.children[i]
	}
	it.settle()
}

// settle pops the frames whose entries are exhausted, so that the top frame
// points at the current entry or the stack is empty.
func (it *iterator) settle() {
	for len(it.stack) > 0 {
		f := it.stack[len(it.stack)-1]
		if f.i < len(f.n.entries) {
			return
		}
		it.stack = it.stack[:len(it.stack)-1]
	}
}

// valid reports whether the iterator is at an entry.
func (it *iterator) valid() bool { return len(it.stack) > 0 }

// entry returns the current entry; valid must be true.
func (it *iterator) entry() *entry {
	f := it.stack[len(it.stack)-1]
	return &f.n.entries[f.i]
}

// next moves to the entry after the current one; valid must be true. The
// tree must not have changed since the last seek.
func (it *iterator) next() {
	f := &it.stack[len(it.stack)-1]
	f.i++
	if !f.n.leaf() {
		// The next entry is the leftmost of the subtree after the current
		// entry.
		for n := f.n.children[f.i]; ; n = n.children[0] {
			it.stack = append(it.stack, frame{n, 0})
			if n.leaf() {
				break
			}
		}
	}
	it.settle()
}

// scan calls fn for every entry whose key starts with prefix, in ascending
// key order, and stops at the first error, which it returns. fn may change
// the tree (a test does; the store gives each table its own tree): the
// iterator then finds its place again by key.
func (t *tree) scan(prefix string, fn func(key, value string) error) error {
	it := iterator{t: t, stack: make([]frame, 0, 8)}
	it.seek(prefix)
	for it.valid() {
		e := it.entry()
		key := e.key()
		if !strings.HasPrefix(key, prefix) {
			return nil
		}
		if err := fn(key, e.value()); err != nil {
			return err
		}
		if it.mods != t.mods {
			it.seek(key)
			if !it.valid() {
				return nil
			}
			if e := it.entry(); e.key() != key {
				continue // key was deleted: the iterator is already past it
			}
		}
		it.next()
	}
	return nil
}
