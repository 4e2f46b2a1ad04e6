// Package storagetest is the conformance suite of storage.Storage backends.
//
// A backend's tests call Run with a function that opens an empty store:
//
//	func TestStorage(t *testing.T) {
//		storagetest.Run(t, func(t *testing.T) storage.Storage { return mystore.New() }, nil)
//	}
//
// Run checks every contract documented in package storage, as subtests
// named after the rule they prove. Bench measures the common operations.
package storagetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/scopegate/authz/storage"
)

// Options configures Run.
type Options struct {
	// Reopen closes s and opens the same data again, as a process restart
	// would. Nil means the backend is not durable, and the durability tests
	// are skipped.
	Reopen func(t *testing.T, s storage.Storage) storage.Storage
}

// Run runs the conformance suite against the stores returned by newStorage,
// which must return a new, empty store on each call. The suite closes every
// store it gets (Close is idempotent, so newStorage may also register a
// cleanup that closes it). opts may be nil.
func Run(t *testing.T, newStorage func(t *testing.T) storage.Storage, opts *Options) {
	if opts == nil {
		opts = &Options{}
	}
	h := &harness{newStorage: newStorage, opts: *opts}
	t.Run("Get", h.testGet)
	t.Run("Put", h.testPut)
	t.Run("Delete", h.testDelete)
	t.Run("Scan", h.testScan)
	t.Run("EmptyNames", h.testEmptyNames)
	t.Run("Update", h.testUpdate)
	t.Run("View", h.testView)
	t.Run("TxClosed", h.testTxClosed)
	t.Run("Context", h.testContext)
	t.Run("Close", h.testClose)
	t.Run("Concurrency", h.testConcurrency)
	t.Run("Size", h.testSize)
	t.Run("Durability", h.testDurability)
	t.Run("Versioner", h.testVersioner)
	t.Run("Watcher", h.testWatcher)
	t.Run("Prefetcher", h.testPrefetcher)
}

// harness holds what every test of the suite needs.
type harness struct {
	newStorage func(t *testing.T) storage.Storage
	opts       Options
}

// open returns a new, empty store that is closed when the test ends.
func (h *harness) open(t *testing.T) storage.Storage {
	t.Helper()
	s := h.newStorage(t)
	if s == nil {
		t.Fatal("newStorage: got a nil store; want a store")
	}
	closeAtEnd(t, s)
	return s
}

// reopen closes s and returns a store on the same data.
func (h *harness) reopen(t *testing.T, s storage.Storage) storage.Storage {
	t.Helper()
	s = h.opts.Reopen(t, s)
	if s == nil {
		t.Fatal("Reopen: got a nil store; want a store")
	}
	closeAtEnd(t, s)
	return s
}

func closeAtEnd(t *testing.T, s storage.Storage) {
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: got %v; want nil", err)
		}
	})
}

// kv is a key and its value, as seen by a scan.
type kv struct {
	key, value string
}

func (p kv) String() string { return fmt.Sprintf("%q=%q", p.key, p.value) }

// update runs fn in an Update and fails the test if it returns an error.
func update(t *testing.T, s storage.Storage, fn func(tx storage.Tx) error) {
	t.Helper()
	if err := s.Update(t.Context(), fn); err != nil {
		t.Fatalf("Update: got %v; want nil", err)
	}
}

// view runs fn in a View and fails the test if it returns an error.
func view(t *testing.T, s storage.Storage, fn func(tx storage.Tx) error) {
	t.Helper()
	if err := s.View(t.Context(), fn); err != nil {
		t.Fatalf("View: got %v; want nil", err)
	}
}

// put stores the key-value pairs (alternating in kvs) in table, in one
// Update.
func put(t *testing.T, s storage.Storage, table string, kvs ...string) {
	t.Helper()
	update(t, s, func(tx storage.Tx) error {
		for i := 0; i+1 < len(kvs); i += 2 {
			if err := tx.Put(table, kvs[i], []byte(kvs[i+1])); err != nil {
				return fmt.Errorf("Put(%q, %q): %w", table, kvs[i], err)
			}
		}
		return nil
	})
}

// wantValue fails the test unless tx has value under table and key.
func wantValue(t *testing.T, tx storage.Tx, table, key, value string) {
	t.Helper()
	got, err := tx.Get(table, key)
	if err != nil {
		t.Errorf("Get(%q, %q): got error %v; want value %q", table, key, err, value)
		return
	}
	if string(got) != value {
		t.Errorf("Get(%q, %q): got %q; want %q", table, key, got, value)
	}
}

// wantMissing fails the test unless key is missing from table in tx.
func wantMissing(t *testing.T, tx storage.Tx, table, key string) {
	t.Helper()
	got, err := tx.Get(table, key)
	if !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Get(%q, %q): got %q, %v; want ErrNotFound", table, key, got, err)
	}
}

// committedValue fails the test unless a View finds value under table and
// key.
func committedValue(t *testing.T, s storage.Storage, table, key, value string) {
	t.Helper()
	got, err := committedGet(t, s, table, key)
	if err != nil {
		t.Errorf("Get(%q, %q) in a View: got error %v; want value %q", table, key, err, value)
	} else if string(got) != value {
		t.Errorf("Get(%q, %q) in a View: got %q; want %q", table, key, got, value)
	}
}

// committedMissing fails the test unless a View finds key missing from table.
func committedMissing(t *testing.T, s storage.Storage, table, key string) {
	t.Helper()
	got, err := committedGet(t, s, table, key)
	if !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Get(%q, %q) in a View: got %q, %v; want ErrNotFound", table, key, got, err)
	}
}

func committedGet(t *testing.T, s storage.Storage, table, key string) (value []byte, err error) {
	t.Helper()
	view(t, s, func(tx storage.Tx) error {
		value, err = tx.Get(table, key)
		return nil
	})
	return value, err
}

// scanTx returns what tx.Scan(table, prefix) visits.
func scanTx(t *testing.T, tx storage.Tx, table, prefix string) []kv {
	t.Helper()
	var got []kv
	err := tx.Scan(table, prefix, func(k string, v []byte) error {
		got = append(got, kv{k, string(v)})
		return nil
	})
	if err != nil {
		t.Fatalf("Scan(%q, %q): got %v; want nil", table, prefix, err)
	}
	return got
}

// scan returns what Scan(table, prefix) visits in a View.
func scan(t *testing.T, s storage.Storage, table, prefix string) []kv {
	t.Helper()
	var got []kv
	view(t, s, func(tx storage.Tx) error {
		got = scanTx(t, tx, table, prefix)
		return nil
	})
	return got
}

// wantScan fails the test unless got equals want.
func wantScan(t *testing.T, what string, got, want []kv) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s: got %v; want %v", what, got, want)
	}
}

// catchPanic runs fn and returns the value it panicked with, or nil.
func catchPanic(fn func()) (recovered any) {
	defer func() { recovered = recover() }()
	fn()
	return nil
}

// customError is an error type of the caller's own, to check that errors
// returned by fn come back unchanged.
type customError struct{ code int }

func (e *customError) Error() string { return fmt.Sprintf("custom error %d", e.code) }

// errStop is a sentinel returned by callbacks.
var errStop = errors.New("stop")

// cancelled returns a context that is already cancelled.
func cancelled() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}
