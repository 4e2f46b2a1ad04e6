package authz

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/scopegate/authz/storage"
)

// Scope levels: derived data kept for every scope so that a write answers
// "is T in chain(S)" and "is A above S" without walking the scope tree, at
// a cost that does not grow with the depth of the tree:
//
//	scope_levels  scope id → JSON scopeLevel
//
// A level records the scope's depth, its parent, the root of its tree, its
// nearest define scope (itself or an ancestor; chain(S) ends there) and one
// jump pointer to an ancestor. The jump pointers follow the skew-binary
// scheme of E. W. Myers ("An applicative random-access stack", 1983): a
// scope's pointer is computed from its parent's alone when the scope is
// placed, and they find the ancestor of S at any depth in O(log depth(S))
// reads. With the root, an ancestor test of scopes of different trees costs
// two reads.
//
// The levels live in the store, not in the Client's in-memory graph, so
// that a write reads them in its own transaction, whichever process made
// the writes before it, without bringing a graph up to date first; and the
// graph, which walks parent pointers, would still cost a write time in
// proportion to the depth.
//
// The levels are maintained by every write that changes the tree (putRecord
// and deleteEntries mark the scopes concerned, syncLevels recomputes):
//   - creating a scope, with or without a parent, computes its level from
//     its parent's: a constant number of reads;
//   - an edge that places a stored tree under a parent, and the deletion of
//     the edge above a stored subtree, recompute the levels of the whole
//     subtree that moved: cost proportional to the subtree's size, not to
//     the depth it moves to or from;
//   - deleting a scope (a leaf: scopes with children cannot be deleted)
//     deletes its level.
//
// Scopes never change type and types never change permission mode, so the
// nearest define scope changes only when the tree does. Check recomputes
// every level from the tree and compares.
const tableLevels = "scope_levels"

// scopeLevel is the stored position of a scope in its tree.
type scopeLevel struct {
	id string // the key; not stored in the value

	// Depth counts the edges from the root: 0 for a root.
	Depth int `json:"d"`
	// Parent is the parent scope, "" for a root.
	Parent string `json:"p,omitempty"`
	// Root is the root of the scope's tree (the scope itself for a root).
	Root string `json:"r"`
	// Jump is an ancestor (the scope itself for a root) at depth JumpDepth,
	// chosen by the skew-binary rule (see newLevel).
	Jump      string `json:"j"`
	JumpDepth int    `json:"jd"`
	// Define is the nearest scope whose type is define, the scope itself
	// or an ancestor, at depth DefineDepth; "" when there is none, and
	// chain(S) then reaches the root.
	Define      string `json:"n,omitempty"`
	DefineDepth int    `json:"nd,omitempty"`
}

// chainTop returns the depth of the last scope of chain(l.id).
func (l *scopeLevel) chainTop() int {
	if l.Define == "" {
		return 0
	}
	return l.DefineDepth
}

// newLevel returns the level of scope id placed under the scope of level
// parent (nil for a root). jump must be the level of parent.Jump. The rule
// (Myers): if the parent's jump spans as many levels as its jump's jump,
// the new jump spans both; otherwise it points at the parent. Jumps then
// have the lengths of skew-binary numbers and reach any ancestor in
// O(log depth) steps.
func newLevel(id string, define bool, parent, jump *scopeLevel) *scopeLevel {
	l := &scopeLevel{id: id}
	if parent == nil {
		l.Root, l.Jump = id, id
	} else {
		l.Depth = parent.Depth + 1
		l.Parent = parent.id
		l.Root = parent.Root
		if parent.Depth-parent.JumpDepth == parent.JumpDepth-jump.JumpDepth {
			l.Jump, l.JumpDepth = jump.Jump, jump.JumpDepth
		} else {
			l.Jump, l.JumpDepth = parent.id, parent.Depth
		}
		l.Define, l.DefineDepth = parent.Define, parent.DefineDepth
	}
	if define {
		l.Define, l.DefineDepth = id, l.Depth
	}
	return l
}

func (l *scopeLevel) encode() []byte {
	v, _ := json.Marshal(l) // a struct of strings and ints: cannot fail
	return v
}

func decodeLevel(id string, v []byte) (*scopeLevel, error) {
	l := &scopeLevel{id: id}
	if err := json.Unmarshal(v, l); err != nil {
		return nil, fmt.Errorf("authz: scope %q: level record does not decode: %v: %w", id, err, errCorrupt)
	}
	return l, nil
}

// equal reports whether two levels of the same scope agree.
func (l *scopeLevel) equal(o *scopeLevel) bool { return *l == *o }

