package authz

import (
	"errors"

	"github.com/scopegate/authz/storage"
)

// view reads the store as the batch being written sees it: the batch's own
// objects (already put into tx) first, then stored ones. Decoded records are
// cached for the duration of the batch. A storage error is kept in err and
// turns every later read into a miss; the batch then fails with it.
type view struct {
	tx     storage.Tx
	w      *writeTx // tx, when the view belongs to a write
	b      *builder // nil outside a batch (updates, deletes)
	cache  map[string]record
	levels map[string]*scopeLevel // levels read or written (levels.go)
	// What the checks of tag assignments learn once per write (tagassignment.go).
	tagCounts map[tagTarget]int
	bindings  map[string]bindingSet
	err       error
}

func newView(tx storage.Tx, b *builder) *view {
	w, _ := tx.(*writeTx)
	return &view{tx: tx, w: w, b: b, cache: map[string]record{}, levels: map[string]*scopeLevel{}}
}

// get returns the object id of kind k, or nil when there is none (or it is
// an item of the batch that failed validation).
func get[T any, P interface {
	*T
	record
}](v *view, k *kindSpec, id string) *T {
	if id == "" || v.err != nil {
		return nil
	}
	if v.b != nil {
		if it, ok := v.b.byID[id]; ok {
			if it.failed || it.rec.kind() != k {
				return nil
			}
			return it.rec.(P)
		}
	}
	if r, ok := v.cache[id]; ok {
		if p, ok := r.(P); ok {
			return p
		}
	}
	t, err := load[T](v.tx, k, id)
	if errors.Is(err, ErrNotFound) {
		// Misses are not cached: the id may name an object of another kind.
		return nil
	}
	if err != nil {
		v.err = err
		return nil
	}
	v.cache[id] = P(t)
	return t
}

// unique returns the id registered under a unique key, or "".
func (v *view) unique(name string, values ...string) string {
	if v.err != nil {
		return ""
	}
	id, err := lookupUnique(v.tx, name, values...)
	if err != nil {
		v.err = err
	}
	return id
}

// indexed lists the ids of index name with the given leading values.
func (v *view) indexed(name string, values ...string) []string {
	if v.err != nil {
		return nil
	}
	var ids []string
	if err := scanIndex(v.tx, name, values, func(id string) error {
		ids = append(ids, id)
		return nil
	}); err != nil {
		v.err = err
	}
	return ids
}

// anyIndexed reports whether an entry of index name with leading value
// value satisfies ok, reading the entries only until one does.
func (v *view) anyIndexed(name, value string, ok func(id string) bool) bool {
	if v.err != nil {
		return false
	}
	found := false
	err := scanIndex(v.tx, name, []string{value}, func(id string) error {
		if ok(id) {
			found = true
			return errStopScan
		}
		return nil
	})
	if err != nil && !errors.Is(err, errStopScan) {
		v.err = err
	}
	return found
}

// maxScopeDepth bounds walks up the scope tree; a deeper tree is treated as
// corrupted and the walk stops.
const maxScopeDepth = 10000

// parentScope returns the parent of scope id, or "", from its scope edge.
func (v *view) parentScope(id string) string {
	eid := v.unique(uniqueScopeParent, id)
	if e := get[ScopeEdge](v, scopeEdgeKind, eid); e != nil {
		return e.ParentScopeID
	}
	return ""
}

// isDefine reports whether the type of scope id has permission mode define.
func (v *view) isDefine(id string) bool {
	sc := get[Scope](v, scopeKind, id)
	if sc == nil {
		return false
	}
	st := get[ScopeType](v, scopeTypeKind, sc.TypeID)
	return st != nil && st.Config.PermissionMode == PermissionModeDefine
}

// fail reports a rule violation of it found by a check.
func (v *view) fail(it *item, field string, err error) { v.b.fail(it, field, err) }
