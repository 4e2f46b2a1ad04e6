// Package memstore is an in-memory storage.Storage, for tests, examples and
// applications that load their model at start-up and need no persistence.
//
// Each table lives in a persistent (copy-on-write) B-tree. A View takes a
// snapshot by loading the current version (a root per table), so Views never
// wait for each other nor for a running Update. An Update works on private
// versions of the trees it writes, copying only the nodes it changes, and
// commits by publishing a new version: a commit costs O(writes · log n +
// tables), whatever the size of the store. Updates are serialized by a
// mutex.
package memstore

import (
	"context"
	"maps"
	"sync"
	"sync/atomic"

	"github.com/scopegate/authz/internal/commitwatch"
	"github.com/scopegate/authz/internal/txguard"
	"github.com/scopegate/authz/storage"
)

// Store is an in-memory storage.Storage. It is safe for concurrent use.
// The zero value is not usable; call New.
type Store struct {
	root   atomic.Pointer[version] // the committed version; nil when empty or closed
	closed atomic.Bool

	mu  sync.Mutex // serializes Updates
	gen uint64     // generation of the last Update, guarded by mu

	commits commitwatch.Counter // commits so far (storage.Versioner, storage.Watcher)
}

var (
	_ storage.Storage   = (*Store)(nil)
	_ storage.Versioner = (*Store)(nil)
	_ storage.Watcher   = (*Store)(nil)
)

// New returns an empty store.
func New() *Store {
	return &Store{}
}

// View runs fn in a read-only transaction on a snapshot of the store. It
// implements storage.Storage.
func (s *Store) View(ctx context.Context, fn func(storage.Tx) error) error {
	if s.closed.Load() {
		return storage.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	t := &tx{base: s.root.Load()}
	defer t.End()
	return fn(t)
}

// Update runs fn in a read-write transaction and commits its writes if fn
// returns nil. It implements storage.Storage.
func (s *Store) Update(ctx context.Context, fn func(storage.Tx) error) error {
	if s.closed.Load() {
		return storage.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	// Check again: Close or a cancellation may have come while waiting.
	if s.closed.Load() {
		return storage.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	s.gen++
	t := &tx{base: s.root.Load(), gen: s.gen, Guard: txguard.Guard{Writable: true}}
	defer t.End()
	if err := fn(t); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	t.End()
	if len(t.trees) > 0 {
		s.root.Store(t.commit())
	}
	s.commits.Commit()
	return nil
}

// Version returns the number of Updates committed so far. It implements
// storage.Versioner: the store is in memory, so every commit goes through
// it.
func (s *Store) Version() uint64 { return s.commits.Version() }

// Watch returns Version and a channel closed at the next commit. It
// implements storage.Watcher, telling of every commit as it happens.
func (s *Store) Watch() (uint64, <-chan struct{}) { return s.commits.Watch() }

// Close releases the data of the store. Calls after the first return nil;
// View and Update then return storage.ErrClosed. It implements
// storage.Storage.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	s.root.Store(nil)
	return nil
}

// version is a committed state of the store: the root of each table's
// tree. It is never changed once published.
type version map[string]*node

// tx is a transaction on a version: a snapshot in View; in Update, the
// version read plus private, writable trees for the tables written.
type tx struct {
	base  *version
	gen   uint64
	trees map[string]*tree // the tables written, by name
	txguard.Guard
}

// root returns the root of table as the transaction sees it.
func (t *tx) root(table string) *node {
	if w := t.trees[table]; w != nil {
		return w.root
	}
	if t.base == nil {
		return nil
	}
	return (*t.base)[table]
}

// writable returns the transaction's tree of table, for writes.
func (t *tx) writable(table string) *tree {
	w := t.trees[table]
	if w == nil {
		if t.trees == nil {
			t.trees = map[string]*tree{}
		}
		w = &tree{root: t.root(table), gen: t.gen}
		t.trees[table] = w
	}
	return w
}

// commit returns the version made of the base and the trees written.
func (t *tx) commit() *version {
	v := version{}
	if t.base != nil {
		v = maps.Clone(*t.base)
	}
	for name, w := range t.trees {
		w.seal()
		if w.root == nil {
			delete(v, name)
		} else {
			v[name] = w.root
		}
	}
	return &v
}

func (t *tx) Get(table, key string) ([]byte, error) {
	if err := t.Read(table, key); err != nil {
		return nil, err
	}
	tr := tree{root: t.root(table)}
	v, ok := tr.get(key)
	if !ok {
		return nil, storage.ErrNotFound
	}
	return []byte(v), nil
}

func (t *tx) Put(table, key string, value []byte) error {
	if err := t.Write(table, key); err != nil {
		return err
	}
	t.writable(table).put(key, string(value))
	return nil
}

func (t *tx) Delete(table, key string) error {
	if err := t.Write(table, key); err != nil {
		return err
	}
	if t.root(table) != nil {
		t.writable(table).delete(key)
	}
	return nil
}

func (t *tx) Scan(table, prefix string, fn func(key string, value []byte) error) error {
	if err := t.Guard.Scan(table); err != nil {
		return err
	}
	tr := t.trees[table]
	if tr == nil {
		tr = &tree{root: t.root(table)}
	}
	return tr.scan(prefix, func(key, value string) error {
		return fn(key, []byte(value))
	})
}