func (l *scopeLevel) String() string {
	return fmt.Sprintf("depth %d, parent %q, root %q, jump %q at %d, define %q at %d", l.Depth, l.Parent, l.Root, l.Jump, l.JumpDepth, l.Define, l.DefineDepth)
}

func corruptf(format string, args ...any) error {
	return fmt.Errorf("authz: %s: %w", fmt.Sprintf(format, args...), errCorrupt)
}

// level returns the level of scope id as the write sees it, or nil when id
// names no scope. A scope without a level record is a corrupted store: the
// error is kept in v.err.
func (v *view) level(id string) *scopeLevel {
	if id == "" || v.err != nil {
		return nil
	}
	if l, ok := v.levels[id]; ok {
		return l
	}
	raw, err := v.tx.Get(tableLevels, id)
	if errors.Is(err, storage.ErrNotFound) {
		if get[Scope](v, scopeKind, id) != nil && v.err == nil {
			v.err = corruptf("scope %q has no level record", id)
		}
		return nil
	}
	if err != nil {
		v.err = err
		return nil
	}
	l, err := decodeLevel(id, raw)
	if err != nil {
		v.err = err
		return nil
	}
	v.levels[id] = l
	return l
}

// setLevel stores l (in a write).
func (v *view) setLevel(l *scopeLevel) error {
	v.levels[l.id] = l
	return v.tx.Put(tableLevels, l.id, l.encode())
}

func (v *view) deleteLevel(id string) error {
	delete(v.levels, id)
	return v.tx.Delete(tableLevels, id)
}

// levelAncestor returns the level of the ancestor of l at depth d (l itself
// when d is its depth), or nil when d is deeper than l. It reads
// O(log(l.Depth-d)) levels.
func (v *view) levelAncestor(l *scopeLevel, d int) *scopeLevel {
	if l == nil || d > l.Depth || d < 0 {
		return nil
	}
	for l.Depth > d {
		next := l.Parent
		if l.JumpDepth >= d {
			next = l.Jump
		}
		n := v.level(next)
		if n == nil || n.Depth >= l.Depth {
			if v.err == nil {
				v.err = corruptf("scope %q: level record names %q, which is not above it", l.id, next)
			}
			return nil
		}
		l = n
	}
	return l
}

// isAncestor reports whether scope a is x or one of its ancestors (a is in
// ancestors(x)), whatever the define scopes between them. It costs
// O(log depth) reads, and two when they are in different trees.
func (v *view) isAncestor(a, x string) bool {
	if a == x {
		return true
	}
	la, lx := v.level(a), v.level(x)
	if la == nil || lx == nil || la.Root != lx.Root || la.Depth >= lx.Depth {
		return false
	}
	anc := v.levelAncestor(lx, la.Depth)
	return anc != nil && anc.id == a
}

// inChain reports whether target is in chain(id) (docs/model.md#chains-and-tenants): id itself, or
// an ancestor of id no higher than id's nearest define scope. It costs
// O(log depth) reads; the chain is never listed.
func (v *view) inChain(id, target string) bool {
	if id == target {
		return true
	}
	lx, lt := v.level(id), v.level(target)
	if lx == nil || lt == nil || lx.Root != lt.Root || lt.Depth >= lx.Depth || lt.Depth < lx.chainTop() {
		return false
	}
	anc := v.levelAncestor(lx, lt.Depth)
	return anc != nil && anc.id == target
}

// chainLevels calls fn with the levels of chain(id), nearest first, until
// fn returns false. It reads one level per scope: only for chains known to
// be short, or for the error messages.
func (v *view) chainLevels(id string, fn func(l *scopeLevel) bool) {
	l := v.level(id)
	if l == nil {
		return
	}
	top := l.chainTop()
	for fn(l) && l.Depth > top {
		p := v.level(l.Parent)
		if p == nil || p.Depth >= l.Depth {
			if v.err == nil {
				v.err = corruptf("scope %q: level record names parent %q, which is not above it", l.id, l.Parent)
			}
			return
		}
		l = p
	}
}

// chainText lists chain(id) for an error message, nearest first: all of it
// when it is short, else its first scopes, how many are left out, and its
// last scope. It reads only the scopes it names.
func (v *view) chainText(id string) string {
	const head = 6
	l := v.level(id)
	if l == nil {
		return id
	}
	n := l.Depth - l.chainTop() + 1
	var names []string
	v.chainLevels(id, func(x *scopeLevel) bool {
		names = append(names, x.id)
		return len(names) < head || n <= head+2
	})
	if n <= head+2 || len(names) < head {
		return strings.Join(names, ", ")
	}
	last := l.Define
	if last == "" {
		last = l.Root
	}
	return strings.Join(names, ", ") + ", … (" + strconv.Itoa(n-head-1) + " more) …, " + last
}

