// Package authztest opens stores and Clients for tests of this module:
// every backend in a test's temporary directory, Clients with a fixed clock
// and predictable ids, closed and checked for consistency when the test
// ends. It is for external tests (package authz_test, the backends' and the
// examples' tests); the root package's internal tests cannot import it.
package authztest

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scopegate/authz"
	"github.com/scopegate/authz/boltstore"
	"github.com/scopegate/authz/internal/pgtest"
	"github.com/scopegate/authz/memstore"
	"github.com/scopegate/authz/pgstore"
	"github.com/scopegate/authz/storage"
)

// Now is the clock of the Clients that Options configures.
var Now = time.Date(2024, 1, 15, 10, 30, 0, 0, time.UTC)

// Options returns Client options with a fixed clock (Now) and an id
// generator that numbers ids per Client: prefix_0001, prefix_0002, …
func Options() *authz.Options {
	var n atomic.Int64
	return &authz.Options{
		Now:   func() time.Time { return Now },
		NewID: func(prefix string) string { return fmt.Sprintf("%s_%04d", prefix, n.Add(1)) },
	}
}

// Memstore returns an empty memstore, closed when the test ends.
func Memstore(tb testing.TB) *memstore.Store {
	tb.Helper()
	s := memstore.New()
	tb.Cleanup(func() { s.Close() })
	return s
}

// Boltstore returns an empty boltstore in a new file of the test's
// temporary directory, without fsync (NoSync: a test's file does not need
// to survive a power cut), closed when the test ends.
func Boltstore(tb testing.TB) *boltstore.Store {
	tb.Helper()
	return OpenBolt(tb, filepath.Join(tb.TempDir(), "authz.bolt"), &boltstore.Options{NoSync: true})
}

// OpenBolt opens the bolt file at path with opts, failing the test if it
// cannot, and closes it when the test ends (unless the test closed it
// first).
func OpenBolt(tb testing.TB, path string, opts *boltstore.Options) *boltstore.Store {
	tb.Helper()
	s, err := boltstore.Open(path, opts)
	if err != nil {
		tb.Fatalf("opening %s: got %v; want nil", path, err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// A Backend opens an empty store of one kind for a test.
type Backend struct {
	Name string
	Open func(tb testing.TB) storage.Storage
}

// Backends lists every backend: memstore and boltstore.
var Backends = []Backend{
	{"memstore", func(tb testing.TB) storage.Storage { return Memstore(tb) }},
	{"boltstore", func(tb testing.TB) storage.Storage { return Boltstore(tb) }},
}

// NewClient returns a Client over s with opts (nil: the defaults), failing
// the test if New refuses. When the test ends, Client.Check must find the
// store consistent, or the test fails with its findings; tests that damage
// the store on purpose use authz.New instead.
func NewClient(tb testing.TB, s storage.Storage, opts *authz.Options) *authz.Client {
	tb.Helper()
	c, err := authz.New(s, opts)
	if err != nil {
		tb.Fatalf("New: got %v; want nil", err)
	}
	// Registered after the store's Close, so it runs before it. The test's
	// own context is cancelled by then.
	tb.Cleanup(func() {
		if err := c.Check(context.Background()); err != nil {
			tb.Errorf("Check at the end of the test: %v", err)
		}
	})
	return c
}

// pgSchemas numbers the schemas of Pgstore.
var pgSchemas atomic.Int64

// Pgstore opens a pgstore in a fresh schema of the database the test
// binary shares (internal/pgtest: it skips the test without PostgreSQL
// binaries unless AUTHZ_PG_REQUIRED=1), with a small pool and no listener
// (its Clients share the Store, which learns of its own commits at once),
// closed when the test ends. A package that uses it calls pgtest.Stop when its tests end.
func Pgstore(tb testing.TB) *pgstore.Store {
	tb.Helper()
	schema := fmt.Sprintf("t%d", pgSchemas.Add(1))
	s, err := pgstore.Open(context.Background(), pgtest.SharedURL(tb), &pgstore.Options{Schema: schema, MaxConns: 4, NoListen: true})
	if err != nil {
		tb.Fatalf("opening a pgstore: got %v; want nil", err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// AllBackends is Backends and pgstore: the behaviour tests that Each runs
// run on all three.
var AllBackends = append(Backends[:len(Backends):len(Backends)],
	Backend{"pgstore", func(tb testing.TB) storage.Storage { return Pgstore(tb) }})

// Each runs fn as a subtest on every backend of AllBackends, with a fresh
// Client over an empty store configured by Options.
func Each(t *testing.T, fn func(t *testing.T, c *authz.Client)) {
	t.Helper()
	for _, b := range AllBackends {
		t.Run(b.Name, func(t *testing.T) {
			fn(t, NewClient(t, b.Open(t), Options()))
		})
	}
}

// Must returns a function that returns v, failing the test (tb.Fatal) if
// err is not nil: Must(c.Apply(ctx, b))(t). It must be called from the
// test's goroutine, like tb.Fatal.
func Must[T any](v T, err error) func(tb testing.TB) T {
	return func(tb testing.TB) T {
		tb.Helper()
		if err != nil {
			tb.Fatalf("unexpected error: %v", err)
		}
		return v
	}
}

// NoError fails the test (tb.Fatal) if err is not nil.
func NoError(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatalf("unexpected error: %v", err)
	}
}