// typeKeyVisible reports whether a resource type with the given key is
// defined in chain(id) (docs/model.md#chains-and-tenants). It either walks the chain (one read per
// scope) or tests each resource type of that key for membership of the
// chain (O(log depth) reads each), whichever is shorter: its cost is
// O(min(length of chain(id), number of types with the key) · log depth).
func (v *view) typeKeyVisible(id, key string) bool {
	l := v.level(id)
	if l == nil {
		// Not a scope (reported elsewhere): chain(id) is id alone.
		return v.typeAt(id, key)
	}
	n := l.Depth - l.chainTop() + 1
	candidates, more := v.indexedUpTo(n, ixResourceTypeKey, key)
	if !more {
		for _, tid := range candidates {
			if rt := get[ResourceType](v, resourceTypeKind, tid); rt != nil && v.inChain(id, rt.ScopeID) {
				return true
			}
		}
		return false
	}
	found := false
	v.chainLevels(id, func(x *scopeLevel) bool {
		found = v.typeAt(x.id, key)
		return !found
	})
	return found
}

// typeAt reports whether a resource type with the given key is defined at
// scope id.
func (v *view) typeAt(id, key string) bool {
	tid := v.unique(uniqueResourceTypeKey, id, key)
	return tid != "" && get[ResourceType](v, resourceTypeKind, tid) != nil
}

// indexedUpTo lists at most limit ids of index name with the given leading
// values; more reports that there are others.
func (v *view) indexedUpTo(limit int, name string, values ...string) (ids []string, more bool) {
	if v.err != nil {
		return nil, false
	}
	err := scanIndex(v.tx, name, values, func(id string) error {
		if len(ids) == limit {
			more = true
			return errStopScan
		}
		ids = append(ids, id)
		return nil
	})
	if err != nil && !errors.Is(err, errStopScan) {
		v.err = err
	}
	return ids, more
}

// childScopes lists the children of scope id as the write sees them.
func (v *view) childScopes(id string) []string {
	var out []string
	for _, eid := range v.indexed(ixScopeEdgeParent, id) {
		if e := get[ScopeEdge](v, scopeEdgeKind, eid); e != nil && get[Scope](v, scopeKind, e.ChildScopeID) != nil {
			out = append(out, e.ChildScopeID)
		}
	}
	return out
}

// parentOf returns the parent of scope id as the write sees it, or "" for
// a root.
func (v *view) parentOf(id string) string {
	if p := v.parentScope(id); p != "" && get[Scope](v, scopeKind, p) != nil {
		return p
	}
	return ""
}

// relevel marks scope id: its level, and those of its subtree, are
// recomputed by the next syncLevels of the write.
func (w *writeTx) relevel(id string) {
	if w.relevels == nil {
		w.relevels = map[string]bool{}
	}
	w.relevels[id] = true
}

// structural notes the changes of the scope tree made by creating or
// deleting r.
func (w *writeTx) structural(r record) {
	switch r := r.(type) {
	case *Scope:
		w.relevel(r.ID)
	case *ScopeEdge:
		w.relevel(r.ChildScopeID)
	}
}

// syncLevels brings the levels of the scopes marked by the write (and of
// their subtrees) up to date with the tree as v sees it: the items of a
// batch that failed count as absent. A batch calls it once its scope edges
// are checked, before the checks that read chains; commit calls it for the
// other writes.
//
// A marked scope is new, lost its parent (a delete), or gained one (a
// batch: only a root can gain a parent). So a stored scope whose level is
// not yet recomputed lies in the subtree of a marked scope exactly when its
// stored root is marked, or, after a delete, when it lies under the one
// detached scope, whose subtree is recomputed from it. Each scope is
// computed once, after its parent: the cost is the number of scopes created
// or moved.
func syncLevels(v *view) error {
	w := v.w
	if w == nil || len(w.relevels) == 0 {
		return v.err
	}
	ls := &levelSync{v: v, marked: w.relevels, done: map[string]bool{}, active: map[string]bool{}}
	w.relevels = nil
	for _, id := range slices.Sorted(maps.Keys(ls.marked)) {
		if err := ls.ensure(id); err != nil {
			return err
		}
	}
	return v.err
}

type levelSync struct {
	v      *view
	marked map[string]bool
	done   map[string]bool // levels recomputed
	active map[string]bool // ensure calls in progress, to stop on a cycle
}

// ensure recomputes the levels of the subtree of the marked scope id, after
// its parent's when that one needs recomputing too.
func (ls *levelSync) ensure(id string) error {
	if ls.done[id] {
		return nil
	}
	if ls.active[id] {
		return corruptf("scope %q is its own ancestor", id)
	}
	ls.active[id] = true
	defer delete(ls.active, id)
	v := ls.v
	if get[Scope](v, scopeKind, id) == nil {
		if v.err != nil {
			return v.err
		}
		ls.done[id] = true
		return v.deleteLevel(id)
	}
	var pl *scopeLevel
	if p := v.parentOf(id); p != "" {
		if top := ls.pendingAbove(p); top != "" {
			if err := ls.ensure(top); err != nil {
				return err
			}
			if ls.done[id] {
				return nil // recomputed with top's subtree
			}
		}
		if pl = v.level(p); pl == nil {
			if v.err != nil {
				return v.err
			}
			return corruptf("scope %q has no level record", p)
		}
	}
	return ls.fill(id, pl)
}

// pendingAbove returns the marked scope whose subtree holds p while its
// levels are not recomputed yet, or "".
func (ls *levelSync) pendingAbove(p string) string {
	if ls.done[p] {
		return ""
	}
	if ls.marked[p] {
		return p
	}
	// p's level is the stored one, from before the write.
	if l := ls.v.level(p); l != nil && ls.marked[l.Root] && !ls.done[l.Root] {
		return l.Root
	}
	return ""
}

// fill computes the levels of id, placed under the level parent (nil for a
// root), and of its whole subtree, parents before children.
func (ls *levelSync) fill(id string, parent *scopeLevel) error {
	v := ls.v
	type frame struct {
		id     string
		parent *scopeLevel
	}
	stack := []frame{{id, parent}}
	for len(stack) > 0 {
		f := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if ls.done[f.id] {
			return corruptf("scope %q is reached twice in the scope tree", f.id)
		}
		var jump *scopeLevel
		if f.parent != nil {
			if jump = v.level(f.parent.Jump); jump == nil {
				if v.err != nil {
					return v.err
				}
				return corruptf("scope %q: its jump %q has no level record", f.parent.id, f.parent.Jump)
			}
		}
		l := newLevel(f.id, v.isDefine(f.id), f.parent, jump)
		if err := v.setLevel(l); err != nil {
			return err
		}
		ls.done[f.id] = true
		for _, c := range v.childScopes(f.id) {
			stack = append(stack, frame{c, l})
		}
		if v.err != nil {
			return v.err
		}
	}
	return nil
}

// computeLevels computes the level of every scope of the store from the
// tree: for the upgrade of a store written before levels existed, and for
// Check. Scopes on a cycle of scope edges (never written by the library)
// get no level; they are returned in cyclic. Records that do not decode are
// skipped (Check reports them).
func computeLevels(tx storage.Tx) (levels map[string]*scopeLevel, cyclic []string, err error) {
	define := map[string]bool{}
	err = tx.Scan(scopeTypeKind.table, "", func(id string, v []byte) error {
		r, err := scopeTypeKind.decode(v)
		if err != nil {
			return nil
		}
		define[id] = r.(*ScopeType).Config.PermissionMode == PermissionModeDefine
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	types := map[string]string{}
	var ids []string
	err = tx.Scan(scopeKind.table, "", func(id string, v []byte) error {
		r, err := scopeKind.decode(v)
		if err != nil {
			return nil
		}
		types[id] = r.(*Scope).TypeID
		ids = append(ids, id)
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	parent := map[string]string{}
	children := map[string][]string{}
	err = tx.Scan(scopeEdgeKind.table, "", func(id string, v []byte) error {
		r, err := scopeEdgeKind.decode(v)
		if err != nil {
			return nil
		}
		e := r.(*ScopeEdge)
		if _, ok := types[e.ChildScopeID]; !ok {
			return nil
		}
		if _, ok := types[e.ParentScopeID]; !ok {
			return nil
		}
		if _, dup := parent[e.ChildScopeID]; dup {
			return nil
		}
		parent[e.ChildScopeID] = e.ParentScopeID
		children[e.ParentScopeID] = append(children[e.ParentScopeID], e.ChildScopeID)
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	levels = make(map[string]*scopeLevel, len(ids))
	var queue []string
	for _, id := range ids {
		if _, ok := parent[id]; !ok {
			levels[id] = newLevel(id, define[types[id]], nil, nil)
			queue = append(queue, id)
		}
	}
	for len(queue) > 0 {
		p := levels[queue[0]]
		queue = queue[1:]
		for _, c := range children[p.id] {
			levels[c] = newLevel(c, define[types[c]], p, levels[p.Jump])
			queue = append(queue, c)
		}
	}
	for _, id := range ids {
		if levels[id] == nil {
			cyclic = append(cyclic, id)
		}
	}
	return levels, cyclic, nil
}
